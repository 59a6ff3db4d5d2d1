//! The domain audit: plans the DNS look-ups, runs independent ones at once
//! (the audit takes as long as its longest chain of dependent round trips:
//! MX → MX host addresses, or the DMARC tree walk), and judges the answers.
//!
//! Rules decided here: `dns.mx`, `spf.missing`, `spf.multiple`,
//! `spf.all_permissive`, `dmarc.missing`, `dmarc.policy`, and the SPF
//! evaluation rules (`spf::judge_evaluation`).
//!
//! SPF is evaluated by one [`spf::Evaluator`] per audit: its cache holds the
//! TXT answer the record rules read, and its MX/A/AAAA questions about the
//! domain's MX set wait for the MX look-up instead of asking again, so the
//! SPF walk runs beside the MX and DMARC look-ups without repeating them.

use crate::dns::blocklist::{self, BlocklistOptions};
use crate::dns::{
    self, bimi, dane, dkim, dmarc, dnssec, mtasts, mx, provider, ptr, spf, tlsrpt, DnsError,
    RecordType, Resolver,
};
use crate::net::{Budget, Budgeted, Network};
use crate::probe::{self, plan::LiveOptions};
use crate::report::{Assumption, Finding, Report, Status};
use crate::rules::{Area, Rule};
use async_lock::OnceCell;
use futures::future::{select, Either};
use futures::FutureExt;
use std::future::Future;
use std::sync::Mutex;
use thiserror::Error;

#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// DoH resolver URL (RFC 8484).
    pub resolver: String,
    /// RFC 3339 time of the audit, given by the host.
    pub now: String,
    /// DKIM selectors named by the user.
    pub selectors: Vec<String>,
    /// DKIM selectors found in a pasted configuration.
    pub config_selectors: Vec<String>,
    /// Whether the user allowed connections to the mail servers.
    pub probe: bool,
    /// Why probes do not run, when `probe` is false (shown in the report).
    pub no_probe_reason: String,
    /// How the live SMTP/TLS checks run.
    pub live: LiveOptions,
    /// Subrequest and concurrency limits of the audit.
    pub budget: Budget,
    /// Which blocklists, how (DQS key), and how many queries.
    pub blocklists: BlocklistOptions,
    /// The overall deadline the host enforces (see
    /// [`audit_domain_streaming`]), in seconds, for the text of the
    /// findings it cuts short. The engine never times anything itself.
    pub deadline_secs: Option<u32>,
}

impl AuditOptions {
    pub fn new(resolver: impl Into<String>, now: impl Into<String>) -> Self {
        AuditOptions {
            resolver: resolver.into(),
            now: now.into(),
            selectors: Vec::new(),
            config_selectors: Vec::new(),
            probe: true,
            no_probe_reason: "Not run: probing was turned off (--no-probe).".into(),
            live: LiveOptions::default(),
            budget: Budget::default(),
            blocklists: BlocklistOptions::default(),
            deadline_secs: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuditError {
    #[error("{0:?} is not a domain name that can be audited: {1}")]
    BadDomain(String, &'static str),
}

/// Checks and normalises a user-given domain (a bare address or an email
/// address's domain part is accepted as a convenience by hosts, not here).
pub fn validate_domain(input: &str) -> Result<String, AuditError> {
    let bad = |why| AuditError::BadDomain(input.to_string(), why);
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    if trimmed
        .trim_matches(['[', ']'])
        .parse::<std::net::IpAddr>()
        .is_ok()
    {
        return Err(bad("it is an IP address; give the mail domain instead"));
    }
    let name = dns::normalize_name(trimmed).map_err(|e| match e {
        DnsError::BadName(_) if trimmed.len() > 253 => bad("it is longer than 253 characters"),
        _ => bad("it is not a valid host name"),
    })?;
    if !name.contains('.') {
        return Err(bad("it has no dot; give a full domain such as example.org"));
    }
    if name.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Err(bad("a label is empty or longer than 63 characters"));
    }
    if !name.split('.').all(|l| {
        l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return Err(bad("it contains characters not allowed in host names"));
    }
    Ok(name)
}

/// Audits `domain` through `net`. Never fails for network reasons: checks
/// that could not run are `unknown` with the reason.
pub async fn audit_domain<N: Network>(
    net: &N,
    domain: &str,
    opts: &AuditOptions,
) -> Result<Report, AuditError> {
    audit_domain_streaming(net, domain, opts, std::future::pending(), |_| {}).await
}

/// The rules a domain audit reports on: every rule but the offline ones
/// (pasted configurations and logs, and DMARC aggregate reports, which are
/// grouped with sender authentication but only ever judged from files).
/// Each appears exactly once in every domain report (checked by a test), so
/// a streaming client knows what to expect.
pub fn domain_rules() -> impl Iterator<Item = &'static Rule> {
    crate::rules::all()
        .filter(|r| r.area != Area::Config && !crate::dmarcrep::RULES.iter().any(|d| d.id == r.id))
}

/// What the audit collected so far: the findings, each handed to the
/// host's callback as it is made. A `Mutex` (never held across an await)
/// rather than a `RefCell`, so the audit future stays `Send` when the
/// network's futures and the callback are.
struct Sink<F> {
    findings: Vec<Finding>,
    on_finding: F,
}

/// [`audit_domain`], calling `on_finding` with each finding as soon as the
/// check that makes it completes (completion order; the report orders
/// them), and giving up at `deadline`: the host's timer future (the engine
/// has no clock). Checks not finished by then are `unknown` with the
/// reason "deadline"; the findings made before it are kept. The report is
/// the same as [`audit_domain`]'s when the deadline does not come.
///
/// The domain is validated before anything is called back: a host may
/// validate it itself first (with [`validate_domain`]) to answer a bad
/// domain before it starts streaming.
pub async fn audit_domain_streaming<N, D, F>(
    net: &N,
    domain: &str,
    opts: &AuditOptions,
    deadline: D,
    on_finding: F,
) -> Result<Report, AuditError>
where
    N: Network,
    D: Future<Output = ()>,
    F: FnMut(&Finding),
{
    let domain = validate_domain(domain)?;
    let net = Budgeted::new(net, opts.budget);
    let resolver = Resolver::new(&net, opts.resolver.clone());
    let sink = Mutex::new(Sink {
        findings: Vec::new(),
        on_finding,
    });
    let emit = |made: Vec<Finding>| {
        let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
        for f in made {
            (s.on_finding)(&f);
            s.findings.push(f);
        }
    };
    let mx_shared = mx::lookup(&resolver, &domain).shared();
    let prefetch_domain = domain.clone();
    let prefetch = mx_shared
        .clone()
        .map(move |m| {
            let mut seeds = vec![((prefetch_domain, RecordType::MX), m.answer.clone())];
            for h in &m.hosts {
                seeds.push(((h.host.clone(), RecordType::A), h.a.clone()));
                seeds.push(((h.host.clone(), RecordType::AAAA), h.aaaa.clone()));
            }
            std::sync::Arc::new(seeds)
        })
        .shared();
    let evaluator = spf::Evaluator::with_prefetch(&resolver, prefetch);
    // Results more than one check needs: set once by the check that looks
    // them up, awaited by the others.
    let txt_cell = OnceCell::new();
    let ptr_cell = OnceCell::new();
    let dmarc_cell = OnceCell::new();
    let mtasts_cell = OnceCell::new();
    let dane_cell = OnceCell::new();
    let bl_cell = OnceCell::new();
    let selectors = dkim::Selectors::new(&opts.selectors, &opts.config_selectors);
    // SPF: the record rules as soon as the TXT answer is in, then the walk,
    // then check_host() for each MX address once the MX look-up is done.
    let spf_branch = async {
        let txt = evaluator.query(&domain, RecordType::TXT).await;
        emit(spf::judge(&domain, &txt));
        let txt = txt_cell.get_or_init(|| async { txt }).await;
        let walks = spf::walk_records(&evaluator, &domain, txt).await;
        let (mx_checks, mx_unresolved) = if walks.is_empty() {
            (Ok(Vec::new()), Vec::new())
        } else {
            let mx_lookup = mx_shared.clone().await;
            spf::check_mx_hosts(&evaluator, &domain, &mx_lookup).await
        };
        let evaluation = spf::Evaluation {
            walks,
            mx_checks,
            mx_unresolved,
        };
        emit(spf::judge_evaluation(&domain, txt, &evaluation));
    };
    // Everything that needs the MX hosts starts as soon as they are known.
    let mx_branch = async {
        let m = mx_shared.clone().await;
        emit(vec![provider::judge(&domain, &m)]);
        futures::join!(
            async {
                let p = ptr::lookup(&resolver, &m, ptr::MAX_ADDRESSES).await;
                emit(vec![ptr::judge(&domain, &p)]);
                ptr_cell.get_or_init(|| async { p }).await;
            },
            async {
                let d = dnssec::lookup(&resolver, &domain, &m).await;
                emit(vec![dnssec::judge(&domain, &d)]);
            },
            async {
                let d = dane::lookup(&resolver, &m).await;
                dane_cell.get_or_init(|| async { d }).await;
            },
            async {
                let b = blocklist::lookup(&resolver, &domain, &m, &opts.blocklists).await;
                emit(blocklist::judge(&domain, &b));
                bl_cell.get_or_init(|| async { b }).await;
            },
            async {
                let spf_records = match txt_cell.wait().await {
                    Ok(a) => spf::spf_records(a),
                    Err(_) => Vec::new(),
                };
                let sends_no_mail = spf_records.len() == 1
                    && spf_records[0].trim().eq_ignore_ascii_case("v=spf1 -all");
                emit(vec![mx::judge(&domain, &m, sends_no_mail)]);
            },
            async {
                let t = mtasts_cell.wait().await;
                emit(mtasts::judge(&domain, t, &m));
            },
        );
    };
    let dmarc_branch = async {
        let d = dmarc::lookup(&resolver, &domain).await;
        emit(dmarc::judge(&domain, &d));
        dmarc_cell.get_or_init(|| async { d }).await;
    };
    let bimi_branch = async {
        let b = bimi::lookup(&resolver, &domain).await;
        let d = dmarc_cell.wait().await;
        emit(bimi::judge(&domain, &b, Some(d)));
    };
    let mtasts_branch = async {
        let t = mtasts::lookup(&resolver, &net, &domain).await;
        mtasts_cell.get_or_init(|| async { t }).await;
    };
    let tlsrpt_branch = async {
        let t = tlsrpt::lookup(&resolver, &domain).await;
        emit(tlsrpt::judge(&domain, &t));
    };
    let dkim_branch = async {
        let d = dkim::lookup(&resolver, &domain, &selectors).await;
        emit(dkim::judge(&domain, &d));
    };
    // Live checks on the first MX host, once DNS has named it; then DANE:
    // the TLSA records against the chain the probed MX host served.
    let live_branch = async {
        let served = match (opts.probe, probe::plan::unix_time(&opts.now)) {
            (false, _) => {
                emit(probe::plan::not_run(&opts.no_probe_reason));
                None
            }
            (true, None) => {
                emit(probe::plan::not_run(
                    "Not run: the audit time is not an RFC 3339 time.",
                ));
                None
            }
            (true, Some(now)) => {
                let m = mx_shared.clone().await;
                let p = ptr_cell.wait().await;
                let enforce = mtasts::enforced(mtasts_cell.wait().await);
                let live = probe::plan::run(&net, &m, p, enforce, now, &opts.live).await;
                emit(live.findings);
                live.served
            }
        };
        let d = dane_cell.wait().await;
        let records = dane::judge(&domain, d);
        emit(vec![match &served {
            Some((host, chain)) => dane::judge_served(records, d, host, chain),
            None => records,
        }]);
    };
    let all = async {
        futures::join!(
            mx_branch,
            spf_branch,
            dmarc_branch,
            mtasts_branch,
            tlsrpt_branch,
            bimi_branch,
            dkim_branch,
            live_branch,
        );
    };
    let late = match select(Box::pin(all), Box::pin(deadline)).await {
        Either::Left(((), _)) => false,
        // Dropping the unfinished checks cancels their network exchanges.
        Either::Right(((), _)) => true,
    };
    let mut assumptions = vec![Assumption::new("resolver", opts.resolver.clone())];
    if let Some(how) = crate::dns::transport_assumption(&opts.resolver) {
        assumptions.push(Assumption::new("resolver.transport", how));
    }
    assumptions.extend([
        Assumption::new("dmarc.discovery", dmarc::discovery_assumption()),
        Assumption::new(
            "spf.evaluation",
            "RFC 7208 check_host() for a client no term matches (look-up counts), and for \
             each MX address (at most 10)",
        ),
    ]);
    assumptions.push(Assumption::new("dkim.selectors", selectors.summary()));
    assumptions.push(Assumption::new(
        "blocklists",
        match bl_cell.get() {
            Some(bl) => format!(
                "{} ({} queries){}",
                bl.lists
                    .iter()
                    .map(|l| l.list.name)
                    .collect::<Vec<_>>()
                    .join(", "),
                bl.queries,
                if opts.blocklists.dqs_key.is_some() {
                    "; Spamhaus through a DQS key"
                } else {
                    ""
                }
            ),
            None => "not finished before the deadline".into(),
        },
    ));
    let probe_target = mx_shared.peek().map(probe::plan::target);
    assumptions.push(Assumption::new(
        "probes",
        match (&probe_target, opts.probe) {
            (_, false) => opts.no_probe_reason.clone(),
            (Some(Some((host, ip))), true) => format!(
                "SMTP on {host} ({ip}) port 25 (never DATA: the relay test stops at RCPT), \
                 STARTTLS, TLS versions and weak suites, certificate, mail ports"
            ),
            (Some(None), true) => "none: no MX address".into(),
            (None, true) => "none: the MX hosts were not known before the deadline".into(),
        },
    ));
    // The evaluator and the shared MX look-up borrow `domain`.
    drop(evaluator);
    drop(mx_shared);
    assumptions.push(Assumption::new(
        "subrequests",
        format!(
            "{} of {} used{}",
            net.used(),
            opts.budget.subrequests,
            if net.refused() > 0 {
                format!(
                    "; {} refused past the budget (those checks are unknown)",
                    net.refused()
                )
            } else {
                String::new()
            }
        ),
    ));
    let mut sink = sink.into_inner().unwrap_or_else(|e| e.into_inner());
    if late {
        let detail = match opts.deadline_secs {
            Some(s) => format!(
                "Not decided: deadline. The audit's overall time limit ({s} s) ran out before \
                 this check finished."
            ),
            None => "Not decided: deadline. The audit's overall time limit ran out before this \
                     check finished."
                .to_string(),
        };
        let missing: Vec<&'static Rule> = domain_rules()
            .filter(|r| !sink.findings.iter().any(|f| f.id == r.id))
            .collect();
        assumptions.push(Assumption::new(
            "deadline",
            format!(
                "reached{}: {} checks were not finished and are unknown",
                opts.deadline_secs
                    .map(|s| format!(" after {s} s"))
                    .unwrap_or_default(),
                missing.len()
            ),
        ));
        for rule in missing {
            let f = rule.finding(Status::Unknown, detail.clone());
            (sink.on_finding)(&f);
            sink.findings.push(f);
        }
    }
    Ok(Report::new(
        domain,
        opts.now.clone(),
        assumptions,
        sink.findings,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;
    use crate::testing::{assert_send, DownNet, ScriptedNet};
    use futures::executor::block_on;
    use std::future::Future;

    fn opts() -> AuditOptions {
        AuditOptions::new("https://doh.test/dns-query", "2026-11-29T00:00:00Z")
    }

    fn status(r: &Report, id: &str) -> Status {
        r.findings.iter().find(|f| f.id == id).unwrap().status
    }

    #[test]
    fn validates_domains() {
        assert_eq!(validate_domain("Example.ORG.").unwrap(), "example.org");
        assert_eq!(
            validate_domain("_dmarc.Example.org").unwrap(),
            "_dmarc.example.org"
        );
        for bad in [
            "",
            "localhost",
            "192.0.2.1",
            "[2001:db8::1]",
            "a..b",
            "exa mple.org",
            "a/b.org",
        ] {
            assert!(validate_domain(bad).is_err(), "{bad}");
        }
        assert!(validate_domain(&format!("{}.org", "a".repeat(64))).is_err());
    }

    const DKIM_2048: &str = include_str!("../tests/data/dkim/rsa2048.spki.b64");

    #[test]
    fn hardened_domain_passes() {
        let net = ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "198.51.100.25")
            .txt("example.org", "v=spf1 mx -all")
            .txt(
                "_dmarc.example.org",
                "v=DMARC1; p=reject; rua=mailto:dmarc@example.org",
            )
            .txt(
                "default._domainkey.example.org",
                &format!("v=DKIM1; k=rsa; p={}", DKIM_2048.trim()),
            )
            .ptr("25.100.51.198.in-addr.arpa", "mail.example.org")
            .a("2.0.0.127.zen.spamhaus.org", "127.0.0.2")
            .a("dbltest.com.dbl.spamhaus.org", "127.0.1.2");
        let mut o = opts();
        o.blocklists.lists = Some(vec!["spamhaus-zen".into(), "spamhaus-dbl".into()]);
        let r = block_on(audit_domain(&net, "example.org", &o)).unwrap();
        // The scripted mail server refuses connections: the live checks
        // are unknown (never pass), everything DNS can tell passes.
        let bad: Vec<_> = r
            .findings
            .iter()
            .filter(|f| !matches!(f.status, Status::Pass | Status::Info))
            .filter(|f| !(f.id.starts_with("smtp.") || f.id.starts_with("tls.")))
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
        let live: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.id.starts_with("smtp.") || f.id.starts_with("tls."))
            .collect();
        assert_eq!(live.len(), 18);
        assert!(
            live.iter().all(|f| f.status == Status::Unknown),
            "{live:#?}"
        );
        for id in [
            "dns.mx",
            "spf.lookup_limit",
            "dkim.key_weak",
            "dmarc.policy",
        ] {
            assert_eq!(status(&r, id), Status::Pass, "{id}");
        }
    }

    #[test]
    fn weak_domain_fails() {
        let net = ScriptedNet::new()
            .mx("weak.example", 10, "mail.weak.example")
            .a("mail.weak.example", "198.51.100.26")
            .txt("weak.example", "v=spf1 +all")
            .txt("weak.example", "v=spf1 include:a.weak.example ~all")
            .txt("_dmarc.weak.example", "v=DMARC1; p=none");
        let r = block_on(audit_domain(&net, "weak.example", &opts())).unwrap();
        assert_eq!(status(&r, "spf.multiple"), Status::Fail);
        assert_eq!(status(&r, "spf.all_permissive"), Status::Fail);
        assert_eq!(status(&r, "dmarc.policy"), Status::Fail);
        assert_eq!(status(&r, "dns.mx"), Status::Pass);
    }

    /// The same zone over plain DNS: the same verdicts, every question
    /// sent plain, and the report says what plain DNS assumes. On a host
    /// without plain DNS every check is unknown with that reason.
    #[test]
    fn a_plain_dns_audit_judges_as_doh_and_says_what_it_assumes() {
        let zone = || {
            ScriptedNet::new()
                .mx("weak.example", 10, "mail.weak.example")
                .a("mail.weak.example", "198.51.100.26")
                .txt("weak.example", "v=spf1 +all")
                .txt("weak.example", "v=spf1 include:a.weak.example ~all")
                .txt("_dmarc.weak.example", "v=DMARC1; p=none")
        };
        let statuses = |r: &Report| -> Vec<(String, Status)> {
            r.findings
                .iter()
                .map(|f| (f.id.to_string(), f.status))
                .collect()
        };
        let doh_net = zone();
        let doh = block_on(audit_domain(&doh_net, "weak.example", &opts())).unwrap();
        let plain_net = zone();
        let mut plain_opts = opts();
        plain_opts.resolver = "dns://198.51.100.53".into();
        let plain = block_on(audit_domain(&plain_net, "weak.example", &plain_opts)).unwrap();
        assert_eq!(statuses(&plain), statuses(&doh));
        // As many exchanges in all; the DNS ones plain, to the resolver named.
        assert_eq!(plain_net.requests(), doh_net.requests());
        let servers = plain_net.plain_servers();
        assert!(servers.len() > 10, "{servers:?}");
        assert!(
            servers.iter().all(|s| s == "198.51.100.53:53"),
            "{servers:?}"
        );
        assert!(doh_net.plain_servers().is_empty());
        let transport = |r: &Report| {
            r.assumptions
                .iter()
                .find(|a| a.key == "resolver.transport")
                .map(|a| a.value.clone())
        };
        assert_eq!(transport(&doh), None);
        assert!(transport(&plain).is_some_and(|v| v.contains("AD bit")));
        let refused = block_on(audit_domain(&DownNet, "weak.example", &plain_opts)).unwrap();
        let mx = refused.findings.iter().find(|f| f.id == "dns.mx").unwrap();
        assert_eq!(mx.status, Status::Unknown);
        assert!(mx.detail.contains(crate::dns::DOH_ONLY), "{}", mx.detail);
    }

    #[test]
    fn unreachable_resolver_gives_unknowns_not_passes() {
        let r = block_on(audit_domain(&DownNet, "example.org", &opts())).unwrap();
        let judged: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.status != Status::Unknown)
            .collect();
        assert!(judged.is_empty(), "{judged:#?}");
    }

    #[test]
    fn spf_evaluation_is_judged_without_repeating_queries() {
        let net = ScriptedNet::new()
            .mx("weak.example", 10, "mail.weak.example")
            .a("mail.weak.example", "198.51.100.26")
            .txt("weak.example", "v=spf1 +all")
            .txt(
                "weak.example",
                "v=spf1 mx include:a.weak.example include:b.weak.example ~all",
            )
            .txt("_dmarc.weak.example", "v=DMARC1; p=none");
        let r = block_on(audit_domain(&net, "weak.example", &opts())).unwrap();
        // Two records: check_host() is a permerror for the MX host.
        assert_eq!(status(&r, "spf.mx_not_authorized"), Status::Fail);
        // include: targets without a record make the second one a permerror.
        assert_eq!(status(&r, "spf.syntax"), Status::Fail);
        assert_eq!(status(&r, "spf.lookup_limit"), Status::Pass);
        let asked = net.asked();
        for (i, q) in asked.iter().enumerate() {
            assert!(!asked[..i].contains(q), "{q:?} asked twice: {asked:?}");
        }
    }

    fn hardened_net() -> ScriptedNet {
        ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "198.51.100.25")
            .txt("example.org", "v=spf1 mx -all")
            .txt(
                "_dmarc.example.org",
                "v=DMARC1; p=reject; rua=mailto:dmarc@example.org",
            )
            .txt(
                "default._domainkey.example.org",
                &format!("v=DKIM1; k=rsa; p={}", DKIM_2048.trim()),
            )
            .ptr("25.100.51.198.in-addr.arpa", "mail.example.org")
    }

    fn ids(findings: &[Finding]) -> Vec<String> {
        let mut v: Vec<String> = findings.iter().map(|f| f.id.clone()).collect();
        v.sort();
        v
    }

    /// The streaming start line announces `domain_rules()` per area: every
    /// domain report must hold exactly those, each once.
    #[test]
    fn every_domain_report_has_each_domain_rule_once() {
        let mut want: Vec<String> = domain_rules().map(|r| r.id.to_string()).collect();
        want.sort();
        let weak = ScriptedNet::new()
            .mx("weak.example", 10, "mail.weak.example")
            .mx("weak.example", 20, "mx2.weak.example")
            .a("mail.weak.example", "198.51.100.26")
            .txt("weak.example", "v=spf1 +all")
            .txt("weak.example", "v=spf1 include:a.weak.example ~all")
            .txt("_dmarc.weak.example", "v=DMARC1; p=none");
        let mut probing = opts();
        probing.probe = true;
        let mut quiet = opts();
        quiet.probe = false;
        for o in [&probing, &quiet] {
            for (net, domain) in [(&hardened_net(), "example.org"), (&weak, "weak.example")] {
                let r = block_on(audit_domain(net, domain, o)).unwrap();
                assert_eq!(ids(&r.findings), want, "{domain}");
            }
            let r = block_on(audit_domain(&DownNet, "example.org", o)).unwrap();
            assert_eq!(ids(&r.findings), want, "down");
        }
    }

    #[test]
    fn streaming_calls_back_each_finding_of_the_report_once() {
        let net = hardened_net();
        let mut seen = Vec::new();
        let r = block_on(audit_domain_streaming(
            &net,
            "example.org",
            &opts(),
            std::future::pending(),
            |f| seen.push(f.clone()),
        ))
        .unwrap();
        assert_eq!(seen.len(), r.findings.len());
        for f in &r.findings {
            assert!(seen.contains(f), "{} not streamed as reported", f.id);
        }
        // Same report as the one-shot audit.
        let plain = block_on(audit_domain(&net, "example.org", &opts())).unwrap();
        assert_eq!(plain, r);
        // A bad domain calls nothing back.
        let mut called = false;
        let e = block_on(audit_domain_streaming(
            &net,
            "192.0.2.1",
            &opts(),
            std::future::pending(),
            |_| called = true,
        ));
        assert!(e.is_err() && !called);
    }

    /// A check that completes is streamed while another still waits for
    /// the network: its finding arrives before the audit ends.
    #[test]
    fn findings_stream_while_other_checks_wait() {
        let net = hardened_net().stall("_dmarc.example.org", RecordType::TXT);
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let seen = Mutex::new(Vec::new());
        let o = opts();
        let mut audit = Box::pin(audit_domain_streaming(
            &net,
            "example.org",
            &o,
            std::future::pending(),
            |f| seen.lock().unwrap().push(f.id.clone()),
        ));
        for _ in 0..50 {
            assert!(audit.as_mut().poll(&mut cx).is_pending());
        }
        let seen = seen.lock().unwrap().clone();
        assert!(seen.contains(&"dns.mx".to_string()), "{seen:?}");
        assert!(seen.contains(&"spf.missing".to_string()), "{seen:?}");
        // DMARC (and BIMI, which reads it) wait for the stalled answer.
        assert!(!seen
            .iter()
            .any(|id| id.starts_with("dmarc.") || id.starts_with("bimi.")));
    }

    /// A resolver that never answers one question: at the deadline the
    /// checks waiting for it are `unknown: deadline`, everything decided
    /// before is kept, and the report still has every rule once.
    #[test]
    fn the_deadline_cuts_unfinished_checks_short() {
        let net = hardened_net()
            .slow(2)
            .stall("_dmarc.example.org", RecordType::TXT)
            .stall("_mta-sts.example.org", RecordType::TXT);
        let mut o = opts();
        o.deadline_secs = Some(20);
        // (With probes, the live checks would wait for MTA-STS too.)
        o.probe = false;
        let mut streamed = 0;
        let r = block_on(audit_domain_streaming(
            &net,
            "example.org",
            &o,
            crate::testing::after_polls(500),
            |_| streamed += 1,
        ))
        .unwrap();
        assert_eq!(streamed, r.findings.len());
        let mut want: Vec<String> = domain_rules().map(|r| r.id.to_string()).collect();
        want.sort();
        assert_eq!(ids(&r.findings), want);
        for f in &r.findings {
            let late = f.detail.contains("deadline");
            let waits = f.id.starts_with("dmarc.")
                || f.id.starts_with("bimi.")
                || f.id.starts_with("mtasts.");
            assert_eq!(late, waits, "{}: {}", f.id, f.detail);
            if late {
                assert_eq!(f.status, Status::Unknown);
                assert!(f.detail.contains("(20 s)"), "{}", f.detail);
            }
        }
        assert_eq!(status(&r, "dns.mx"), Status::Pass);
        assert_eq!(status(&r, "spf.lookup_limit"), Status::Pass);
        let a = r.assumptions.iter().find(|a| a.key == "deadline").unwrap();
        assert!(a.value.starts_with("reached after 20 s:"), "{}", a.value);
        // Without the deadline the same audit never ends: it was the
        // deadline that ended it, not the checks.
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut endless = Box::pin(audit_domain(&net, "example.org", &o));
        for _ in 0..2000 {
            assert!(endless.as_mut().poll(&mut cx).is_pending());
        }
    }

    /// No deadline assumption when the audit finished in time.
    #[test]
    fn an_audit_in_time_says_nothing_of_the_deadline() {
        let r = block_on(audit_domain_streaming(
            &hardened_net(),
            "example.org",
            &opts(),
            crate::testing::after_polls(100_000),
            |_| {},
        ))
        .unwrap();
        assert!(!r.assumptions.iter().any(|a| a.key == "deadline"));
        assert!(!r.findings.iter().any(|f| f.detail.contains("deadline")));
    }

    /// The CLI's server runs audits on a multi-threaded runtime: the audit
    /// future must stay `Send` when the host's network is.
    #[test]
    fn audit_future_is_send_when_the_network_is() {
        let net = DownNet;
        let opts = opts();
        let r = block_on(assert_send(audit_domain(&net, "example.org", &opts))).unwrap();
        assert_eq!(r.summary.unknown, r.findings.len());
        // Streaming too, with a Send callback and deadline.
        let (tx, rx) = std::sync::mpsc::channel();
        let r = block_on(assert_send(audit_domain_streaming(
            &net,
            "example.org",
            &opts,
            crate::testing::after_polls(1_000_000),
            move |f| {
                let _ = tx.send(f.id.clone());
            },
        )))
        .unwrap();
        assert_eq!(rx.try_iter().count(), r.findings.len());
    }
}
