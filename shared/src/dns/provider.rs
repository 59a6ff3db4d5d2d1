//! The rule `provider.hosted`: is the domain's mail received by a hosted
//! provider (Microsoft 365, Google Workspace, …) or by servers of its own?
//!
//! API: [`classify`] names the provider of one MX host (or none),
//! [`judge`] decides the rule from the MX look-up. Pure: no queries, only
//! the MX set already fetched by [`crate::dns::mx::lookup`].
//!
//! The table [`PROVIDERS`] matches MX host names by DNS suffix (the host is
//! the suffix or a name below it, compared label-wise), plus, for Amazon,
//! the `inbound-smtp.` prefix that only its inbound service uses under
//! `amazonaws.com`. Suffixes are chosen to be names only the provider's
//! mail service uses: `mail.ovh.net`, not `ovh.net`, whose customers'
//! servers (`vps-….vps.ovh.net`) may be self-hosted MX hosts.
//!
//! What follows for the report: with a mailbox provider, the SMTP/TLS
//! server hardening checks concern the provider's servers, and the domain
//! owner still answers for what is published in the domain's DNS (SPF,
//! DKIM, DMARC, MTA-STS, TLS-RPT, DNSSEC/DANE) and for blocklist listings
//! of the domain. A filtering gateway (Mimecast, Proofpoint, …) or a
//! forwarding service receives the mail first, but a server behind it
//! stores it, which may well be self-hosted and still needs hardening.

use crate::dns::mx::{mx_set, MxLookup};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

pub static PROVIDER_HOSTED: Rule = Rule {
    id: "provider.hosted",
    area: Area::Dns,
    title: "Hosted mail provider",
    severity: Severity::Info,
    description: "Context: the MX hosts are at Microsoft 365, Google Workspace or another hosted \
        provider, so server hardening is the provider's; the report says which checks still \
        apply to the domain owner.",
    refs: &["RFC 5321 §5.1"],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&PROVIDER_HOSTED];

/// What a provider does with the domain's mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Receives and stores the mail: the provider runs the mail servers.
    Mailbox,
    /// A filtering gateway in front of the domain's own mail servers.
    Gateway,
    /// Forwards the mail to mailboxes elsewhere.
    Forwarding,
}

#[derive(Debug)]
pub struct Provider {
    pub name: &'static str,
    pub kind: Kind,
    /// MX host names at or below one of these are the provider's.
    pub suffixes: &'static [&'static str],
    /// Host names with this first label, under `prefixed_suffix`, are too.
    pub prefix: Option<(&'static str, &'static str)>,
}

/// Known hosted providers, by MX host suffix.
pub static PROVIDERS: &[Provider] = &[
    Provider {
        name: "Microsoft 365 / Exchange Online",
        kind: Kind::Mailbox,
        // <tenant>.mail.protection.outlook.com; Outlook.com consumer
        // domains at olc.protection.outlook.com; the DNSSEC-signed
        // <tenant>.<x>.mx.microsoft MX names.
        suffixes: &["protection.outlook.com", "mx.microsoft"],
        prefix: None,
    },
    Provider {
        name: "Google Workspace / Gmail",
        kind: Kind::Mailbox,
        // aspmx.l.google.com, alt1.aspmx.l.google.com, smtp.google.com,
        // aspmx2.googlemail.com
        suffixes: &["google.com", "googlemail.com"],
        prefix: None,
    },
    Provider {
        name: "Proton Mail",
        kind: Kind::Mailbox,
        suffixes: &["protonmail.ch"],
        prefix: None,
    },
    Provider {
        name: "Zoho Mail",
        kind: Kind::Mailbox,
        suffixes: &[
            "zoho.com",
            "zoho.eu",
            "zoho.in",
            "zoho.com.au",
            "zoho.jp",
            "zohocloud.ca",
            "zoho.sa",
        ],
        prefix: None,
    },
    Provider {
        name: "Fastmail",
        kind: Kind::Mailbox,
        suffixes: &["messagingengine.com"],
        prefix: None,
    },
    Provider {
        name: "Amazon SES / WorkMail",
        kind: Kind::Mailbox,
        suffixes: &[],
        // inbound-smtp.<region>.amazonaws.com
        prefix: Some(("inbound-smtp", "amazonaws.com")),
    },
    Provider {
        name: "iCloud Mail",
        kind: Kind::Mailbox,
        suffixes: &["mail.icloud.com"],
        prefix: None,
    },
    Provider {
        name: "Yahoo Mail",
        kind: Kind::Mailbox,
        suffixes: &["yahoodns.net"],
        prefix: None,
    },
    Provider {
        name: "GMX / WEB.DE / IONOS",
        kind: Kind::Mailbox,
        suffixes: &[
            "gmx.net",
            "web.de",
            "ionos.de",
            "ionos.com",
            "ionos.co.uk",
            "ionos.fr",
            "ionos.es",
            "1and1.com",
            "1and1.co.uk",
            "kundenserver.de",
        ],
        prefix: None,
    },
    Provider {
        name: "OVHcloud mail",
        kind: Kind::Mailbox,
        suffixes: &["mail.ovh.net"],
        prefix: None,
    },
    Provider {
        name: "Yandex 360",
        kind: Kind::Mailbox,
        suffixes: &["yandex.net", "yandex.ru"],
        prefix: None,
    },
    Provider {
        name: "Tuta (Tutanota)",
        kind: Kind::Mailbox,
        suffixes: &["tutanota.de"],
        prefix: None,
    },
    Provider {
        name: "mailbox.org",
        kind: Kind::Mailbox,
        suffixes: &["mailbox.org"],
        prefix: None,
    },
    Provider {
        name: "Rackspace Email",
        kind: Kind::Mailbox,
        suffixes: &["emailsrvr.com"],
        prefix: None,
    },
    Provider {
        name: "GoDaddy Workspace Email",
        kind: Kind::Mailbox,
        suffixes: &["secureserver.net"],
        prefix: None,
    },
    Provider {
        name: "Namecheap Private Email",
        kind: Kind::Mailbox,
        suffixes: &["privateemail.com"],
        prefix: None,
    },
    Provider {
        name: "Migadu",
        kind: Kind::Mailbox,
        suffixes: &["migadu.com"],
        prefix: None,
    },
    Provider {
        name: "Titan Email",
        kind: Kind::Mailbox,
        suffixes: &["titan.email"],
        prefix: None,
    },
    Provider {
        name: "Mimecast",
        kind: Kind::Gateway,
        suffixes: &["mimecast.com", "mimecast.co.za", "mimecast-offshore.com"],
        prefix: None,
    },
    Provider {
        name: "Proofpoint",
        kind: Kind::Gateway,
        // Enterprise (pphosted.com) and Essentials (ppe-hosted.com).
        suffixes: &["pphosted.com", "ppe-hosted.com"],
        prefix: None,
    },
    Provider {
        name: "Barracuda Email Security",
        kind: Kind::Gateway,
        suffixes: &["barracudanetworks.com"],
        prefix: None,
    },
    Provider {
        name: "Cisco Secure Email",
        kind: Kind::Gateway,
        suffixes: &["iphmx.com"],
        prefix: None,
    },
    Provider {
        name: "Sophos Email",
        kind: Kind::Gateway,
        suffixes: &["hydra.sophos.com"],
        prefix: None,
    },
    Provider {
        name: "Hornetsecurity",
        kind: Kind::Gateway,
        suffixes: &["hornetsecurity.com"],
        prefix: None,
    },
    Provider {
        name: "Cloudflare Email Routing",
        kind: Kind::Forwarding,
        suffixes: &["mx.cloudflare.net"],
        prefix: None,
    },
    Provider {
        name: "ImprovMX",
        kind: Kind::Forwarding,
        suffixes: &["improvmx.com"],
        prefix: None,
    },
    Provider {
        name: "Forward Email",
        kind: Kind::Forwarding,
        suffixes: &["forwardemail.net"],
        prefix: None,
    },
];

/// `host` is `suffix` or a name below it.
fn is_under(host: &str, suffix: &str) -> bool {
    host == suffix
        || host
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('.'))
}

/// The provider whose table entry matches this MX host name, if any.
pub fn classify(host: &str) -> Option<&'static Provider> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    PROVIDERS.iter().find(|p| {
        p.suffixes.iter().any(|s| is_under(&host, s))
            || p.prefix.is_some_and(|(first, suffix)| {
                is_under(&host, suffix) && host.split('.').next() == Some(first)
            })
    })
}

/// What still applies to the domain owner when a provider receives the mail.
const OWNER_CHECKS: &str = "SPF, DKIM and DMARC records, MTA-STS and TLS-RPT, DNSSEC and DANE \
    records, and blocklist listings of the domain remain yours to get right";

/// `provider.hosted`: info when any MX host is at a known provider (and
/// which, and what remains the owner's), pass when none is (the server
/// checks concern the owner's own servers), info when there is no MX host
/// to classify, unknown when the MX records could not be read.
pub fn judge(domain: &str, m: &MxLookup) -> Finding {
    let answer = match &m.answer {
        Err(e) => {
            return PROVIDER_HOSTED.finding(
                Status::Unknown,
                format!(
                    "The MX records of {domain} could not be read ({e}), so who runs its mail \
                     servers is not known."
                ),
            )
        }
        Ok(a) if !a.is_definite() => {
            return PROVIDER_HOSTED
                .finding(
                    Status::Unknown,
                    format!(
                        "The resolver answered {} for the MX records of {domain}, so who runs \
                         its mail servers is not known.",
                        a.rcode_text()
                    ),
                )
                .with_evidence(a.evidence())
        }
        Ok(a) => a,
    };
    let hosts: Vec<String> = mx_set(answer)
        .into_iter()
        .map(|(_, h)| h)
        .filter(|h| !h.is_empty())
        .collect();
    let mut ev = vec![answer.evidence()];
    if hosts.is_empty() {
        return PROVIDER_HOSTED
            .finding(
                Status::Info,
                format!("{domain} has no MX host, so there is no mail provider to name."),
            )
            .with_evidences(ev);
    }
    let matched: Vec<(&str, &Provider)> = hosts
        .iter()
        .filter_map(|h| classify(h).map(|p| (h.as_str(), p)))
        .collect();
    if matched.is_empty() {
        return PROVIDER_HOSTED
            .finding(
                Status::Pass,
                format!(
                    "The MX hosts of {domain} ({}) are not at a known hosted provider: the mail \
                     servers are presumably your own, and the server checks (SMTP, TLS, \
                     certificates, PTR) are yours to act on.",
                    hosts.join(", ")
                ),
            )
            .with_evidences(ev);
    }
    for (h, p) in &matched {
        ev.push(Evidence::Note {
            text: format!("{h}: {}", p.name),
        });
    }
    let mut names: Vec<&str> = Vec::new();
    for (_, p) in &matched {
        if !names.contains(&p.name) {
            names.push(p.name);
        }
    }
    let own: Vec<&str> = hosts
        .iter()
        .map(String::as_str)
        .filter(|h| !matched.iter().any(|(m, _)| m == h))
        .collect();
    let mut detail = format!("{domain} receives mail through {}. ", names.join(" and "));
    let kinds = |k: Kind| matched.iter().any(|(_, p)| p.kind == k);
    if kinds(Kind::Mailbox) {
        detail.push_str(
            "The hardening of those mail servers (SMTP, STARTTLS, TLS versions and \
             ciphers, certificates) is the provider's; ",
        );
    } else {
        detail.push_str("The hardening of those receiving servers is the provider's; ");
    }
    detail.push_str(OWNER_CHECKS);
    detail.push('.');
    if kinds(Kind::Gateway) || kinds(Kind::Forwarding) {
        detail.push_str(
            " A filtering gateway or forwarding service hands the mail on to another server: \
             if that server is your own, it still needs the server checks (paste its \
             configuration to check it).",
        );
    }
    if !own.is_empty() {
        detail.push_str(&format!(
            " Other MX hosts ({}) are not at a known provider and are presumably your own: \
             the server checks apply to them.",
            own.join(", ")
        ));
    }
    PROVIDER_HOSTED
        .finding(Status::Info, detail)
        .with_evidences(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{mx, Resolver};
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;

    fn run(net: &ScriptedNet) -> Finding {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let m = block_on(mx::lookup(&r, "example.org"));
        judge("example.org", &m)
    }

    #[test]
    fn classifies_by_suffix_label_wise() {
        let name = |h| classify(h).map(|p| p.name);
        assert_eq!(
            name("example-org.mail.protection.outlook.com"),
            Some("Microsoft 365 / Exchange Online")
        );
        assert_eq!(
            name("ALT1.ASPMX.L.GOOGLE.COM."),
            Some("Google Workspace / Gmail")
        );
        assert_eq!(name("smtp.google.com"), Some("Google Workspace / Gmail"));
        assert_eq!(name("in1-smtp.messagingengine.com"), Some("Fastmail"));
        assert_eq!(name("mx0a-001.pphosted.com"), Some("Proofpoint"));
        assert_eq!(
            name("inbound-smtp.eu-west-1.amazonaws.com"),
            Some("Amazon SES / WorkMail")
        );
        // Not a suffix match: a look-alike name, and a customer's EC2 host.
        assert_eq!(name("mail.notgoogle.com"), None);
        assert_eq!(name("google.com.example.org"), None);
        assert_eq!(name("ec2-198-51-100-1.compute-1.amazonaws.com"), None);
        // An OVH VPS is a self-hosted server, not OVH's mail service.
        assert_eq!(name("vps-1234.vps.ovh.net"), None);
        assert_eq!(name("mx1.mail.ovh.net"), Some("OVHcloud mail"));
    }

    #[test]
    fn hosted_mx_is_info_and_names_the_owner_checks() {
        let net = ScriptedNet::new()
            .mx("example.org", 1, "aspmx.l.google.com")
            .mx("example.org", 5, "alt1.aspmx.l.google.com");
        let f = run(&net);
        assert_eq!(f.status, Status::Info);
        assert!(f.detail.contains("Google Workspace"), "{}", f.detail);
        assert!(f.detail.contains("DMARC"), "{}", f.detail);
        assert!(f.detail.contains("provider's"), "{}", f.detail);
        // The MX answer and one note per host.
        assert_eq!(f.evidence.len(), 3);
    }

    #[test]
    fn self_hosted_mx_passes() {
        let net = ScriptedNet::new().mx("example.org", 10, "mail.example.org");
        let f = run(&net);
        assert_eq!(f.status, Status::Pass, "{}", f.detail);
        assert!(f.detail.contains("mail.example.org"));
    }

    #[test]
    fn a_gateway_in_front_of_own_servers_says_so() {
        let net = ScriptedNet::new()
            .mx("example.org", 10, "eu-smtp-inbound-1.mimecast.com")
            .mx("example.org", 20, "backup.example.org");
        let f = run(&net);
        assert_eq!(f.status, Status::Info);
        assert!(f.detail.contains("Mimecast"));
        assert!(f.detail.contains("gateway"), "{}", f.detail);
        assert!(f.detail.contains("backup.example.org"), "{}", f.detail);
    }

    #[test]
    fn unreadable_or_absent_mx() {
        let net = ScriptedNet::new().rcode(
            "example.org",
            crate::dns::RecordType::MX,
            hickory_proto::op::ResponseCode::ServFail,
        );
        assert_eq!(run(&net).status, Status::Unknown);
        let net = ScriptedNet::new().error(
            "example.org",
            crate::dns::RecordType::MX,
            crate::net::NetError::Timeout(5000),
        );
        assert_eq!(run(&net).status, Status::Unknown);
        let net = ScriptedNet::new().mx("example.org", 0, "");
        assert_eq!(run(&net).status, Status::Info);
    }
}
