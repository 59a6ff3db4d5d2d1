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
use crate::report::{Assumption, Report};
use futures::FutureExt;
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
    let domain = validate_domain(domain)?;
    let net = Budgeted::new(net, opts.budget);
    let resolver = Resolver::new(&net, opts.resolver.clone());
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
    // SPF: the record walk, then check_host() for each MX address once
    // both the walk and the MX look-up are done.
    let spf_branch = async {
        let txt = evaluator.query(&domain, RecordType::TXT).await;
        let walks = spf::walk_records(&evaluator, &domain, &txt).await;
        let (mx_checks, mx_unresolved) = if walks.is_empty() {
            (Ok(Vec::new()), Vec::new())
        } else {
            let mx_lookup = mx_shared.clone().await;
            spf::check_mx_hosts(&evaluator, &domain, &mx_lookup).await
        };
        (txt, walks, mx_checks, mx_unresolved)
    };
    // Everything that needs the MX hosts starts as soon as they are known.
    let mx_branch = async {
        let m = mx_shared.clone().await;
        let (ptr_found, dnssec_found, dane_found, bl_found) = futures::join!(
            ptr::lookup(&resolver, &m, ptr::MAX_ADDRESSES),
            dnssec::lookup(&resolver, &domain, &m),
            dane::lookup(&resolver, &m),
            blocklist::lookup(&resolver, &domain, &m, &opts.blocklists),
        );
        (m, ptr_found, dnssec_found, dane_found, bl_found)
    };
    let selectors = dkim::Selectors::new(&opts.selectors, &opts.config_selectors);
    let (
        (mx_lookup, ptr_found, dnssec_found, dane_found, bl_found),
        (txt, walks, mx_checks, mx_unresolved),
        dmarc_found,
        mtasts_found,
        tlsrpt_found,
        bimi_found,
        dkim_found,
    ) = futures::join!(
        mx_branch,
        spf_branch,
        dmarc::lookup(&resolver, &domain),
        mtasts::lookup(&resolver, &net, &domain),
        tlsrpt::lookup(&resolver, &domain),
        bimi::lookup(&resolver, &domain),
        dkim::lookup(&resolver, &domain, &selectors)
    );
    let evaluation = spf::Evaluation {
        walks,
        mx_checks,
        mx_unresolved,
    };
    let spf_records = match &txt {
        Ok(a) => spf::spf_records(a),
        Err(_) => Vec::new(),
    };
    let sends_no_mail =
        spf_records.len() == 1 && spf_records[0].trim().eq_ignore_ascii_case("v=spf1 -all");
    // In catalog order.
    let mut findings = vec![
        mx::judge(&domain, &mx_lookup, sends_no_mail),
        ptr::judge(&domain, &ptr_found),
        dnssec::judge(&domain, &dnssec_found),
        provider::judge(&domain, &mx_lookup),
    ];
    findings.extend(spf::judge(&domain, &txt));
    findings.extend(spf::judge_evaluation(&domain, &txt, &evaluation));
    findings.extend(dkim::judge(&domain, &dkim_found));
    findings.extend(dmarc::judge(&domain, &dmarc_found));
    findings.extend(mtasts::judge(&domain, &mtasts_found, &mx_lookup));
    findings.extend(tlsrpt::judge(&domain, &tlsrpt_found));
    findings.extend(bimi::judge(&domain, &bimi_found, Some(&dmarc_found)));
    let dane_records = dane::judge(&domain, &dane_found);
    findings.extend(blocklist::judge(&domain, &bl_found));
    let mut assumptions = vec![
        Assumption::new("resolver", opts.resolver.clone()),
        Assumption::new("dmarc.discovery", dmarc::discovery_assumption()),
        Assumption::new(
            "spf.evaluation",
            "RFC 7208 check_host() for a client no term matches (look-up counts), and for \
             each MX address (at most 10)",
        ),
    ];
    assumptions.push(Assumption::new("dkim.selectors", selectors.summary()));
    assumptions.push(Assumption::new(
        "blocklists",
        format!(
            "{} ({} queries){}",
            bl_found
                .lists
                .iter()
                .map(|l| l.list.name)
                .collect::<Vec<_>>()
                .join(", "),
            bl_found.queries,
            if opts.blocklists.dqs_key.is_some() {
                "; Spamhaus through a DQS key"
            } else {
                ""
            }
        ),
    ));
    // Live checks on the first MX host, once DNS has named it.
    let probe_target = probe::plan::target(&mx_lookup);
    let not_run = |why: &str| probe::plan::Live {
        findings: probe::plan::not_run(why),
        served: None,
    };
    let live = match (opts.probe, crate::probe::plan::unix_time(&opts.now)) {
        (false, _) => not_run(&opts.no_probe_reason),
        (true, None) => not_run("Not run: the audit time is not an RFC 3339 time."),
        (true, Some(now)) => {
            let enforce = mtasts::enforced(&mtasts_found);
            probe::plan::run(&net, &mx_lookup, &ptr_found, enforce, now, &opts.live).await
        }
    };
    findings.extend(live.findings);
    // DANE: the TLSA records against the chain the probed MX host served.
    findings.push(match &live.served {
        Some((host, chain)) => dane::judge_served(dane_records, &dane_found, host, chain),
        None => dane_records,
    });
    assumptions.push(Assumption::new(
        "probes",
        match (&probe_target, opts.probe) {
            (_, false) => opts.no_probe_reason.clone(),
            (Some((host, ip)), true) => format!(
                "SMTP on {host} ({ip}) port 25 (never DATA: the relay test stops at RCPT), \
                 STARTTLS, TLS versions and weak suites, certificate, mail ports"
            ),
            (None, true) => "none: no MX address".into(),
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
    Ok(Report::new(domain, opts.now.clone(), assumptions, findings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;
    use crate::testing::{assert_send, DownNet, ScriptedNet};
    use futures::executor::block_on;

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

    /// The CLI's server runs audits on a multi-threaded runtime: the audit
    /// future must stay `Send` when the host's network is.
    #[test]
    fn audit_future_is_send_when_the_network_is() {
        let net = DownNet;
        let opts = opts();
        let r = block_on(assert_send(audit_domain(&net, "example.org", &opts))).unwrap();
        assert_eq!(r.summary.unknown, r.findings.len());
    }
}
