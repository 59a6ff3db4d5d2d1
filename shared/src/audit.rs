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

use crate::dns::{self, dmarc, mx, spf, DnsError, RecordType, Resolver};
use crate::net::Network;
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
    /// Whether the user allowed connections to the mail servers.
    pub probe: bool,
}

impl AuditOptions {
    pub fn new(resolver: impl Into<String>, now: impl Into<String>) -> Self {
        AuditOptions {
            resolver: resolver.into(),
            now: now.into(),
            selectors: Vec::new(),
            probe: true,
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
    let resolver = Resolver::new(net, opts.resolver.clone());
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
    let spf_walk = async {
        let txt = evaluator.query(&domain, RecordType::TXT).await;
        let walks = spf::walk_records(&evaluator, &domain, &txt).await;
        (txt, walks)
    };
    let (mx_lookup, (txt, walks), dmarc_found) =
        futures::join!(mx_shared, spf_walk, dmarc::lookup(&resolver, &domain));
    let (mx_checks, mx_unresolved) = if walks.is_empty() {
        (Ok(Vec::new()), Vec::new())
    } else {
        spf::check_mx_hosts(&evaluator, &domain, &mx_lookup).await
    };
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
    let mut findings = vec![mx::judge(&domain, &mx_lookup, sends_no_mail)];
    findings.extend(spf::judge(&domain, &txt));
    findings.extend(spf::judge_evaluation(&domain, &txt, &evaluation));
    // dmarc.syntax and dmarc.rua wait for the lead to wire them with this
    // module's test expectations (branch h-dmarc).
    findings.extend(
        dmarc::judge(&domain, &dmarc_found)
            .into_iter()
            .filter(|f| f.id == "dmarc.missing" || f.id == "dmarc.policy"),
    );
    let mut assumptions = vec![
        Assumption::new("resolver", opts.resolver.clone()),
        Assumption::new(
            "dmarc.discovery",
            "DMARCbis DNS tree walk (no public suffix list)",
        ),
        Assumption::new(
            "spf.evaluation",
            "RFC 7208 check_host() for a client no term matches (look-up counts), and for \
             each MX address (at most 10)",
        ),
        Assumption::new(
            "probes",
            if opts.probe {
                "none run: this version makes no connection to the mail servers"
            } else {
                "none run: probing was turned off (--no-probe)"
            },
        ),
    ];
    if !opts.selectors.is_empty() {
        assumptions.push(Assumption::new(
            "dkim.selectors",
            format!(
                "{} (noted; DKIM checks are not part of this version)",
                opts.selectors.join(", ")
            ),
        ));
    }
    // The evaluator holds the MX look-up, which borrows `domain`.
    drop(evaluator);
    Ok(Report::new(domain, opts.now.clone(), assumptions, findings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;
    use crate::testing::ScriptedNet;
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

    #[test]
    fn hardened_domain_passes() {
        let net = ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "198.51.100.25")
            .txt("example.org", "v=spf1 mx -all")
            .txt("_dmarc.example.org", "v=DMARC1; p=reject");
        let r = block_on(audit_domain(&net, "example.org", &opts())).unwrap();
        assert_eq!(r.summary.fail, 0, "{:#?}", r.findings);
        // 6 record-level passes + the 7 SPF evaluation rules.
        assert_eq!(r.summary.pass, 13);
        // MX, TXT, _dmarc, then A + AAAA of the one MX host: the SPF walk
        // and the MX host's check_host() reuse those answers.
        assert_eq!(net.requests(), 5);
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
        let net = ScriptedNet::new()
            .error(
                "example.org",
                RecordType::MX,
                crate::net::NetError::Timeout(5000),
            )
            .error(
                "example.org",
                RecordType::TXT,
                crate::net::NetError::Timeout(5000),
            )
            .error(
                "_dmarc.example.org",
                RecordType::TXT,
                crate::net::NetError::Timeout(5000),
            );
        let r = block_on(audit_domain(&net, "example.org", &opts())).unwrap();
        assert_eq!(r.summary.unknown, r.findings.len());
        assert_eq!(r.summary.pass, 0);
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
        use crate::net::{Conn, HttpRequest, HttpResponse, NetError, Network};
        struct DownNet;
        struct NoConn;
        impl Conn for NoConn {
            async fn read(&mut self, _: &mut [u8]) -> Result<usize, NetError> {
                Ok(0)
            }
            async fn write_all(&mut self, _: &[u8]) -> Result<(), NetError> {
                Ok(())
            }
            async fn close(&mut self) {}
        }
        impl Network for DownNet {
            type Conn = NoConn;
            async fn http(&self, _: HttpRequest) -> Result<HttpResponse, NetError> {
                Err(NetError::Timeout(1))
            }
            async fn tcp_connect(&self, _: &str, _: u16, _: u32) -> Result<NoConn, NetError> {
                Err(NetError::Timeout(1))
            }
        }
        fn assert_send<T: Send>(t: T) -> T {
            t
        }
        let net = DownNet;
        let opts = opts();
        let r = block_on(assert_send(audit_domain(&net, "example.org", &opts))).unwrap();
        assert_eq!(r.summary.unknown, r.findings.len());
    }
}
