//! DMARC (RFC 7489, with the tags DMARCbis adds): discovery and the rules
//! `dmarc.missing`, `dmarc.syntax`, `dmarc.policy` and `dmarc.rua`.
//!
//! API: [`lookup`] asks the DNS (async, through the [`Resolver`]),
//! [`judge`] turns what it found into the four findings (pure), [`parse`]
//! reads one record's text (pure; any input, never panics).
//!
//! **Discovery** (RFC 7489 §6.6.3): `_dmarc.<domain>`; when that name holds
//! no DMARC record, `_dmarc.<organisational domain>`, the organisational
//! domain coming from the embedded Public Suffix List ([`super::psl`],
//! RFC 7489 §3.2). At most 2 queries, one after the other. A record found
//! at the organisational domain applies to the audited domain through its
//! `sp` (else `p`). TXT strings that do not begin with `v=DMARC1` are
//! discarded as receivers do; several DMARC records at one name make
//! receivers apply no DMARC at all.
//!
//! This replaces the DMARCbis DNS tree walk the module used before: the
//! receivers deployed today implement RFC 7489 with the PSL, and the walk
//! can find a record at an intermediate name (`_dmarc.b.example.org` for
//! `a.b.example.org`) that those receivers never consult, so an audit by the
//! walk would pass domains that receivers treat as unprotected. It also
//! needs up to 8 queries instead of 2. Public suffix domain records
//! (RFC 9091, DMARCbis `psd=y`) are not consulted.
//!
//! **Report authorisation** (RFC 7489 §7.1): for every `rua`/`ruf`
//! destination host whose organisational domain differs from the audited
//! domain's, `<policy domain>._report._dmarc.<destination host>` must hold a
//! `v=DMARC1` TXT record, or receivers send no reports there. At most
//! [`MAX_REPORT_CHECKS`] destination hosts are asked (all at once, after
//! discovery); the rest are named in the evidence as not checked.

use crate::dns::{psl, DnsAnswer, DnsError, RecordType, Resolver};
use crate::net::Network;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use futures::future::join_all;

pub static DMARC_MISSING: Rule = Rule {
    id: "dmarc.missing",
    area: Area::Authentication,
    title: "DMARC record",
    severity: Severity::High,
    description:
        "No DMARC record at the domain or its organisational domain (found with the Public Suffix \
        List), or the one published is unusable (several records, or no valid p= and no valid \
        rua=): receivers get no policy for mail that fails SPF and DKIM alignment.",
    refs: &["RFC 7489 §6.6.3", "RFC 7489 §3.2"],
};

pub static DMARC_SYNTAX: Rule = Rule {
    id: "dmarc.syntax",
    area: Area::Authentication,
    title: "DMARC record syntax",
    severity: Severity::High,
    description: "The DMARC record is invalid (no or bad p=, a tag value outside its grammar, \
        report URIs that are not mailto:), repeats a tag, carries unknown tags (low), or there \
        are several DMARC records; also a TXT record that looks like DMARC but does not begin \
        with v=DMARC1, which receivers discard.",
    refs: &[
        "RFC 7489 §6.3",
        "RFC 7489 §6.4",
        "draft-ietf-dmarc-dmarcbis (tags np, psd, t)",
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

pub static DMARC_RUA: Rule = Rule {
    id: "dmarc.rua",
    area: Area::Authentication,
    title: "DMARC report addresses",
    severity: Severity::Low,
    description: "The DMARC record names no aggregate report address (rua=), or an external \
        rua/ruf destination (another organisational domain) has not authorised the reports with \
        a `<domain>._report._dmarc.<destination>` record, so receivers send it nothing.",
    refs: &["RFC 7489 §7.1", "RFC 7489 §6.3"],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&DMARC_MISSING, &DMARC_SYNTAX, &DMARC_POLICY, &DMARC_RUA];

/// At most this many external report destinations are checked (each costs
/// one query, and an audit has a budget of subrequests).
pub const MAX_REPORT_CHECKS: usize = 4;

/// How discovery works, for the report's `dmarc.discovery` assumption.
pub fn discovery_assumption() -> String {
    format!(
        "RFC 7489 §6.6.3: _dmarc.<domain>, then _dmarc.<organisational domain> from the embedded \
         {}",
        psl::LIST_VERSION
    )
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// One DMARC record at `_dmarc.<at>`.
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

/// One external report destination's authorisation look-up.
#[derive(Debug, Clone)]
pub struct ReportAuth {
    /// The destination host (domain part of the mailto: address).
    pub destination: String,
    /// `<policy domain>._report._dmarc.<destination>`.
    pub qname: String,
    pub answer: Result<DnsAnswer, DnsError>,
}

/// Everything [`lookup`] learnt.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub domain: String,
    /// Organisational domain of `domain` (RFC 7489 §3.2).
    pub org_domain: String,
    pub found: Found,
    /// TXT records at an asked `_dmarc` name that receivers discard but
    /// that look like a mistyped DMARC record: (query name, text).
    pub near_misses: Vec<(String, String)>,
    /// The discovery answers.
    pub evidence: Vec<Evidence>,
    /// External destinations checked, in the record's order.
    pub reports: Vec<ReportAuth>,
    /// External destinations left unchecked (over [`MAX_REPORT_CHECKS`]).
    pub unchecked: Vec<String>,
}

/// A DMARC policy (`p`, `sp`, `np`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Disposition {
    None,
    Quarantine,
    Reject,
}

impl Disposition {
    pub fn parse(s: &str) -> Option<Disposition> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(Disposition::None),
            "quarantine" => Some(Disposition::Quarantine),
            "reject" => Some(Disposition::Reject),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::None => "none",
            Disposition::Quarantine => "quarantine",
            Disposition::Reject => "reject",
        }
    }
}

/// A syntax problem in a record, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub text: String,
    pub fix: String,
}

/// A usable `mailto:` report URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportUri {
    pub uri: String,
    /// The address's domain, lower case.
    pub host: String,
}

/// A parsed record. Values are those of each tag's first occurrence and
/// only when valid; `problems` says what was wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Every tag as written (names lower-cased), duplicates included.
    pub tags: Vec<(String, String)>,
    pub problems: Vec<Problem>,
    pub p: Option<Disposition>,
    pub sp: Option<Disposition>,
    pub pct: Option<u8>,
    /// `t=y` (DMARCbis testing mode).
    pub testing: bool,
    pub rua: Vec<ReportUri>,
    pub ruf: Vec<ReportUri>,
}

/// What receivers do with a record (RFC 7489 §6.6.3 step 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usability {
    /// Valid `p` (and `sp`, if present): the policy applies.
    Applies,
    /// Invalid `p` or `sp` but a valid `rua`: receivers act as if `p=none`.
    AsNone,
    /// Invalid `p` or `sp` and no valid `rua`: no DMARC processing.
    Ignored,
}

impl Record {
    pub fn has_tag(&self, name: &str) -> bool {
        self.tags.iter().any(|(n, _)| n == name)
    }

    pub fn usability(&self) -> Usability {
        let sp_bad = self.has_tag("sp") && self.sp.is_none();
        if self.p.is_some() && !sp_bad {
            Usability::Applies
        } else if !self.rua.is_empty() {
            Usability::AsNone
        } else {
            Usability::Ignored
        }
    }
}

/// What a receiver applies to the audited domain, for other rules (BIMI
/// needs DMARC at enforcement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The look-up failed.
    Unknown,
    /// No usable record: no DMARC processing.
    Nothing,
    Policy {
        disposition: Disposition,
        pct: u8,
    },
}

impl Lookup {
    /// The policy receivers apply to mail from the audited domain.
    pub fn applied(&self) -> Applied {
        let Found::Record { at, text } = &self.found else {
            return match self.found {
                Found::Unknown { .. } => Applied::Unknown,
                _ => Applied::Nothing,
            };
        };
        let r = parse(text);
        match r.usability() {
            Usability::Ignored => Applied::Nothing,
            Usability::AsNone => Applied::Policy {
                disposition: Disposition::None,
                pct: 100,
            },
            Usability::Applies => {
                let p = r.p.unwrap_or(Disposition::None);
                let disposition = if *at != self.domain {
                    r.sp.unwrap_or(p)
                } else {
                    p
                };
                Applied::Policy {
                    disposition,
                    pct: r.pct.unwrap_or(100),
                }
            }
        }
    }
}

fn wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Whether a TXT string is a DMARC record receivers keep: it begins with
/// `v` `=` `DMARC1` (spaces or tabs allowed around `=`), then ends or has a
/// `;`.
pub fn is_dmarc_record(text: &str) -> bool {
    let rest = text
        .trim_start_matches(wsp)
        .strip_prefix('v')
        .map(|r| r.trim_start_matches(wsp))
        .and_then(|r| r.strip_prefix('='))
        .map(|r| r.trim_start_matches(wsp))
        .and_then(|r| r.strip_prefix("DMARC1"));
    rest.is_some_and(|r| {
        let r = r.trim_start_matches(wsp);
        r.is_empty() || r.starts_with(';')
    })
}

/// A TXT string that looks like a DMARC record but is not kept.
fn is_near_miss(text: &str) -> bool {
    !is_dmarc_record(text) && text.to_ascii_lowercase().contains("dmarc")
}

fn dmarc_records(a: &DnsAnswer) -> Vec<String> {
    a.of_type()
        .filter_map(|d| d.txt_joined())
        .filter(|t| is_dmarc_record(t))
        .collect()
}

/// Looks up the domain's DMARC record (then the organisational domain's),
/// then the authorisation of external report destinations.
pub async fn lookup<N: Network>(resolver: &Resolver<'_, N>, domain: &str) -> Lookup {
    let org_domain = psl::organizational_domain(domain).to_string();
    let mut names = vec![domain.to_string()];
    if org_domain != domain {
        names.push(org_domain.clone());
    }
    let mut evidence = Vec::new();
    let mut near_misses = Vec::new();
    let mut found = Found::None;
    for name in names {
        let qname = format!("_dmarc.{name}");
        let a = match resolver
            .query_definite(&qname, RecordType::TXT, &mut evidence)
            .await
        {
            Ok(a) => a,
            Err(reason) => {
                found = Found::Unknown { at: qname, reason };
                break;
            }
        };
        near_misses.extend(
            a.of_type()
                .filter_map(|d| d.txt_joined())
                .filter(|t| is_near_miss(t))
                .map(|t| (qname.clone(), t)),
        );
        let mut recs = dmarc_records(&a);
        match recs.len() {
            0 => continue,
            1 => {
                found = Found::Record {
                    at: name,
                    text: recs.remove(0),
                }
            }
            _ => {
                found = Found::Several {
                    at: name,
                    texts: recs,
                }
            }
        }
        break;
    }
    let mut lookup = Lookup {
        domain: domain.to_string(),
        org_domain,
        found,
        near_misses,
        evidence,
        reports: Vec::new(),
        unchecked: Vec::new(),
    };
    let Found::Record { at, text } = &lookup.found else {
        return lookup;
    };
    let external = external_destinations(&parse(text), &lookup.org_domain);
    let checks = external
        .iter()
        .take(MAX_REPORT_CHECKS)
        .map(|dest| async move {
            let qname = format!("{at}._report._dmarc.{dest}");
            let answer = resolver.query(&qname, RecordType::TXT).await;
            ReportAuth {
                destination: dest.clone(),
                qname,
                answer,
            }
        });
    let reports = join_all(checks).await;
    lookup.unchecked = external.iter().skip(MAX_REPORT_CHECKS).cloned().collect();
    lookup.reports = reports;
    lookup
}

/// Distinct rua then ruf destination hosts outside `org_domain`.
fn external_destinations(r: &Record, org_domain: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for u in r.rua.iter().chain(&r.ruf) {
        if psl::organizational_domain(&u.host) != org_domain && !out.contains(&u.host) {
            out.push(u.host.clone());
        }
    }
    out
}

fn problem(severity: Severity, text: impl Into<String>, fix: impl Into<String>) -> Problem {
    Problem {
        severity,
        text: text.into(),
        fix: fix.into(),
    }
}

fn is_digits(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads one record (RFC 7489 §6.4 plus the DMARCbis tags np, psd, t).
/// Tag names and keyword values are case-insensitive; unknown tags are
/// reported (receivers ignore them, so they are usually typos).
pub fn parse(text: &str) -> Record {
    let mut r = Record::default();
    let mut parts = text.split(';');
    let first = parts.next().unwrap_or("");
    if !is_dmarc_record(first) {
        r.problems.push(problem(
            Severity::High,
            format!(
                "the record begins with `{}` instead of `v=DMARC1`, so receivers discard it",
                first.trim()
            ),
            "Begin the record with exactly `v=DMARC1;` (upper case, the first tag).",
        ));
    }
    r.tags.push(("v".into(), "DMARC1".into()));
    for part in parts {
        let part = part.trim_matches(wsp);
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            r.problems.push(problem(
                Severity::Medium,
                format!("`{part}` is not a tag=value pair"),
                format!("Remove `{part}` or write it as tag=value."),
            ));
            continue;
        };
        let name = name.trim_matches(wsp).to_ascii_lowercase();
        let value = value.trim_matches(wsp).to_string();
        let duplicate = r.has_tag(&name);
        r.tags.push((name.clone(), value.clone()));
        if duplicate {
            let sev = if matches!(name.as_str(), "v" | "p" | "sp") {
                Severity::High
            } else {
                Severity::Medium
            };
            r.problems.push(problem(
                sev,
                format!("the tag {name} appears more than once; receivers may use either value"),
                format!("Keep a single {name}= tag."),
            ));
            continue;
        }
        check_tag(&mut r, &name, &value);
    }
    if !r.has_tag("p") {
        r.problems.push(problem(
            Severity::High,
            "there is no p= tag, which every DMARC policy record needs",
            "Add the policy right after the version: `v=DMARC1; p=none;` to start monitoring, \
             `p=quarantine` or `p=reject` to enforce.",
        ));
    }
    r
}

fn check_tag(r: &mut Record, name: &str, value: &str) {
    let lower = value.to_ascii_lowercase();
    let bad = |sev: Severity, grammar: &str| {
        problem(
            sev,
            format!("{name}={value} is not valid: {name} takes {grammar}"),
            format!("Write {name}= as {grammar}, or remove it."),
        )
    };
    match name {
        "v" => {}
        "p" | "sp" => match Disposition::parse(value) {
            Some(d) if name == "p" => r.p = Some(d),
            Some(d) => r.sp = Some(d),
            None => r
                .problems
                .push(bad(Severity::High, "none, quarantine or reject")),
        },
        "np" => {
            if Disposition::parse(value).is_none() {
                r.problems
                    .push(bad(Severity::Medium, "none, quarantine or reject"));
            }
        }
        "pct" => match value.parse::<u8>() {
            Ok(n) if n <= 100 && is_digits(value, 3) => r.pct = Some(n),
            _ => r
                .problems
                .push(bad(Severity::Medium, "a whole number from 0 to 100")),
        },
        "adkim" | "aspf" => {
            if !matches!(lower.as_str(), "r" | "s") {
                r.problems
                    .push(bad(Severity::Medium, "r (relaxed) or s (strict)"));
            }
        }
        "fo" => {
            if !value.split(':').all(|o| {
                matches!(
                    o.trim_matches(wsp).to_ascii_lowercase().as_str(),
                    "0" | "1" | "d" | "s"
                )
            }) {
                r.problems.push(bad(
                    Severity::Medium,
                    "0, 1, d or s, several separated by colons (e.g. fo=1:d)",
                ));
            }
        }
        "rf" => {
            if !lower.split(':').all(|f| f.trim_matches(wsp) == "afrf") {
                r.problems.push(bad(
                    Severity::Medium,
                    "afrf (the only report format defined)",
                ));
            }
        }
        "ri" => {
            if !is_digits(value, 32) {
                r.problems
                    .push(bad(Severity::Medium, "a number of seconds (e.g. 86400)"));
            }
        }
        "psd" => {
            if !matches!(lower.as_str(), "y" | "n" | "u") {
                r.problems.push(bad(Severity::Medium, "y, n or u"));
            }
        }
        "t" => match lower.as_str() {
            "y" => r.testing = true,
            "n" => {}
            _ => r.problems.push(bad(Severity::Medium, "y or n")),
        },
        "rua" | "ruf" => {
            let mut uris = Vec::new();
            for uri in value.split(',') {
                let uri = uri.trim_matches(wsp);
                match parse_report_uri(uri) {
                    Ok(u) => uris.push(u),
                    Err(why) => r.problems.push(problem(
                        Severity::Medium,
                        format!("{name}: {why}"),
                        format!(
                            "List report addresses as mailto: URIs separated by commas, e.g. \
                             {name}=mailto:dmarc-reports@example.org"
                        ),
                    )),
                }
            }
            if name == "rua" {
                r.rua = uris;
            } else {
                r.ruf = uris;
            }
        }
        _ => r.problems.push(problem(
            Severity::Low,
            format!("the tag {name}= is unknown: receivers ignore it (a typo?)"),
            format!(
                "Remove {name}= or correct it to one of p, sp, np, pct, rua, ruf, adkim, aspf, fo, \
                 rf, ri, psd, t."
            ),
        )),
    }
}

fn is_host_name(h: &str) -> bool {
    h.len() <= 253
        && h.contains('.')
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A `mailto:` address with an optional `!size` suffix (RFC 7489 §6.4).
pub fn parse_report_uri(uri: &str) -> Result<ReportUri, String> {
    if uri.is_empty() {
        return Err("an empty report URI".into());
    }
    let (addr_uri, size) = match uri.split_once('!') {
        Some((u, s)) => (u, Some(s)),
        None => (uri, None),
    };
    if let Some(size) = size {
        let digits = size.trim_end_matches(['k', 'm', 'g', 't', 'K', 'M', 'G', 'T']);
        if !is_digits(digits, 20) || size.len() > digits.len() + 1 {
            return Err(format!(
                "`{uri}` has a bad size limit `!{size}` (digits, then optionally k, m, g or t)"
            ));
        }
    }
    let Some((scheme, rest)) = addr_uri.split_once(':') else {
        return Err(format!("`{uri}` is not a URI: write mailto:{addr_uri}"));
    };
    if !scheme.eq_ignore_ascii_case("mailto") {
        return Err(format!(
            "`{uri}` is not a mailto: URI; receivers send DMARC reports by mail only"
        ));
    }
    let addr = rest.split('?').next().unwrap_or("");
    let Some((local, host)) = addr.rsplit_once('@') else {
        return Err(format!("`{uri}` has no address (local@domain)"));
    };
    let host = host.to_ascii_lowercase();
    if local.is_empty() || !is_host_name(&host) {
        return Err(format!(
            "`{uri}` is not a usable address (the domain must be an ASCII host name)"
        ));
    }
    Ok(ReportUri {
        uri: uri.to_string(),
        host,
    })
}

/// The four findings: `dmarc.missing`, `dmarc.syntax`, `dmarc.policy`,
/// `dmarc.rua`.
pub fn judge(domain: &str, l: &Lookup) -> Vec<Finding> {
    let ev = l.evidence.clone();
    match &l.found {
        Found::Unknown { at, reason } => {
            let detail = format!(
                "The DMARC record could not be looked up at {at} ({reason}). Run the audit again \
                 or query `dig TXT {at}` from another resolver."
            );
            RULES
                .iter()
                .map(|rule| {
                    rule.finding(Status::Unknown, detail.clone())
                        .with_evidences(ev.clone())
                })
                .collect()
        }
        Found::None => {
            let whose = if l.org_domain == domain {
                domain.to_string()
            } else {
                format!(
                    "Neither {domain} nor its organisational domain {}",
                    l.org_domain
                )
            };
            let mut detail = format!(
                "{whose} publishes no DMARC record, so receivers have no instruction for mail \
                 that forges {domain}, and you get no reports about it."
            );
            if !l.near_misses.is_empty() {
                detail.push_str(
                    " A TXT record there looks like DMARC but is discarded (see dmarc.syntax).",
                );
            }
            let missing = DMARC_MISSING
                .finding(Status::Fail, detail)
                .with_evidences(ev.clone())
                .with_remediation(format!(
                    "Start in monitoring mode and move to enforcement once reports show all your \
                     senders align:\n_dmarc.{domain}. TXT \"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}\""
                ));
            let syntax = if l.near_misses.is_empty() {
                DMARC_SYNTAX.finding(
                    Status::Info,
                    "There is no DMARC record whose syntax could be checked (see dmarc.missing).",
                )
            } else {
                let list: Vec<String> = l
                    .near_misses
                    .iter()
                    .map(|(q, t)| format!("{q}: \"{t}\""))
                    .collect();
                DMARC_SYNTAX
                    .finding(
                        Status::Fail,
                        format!(
                            "These TXT records look like DMARC records but receivers discard \
                             them, because a DMARC record must begin with exactly `v=DMARC1` \
                             (upper case, the first tag): {}.",
                            list.join("; ")
                        ),
                    )
                    .with_evidences(ev.clone())
                    .with_remediation(format!(
                        "Rewrite the record so that it begins with v=DMARC1, e.g.\n_dmarc.{domain}. TXT \
                         \"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}\""
                    ))
            };
            vec![
                missing,
                syntax,
                DMARC_POLICY.finding(
                    Status::Info,
                    "There is no DMARC record whose policy could be judged (see dmarc.missing).",
                ),
                DMARC_RUA.finding(
                    Status::Info,
                    "There is no DMARC record, so no report address (see dmarc.missing).",
                ),
            ]
        }
        Found::Several { at, texts } => {
            let list: Vec<String> = texts.iter().map(|t| format!("\"{t}\"")).collect();
            vec![
                DMARC_MISSING
                    .finding(
                        Status::Fail,
                        format!(
                            "_dmarc.{at} has {} DMARC records. Receivers apply no DMARC at all \
                             when there is more than one (RFC 7489 §6.6.3), so {domain} is \
                             unprotected (see dmarc.syntax).",
                            texts.len()
                        ),
                    )
                    .with_evidences(ev.clone())
                    .with_remediation(format!("Keep exactly one TXT record at _dmarc.{at}.")),
                DMARC_SYNTAX
                    .finding(
                        Status::Fail,
                        format!(
                            "_dmarc.{at} has {} DMARC records ({}); receivers ignore them all.",
                            texts.len(),
                            list.join(", ")
                        ),
                    )
                    .with_evidences(ev.clone())
                    .with_remediation(format!(
                        "Merge them into one record and delete the others, e.g.\n_dmarc.{at}. TXT \
                         \"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@{at}\""
                    )),
                DMARC_POLICY
                    .finding(
                        Status::Info,
                        "Several DMARC records are published, so no policy applies (see \
                         dmarc.syntax).",
                    )
                    .with_evidences(ev.clone()),
                DMARC_RUA
                    .finding(
                        Status::Info,
                        "Several DMARC records are published, so receivers send no reports \
                         (see dmarc.syntax).",
                    )
                    .with_evidences(ev),
            ]
        }
        Found::Record { at, text } => {
            let r = parse(text);
            let inherited = at != domain;
            vec![
                judge_missing(domain, at, &r, inherited, &ev),
                judge_syntax(at, text, &r, &l.near_misses, &ev),
                judge_policy(domain, at, &r, inherited, &ev),
                judge_rua(domain, at, &r, l),
            ]
        }
    }
}

fn judge_missing(domain: &str, at: &str, r: &Record, inherited: bool, ev: &[Evidence]) -> Finding {
    if r.usability() == Usability::Ignored {
        return DMARC_MISSING
            .finding(
                Status::Fail,
                format!(
                    "The DMARC record at _dmarc.{at} has no valid policy (p= or sp=) and no \
                     valid rua= address, so receivers apply no DMARC to {domain} (RFC 7489 \
                     §6.6.3); see dmarc.syntax."
                ),
            )
            .with_evidences(ev.to_vec())
            .with_remediation(format!(
                "Publish a valid record, e.g.\n_dmarc.{at}. TXT \"v=DMARC1; p=none; rua=mailto:dmarc-reports@{at}\""
            ));
    }
    DMARC_MISSING
        .finding(
            Status::Pass,
            if inherited {
                format!(
                    "{domain} publishes no DMARC record of its own and is covered by the record \
                     of its organisational domain {at}."
                )
            } else {
                format!("{domain} publishes a DMARC record.")
            },
        )
        .with_evidences(ev.to_vec())
}

fn judge_syntax(
    at: &str,
    text: &str,
    r: &Record,
    near_misses: &[(String, String)],
    ev: &[Evidence],
) -> Finding {
    // A discarded look-alike at the audited name, with a usable record at
    // the organisational domain: the owner's own record is not in force.
    let mut r = r.clone();
    for (qname, t) in near_misses {
        r.problems.push(problem(
            Severity::Medium,
            format!(
                "{qname} has \"{t}\", which looks like a DMARC record but is discarded because \
                 it does not begin with exactly v=DMARC1, so the record at _dmarc.{at} applies \
                 instead"
            ),
            format!("Begin the TXT record at {qname} with v=DMARC1, or delete it."),
        ));
    }
    let r = &r;
    if r.problems.is_empty() {
        return DMARC_SYNTAX
            .finding(
                Status::Pass,
                format!("The DMARC record at _dmarc.{at} is well-formed: \"{text}\"."),
            )
            .with_evidences(ev.to_vec());
    }
    let sev = r
        .problems
        .iter()
        .map(|p| p.severity)
        .max()
        .unwrap_or(Severity::High);
    let list: Vec<&str> = r.problems.iter().map(|p| p.text.as_str()).collect();
    let consequence = match r.usability() {
        Usability::Applies => "",
        Usability::AsNone => {
            " Because the policy is invalid but a report address is valid, receivers act as if \
             it said p=none (RFC 7489 §6.6.3)."
        }
        Usability::Ignored => " Receivers apply no DMARC processing with this record.",
    };
    let mut fixes: Vec<&str> = Vec::new();
    for p in &r.problems {
        if !fixes.contains(&p.fix.as_str()) {
            fixes.push(&p.fix);
        }
    }
    DMARC_SYNTAX
        .finding(
            Status::Fail,
            format!(
                "The DMARC record in force is _dmarc.{at} (\"{text}\"). Problems: {}.{consequence}",
                list.join("; ")
            ),
        )
        .with_severity(sev)
        .with_evidences(ev.to_vec())
        .with_remediation(format!(
            "{}\nA well-formed record looks like:\n_dmarc.{at}. TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@{at}\"",
            fixes.join("\n")
        ))
}

fn judge_policy(domain: &str, at: &str, r: &Record, inherited: bool, ev: &[Evidence]) -> Finding {
    let (p, sp) = match r.usability() {
        Usability::Ignored => {
            return DMARC_POLICY
                .finding(
                    Status::Info,
                    format!(
                        "The record at _dmarc.{at} is unusable, so no policy applies (see \
                         dmarc.missing and dmarc.syntax)."
                    ),
                )
                .with_evidences(ev.to_vec())
        }
        Usability::AsNone => (Disposition::None, None),
        Usability::Applies => (r.p.unwrap_or(Disposition::None), r.sp),
    };
    // A parent's record applies to subdomains through sp (else p).
    let effective = if inherited { sp.unwrap_or(p) } else { p };
    let mut problems = Vec::new();
    if effective == Disposition::None {
        problems.push(format!(
            "the policy for {domain} is none: receivers only monitor, and forged mail is still delivered"
        ));
    }
    if let Some(n) = r.pct.filter(|n| *n < 100) {
        problems.push(format!(
            "pct={n}: the policy applies to only {n}% of failing mail"
        ));
    }
    if let Some(sp) = sp.filter(|sp| *sp < p) {
        problems.push(format!(
            "sp={} is weaker than p={}, so subdomains are easier to forge",
            sp.as_str(),
            p.as_str()
        ));
    }
    if r.testing {
        problems.push("t=y: the record is in testing mode and receivers may not enforce it".into());
    }
    let effective = effective.as_str();
    if problems.is_empty() {
        return DMARC_POLICY
            .finding(
                Status::Pass,
                format!("The DMARC policy for {domain} is {effective} for all mail."),
            )
            .with_evidences(ev.to_vec());
    }
    let next = if effective == "none" {
        "quarantine"
    } else {
        "reject"
    };
    DMARC_POLICY
        .finding(
            Status::Fail,
            format!("{}.", capitalise(&problems.join("; "))),
        )
        .with_evidences(ev.to_vec())
        .with_remediation(format!(
            "Once aggregate reports show that all your legitimate senders pass SPF or DKIM in \
             alignment, enforce the policy for all mail (no pct below 100, no t=y, no weaker sp):\n\
             _dmarc.{at}. TXT \"v=DMARC1; p={next}; rua=mailto:dmarc-reports@{at}\"\n\
             then move on to p=reject."
        ))
}

fn is_authorised(a: &DnsAnswer) -> bool {
    a.of_type()
        .filter_map(|d| d.txt_joined())
        .any(|t| is_dmarc_record(&t))
}

fn judge_rua(domain: &str, at: &str, r: &Record, l: &Lookup) -> Finding {
    let mut ev = l.evidence.clone();
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    let mut undecided = Vec::new();
    let mut authorised = Vec::new();
    if r.rua.is_empty() {
        problems.push(if r.has_tag("rua") {
            "rua= names no usable mailto: address, so you receive no aggregate reports".to_string()
        } else {
            "there is no rua= tag, so you receive no aggregate reports and cannot see who sends \
             mail as your domain"
                .to_string()
        });
        fixes.push(format!(
            "Add an aggregate report address: rua=mailto:dmarc-reports@{at}"
        ));
    }
    for check in &l.reports {
        match &check.answer {
            Err(e) => undecided.push(format!("{} ({e})", check.qname)),
            Ok(a) => {
                ev.push(a.evidence());
                if !a.is_definite() {
                    undecided.push(format!(
                        "{} (resolver answered {})",
                        check.qname,
                        a.rcode_text()
                    ));
                } else if is_authorised(a) {
                    authorised.push(check.destination.clone());
                } else {
                    problems.push(format!(
                        "the report destination {} has not authorised reports for {at}: {} has \
                         no v=DMARC1 record, so receivers send nothing there",
                        check.destination, check.qname
                    ));
                    fixes.push(format!(
                        "Ask the operator of {} to publish\n{}. TXT \"v=DMARC1\"\n(or \
                         *._report._dmarc.{}), or send the reports to an address in {}.",
                        check.destination, check.qname, check.destination, l.org_domain
                    ));
                }
            }
        }
    }
    if !l.unchecked.is_empty() {
        ev.push(Evidence::Note {
            text: format!(
                "{} more external report destinations were not checked (at most {MAX_REPORT_CHECKS} \
                 per audit): {}",
                l.unchecked.len(),
                l.unchecked.join(", ")
            ),
        });
    }
    if !problems.is_empty() {
        let mut detail = format!("{}.", capitalise(&problems.join("; ")));
        if !undecided.is_empty() {
            detail.push_str(&format!(
                " These authorisations could not be looked up: {}.",
                undecided.join(", ")
            ));
        }
        return DMARC_RUA
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remediation(fixes.join("\n"));
    }
    if !undecided.is_empty() {
        return DMARC_RUA
            .finding(
                Status::Unknown,
                format!(
                    "The authorisation of external report destinations could not be looked up: \
                     {}. Query them with dig TXT from another resolver.",
                    undecided.join(", ")
                ),
            )
            .with_evidences(ev);
    }
    let all: Vec<&str> = r.rua.iter().map(|u| u.uri.as_str()).collect();
    let mut detail = format!("Aggregate reports for {domain} go to {}.", all.join(", "));
    if !authorised.is_empty() {
        detail.push_str(&format!(
            " The external destinations {} have authorised them.",
            authorised.join(", ")
        ));
    }
    DMARC_RUA.finding(Status::Pass, detail).with_evidences(ev)
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
    use crate::net::NetError;
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;
    use hickory_proto::op::ResponseCode;

    fn run(net: &ScriptedNet, domain: &str) -> Vec<Finding> {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let l = block_on(lookup(&r, domain));
        judge(domain, &l)
    }

    fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
        fs.iter().find(|f| f.id == id).unwrap()
    }

    fn status(fs: &[Finding], id: &str) -> Status {
        get(fs, id).status
    }

    const GOOD: &str = "v=DMARC1; p=reject; rua=mailto:dmarc@example.org";

    #[test]
    fn judge_gives_one_finding_per_rule_in_catalog_order() {
        let nets = [
            ScriptedNet::new().txt("_dmarc.example.org", GOOD),
            ScriptedNet::new().a("example.org", "192.0.2.1"),
            ScriptedNet::new()
                .txt("_dmarc.example.org", GOOD)
                .txt("_dmarc.example.org", GOOD),
            ScriptedNet::new().error(
                "_dmarc.example.org",
                RecordType::TXT,
                NetError::Timeout(5000),
            ),
        ];
        for net in &nets {
            let ids: Vec<String> = run(net, "example.org").into_iter().map(|f| f.id).collect();
            let want: Vec<&str> = RULES.iter().map(|r| r.id).collect();
            assert_eq!(ids, want);
        }
    }

    #[test]
    fn hardened_record_passes_everything() {
        let net = ScriptedNet::new().txt("_dmarc.example.org", GOOD);
        let fs = run(&net, "example.org");
        for f in &fs {
            assert_eq!(f.status, Status::Pass, "{}: {}", f.id, f.detail);
        }
        assert_eq!(net.requests(), 1, "own-domain rua needs no authorisation");
    }

    #[test]
    fn none_policy_fails() {
        let net = ScriptedNet::new().txt("_dmarc.example.org", "v=DMARC1; p=none");
        let fs = run(&net, "example.org");
        assert_eq!(status(&fs, "dmarc.missing"), Status::Pass);
        let p = get(&fs, "dmarc.policy");
        assert_eq!(p.status, Status::Fail);
        assert!(p.detail.contains("none"));
        assert!(p.remediation.contains("p=quarantine"));
    }

    #[test]
    fn weak_parts_of_an_enforcing_policy_fail() {
        for rec in [
            "v=DMARC1; p=reject; pct=50",
            "v=DMARC1; p=reject; sp=none",
            "v=DMARC1; p=quarantine; t=y",
        ] {
            let net = ScriptedNet::new().txt("_dmarc.example.org", rec);
            let fs = run(&net, "example.org");
            assert_eq!(status(&fs, "dmarc.policy"), Status::Fail, "{rec}");
            assert_eq!(status(&fs, "dmarc.syntax"), Status::Pass, "{rec}");
        }
    }

    #[test]
    fn subdomain_falls_back_to_the_psl_organisational_domain() {
        let net = ScriptedNet::new().txt("_dmarc.example.co.uk", "v=DMARC1; p=reject; sp=none");
        let fs = run(&net, "a.b.shop.example.co.uk");
        // Two queries: the name itself, then the organisational domain,
        // never the intermediate names or the public suffix.
        let asked: Vec<String> = net.asked().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            asked,
            ["_dmarc.a.b.shop.example.co.uk", "_dmarc.example.co.uk"]
        );
        assert_eq!(status(&fs, "dmarc.missing"), Status::Pass);
        let p = get(&fs, "dmarc.policy");
        assert_eq!(p.status, Status::Fail, "sp=none applies to subdomains");
        assert!(p.detail.contains("a.b.shop.example.co.uk"));
    }

    #[test]
    fn intermediate_records_are_not_consulted() {
        // A tree walk would find this one; RFC 7489 receivers do not.
        let net = ScriptedNet::new().txt("_dmarc.b.example.org", GOOD);
        let fs = run(&net, "a.b.example.org");
        assert_eq!(status(&fs, "dmarc.missing"), Status::Fail);
        assert_eq!(net.asked().len(), 2);
    }

    #[test]
    fn own_record_wins_over_the_organisational_domain() {
        let net = ScriptedNet::new()
            .txt("_dmarc.mail.example.org", "v=DMARC1; p=none")
            .txt("_dmarc.example.org", GOOD);
        let fs = run(&net, "mail.example.org");
        assert_eq!(status(&fs, "dmarc.policy"), Status::Fail);
        assert_eq!(net.asked().len(), 1);
    }

    #[test]
    fn missing_everywhere() {
        let net = ScriptedNet::new().a("example.org", "198.51.100.1");
        let fs = run(&net, "mail.example.org");
        let m = get(&fs, "dmarc.missing");
        assert_eq!(m.status, Status::Fail);
        assert!(m.detail.contains("organisational domain example.org"));
        assert_eq!(m.evidence.len(), 2);
        for id in ["dmarc.syntax", "dmarc.policy", "dmarc.rua"] {
            assert_eq!(status(&fs, id), Status::Info, "{id}");
        }
    }

    #[test]
    fn several_records_are_ignored_by_receivers() {
        let net = ScriptedNet::new()
            .txt("_dmarc.example.org", "v=DMARC1; p=reject")
            .txt("_dmarc.example.org", "v=DMARC1; p=none");
        let fs = run(&net, "example.org");
        assert_eq!(status(&fs, "dmarc.missing"), Status::Fail);
        assert_eq!(status(&fs, "dmarc.syntax"), Status::Fail);
        assert_eq!(status(&fs, "dmarc.policy"), Status::Info);
    }

    #[test]
    fn several_at_the_domain_stops_discovery() {
        let net = ScriptedNet::new()
            .txt("_dmarc.mail.example.org", "v=DMARC1; p=reject")
            .txt("_dmarc.mail.example.org", "v=DMARC1; p=none")
            .txt("_dmarc.example.org", GOOD);
        let fs = run(&net, "mail.example.org");
        assert_eq!(status(&fs, "dmarc.missing"), Status::Fail);
        assert_eq!(net.asked().len(), 1);
    }

    #[test]
    fn lookup_failure_is_unknown_not_missing() {
        let net = ScriptedNet::new().rcode(
            "_dmarc.example.org",
            RecordType::TXT,
            ResponseCode::ServFail,
        );
        for f in run(&net, "example.org") {
            assert_eq!(f.status, Status::Unknown, "{}", f.id);
            assert!(f.detail.contains("SERVFAIL"));
        }
        // A failure at the organisational domain after a definite miss.
        let net = ScriptedNet::new().a("mail.example.org", "192.0.2.1").error(
            "_dmarc.example.org",
            RecordType::TXT,
            NetError::Timeout(5000),
        );
        for f in run(&net, "mail.example.org") {
            assert_eq!(f.status, Status::Unknown, "{}", f.id);
        }
    }

    #[test]
    fn mistyped_version_is_discarded_and_reported() {
        for rec in [
            "v=DMARC10; p=reject",
            "v=dmarc1; p=reject",
            "p=reject; v=DMARC1",
        ] {
            let net = ScriptedNet::new().txt("_dmarc.example.org", rec);
            let fs = run(&net, "example.org");
            assert_eq!(status(&fs, "dmarc.missing"), Status::Fail, "{rec}");
            let s = get(&fs, "dmarc.syntax");
            assert_eq!(s.status, Status::Fail, "{rec}");
            assert!(s.detail.contains(rec), "{}", s.detail);
        }
        // Unrelated TXT at _dmarc is not a near miss.
        let net = ScriptedNet::new().txt("_dmarc.example.org", "google-site-verification=x");
        assert_eq!(
            status(&run(&net, "example.org"), "dmarc.syntax"),
            Status::Info
        );
    }

    #[test]
    fn discarded_look_alike_beside_an_inherited_record_is_reported() {
        let net = ScriptedNet::new()
            .txt("_dmarc.mail.example.org", "v=dmarc1; p=reject")
            .txt("_dmarc.example.org", GOOD);
        let fs = run(&net, "mail.example.org");
        assert_eq!(status(&fs, "dmarc.missing"), Status::Pass);
        let s = get(&fs, "dmarc.syntax");
        assert_eq!((s.status, s.severity), (Status::Fail, Severity::Medium));
        assert!(
            s.detail.contains("_dmarc.mail.example.org has"),
            "{}",
            s.detail
        );
        assert!(discovery_assumption().contains("Public Suffix List of 20"));
    }

    #[test]
    fn version_detection() {
        for ok in [
            "v=DMARC1",
            "v = DMARC1 ; p=none",
            "\tv=DMARC1;p=none",
            "v=DMARC1;",
        ] {
            assert!(is_dmarc_record(ok), "{ok}");
        }
        for bad in [
            "v=DMARC1p=none",
            "v=DMARC2; p=none",
            "V=dmarc1",
            "x v=DMARC1",
            "",
        ] {
            assert!(!is_dmarc_record(bad), "{bad}");
        }
    }

    fn problems(rec: &str) -> Vec<String> {
        parse(rec).problems.into_iter().map(|p| p.text).collect()
    }

    #[test]
    fn valid_records_have_no_problems() {
        for rec in [
            GOOD,
            "v=DMARC1;p=quarantine",
            "v=DMARC1; P=Reject; SP=quarantine; NP=reject; pct=100; adkim=s; aspf=r; fo=0:1:d:s; \
             rf=afrf; ri=86400; rua=mailto:a@example.org!10m, mailto:b@example.net; \
             ruf=mailto:f@example.org; psd=n; t=n;",
            "v=DMARC1; p=none; rua=mailto:a@example.org?subject=dmarc",
            "v=DMARC1 ; p = reject ;",
        ] {
            assert_eq!(problems(rec), Vec::<String>::new(), "{rec}");
        }
    }

    #[test]
    fn each_grammar_is_enforced() {
        for (rec, needle, sev) in [
            ("v=DMARC1; p=rejekt", "p=rejekt", Severity::High),
            ("v=DMARC1; p=reject; sp=all", "sp=all", Severity::High),
            ("v=DMARC1; p=reject; np=x", "np=x", Severity::Medium),
            ("v=DMARC1; p=reject; pct=101", "pct=101", Severity::Medium),
            ("v=DMARC1; p=reject; pct=-1", "pct=-1", Severity::Medium),
            ("v=DMARC1; p=reject; pct=+50", "pct=+50", Severity::Medium),
            (
                "v=DMARC1; p=reject; adkim=strict",
                "adkim=strict",
                Severity::Medium,
            ),
            ("v=DMARC1; p=reject; aspf=", "aspf=", Severity::Medium),
            ("v=DMARC1; p=reject; fo=1,d", "fo=1,d", Severity::Medium),
            ("v=DMARC1; p=reject; fo=2", "fo=2", Severity::Medium),
            ("v=DMARC1; p=reject; rf=iodef", "rf=iodef", Severity::Medium),
            ("v=DMARC1; p=reject; ri=1d", "ri=1d", Severity::Medium),
            ("v=DMARC1; p=reject; psd=yes", "psd=yes", Severity::Medium),
            ("v=DMARC1; p=reject; t=1", "t=1", Severity::Medium),
            (
                "v=DMARC1; p=reject; rua=dmarc@example.org",
                "not a URI",
                Severity::Medium,
            ),
            (
                "v=DMARC1; p=reject; rua=https://example.org/r",
                "not a mailto",
                Severity::Medium,
            ),
            (
                "v=DMARC1; p=reject; rua=mailto:example.org",
                "no address",
                Severity::Medium,
            ),
            (
                "v=DMARC1; p=reject; rua=mailto:a@example.org!10x",
                "size",
                Severity::Medium,
            ),
            (
                "v=DMARC1; p=reject; rua=mailto:a@exa mple.org",
                "usable",
                Severity::Medium,
            ),
            ("v=DMARC1; p=reject; rua=", "empty", Severity::Medium),
            (
                "v=DMARC1; p=reject; ruf=mailto:a@ex%61mple.org",
                "usable",
                Severity::Medium,
            ),
            (
                "v=DMARC1; p=reject; p=none",
                "more than once",
                Severity::High,
            ),
            (
                "v=DMARC1; p=reject; pct=100; pct=50",
                "more than once",
                Severity::Medium,
            ),
            (
                "v=DMARC1; p=reject; v=DMARC1",
                "more than once",
                Severity::High,
            ),
            (
                "v=DMARC1; p=reject; rau=mailto:a@example.org",
                "unknown",
                Severity::Low,
            ),
            (
                "v=DMARC1; p=reject; quarantine",
                "not a tag=value",
                Severity::Medium,
            ),
            (
                "v=DMARC1; rua=mailto:a@example.org",
                "no p= tag",
                Severity::High,
            ),
            ("p=reject", "instead of `v=DMARC1`", Severity::High),
        ] {
            let r = parse(rec);
            assert!(
                r.problems
                    .iter()
                    .any(|p| p.text.contains(needle) && p.severity == sev),
                "{rec}: {:?}",
                r.problems
            );
        }
    }

    #[test]
    fn first_value_of_a_duplicate_is_kept() {
        let r = parse("v=DMARC1; p=reject; p=none");
        assert_eq!(r.p, Some(Disposition::Reject));
    }

    #[test]
    fn invalid_policy_with_rua_acts_as_none() {
        let net = ScriptedNet::new().txt(
            "_dmarc.example.org",
            "v=DMARC1; p=block; rua=mailto:d@example.org",
        );
        let fs = run(&net, "example.org");
        assert_eq!(status(&fs, "dmarc.missing"), Status::Pass);
        let s = get(&fs, "dmarc.syntax");
        assert_eq!((s.status, s.severity), (Status::Fail, Severity::High));
        assert!(s.detail.contains("as if it said p=none"), "{}", s.detail);
        let p = get(&fs, "dmarc.policy");
        assert_eq!(p.status, Status::Fail);
        assert!(p.detail.contains("none"));
    }

    #[test]
    fn invalid_policy_without_rua_is_ignored() {
        for rec in [
            "v=DMARC1; p=block",
            "v=DMARC1",
            "v=DMARC1; p=reject; sp=bad",
        ] {
            let net = ScriptedNet::new().txt("_dmarc.example.org", rec);
            let fs = run(&net, "example.org");
            assert_eq!(status(&fs, "dmarc.missing"), Status::Fail, "{rec}");
            assert_eq!(status(&fs, "dmarc.syntax"), Status::Fail, "{rec}");
            assert_eq!(status(&fs, "dmarc.policy"), Status::Info, "{rec}");
        }
    }

    #[test]
    fn unknown_tag_is_a_low_failure_only() {
        let net = ScriptedNet::new().txt(
            "_dmarc.example.org",
            "v=DMARC1; p=reject; rua=mailto:d@example.org; foo=bar",
        );
        let fs = run(&net, "example.org");
        let s = get(&fs, "dmarc.syntax");
        assert_eq!((s.status, s.severity), (Status::Fail, Severity::Low));
        assert_eq!(status(&fs, "dmarc.policy"), Status::Pass);
    }

    #[test]
    fn no_aggregate_address_is_a_low_failure() {
        let net = ScriptedNet::new().txt("_dmarc.example.org", "v=DMARC1; p=reject");
        let f = run(&net, "example.org");
        let r = get(&f, "dmarc.rua");
        assert_eq!((r.status, r.severity), (Status::Fail, Severity::Low));
        assert!(r
            .remediation
            .contains("rua=mailto:dmarc-reports@example.org"));
        // Only ruf, or only unusable rua URIs: still no aggregate reports.
        for rec in [
            "v=DMARC1; p=reject; ruf=mailto:f@example.org",
            "v=DMARC1; p=reject; rua=https://example.org/",
        ] {
            let net = ScriptedNet::new().txt("_dmarc.example.org", rec);
            assert_eq!(
                status(&run(&net, "example.org"), "dmarc.rua"),
                Status::Fail,
                "{rec}"
            );
        }
    }

    #[test]
    fn external_destinations_need_authorisation() {
        let rec = "v=DMARC1; p=reject; rua=mailto:a@reports.vendor.example,mailto:b@example.org; \
                   ruf=mailto:f@other.example";
        // Authorised (one exact, one wildcard-style record content).
        let net = ScriptedNet::new()
            .txt("_dmarc.example.org", rec)
            .txt(
                "example.org._report._dmarc.reports.vendor.example",
                "v=DMARC1",
            )
            .txt("example.org._report._dmarc.other.example", "v=DMARC1;");
        let fs = run(&net, "example.org");
        let r = get(&fs, "dmarc.rua");
        assert_eq!(r.status, Status::Pass, "{}", r.detail);
        assert_eq!(r.evidence.len(), 3);
        // The vendor has not authorised; the other destination has.
        let net = ScriptedNet::new()
            .txt("_dmarc.example.org", rec)
            .txt(
                "example.org._report._dmarc.reports.vendor.example",
                "something else",
            )
            .txt("example.org._report._dmarc.other.example", "v=DMARC1");
        let fs = run(&net, "example.org");
        let r = get(&fs, "dmarc.rua");
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.detail
                .contains("destination reports.vendor.example has not authorised"),
            "{}",
            r.detail
        );
        assert!(!r.detail.contains("other.example has not"), "{}", r.detail);
        assert!(r
            .remediation
            .contains("example.org._report._dmarc.reports.vendor.example. TXT \"v=DMARC1\""));
        // Look-up failure: unknown, never missing.
        let net = ScriptedNet::new()
            .txt("_dmarc.example.org", rec)
            .rcode(
                "example.org._report._dmarc.reports.vendor.example",
                RecordType::TXT,
                ResponseCode::ServFail,
            )
            .txt("example.org._report._dmarc.other.example", "v=DMARC1");
        let fs = run(&net, "example.org");
        let r = get(&fs, "dmarc.rua");
        assert_eq!(r.status, Status::Unknown, "{}", r.detail);
        assert!(r.detail.contains("SERVFAIL"));
    }

    #[test]
    fn same_organisation_destinations_are_not_asked() {
        let net = ScriptedNet::new().txt(
            "_dmarc.example.org",
            "v=DMARC1; p=reject; rua=mailto:a@reports.example.org; ruf=mailto:b@EXAMPLE.org",
        );
        let fs = run(&net, "mail.example.org");
        assert_eq!(status(&fs, "dmarc.rua"), Status::Pass);
        assert_eq!(net.asked().len(), 2, "only discovery");
    }

    #[test]
    fn the_policy_domain_names_the_authorisation() {
        // Record inherited from the organisational domain: RFC 7489 §7.1
        // uses the domain the policy was retrieved from.
        let net = ScriptedNet::new()
            .txt(
                "_dmarc.example.org",
                "v=DMARC1; p=reject; rua=mailto:a@vendor.example",
            )
            .txt("example.org._report._dmarc.vendor.example", "v=DMARC1");
        let fs = run(&net, "shop.example.org");
        assert_eq!(status(&fs, "dmarc.rua"), Status::Pass);
    }

    #[test]
    fn destination_checks_are_capped() {
        let uris: Vec<String> = (0..7).map(|i| format!("mailto:r@d{i}.example")).collect();
        let rec = format!("v=DMARC1; p=reject; rua={}", uris.join(","));
        let mut net = ScriptedNet::new().txt("_dmarc.example.org", &rec);
        for i in 0..7 {
            net = net.txt(
                &format!("example.org._report._dmarc.d{i}.example"),
                "v=DMARC1",
            );
        }
        let fs = run(&net, "example.org");
        assert_eq!(net.requests(), 1 + MAX_REPORT_CHECKS);
        let r = get(&fs, "dmarc.rua");
        assert_eq!(r.status, Status::Pass);
        assert!(r
            .evidence
            .iter()
            .any(|e| matches!(e, Evidence::Note { text } if text.contains("d6.example"))));
    }

    #[test]
    fn applied_policy_for_other_rules() {
        let cases = [
            (
                ScriptedNet::new().txt("_dmarc.example.org", GOOD),
                "example.org",
                Applied::Policy {
                    disposition: Disposition::Reject,
                    pct: 100,
                },
            ),
            (
                ScriptedNet::new().txt("_dmarc.example.org", "v=DMARC1; p=reject; sp=none; pct=20"),
                "a.example.org",
                Applied::Policy {
                    disposition: Disposition::None,
                    pct: 20,
                },
            ),
            (
                ScriptedNet::new().txt("_dmarc.example.org", "v=DMARC1"),
                "example.org",
                Applied::Nothing,
            ),
            (
                ScriptedNet::new().a("example.org", "192.0.2.1"),
                "example.org",
                Applied::Nothing,
            ),
            (
                ScriptedNet::new().error(
                    "_dmarc.example.org",
                    RecordType::TXT,
                    NetError::Timeout(1),
                ),
                "example.org",
                Applied::Unknown,
            ),
        ];
        for (net, domain, want) in cases {
            let resolver = Resolver::new(&net, "https://doh.test/dns-query");
            let l = block_on(lookup(&resolver, domain));
            assert_eq!(l.applied(), want, "{domain}");
        }
    }
}
