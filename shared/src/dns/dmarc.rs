//! DMARC record discovery and the rules `dmarc.missing` and `dmarc.policy`.
//!
//! Discovery follows the DMARCbis DNS tree walk instead of a public suffix
//! list: `_dmarc.<domain>` first, then each parent up to (not including) the
//! top-level domain, at most 8 queries (a name with more than 7 labels jumps
//! to its last 7). A record found at a parent is the organisational
//! domain's, and its `sp` (else `p`) applies to the audited domain.

use crate::dns::{DnsAnswer, RecordType, Resolver};
use crate::net::Network;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

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

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&DMARC_MISSING, &DMARC_POLICY];

/// What the tree walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Record {
        at: String,
        text: String,
    },
    /// Several DMARC records at one name: receivers ignore them all.
    Several {
        at: String,
        texts: Vec<String>,
    },
    None,
    /// A query failed; nothing can be said.
    Unknown {
        at: String,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct Discovery {
    pub found: Found,
    pub evidence: Vec<Evidence>,
}

/// The names the tree walk asks, in order.
pub fn walk_names(domain: &str) -> Vec<String> {
    let labels: Vec<&str> = domain.split('.').collect();
    let mut names = vec![domain.to_string()];
    let mut start = 1;
    if labels.len() > 7 {
        start = labels.len() - 7;
    }
    for i in start..labels.len().saturating_sub(1) {
        names.push(labels[i..].join("."));
    }
    names.truncate(8);
    names
}

fn dmarc_records(a: &DnsAnswer) -> Vec<String> {
    a.of_type()
        .filter_map(|d| d.txt_joined())
        .filter(|t| {
            let t = t.trim_start();
            t.strip_prefix('v')
                .map(|r| r.trim_start())
                .and_then(|r| r.strip_prefix('='))
                .map(|r| r.trim_start())
                .is_some_and(|r| {
                    r.starts_with("DMARC1") && r[6..].trim_start().is_empty_or_semicolon()
                })
        })
        .collect()
}

trait SemiExt {
    fn is_empty_or_semicolon(&self) -> bool;
}
impl SemiExt for str {
    fn is_empty_or_semicolon(&self) -> bool {
        self.is_empty() || self.starts_with(';')
    }
}

pub async fn discover<N: Network>(resolver: &Resolver<'_, N>, domain: &str) -> Discovery {
    let mut evidence = Vec::new();
    for name in walk_names(domain) {
        let qname = format!("_dmarc.{name}");
        match resolver.query(&qname, RecordType::TXT).await {
            Err(e) => {
                return Discovery {
                    found: Found::Unknown {
                        at: qname,
                        reason: e.to_string(),
                    },
                    evidence,
                }
            }
            Ok(a) => {
                evidence.push(a.evidence());
                if !a.is_definite() {
                    return Discovery {
                        found: Found::Unknown {
                            at: qname,
                            reason: format!("resolver answered {}", a.rcode_text()),
                        },
                        evidence,
                    };
                }
                let recs = dmarc_records(&a);
                match recs.len() {
                    0 => continue,
                    1 => {
                        return Discovery {
                            found: Found::Record {
                                at: name,
                                text: recs.into_iter().next().unwrap_or_default(),
                            },
                            evidence,
                        }
                    }
                    _ => {
                        return Discovery {
                            found: Found::Several {
                                at: name,
                                texts: recs,
                            },
                            evidence,
                        }
                    }
                }
            }
        }
    }
    Discovery {
        found: Found::None,
        evidence,
    }
}

/// Tags of a record, first occurrence wins; names lower-cased.
pub fn tags(record: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in record.split(';') {
        if let Some((k, v)) = part.split_once('=') {
            let k = k.trim().to_ascii_lowercase();
            if !k.is_empty() && !out.iter().any(|(n, _)| *n == k) {
                out.push((k, v.trim().to_string()));
            }
        }
    }
    out
}

fn strength(p: &str) -> Option<u8> {
    match p.to_ascii_lowercase().as_str() {
        "none" => Some(0),
        "quarantine" => Some(1),
        "reject" => Some(2),
        _ => None,
    }
}

pub fn judge(domain: &str, d: &Discovery) -> Vec<Finding> {
    let ev = d.evidence.clone();
    match &d.found {
        Found::Unknown { at, reason } => {
            let detail = format!(
                "The DMARC record could not be looked up at {at} ({reason}). Run the audit again \
                 or query `dig TXT {at}` from another resolver."
            );
            vec![
                DMARC_MISSING
                    .finding(Status::Unknown, detail.clone())
                    .with_evidences(ev.clone()),
                DMARC_POLICY.finding(Status::Unknown, detail).with_evidences(ev),
            ]
        }
        Found::None => vec![
            DMARC_MISSING
                .finding(
                    Status::Fail,
                    format!(
                        "Neither {domain} nor a parent domain publishes a DMARC record, so \
                         receivers have no instruction for mail that forges {domain}, and you get \
                         no reports about it."
                    ),
                )
                .with_evidences(ev)
                .with_remediation(format!(
                    "Start in monitoring mode and move to enforcement once reports show all your \
                     senders align:\n_dmarc.{domain}. TXT \"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}\""
                )),
            DMARC_POLICY.finding(
                Status::Info,
                "There is no DMARC record whose policy could be judged (see dmarc.missing).",
            ),
        ],
        Found::Several { at, texts } => vec![
            DMARC_MISSING
                .finding(
                    Status::Fail,
                    format!(
                        "_dmarc.{at} has {} DMARC records. Receivers ignore DMARC entirely when \
                         there is more than one (RFC 7489 §6.6.3).",
                        texts.len()
                    ),
                )
                .with_evidences(ev.clone())
                .with_remediation(format!("Keep exactly one TXT record at _dmarc.{at}.")),
            DMARC_POLICY
                .finding(
                    Status::Unknown,
                    "Several DMARC records are published; no single policy applies.",
                )
                .with_evidences(ev),
        ],
        Found::Record { at, text } => {
            let inherited = at != domain;
            let missing = DMARC_MISSING
                .finding(
                    Status::Pass,
                    if inherited {
                        format!("{domain} is covered by the DMARC record of its organisational domain {at}.")
                    } else {
                        format!("{domain} publishes a DMARC record.")
                    },
                )
                .with_evidences(ev.clone());
            vec![missing, judge_policy(domain, at, text, inherited, ev)]
        }
    }
}

fn judge_policy(domain: &str, at: &str, text: &str, inherited: bool, ev: Vec<Evidence>) -> Finding {
    let t = tags(text);
    let get = |k: &str| t.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(p) = get("p").filter(|p| strength(p).is_some()) else {
        return DMARC_POLICY
            .finding(
                Status::Unknown,
                format!(
                    "The record at _dmarc.{at} has no valid p= tag, so receivers may ignore it; \
                     its policy cannot be judged."
                ),
            )
            .with_evidences(ev);
    };
    let sp = get("sp").filter(|s| strength(s).is_some());
    // A parent's record applies to subdomains through sp (else p).
    let effective = if inherited { sp.unwrap_or(p) } else { p };
    let mut problems = Vec::new();
    if strength(effective) == Some(0) {
        problems.push(format!(
            "the policy for {domain} is none: receivers only monitor, and forged mail is still delivered"
        ));
    }
    if let Some(pct) = get("pct") {
        match pct.parse::<u8>() {
            Ok(n) if n < 100 => problems.push(format!(
                "pct={n}: the policy applies to only {n}% of failing mail"
            )),
            Ok(_) => {}
            Err(_) => problems.push(format!("pct={pct} is not a number from 0 to 100")),
        }
    }
    if let Some(sp) = sp {
        if strength(sp) < strength(p) {
            problems.push(format!(
                "sp={sp} is weaker than p={p}, so subdomains are easier to forge"
            ));
        }
    }
    if get("t").is_some_and(|v| v.eq_ignore_ascii_case("y")) {
        problems.push("t=y: the record is in testing mode and receivers may not enforce it".into());
    }
    if problems.is_empty() {
        return DMARC_POLICY
            .finding(
                Status::Pass,
                format!("The DMARC policy for {domain} is {effective} for all mail."),
            )
            .with_evidences(ev);
    }
    let next = if strength(effective) == Some(0) {
        "quarantine"
    } else {
        "reject"
    };
    DMARC_POLICY
        .finding(Status::Fail, format!("{}.", capitalise(&problems.join("; "))))
        .with_evidences(ev)
        .with_remediation(format!(
            "Once aggregate reports show that all your legitimate senders pass SPF or DKIM in \
             alignment, enforce the policy:\n_dmarc.{at}. TXT \"v=DMARC1; p={next}; rua=mailto:dmarc-reports@{at}\"\n\
             then move on to p=reject."
        ))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;

    fn run(net: &ScriptedNet, domain: &str) -> Vec<Finding> {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let d = block_on(discover(&r, domain));
        judge(domain, &d)
    }

    fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
        fs.iter().find(|f| f.id == id).unwrap()
    }

    #[test]
    fn walk() {
        assert_eq!(walk_names("example.org"), ["example.org"]);
        assert_eq!(
            walk_names("a.b.example.org"),
            ["a.b.example.org", "b.example.org", "example.org"]
        );
        let deep = walk_names("1.2.3.4.5.6.7.8.9.example.org");
        assert!(deep.len() <= 8);
        assert_eq!(deep.last().unwrap(), "example.org");
        assert_eq!(deep[1], "5.6.7.8.9.example.org");
    }

    #[test]
    fn none_policy_fails() {
        let net = ScriptedNet::new().txt("_dmarc.example.org", "v=DMARC1; p=none");
        let fs = run(&net, "example.org");
        assert_eq!(get(&fs, "dmarc.missing").status, Status::Pass);
        let p = get(&fs, "dmarc.policy");
        assert_eq!(p.status, Status::Fail);
        assert!(p.detail.contains("none"));
        assert!(p.remediation.contains("p=quarantine"));
    }

    #[test]
    fn reject_passes_and_weak_parts_fail() {
        let net = ScriptedNet::new().txt(
            "_dmarc.example.org",
            "v=DMARC1; p=reject; rua=mailto:x@example.org",
        );
        assert_eq!(
            get(&run(&net, "example.org"), "dmarc.policy").status,
            Status::Pass
        );
        for rec in [
            "v=DMARC1; p=reject; pct=50",
            "v=DMARC1; p=reject; sp=none",
            "v=DMARC1; p=quarantine; t=y",
        ] {
            let net = ScriptedNet::new().txt("_dmarc.example.org", rec);
            assert_eq!(
                get(&run(&net, "example.org"), "dmarc.policy").status,
                Status::Fail,
                "{rec}"
            );
        }
    }

    #[test]
    fn missing_everywhere() {
        let net = ScriptedNet::new().a("example.org", "198.51.100.1");
        let fs = run(&net, "mail.example.org");
        assert_eq!(get(&fs, "dmarc.missing").status, Status::Fail);
        assert_eq!(net.asked().len(), 2, "asked the name and its parent");
        assert_eq!(get(&fs, "dmarc.missing").evidence.len(), 2);
    }

    #[test]
    fn inherited_uses_sp() {
        let net = ScriptedNet::new().txt("_dmarc.example.org", "v=DMARC1; p=reject; sp=none");
        let fs = run(&net, "shop.example.org");
        assert_eq!(get(&fs, "dmarc.missing").status, Status::Pass);
        let p = get(&fs, "dmarc.policy");
        assert_eq!(p.status, Status::Fail);
        assert!(p.detail.contains("shop.example.org"));
    }

    #[test]
    fn several_records_are_ignored_by_receivers() {
        let net = ScriptedNet::new()
            .txt("_dmarc.example.org", "v=DMARC1; p=reject")
            .txt("_dmarc.example.org", "v=DMARC1; p=none");
        let fs = run(&net, "example.org");
        assert_eq!(get(&fs, "dmarc.missing").status, Status::Fail);
        assert_eq!(get(&fs, "dmarc.policy").status, Status::Unknown);
    }

    #[test]
    fn lookup_failure_is_unknown_not_missing() {
        let net = ScriptedNet::new().rcode(
            "_dmarc.example.org",
            RecordType::TXT,
            hickory_proto::op::ResponseCode::ServFail,
        );
        let fs = run(&net, "example.org");
        assert_eq!(get(&fs, "dmarc.missing").status, Status::Unknown);
        assert_eq!(get(&fs, "dmarc.policy").status, Status::Unknown);
    }

    #[test]
    fn not_dmarc_text_is_ignored() {
        let net = ScriptedNet::new().txt("_dmarc.example.org", "v=DMARC10; p=reject");
        assert_eq!(
            get(&run(&net, "example.org"), "dmarc.missing").status,
            Status::Fail
        );
    }
}
