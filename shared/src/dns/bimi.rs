//! BIMI, Brand Indicators for Message Identification
//! (draft-brand-indicators-for-message-identification-10), and the rule
//! `bimi.record`.
//!
//! API: [`lookup`] asks `default._bimi.<domain>` TXT and, when that holds
//! no BIMI record, `default._bimi.<organisational domain>` (the draft's
//! fallback; organisational domain from the embedded Public Suffix List):
//! at most 2 queries, one after the other. [`judge`] decides the rule
//! (pure) and, given the DMARC look-up, says whether receivers can show the
//! logo at all: BIMI requires DMARC at enforcement. [`parse`] reads one
//! record (pure, any input). The logo and the evidence document are not
//! fetched; the report shows their URLs as text.
//!
//! Presence and absence are `info` (BIMI is optional); a malformed record
//! or several records are a `low` failure.

use crate::dns::dmarc::{self, Applied, Disposition};
use crate::dns::{psl, DnsAnswer, RecordType, Resolver};
use crate::net::Network;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

pub static BIMI_RECORD: Rule = Rule {
    id: "bimi.record",
    area: Area::Authentication,
    title: "BIMI record",
    severity: Severity::Info,
    description: "Info: whether the domain publishes a BIMI record (default._bimi) and where its \
        logo is, and whether DMARC is at the enforcement BIMI requires; fails (low) when the \
        record is malformed (version, missing l=, URLs that are not https, a logo that is not \
        SVG, repeated tags) or there are several.",
    refs: &["draft-brand-indicators-for-message-identification §4.3"],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&BIMI_RECORD];

/// What the look-up found, as for DMARC.
pub use dmarc::Found;

#[derive(Debug, Clone)]
pub struct Lookup {
    pub domain: String,
    pub org_domain: String,
    /// `at` is the domain whose `default._bimi` held the record.
    pub found: Found,
    pub evidence: Vec<Evidence>,
}

/// A well-formed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `l=`: the logo's URL; `None` when empty.
    pub logo: Option<String>,
    /// `a=`: the evidence document's URL (VMC/CMC); `None` when empty.
    pub evidence: Option<String>,
}

impl Record {
    /// `l=` and `a=` both empty: an explicit refusal to take part (§4.3.1).
    pub fn declines(&self) -> bool {
        self.logo.is_none() && self.evidence.is_none()
    }
}

fn wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// A TXT string that is meant as a BIMI record: `v` `=` `BIMI…` (any
/// case; [`parse`] then insists on exactly `BIMI1`).
pub fn is_bimi_candidate(text: &str) -> bool {
    text.trim_start_matches(wsp)
        .strip_prefix('v')
        .map(|r| r.trim_start_matches(wsp))
        .and_then(|r| r.strip_prefix('='))
        .map(|r| r.trim_start_matches(wsp).to_ascii_lowercase())
        .is_some_and(|r| r.starts_with("bimi"))
}

fn candidates(a: &DnsAnswer) -> Vec<String> {
    a.of_type()
        .filter_map(|d| d.txt_joined())
        .filter(|t| is_bimi_candidate(t))
        .collect()
}

pub async fn lookup<N: Network>(resolver: &Resolver<'_, N>, domain: &str) -> Lookup {
    let org_domain = psl::organizational_domain(domain).to_string();
    let mut names = vec![domain.to_string()];
    if org_domain != domain {
        names.push(org_domain.clone());
    }
    let mut evidence = Vec::new();
    let mut found = Found::None;
    for name in names {
        let qname = format!("default._bimi.{name}");
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
        let mut recs = candidates(&a);
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
    Lookup {
        domain: domain.to_string(),
        org_domain,
        found,
        evidence,
    }
}

const OTHER_IMAGES: &[&str] = &[
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico", ".tif", ".tiff", ".avif",
];

/// An `l=`/`a=` value: empty, or one https URL with a host name.
fn check_uri(tag: &str, value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.contains(',') {
        return Err(format!(
            "{tag}= must hold a single URL (commas must be percent-encoded): `{value}`"
        ));
    }
    let url = url::Url::parse(value).map_err(|e| format!("{tag}={value} is not a URL ({e})"))?;
    if url.scheme() != "https" {
        return Err(format!("{tag}={value} must be an https: URL"));
    }
    if !url.domain().is_some_and(|h| h.contains('.')) {
        return Err(format!(
            "{tag}={value} must name its host by a fully qualified domain name"
        ));
    }
    if tag == "l" {
        let path = url.path().to_ascii_lowercase();
        if let Some(ext) = OTHER_IMAGES.iter().find(|e| path.ends_with(*e)) {
            return Err(format!(
                "l={value} points to a {} image; BIMI logos must be SVG (SVG Tiny PS)",
                &ext[1..]
            ));
        }
    }
    Ok(Some(value.to_string()))
}

/// Reads a record (§4.3): `v=BIMI1` first, `l=` required (empty or one
/// https URL to an SVG), `a=` optional (empty or one https URL), `lps`
/// true|false, `avp` brand|personal; unknown tags are ignored; tag names
/// and values are case-sensitive, as the draft forbids fixing them.
pub fn parse(text: &str) -> Result<Record, Vec<String>> {
    let mut errors = Vec::new();
    let mut parts = text.split(';');
    let first = parts.next().unwrap_or("");
    let version = first
        .split_once('=')
        .filter(|(v, _)| v.trim_matches(wsp) == "v")
        .map(|(_, value)| value.trim_matches(wsp));
    if version != Some("BIMI1") {
        errors.push(format!(
            "it must begin with v=BIMI1 (exactly), not `{}`; receivers ignore it",
            first.trim()
        ));
    }
    let mut seen: Vec<String> = vec!["v".into()];
    let mut logo = None;
    let mut evidence = None;
    let mut has_l = false;
    for part in parts {
        let part = part.trim_matches(wsp);
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            errors.push(format!("`{part}` is not a tag=value pair"));
            continue;
        };
        let name = name.trim_matches(wsp);
        let value = value.trim_matches(wsp);
        if seen.iter().any(|s| s == name) {
            errors.push(format!("the tag {name}= appears more than once"));
            continue;
        }
        seen.push(name.to_string());
        match name {
            "l" => {
                has_l = true;
                match check_uri("l", value) {
                    Ok(u) => logo = u,
                    Err(e) => errors.push(e),
                }
            }
            "a" => match check_uri("a", value) {
                Ok(u) => evidence = u,
                Err(e) => errors.push(e),
            },
            "lps" if !matches!(value, "true" | "false") => {
                errors.push(format!("lps={value} must be true or false"))
            }
            "avp" if !matches!(value, "brand" | "personal") => {
                errors.push(format!("avp={value} must be brand or personal"))
            }
            _ => {}
        }
    }
    if !has_l {
        errors.push("there is no l= tag (required; empty to decline BIMI)".into());
    }
    if errors.is_empty() {
        Ok(Record { logo, evidence })
    } else {
        Err(errors)
    }
}

/// What DMARC allows, in words, and whether it is enough for BIMI.
fn dmarc_note(domain: &str, d: Option<&dmarc::Lookup>) -> Option<(bool, String)> {
    let note = match d?.applied() {
        Applied::Unknown => return None,
        Applied::Nothing => (
            false,
            format!(
                "{domain} has no usable DMARC policy, and BIMI requires DMARC at enforcement \
                 (p=quarantine at pct=100, or p=reject): receivers show no logo"
            ),
        ),
        Applied::Policy { disposition, pct } => {
            let enforced = disposition == Disposition::Reject
                || (disposition == Disposition::Quarantine && pct == 100);
            if enforced {
                (
                    true,
                    format!(
                        "DMARC for {domain} is at enforcement (p={}), as BIMI requires",
                        disposition.as_str()
                    ),
                )
            } else {
                (
                    false,
                    format!(
                        "the DMARC policy applied to {domain} is {} at pct={pct}, but BIMI \
                         requires enforcement (p=quarantine at pct=100, or p=reject, with no \
                         sp=none): receivers show no logo",
                        disposition.as_str()
                    ),
                )
            }
        }
    };
    Some(note)
}

/// `bimi.record`. `dmarc` (optional) adds whether DMARC allows a logo.
pub fn judge(domain: &str, l: &Lookup, dmarc: Option<&dmarc::Lookup>) -> Vec<Finding> {
    let ev = l.evidence.clone();
    let note = dmarc_note(domain, dmarc);
    let with_note = |s: String| match &note {
        Some((_, n)) => format!("{s} Also, {n}."),
        None => s,
    };
    let publish = format!(
        "default._bimi.{domain}. TXT \"v=BIMI1; l=https://{domain}/bimi/logo.svg; \
         a=https://{domain}/bimi/vmc.pem\"\n(the logo in SVG Tiny PS; most mailbox providers \
         also want a Verified or Common Mark Certificate at a=)"
    );
    let finding = match &l.found {
        Found::Unknown { at, reason } => BIMI_RECORD.finding(
            Status::Unknown,
            format!("The BIMI record could not be looked up at {at} ({reason})."),
        ),
        Found::None => {
            let mut f = BIMI_RECORD.finding(
                Status::Info,
                with_note(format!(
                    "{domain} publishes no BIMI record (optional: it lets supporting mailboxes \
                     show your logo beside authenticated mail)."
                )),
            );
            if note.as_ref().is_some_and(|(ok, _)| *ok) {
                f = f.with_remediation(format!("To show a logo, publish\n{publish}"));
            }
            f
        }
        Found::Several { at, texts } => BIMI_RECORD
            .finding(
                Status::Fail,
                format!(
                    "default._bimi.{at} has {} BIMI records; receivers use none of them.",
                    texts.len()
                ),
            )
            .with_severity(Severity::Low)
            .with_remediation(format!("Keep exactly one record, e.g.\n{publish}")),
        Found::Record { at, text } => match parse(text) {
            Err(errors) => BIMI_RECORD
                .finding(
                    Status::Fail,
                    format!(
                        "The BIMI record at default._bimi.{at} (\"{text}\") is malformed: {}.",
                        errors.join("; ")
                    ),
                )
                .with_severity(Severity::Low)
                .with_remediation(format!("Publish a well-formed record, e.g.\n{publish}")),
            Ok(r) if r.declines() => BIMI_RECORD.finding(
                Status::Info,
                format!(
                    "default._bimi.{at} declines BIMI explicitly (empty l= and a=): no logo is \
                     shown for {domain}."
                ),
            ),
            Ok(r) => {
                let whose = if at == domain {
                    String::new()
                } else {
                    format!(" (the record of its organisational domain {at})")
                };
                let logo = match &r.logo {
                    Some(u) => format!("the logo at {u}"),
                    None => "the logo inside its evidence document".into(),
                };
                let evidence = match &r.evidence {
                    Some(u) => format!("evidence document (mark certificate) at {u}"),
                    None => "no evidence document (a=), which Gmail and Apple Mail require \
                             before they show a logo"
                        .into(),
                };
                let mut f = BIMI_RECORD.finding(
                    Status::Info,
                    with_note(format!(
                        "{domain} publishes BIMI{whose}: {logo}, {evidence}."
                    )),
                );
                if note.as_ref().is_some_and(|(ok, _)| !ok) {
                    f = f.with_remediation(
                        "Move DMARC to enforcement (see dmarc.policy) so receivers can show \
                         the logo.",
                    );
                }
                f
            }
        },
    };
    vec![finding.with_evidences(ev)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::NetError;
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;
    use hickory_proto::op::ResponseCode;

    const GOOD: &str = "v=BIMI1; l=https://example.org/logo.svg; a=https://example.org/vmc.pem";

    fn run(net: &ScriptedNet, domain: &str, with_dmarc: bool) -> Finding {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let (b, d) =
            block_on(async { futures::join!(lookup(&r, domain), dmarc::lookup(&r, domain)) });
        let mut fs = judge(domain, &b, with_dmarc.then_some(&d));
        assert_eq!(fs.len(), 1);
        fs.remove(0)
    }

    #[test]
    fn present_record_is_info_with_the_logo_url() {
        let net = ScriptedNet::new()
            .txt("default._bimi.example.org", GOOD)
            .txt("_dmarc.example.org", "v=DMARC1; p=reject");
        let f = run(&net, "example.org", true);
        assert_eq!(f.status, Status::Info);
        assert!(
            f.detail.contains("https://example.org/logo.svg"),
            "{}",
            f.detail
        );
        assert!(f.detail.contains("at enforcement"), "{}", f.detail);
        assert_eq!(f.evidence.len(), 1);
    }

    #[test]
    fn dmarc_without_enforcement_is_explained() {
        for rec in ["v=DMARC1; p=none", "v=DMARC1; p=quarantine; pct=50"] {
            let net = ScriptedNet::new()
                .txt("default._bimi.example.org", GOOD)
                .txt("_dmarc.example.org", rec);
            let f = run(&net, "example.org", true);
            assert_eq!(f.status, Status::Info);
            assert!(
                f.detail.contains("receivers show no logo"),
                "{rec}: {}",
                f.detail
            );
            assert!(f.remediation.contains("dmarc.policy"));
        }
        let net = ScriptedNet::new().txt("default._bimi.example.org", GOOD);
        let f = run(&net, "example.org", true);
        assert!(f.detail.contains("no usable DMARC"), "{}", f.detail);
        // Without the DMARC look-up nothing is claimed.
        let f = run(&net, "example.org", false);
        assert!(!f.detail.contains("DMARC"), "{}", f.detail);
    }

    #[test]
    fn absent_is_info_and_the_org_domain_is_consulted() {
        let net = ScriptedNet::new().a("example.org", "192.0.2.1");
        let f = run(&net, "mail.example.org", false);
        assert_eq!(f.status, Status::Info);
        assert_eq!(f.evidence.len(), 2);
        let net = ScriptedNet::new().txt("default._bimi.example.org", GOOD);
        let f = run(&net, "mail.example.org", false);
        assert_eq!(f.status, Status::Info);
        assert!(
            f.detail.contains("organisational domain example.org"),
            "{}",
            f.detail
        );
    }

    #[test]
    fn declination_is_recognised() {
        for rec in ["v=BIMI1; l=; a=;", "v=BIMI1; l=", "v=BIMI1;l=;a=;lps=true"] {
            let net = ScriptedNet::new().txt("default._bimi.example.org", rec);
            let f = run(&net, "example.org", false);
            assert_eq!(f.status, Status::Info, "{rec}");
            assert!(f.detail.contains("declines"), "{rec}: {}", f.detail);
        }
        // Logo from the evidence document only.
        let r = parse("v=BIMI1; l=; a=https://example.org/vmc.pem").unwrap();
        assert!(!r.declines());
    }

    #[test]
    fn malformed_records_fail_low() {
        for (rec, needle) in [
            ("v=BIMI2; l=https://example.org/l.svg", "v=BIMI1"),
            ("v=bimi1; l=https://example.org/l.svg", "v=BIMI1"),
            ("v=BIMI1", "no l="),
            ("v=BIMI1; L=https://example.org/l.svg", "no l="),
            ("v=BIMI1; l=http://example.org/l.svg", "https"),
            ("v=BIMI1; l=https://example.org/logo.png", "SVG"),
            ("v=BIMI1; l=https://192.0.2.1/l.svg", "domain name"),
            ("v=BIMI1; l=example.org/l.svg", "not a URL"),
            (
                "v=BIMI1; l=https://a.example/1.svg,https://a.example/2.svg",
                "single URL",
            ),
            (
                "v=BIMI1; l=https://example.org/l.svg; a=ftp://example.org/v.pem",
                "https",
            ),
            ("v=BIMI1; l=; l=https://example.org/l.svg", "more than once"),
            ("v=BIMI1; l=https://example.org/l.svg; avp=logo", "avp"),
            ("v=BIMI1; l=https://example.org/l.svg; lps=yes", "lps"),
            ("v=BIMI1; l=https://example.org/l.svg; junk", "tag=value"),
        ] {
            let net = ScriptedNet::new().txt("default._bimi.example.org", rec);
            let f = run(&net, "example.org", false);
            assert_eq!(
                (f.status, f.severity),
                (Status::Fail, Severity::Low),
                "{rec}"
            );
            assert!(f.detail.contains(needle), "{rec}: {}", f.detail);
            assert!(f.remediation.contains("v=BIMI1; l=https://"));
        }
        // Unknown tags are ignored, as the draft says.
        assert!(parse("v=BIMI1; l=https://example.org/l.svg; x=1").is_ok());
    }

    #[test]
    fn several_and_failures() {
        let net = ScriptedNet::new()
            .txt("default._bimi.example.org", GOOD)
            .txt("default._bimi.example.org", "v=BIMI1; l=");
        assert_eq!(run(&net, "example.org", false).status, Status::Fail);
        let net = ScriptedNet::new().rcode(
            "default._bimi.example.org",
            RecordType::TXT,
            ResponseCode::ServFail,
        );
        assert_eq!(run(&net, "example.org", false).status, Status::Unknown);
        let net = ScriptedNet::new().a("mail.example.org", "192.0.2.1").error(
            "default._bimi.example.org",
            RecordType::TXT,
            NetError::Timeout(1),
        );
        assert_eq!(run(&net, "mail.example.org", false).status, Status::Unknown);
        // Other TXT beside the record does not count.
        let net = ScriptedNet::new()
            .txt("default._bimi.example.org", GOOD)
            .txt("default._bimi.example.org", "something else");
        assert_eq!(run(&net, "example.org", false).status, Status::Info);
    }
}
