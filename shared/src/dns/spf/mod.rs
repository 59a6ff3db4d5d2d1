//! SPF: record discovery, the RFC 7208 evaluator ([`eval`], over the
//! strict parser in [`parse`]) and the rules of the area: `spf.missing`,
//! `spf.multiple`, `spf.all_permissive` (from the TXT answer, [`judge`]),
//! and `spf.syntax`, `spf.lookup_limit`, `spf.void_lookups`, `spf.softfail`,
//! `spf.ptr`, `spf.size`, `spf.mx_not_authorized` (from the evaluation,
//! [`judge_evaluation`]).
//!
//! A record is a TXT record whose text is `v=spf1` alone or followed by a
//! space (RFC 7208 §4.5, case-insensitive). Terms are read as RFC 7208 §4.6.1
//! defines them: a modifier is `name=value` with an alphanumeric name;
//! anything else is a mechanism with an optional qualifier.

pub mod eval;
pub mod parse;

pub use eval::{check_host, Evaluator, Identity, LookupNode, Outcome, SpfResult};

use crate::dns::mx::MxLookup;
use crate::dns::{DnsAnswer, DnsError, RecordType, RrData};
use crate::net::Network;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use futures::future::join_all;
use std::future::Future;
use std::net::IpAddr;

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

pub static SPF_SYNTAX: Rule = Rule {
    id: "spf.syntax",
    area: Area::Authentication,
    title: "SPF record syntax",
    severity: Severity::High,
    description:
        "The SPF record, or a record it includes or redirects to, is not valid RFC 7208 syntax, \
        or names a domain (include:, redirect=) that publishes no SPF record: receivers then \
        get permerror instead of a verdict.",
    refs: &[
        "RFC 7208 §4.6",
        "RFC 7208 §5.2",
        "RFC 7208 §7.1",
        "RFC 7208 §12",
    ],
};

pub static SPF_LOOKUP_LIMIT: Rule = Rule {
    id: "spf.lookup_limit",
    area: Area::Authentication,
    title: "SPF DNS look-up limit",
    severity: Severity::High,
    description: "Evaluating the record for a sender it does not authorise takes more than 10 \
        DNS-querying terms (include, a, mx, ptr, exists, redirect, counted across included \
        records as RFC 7208 §4.6.4 does), so receivers stop with permerror. The look-up tree \
        shows where the look-ups go.",
    refs: &["RFC 7208 §4.6.4"],
};

pub static SPF_VOID_LOOKUPS: Rule = Rule {
    id: "spf.void_lookups",
    area: Area::Authentication,
    title: "SPF void look-ups",
    severity: Severity::Medium,
    description:
        "More than 2 of the record's look-ups return no records (NXDOMAIN or an empty answer); \
        RFC 7208 §4.6.4 then makes the evaluation a permerror.",
    refs: &["RFC 7208 §4.6.4"],
};

pub static SPF_SOFTFAIL: Rule = Rule {
    id: "spf.softfail",
    area: Area::Authentication,
    title: "SPF ~all (softfail)",
    severity: Severity::Info,
    description:
        "The record ends in ~all: unauthorised mail is marked, not rejected. Reasonable with \
        DMARC enforcement or while senders are being verified; -all is stricter.",
    refs: &["RFC 7208 §8.5", "RFC 7489 §10.1"],
};

pub static SPF_PTR: Rule = Rule {
    id: "spf.ptr",
    area: Area::Authentication,
    title: "SPF ptr mechanism",
    severity: Severity::Low,
    description:
        "The record (or one it includes) uses the ptr mechanism, which RFC 7208 says not to use: \
        it is slow, unreliable and costly for receivers, and some ignore it.",
    refs: &["RFC 7208 §5.5"],
};

pub static SPF_SIZE: Rule = Rule {
    id: "spf.size",
    area: Area::Authentication,
    title: "SPF record size",
    severity: Severity::Low,
    description:
        "The TXT answer carrying the SPF record is larger than 512 bytes (it may need TCP or \
        EDNS and some receivers fail), or a character-string is at the 255-byte maximum (the \
        record has to be split into several strings to grow).",
    refs: &["RFC 7208 §3.3", "RFC 7208 §3.4"],
};

pub static SPF_MX_NOT_AUTHORIZED: Rule = Rule {
    id: "spf.mx_not_authorized",
    area: Area::Authentication,
    title: "MX hosts authorised by SPF",
    severity: Severity::Medium,
    description:
        "check_host() run for each address of the domain's own MX hosts does not give pass: \
        if those servers also send the domain's mail (bounces, forwards, outbound relay), \
        receivers see it as unauthorised.",
    refs: &["RFC 7208 §2.3", "RFC 7208 §4"],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &SPF_MISSING,
    &SPF_MULTIPLE,
    &SPF_SYNTAX,
    &SPF_LOOKUP_LIMIT,
    &SPF_VOID_LOOKUPS,
    &SPF_ALL_PERMISSIVE,
    &SPF_SOFTFAIL,
    &SPF_PTR,
    &SPF_SIZE,
    &SPF_MX_NOT_AUTHORIZED,
];

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

/// At most this many published records are walked (several records are a
/// permerror already; each is still judged, so removing one holds no surprise).
pub const MAX_WALKED_RECORDS: usize = 3;
/// At most this many MX addresses are checked with check_host().
pub const MAX_MX_ADDRESSES: usize = 10;
/// Look-up tree lines shown as evidence.
const MAX_TREE_LINES: usize = 80;

/// check_host() for one address of one of the domain's MX hosts.
#[derive(Debug, Clone)]
pub struct MxCheck {
    pub host: String,
    pub ip: IpAddr,
    pub outcome: Outcome,
}

/// What the evaluation-level rules judge.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The audit walk ([`Evaluator::walk`]) of each published record.
    pub walks: Vec<(String, Outcome)>,
    /// check_host() for the MX hosts' addresses; Err when the MX set is
    /// unknown.
    pub mx_checks: Result<Vec<MxCheck>, String>,
    /// MX hosts whose addresses could not be read.
    pub mx_unresolved: Vec<String>,
}

/// Walks each published record of `domain` (at most [`MAX_WALKED_RECORDS`]).
pub async fn walk_records<N: Network, P: Future<Output = eval::Seeds> + Clone>(
    ev: &Evaluator<'_, '_, N, P>,
    domain: &str,
    txt: &Result<DnsAnswer, DnsError>,
) -> Vec<(String, Outcome)> {
    let records = match txt {
        Ok(a) if a.is_definite() => spf_records(a),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for r in records.into_iter().take(MAX_WALKED_RECORDS) {
        let o = ev.walk(domain, Some(&r)).await;
        out.push((r, o));
    }
    out
}

/// check_host() for each address of the domain's MX hosts, at once. The
/// MX look-up's answers are given to the evaluator, never asked again.
pub async fn check_mx_hosts<N: Network, P: Future<Output = eval::Seeds> + Clone>(
    ev: &Evaluator<'_, '_, N, P>,
    domain: &str,
    mx: &MxLookup,
) -> (Result<Vec<MxCheck>, String>, Vec<String>) {
    match &mx.answer {
        Err(e) => {
            return (
                Err(format!(
                    "the MX records of {domain} could not be read ({e})"
                )),
                Vec::new(),
            )
        }
        Ok(a) if !a.is_definite() => {
            return (
                Err(format!(
                    "the MX records of {domain} could not be read (the resolver answered {})",
                    a.rcode_text()
                )),
                Vec::new(),
            )
        }
        Ok(a) => ev.seed(domain, RecordType::MX, Ok(a.clone())),
    }
    let mut targets = Vec::new();
    let mut unresolved = Vec::new();
    for h in &mx.hosts {
        ev.seed(&h.host, RecordType::A, h.a.clone());
        ev.seed(&h.host, RecordType::AAAA, h.aaaa.clone());
        let failed = [&h.a, &h.aaaa]
            .iter()
            .any(|r| !matches!(r, Ok(a) if a.is_definite()));
        if failed {
            unresolved.push(h.host.clone());
        }
        for ip in h.addresses() {
            if targets.len() < MAX_MX_ADDRESSES {
                targets.push((h.host.clone(), ip));
            }
        }
    }
    let checks = targets.into_iter().map(|(host, ip)| async move {
        let id = Identity {
            ip,
            sender: format!("postmaster@{domain}"),
            helo: host.clone(),
        };
        let outcome = ev.check_host(&id, domain).await;
        MxCheck { host, ip, outcome }
    });
    (Ok(join_all(checks).await), unresolved)
}

fn tree_evidence(o: &Outcome) -> Vec<Evidence> {
    let lines = o.tree.lines();
    let n = lines.len();
    let mut ev: Vec<Evidence> = lines
        .into_iter()
        .take(MAX_TREE_LINES)
        .map(|text| Evidence::Note { text })
        .collect();
    if n > MAX_TREE_LINES {
        ev.push(Evidence::Note {
            text: format!("… {} more lines", n - MAX_TREE_LINES),
        });
    }
    ev
}

fn answers_evidence(o: &Outcome) -> Vec<Evidence> {
    o.answers.iter().map(|a| a.evidence()).collect()
}

/// Estimated size of the DNS message carrying `answer` (header, question,
/// answer records with a compressed owner name) as a resolver sends it to a
/// receiver that asks without EDNS: DNSSEC signatures are not counted.
pub fn answer_size(answer: &DnsAnswer) -> usize {
    let question = answer.qname.len() + 2 + 4;
    let records: usize = answer
        .records
        .iter()
        .filter(|r| !matches!(&r.data, RrData::Other { rtype, .. } if rtype == "RRSIG"))
        .map(|r| {
            let rdata = match &r.data {
                RrData::Txt(parts) => parts.iter().map(|p| p.len() + 1).sum(),
                other => other.to_string().len() + 2,
            };
            2 + 10 + rdata
        })
        .sum();
    12 + question + records
}

/// The evaluation-level rules: spf.syntax, spf.lookup_limit,
/// spf.void_lookups, spf.softfail, spf.ptr, spf.size, spf.mx_not_authorized.
pub fn judge_evaluation(
    domain: &str,
    txt: &Result<DnsAnswer, DnsError>,
    ev: &Evaluation,
) -> Vec<Finding> {
    let rules = [
        &SPF_SYNTAX,
        &SPF_LOOKUP_LIMIT,
        &SPF_VOID_LOOKUPS,
        &SPF_SOFTFAIL,
        &SPF_PTR,
        &SPF_SIZE,
        &SPF_MX_NOT_AUTHORIZED,
    ];
    let answer = match txt {
        Ok(a) if a.is_definite() => a,
        Ok(a) => {
            let why = format!("resolver answered {}", a.rcode_text());
            return rules
                .into_iter()
                .map(|r| lookup_unknown(r, domain, &why).with_evidence(a.evidence()))
                .collect();
        }
        Err(e) => {
            return rules
                .into_iter()
                .map(|r| lookup_unknown(r, domain, &e.to_string()))
                .collect();
        }
    };
    if ev.walks.is_empty() {
        return rules
            .into_iter()
            .map(|r| {
                r.finding(
                    Status::Info,
                    "There is no SPF record to judge (see spf.missing).",
                )
            })
            .collect();
    }
    vec![
        judge_syntax(domain, ev),
        judge_lookup_limit(domain, ev),
        judge_void(domain, ev),
        judge_softfail(domain, ev),
        judge_ptr(domain, ev),
        judge_size(domain, answer),
        judge_mx(domain, ev),
    ]
}

fn incomplete(ev: &Evaluation) -> Option<String> {
    let errs: Vec<&str> = ev
        .walks
        .iter()
        .flat_map(|(_, o)| o.temp_errors.iter().map(String::as_str))
        .collect();
    (!errs.is_empty()).then(|| errs.join("; "))
}

fn unknown_incomplete(rule: &'static Rule, why: &str, ev: &Evaluation) -> Finding {
    let mut f = rule.finding(
        Status::Unknown,
        format!(
            "Some look-ups of the SPF evaluation could not be made ({why}), so this cannot be \
             decided. Run the audit again, or use another resolver."
        ),
    );
    if let Some((_, o)) = ev.walks.first() {
        f = f.with_evidences(tree_evidence(o));
    }
    f
}

fn judge_syntax(domain: &str, ev: &Evaluation) -> Finding {
    let mut lines = Vec::new();
    let mut evidence = Vec::new();
    let mut seen = Vec::new();
    for (_, o) in &ev.walks {
        for p in &o.syntax_errors {
            let key = (p.domain.clone(), p.record.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            lines.push(format!(
                "the record of {} has a syntax error {}",
                p.domain, p.error
            ));
            evidence.push(Evidence::Note {
                text: format!("{}: \"{}\"", p.domain, p.record.escape_debug()),
            });
            evidence.push(Evidence::Note {
                text: format!(
                    "{}^ {}",
                    " ".repeat(p.domain.len() + 3 + p.error.pos),
                    p.error.message
                ),
            });
        }
        for p in &o.problems {
            if !lines.contains(p) {
                lines.push(p.clone());
            }
        }
    }
    if !lines.is_empty() {
        for (_, o) in &ev.walks {
            evidence.extend(tree_evidence(o));
        }
        return SPF_SYNTAX
            .finding(
                Status::Fail,
                format!(
                    "Receivers cannot evaluate the SPF policy of {domain}: {}. RFC 7208 makes \
                     that a permerror, which most receivers treat like having no SPF at all.",
                    lines.join("; ")
                ),
            )
            .with_evidences(evidence)
            .with_remediation(format!(
                "Correct the term shown (RFC 7208 §12 has the grammar) and remove include:/redirect= \
                 targets that publish no SPF record. A valid record looks like\n\
                 {domain}. TXT \"v=spf1 mx ip4:192.0.2.0/24 include:_spf.example.net -all\""
            ));
    }
    if let Some(why) = incomplete(ev) {
        return unknown_incomplete(&SPF_SYNTAX, &why, ev);
    }
    let records: usize = ev.walks.iter().map(|(_, o)| o.answers.len()).sum();
    let mut f = SPF_SYNTAX.finding(
        Status::Pass,
        if records > 0 {
            format!(
                "The SPF record of {domain} and the {records} record(s) it includes or redirects \
                 to are valid RFC 7208."
            )
        } else {
            format!("The SPF record of {domain} is valid RFC 7208.")
        },
    );
    for (_, o) in &ev.walks {
        f = f.with_evidences(answers_evidence(o));
    }
    f
}

fn judge_lookup_limit(domain: &str, ev: &Evaluation) -> Finding {
    let (record, worst) = ev
        .walks
        .iter()
        .max_by_key(|(_, o)| o.lookups)
        .map(|(r, o)| (r, o))
        .expect("walks is not empty");
    let n = worst.lookups;
    let mut evidence = tree_evidence(worst);
    evidence.extend(answers_evidence(worst));
    if n > eval::MAX_DNS_TERMS {
        return SPF_LOOKUP_LIMIT
            .finding(
                Status::Fail,
                format!(
                    "Evaluating \"{record}\" for a server it does not list takes at least {n} \
                     DNS-querying terms (include, a, mx, ptr, exists, redirect, counted across \
                     included records; includes past the limit are not expanded); RFC 7208 \
                     allows 10. Receivers stop at the eleventh with permerror, \
                     so forged mail is not failed and DMARC sees no SPF pass for legitimate \
                     mail authorised after the limit. The tree shows each look-up in order."
                ),
            )
            .with_evidences(evidence)
            .with_remediation(format!(
                "Bring the count to 10 or fewer: replace include: chains of providers with their \
                 ip4:/ip6: ranges where they are stable, remove includes of services you no \
                 longer use, replace a/mx with ip4:/ip6:, drop ptr, or send from a subdomain \
                 with its own record, e.g.\n\
                 {domain}. TXT \"v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all\""
            ));
    }
    if let Some(why) = incomplete(ev) {
        return unknown_incomplete(&SPF_LOOKUP_LIMIT, &why, ev);
    }
    SPF_LOOKUP_LIMIT
        .finding(
            Status::Pass,
            format!(
                "Evaluating the SPF record of {domain} takes {n} DNS-querying term(s) at most \
                 (limit 10)."
            ),
        )
        .with_evidences(evidence)
}

fn judge_void(domain: &str, ev: &Evaluation) -> Finding {
    let (_, worst) = ev
        .walks
        .iter()
        .max_by_key(|(_, o)| o.void_lookups)
        .expect("walks is not empty");
    let n = worst.void_lookups;
    if n > eval::MAX_VOID_LOOKUPS {
        let mut evidence = tree_evidence(worst);
        evidence.extend(answers_evidence(worst));
        return SPF_VOID_LOOKUPS
            .finding(
                Status::Fail,
                format!(
                    "{n} look-ups of the SPF evaluation of {domain} return no records (marked \
                     \"(void)\" in the tree); RFC 7208 allows 2, so receivers return permerror."
                ),
            )
            .with_evidences(evidence)
            .with_remediation(
                "Remove the terms whose names no longer exist or have no address (a:, mx:, \
                 exists: targets, included domains), or publish the missing records.",
            );
    }
    if let Some(why) = incomplete(ev) {
        return unknown_incomplete(&SPF_VOID_LOOKUPS, &why, ev);
    }
    SPF_VOID_LOOKUPS
        .finding(
            Status::Pass,
            format!("{n} void look-up(s) in the SPF evaluation of {domain} (limit 2)."),
        )
        .with_evidences(tree_evidence(worst))
}

fn judge_softfail(domain: &str, ev: &Evaluation) -> Finding {
    // With several records, the one ending in ~all is the one to report.
    let (record, o) = ev
        .walks
        .iter()
        .find(|(_, o)| o.result == SpfResult::SoftFail)
        .unwrap_or(&ev.walks[0]);
    match o.result {
        SpfResult::SoftFail => SPF_SOFTFAIL
            .finding(
                Status::Info,
                format!(
                    "The SPF policy of {domain} ends in ~all (softfail): mail from servers it does \
                     not list is accepted but marked. With DMARC at p=quarantine or p=reject that \
                     is enough; on its own, -all lets receivers reject forged mail."
                ),
            )
            .with_evidences(tree_evidence(o))
            .with_remediation(format!(
                "Once every legitimate sender is listed, end the record with -all:\n\
                 {domain}. TXT \"{}\"",
                record.replace("~all", "-all")
            )),
        SpfResult::Fail => SPF_SOFTFAIL
            .finding(
                Status::Pass,
                format!("The SPF policy of {domain} ends in -all (fail)."),
            )
            .with_evidences(tree_evidence(o)),
        SpfResult::TempError => unknown_incomplete(&SPF_SOFTFAIL, &o.reason, ev),
        other => SPF_SOFTFAIL
            .finding(
                Status::Info,
                format!(
                    "Mail from servers the SPF policy of {domain} does not list gets {other}, \
                     not softfail; see spf.all_permissive and spf.syntax."
                ),
            )
            .with_evidences(tree_evidence(o)),
    }
}

fn judge_ptr(domain: &str, ev: &Evaluation) -> Finding {
    let mut terms: Vec<String> = Vec::new();
    for (_, o) in &ev.walks {
        for t in &o.ptr_terms {
            if !terms.contains(t) {
                terms.push(t.clone());
            }
        }
    }
    if !terms.is_empty() {
        return SPF_PTR
            .finding(
                Status::Fail,
                format!(
                    "The SPF evaluation of {domain} uses the ptr mechanism ({}). RFC 7208 §5.5 \
                     says it SHOULD NOT be used: every check costs receivers reverse and forward \
                     look-ups, it fails when reverse DNS is slow or missing, and some receivers \
                     skip it.",
                    terms.join(", ")
                ),
            )
            .with_evidences(terms.iter().map(|t| Evidence::Note { text: t.clone() }))
            .with_remediation(format!(
                "Replace ptr with the servers' addresses or names, e.g.\n\
                 {domain}. TXT \"v=spf1 ip4:192.0.2.25 a:mail.{domain} -all\""
            ));
    }
    if let Some(why) = incomplete(ev) {
        return unknown_incomplete(&SPF_PTR, &why, ev);
    }
    SPF_PTR.finding(
        Status::Pass,
        format!("The SPF evaluation of {domain} does not use ptr."),
    )
}

fn judge_size(domain: &str, answer: &DnsAnswer) -> Finding {
    let size = answer_size(answer);
    let longest = answer
        .of_type()
        .filter(|d| d.txt_joined().is_some_and(|t| is_spf(&t)))
        .filter_map(|d| match d {
            RrData::Txt(parts) => parts.iter().map(|p| p.len()).max(),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let note = Evidence::Note {
        text: format!(
            "TXT answer for {domain}: about {size} bytes; longest SPF character-string: \
             {longest} bytes"
        ),
    };
    if size > 512 {
        return SPF_SIZE
            .finding(
                Status::Fail,
                format!(
                    "The TXT answer for {domain} is about {size} bytes, more than the 512 bytes \
                     of a classic DNS UDP message. Receivers must retry over TCP or rely on EDNS; \
                     some do not, and then get temperror or no SPF at all."
                ),
            )
            .with_evidence(answer.evidence())
            .with_evidence(note)
            .with_remediation(format!(
                "Shorten the SPF record (move senders to an include: on a subdomain, use CIDR \
                 ranges) and remove TXT records at {domain} that are no longer needed \
                 (old verification tokens)."
            ));
    }
    if longest >= 250 {
        return SPF_SIZE
            .finding(
                Status::Warn,
                format!(
                    "A character-string of the SPF record of {domain} is {longest} bytes, at the \
                     255-byte maximum of one string: any addition needs the record split into \
                     several quoted strings, which some DNS tools and panels get wrong."
                ),
            )
            .with_severity(Severity::Low)
            .with_evidence(answer.evidence())
            .with_evidence(note)
            .with_remediation(format!(
                "Publish the record as several strings, which receivers join without spaces:\n\
                 {domain}. TXT \"v=spf1 ip4:192.0.2.0/24 \" \"include:_spf.example.net -all\""
            ));
    }
    SPF_SIZE
        .finding(
            Status::Pass,
            format!("The TXT answer for {domain} is about {size} bytes (at most 512 advised)."),
        )
        .with_evidence(note)
}

fn judge_mx(domain: &str, ev: &Evaluation) -> Finding {
    let checks = match &ev.mx_checks {
        Err(why) => {
            return SPF_MX_NOT_AUTHORIZED.finding(
                Status::Unknown,
                format!("The MX hosts could not be checked against SPF: {why}."),
            )
        }
        Ok(c) => c,
    };
    if checks.is_empty() {
        if !ev.mx_unresolved.is_empty() {
            return SPF_MX_NOT_AUTHORIZED.finding(
                Status::Unknown,
                format!(
                    "The addresses of the MX hosts ({}) could not be read, so they cannot be \
                     checked against SPF.",
                    ev.mx_unresolved.join(", ")
                ),
            );
        }
        return SPF_MX_NOT_AUTHORIZED.finding(
            Status::Info,
            format!("{domain} has no MX host with an address to check against its SPF policy."),
        );
    }
    let line = |c: &MxCheck| Evidence::Note {
        text: format!(
            "check_host({}, {domain}) for MX {}: {} — {}",
            c.ip, c.host, c.outcome.result, c.outcome.reason
        ),
    };
    let evidence: Vec<Evidence> = checks.iter().map(line).collect();
    let bad: Vec<&MxCheck> = checks
        .iter()
        .filter(|c| !matches!(c.outcome.result, SpfResult::Pass | SpfResult::TempError))
        .collect();
    let sends_none =
        ev.walks.len() == 1 && ev.walks[0].0.trim().eq_ignore_ascii_case("v=spf1 -all");
    if !bad.is_empty() && sends_none {
        return SPF_MX_NOT_AUTHORIZED
            .finding(
                Status::Info,
                format!(
                    "The SPF record of {domain} (v=spf1 -all) says it sends no mail, so its MX \
                     hosts are not authorised to send as {domain}, as intended."
                ),
            )
            .with_evidences(evidence);
    }
    if !bad.is_empty() {
        let list: Vec<String> = bad
            .iter()
            .map(|c| format!("{} ({}) gets {}", c.host, c.ip, c.outcome.result))
            .collect();
        return SPF_MX_NOT_AUTHORIZED
            .finding(
                Status::Fail,
                format!(
                    "The SPF policy of {domain} does not authorise its own MX hosts: {}. If these \
                     servers also send mail for {domain} (bounces, forwards, outbound relay), \
                     receivers treat it as unauthorised.",
                    list.join("; ")
                ),
            )
            .with_evidences(evidence)
            .with_remediation(format!(
                "If the MX hosts send mail, authorise them, e.g. with the mx mechanism:\n\
                 {domain}. TXT \"v=spf1 mx -all\"\n\
                 (keep the other mechanisms the record needs before -all)."
            ));
    }
    let temp: Vec<&MxCheck> = checks
        .iter()
        .filter(|c| c.outcome.result == SpfResult::TempError)
        .collect();
    if !temp.is_empty() || !ev.mx_unresolved.is_empty() {
        return SPF_MX_NOT_AUTHORIZED
            .finding(
                Status::Unknown,
                format!(
                    "Some MX addresses could not be checked against the SPF policy of {domain}: \
                     look-ups failed (temperror) or addresses could not be read."
                ),
            )
            .with_evidences(evidence);
    }
    SPF_MX_NOT_AUTHORIZED
        .finding(
            Status::Pass,
            format!(
                "All {} MX address(es) of {domain} pass its SPF policy.",
                checks.len()
            ),
        )
        .with_evidences(evidence)
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

    // ---- evaluation rules ------------------------------------------------

    use crate::net::NetError;
    use futures::executor::block_on;

    fn evaluate(net: &ScriptedNet, domain: &str) -> Vec<Finding> {
        let resolver = crate::dns::Resolver::new(net, "https://doh.test/dns-query");
        let ev = Evaluator::new(&resolver);
        block_on(async {
            let txt = ev.query(domain, RecordType::TXT).await;
            let walks = walk_records(&ev, domain, &txt).await;
            let mx = crate::dns::mx::lookup(&resolver, domain).await;
            let (mx_checks, mx_unresolved) = check_mx_hosts(&ev, domain, &mx).await;
            judge_evaluation(
                domain,
                &txt,
                &Evaluation {
                    walks,
                    mx_checks,
                    mx_unresolved,
                },
            )
        })
    }

    fn notes(f: &Finding) -> String {
        f.evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Note { text } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn base() -> ScriptedNet {
        ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "198.51.100.25")
    }

    #[test]
    fn syntax_errors_are_located() {
        let fs = evaluate(
            &base().txt("example.org", "v=spf1 mx ip4:192.0.2.1/33 -all"),
            "example.org",
        );
        let f = get(&fs, "spf.syntax");
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.severity, Severity::High);
        assert!(f.detail.contains("ip4:192.0.2.1/33"), "{}", f.detail);
        assert!(notes(f).contains("^ invalid CIDR length"), "{}", notes(f));
        assert!(!f.remediation.is_empty());
    }

    #[test]
    fn syntax_errors_in_included_records_and_missing_includes() {
        let net = base()
            .txt(
                "example.org",
                "v=spf1 mx include:_spf.example.net include:gone.example.net -all",
            )
            .txt("_spf.example.net", "v=spf1 ip4:192.0.2.0/24 foo:bar -all");
        let fs = evaluate(&net, "example.org");
        let f = get(&fs, "spf.syntax");
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("_spf.example.net"), "{}", f.detail);
        assert!(
            f.detail.contains("gone.example.net has no SPF record"),
            "{}",
            f.detail
        );
    }

    #[test]
    fn valid_records_pass_syntax() {
        let net = base()
            .txt("example.org", "v=spf1 mx include:_spf.example.net -all")
            .txt("_spf.example.net", "v=spf1 ip4:192.0.2.0/24 ~all");
        let fs = evaluate(&net, "example.org");
        for id in [
            "spf.syntax",
            "spf.lookup_limit",
            "spf.void_lookups",
            "spf.softfail",
            "spf.ptr",
            "spf.size",
            "spf.mx_not_authorized",
        ] {
            assert_eq!(
                get(&fs, id).status,
                Status::Pass,
                "{id}: {:?}",
                get(&fs, id)
            );
        }
        let limit = get(&fs, "spf.lookup_limit");
        assert!(limit.detail.contains("takes 2"), "{}", limit.detail);
        assert!(
            notes(limit).contains("include:_spf.example.net  [look-up 2]"),
            "{}",
            notes(limit)
        );
    }

    #[test]
    fn lookup_limit_shows_the_tree() {
        let includes: Vec<String> = (1..=6)
            .map(|i| format!("include:s{i}.example.net"))
            .collect();
        let mut net = base().txt(
            "example.org",
            &format!("v=spf1 {} -all", includes.join(" ")),
        );
        for i in 1..=6 {
            net = net.txt(&format!("s{i}.example.net"), "v=spf1 a:x.example.net -all");
        }
        net = net.a("x.example.net", "192.0.2.9");
        let fs = evaluate(&net, "example.org");
        let f = get(&fs, "spf.lookup_limit");
        assert_eq!(f.status, Status::Fail, "{f:?}");
        assert!(f.detail.contains("takes at least 11"), "{}", f.detail);
        let tree = notes(f);
        assert!(tree.contains("[look-up 11]"), "{tree}");
        assert!(tree.contains("s6.example.net"), "{tree}");
    }

    #[test]
    fn void_lookups() {
        let three =
            "v=spf1 a:n1.example.org a:n2.example.org mx:n3.example.org ip4:198.51.100.25 -all";
        let fs = evaluate(&base().txt("example.org", three), "example.org");
        let f = get(&fs, "spf.void_lookups");
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.severity, Severity::Medium);
        assert!(notes(f).contains("(void)"));
        let two = "v=spf1 a:n1.example.org a:n2.example.org ip4:198.51.100.25 -all";
        let fs = evaluate(&base().txt("example.org", two), "example.org");
        assert_eq!(get(&fs, "spf.void_lookups").status, Status::Pass);
    }

    #[test]
    fn ptr_is_flagged() {
        let fs = evaluate(
            &base().txt("example.org", "v=spf1 ptr mx -all"),
            "example.org",
        );
        let f = get(&fs, "spf.ptr");
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.severity, Severity::Low);
        assert!(notes(f).contains("example.org: ptr"));
    }

    #[test]
    fn softfail_is_info() {
        let fs = evaluate(&base().txt("example.org", "v=spf1 mx ~all"), "example.org");
        let f = get(&fs, "spf.softfail");
        assert_eq!(f.status, Status::Info);
        assert!(f.remediation.contains("v=spf1 mx -all"));
        let fs = evaluate(
            &base()
                .txt("example.org", "v=spf1 redirect=_spf.example.org")
                .txt("_spf.example.org", "v=spf1 mx ~all"),
            "example.org",
        );
        assert_eq!(get(&fs, "spf.softfail").status, Status::Info);
    }

    #[test]
    fn size_limits() {
        let mut net = base().txt("example.org", "v=spf1 mx -all");
        for i in 0..5 {
            net = net.txt(
                "example.org",
                &format!("verification-token-{i}={}", "x".repeat(90)),
            );
        }
        let fs = evaluate(&net, "example.org");
        let f = get(&fs, "spf.size");
        assert_eq!(f.status, Status::Fail, "{f:?}");
        assert_eq!(f.severity, Severity::Low);
        let long = format!("v=spf1 {} -all", "ip4:198.51.100.1 ".repeat(20).trim_end());
        let fs = evaluate(&base().txt("example.org", &long), "example.org");
        assert_eq!(get(&fs, "spf.size").status, Status::Warn);
        let fs = evaluate(&base().txt("example.org", "v=spf1 mx -all"), "example.org");
        assert_eq!(get(&fs, "spf.size").status, Status::Pass);
    }

    #[test]
    fn mx_not_authorized() {
        let fs = evaluate(
            &base().txt("example.org", "v=spf1 ip4:203.0.113.1 -all"),
            "example.org",
        );
        let f = get(&fs, "spf.mx_not_authorized");
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.detail
                .contains("mail.example.org (198.51.100.25) gets fail"),
            "{}",
            f.detail
        );
        assert!(notes(f).contains("check_host(198.51.100.25, example.org)"));
        let fs = evaluate(
            &base().txt("example.org", "v=spf1 a:mail.example.org -all"),
            "example.org",
        );
        assert_eq!(get(&fs, "spf.mx_not_authorized").status, Status::Pass);
        let fs = evaluate(&base().txt("example.org", "v=spf1 -all"), "example.org");
        assert_eq!(get(&fs, "spf.mx_not_authorized").status, Status::Info);
    }

    #[test]
    fn failed_lookups_are_unknown_never_pass() {
        let net = base()
            .txt("example.org", "v=spf1 include:_spf.example.net -all")
            .error("_spf.example.net", RecordType::TXT, NetError::Timeout(5000));
        let fs = evaluate(&net, "example.org");
        for id in [
            "spf.syntax",
            "spf.lookup_limit",
            "spf.void_lookups",
            "spf.ptr",
        ] {
            assert_eq!(get(&fs, id).status, Status::Unknown, "{id}");
            assert!(get(&fs, id).detail.contains("could not"), "{id}");
        }
        let net = ScriptedNet::new()
            .txt("example.org", "v=spf1 mx -all")
            .error("example.org", RecordType::MX, NetError::Timeout(5000));
        let fs = evaluate(&net, "example.org");
        assert_eq!(get(&fs, "spf.mx_not_authorized").status, Status::Unknown);
        let net = ScriptedNet::new().error("example.org", RecordType::TXT, NetError::Timeout(5000));
        let fs = evaluate(&net, "example.org");
        assert_eq!(fs.len(), 7);
        assert!(fs.iter().all(|f| f.status == Status::Unknown));
    }

    #[test]
    fn no_record_is_info() {
        let fs = evaluate(&base().txt("example.org", "hello"), "example.org");
        assert_eq!(fs.len(), 7);
        assert!(fs.iter().all(|f| f.status == Status::Info));
    }

    #[test]
    fn check_host_evaluates_and_records_the_tree() {
        let net = base()
            .txt(
                "example.org",
                "v=spf1 include:_spf.%{d} exists:%{i}.bl.example.org -all exp=why.%{d}",
            )
            .txt("_spf.example.org", "v=spf1 ip4:192.0.2.0/24 -all")
            .a("203.0.113.7.bl.example.org", "127.0.0.2")
            .txt("why.example.org", "%{i} is not allowed to send as %{d}");
        let resolver = crate::dns::Resolver::new(&net, "https://doh.test/dns-query");
        let run = |ip: &str| {
            block_on(check_host(
                &resolver,
                ip.parse().unwrap(),
                "example.org",
                "alice@example.org",
                "mx.example.net",
            ))
        };
        assert_eq!(run("192.0.2.55").result, SpfResult::Pass);
        assert_eq!(run("203.0.113.7").result, SpfResult::Pass);
        let o = run("198.51.100.1");
        assert_eq!(o.result, SpfResult::Fail);
        assert_eq!(
            o.explanation.as_deref(),
            Some("198.51.100.1 is not allowed to send as example.org")
        );
        assert_eq!(o.lookups, 2);
        assert_eq!(o.tree.total_cost(), 2);
        let lines = o.tree.lines();
        assert!(
            lines[1].contains("include:_spf.%{d}  [look-up 1]"),
            "{lines:?}"
        );
        assert!(lines[2].starts_with("    _spf.example.org:"), "{lines:?}");
    }
}
