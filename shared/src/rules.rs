//! The rule registry: every check mailaudit runs, by stable id.
//!
//! A rule is declared once here (id, area, title, default severity,
//! description, references) and its findings are made only through
//! [`Rule::finding`], so a finding's title and references always match the
//! catalog. `docs/rules.md` is generated from [`all`] (see
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
    /// Sender authentication (SPF, DKIM, DMARC, BIMI).
    Authentication,
    /// Transport security (MTA-STS, TLS-RPT, DANE, STARTTLS, TLS, certificates).
    Transport,
    /// What the mail servers do when spoken to (SMTP probes).
    Server,
    /// IP and domain blocklists.
    Blocklists,
}

impl Area {
    pub fn title(self) -> &'static str {
        match self {
            Area::Config => "Pasted configuration",
            Area::Dns => "DNS",
            Area::Authentication => "Sender authentication",
            Area::Transport => "Transport security",
            Area::Server => "Server behaviour",
            Area::Blocklists => "Blocklists",
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

/// Every rule, in catalog order. Each module declares the rules it decides
/// (`RULES`) beside their logic; this is the one list of those lists.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    [
        crate::config::postfix::RULES,
        crate::config::exim::RULES,
        crate::config::sendmail::RULES,
        crate::config::exchange::RULES,
        crate::config::fail2ban::RULES,
        crate::logs::RULES,
        crate::dmarcrep::RULES,
        crate::dns::mx::RULES,
        crate::dns::ptr::RULES,
        crate::dns::dnssec::RULES,
        crate::dns::provider::RULES,
        crate::dns::spf::RULES,
        crate::dns::dkim::RULES,
        crate::dns::dmarc::RULES,
        crate::dns::mtasts::RULES,
        crate::dns::tlsrpt::RULES,
        crate::dns::bimi::RULES,
        crate::dns::dane::RULES,
        crate::dns::blocklist::RULES,
        crate::probe::RULES,
        crate::tls::RULES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

pub fn by_id(id: &str) -> Option<&'static Rule> {
    all().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for r in all() {
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
        for r in all() {
            assert!(
                spec.contains(&format!("| {} |", r.id)),
                "{} is not in the product catalog",
                r.id
            );
        }
    }
}
