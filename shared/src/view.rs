//! What the report views (the website, the widget) derive from a report:
//! the area of each finding, the domain typed in (an address gives its
//! domain; an IDN in both forms), and the data behind the pictures — the SPF
//! look-up tree, the blocklist grid, the certificate timeline — and the
//! `.ics` reminders.
//!
//! Everything here reads the report contract (`mailaudit/report/v1`) only:
//! a report fetched from any server, or made in the page, draws the same.
//! The pictures are read back from the evidence the rules write (the SPF
//! tree lines of [`crate::dns::spf::LookupNode::lines`], the certificate
//! notes of [`crate::tls::rules`], the DNS answers of the blocklist rules);
//! the tests below make each from the engine's own output, so a change of
//! wording there fails here. All of it is untrusted text: nothing panics on
//! it, and what does not parse is left out of the picture (the cards still
//! show it).

use crate::dns::blocklist::lists::{Target, LISTS};
use crate::dns::spf::LookupNode;
use crate::probe::plan::unix_time;
use crate::report::{Evidence, Finding, Report};
use crate::rules::{self, Area};
use crate::tls::cert::CertSummary;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// ------------------------------------------------------------------ areas

/// The area of a finding: the registry's, or for an id this build does not
/// know (a report from a newer server) a guess from its prefix.
pub fn area_of(id: &str) -> Area {
    if let Some(r) = rules::by_id(id) {
        return r.area;
    }
    let prefix = id.split('.').next().unwrap_or("");
    match prefix {
        "dns" | "mx" | "ptr" | "dnssec" => Area::Dns,
        "spf" | "dkim" | "dmarc" | "bimi" | "arc" => Area::Authentication,
        "mtasts" | "tlsrpt" | "dane" | "tls" | "starttls" => Area::Transport,
        "smtp" | "probe" | "ports" => Area::Server,
        "blocklist" => Area::Blocklists,
        _ => Area::Config,
    }
}

/// What a report's findings of one area are about, as a heading:
/// [`Area::title`], except that the config area of a mail-log analysis
/// (`logs.*` findings, from the logs tab or a log pasted in the paste tab)
/// is not called "Pasted configuration".
pub fn area_title<'a>(area: Area, findings: impl IntoIterator<Item = &'a Finding>) -> &'static str {
    if area != Area::Config {
        return area.title();
    }
    let (mut logs, mut config) = (false, false);
    for f in findings {
        if f.id.starts_with("logs.") {
            logs = true;
        } else {
            config = true;
        }
    }
    match (logs, config) {
        (true, false) => "Mail log analysis",
        (true, true) => "Pasted configuration and mail logs",
        _ => area.title(),
    }
}

/// What a report is of, for export file names: `mail-logs`, or
/// `pasted-config` for anything else offline; `None` for a domain audit.
pub fn offline_subject(report: &Report) -> Option<&'static str> {
    let offline: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| area_of(&f.id) == Area::Config)
        .collect();
    if offline.is_empty() {
        return None;
    }
    Some(if offline.iter().all(|f| f.id.starts_with("logs.")) {
        "mail-logs"
    } else {
        "pasted-config"
    })
}

/// The area's key as the API writes it (lowercase, as in the NDJSON
/// `start` line).
pub fn area_key(area: Area) -> String {
    serde_json::to_value(area)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Every area of the registry, in order.
pub fn all_areas() -> Vec<Area> {
    let mut v: Vec<Area> = rules::all().map(|r| r.area).collect();
    v.sort();
    v.dedup();
    v
}

/// The area with this key, if this build knows it.
pub fn area_by_key(key: &str) -> Option<Area> {
    all_areas().into_iter().find(|a| area_key(*a) == key)
}

/// The findings by area, areas in registry order, findings in report order.
pub fn by_area(report: &Report) -> Vec<(Area, Vec<&Finding>)> {
    let mut out: Vec<(Area, Vec<&Finding>)> = Vec::new();
    for f in &report.findings {
        let a = area_of(&f.id);
        match out.iter_mut().find(|(x, _)| *x == a) {
            Some((_, v)) => v.push(f),
            None => out.push((a, vec![f])),
        }
    }
    out.sort_by_key(|(a, _)| *a);
    out
}

// ------------------------------------------------------------ the target

/// A domain as typed, ready to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainInput {
    /// The ASCII (A-label) form, lowercase, no trailing dot.
    pub ascii: String,
    /// The Unicode form, when the name is an IDN.
    pub unicode: Option<String>,
}

/// The part of what the user typed that names the domain: all of it, or
/// for an email address (`Name <you@example.org>` too) what follows the
/// last `@`.
pub fn domain_part(input: &str) -> &str {
    let s = input.trim();
    let s = s.rsplit_once('@').map_or(s, |(_, d)| d).trim();
    s.trim_end_matches('>').trim()
}

/// The domain in what the user typed: a domain, or an email address (the
/// part after the last `@`); IDNs in either form. `to_ascii` turns a
/// Unicode name into its A-labels (the website asks the browser's URL
/// parser, so no IDNA tables are linked into the page; native hosts can use
/// [`crate::dns::normalize_name`]). The checks are those of
/// [`crate::audit::validate_domain`], on the ASCII form.
pub fn domain_input(
    input: &str,
    to_ascii: impl Fn(&str) -> Option<String>,
) -> Result<DomainInput, String> {
    let s = domain_part(input);
    if s.is_empty() {
        return Err("Enter a domain (example.org) or an email address (you@example.org).".into());
    }
    let bad = |why: &str| {
        Err(format!(
            "{s:?} is not a domain name that can be audited: {why}"
        ))
    };
    let ascii = if s.is_ascii() {
        s.to_string()
    } else if s.contains(['/', '?', '#', ':', '@', '[', ']', '\\', ' ', '%']) {
        return bad("it contains characters not allowed in host names");
    } else {
        match to_ascii(s) {
            Some(a) if a.is_ascii() => a,
            _ => return bad("it is not a valid internationalised domain name"),
        }
    };
    let ascii = ascii.trim_end_matches('.').to_ascii_lowercase();
    if ascii.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
        return bad("it is an IP address; give the mail domain instead");
    }
    if ascii.len() > 253 {
        return bad("it is longer than 253 characters");
    }
    if !ascii.contains('.') {
        return bad("it has no dot; give a full domain such as example.org");
    }
    if ascii.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return bad("a label is empty or longer than 63 characters");
    }
    if !ascii
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return bad("it contains characters not allowed in host names");
    }
    if ascii
        .split('.')
        .any(|l| l.starts_with('-') || l.ends_with('-'))
    {
        return bad("it is not a valid host name");
    }
    let unicode = unicode_of(&ascii);
    Ok(DomainInput { ascii, unicode })
}

/// The Unicode form of an ASCII domain, when it has punycode labels that
/// decode (RFC 3492) to something else. For display only: a label that does
/// not decode, or decodes to control characters, leaves the name as is.
pub fn unicode_of(ascii: &str) -> Option<String> {
    if !ascii.split('.').any(|l| l.starts_with("xn--")) {
        return None;
    }
    let mut labels = Vec::new();
    for l in ascii.split('.') {
        match l.strip_prefix("xn--") {
            Some(p) => labels.push(punycode_decode(p)?),
            None => labels.push(l.to_string()),
        }
    }
    let u = labels.join(".");
    (u != ascii).then_some(u)
}

/// RFC 3492 decoding of one label's punycode (after `xn--`). Hand-rolled,
/// 40 lines: the IDNA crates would bring their Unicode tables into the
/// page's wasm (about 150 KB gzip) for a name shown to the user; the
/// browser does the encoding. Bounded: labels are at most 63 octets, every
/// step is checked arithmetic, and the result is at most 63 characters.
pub fn punycode_decode(input: &str) -> Option<String> {
    const BASE: u32 = 36;
    const TMIN: u32 = 1;
    const TMAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    fn adapt(delta: u32, points: u32, first: bool) -> u32 {
        let mut delta = if first { delta / DAMP } else { delta / 2 };
        delta += delta / points.max(1);
        let mut k = 0;
        while delta > ((BASE - TMIN) * TMAX) / 2 {
            delta /= BASE - TMIN;
            k += BASE;
        }
        k + (BASE - TMIN + 1) * delta / (delta + SKEW)
    }
    if !input.is_ascii() || input.is_empty() || input.len() > 63 {
        return None;
    }
    let (basic, rest) = match input.rfind('-') {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => ("", input),
    };
    let mut out: Vec<char> = basic.chars().collect();
    let (mut n, mut i, mut bias) = (128u32, 0u32, 72u32);
    let mut digits = rest.bytes();
    let mut next = digits.next();
    while next.is_some() {
        let old = i;
        let mut w = 1u32;
        let mut k = BASE;
        loop {
            let b = next?;
            next = digits.next();
            let digit = u32::from(match b {
                b'a'..=b'z' => b - b'a',
                b'A'..=b'Z' => b - b'A',
                b'0'..=b'9' => b - b'0' + 26,
                _ => return None,
            });
            i = i.checked_add(digit.checked_mul(w)?)?;
            let t = if k <= bias {
                TMIN
            } else if k >= bias + TMAX {
                TMAX
            } else {
                k - bias
            };
            if digit < t {
                break;
            }
            w = w.checked_mul(BASE - t)?;
            k += BASE;
        }
        let len = out.len() as u32 + 1;
        bias = adapt(i - old, len, old == 0);
        n = n.checked_add(i / len)?;
        i %= len;
        let c = char::from_u32(n).filter(|c| !c.is_control())?;
        if out.len() >= 63 {
            return None;
        }
        out.insert(i as usize, c);
        i += 1;
    }
    Some(out.into_iter().collect())
}

// --------------------------------------------------------------- SPF tree

/// The SPF look-up tree of a report, read back from the evidence of
/// `spf.lookup_limit` (the walk with the most look-ups), or of
/// `spf.void_lookups` / `spf.syntax` when that one has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfTree {
    pub root: LookupNode,
    /// Look-ups counted in the tree.
    pub lookups: u32,
    /// Lines the report left out (the evidence is capped).
    pub truncated: bool,
    /// The finding it was read from.
    pub from: String,
}

/// One line of [`LookupNode::lines`]: (depth, node without children).
fn parse_tree_line(line: &str) -> Option<(usize, LookupNode)> {
    let body = line.trim_start_matches(' ');
    let indent = line.len() - body.len();
    if body.is_empty() || !indent.is_multiple_of(2) {
        return None;
    }
    let (head, note) = match body.split_once("  \u{2014} ") {
        Some((h, n)) => (h, n.to_string()),
        None => (body, String::new()),
    };
    let (head, void) = match head.strip_suffix("  (void)") {
        Some(h) => (h, true),
        None => (head, false),
    };
    let (text, cost) = match head.rsplit_once("  [look-up ") {
        Some((t, n))
            if n.strip_suffix(']')
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) =>
        {
            (t, 1)
        }
        _ => (head, 0),
    };
    Some((
        indent / 2,
        LookupNode {
            text: text.to_string(),
            cost,
            void,
            note,
            children: Vec::new(),
        },
    ))
}

/// Rebuilds a tree from its lines (the inverse of [`LookupNode::lines`]).
pub fn tree_from_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<LookupNode> {
    // Path from the root to the last node; each entry is a node whose
    // children are still being read.
    let mut stack: Vec<LookupNode> = Vec::new();
    fn close_to(stack: &mut Vec<LookupNode>, depth: usize) {
        while stack.len() > depth + 1 {
            if let Some(done) = stack.pop() {
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(done);
                }
            }
        }
    }
    for line in lines {
        let (depth, node) = parse_tree_line(line)?;
        if stack.is_empty() {
            if depth != 0 {
                return None;
            }
            stack.push(node);
            continue;
        }
        // A child is at most one level deeper than the node before it.
        if depth == 0 || depth > stack.len() {
            break;
        }
        close_to(&mut stack, depth - 1);
        stack.push(node);
    }
    close_to(&mut stack, 0);
    stack.pop()
}

pub fn spf_tree(report: &Report) -> Option<SpfTree> {
    for id in ["spf.lookup_limit", "spf.void_lookups", "spf.syntax"] {
        let Some(f) = report.findings.iter().find(|f| f.id == id) else {
            continue;
        };
        let mut lines = Vec::new();
        let mut truncated = false;
        for e in &f.evidence {
            match e {
                Evidence::Note { text } if text.starts_with('\u{2026}') && !lines.is_empty() => {
                    truncated = true;
                    break;
                }
                Evidence::Note { text } => lines.push(text.as_str()),
                _ => break,
            }
        }
        // The root line is `domain: "v=spf1 …"`.
        if !lines
            .first()
            .is_some_and(|l| !l.starts_with(' ') && l.to_ascii_lowercase().contains(": \"v=spf1"))
        {
            continue;
        }
        if let Some(root) = tree_from_lines(lines) {
            return Some(SpfTree {
                lookups: root.total_cost(),
                root,
                truncated,
                from: f.id.clone(),
            });
        }
    }
    None
}

// ---------------------------------------------------------- blocklist grid

/// One answer of one list about one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Listed, with the return codes.
    Listed(Vec<String>),
    NotListed,
    /// Asked, but the answer says nothing (SERVFAIL, …): the rcode.
    Failed(String),
    /// This list was not asked about this subject (or its answer was not
    /// usable: see `blocklist.inconclusive`).
    NotChecked,
    /// The list holds the other kind of entry (addresses, domains).
    NotApplicable,
}

/// Subjects (addresses, the domain) against lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocklistGrid {
    /// Column titles: list names, IP lists first.
    pub lists: Vec<String>,
    /// (subject, is an address, one cell per list).
    pub rows: Vec<(String, bool, Vec<Cell>)>,
}

/// The subject of a blocklist query name before `zone`.
fn subject_of(prefix: &str, target: Target) -> Option<String> {
    match target {
        Target::Domain => Some(prefix.to_string()),
        Target::Ip => {
            let labels: Vec<&str> = prefix.split('.').collect();
            if labels.len() == 4 {
                let mut o = [0u8; 4];
                for (i, l) in labels.iter().rev().enumerate() {
                    *o.get_mut(i)? = l.parse().ok()?;
                }
                return Some(Ipv4Addr::from(o).to_string());
            }
            if labels.len() == 32 {
                let mut v: u128 = 0;
                for l in labels.iter().rev() {
                    v = (v << 4) | u128::from(u8::from_str_radix(l, 16).ok()?);
                }
                return Some(Ipv6Addr::from(v).to_string());
            }
            None
        }
    }
}

pub fn blocklist_grid(report: &Report) -> Option<BlocklistGrid> {
    let mut cols: Vec<usize> = Vec::new(); // indexes into LISTS
    let mut cells: Vec<(String, bool, usize, Cell)> = Vec::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.id == "blocklist.ip" || f.id == "blocklist.domain")
    {
        for e in &f.evidence {
            let Evidence::Dns {
                query,
                rcode,
                answers,
                ..
            } = e
            else {
                continue;
            };
            let q = query.trim_end_matches('.').to_ascii_lowercase();
            // `<subject>.<zone>`, or `<subject>.<zone>.<test suffix>`.
            let hit = LISTS.iter().enumerate().find_map(|(i, l)| {
                let needle = format!(".{}", l.zone);
                let at = q.match_indices(&needle).map(|(at, _)| at).find(|&at| {
                    let rest = &q[at + needle.len()..];
                    rest.is_empty() || rest.starts_with('.')
                })?;
                Some((i, q.get(..at)?.to_string()))
            });
            let Some((i, prefix)) = hit else { continue };
            let list = &LISTS[i];
            let Some(subject) = subject_of(&prefix, list.target) else {
                continue;
            };
            let cell = match rcode.as_str() {
                "NXDOMAIN" => Cell::NotListed,
                "NOERROR" if answers.is_empty() => Cell::NotListed,
                "NOERROR" => Cell::Listed(
                    answers
                        .iter()
                        .filter_map(|a| a.split_whitespace().last().map(str::to_string))
                        .collect(),
                ),
                other => Cell::Failed(other.to_string()),
            };
            if !cols.contains(&i) {
                cols.push(i);
            }
            cells.push((subject, list.target == Target::Ip, i, cell));
        }
    }
    // Lists the audit selected but that left no answer here.
    if let Some(a) = report.assumptions.iter().find(|a| a.key == "blocklists") {
        for (i, l) in LISTS.iter().enumerate() {
            if a.value.contains(l.name) && !cols.contains(&i) {
                cols.push(i);
            }
        }
    }
    if cells.is_empty() {
        return None;
    }
    cols.sort_by_key(|&i| (LISTS[i].target != Target::Ip, i));
    let mut rows: Vec<(String, bool, Vec<Cell>)> = Vec::new();
    for (subject, is_ip, i, cell) in cells {
        let col = cols.iter().position(|&c| c == i).unwrap_or(0);
        let row = match rows.iter().position(|(s, _, _)| *s == subject) {
            Some(r) => r,
            None => {
                rows.push((subject, is_ip, vec![Cell::NotChecked; cols.len()]));
                rows.len() - 1
            }
        };
        if let Some(slot) = rows.get_mut(row).and_then(|r| r.2.get_mut(col)) {
            *slot = cell;
        }
    }
    for (_, is_ip, row) in rows.iter_mut() {
        for (cell, &i) in row.iter_mut().zip(&cols) {
            if *cell == Cell::NotChecked && (LISTS[i].target == Target::Ip) != *is_ip {
                *cell = Cell::NotApplicable;
            }
        }
    }
    Some(BlocklistGrid {
        lists: cols.iter().map(|&i| LISTS[i].name.to_string()).collect(),
        rows,
    })
}

// ----------------------------------------------------------- certificates

/// One certificate as the report's evidence describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertLine {
    /// "server certificate", "chain[1]", …
    pub role: String,
    pub cert: CertSummary,
}

/// Reads a certificate note of the TLS rules ("server certificate: subject
/// …; issuer …; SANs …; notBefore …; notAfter …; key …; signature …;
/// SHA-256 …"). Fields are found from the end, so a subject holding "; "
/// still parses.
pub fn parse_cert_note(text: &str) -> Option<CertLine> {
    let (role, rest) = text.split_once(": subject ")?;
    if !(role == "server certificate" || role.starts_with("chain[")) {
        return None;
    }
    let (rest, sha256) = rest.rsplit_once("; SHA-256 ")?;
    let (rest, signature) = rest.rsplit_once("; signature ")?;
    let (rest, key) = rest.rsplit_once("; key ")?;
    let (rest, not_after) = rest.rsplit_once("; notAfter ")?;
    let (rest, not_before) = rest.rsplit_once("; notBefore ")?;
    let (rest, sans) = rest.rsplit_once("; SANs ")?;
    let (subject, issuer) = rest.rsplit_once("; issuer ")?;
    let (key_type, key_bits) = match key.rsplit_once(' ') {
        Some((t, b)) => (t.to_string(), b.parse().unwrap_or(0)),
        None => (key.to_string(), 0),
    };
    let names: Vec<String> = if sans == "(none)" {
        Vec::new()
    } else {
        sans.split(", ").map(str::to_string).collect()
    };
    let (ip_names, dns_names) = names.into_iter().partition(|n| n.parse::<IpAddr>().is_ok());
    Some(CertLine {
        role: role.to_string(),
        cert: CertSummary {
            subject: subject.to_string(),
            issuer: issuer.to_string(),
            dns_names,
            ip_names,
            not_before: unix_time(not_before)?,
            not_after: unix_time(not_after)?,
            sha256: sha256.to_string(),
            key_type,
            key_bits,
            signature_algorithm: signature.to_string(),
            ..CertSummary::default()
        },
    })
}

/// The certificates of one server, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedChain {
    /// The server as the finding names it ("mx1.example.org").
    pub host: String,
    pub chain: Vec<CertLine>,
}

/// "The certificate of HOST …" → HOST.
fn host_in(detail: &str) -> Option<String> {
    let rest = detail
        .strip_prefix("The certificate of ")
        .or_else(|| detail.strip_prefix("The certificate chain of "))?;
    let host = rest.split_whitespace().next()?;
    Some(host.trim_end_matches(['.', ',', ':']).to_string())
}

/// The chains the TLS findings show (from `tls.cert_expiry`, else any other
/// `tls.cert_*` finding), one per server.
pub fn certificates(report: &Report) -> Vec<ServedChain> {
    let mut out: Vec<ServedChain> = Vec::new();
    let mut sources: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.id.starts_with("tls.cert_"))
        .collect();
    sources.sort_by_key(|f| f.id != "tls.cert_expiry");
    for f in sources {
        let chain: Vec<CertLine> = f
            .evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Note { text } => parse_cert_note(text),
                _ => None,
            })
            .collect();
        let Some(leaf) = chain.first() else { continue };
        let host = host_in(&f.detail)
            .or_else(|| leaf.cert.dns_names.first().cloned())
            .unwrap_or_else(|| leaf.cert.subject.clone());
        if out.iter().any(|c| c.host == host) {
            continue;
        }
        out.push(ServedChain { host, chain });
    }
    out
}

/// An `.ics` reminder of a server certificate's expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub host: String,
    pub not_after: i64,
    /// A safe file name ("mailaudit-cert-mx1.example.org.ics").
    pub file_name: String,
    pub ics: String,
}

/// One reminder per server certificate the report shows, made by
/// [`crate::tls::ics::expiry_ics`] with the report's time as DTSTAMP.
pub fn reminders(report: &Report) -> Vec<Reminder> {
    let now = unix_time(&report.generated_at).unwrap_or(0);
    certificates(report)
        .into_iter()
        .filter_map(|c| {
            let leaf = c
                .chain
                .into_iter()
                .find(|l| l.role == "server certificate")?;
            let safe: String = c
                .host
                .chars()
                .filter(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-'))
                .collect();
            Some(Reminder {
                file_name: format!("mailaudit-cert-{}.ics", safe.trim_matches('.')),
                ics: crate::tls::ics::expiry_ics(&leaf.cert, &c.host, now),
                not_after: leaf.cert.not_after,
                host: c.host,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Severity, Status};
    use crate::tls::cert::{CertReport, Trust};

    fn finding(id: &str) -> Finding {
        Finding {
            id: id.into(),
            status: Status::Fail,
            severity: Severity::High,
            title: String::new(),
            detail: String::new(),
            evidence: Vec::new(),
            remediation: String::new(),
            refs: Vec::new(),
        }
    }

    #[test]
    fn a_mail_log_analysis_is_not_called_a_pasted_configuration() {
        let logs = [finding("logs.auth_bruteforce")];
        let config = [finding("postfix.open_relay"), finding("fail2ban.smtp_jail")];
        let both = [
            finding("postfix.open_relay"),
            finding("logs.auth_bruteforce"),
        ];
        assert_eq!(area_title(Area::Config, &logs), "Mail log analysis");
        assert_eq!(area_title(Area::Config, &config), "Pasted configuration");
        assert_eq!(
            area_title(Area::Config, &both),
            "Pasted configuration and mail logs"
        );
        assert_eq!(area_title(Area::Dns, &logs), "DNS");
        let report =
            |fs: &[Finding]| Report::new("x", "2026-11-29T12:00:00Z", Vec::new(), fs.to_vec());
        assert_eq!(offline_subject(&report(&logs)), Some("mail-logs"));
        assert_eq!(offline_subject(&report(&config)), Some("pasted-config"));
        assert_eq!(offline_subject(&report(&[finding("spf.multiple")])), None);
    }

    #[test]
    fn areas_from_the_registry_and_by_prefix() {
        assert_eq!(area_of("postfix.open_relay"), Area::Config);
        assert_eq!(area_of("spf.multiple"), Area::Authentication);
        assert_eq!(area_of("dns.mx"), Area::Dns);
        assert_eq!(area_of("tls.cert_expiry"), Area::Transport);
        assert_eq!(area_of("blocklist.ip"), Area::Blocklists);
        assert_eq!(area_of("dmarc.some_future_rule"), Area::Authentication);
        assert_eq!(area_of("smtp.future"), Area::Server);
        assert_eq!(area_key(Area::Authentication), "authentication");
        assert_eq!(area_by_key("transport"), Some(Area::Transport));
        assert_eq!(area_by_key("nope"), None);
        for a in all_areas() {
            assert_eq!(area_by_key(&area_key(a)), Some(a));
        }
    }

    #[test]
    fn domains_from_input() {
        let native = |s: &str| crate::dns::normalize_name(s).ok();
        let d = domain_input(" Postmaster@Example.ORG ", native).unwrap();
        assert_eq!(d.ascii, "example.org");
        assert_eq!(d.unicode, None);
        assert_eq!(domain_part("Jo <jo@Mail.example.org>"), "Mail.example.org");
        let idn = domain_input("info@bücher.example", native).unwrap();
        assert_eq!(idn.ascii, "xn--bcher-kva.example");
        assert_eq!(idn.unicode.as_deref(), Some("bücher.example"));
        let back = domain_input("xn--bcher-kva.example", native).unwrap();
        assert_eq!(back.unicode.as_deref(), Some("bücher.example"));
        for bad in [
            "",
            "you@",
            "localhost",
            "<img src=x>",
            "192.0.2.1",
            "a..b",
            "bü/cher.example",
        ] {
            assert!(domain_input(bad, native).is_err(), "{bad}");
        }
        // The same verdicts as the audit's own check, on ASCII input.
        for name in [
            "example.org",
            "localhost",
            "_dmarc.example.org",
            "x.-y",
            "[::1]",
            "a.b.c.example",
        ] {
            assert_eq!(
                domain_input(name, native).is_ok(),
                crate::audit::validate_domain(name).is_ok(),
                "{name}"
            );
        }
        assert!(domain_input("bücher.example", |_| None).is_err());
    }

    #[test]
    fn punycode_decodes_rfc3492_samples() {
        // RFC 3492 §7.1 (A) Arabic, (L) Japanese, and common labels.
        assert_eq!(
            punycode_decode("egbpdaj6bu4bxfgehfvwxn").as_deref(),
            Some("\u{644}\u{64a}\u{647}\u{645}\u{627}\u{628}\u{62a}\u{643}\u{644}\u{645}\u{648}\u{634}\u{639}\u{631}\u{628}\u{64a}\u{61f}")
        );
        assert_eq!(
            punycode_decode("3B-ww4c5e180e575a65lsy2b").as_deref(),
            Some("3\u{5e74}B\u{7d44}\u{91d1}\u{516b}\u{5148}\u{751f}")
        );
        assert_eq!(punycode_decode("bcher-kva").as_deref(), Some("bücher"));
        assert_eq!(punycode_decode("mnchen-3ya").as_deref(), Some("münchen"));
        assert_eq!(
            unicode_of("xn--mnchen-3ya.example").as_deref(),
            Some("münchen.example")
        );
        // Hostile input: never a panic, never a name.
        for bad in [
            "",
            "!!!",
            "zzzzzzzzzzzzzzzzzzzzzzzzz",
            "99999999999999",
            &"a".repeat(64),
        ] {
            let _ = punycode_decode(bad);
        }
        assert_eq!(punycode_decode("ü"), None);
        assert_eq!(unicode_of("xn--.example"), None);
    }

    #[test]
    fn spf_tree_lines_round_trip() {
        let leaf = |t: &str, cost, void| LookupNode {
            text: t.into(),
            cost,
            void,
            note: String::new(),
            children: vec![],
        };
        let tree = LookupNode {
            text: "example.org: \"v=spf1 include:a.example a -all\"".into(),
            cost: 0,
            void: false,
            note: String::new(),
            children: vec![
                LookupNode {
                    text: "include:a.example".into(),
                    cost: 1,
                    void: false,
                    note: "no match".into(),
                    children: vec![LookupNode {
                        text: "a.example: \"v=spf1 mx ~all\"".into(),
                        cost: 0,
                        void: false,
                        note: String::new(),
                        children: vec![leaf("mx", 1, true), leaf("~all", 0, false)],
                    }],
                },
                leaf("a", 1, false),
                leaf("-all", 0, false),
            ],
        };
        let lines = tree.lines();
        let back = tree_from_lines(lines.iter().map(String::as_str)).unwrap();
        assert_eq!(back, tree);
        assert_eq!(back.total_cost(), 3);
        // Hostile lines never panic and never make a tree from nothing.
        assert_eq!(tree_from_lines([" odd"]), None);
        assert_eq!(tree_from_lines(["  child first"]), None);
        assert!(tree_from_lines(["root", "      too deep"]).is_some());
    }

    fn report(findings: Vec<Finding>) -> Report {
        Report::new("example.org", "2026-11-29T00:00:00Z", vec![], findings)
    }

    #[test]
    fn spf_tree_from_a_real_evaluation() {
        use crate::dns::spf;
        use crate::testing::ScriptedNet;
        let net = ScriptedNet::new()
            .txt("example.org", "v=spf1 include:_spf.example.net mx -all")
            .txt("_spf.example.net", "v=spf1 ip4:192.0.2.0/24 ~all")
            .mx("example.org", 10, "mx.example.org")
            .a("mx.example.org", "192.0.2.1");
        let r = futures::executor::block_on(async {
            let resolver = crate::dns::Resolver::new(&net, "https://doh.test/dns-query");
            let ev = spf::Evaluator::new(&resolver);
            let txt = ev.query("example.org", crate::dns::RecordType::TXT).await;
            let walks = spf::walk_records(&ev, "example.org", &txt).await;
            let evaluation = spf::Evaluation {
                walks,
                mx_checks: Ok(vec![]),
                mx_unresolved: vec![],
            };
            report(spf::judge_evaluation("example.org", &txt, &evaluation))
        });
        let t = spf_tree(&r).expect("a tree");
        assert_eq!(t.from, "spf.lookup_limit");
        assert_eq!(t.lookups, 2);
        assert!(t.root.text.starts_with("example.org: \"v=spf1"));
        let terms: Vec<&str> = t.root.children.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(terms, ["include:_spf.example.net", "mx", "-all"]);
        assert_eq!(t.root.children[0].children.len(), 1);
    }

    fn cert(subject: &str, nb: i64, na: i64, sha: &str) -> CertSummary {
        CertSummary {
            subject: subject.into(),
            issuer: "CN=Test CA; O=Odd, Inc".into(),
            dns_names: vec!["mx.example.org".into()],
            ip_names: vec!["192.0.2.1".into()],
            not_before: nb,
            not_after: na,
            sha256: sha.into(),
            key_type: "EC P-256".into(),
            key_bits: 256,
            signature_algorithm: "ecdsa-with-SHA256".into(),
            ..CertSummary::default()
        }
    }

    #[test]
    fn certificates_and_reminders_from_the_tls_findings() {
        let now = unix_time("2026-11-29T00:00:00Z").unwrap();
        let leaf = cert(
            "CN=mx.example.org",
            now - 86_400 * 30,
            now + 86_400 * 20,
            "ab",
        );
        let ca = cert(
            "CN=Test CA; O=Odd, Inc",
            now - 86_400 * 900,
            now + 86_400 * 900,
            "cd",
        );
        let cr = CertReport {
            host: "mx.example.org".into(),
            negotiated: Some("TLS 1.3, TLS_AES_128_GCM_SHA256".into()),
            handshake_signature: Ok(()),
            chain: vec![leaf.clone(), ca.clone()],
            unparsable: vec![],
            trust: Trust::Trusted {
                root: "CN=Test CA".into(),
            },
        };
        let f = crate::tls::rules::judge_cert_expiry(Ok(&cr), now);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.severity, Severity::High);
        let r = report(vec![f]);
        let certs = certificates(&r);
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].host, "mx.example.org");
        assert_eq!(certs[0].chain.len(), 2);
        assert_eq!(certs[0].chain[0].role, "server certificate");
        assert_eq!(certs[0].chain[0].cert, leaf);
        assert_eq!(certs[0].chain[1].role, "chain[1]");
        assert_eq!(certs[0].chain[1].cert, ca);
        let rem = reminders(&r);
        assert_eq!(rem.len(), 1);
        assert_eq!(rem[0].file_name, "mailaudit-cert-mx.example.org.ics");
        assert_eq!(
            rem[0].ics,
            crate::tls::ics::expiry_ics(&leaf, "mx.example.org", now)
        );
        // Nothing to show from a report without certificates, or a note
        // that only looks like one.
        assert!(reminders(&report(vec![])).is_empty());
        assert_eq!(parse_cert_note("server certificate: subject x"), None);
        assert_eq!(parse_cert_note("negotiated: TLS 1.3"), None);
    }

    #[test]
    fn blocklist_grid_from_dns_evidence() {
        let dns = |q: &str, rcode: &str, answers: &[&str]| Evidence::Dns {
            query: q.into(),
            rtype: "A".into(),
            rcode: rcode.into(),
            answers: answers.iter().map(|a| a.to_string()).collect(),
        };
        let ip = crate::dns::blocklist::BLOCKLIST_IP
            .finding(Status::Fail, "listed")
            .with_evidences([
                dns(
                    "2.2.0.192.zen.spamhaus.org.bed.test",
                    "NOERROR",
                    &["2.2.0.192.zen.spamhaus.org 60 A 127.0.0.2"],
                ),
                dns("2.2.0.192.bl.spamcop.net", "NXDOMAIN", &[]),
                dns(
                    &format!(
                        "{}.zen.spamhaus.org",
                        crate::dns::blocklist::reverse_ip("2001:db8::25".parse().unwrap())
                    ),
                    "NXDOMAIN",
                    &[],
                ),
                dns("garbage.zen.spamhaus.org", "NXDOMAIN", &[]),
                dns("unrelated.example", "NXDOMAIN", &[]),
            ]);
        let domain = crate::dns::blocklist::BLOCKLIST_DOMAIN
            .finding(Status::Pass, "clean")
            .with_evidence(dns("example.org.dbl.spamhaus.org", "SERVFAIL", &[]));
        let g = blocklist_grid(&report(vec![ip, domain])).unwrap();
        assert_eq!(g.lists, ["Spamhaus ZEN", "SpamCop", "Spamhaus DBL"]);
        assert_eq!(g.rows.len(), 3);
        assert_eq!(g.rows[0].0, "192.0.2.2");
        assert_eq!(
            g.rows[0].2,
            [
                Cell::Listed(vec!["127.0.0.2".into()]),
                Cell::NotListed,
                Cell::NotApplicable
            ]
        );
        assert_eq!(g.rows[1].0, "2001:db8::25");
        assert_eq!(g.rows[2].0, "example.org");
        assert!(!g.rows[2].1);
        assert_eq!(g.rows[2].2[2], Cell::Failed("SERVFAIL".into()));
        assert_eq!(g.rows[2].2[0], Cell::NotApplicable);
        assert_eq!(blocklist_grid(&report(vec![])), None);
    }
}
