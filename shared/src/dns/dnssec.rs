//! DNSSEC status of the domain and of its MX hosts: the rule `dns.dnssec`.
//!
//! API:
//! - [`lookup`]`(resolver, domain, &MxLookup) -> DnssecLookup`
//! - [`judge`]`(domain, &DnssecLookup) -> Finding`
//!
//! Everything is read from the validating resolver's answers, mostly ones
//! the MX look-up already has:
//! - **the domain**: the AD bit of its MX answer (a validated NODATA or
//!   NXDOMAIN carries AD too, so a domain without MX is judged the same);
//! - **each MX host's zone**: the AD bit of the host's A and AAAA answers
//!   (that the host's address records validate is what a DANE sender
//!   needs: RFC 7672 §2.2.2). No SOA/DNSKEY queries to find the zone cut:
//!   a host's zone is signed exactly when its address answers validate.
//!
//! States: AD set → signed; a definite answer (NOERROR/NXDOMAIN) without
//! AD → unsigned (or the resolver does not validate: the assumption is a
//! validating resolver such as the default); SERVFAIL → asked again with
//! the CD bit ([`Resolver::query_cd`], one extra query only in that case):
//! if the resolver can then answer, validation is what failed → bogus;
//! SERVFAIL again (or a transport failure) → unknown, the name servers are
//! broken or unreachable and DNSSEC is not the question.
//!
//! Verdict: any bogus name → fail (high: validating senders cannot deliver);
//! domain unsigned → info; domain signed but an MX host's zone unsigned →
//! info (DANE cannot protect that host); all signed → pass; otherwise
//! unknown with the reason.

use crate::dns::mx::MxLookup;
use crate::dns::{DnsAnswer, DnsError, RecordType, Resolver};
use crate::net::Network;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use futures::future::join_all;
use hickory_proto::op::ResponseCode;

pub static DNS_DNSSEC: Rule = Rule {
    id: "dns.dnssec",
    area: Area::Dns,
    title: "DNSSEC",
    severity: Severity::Info,
    description: "The domain's zone or an MX host's zone is not DNSSEC-signed (info), or is \
        bogus (high): signatures that do not validate, so validating resolvers refuse the \
        answers. Judged from the resolver's AD bit and answers.",
    refs: &[
        "RFC 4033",
        "RFC 4035 §3.2.3",
        "RFC 6840 §5.9",
        "RFC 7672 §2.2",
    ],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&DNS_DNSSEC];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneState {
    /// The resolver validated the answers (AD).
    Signed,
    /// Definite answers without AD.
    Unsigned,
    /// SERVFAIL, but the same question with the CD bit is answered.
    Bogus,
    /// Not decided; the reason.
    Unknown(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Domain,
    MxHost,
}

#[derive(Debug, Clone)]
pub struct NameCheck {
    pub name: String,
    pub role: Role,
    pub state: ZoneState,
    /// The answers the state was read from (and the CD answer, if asked).
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Default)]
pub struct DnssecLookup {
    /// The domain first, then each MX host in MX order.
    pub checks: Vec<NameCheck>,
}

/// The state from a name's answers, asking with CD when they SERVFAIL.
async fn state_of<N: Network>(
    resolver: &Resolver<'_, N>,
    name: &str,
    answers: &[(RecordType, &Result<DnsAnswer, DnsError>)],
) -> (ZoneState, Vec<Evidence>) {
    let mut ev = Vec::new();
    let mut definite = Vec::new();
    let mut servfail = None;
    let mut failures = Vec::new();
    for (rtype, r) in answers {
        match r {
            Ok(a) => {
                ev.push(a.evidence());
                if a.is_definite() {
                    definite.push(a);
                } else if a.rcode == ResponseCode::ServFail {
                    servfail.get_or_insert(*rtype);
                } else {
                    failures.push(format!("{name} {rtype}: {}", a.rcode_text()));
                }
            }
            Err(e) => failures.push(format!("{name} {rtype}: {e}")),
        }
    }
    if !definite.is_empty() {
        let state = if definite.iter().all(|a| a.authentic_data) {
            ZoneState::Signed
        } else {
            ZoneState::Unsigned
        };
        return (state, ev);
    }
    let Some(rtype) = servfail else {
        return (ZoneState::Unknown(failures.join("; ")), ev);
    };
    let state = match resolver.query_cd(name, rtype).await {
        Ok(cd) => {
            let mut note = cd.evidence();
            if let Evidence::Dns { query, .. } = &mut note {
                query.push_str(" (CD bit set)");
            }
            ev.push(note);
            if cd.is_definite() {
                ZoneState::Bogus
            } else {
                ZoneState::Unknown(format!(
                    "{name} {rtype}: SERVFAIL even with validation disabled (CD), so its \
                     name servers are unreachable or broken"
                ))
            }
        }
        Err(e) => ZoneState::Unknown(format!(
            "{name} {rtype}: SERVFAIL, and the check with validation disabled failed ({e})"
        )),
    };
    (state, ev)
}

/// DNSSEC state of `domain` and of each MX host, from the MX look-up's
/// answers (plus one CD query per name that answered SERVFAIL).
pub async fn lookup<N: Network>(
    resolver: &Resolver<'_, N>,
    domain: &str,
    mx: &MxLookup,
) -> DnssecLookup {
    let domain_check = async {
        let (state, evidence) = state_of(resolver, domain, &[(RecordType::MX, &mx.answer)]).await;
        NameCheck {
            name: domain.to_string(),
            role: Role::Domain,
            state,
            evidence,
        }
    };
    let host_checks = mx.hosts.iter().map(|h| async move {
        let (state, evidence) = state_of(
            resolver,
            &h.host,
            &[(RecordType::A, &h.a), (RecordType::AAAA, &h.aaaa)],
        )
        .await;
        NameCheck {
            name: h.host.clone(),
            role: Role::MxHost,
            state,
            evidence,
        }
    });
    let (d, hosts) = futures::join!(domain_check, join_all(host_checks));
    let mut checks = vec![d];
    checks.extend(hosts);
    DnssecLookup { checks }
}

fn line(c: &NameCheck) -> String {
    let what = match c.role {
        Role::Domain => format!("{} (the domain)", c.name),
        Role::MxHost => format!("{} (MX host)", c.name),
    };
    match &c.state {
        ZoneState::Signed => format!("{what}: signed, answers validated (AD)"),
        ZoneState::Unsigned => format!("{what}: not signed (answers without AD)"),
        ZoneState::Bogus => format!(
            "{what}: bogus, the resolver refuses the answers (SERVFAIL) but gives them with \
             validation disabled"
        ),
        ZoneState::Unknown(why) => format!("{what}: not decided, {why}"),
    }
}

/// `dns.dnssec`.
pub fn judge(domain: &str, l: &DnssecLookup) -> Finding {
    let mut ev = Vec::new();
    for c in &l.checks {
        ev.push(Evidence::Note { text: line(c) });
        ev.extend(c.evidence.iter().cloned());
    }
    let summary = l.checks.iter().map(line).collect::<Vec<_>>().join("; ");
    let names = |pred: &dyn Fn(&ZoneState) -> bool| -> Vec<&str> {
        l.checks
            .iter()
            .filter(|c| pred(&c.state))
            .map(|c| c.name.as_str())
            .collect()
    };
    let bogus = names(&|s| *s == ZoneState::Bogus);
    if !bogus.is_empty() {
        return DNS_DNSSEC
            .finding(
                Status::Fail,
                format!(
                    "DNSSEC validation fails for {}: validating resolvers refuse these answers, \
                     so senders that validate (a growing share) cannot find or reach the mail \
                     servers of {domain}. {summary}.",
                    bogus.join(", ")
                ),
            )
            .with_severity(Severity::High)
            .with_evidences(ev)
            .with_remediation(format!(
                "Find the break with `delv {} MX` or https://dnsviz.net: usually expired \
                 signatures (the signer stopped re-signing) or a DS record at the registrar \
                 that matches no DNSKEY of the zone (after a key rollover or a move to another \
                 DNS host). Re-sign the zone, or publish the DS of the current key at the \
                 registrar; if the zone is no longer signed, remove the DS record.",
                bogus[0]
            ));
    }
    let Some(d) = l.checks.iter().find(|c| c.role == Role::Domain) else {
        return DNS_DNSSEC.finding(
            Status::Unknown,
            format!("The DNSSEC status of {domain} was not looked up."),
        );
    };
    let undecided = names(&|s| matches!(s, ZoneState::Unknown(_)));
    let unsigned_hosts: Vec<&str> = l
        .checks
        .iter()
        .filter(|c| c.role == Role::MxHost && c.state == ZoneState::Unsigned)
        .map(|c| c.name.as_str())
        .collect();
    let sign_it = format!(
        "Enable DNSSEC signing at the DNS host of {domain} (most offer it as one setting), then \
         publish the DS record it gives you at your registrar. Check with `delv {domain} MX`: \
         the answer should say \"fully validated\"."
    );
    match &d.state {
        ZoneState::Unknown(_) => DNS_DNSSEC
            .finding(
                Status::Unknown,
                format!("The DNSSEC status of {domain} could not be decided: {summary}."),
            )
            .with_evidences(ev),
        ZoneState::Unsigned => DNS_DNSSEC
            .finding(
                Status::Info,
                format!(
                    "{domain} is not DNSSEC-signed (the resolver did not validate its answers): \
                     an attacker on the path of a sender's DNS can forge its MX records, and \
                     DANE cannot be used. If you did sign the zone, the DS record at the \
                     registrar is missing. {summary}."
                ),
            )
            .with_severity(Severity::Info)
            .with_evidences(ev)
            .with_remediation(sign_it),
        ZoneState::Signed | ZoneState::Bogus if !unsigned_hosts.is_empty() => DNS_DNSSEC
            .finding(
                Status::Info,
                format!(
                    "{domain} is signed, but the zone of {} is not: DANE cannot protect mail \
                     to that host. {summary}.",
                    unsigned_hosts.join(", ")
                ),
            )
            .with_severity(Severity::Info)
            .with_evidences(ev)
            .with_remediation(
                "Sign the zone of each MX host (or use MX hosts in a signed zone) if you want \
                 DANE for inbound mail.",
            ),
        _ if !undecided.is_empty() => DNS_DNSSEC
            .finding(
                Status::Unknown,
                format!(
                    "{domain} is signed, but the DNSSEC status of {} could not be decided: \
                     {summary}.",
                    undecided.join(", ")
                ),
            )
            .with_evidences(ev),
        _ => DNS_DNSSEC
            .finding(
                Status::Pass,
                format!("{domain} and its MX hosts are DNSSEC-signed and validate: {summary}."),
            )
            .with_evidences(ev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::mx;
    use crate::net::NetError;
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;

    fn run(net: &ScriptedNet) -> Finding {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let m = block_on(mx::lookup(&r, "example.org"));
        let l = block_on(lookup(&r, "example.org", &m));
        judge("example.org", &l)
    }

    fn zone() -> ScriptedNet {
        ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "198.51.100.25")
            .mx("example.org", 20, "mx.provider.example")
            .a("mx.provider.example", "203.0.113.5")
    }

    #[test]
    fn all_signed_passes() {
        let net = zone()
            .signed_zone("example.org")
            .signed_zone("provider.example");
        let f = run(&net);
        assert_eq!(f.status, Status::Pass, "{}", f.detail);
        // No query beyond the MX look-up's.
        assert_eq!(net.requests(), 5);
    }

    #[test]
    fn unsigned_domain_is_info() {
        let f = run(&zone());
        assert_eq!(f.status, Status::Info);
        assert!(f.detail.contains("not DNSSEC-signed"), "{}", f.detail);
        assert!(f.remediation.contains("DS record"));
    }

    #[test]
    fn unsigned_mx_zone_is_info_naming_it() {
        let f = run(&zone().signed_zone("example.org"));
        assert_eq!(f.status, Status::Info);
        assert!(
            f.detail.contains("the zone of mx.provider.example is not"),
            "{}",
            f.detail
        );
    }

    #[test]
    fn bogus_domain_fails_high() {
        let net = zone().bogus_zone("example.org");
        let f = run(&net);
        assert_eq!(f.status, Status::Fail, "{}", f.detail);
        assert_eq!(f.severity, Severity::High);
        assert!(f.detail.contains("example.org"));
        // Only the MX question was asked again, with CD (the SERVFAIL left
        // no MX hosts to look at).
        let cd: Vec<_> = net
            .asked()
            .into_iter()
            .zip(net.asked_cd())
            .filter(|(_, cd)| *cd)
            .map(|(q, _)| q)
            .collect();
        assert_eq!(cd, [("example.org".to_string(), RecordType::MX)]);
    }

    #[test]
    fn bogus_mx_zone_fails_even_when_the_domain_is_signed() {
        let net = zone()
            .signed_zone("example.org")
            .bogus_zone("provider.example");
        let f = run(&net);
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("mx.provider.example"), "{}", f.detail);
    }

    #[test]
    fn servfail_with_and_without_cd_is_unknown_not_bogus() {
        let net = ScriptedNet::new().rcode("example.org", RecordType::MX, ResponseCode::ServFail);
        let f = run(&net);
        assert_eq!(f.status, Status::Unknown, "{}", f.detail);
        assert!(f.detail.contains("even with validation disabled"));
        let net = ScriptedNet::new().error("example.org", RecordType::MX, NetError::Timeout(5000));
        assert_eq!(run(&net).status, Status::Unknown);
    }

    #[test]
    fn a_signed_domain_without_mx_passes() {
        let net = ScriptedNet::new()
            .a("example.org", "198.51.100.1")
            .signed_zone("example.org");
        assert_eq!(run(&net).status, Status::Pass);
    }

    #[test]
    fn signed_domain_with_undecided_host_is_unknown() {
        let net = zone()
            .signed_zone("example.org")
            .signed_zone("provider.example")
            .error("mx.provider.example", RecordType::A, NetError::Timeout(1))
            .error(
                "mx.provider.example",
                RecordType::AAAA,
                NetError::Timeout(1),
            );
        let f = run(&net);
        assert_eq!(f.status, Status::Unknown, "{}", f.detail);
    }
}
