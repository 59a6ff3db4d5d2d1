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

/// The domain in what the user typed: a domain, or an email address (the
/// part after the last `@`); IDNs in either form.
pub fn domain_input(input: &str) -> Result<DomainInput, String> {
    let s = input.trim();
    let s = s.rsplit_once('@').map_or(s, |(_, d)| d).trim();
    let s = s.trim_end_matches('>');
    if s.is_empty() {
        return Err("Enter a domain (example.org) or an email address (you@example.org).".into());
    }
    let ascii = crate::audit::validate_domain(s).map_err(|e| e.to_string())?;
    let unicode = unicode_of(&ascii);
    Ok(DomainInput { ascii, unicode })
}

/// The Unicode form of an ASCII domain, when it has punycode labels that
/// decode to something else.
pub fn unicode_of(ascii: &str) -> Option<String> {
    if !ascii.split('.').any(|l| l.starts_with("xn--")) {
        return None;
    }
    let name = hickory_proto::rr::Name::from_ascii(ascii).ok()?;
    let mut u = name.to_utf8();
    if u.ends_with('.') {
        u.pop();
    }
    (u != ascii && !u.is_empty()).then_some(u)
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
    if body.is_empty() || indent % 2 != 0 {
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
        let d = domain_input(" Postmaster@Example.ORG ").unwrap();
        assert_eq!(d.ascii, "example.org");
        assert_eq!(d.unicode, None);
        let idn = domain_input("info@bücher.example").unwrap();
        assert_eq!(idn.ascii, "xn--bcher-kva.example");
        assert_eq!(idn.unicode.as_deref(), Some("bücher.example"));
        let back = domain_input("xn--bcher-kva.example").unwrap();
        assert_eq!(back.unicode.as_deref(), Some("bücher.example"));
        assert!(domain_input("").is_err());
        assert!(domain_input("you@").is_err());
        assert!(domain_input("localhost").is_err());
        assert!(domain_input("<img src=x>").is_err());
        assert_eq!(unicode_of("xn--zz"), None);
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
                Cell::NotChecked
            ]
        );
        assert_eq!(g.rows[1].0, "2001:db8::25");
        assert_eq!(g.rows[2].0, "example.org");
        assert!(!g.rows[2].1);
        assert_eq!(g.rows[2].2[2], Cell::Failed("SERVFAIL".into()));
        assert_eq!(blocklist_grid(&report(vec![])), None);
    }
}
