//! The rule registry: every check mailaudit runs, by stable id.
//!
//! A rule is declared once here (id, area, title, default severity,
//! description, references) and its findings are made only through
//! [`Rule::finding`], so a finding's title and references always match the
//! catalog. `docs/rules.md` is generated from [`ALL`] (see
//! [`crate::render::rules_markdown`]) and a test keeps the two equal.

use crate::report::{Finding, Severity, Status};
use serde::Serialize;

/// Where a rule belongs, for grouping in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    /// Pasted configuration analysis.
    Config,
    /// DNS records of the domain (MX, PTR, DNSSEC).
    Dns,
    /// Sender authentication (SPF, DKIM, DMARC).
    Authentication,
}

impl Area {
    pub fn title(self) -> &'static str {
        match self {
            Area::Config => "Pasted configuration",
            Area::Dns => "DNS",
            Area::Authentication => "Sender authentication",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub area: Area,
    pub title: &'static str,
    /// Severity of a failure unless the finding says otherwise.
    pub severity: Severity,
    /// When the rule fails, in plain language.
    pub description: &'static str,
    pub refs: &'static [&'static str],
}

impl Rule {
    /// The one way to make a finding for this rule.
    pub fn finding(&'static self, status: Status, detail: impl Into<String>) -> Finding {
        Finding {
            id: self.id.into(),
            status,
            severity: self.severity,
            title: self.title.into(),
            detail: detail.into(),
            evidence: Vec::new(),
            remediation: String::new(),
            refs: self.refs.iter().map(|r| r.to_string()).collect(),
        }
    }
}

pub static POSTFIX_OPEN_RELAY: Rule = Rule {
    id: "postfix.open_relay",
    area: Area::Config,
    title: "Open relay (Postfix relay restrictions)",
    severity: Severity::Critical,
    description: "The relay restrictions (smtpd_relay_restrictions, else smtpd_recipient_restrictions), \
        evaluated first-match as Postfix does for each smtpd service, reach an accepting result before \
        reject_unauth_destination/defer_unauth_destination — e.g. permit_mynetworks with a public mynetworks, \
        a bare permit, or a list with no relay control at all (smtpd then refuses all mail).",
    refs: &[
        "https://www.postfix.org/SMTPD_ACCESS_README.html",
        "https://www.postfix.org/postconf.5.html#smtpd_relay_restrictions",
        "NIST SP 800-177r1 §4",
    ],
};

pub static POSTFIX_VRFY_ENABLED: Rule = Rule {
    id: "postfix.vrfy_enabled",
    area: Area::Config,
    title: "VRFY command (address harvesting)",
    severity: Severity::Medium,
    description:
        "disable_vrfy_command is not yes, so anyone can ask the server whether an address exists.",
    refs: &["https://www.postfix.org/postconf.5.html#disable_vrfy_command"],
};

pub static POSTFIX_AUTH_PLAINTEXT: Rule = Rule {
    id: "postfix.auth_plaintext",
    area: Area::Config,
    title: "Password authentication only over TLS",
    severity: Severity::High,
    description: "SASL authentication is enabled (in main.cf or a master.cf service) without \
        smtpd_tls_auth_only = yes or smtpd_tls_security_level = encrypt for that service, so passwords \
        can cross the network in clear text.",
    refs: &[
        "https://www.postfix.org/SASL_README.html",
        "https://www.postfix.org/postconf.5.html#smtpd_tls_auth_only",
        "RFC 4954 §4",
    ],
};

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

pub static SPF_MISSING: Rule = Rule {
    id: "spf.missing",
    area: Area::Authentication,
    title: "SPF record",
    severity: Severity::High,
    description: "The domain publishes no v=spf1 TXT record, so receivers cannot tell which hosts may send for it.",
    refs: &["RFC 7208 §3", "NIST SP 800-177r1 §4.4"],
};

pub static SPF_MULTIPLE: Rule = Rule {
    id: "spf.multiple",
    area: Area::Authentication,
    title: "Single SPF record",
    severity: Severity::High,
    description: "More than one v=spf1 record is published; SPF evaluation then ends in permerror.",
    refs: &["RFC 7208 §3.2", "RFC 7208 §4.5"],
};

pub static SPF_ALL_PERMISSIVE: Rule = Rule {
    id: "spf.all_permissive",
    area: Area::Authentication,
    title: "SPF all mechanism",
    severity: Severity::Critical,
    description:
        "The SPF record ends in +all (anyone may send: critical), or in ?all or no all and no \
        redirect (the record authorises nothing against spoofing: high).",
    refs: &["RFC 7208 §5.1", "RFC 7208 §4.7"],
};

pub static DMARC_MISSING: Rule = Rule {
    id: "dmarc.missing",
    area: Area::Authentication,
    title: "DMARC record",
    severity: Severity::High,
    description:
        "No DMARC record at the domain or its organisational domain: receivers get no policy \
        for mail that fails SPF and DKIM alignment.",
    refs: &[
        "RFC 7489 §6.6.3",
        "draft-ietf-dmarc-dmarcbis §4.10 (DNS tree walk)",
    ],
};

pub static DMARC_POLICY: Rule = Rule {
    id: "dmarc.policy",
    area: Area::Authentication,
    title: "DMARC policy strength",
    severity: Severity::Medium,
    description: "The DMARC policy is p=none (monitoring only), applies to less than 100% of mail \
        (pct < 100), has a subdomain policy sp weaker than p, or is in testing mode (t=y).",
    refs: &["RFC 7489 §6.3", "NIST SP 800-177r1 §4.6"],
};

/// Every rule, in catalog order.
pub static ALL: &[&Rule] = &[
    &POSTFIX_OPEN_RELAY,
    &POSTFIX_VRFY_ENABLED,
    &POSTFIX_AUTH_PLAINTEXT,
    &DNS_MX,
    &SPF_MISSING,
    &SPF_MULTIPLE,
    &SPF_ALL_PERMISSIVE,
    &DMARC_MISSING,
    &DMARC_POLICY,
];

pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for r in ALL {
            assert!(seen.insert(r.id), "duplicate id {}", r.id);
            let (prefix, name) = r.id.split_once('.').expect("id has a dot");
            assert!(!prefix.is_empty() && !name.is_empty());
            assert!(r
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_' || c.is_ascii_digit()));
            assert!(!r.refs.is_empty(), "{} has no refs", r.id);
        }
    }

    /// Every id we ship must exist in the product catalog
    /// (../shared/spec/rules.md beside the repository, when present).
    #[test]
    fn ids_exist_in_the_product_catalog() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec/rules.md");
        let Ok(spec) = std::fs::read_to_string(path) else {
            eprintln!("catalog not found at {path}; skipping the cross-check");
            return;
        };
        for r in ALL {
            assert!(
                spec.contains(&format!("| {} |", r.id)),
                "{} is not in the product catalog",
                r.id
            );
        }
    }
}
