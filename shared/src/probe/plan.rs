//! The live part of a domain audit: which mail server is probed, in what
//! order, and the findings when probing cannot or may not run.
//!
//! One MX host is probed: the most preferred one with an address (IPv4
//! first), at its first address. It gets the SMTP sessions of
//! [`super::probe_mx`], then — when it offers STARTTLS and the build has TLS
//! (feature `tls`) — one full TLS handshake after STARTTLS (certificate,
//! negotiated version) and the version and weak-cipher questions (one
//! connection each, after STARTTLS), and the connect-only port list. Every
//! connection goes through the audit's budgeted network, so the subrequest
//! cap holds.
//!
//! Rules that cannot run are reported `unknown` with the reason (probing
//! turned off, port 25 not reachable from this deployment, no MX address),
//! never left out.

use super::{ProbeOptions, RULES as PROBE_RULES};
use crate::dns::mx::MxLookup;
use crate::dns::ptr::PtrLookup;
use crate::net::Network;
use crate::report::{Finding, Status};
use crate::rules::Rule;
use std::net::IpAddr;

/// How the live checks run.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub probe: ProbeOptions,
    /// Extra trust anchors (DER) for certificate validation, e.g. a
    /// private CA of the audited organisation.
    pub extra_roots: Vec<Vec<u8>>,
    /// Also list which mail ports answer (9 connects).
    pub port_scan: bool,
    /// Run the checks through a probe agent (`mailaudit probe-agent`)
    /// instead of connecting from here: a Worker cannot reach port 25.
    pub agent: Option<super::agent::AgentClient>,
    /// The full SMTP smuggling test (sends DATA): only with the owner's
    /// consent, which only the CLI can obtain.
    pub smuggling: Option<(super::smuggling::Consent, super::smuggling::FullTestOptions)>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            probe: ProbeOptions::default(),
            extra_roots: Vec::new(),
            port_scan: true,
            agent: None,
            smuggling: None,
        }
    }
}

/// The MX host and address to probe: most preferred host with an address,
/// IPv4 before IPv6.
pub fn target(mx: &MxLookup) -> Option<(String, IpAddr)> {
    let mut hosts: Vec<_> = mx.hosts.iter().collect();
    hosts.sort_by_key(|h| h.preference);
    hosts.iter().find_map(|h| {
        let mut addrs = h.addresses();
        addrs.sort_by_key(|a| a.is_ipv6());
        addrs.first().map(|a| (h.host.clone(), *a))
    })
}

/// Every live rule (SMTP and TLS), `unknown` with `reason`.
pub fn not_run(reason: &str) -> Vec<Finding> {
    live_rules()
        .map(|r| r.finding(Status::Unknown, reason.to_string()))
        .collect()
}

pub(crate) fn live_rules() -> impl Iterator<Item = &'static Rule> {
    PROBE_RULES
        .iter()
        .copied()
        .chain(crate::tls::RULES.iter().copied())
}

/// What the live checks found.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub findings: Vec<Finding>,
    /// The host probed and the certificate chain it served after STARTTLS
    /// (DER, as presented), for the DANE match.
    pub served: Option<(String, Vec<Vec<u8>>)>,
}

/// Runs the live checks against the domain's first MX host.
pub async fn run<N: Network>(
    net: &N,
    mx: &MxLookup,
    ptr: &PtrLookup,
    mta_sts_enforce: bool,
    now_unix: i64,
    opts: &LiveOptions,
) -> Live {
    let Some((host, ip)) = target(mx) else {
        return Live {
            findings: not_run(
                "No MX host with an address is known, so no mail server was probed (see dns.mx).",
            ),
            served: None,
        };
    };
    let ptr_name = ptr
        .addresses
        .iter()
        .find(|a| a.ip == ip)
        .and_then(|a| a.names().into_iter().next());
    if let Some(agent) = &opts.agent {
        let target = super::agent::ProbeRequest {
            host,
            ip,
            ptr_name,
            mta_sts_enforce,
        };
        return super::agent::remote_run(net, agent, &target, now_unix).await;
    }
    run_target(
        net,
        host,
        ip,
        ptr_name.as_deref(),
        mta_sts_enforce,
        now_unix,
        opts,
    )
    .await
}

/// The live checks of one MX host at one address (what [`run`] does after
/// choosing the target, and what the probe agent runs for a Worker).
pub async fn run_target<N: Network>(
    net: &N,
    host: String,
    ip: IpAddr,
    ptr_name: Option<&str>,
    mta_sts_enforce: bool,
    now_unix: i64,
    opts: &LiveOptions,
) -> Live {
    let smtp = super::probe_mx(net, &host, ip, &opts.probe).await;
    let mut findings = super::judge(&smtp, ptr_name);
    if let Some((consent, full)) = &opts.smuggling {
        let result = super::smuggling::full_test(net, consent, &host, ip, full).await;
        let judged = super::smuggling::judge_full(&result);
        if let Some(slot) = findings.iter_mut().find(|f| f.id == judged.id) {
            *slot = judged;
        }
    }
    if opts.port_scan {
        let scan = super::scan_ports(net, ip, opts.probe.connect_timeout_ms).await;
        findings.push(super::judge_exposed_ports(&host, &scan));
        let sub = super::submission::probe(net, &host, ip, &scan, &opts.probe, now_unix).await;
        findings.push(super::submission::judge(&sub));
    } else {
        findings.push(
            super::rules::SMTP_EXPOSED_PORTS
                .finding(Status::Unknown, "The port list was not requested."),
        );
        findings.push(super::submission::not_checked(
            "The port list was not requested, so the submission ports were not checked.",
        ));
    }
    // None: no positive EHLO reply was seen, so whether STARTTLS is offered is not
    // known (a silent or tarpitting server, a 421).
    let offers_starttls = smtp
        .hello
        .done()
        .filter(|h| h.reply.is_positive())
        .map(|h| h.caps.starttls);
    let (tls, chain) = tls_checks(
        net,
        &host,
        ip,
        offers_starttls,
        mta_sts_enforce,
        now_unix,
        opts,
    )
    .await;
    findings.extend(tls);
    // Catalog order, whatever order the probes finished in.
    let order: Vec<&str> = live_rules().map(|r| r.id).collect();
    findings.sort_by_key(|f| order.iter().position(|id| *id == f.id));
    Live {
        findings,
        served: chain.map(|c| (host, c)),
    }
}

#[cfg(feature = "tls")]
async fn tls_checks<N: Network>(
    net: &N,
    host: &str,
    ip: IpAddr,
    offers_starttls: Option<bool>,
    mta_sts_enforce: bool,
    now_unix: i64,
    opts: &LiveOptions,
) -> (Vec<Finding>, Option<Vec<Vec<u8>>>) {
    use crate::net::NetError;
    use crate::tls::{cert, probe, rules, stream};
    let tls_unknown = |why: &str| -> Vec<Finding> {
        crate::tls::RULES
            .iter()
            .map(|r| r.finding(Status::Unknown, why.to_string()))
            .collect()
    };
    if offers_starttls != Some(true) {
        let why = match offers_starttls {
            Some(_) => format!(
                "{host} ({ip}) did not offer STARTTLS (see smtp.starttls), so its TLS could not \
                 be examined."
            ),
            // Not "did not offer": the session ended before the EHLO reply
            // that would say (tests/faults: silent, 421 after EHLO).
            None => format!(
                "{host} ({ip}): the SMTP session ended before the server accepted EHLO \
                 (see smtp.starttls), so whether it offers STARTTLS is not known and its TLS \
                 could not be examined."
            ),
        };
        return (tls_unknown(&why), None);
    }
    let starttls = || async {
        super::open_starttls(net, ip, &opts.probe)
            .await
            .map(|ready| ready.conn)
            .map_err(|(attempt, _)| NetError::Other(format!("STARTTLS failed: {attempt:?}")))
    };
    let mut served = None;
    let cert_report = match starttls().await {
        Ok(conn) => {
            let now = u64::try_from(now_unix).unwrap_or(0);
            match stream::connect(conn, host, now).await {
                Ok(mut tls) => {
                    let report =
                        cert::analyze_handshake(tls.info(), host, now_unix, &opts.extra_roots);
                    served = Some(tls.info().chain.clone());
                    crate::net::Conn::close(&mut tls).await;
                    Ok(report)
                }
                Err(fail) if !fail.chain.is_empty() => {
                    served = Some(fail.chain.clone());
                    Ok(cert::analyze(
                        &fail.chain,
                        host,
                        now_unix,
                        &opts.extra_roots,
                    ))
                }
                Err(fail) => Err(format!("the TLS handshake failed: {}", fail.error)),
            }
        }
        Err(e) => Err(e.to_string()),
    };
    let versions = probe::probe_versions(starttls, Some(host)).await;
    let ciphers = probe::probe_ciphers(starttls, Some(host), &versions).await;
    let cert = cert_report.as_ref().map_err(|e| e.as_str());
    (
        vec![
            rules::judge_versions(host, &versions),
            rules::judge_ciphers(host, &ciphers),
            rules::judge_cert_expiry(cert, now_unix),
            rules::judge_cert_name(cert, mta_sts_enforce),
            rules::judge_cert_chain(cert),
            rules::judge_cert_key(cert),
        ],
        served,
    )
}

#[cfg(not(feature = "tls"))]
async fn tls_checks<N: Network>(
    _net: &N,
    _host: &str,
    _ip: IpAddr,
    _offers_starttls: Option<bool>,
    _mta_sts_enforce: bool,
    _now_unix: i64,
    _opts: &LiveOptions,
) -> (Vec<Finding>, Option<Vec<Vec<u8>>>) {
    let findings = crate::tls::RULES
        .iter()
        .map(|r| {
            r.finding(
                Status::Unknown,
                "This build of mailaudit has no TLS support (feature `tls`).",
            )
        })
        .collect();
    (findings, None)
}

/// Seconds since the Unix epoch of an RFC 3339 time (`2026-11-29T12:00:00Z`,
/// fractions and offsets allowed); None if it is not one.
pub fn unix_time(rfc3339: &str) -> Option<i64> {
    let s = rfc3339.trim();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if s.get(4..5)? != "-" || s.get(7..8)? != "-" || s.get(13..14)? != ":" || s.get(16..17)? != ":"
    {
        return None;
    }
    if !matches!(s.get(10..11)?, "T" | "t" | " ")
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || se > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            if rest.len() != 6 || rest.get(3..4)? != ":" {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times() {
        assert_eq!(unix_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_time("2026-11-29T00:00:00Z"), Some(1_795_910_400));
        assert_eq!(unix_time("2026-11-29T01:00:00+01:00"), Some(1_795_910_400));
        assert_eq!(unix_time("2000-02-29T12:30:15.25Z"), Some(951_827_415));
        for bad in [
            "",
            "2026-11-29",
            "2026-13-01T00:00:00Z",
            "2026-11-29T00:00:00",
            "x026-11-29T00:00:00Z",
            "2026-11-29T00:00:00+0100",
        ] {
            assert_eq!(unix_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn not_run_covers_every_live_rule() {
        let f = not_run("probing was turned off");
        assert_eq!(f.len(), live_rules().count());
        assert!(f.iter().all(|f| f.status == Status::Unknown));
        assert!(f.iter().any(|f| f.id == "smtp.open_relay"));
        assert!(f.iter().any(|f| f.id == "tls.cert_expiry"));
    }
}
