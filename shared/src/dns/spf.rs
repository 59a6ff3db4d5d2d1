//! SPF record discovery and the record-level rules: `spf.missing`,
//! `spf.multiple`, `spf.all_permissive`.
//!
//! A record is a TXT record whose text is `v=spf1` alone or followed by a
//! space (RFC 7208 §4.5, case-insensitive). Terms are read as RFC 7208 §4.6.1
//! defines them: a modifier is `name=value` with an alphanumeric name;
//! anything else is a mechanism with an optional qualifier.

use crate::dns::{DnsAnswer, DnsError};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

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

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&SPF_MISSING, &SPF_MULTIPLE, &SPF_ALL_PERMISSIVE];

/// Records among a TXT answer that are SPF records.
pub fn spf_records(txt: &DnsAnswer) -> Vec<String> {
    txt.of_type()
        .filter_map(|d| d.txt_joined())
        .filter(|t| is_spf(t))
        .collect()
}

fn is_spf(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 6 && b[..6].eq_ignore_ascii_case(b"v=spf1") && (b.len() == 6 || b[6] == b' ')
}

/// One term of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term<'a> {
    Mechanism {
        qualifier: char,
        name: &'a str,
        arg: Option<&'a str>,
    },
    Modifier {
        name: &'a str,
        value: &'a str,
    },
}

/// Splits a record (after `v=spf1`) into terms. Never fails: judging
/// syntax is the linter's job; these rules only need the shape.
pub fn terms(record: &str) -> Vec<Term<'_>> {
    record
        .split(' ')
        .skip(1)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if let Some((name, value)) = t.split_once('=') {
                let is_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
                if is_name && !name.contains([':', '/']) {
                    return Term::Modifier { name, value };
                }
            }
            let (qualifier, rest) = match t.chars().next() {
                Some(q @ ('+' | '-' | '~' | '?')) => (q, &t[1..]),
                _ => ('+', t),
            };
            let split = rest.find([':', '/']);
            let (name, arg) = match split {
                Some(i) => (&rest[..i], Some(&rest[i..])),
                None => (rest, None),
            };
            Term::Mechanism {
                qualifier,
                name,
                arg,
            }
        })
        .collect()
}

fn lookup_unknown(rule: &'static crate::rules::Rule, domain: &str, err: &str) -> Finding {
    rule.finding(
        Status::Unknown,
        format!(
            "The TXT records of {domain} could not be read ({err}), so the SPF record cannot be \
             judged. Run the audit again, or query `dig TXT {domain}` from another resolver."
        ),
    )
}

/// The three record-level rules for `domain` from its TXT answer.
pub fn judge(domain: &str, txt: &Result<DnsAnswer, DnsError>) -> Vec<Finding> {
    let answer = match txt {
        Ok(a) if a.is_definite() => a,
        Ok(a) => {
            let why = format!("resolver answered {}", a.rcode_text());
            return [&SPF_MISSING, &SPF_MULTIPLE, &SPF_ALL_PERMISSIVE]
                .into_iter()
                .map(|r| lookup_unknown(r, domain, &why).with_evidence(a.evidence()))
                .collect();
        }
        Err(e) => {
            return [&SPF_MISSING, &SPF_MULTIPLE, &SPF_ALL_PERMISSIVE]
                .into_iter()
                .map(|r| lookup_unknown(r, domain, &e.to_string()))
                .collect();
        }
    };
    let records = spf_records(answer);
    let ev = answer.evidence();
    let mut out = Vec::new();
    match records.len() {
        0 => {
            out.push(
                SPF_MISSING
                    .finding(
                        Status::Fail,
                        format!(
                            "{domain} publishes no SPF record. Receivers cannot tell which servers \
                             may send mail as {domain}, which makes spoofing it easier."
                        ),
                    )
                    .with_evidence(ev.clone())
                    .with_remediation(format!(
                        "Publish one TXT record at {domain} listing your outgoing servers, e.g.\n\
                         {domain}. TXT \"v=spf1 mx -all\"\n\
                         (or \"v=spf1 -all\" if the domain sends no mail)."
                    )),
            );
            out.push(SPF_MULTIPLE.finding(
                Status::Info,
                "There is no SPF record, so none is duplicated (see spf.missing).",
            ));
            out.push(SPF_ALL_PERMISSIVE.finding(
                Status::Info,
                "There is no SPF record to judge (see spf.missing).",
            ));
            return out;
        }
        1 => {
            out.push(
                SPF_MISSING
                    .finding(Status::Pass, format!("{domain} publishes an SPF record."))
                    .with_evidence(ev.clone()),
            );
            out.push(
                SPF_MULTIPLE
                    .finding(Status::Pass, "Exactly one SPF record is published.")
                    .with_evidence(ev.clone()),
            );
        }
        n => {
            out.push(
                SPF_MISSING
                    .finding(Status::Pass, format!("{domain} publishes SPF records."))
                    .with_evidence(ev.clone()),
            );
            out.push(
                SPF_MULTIPLE
                    .finding(
                        Status::Fail,
                        format!(
                            "{domain} publishes {n} SPF records. RFC 7208 makes that a permanent \
                             error: receivers treat the domain as having no usable SPF at all."
                        ),
                    )
                    .with_evidence(ev.clone())
                    .with_remediation(
                        "Merge the records into one TXT record (one v=spf1, every needed \
                         mechanism, a single -all at the end) and delete the others.",
                    ),
            );
        }
    }
    out.push(judge_all(domain, &records, ev));
    out
}

/// `spf.all_permissive` over every published record (a duplicate that is
/// removed later could leave a permissive one in force).
fn judge_all(domain: &str, records: &[String], ev: Evidence) -> Finding {
    let mut worst: Option<(Severity, String)> = None;
    let mut passes = Vec::new();
    for rec in records {
        let ts = terms(rec);
        let all = ts.iter().find_map(|t| match t {
            Term::Mechanism {
                qualifier,
                name,
                arg: None,
            } if name.eq_ignore_ascii_case("all") => Some(*qualifier),
            _ => None,
        });
        let redirect = ts.iter().any(
            |t| matches!(t, Term::Modifier { name, .. } if name.eq_ignore_ascii_case("redirect")),
        );
        let verdict = match all {
            Some('+') => Some((
                Severity::Critical,
                format!("\"{rec}\" ends in +all: every server on the internet may send as {domain}."),
            )),
            Some('?') => Some((
                Severity::High,
                format!("\"{rec}\" ends in ?all (neutral): it gives receivers nothing against forged mail."),
            )),
            None if !redirect => Some((
                Severity::High,
                format!("\"{rec}\" has no all mechanism and no redirect: mail from any other server is neutral, not rejected."),
            )),
            Some(q) => {
                passes.push(format!("\"{rec}\" ends in {q}all."));
                None
            }
            None => {
                passes.push(format!("\"{rec}\" delegates with redirect=."));
                None
            }
        };
        if let Some((sev, text)) = verdict {
            if worst.as_ref().is_none_or(|(s, _)| sev > *s) {
                worst = Some((sev, text));
            }
        }
    }
    match worst {
        Some((sev, text)) => SPF_ALL_PERMISSIVE
            .finding(Status::Fail, text)
            .with_severity(sev)
            .with_evidence(ev)
            .with_remediation(format!(
                "End the record with -all (or ~all while you verify your senders), e.g.\n\
                 {domain}. TXT \"v=spf1 mx -all\""
            )),
        None => SPF_ALL_PERMISSIVE
            .finding(Status::Pass, passes.join(" "))
            .with_evidence(ev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::RecordType;
    use crate::testing::{roundtrip, ScriptedNet};

    fn run(net: ScriptedNet) -> Vec<Finding> {
        let a = roundtrip(&net, "example.org", RecordType::TXT);
        judge("example.org", &Ok(a))
    }

    fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
        fs.iter().find(|f| f.id == id).unwrap()
    }

    #[test]
    fn recognises_spf_records_only() {
        assert!(is_spf("v=spf1 -all"));
        assert!(is_spf("V=SPF1"));
        assert!(!is_spf("v=spf10 -all"));
        assert!(!is_spf("v=DMARC1; p=none"));
        assert!(!is_spf("spf1"));
    }

    #[test]
    fn terms_split_mechanisms_and_modifiers() {
        let t = terms("v=spf1 ip4:192.0.2.0/24 -all redirect=_spf.example.org ~include:x.org a/24");
        assert_eq!(t.len(), 5);
        assert!(matches!(
            t[1],
            Term::Mechanism {
                qualifier: '-',
                name: "all",
                arg: None
            }
        ));
        assert!(matches!(
            t[2],
            Term::Modifier {
                name: "redirect",
                ..
            }
        ));
        assert!(matches!(
            t[4],
            Term::Mechanism {
                name: "a",
                arg: Some("/24"),
                ..
            }
        ));
    }

    #[test]
    fn missing() {
        let fs = run(ScriptedNet::new().txt("example.org", "google-site-verification=x"));
        assert_eq!(get(&fs, "spf.missing").status, Status::Fail);
        assert_eq!(get(&fs, "spf.all_permissive").status, Status::Info);
    }

    #[test]
    fn multiple_and_plus_all() {
        let fs = run(ScriptedNet::new()
            .txt("example.org", "v=spf1 +all")
            .txt("example.org", "v=spf1 mx ~all"));
        assert_eq!(get(&fs, "spf.missing").status, Status::Pass);
        assert_eq!(get(&fs, "spf.multiple").status, Status::Fail);
        let all = get(&fs, "spf.all_permissive");
        assert_eq!(all.status, Status::Fail);
        assert_eq!(all.severity, Severity::Critical);
        assert!(!all.evidence.is_empty());
    }

    #[test]
    fn neutral_and_absent_all_are_high() {
        for rec in ["v=spf1 mx ?all", "v=spf1 mx", "v=spf1 all"] {
            let fs = run(ScriptedNet::new().txt("example.org", rec));
            let all = get(&fs, "spf.all_permissive");
            assert_eq!(all.status, Status::Fail, "{rec}");
            let want = if rec.ends_with(" all") {
                Severity::Critical
            } else {
                Severity::High
            };
            assert_eq!(all.severity, want, "{rec}");
        }
    }

    #[test]
    fn hard_fail_soft_fail_and_redirect_pass() {
        for rec in [
            "v=spf1 mx -all",
            "v=spf1 mx ~all",
            "v=spf1 redirect=_spf.example.org",
        ] {
            let fs = run(ScriptedNet::new().txt("example.org", rec));
            assert_eq!(get(&fs, "spf.all_permissive").status, Status::Pass, "{rec}");
            assert_eq!(get(&fs, "spf.multiple").status, Status::Pass);
        }
    }

    #[test]
    fn long_records_are_joined() {
        let rec = format!("v=spf1 {} -all", "ip4:198.51.100.1 ".repeat(20).trim_end());
        assert!(rec.len() > 255);
        let fs = run(ScriptedNet::new().txt("example.org", &rec));
        assert_eq!(get(&fs, "spf.all_permissive").status, Status::Pass);
    }

    #[test]
    fn servfail_is_unknown() {
        let fs = run(ScriptedNet::new().rcode(
            "example.org",
            RecordType::TXT,
            hickory_proto::op::ResponseCode::ServFail,
        ));
        assert!(fs.iter().all(|f| f.status == Status::Unknown));
        assert_eq!(fs.len(), 3);
    }
}
