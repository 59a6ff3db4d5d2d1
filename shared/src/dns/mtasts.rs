//! MTA-STS (RFC 8461) and the rules `mtasts.record`, `mtasts.policy`,
//! `mtasts.mode` and `mtasts.mx_coverage`.
//!
//! API: [`lookup`] asks `_mta-sts.<domain>` TXT and, when a record that
//! begins with `v=STSv1` is published (even a malformed one, or several),
//! GETs the policy at `https://mta-sts.<domain>/.well-known/mta-sts.txt`
//! through the host's [`Network`] (no redirects followed, at most
//! [`POLICY_MAX_BODY`] bytes, [`POLICY_TIMEOUT_MS`]). Without a record no
//! policy is fetched: senders do not fetch one either (RFC 8461 §3.3), and
//! the audit saves the subrequest. Two round trips, one after the other.
//! [`judge`] decides the four rules (pure); it takes the domain's
//! [`MxLookup`] for the coverage rule. [`parse_record`], [`parse_policy`]
//! and [`mx_matches`] are pure and accept any input.
//!
//! Network failures of the fetch: a TLS failure is a `fail` (senders
//! refuse a policy served with an invalid certificate), an oversized body
//! too; timeouts and connection failures are `unknown`, since they may be
//! this vantage point's.

use crate::dns::mx::{mx_set, MxLookup};
use crate::dns::{DnsAnswer, DnsError, RecordType, Resolver};
use crate::net::{HttpRequest, HttpResponse, NetError, Network};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

pub static MTASTS_RECORD: Rule = Rule {
    id: "mtasts.record",
    area: Area::Transport,
    title: "MTA-STS record",
    severity: Severity::Info,
    description: "No _mta-sts TXT record (info: senders deliver with opportunistic TLS, which an \
        attacker on the path can strip); a malformed record or several records (low), which make \
        senders ignore the domain's MTA-STS policy.",
    refs: &["RFC 8461 §3.1"],
};

pub static MTASTS_POLICY: Rule = Rule {
    id: "mtasts.policy",
    area: Area::Transport,
    title: "MTA-STS policy",
    severity: Severity::High,
    description: "The policy at `https://mta-sts.<domain>/.well-known/mta-sts.txt` is served with \
        an invalid TLS certificate, through a redirect, with an HTTP status other than 200, a \
        media type other than text/plain, more than 64 KiB, or a syntax error (version, mode, \
        max_age, mx). Unknown when it could not be fetched from here.",
    refs: &["RFC 8461 §3.2", "RFC 8461 §3.3"],
};

pub static MTASTS_MODE: Rule = Rule {
    id: "mtasts.mode",
    area: Area::Transport,
    title: "MTA-STS mode and max_age",
    severity: Severity::Low,
    description: "The policy is in mode testing or none (info: senders report failures but still \
        deliver), or its max_age is under one day (low: senders forget the policy quickly, so an \
        attacker who blocks the policy fetch soon defeats it).",
    refs: &["RFC 8461 §3.2"],
};

pub static MTASTS_MX_COVERAGE: Rule = Rule {
    id: "mtasts.mx_coverage",
    area: Area::Transport,
    title: "MTA-STS covers every MX",
    severity: Severity::High,
    description: "An MX host of the domain matches no mx: line of the MTA-STS policy (a wildcard \
        *.example.org matches exactly one leftmost label), so senders that enforce the policy \
        will not deliver to it (medium while the mode is testing).",
    refs: &["RFC 8461 §4.1"],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &MTASTS_RECORD,
    &MTASTS_POLICY,
    &MTASTS_MODE,
    &MTASTS_MX_COVERAGE,
];

/// Largest policy accepted (RFC 8461 §3.3 suggests 64 KiB to senders).
pub const POLICY_MAX_BODY: usize = 64 * 1024;
/// Deadline of the policy fetch.
pub const POLICY_TIMEOUT_MS: u32 = 10_000;
/// Largest max_age a policy may state (RFC 8461 §3.2: about one year).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;
/// Below this, `mtasts.mode` fails (one day).
pub const MAX_AGE_MIN: u64 = 86_400;

/// The policy fetch and its outcome.
#[derive(Debug, Clone)]
pub struct Fetch {
    pub url: String,
    pub result: Result<HttpResponse, NetError>,
}

/// Everything [`lookup`] learnt.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub domain: String,
    /// `_mta-sts.<domain>` TXT.
    pub txt: Result<DnsAnswer, DnsError>,
    /// `None` when no record beginning with `v=STSv1` exists.
    pub fetch: Option<Fetch>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Testing,
    None,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    pub max_age: u64,
    /// `mx:` patterns as written (lower-cased).
    pub mx: Vec<String>,
}

/// Whether a valid policy in `enforce` mode was served (senders then
/// refuse MX hosts whose certificate does not name them).
pub fn enforced(l: &Lookup) -> bool {
    let Some(Fetch {
        result: Ok(resp), ..
    }) = &l.fetch
    else {
        return false;
    };
    resp.status == 200
        && std::str::from_utf8(&resp.body)
            .ok()
            .and_then(|t| parse_policy(t).ok())
            .is_some_and(|p| p.mode == Mode::Enforce)
}

/// The policy's URL for `domain`.
pub fn policy_url(domain: &str) -> String {
    format!("https://mta-sts.{domain}/.well-known/mta-sts.txt")
}

/// TXT strings senders keep: those beginning with `v=STSv1`.
pub fn sts_records(a: &DnsAnswer) -> Vec<String> {
    a.of_type()
        .filter_map(|d| d.txt_joined())
        .filter(|t| t.starts_with("v=STSv1"))
        .collect()
}

/// Looks up the record and, when one is published, fetches the policy.
pub async fn lookup<N: Network>(resolver: &Resolver<'_, N>, net: &N, domain: &str) -> Lookup {
    let txt = resolver
        .query(&format!("_mta-sts.{domain}"), RecordType::TXT)
        .await;
    let published = txt
        .as_ref()
        .is_ok_and(|a| a.is_definite() && !sts_records(a).is_empty());
    let fetch = if published {
        let url = policy_url(domain);
        let mut req = HttpRequest::get(url.clone()).header("accept", "text/plain");
        req.max_body = POLICY_MAX_BODY;
        req.timeout_ms = POLICY_TIMEOUT_MS;
        Some(Fetch {
            url,
            result: net.http(req).await,
        })
    } else {
        None
    };
    Lookup {
        domain: domain.to_string(),
        txt,
        fetch,
    }
}

fn wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_ext_name(n: &str) -> bool {
    let b = n.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

fn is_ext_value(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|c| (0x21..=0x7e).contains(&c) && c != b';' && c != b'=')
}

/// Reads a `_mta-sts` record (RFC 8461 §3.1): `v=STSv1`, then `id=` with
/// 1–32 letters and digits, extensions allowed. Returns the id.
pub fn parse_record(text: &str) -> Result<String, Vec<String>> {
    let mut errors = Vec::new();
    let mut parts = text.split(';');
    let first = parts.next().unwrap_or("");
    if first.trim_end_matches(wsp) != "v=STSv1" {
        errors.push(format!(
            "it must begin with exactly v=STSv1 followed by `;`, not `{}`",
            first.trim()
        ));
    }
    let fields: Vec<&str> = parts.map(|p| p.trim_matches(wsp)).collect();
    let mut id = None;
    for (i, f) in fields.iter().enumerate() {
        if f.is_empty() {
            if i + 1 != fields.len() {
                errors.push("it has an empty field (`;;`)".into());
            }
            continue;
        }
        let Some((name, value)) = f.split_once('=') else {
            errors.push(format!("`{f}` is not a name=value field"));
            continue;
        };
        if name == "id" {
            if id.is_some() {
                errors.push("id= appears more than once".into());
            } else if value.is_empty()
                || value.len() > 32
                || !value.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                errors.push(format!(
                    "id={value} is not 1 to 32 letters and digits (no dashes, dots or spaces)"
                ));
                id = Some(String::new());
            } else {
                id = Some(value.to_string());
            }
        } else if !is_ext_name(name) || !is_ext_value(value) {
            errors.push(format!("`{f}` is not a valid field"));
        }
    }
    if id.is_none() {
        errors.push("it has no id= field".into());
    }
    match id {
        Some(id) if errors.is_empty() => Ok(id),
        _ => Err(errors),
    }
}

fn is_mx_pattern(p: &str) -> bool {
    let host = p.strip_prefix("*.").unwrap_or(p);
    host.len() <= 253
        && host.split('.').count() >= 2
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Reads a policy (RFC 8461 §3.2): `key: value` lines ended by LF or
/// CRLF; `version: STSv1`, `mode`, `max_age` required once each; `mx`
/// lines (at least one unless the mode is none); other keys ignored. Keys
/// and keywords are case-sensitive, as in the RFC's grammar. Blank lines
/// are tolerated.
pub fn parse_policy(text: &str) -> Result<Policy, Vec<String>> {
    let mut errors = Vec::new();
    let mut version = None;
    let mut mode = None;
    let mut max_age = None;
    let mut mx = Vec::new();
    let mut bad_mx = false;
    for (i, line) in text.split('\n').enumerate() {
        let n = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            errors.push(format!("line {n} (`{line}`) is not `key: value`"));
            continue;
        };
        let value = value.trim_matches(wsp);
        if !is_ext_name(key) {
            errors.push(format!("line {n}: `{key}` is not a valid key"));
            continue;
        }
        let seen = match key {
            "version" => version.is_some(),
            "mode" => mode.is_some(),
            "max_age" => max_age.is_some(),
            _ => false,
        };
        if seen {
            errors.push(format!("line {n}: {key} appears more than once"));
            continue;
        }
        match key {
            "version" => {
                if value != "STSv1" {
                    errors.push(format!("line {n}: version must be STSv1, not `{value}`"));
                }
                version = Some(value.to_string());
            }
            "mode" => {
                mode = Some(match value {
                    "enforce" => Some(Mode::Enforce),
                    "testing" => Some(Mode::Testing),
                    "none" => Some(Mode::None),
                    _ => {
                        errors.push(format!(
                            "line {n}: mode must be enforce, testing or none, not `{value}`"
                        ));
                        None
                    }
                });
            }
            "max_age" => {
                let parsed = value
                    .parse::<u64>()
                    .ok()
                    .filter(|v| *v <= MAX_AGE_LIMIT)
                    .filter(|_| value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit()));
                if parsed.is_none() {
                    errors.push(format!(
                        "line {n}: max_age must be a number of seconds up to {MAX_AGE_LIMIT}, \
                         not `{value}`"
                    ));
                }
                max_age = Some(parsed);
            }
            "mx" => {
                let p = value.to_ascii_lowercase();
                if is_mx_pattern(&p) {
                    mx.push(p);
                } else {
                    bad_mx = true;
                    errors.push(format!(
                        "line {n}: `{value}` is not an MX host name or a `*.` wildcard pattern \
                         (no trailing dot, no other wildcards)"
                    ));
                }
            }
            // Extensions are ignored (RFC 8461 §3.2).
            _ => {}
        }
    }
    if version.is_none() {
        errors.push("there is no `version: STSv1` line".into());
    }
    if mode.is_none() {
        errors.push("there is no `mode:` line".into());
    }
    if max_age.is_none() {
        errors.push("there is no `max_age:` line".into());
    }
    let mode = mode.flatten();
    if mx.is_empty() && !bad_mx && mode != Some(Mode::None) {
        errors.push("there is no `mx:` line (needed unless the mode is none)".into());
    }
    match (mode, max_age.flatten()) {
        (Some(mode), Some(max_age)) if errors.is_empty() => Ok(Policy { mode, max_age, mx }),
        _ => Err(errors),
    }
}

/// Whether an MX host matches a policy `mx` pattern (RFC 8461 §4.1): equal
/// names, or `*.rest` matching exactly one leftmost label before `rest`.
pub fn mx_matches(pattern: &str, host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => host == pattern,
    }
}

/// What the policy fetch gave: a policy, or why not.
enum Outcome {
    Valid(Policy),
    /// Served wrongly or invalid: the text says why (a `fail`).
    Invalid(String),
    /// Could not be fetched from here.
    Unreachable(String),
}

fn fetch_evidence(f: &Fetch) -> Vec<Evidence> {
    let head = match &f.result {
        Err(e) => format!("GET {} failed: {e}", f.url),
        Ok(r) => format!(
            "GET {} -> HTTP {}, Content-Type: {}{}, {} bytes",
            f.url,
            r.status,
            r.header("content-type").unwrap_or("(none)"),
            r.header("location")
                .map(|l| format!(", Location: {l}"))
                .unwrap_or_default(),
            r.body.len()
        ),
    };
    let mut ev = vec![Evidence::Note { text: head }];
    if let Ok(r) = &f.result {
        if !r.body.is_empty() {
            let text = String::from_utf8_lossy(&r.body[..r.body.len().min(1024)]).into_owned();
            let excerpt: Vec<&str> = text.lines().take(20).collect();
            ev.push(Evidence::Note {
                text: format!("policy body:\n{}", excerpt.join("\n")),
            });
        }
    }
    ev
}

fn outcome(f: &Fetch) -> Outcome {
    let r = match &f.result {
        Err(NetError::Tls(e)) => {
            return Outcome::Invalid(format!(
                "the policy server's TLS certificate is invalid ({e}); senders refuse a policy \
                 they cannot authenticate, so MTA-STS does not protect the domain"
            ))
        }
        Err(NetError::TooLarge(n)) => {
            return Outcome::Invalid(format!(
                "the policy is larger than {n} bytes; senders discard such policies"
            ))
        }
        Err(e) => return Outcome::Unreachable(e.to_string()),
        Ok(r) => r,
    };
    if (300..400).contains(&r.status) {
        return Outcome::Invalid(format!(
            "the policy URL answers with a redirect (HTTP {}{}); senders do not follow \
             redirects (RFC 8461 §3.3)",
            r.status,
            r.header("location")
                .map(|l| format!(" to {l}"))
                .unwrap_or_default()
        ));
    }
    if r.status != 200 {
        return Outcome::Invalid(format!(
            "the policy URL answers HTTP {} instead of 200",
            r.status
        ));
    }
    let media = r.header("content-type").map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match media.as_deref() {
        Some("text/plain") => {}
        Some(other) => {
            return Outcome::Invalid(format!(
                "the policy is served as {other}, not text/plain (RFC 8461 §3.2)"
            ))
        }
        None => {
            return Outcome::Invalid(
                "the policy is served without a Content-Type; it must be text/plain".into(),
            )
        }
    }
    if r.body.len() > POLICY_MAX_BODY {
        return Outcome::Invalid(format!(
            "the policy is larger than {POLICY_MAX_BODY} bytes; senders discard such policies"
        ));
    }
    let Ok(text) = std::str::from_utf8(&r.body) else {
        return Outcome::Invalid("the policy is not UTF-8 text".into());
    };
    match parse_policy(text) {
        Ok(p) => Outcome::Valid(p),
        Err(errors) => Outcome::Invalid(format!(
            "the policy has syntax errors: {}",
            errors.join("; ")
        )),
    }
}

fn example_policy(domain: &str) -> String {
    format!(
        "version: STSv1\nmode: enforce\nmx: mail.{domain}\nmax_age: 604800\n\
         (served as text/plain at {} with a certificate valid for mta-sts.{domain})",
        policy_url(domain)
    )
}

/// The four findings: record, policy, mode, MX coverage.
pub fn judge(domain: &str, l: &Lookup, mx: &MxLookup) -> Vec<Finding> {
    let qname = format!("_mta-sts.{domain}");
    let answer = match &l.txt {
        Err(e) => return all_unknown(&format!("{qname} could not be looked up ({e})"), vec![]),
        Ok(a) if !a.is_definite() => {
            return all_unknown(
                &format!("the resolver answered {} for {qname}", a.rcode_text()),
                vec![a.evidence()],
            )
        }
        Ok(a) => a,
    };
    let txt_ev = answer.evidence();
    let records = sts_records(answer);
    let record = judge_record(domain, &qname, &records, &txt_ev);
    let Some(fetch) = &l.fetch else {
        let none = "The domain publishes no MTA-STS record, so senders do not look for a policy \
                    (see mtasts.record).";
        return vec![
            record,
            MTASTS_POLICY.finding(Status::Info, none),
            MTASTS_MODE.finding(Status::Info, none),
            MTASTS_MX_COVERAGE.finding(Status::Info, none),
        ];
    };
    let record_ok = records.len() == 1 && parse_record(&records[0]).is_ok();
    let fev = fetch_evidence(fetch);
    let policy_finding;
    let policy = match outcome(fetch) {
        Outcome::Unreachable(why) => {
            let detail = format!(
                "The MTA-STS policy at {} could not be fetched from here ({why}). Check it with \
                 `curl -v {}` from another network.",
                fetch.url, fetch.url
            );
            return vec![
                record,
                MTASTS_POLICY
                    .finding(Status::Unknown, detail.clone())
                    .with_evidences(fev.clone()),
                MTASTS_MODE
                    .finding(Status::Unknown, detail.clone())
                    .with_evidences(fev.clone()),
                MTASTS_MX_COVERAGE
                    .finding(Status::Unknown, detail)
                    .with_evidences(fev),
            ];
        }
        Outcome::Invalid(why) => {
            let finding = MTASTS_POLICY
                .finding(
                    Status::Fail,
                    format!(
                        "The MTA-STS policy of {domain} is unusable: {why}. Senders then treat \
                         the domain as having no policy."
                    ),
                )
                .with_evidences(fev.clone())
                .with_remediation(format!(
                    "Serve the policy directly (HTTP 200, no redirect) over HTTPS with a valid \
                     certificate, as text/plain, e.g.\n{}",
                    example_policy(domain)
                ));
            let info = "There is no valid MTA-STS policy to judge (see mtasts.policy).";
            return vec![
                record,
                finding,
                MTASTS_MODE.finding(Status::Info, info),
                MTASTS_MX_COVERAGE.finding(Status::Info, info),
            ];
        }
        Outcome::Valid(p) => {
            let mut detail = format!(
                "The MTA-STS policy is served correctly: mode {}, max_age {}, mx {}.",
                p.mode.as_str(),
                p.max_age,
                if p.mx.is_empty() {
                    "(none)".to_string()
                } else {
                    p.mx.join(", ")
                }
            );
            if !record_ok {
                detail.push_str(
                    " Senders ignore it until the _mta-sts record is fixed (see mtasts.record).",
                );
            }
            policy_finding = MTASTS_POLICY
                .finding(Status::Pass, detail)
                .with_evidences(fev.clone());
            p
        }
    };
    vec![
        record,
        policy_finding,
        judge_mode(domain, &policy, &fev),
        judge_coverage(domain, &policy, mx, &fev),
    ]
}

fn all_unknown(why: &str, ev: Vec<Evidence>) -> Vec<Finding> {
    let detail = format!(
        "MTA-STS could not be checked: {why}. Run the audit again or query the record from \
         another resolver."
    );
    RULES
        .iter()
        .map(|r| {
            r.finding(Status::Unknown, detail.clone())
                .with_evidences(ev.clone())
        })
        .collect()
}

fn judge_record(domain: &str, qname: &str, records: &[String], ev: &Evidence) -> Finding {
    let publish = format!(
        "{qname}. TXT \"v=STSv1; id=20250101T000000\"\n(change the id whenever the policy \
         changes), with the policy at {}:\n{}",
        policy_url(domain),
        example_policy(domain)
    );
    match records {
        [] => MTASTS_RECORD
            .finding(
                Status::Info,
                format!(
                    "{domain} publishes no MTA-STS record. Senders deliver to it with \
                     opportunistic TLS, which an attacker on the path can strip or intercept."
                ),
            )
            .with_evidence(ev.clone())
            .with_remediation(format!(
                "To make senders require valid TLS, publish an MTA-STS policy and record:\n{publish}"
            )),
        [one] => match parse_record(one) {
            Ok(id) => MTASTS_RECORD
                .finding(
                    Status::Pass,
                    format!("{qname} publishes an MTA-STS record (id={id})."),
                )
                .with_evidence(ev.clone()),
            Err(errors) => MTASTS_RECORD
                .finding(
                    Status::Fail,
                    format!(
                        "The MTA-STS record \"{one}\" is malformed: {}. Senders ignore the \
                         domain's MTA-STS policy.",
                        errors.join("; ")
                    ),
                )
                .with_severity(Severity::Low)
                .with_evidence(ev.clone())
                .with_remediation(format!("Publish a well-formed record:\n{publish}")),
        },
        several => MTASTS_RECORD
            .finding(
                Status::Fail,
                format!(
                    "{qname} has {} MTA-STS records; senders then ignore MTA-STS entirely \
                     (RFC 8461 §3.1).",
                    several.len()
                ),
            )
            .with_severity(Severity::Low)
            .with_evidence(ev.clone())
            .with_remediation(format!("Keep exactly one record:\n{publish}")),
    }
}

fn judge_mode(domain: &str, p: &Policy, ev: &[Evidence]) -> Finding {
    let enforce = format!(
        "Once TLS-RPT reports show no failures, switch to\nmode: enforce\nmax_age: 604800\nand \
         change the id in _mta-sts.{domain} so senders fetch the new policy."
    );
    if p.max_age < MAX_AGE_MIN {
        let mut detail = format!(
            "max_age is {} seconds, under one day: senders forget the policy quickly, so an \
             attacker who blocks the policy fetch soon defeats it.",
            p.max_age
        );
        if p.mode != Mode::Enforce {
            detail.push_str(&format!(
                " The mode is {}, so senders do not enforce it either.",
                p.mode.as_str()
            ));
        }
        return MTASTS_MODE
            .finding(Status::Fail, detail)
            .with_evidences(ev.to_vec())
            .with_remediation(
                "Set max_age to at least a week (max_age: 604800; RFC 8461 §3.2 suggests weeks \
                 or more), and change the record's id so senders fetch the new policy.",
            );
    }
    match p.mode {
        Mode::Enforce => MTASTS_MODE
            .finding(
                Status::Pass,
                format!(
                    "The policy is enforced (mode enforce) and cached for {} seconds.",
                    p.max_age
                ),
            )
            .with_evidences(ev.to_vec()),
        Mode::Testing | Mode::None => MTASTS_MODE
            .finding(
                Status::Info,
                format!(
                    "The policy's mode is {}: senders {} but still deliver over unauthenticated \
                     or plaintext connections.",
                    p.mode.as_str(),
                    if p.mode == Mode::Testing {
                        "report TLS failures (with TLS-RPT)"
                    } else {
                        "drop the policy"
                    }
                ),
            )
            .with_evidences(ev.to_vec())
            .with_remediation(enforce),
    }
}

fn judge_coverage(domain: &str, p: &Policy, m: &MxLookup, ev: &[Evidence]) -> Finding {
    if p.mode == Mode::None {
        return MTASTS_MX_COVERAGE
            .finding(
                Status::Info,
                "The policy's mode is none: senders do not check MX names against it.",
            )
            .with_evidences(ev.to_vec());
    }
    let answer = match &m.answer {
        Err(e) => {
            return MTASTS_MX_COVERAGE.finding(
                Status::Unknown,
                format!("The MX records of {domain} could not be read ({e})."),
            )
        }
        Ok(a) if !a.is_definite() => {
            return MTASTS_MX_COVERAGE
                .finding(
                    Status::Unknown,
                    format!(
                        "The resolver answered {} for the MX records of {domain}.",
                        a.rcode_text()
                    ),
                )
                .with_evidence(a.evidence())
        }
        Ok(a) => a,
    };
    let mut evidence = vec![answer.evidence()];
    evidence.extend(ev.iter().cloned());
    let hosts: Vec<String> = mx_set(answer)
        .into_iter()
        .map(|(_, h)| h)
        .filter(|h| !h.is_empty())
        .collect();
    if hosts.is_empty() {
        return MTASTS_MX_COVERAGE
            .finding(
                Status::Info,
                format!("{domain} has no MX host for the policy to cover (see dns.mx)."),
            )
            .with_evidences(evidence);
    }
    let unmatched: Vec<&String> = hosts
        .iter()
        .filter(|h| !p.mx.iter().any(|pat| mx_matches(pat, h)))
        .collect();
    if unmatched.is_empty() {
        return MTASTS_MX_COVERAGE
            .finding(
                Status::Pass,
                format!(
                    "Every MX host ({}) matches an mx: line of the policy ({}).",
                    hosts.join(", "),
                    p.mx.join(", ")
                ),
            )
            .with_evidences(evidence);
    }
    let names: Vec<&str> = unmatched.iter().map(|h| h.as_str()).collect();
    let (sev, effect) = if p.mode == Mode::Enforce {
        (
            Severity::High,
            "senders that enforce MTA-STS will not deliver to them",
        )
    } else {
        (
            Severity::Medium,
            "senders report failures now (mode testing) and will not deliver to them once the \
             policy is enforced",
        )
    };
    let lines: Vec<String> = names.iter().map(|h| format!("mx: {h}")).collect();
    MTASTS_MX_COVERAGE
        .finding(
            Status::Fail,
            format!(
                "The MX host(s) {} match no mx: line of the MTA-STS policy ({}): {effect}.",
                names.join(", "),
                if p.mx.is_empty() {
                    "none".to_string()
                } else {
                    p.mx.join(", ")
                }
            ),
        )
        .with_severity(sev)
        .with_evidences(evidence)
        .with_remediation(format!(
            "Add a line for each MX host to the policy (a `*.` wildcard covers one label), e.g.\n{}\n\
             and change the id in _mta-sts.{domain} so senders fetch the new policy.",
            lines.join("\n")
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::mx;
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;
    use hickory_proto::op::ResponseCode;

    const URL: &str = "https://mta-sts.example.org/.well-known/mta-sts.txt";
    const RECORD: &str = "v=STSv1; id=20250101T000000";
    const POLICY: &[u8] = b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmx: *.backup.example.org\r\nmax_age: 604800\r\n";

    fn base() -> ScriptedNet {
        ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .mx("example.org", 20, "b1.backup.example.org")
            .a("mail.example.org", "192.0.2.1")
            .a("b1.backup.example.org", "192.0.2.2")
    }

    fn run(net: &ScriptedNet) -> Vec<Finding> {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let (l, m) = block_on(async {
            futures::join!(
                lookup(&r, net, "example.org"),
                mx::lookup(&r, "example.org")
            )
        });
        judge("example.org", &l, &m)
    }

    fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
        fs.iter().find(|f| f.id == id).unwrap()
    }

    fn statuses(fs: &[Finding]) -> Vec<Status> {
        fs.iter().map(|f| f.status).collect()
    }

    #[test]
    fn good_setup_passes_everything() {
        let net = base().txt("_mta-sts.example.org", RECORD).page(
            URL,
            200,
            "text/plain; charset=utf-8",
            POLICY,
        );
        let fs = run(&net);
        let ids: Vec<&str> = fs.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, RULES.iter().map(|r| r.id).collect::<Vec<_>>());
        for f in &fs {
            assert_eq!(f.status, Status::Pass, "{}: {}", f.id, f.detail);
        }
        assert!(get(&fs, "mtasts.policy")
            .evidence
            .iter()
            .any(|e| matches!(e, Evidence::Note { text } if text.contains("HTTP 200"))));
    }

    #[test]
    fn no_record_is_info_and_fetches_nothing() {
        let net = base().page(URL, 200, "text/plain", POLICY);
        let fs = run(&net);
        assert_eq!(statuses(&fs), [Status::Info; 4]);
        assert!(get(&fs, "mtasts.record").remediation.contains("v=STSv1"));
        // MX, 2 x (A, AAAA), _mta-sts: no GET.
        assert_eq!(net.requests(), 6);
    }

    #[test]
    fn record_lookup_failure_is_unknown() {
        let net = base().rcode(
            "_mta-sts.example.org",
            RecordType::TXT,
            ResponseCode::ServFail,
        );
        assert_eq!(statuses(&run(&net)), [Status::Unknown; 4]);
    }

    #[test]
    fn malformed_and_several_records_fail_low() {
        for rec in [
            "v=STSv1; id=2025-01-01",
            "v=STSv1;",
            "v=STSv1; id=",
            "v=STSv1; id=abc; id=def",
            "v=STSv1 id=abc",
            "v=STSv1; id=123456789012345678901234567890123",
        ] {
            let net = base()
                .txt("_mta-sts.example.org", rec)
                .page(URL, 200, "text/plain", POLICY);
            let fs = run(&net);
            let r = get(&fs, "mtasts.record");
            assert_eq!(
                (r.status, r.severity),
                (Status::Fail, Severity::Low),
                "{rec}"
            );
            // The policy is still fetched and judged, with the caveat.
            let p = get(&fs, "mtasts.policy");
            assert_eq!(p.status, Status::Pass, "{rec}");
            assert!(p.detail.contains("Senders ignore it"), "{}", p.detail);
        }
        let net = base()
            .txt("_mta-sts.example.org", RECORD)
            .txt("_mta-sts.example.org", "v=STSv1; id=2")
            .page(URL, 200, "text/plain", POLICY);
        let r = run(&net);
        assert_eq!(get(&r, "mtasts.record").status, Status::Fail);
        assert!(get(&r, "mtasts.record")
            .detail
            .contains("2 MTA-STS records"));
        // Other TXT strings beside the record are discarded, as senders do.
        let net = base()
            .txt("_mta-sts.example.org", RECORD)
            .txt("_mta-sts.example.org", "unrelated")
            .page(URL, 200, "text/plain", POLICY);
        assert_eq!(get(&run(&net), "mtasts.record").status, Status::Pass);
    }

    #[test]
    fn record_grammar() {
        assert_eq!(parse_record("v=STSv1; id=abc123;").unwrap(), "abc123");
        assert_eq!(parse_record("v=STSv1;id=x ; ext=v.1").unwrap(), "x");
        for bad in [
            "v=STSv1; id=a b",
            "v=STSv1; id=x;; y=z",
            "v=STSv1; id=x; =y",
            "v=STSv1; id=x; y",
        ] {
            assert!(parse_record(bad).is_err(), "{bad}");
        }
    }

    fn policy_status(status: u16, ctype: &str, body: &[u8]) -> Finding {
        let net = base()
            .txt("_mta-sts.example.org", RECORD)
            .page(URL, status, ctype, body);
        get(&run(&net), "mtasts.policy").clone()
    }

    #[test]
    fn serving_errors_fail() {
        for (status, ctype, needle) in [
            (301, "text/html", "redirect"),
            (302, "text/plain", "redirect"),
            (404, "text/plain", "HTTP 404"),
            (500, "text/plain", "HTTP 500"),
            (200, "text/html", "text/html"),
            (200, "application/octet-stream", "not text/plain"),
            (200, "text/plainx", "not text/plain"),
        ] {
            let f = policy_status(status, ctype, POLICY);
            assert_eq!(f.status, Status::Fail, "{status} {ctype}");
            assert_eq!(f.severity, Severity::High);
            assert!(f.detail.contains(needle), "{}", f.detail);
        }
        assert_eq!(
            policy_status(200, "Text/Plain ; charset=UTF-8", POLICY).status,
            Status::Pass
        );
    }

    #[test]
    fn tls_failure_fails_and_other_errors_are_unknown() {
        let net = base().txt("_mta-sts.example.org", RECORD).page_error(
            URL,
            NetError::Tls("invalid peer certificate: Expired".into()),
        );
        let fs = run(&net);
        let p = get(&fs, "mtasts.policy");
        assert_eq!(p.status, Status::Fail);
        assert!(
            p.detail.contains("TLS certificate is invalid"),
            "{}",
            p.detail
        );
        assert_eq!(get(&fs, "mtasts.mode").status, Status::Info);
        for err in [
            NetError::Timeout(10_000),
            NetError::Connect("refused".into()),
            NetError::Other("reset".into()),
        ] {
            let net = base()
                .txt("_mta-sts.example.org", RECORD)
                .page_error(URL, err);
            let fs = run(&net);
            assert_eq!(
                statuses(&fs)[1..],
                [Status::Unknown; 3],
                "record is judged, the rest cannot be"
            );
        }
        // Larger than 64 KiB: the scripted host enforces max_body.
        let mut big = POLICY.to_vec();
        big.extend(std::iter::repeat_n(b'#', POLICY_MAX_BODY));
        let f = policy_status(200, "text/plain", &big);
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("larger than"), "{}", f.detail);
    }

    #[test]
    fn policy_grammar() {
        let ok = parse_policy("version: STSv1\nmode: testing\nmx: mail.example.org\nmax_age: 86400\nfuture_key: whatever\n").unwrap();
        assert_eq!(ok.mode, Mode::Testing);
        assert_eq!(ok.max_age, 86400);
        assert_eq!(ok.mx, ["mail.example.org"]);
        let none = parse_policy("version: STSv1\r\nmode: none\r\nmax_age: 0").unwrap();
        assert_eq!((none.mode, none.mx.len()), (Mode::None, 0));
        for (bad, needle) in [
            ("mode: enforce\nmx: a.example\nmax_age: 1", "version"),
            (
                "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1",
                "STSv1",
            ),
            ("version: STSv1\nmx: a.example\nmax_age: 1", "mode:"),
            (
                "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1",
                "mode must be",
            ),
            (
                "version: STSv1\nMode: enforce\nmx: a.example\nmax_age: 1",
                "mode:",
            ),
            ("version: STSv1\nmode: enforce\nmx: a.example", "max_age:"),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601",
                "max_age must",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1",
                "max_age must",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1 day",
                "max_age must",
            ),
            ("version: STSv1\nmode: enforce\nmax_age: 86400", "no `mx:`"),
            (
                "version: STSv1\nmode: enforce\nmx: *.*.example.org\nmax_age: 86400",
                "wildcard",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: mail.example.org.\nmax_age: 86400",
                "trailing dot",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: mail*.example.org\nmax_age: 86400",
                "wildcard",
            ),
            (
                "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1",
                "more than once",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\njunk",
                "not `key: value`",
            ),
            ("<html>", "not `key: value`"),
        ] {
            let errors = parse_policy(bad).expect_err(bad);
            assert!(
                errors.iter().any(|e| e.contains(needle)),
                "{bad}: {errors:?}"
            );
        }
    }

    #[test]
    fn policy_syntax_error_fails_with_the_reason() {
        let f = policy_status(
            200,
            "text/plain",
            b"version: STSv1\nmode: enforce\nmax_age: 604800\n",
        );
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("no `mx:`"), "{}", f.detail);
        assert!(f.remediation.contains("mode: enforce"));
        let f = policy_status(200, "text/plain", &[0xff, 0xfe, b'\n']);
        assert_eq!(f.status, Status::Fail);
    }

    fn with_policy(body: &str) -> Vec<Finding> {
        let net = base().txt("_mta-sts.example.org", RECORD).page(
            URL,
            200,
            "text/plain",
            body.as_bytes(),
        );
        run(&net)
    }

    #[test]
    fn mode_and_max_age() {
        let fs = with_policy("version: STSv1\nmode: testing\nmx: *.example.org\nmax_age: 604800\n");
        let m = get(&fs, "mtasts.mode");
        assert_eq!(m.status, Status::Info);
        assert!(m.remediation.contains("mode: enforce"));
        let fs = with_policy("version: STSv1\nmode: enforce\nmx: *.example.org\nmax_age: 3600\n");
        let m = get(&fs, "mtasts.mode");
        assert_eq!((m.status, m.severity), (Status::Fail, Severity::Low));
        assert!(m.detail.contains("3600"));
        let fs = with_policy("version: STSv1\nmode: enforce\nmx: *.example.org\nmax_age: 86400\n");
        assert_eq!(get(&fs, "mtasts.mode").status, Status::Pass);
    }

    #[test]
    fn wildcards_match_exactly_one_label() {
        assert!(mx_matches("*.example.org", "mail.example.org"));
        assert!(mx_matches("*.example.org", "MAIL.example.org."));
        assert!(!mx_matches("*.example.org", "example.org"));
        assert!(!mx_matches("*.example.org", "a.b.example.org"));
        assert!(!mx_matches("*.example.org", "mailexample.org"));
        assert!(mx_matches("Mail.Example.org", "mail.example.org"));
        assert!(!mx_matches("mail.example.org", "mail.example.org.evil"));
    }

    #[test]
    fn unmatched_mx_hosts_fail_by_name() {
        // b1.backup.example.org is two labels below example.org.
        let fs = with_policy("version: STSv1\nmode: enforce\nmx: *.example.org\nmax_age: 604800\n");
        let c = get(&fs, "mtasts.mx_coverage");
        assert_eq!((c.status, c.severity), (Status::Fail, Severity::High));
        assert!(c.detail.contains("b1.backup.example.org"), "{}", c.detail);
        assert!(!c.detail.contains("mail.example.org,"), "{}", c.detail);
        assert!(c.remediation.contains("mx: b1.backup.example.org"));
        let fs = with_policy("version: STSv1\nmode: testing\nmx: *.example.org\nmax_age: 604800\n");
        let c = get(&fs, "mtasts.mx_coverage");
        assert_eq!((c.status, c.severity), (Status::Fail, Severity::Medium));
        let fs = with_policy("version: STSv1\nmode: none\nmax_age: 604800\n");
        assert_eq!(get(&fs, "mtasts.mx_coverage").status, Status::Info);
    }

    #[test]
    fn coverage_needs_the_mx_set() {
        let net = ScriptedNet::new()
            .rcode("example.org", RecordType::MX, ResponseCode::ServFail)
            .txt("_mta-sts.example.org", RECORD)
            .page(URL, 200, "text/plain", POLICY);
        assert_eq!(
            get(&run(&net), "mtasts.mx_coverage").status,
            Status::Unknown
        );
        let net = ScriptedNet::new()
            .mx("example.org", 0, "")
            .txt("_mta-sts.example.org", RECORD)
            .page(URL, 200, "text/plain", POLICY);
        assert_eq!(get(&run(&net), "mtasts.mx_coverage").status, Status::Info);
    }

    #[test]
    fn the_fetch_is_bounded() {
        struct Spy(std::cell::RefCell<Vec<HttpRequest>>, ScriptedNet);
        impl Network for Spy {
            type Conn = crate::testing::ScriptedConn;
            async fn http(&self, req: HttpRequest) -> Result<HttpResponse, NetError> {
                self.0.borrow_mut().push(req.clone());
                self.1.http(req).await
            }
            async fn tcp_connect(&self, h: &str, p: u16, t: u32) -> Result<Self::Conn, NetError> {
                self.1.tcp_connect(h, p, t).await
            }
        }
        let spy = Spy(
            Default::default(),
            base()
                .txt("_mta-sts.example.org", RECORD)
                .page(URL, 200, "text/plain", POLICY),
        );
        let r = Resolver::new(&spy, "https://doh.test/dns-query");
        let _ = block_on(lookup(&r, &spy, "example.org"));
        let reqs = spy.0.borrow();
        let get = reqs.iter().find(|q| q.url == URL).expect("policy fetched");
        assert_eq!(get.method, crate::net::Method::Get);
        assert_eq!(get.max_body, POLICY_MAX_BODY);
        assert_eq!(get.timeout_ms, POLICY_TIMEOUT_MS);
    }

    /// The CLI runs audits on a multi-threaded runtime: these look-ups must
    /// stay `Send` when the host's network is (ScriptedNet is not Sync).
    #[test]
    fn lookups_are_send_when_the_network_is() {
        use crate::dns::{bimi, dmarc, tlsrpt};
        use crate::testing::{assert_send, DownNet};
        let net = DownNet;
        let r = Resolver::new(&net, "https://doh.test/dns-query");
        let d = block_on(assert_send(dmarc::lookup(&r, "example.org")));
        let s = block_on(assert_send(lookup(&r, &net, "example.org")));
        let t = block_on(assert_send(tlsrpt::lookup(&r, "example.org")));
        let b = block_on(assert_send(bimi::lookup(&r, "example.org")));
        let m = block_on(assert_send(mx::lookup(&r, "example.org")));
        let all = [
            dmarc::judge("example.org", &d),
            judge("example.org", &s, &m),
            tlsrpt::judge("example.org", &t),
            bimi::judge("example.org", &b, Some(&d)),
        ];
        for f in all.iter().flatten() {
            assert_eq!(f.status, Status::Unknown, "{}", f.id);
        }
    }
}
