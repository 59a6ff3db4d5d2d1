//! MX look-up and the rule `dns.mx`: the domain's MX set, each MX host's
//! addresses, null MX (RFC 7505), MX targets that are CNAMEs (RFC 2181
//! §10.3) or IP literals, and MX hosts without addresses.

use crate::dns::{DnsAnswer, DnsError, RecordType, Resolver, RrData};
use crate::net::Network;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use futures::future::join_all;
use std::net::IpAddr;

pub static DNS_MX: Rule = Rule {
    id: "dns.mx",
    area: Area::Dns,
    title: "MX records",
    severity: Severity::High,
    description:
        "The domain has no MX (info when it sends no mail; a null MX per RFC 7505 is recognised), \
        an MX pointing to a CNAME or an IP literal, or an MX host without A/AAAA records.",
    refs: &["RFC 5321 §5.1", "RFC 2181 §10.3", "RFC 7505"],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&DNS_MX];

/// At most this many MX hosts are resolved (an audit has a budget).
pub const MAX_MX_HOSTS: usize = 10;

#[derive(Debug, Clone)]
pub struct HostLookup {
    pub host: String,
    pub preference: u16,
    pub a: Result<DnsAnswer, DnsError>,
    pub aaaa: Result<DnsAnswer, DnsError>,
}

impl HostLookup {
    /// Addresses of the host (A then AAAA).
    pub fn addresses(&self) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for a in [&self.a, &self.aaaa].into_iter().flatten() {
            for d in a.of_type() {
                match d {
                    RrData::A(ip) => out.push(IpAddr::V4(*ip)),
                    RrData::Aaaa(ip) => out.push(IpAddr::V6(*ip)),
                    _ => {}
                }
            }
        }
        out
    }

    fn is_cname(&self) -> bool {
        [&self.a, &self.aaaa].into_iter().flatten().any(|a| {
            a.records
                .iter()
                .any(|r| r.name == self.host && matches!(r.data, RrData::Cname(_)))
        })
    }
}

#[derive(Debug, Clone)]
pub struct MxLookup {
    pub answer: Result<DnsAnswer, DnsError>,
    pub hosts: Vec<HostLookup>,
}

/// (preference, host) of the MX set, sorted by preference.
pub fn mx_set(a: &DnsAnswer) -> Vec<(u16, String)> {
    let mut v: Vec<(u16, String)> = a
        .of_type()
        .filter_map(|d| match d {
            RrData::Mx {
                preference,
                exchange,
            } => Some((*preference, exchange.clone())),
            _ => None,
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn is_null_mx(set: &[(u16, String)]) -> bool {
    set.len() == 1 && set[0].1.is_empty()
}

/// Looks up the MX set, then every MX host's A and AAAA at once.
pub async fn lookup<N: Network>(resolver: &Resolver<'_, N>, domain: &str) -> MxLookup {
    let answer = resolver.query(domain, RecordType::MX).await;
    let set = match &answer {
        Ok(a) if !is_null_mx(&mx_set(a)) => mx_set(a),
        _ => Vec::new(),
    };
    let hosts = set
        .into_iter()
        .filter(|(_, h)| !h.is_empty() && h.parse::<IpAddr>().is_err())
        .take(MAX_MX_HOSTS)
        .map(|(preference, host)| async move {
            let (a, aaaa) = futures::join!(
                resolver.query(&host, RecordType::A),
                resolver.query(&host, RecordType::AAAA)
            );
            HostLookup {
                host,
                preference,
                a,
                aaaa,
            }
        });
    MxLookup {
        answer,
        hosts: join_all(hosts).await,
    }
}

/// `dns.mx`. `sends_no_mail` is true when the domain's SPF says so
/// (`v=spf1 -all`): a domain without MX is then expected.
pub fn judge(domain: &str, m: &MxLookup, sends_no_mail: bool) -> Finding {
    let answer = match &m.answer {
        Err(e) => {
            return DNS_MX.finding(
                Status::Unknown,
                format!("The MX records of {domain} could not be read ({e})."),
            )
        }
        Ok(a) if !a.is_definite() => {
            return DNS_MX
                .finding(
                    Status::Unknown,
                    format!(
                        "The resolver answered {} for the MX records of {domain}; try again or \
                         use another resolver.",
                        a.rcode_text()
                    ),
                )
                .with_evidence(a.evidence())
        }
        Ok(a) => a,
    };
    let mut ev = vec![answer.evidence()];
    if answer.is_nxdomain() {
        return DNS_MX
            .finding(
                Status::Fail,
                format!(
                    "{domain} does not exist in DNS (NXDOMAIN): no mail can be delivered to it."
                ),
            )
            .with_evidences(ev)
            .with_remediation("Check the spelling of the domain, or register and delegate it.");
    }
    let set = mx_set(answer);
    if is_null_mx(&set) {
        return DNS_MX
            .finding(
                Status::Info,
                format!(
                    "{domain} publishes a null MX (RFC 7505): it declares that it accepts no mail."
                ),
            )
            .with_evidences(ev);
    }
    if set.is_empty() {
        if sends_no_mail {
            return DNS_MX
                .finding(
                    Status::Info,
                    format!(
                        "{domain} has no MX record and its SPF record says it sends no mail. \
                         A null MX would say explicitly that it receives none either."
                    ),
                )
                .with_evidences(ev)
                .with_remediation(format!("{domain}. MX 0 .   ; RFC 7505 null MX"));
        }
        return DNS_MX
            .finding(
                Status::Fail,
                format!(
                    "{domain} has no MX record. Senders fall back to its A/AAAA address \
                     (RFC 5321 §5.1), which is rarely a mail server, so mail to {domain} may be lost."
                ),
            )
            .with_evidences(ev)
            .with_remediation(format!(
                "Publish an MX record for your mail server, e.g.\n{domain}. MX 10 mail.{domain}.\n\
                 or, if the domain receives no mail, a null MX: {domain}. MX 0 ."
            ));
    }
    let mut problems = Vec::new();
    let mut undecided = Vec::new();
    for (_, host) in &set {
        if host.parse::<IpAddr>().is_ok() {
            problems.push(format!(
                "the MX target {host} is an IP address, not a host name"
            ));
        }
    }
    if set.len() > MAX_MX_HOSTS {
        ev.push(Evidence::Note {
            text: format!(
                "{} MX hosts; only the first {MAX_MX_HOSTS} were resolved",
                set.len()
            ),
        });
    }
    for h in &m.hosts {
        for r in [&h.a, &h.aaaa] {
            match r {
                Ok(a) => ev.push(a.evidence()),
                Err(e) => undecided.push(format!("{}: {e}", h.host)),
            }
        }
        if h.is_cname() {
            problems.push(format!(
                "the MX host {} is a CNAME (RFC 2181 §10.3 forbids it)",
                h.host
            ));
        }
        let definite = [&h.a, &h.aaaa]
            .into_iter()
            .all(|r| r.as_ref().is_ok_and(|a| a.is_definite()));
        if h.addresses().is_empty() {
            if definite {
                problems.push(format!("the MX host {} has no A or AAAA record", h.host));
            } else {
                undecided.push(format!("{}: address look-up failed", h.host));
            }
        }
    }
    let hosts: Vec<_> = set.iter().map(|(p, h)| format!("{p} {h}")).collect();
    if !problems.is_empty() {
        let sev = if m.hosts.iter().all(|h| h.addresses().is_empty()) {
            Severity::High
        } else {
            Severity::Medium
        };
        return DNS_MX
            .finding(
                Status::Fail,
                format!(
                    "MX set of {domain} ({}): {}.",
                    hosts.join(", "),
                    problems.join("; ")
                ),
            )
            .with_severity(sev)
            .with_evidences(ev)
            .with_remediation(
                "Point every MX record at a host name that has its own A/AAAA records \
                 (not a CNAME, not an IP address), e.g.\nexample.org. MX 10 mail.example.org.\n\
                 mail.example.org. A 198.51.100.25",
            );
    }
    if !undecided.is_empty() {
        return DNS_MX
            .finding(
                Status::Unknown,
                format!(
                    "The MX hosts of {domain} could not all be resolved: {}.",
                    undecided.join("; ")
                ),
            )
            .with_evidences(ev);
    }
    DNS_MX
        .finding(
            Status::Pass,
            format!(
                "{domain} has {} MX host(s) ({}), each with an address.",
                set.len(),
                hosts.join(", ")
            ),
        )
        .with_evidences(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;

    fn run(net: &ScriptedNet, no_mail: bool) -> Finding {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let m = block_on(lookup(&r, "example.org"));
        judge("example.org", &m, no_mail)
    }

    #[test]
    fn good_mx_passes() {
        let net = ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "198.51.100.25");
        let f = run(&net, false);
        assert_eq!(f.status, Status::Pass, "{}", f.detail);
        assert_eq!(f.evidence.len(), 3);
    }

    #[test]
    fn missing_mx_fails_unless_no_mail() {
        let net = ScriptedNet::new().a("example.org", "198.51.100.1");
        assert_eq!(run(&net, false).status, Status::Fail);
        assert_eq!(run(&net, true).status, Status::Info);
    }

    #[test]
    fn host_without_address_fails() {
        let net = ScriptedNet::new().mx("example.org", 10, "gone.example.org");
        let f = run(&net, false);
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("no A or AAAA"), "{}", f.detail);
    }

    #[test]
    fn cname_and_ip_literal_fail() {
        let net = ScriptedNet::new()
            .mx("example.org", 10, "alias.example.org")
            .record(
                "alias.example.org",
                RrData::Cname("real.example.org".into()),
            );
        let f = run(&net, false);
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("CNAME"));
        let net = ScriptedNet::new().mx("example.org", 10, "198.51.100.7");
        let f = run(&net, false);
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("IP address"));
    }

    #[test]
    fn null_mx_is_info() {
        let net = ScriptedNet::new().mx("example.org", 0, "");
        assert_eq!(run(&net, false).status, Status::Info);
    }

    #[test]
    fn nxdomain_fails_and_servfail_is_unknown() {
        let net = ScriptedNet::new().a("other.org", "198.51.100.1");
        assert_eq!(run(&net, false).status, Status::Fail);
        let net = ScriptedNet::new().rcode(
            "example.org",
            RecordType::MX,
            hickory_proto::op::ResponseCode::ServFail,
        );
        assert_eq!(run(&net, false).status, Status::Unknown);
        let net = ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .error(
                "mail.example.org",
                RecordType::A,
                crate::net::NetError::Timeout(5000),
            )
            .error(
                "mail.example.org",
                RecordType::AAAA,
                crate::net::NetError::Timeout(5000),
            );
        assert_eq!(run(&net, false).status, Status::Unknown);
    }
}
