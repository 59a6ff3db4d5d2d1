//! The aggregate report document: RFC 7489 Appendix C and the DMARCbis
//! schema (draft-ietf-dmarc-aggregate-reporting, namespace
//! `urn:ietf:params:xml:ns:dmarc-2.0`) read into a [`Feedback`].
//!
//! quick-xml's streaming reader does the XML; this module only walks the
//! events. What it accepts:
//! - any namespace (none, RFC 7489's, the old `http://dmarc.org/dmarc-xml/0.1`,
//!   DMARCbis'), prefixed or not; elements under another prefix than the
//!   root's are extensions and are skipped, as is `<extension>`;
//! - a UTF-8 byte order mark, UTF-16 with a byte order mark, Latin-1 when
//!   the declaration says so, white space before the declaration;
//! - the optional elements of both schemas missing (`version`, `email`,
//!   `sp`, `pct`, `identifiers/envelope_*`, `auth_results/dkim`, ...), and
//!   the DMARCbis additions (`np`, `testing`, `discovery_method`,
//!   `generator`, disposition `pass`, override `policy_test_mode`).
//!
//! What it refuses (the whole document, see [`Rejection`]): a DOCTYPE
//! (so no entity is ever declared, let alone expanded), entity references
//! other than XML's five and character references, malformed or truncated
//! XML, a root other than `feedback`, a missing `org_name`, `report_id`,
//! `date_range`, `policy_published/domain`, a row without a valid
//! `source_ip`, `count`, `policy_evaluated` result, and repeated
//! single-valued elements. Values are capped (identifiers at
//! [`MAX_VALUE`] bytes, free text truncated there) and nesting at
//! [`MAX_DEPTH`].

use super::input::Rejection;
use quick_xml::events::Event;
use quick_xml::Reader;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::IpAddr;

/// Deepest element nesting accepted (reports nest 5 levels).
pub const MAX_DEPTH: usize = 32;
/// Longest identifier accepted, and where free text is cut.
pub const MAX_VALUE: usize = 1024;

/// The DMARCbis namespace.
pub const NS_DMARC_2: &str = "urn:ietf:params:xml:ns:dmarc-2.0";

/// `policy_evaluated/disposition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Disposition {
    None,
    /// DMARCbis: passed DMARC under an enforcing policy.
    Pass,
    Quarantine,
    Reject,
}

impl Disposition {
    fn parse(s: &str) -> Option<Disposition> {
        Some(match s {
            "none" => Disposition::None,
            "pass" => Disposition::Pass,
            "quarantine" => Disposition::Quarantine,
            "reject" => Disposition::Reject,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::None => "none",
            Disposition::Pass => "pass",
            Disposition::Quarantine => "quarantine",
            Disposition::Reject => "reject",
        }
    }
}

/// An SPF or DKIM result from `auth_results` (RFC 8601 §2.7.1/2.7.2, plus
/// the older names some reporters use: `unknown` = temperror, `error` =
/// permerror).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthResult {
    Pass,
    Fail,
    Softfail,
    Neutral,
    None,
    Policy,
    Temperror,
    Permerror,
    /// Missing or a value outside both schemas.
    Other,
}

impl AuthResult {
    fn parse(s: &str) -> AuthResult {
        match s {
            "pass" => AuthResult::Pass,
            "fail" | "hardfail" => AuthResult::Fail,
            "softfail" => AuthResult::Softfail,
            "neutral" => AuthResult::Neutral,
            "none" => AuthResult::None,
            "policy" => AuthResult::Policy,
            "temperror" | "unknown" => AuthResult::Temperror,
            "permerror" | "error" => AuthResult::Permerror,
            _ => AuthResult::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthResult::Pass => "pass",
            AuthResult::Fail => "fail",
            AuthResult::Softfail => "softfail",
            AuthResult::Neutral => "neutral",
            AuthResult::None => "none",
            AuthResult::Policy => "policy",
            AuthResult::Temperror => "temperror",
            AuthResult::Permerror => "permerror",
            AuthResult::Other => "other",
        }
    }
}

/// One `auth_results/dkim` or `auth_results/spf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// Lower case, without a trailing dot; empty when the reporter gave none.
    pub domain: String,
    /// DKIM selector or SPF scope (`mfrom`, `helo`), when given.
    pub selector_or_scope: Option<String>,
    pub result: AuthResult,
}

/// `policy_evaluated/reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// Lower case: forwarded, sampled_out, trusted_forwarder, mailing_list,
    /// local_policy, policy_test_mode, other (or what the reporter wrote).
    pub kind: String,
    pub comment: Option<String>,
}

/// One `record`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line of `<record>` in the (decompressed) document.
    pub line: u32,
    pub source_ip: IpAddr,
    pub count: u64,
    pub disposition: Disposition,
    /// `policy_evaluated/dkim` is `pass` (DKIM-aligned pass).
    pub dkim_aligned: bool,
    /// `policy_evaluated/spf` is `pass` (SPF-aligned pass).
    pub spf_aligned: bool,
    pub reasons: Vec<Reason>,
    pub header_from: Option<String>,
    pub envelope_from: Option<String>,
    pub envelope_to: Option<String>,
    pub dkim: Vec<Auth>,
    pub spf: Vec<Auth>,
}

impl Row {
    /// DMARC pass as the reporter evaluated it.
    pub fn aligned(&self) -> bool {
        self.dkim_aligned || self.spf_aligned
    }

    /// Some SPF or DKIM result passed, for any domain.
    pub fn authenticated(&self) -> bool {
        self.dkim
            .iter()
            .chain(&self.spf)
            .any(|a| a.result == AuthResult::Pass)
    }
}

/// `policy_published`: values as the reporter wrote them (lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub np: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pct: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adkim: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspf: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub testing: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery_method: Option<String>,
}

/// One aggregate report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// The root element's namespace, if any.
    pub namespace: Option<String>,
    pub version: Option<String>,
    pub org_name: String,
    pub email: Option<String>,
    pub report_id: String,
    /// `date_range`, seconds since the epoch.
    pub begin: u64,
    pub end: u64,
    pub errors: Vec<String>,
    pub generator: Option<String>,
    pub published: Published,
    pub rows: Vec<Row>,
}

/// Latest time accepted in `date_range` (9999-12-31T23:59:59Z).
const MAX_TIME: u64 = 253_402_300_799;

/// Element names the reader knows; anything else is [`Tag::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Feedback,
    Version,
    ReportMetadata,
    OrgName,
    Email,
    ReportId,
    DateRange,
    Begin,
    End,
    Error,
    Generator,
    PolicyPublished,
    Domain,
    P,
    Sp,
    Np,
    Pct,
    Adkim,
    Aspf,
    Fo,
    Testing,
    DiscoveryMethod,
    Record,
    Row,
    SourceIp,
    Count,
    PolicyEvaluated,
    Disposition,
    Dkim,
    Spf,
    Reason,
    Type,
    Comment,
    Identifiers,
    HeaderFrom,
    EnvelopeFrom,
    EnvelopeTo,
    AuthResults,
    Selector,
    Scope,
    Result,
    /// Unknown, an extension, or anything inside one: skipped.
    Other,
}

impl Tag {
    fn of(local: &[u8]) -> Tag {
        // By length first: one or two comparisons instead of a chain.
        match local.len() {
            1 if local == b"p" => Tag::P,
            2 => match local {
                b"sp" => Tag::Sp,
                b"np" => Tag::Np,
                b"fo" => Tag::Fo,
                _ => Tag::Other,
            },
            3 => match local {
                b"spf" => Tag::Spf,
                b"row" => Tag::Row,
                b"end" => Tag::End,
                b"pct" => Tag::Pct,
                _ => Tag::Other,
            },
            4 => match local {
                b"dkim" => Tag::Dkim,
                b"type" => Tag::Type,
                b"aspf" => Tag::Aspf,
                _ => Tag::Other,
            },
            5 => match local {
                b"count" => Tag::Count,
                b"begin" => Tag::Begin,
                b"email" => Tag::Email,
                b"error" => Tag::Error,
                b"adkim" => Tag::Adkim,
                b"scope" => Tag::Scope,
                _ => Tag::Other,
            },
            6 => match local {
                b"record" => Tag::Record,
                b"domain" => Tag::Domain,
                b"result" => Tag::Result,
                b"reason" => Tag::Reason,
                _ => Tag::Other,
            },
            7 => match local {
                b"version" => Tag::Version,
                b"testing" => Tag::Testing,
                b"comment" => Tag::Comment,
                _ => Tag::Other,
            },
            8 => match local {
                b"feedback" => Tag::Feedback,
                b"org_name" => Tag::OrgName,
                b"selector" => Tag::Selector,
                _ => Tag::Other,
            },
            9 => match local {
                b"report_id" => Tag::ReportId,
                b"source_ip" => Tag::SourceIp,
                b"generator" => Tag::Generator,
                _ => Tag::Other,
            },
            10 => match local {
                b"date_range" => Tag::DateRange,
                _ => Tag::Other,
            },
            11 => match local {
                b"header_from" => Tag::HeaderFrom,
                b"disposition" => Tag::Disposition,
                b"identifiers" => Tag::Identifiers,
                b"envelope_to" => Tag::EnvelopeTo,
                _ => Tag::Other,
            },
            12 => match local {
                b"auth_results" => Tag::AuthResults,
                _ => Tag::Other,
            },
            13 => match local {
                b"envelope_from" => Tag::EnvelopeFrom,
                _ => Tag::Other,
            },
            15 => match local {
                b"report_metadata" => Tag::ReportMetadata,
                _ => Tag::Other,
            },
            16 => match local {
                b"policy_published" => Tag::PolicyPublished,
                b"policy_evaluated" => Tag::PolicyEvaluated,
                b"discovery_method" => Tag::DiscoveryMethod,
                _ => Tag::Other,
            },
            _ => Tag::Other,
        }
    }
}

/// Decodes the document to text: byte order marks, UTF-16, and Latin-1
/// when declared; other invalid UTF-8 is replaced (values that matter are
/// ASCII; free text may lose a character).
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        return String::from_utf8_lossy(rest);
    }
    let utf16 = |le: bool, rest: &[u8]| -> Cow<'_, str> {
        let units = rest.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        Cow::Owned(
            char::decode_utf16(units)
                .map(|c| c.unwrap_or('\u{fffd}'))
                .collect(),
        )
    };
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        return utf16(true, rest);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        return utf16(false, rest);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let head = String::from_utf8_lossy(bytes.get(..200).unwrap_or(bytes)).to_lowercase();
            let latin1 = head.starts_with("<?xml")
                && [
                    "iso-8859-1",
                    "latin1",
                    "latin-1",
                    "windows-1252",
                    "us-ascii",
                ]
                .iter()
                .any(|e| head.contains(e));
            if latin1 {
                Cow::Owned(bytes.iter().map(|&b| b as char).collect())
            } else {
                String::from_utf8_lossy(bytes)
            }
        }
    }
}

/// Lower case, trimmed, without a trailing dot.
fn domain_value(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn truncate(s: &str) -> String {
    let t = s.trim();
    if t.len() <= MAX_VALUE {
        return t.to_string();
    }
    let mut end = MAX_VALUE;
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", t.get(..end).unwrap_or(""))
}

#[derive(Default)]
struct RowBuilder {
    line: u32,
    source_ip: Option<IpAddr>,
    count: Option<u64>,
    disposition: Option<Disposition>,
    pe_dkim: Option<bool>,
    pe_spf: Option<bool>,
    reasons: Vec<Reason>,
    header_from: Option<String>,
    envelope_from: Option<String>,
    envelope_to: Option<String>,
    dkim: Vec<Auth>,
    spf: Vec<Auth>,
}

#[derive(Default)]
struct AuthBuilder {
    domain: Option<String>,
    selector_or_scope: Option<String>,
    result: Option<AuthResult>,
}

#[derive(Default)]
struct ReasonBuilder {
    kind: Option<String>,
    comment: Option<String>,
}

#[derive(Default)]
struct Builder {
    namespace: Option<String>,
    version: Option<String>,
    org_name: Option<String>,
    email: Option<String>,
    report_id: Option<String>,
    begin: Option<String>,
    end: Option<String>,
    errors: Vec<String>,
    generator: Option<String>,
    published: Published,
    domain_seen: bool,
    rows: Vec<Row>,
    row: Option<RowBuilder>,
    auth: Option<AuthBuilder>,
    reason: Option<ReasonBuilder>,
}

fn set_once(
    slot: &mut Option<String>,
    value: String,
    field: &'static str,
    line: u32,
) -> Result<(), Rejection> {
    if slot.is_some() {
        return Err(Rejection::Repeated { field, line });
    }
    *slot = Some(value);
    Ok(())
}

/// Fills a typed slot once.
fn put_once<T>(
    slot: &mut Option<T>,
    value: T,
    field: &'static str,
    line: u32,
) -> Result<(), Rejection> {
    if slot.is_some() {
        return Err(Rejection::Repeated { field, line });
    }
    *slot = Some(value);
    Ok(())
}

fn invalid(field: &'static str, line: u32, value: &str) -> Rejection {
    Rejection::Invalid {
        field,
        line,
        value: truncate(value),
    }
}

/// `pass` (any case) for a `policy_evaluated` result.
fn is_pass(v: &str) -> bool {
    v.eq_ignore_ascii_case("pass")
}

fn identifier(value: &str, field: &'static str, line: u32) -> Result<String, Rejection> {
    let v = value.trim();
    if v.len() > MAX_VALUE {
        return Err(Rejection::Invalid {
            field,
            line,
            value: truncate(v),
        });
    }
    Ok(v.to_string())
}

/// Parses one decompressed document.
pub fn parse(bytes: &[u8]) -> Result<Feedback, Rejection> {
    let text = decode(bytes);
    // White space before the declaration is an XML error that some
    // generators make; it changes nothing here.
    let start = text.len() - text.trim_start().len();
    let leading_lines = text
        .get(..start)
        .map_or(0, |s| s.bytes().filter(|&b| b == b'\n').count()) as u32;
    let doc = text.get(start..).unwrap_or("");
    parse_str(doc, leading_lines)
}

fn parse_str(doc: &str, leading_lines: u32) -> Result<Feedback, Rejection> {
    let mut reader = Reader::from_str(doc);
    {
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = false;
        config.expand_empty_elements = false;
    }
    // Lines are counted only where one is needed (a record's start, an
    // error), forward from the last count.
    let mut lines = Lines {
        bytes: doc.as_bytes(),
        counted: 0,
        line: 1 + leading_lines,
    };

    let mut stack: Vec<Tag> = Vec::new();
    let mut root_prefix: Option<String> = None;
    let mut root_seen = false;
    let mut root_closed = false;
    let mut text = Text::default();
    // Whether the open element's text is read (containers' white space is not).
    let mut collect = false;
    let mut b = Builder::default();

    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let message = e.to_string();
                return Err(Rejection::Malformed {
                    line: lines.at(reader.error_position() as usize),
                    message: truncate(&message),
                });
            }
        };
        match event {
            Event::DocType(_) => return Err(Rejection::Doctype),
            Event::Start(e) | Event::Empty(e) if root_closed => {
                let _ = e;
                return Err(Rejection::Malformed {
                    line: lines.at(before),
                    message: "a second root element".into(),
                });
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.name();
                let (local, prefix) = name.decompose();
                let local = local.into_inner();
                let prefix = prefix.map(|p| p.into_inner());
                let tag = if !root_seen {
                    if local != "feedback" {
                        return Err(Rejection::NotFeedback(truncate(local)));
                    }
                    root_seen = true;
                    let ns_attr = match prefix {
                        Some(p) => format!("xmlns:{p}"),
                        None => "xmlns".to_string(),
                    };
                    b.namespace = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == ns_attr)
                        .map(|a| truncate(&a.value));
                    root_prefix = prefix.map(str::to_string);
                    Tag::Feedback
                } else if prefix != root_prefix.as_deref() || stack.last() == Some(&Tag::Other) {
                    Tag::Other
                } else {
                    Tag::of(local.as_bytes())
                };
                let empty = matches!(event, Event::Empty(_));
                if stack.len() >= MAX_DEPTH {
                    return Err(Rejection::TooDeep(MAX_DEPTH));
                }
                let parent = stack.last().copied();
                let line = if tag == Tag::Record {
                    lines.at(before)
                } else {
                    HERE
                };
                open(&mut b, parent, tag, line)?;
                stack.push(tag);
                text.clear();
                collect = is_leaf(tag, parent);
                if empty {
                    close(&mut b, &stack, "", HERE).map_err(|e| e.at(lines.at(before)))?;
                    stack.pop();
                    if stack.is_empty() {
                        root_closed = true;
                    }
                }
            }
            Event::End(_) => {
                close(&mut b, &stack, text.as_str(), HERE).map_err(|e| e.at(lines.at(before)))?;
                text.clear();
                collect = false;
                stack.pop();
                if stack.is_empty() {
                    root_closed = true;
                }
            }
            Event::Text(t) => {
                if collect {
                    text.push(t.into_inner());
                }
            }
            Event::CData(t) => {
                if collect {
                    text.push(t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => {
                            return Err(Rejection::Malformed {
                                line: lines.at(before),
                                message: format!("bad character reference &{};", truncate(&r)),
                            })
                        }
                    }
                } else {
                    match r.as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(Rejection::Entity(truncate(other))),
                    }
                };
                if collect {
                    text.push(Cow::Owned(c.to_string()));
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !root_seen {
        return Err(Rejection::NotFeedback("(none)".into()));
    }
    if !stack.is_empty() {
        return Err(Rejection::Truncated);
    }
    finish(b)
}

/// An element's text: borrowed from the document when it comes in one
/// piece (the usual case), joined when entities or CDATA split it; capped.
#[derive(Default)]
enum Text<'a> {
    #[default]
    Empty,
    One(Cow<'a, str>),
    Joined(String),
}

impl<'a> Text<'a> {
    fn clear(&mut self) {
        *self = Text::Empty;
    }

    fn push(&mut self, piece: Cow<'a, str>) {
        *self = match std::mem::take(self) {
            Text::Empty => Text::One(piece),
            Text::One(first) => {
                let mut s = first.into_owned();
                s.push_str(&piece);
                Text::Joined(s)
            }
            Text::Joined(mut s) => {
                if s.len() <= MAX_VALUE * 4 {
                    s.push_str(&piece);
                }
                Text::Joined(s)
            }
        };
    }

    fn as_str(&self) -> &str {
        match self {
            Text::Empty => "",
            Text::One(s) => s,
            Text::Joined(s) => s,
        }
    }
}

/// "The line of the element being read": filled in by [`Rejection::at`].
const HERE: u32 = 0;

impl Rejection {
    /// Puts `line` where the error says [`HERE`].
    fn at(self, line: u32) -> Rejection {
        match self {
            Rejection::Invalid {
                field,
                line: HERE,
                value,
            } => Rejection::Invalid { field, line, value },
            Rejection::Repeated { field, line: HERE } => Rejection::Repeated { field, line },
            other => other,
        }
    }
}

/// Line numbers by counting newlines forward, on demand.
struct Lines<'a> {
    bytes: &'a [u8],
    counted: usize,
    line: u32,
}

impl Lines<'_> {
    /// The line of byte `pos` (positions asked for never go backwards;
    /// an earlier one gets the line already reached).
    fn at(&mut self, pos: usize) -> u32 {
        let to = pos.min(self.bytes.len());
        if to > self.counted {
            let n = self
                .bytes
                .get(self.counted..to)
                .map_or(0, |s| s.iter().filter(|&&b| b == b'\n').count());
            self.line = self.line.saturating_add(n as u32);
            self.counted = to;
        }
        self.line
    }
}

/// Whether an element holds a value (rather than other elements).
fn is_leaf(tag: Tag, parent: Option<Tag>) -> bool {
    match tag {
        Tag::Feedback
        | Tag::ReportMetadata
        | Tag::DateRange
        | Tag::PolicyPublished
        | Tag::Record
        | Tag::Row
        | Tag::PolicyEvaluated
        | Tag::Reason
        | Tag::Identifiers
        | Tag::AuthResults
        | Tag::Other => false,
        Tag::Dkim | Tag::Spf => parent != Some(Tag::AuthResults),
        _ => true,
    }
}

/// Starts an element that collects children.
fn open(b: &mut Builder, parent: Option<Tag>, tag: Tag, line: u32) -> Result<(), Rejection> {
    match (parent, tag) {
        (Some(Tag::Feedback), Tag::Record) => {
            b.row = Some(RowBuilder {
                line,
                ..Default::default()
            })
        }
        (Some(Tag::AuthResults), Tag::Dkim | Tag::Spf) => b.auth = Some(AuthBuilder::default()),
        (Some(Tag::PolicyEvaluated), Tag::Reason) => b.reason = Some(ReasonBuilder::default()),
        _ => {}
    }
    Ok(())
}

/// Ends the element on top of `stack` (still on it), with its text.
fn close(b: &mut Builder, stack: &[Tag], text: &str, line: u32) -> Result<(), Rejection> {
    let n = stack.len();
    let tag = stack.last().copied().unwrap_or(Tag::Other);
    let parent = n.checked_sub(2).and_then(|i| stack.get(i)).copied();
    let grand = n.checked_sub(3).and_then(|i| stack.get(i)).copied();
    let v = text.trim();
    let lower = || -> Cow<'_, str> {
        if v.bytes().any(|c| c.is_ascii_uppercase()) {
            Cow::Owned(v.to_ascii_lowercase())
        } else {
            Cow::Borrowed(v)
        }
    };
    match (grand, parent, tag) {
        (_, Some(Tag::Feedback), Tag::Version) => b.version = Some(truncate(v)),
        (_, Some(Tag::ReportMetadata), Tag::OrgName) => set_once(
            &mut b.org_name,
            identifier(v, "org_name", line)?,
            "org_name",
            line,
        )?,
        (_, Some(Tag::ReportMetadata), Tag::Email) => b.email = Some(truncate(v)),
        (_, Some(Tag::ReportMetadata), Tag::ReportId) => set_once(
            &mut b.report_id,
            identifier(v, "report_id", line)?,
            "report_id",
            line,
        )?,
        (_, Some(Tag::ReportMetadata), Tag::Error) if b.errors.len() < 20 => {
            b.errors.push(truncate(v))
        }
        (_, Some(Tag::ReportMetadata), Tag::Error) => {}
        (_, Some(Tag::ReportMetadata), Tag::Generator) => b.generator = Some(truncate(v)),
        (Some(Tag::ReportMetadata), Some(Tag::DateRange), Tag::Begin) => {
            set_once(&mut b.begin, v.to_string(), "begin", line)?
        }
        (Some(Tag::ReportMetadata), Some(Tag::DateRange), Tag::End) => {
            set_once(&mut b.end, v.to_string(), "end", line)?
        }
        (_, Some(Tag::PolicyPublished), t) => {
            let p = &mut b.published;
            let slot = match t {
                Tag::Domain => {
                    if b.domain_seen {
                        return Err(Rejection::Repeated {
                            field: "domain",
                            line,
                        });
                    }
                    b.domain_seen = true;
                    p.domain = domain_value(&identifier(v, "domain", line)?);
                    return Ok(());
                }
                Tag::P => &mut p.p,
                Tag::Sp => &mut p.sp,
                Tag::Np => &mut p.np,
                Tag::Pct => &mut p.pct,
                Tag::Adkim => &mut p.adkim,
                Tag::Aspf => &mut p.aspf,
                Tag::Fo => &mut p.fo,
                Tag::Testing => &mut p.testing,
                Tag::DiscoveryMethod => &mut p.discovery_method,
                _ => return Ok(()),
            };
            *slot = Some(truncate(&lower()));
        }
        (Some(Tag::Record), Some(Tag::Row), Tag::SourceIp) => {
            if let Some(r) = b.row.as_mut() {
                let ip = v
                    .parse::<IpAddr>()
                    .map_err(|_| invalid("source_ip", r.line, v))?
                    .to_canonical();
                put_once(&mut r.source_ip, ip, "source_ip", line)?
            }
        }
        (Some(Tag::Record), Some(Tag::Row), Tag::Count) => {
            if let Some(r) = b.row.as_mut() {
                let n = v.parse::<u64>().map_err(|_| invalid("count", r.line, v))?;
                put_once(&mut r.count, n, "count", line)?
            }
        }
        (Some(Tag::Row), Some(Tag::PolicyEvaluated), Tag::Reason) => {
            if let (Some(r), Some(reason)) = (b.row.as_mut(), b.reason.take()) {
                if r.reasons.len() < 16 {
                    r.reasons.push(Reason {
                        kind: reason.kind.unwrap_or_else(|| "other".into()),
                        comment: reason.comment,
                    });
                }
            }
        }
        (Some(Tag::Row), Some(Tag::PolicyEvaluated), t) => {
            if let Some(r) = b.row.as_mut() {
                match t {
                    Tag::Disposition => {
                        let d = Disposition::parse(&lower())
                            .ok_or_else(|| invalid("disposition", r.line, v))?;
                        put_once(&mut r.disposition, d, "disposition", line)?
                    }
                    Tag::Dkim => {
                        put_once(&mut r.pe_dkim, is_pass(v), "policy_evaluated/dkim", line)?
                    }
                    Tag::Spf => put_once(&mut r.pe_spf, is_pass(v), "policy_evaluated/spf", line)?,
                    _ => {}
                }
            }
        }
        (Some(Tag::PolicyEvaluated), Some(Tag::Reason), t) => {
            if let Some(r) = b.reason.as_mut() {
                match t {
                    Tag::Type => r.kind = Some(truncate(&lower())),
                    Tag::Comment => r.comment = Some(truncate(v)).filter(|c| !c.is_empty()),
                    _ => {}
                }
            }
        }
        (Some(Tag::Record), Some(Tag::Identifiers), t) => {
            if let Some(r) = b.row.as_mut() {
                let slot = match t {
                    Tag::HeaderFrom => &mut r.header_from,
                    Tag::EnvelopeFrom => &mut r.envelope_from,
                    Tag::EnvelopeTo => &mut r.envelope_to,
                    _ => return Ok(()),
                };
                *slot = Some(domain_value(&truncate(v)));
            }
        }
        (Some(Tag::AuthResults), Some(Tag::Dkim | Tag::Spf), t) => {
            if let Some(a) = b.auth.as_mut() {
                match t {
                    Tag::Domain => a.domain = Some(domain_value(&truncate(v))),
                    Tag::Selector | Tag::Scope => a.selector_or_scope = Some(truncate(v)),
                    Tag::Result => a.result = Some(AuthResult::parse(&lower())),
                    _ => {}
                }
            }
        }
        (Some(Tag::Record), Some(Tag::AuthResults), Tag::Dkim | Tag::Spf) => {
            if let (Some(r), Some(a)) = (b.row.as_mut(), b.auth.take()) {
                let list = if tag == Tag::Dkim {
                    &mut r.dkim
                } else {
                    &mut r.spf
                };
                // RFC 7489 bounds nothing; DMARCbis says at most 100 DKIM
                // signatures a row.
                if list.len() < 100 {
                    list.push(Auth {
                        domain: a.domain.unwrap_or_default(),
                        selector_or_scope: a.selector_or_scope.filter(|s| !s.is_empty()),
                        result: a.result.unwrap_or(AuthResult::Other),
                    });
                }
            }
        }
        (_, Some(Tag::Feedback), Tag::Record) => {
            if let Some(r) = b.row.take() {
                let row = finish_row(r)?;
                b.rows.push(row);
            }
        }
        _ => {}
    }
    Ok(())
}

fn finish_row(r: RowBuilder) -> Result<Row, Rejection> {
    Ok(Row {
        line: r.line,
        source_ip: r.source_ip.ok_or(Rejection::Missing("row/source_ip"))?,
        count: r.count.ok_or(Rejection::Missing("row/count"))?,
        disposition: r
            .disposition
            .ok_or(Rejection::Missing("policy_evaluated/disposition"))?,
        dkim_aligned: r
            .pe_dkim
            .ok_or(Rejection::Missing("policy_evaluated/dkim"))?,
        spf_aligned: r.pe_spf.ok_or(Rejection::Missing("policy_evaluated/spf"))?,
        reasons: r.reasons,
        header_from: r.header_from.filter(|s| !s.is_empty()),
        envelope_from: r.envelope_from.filter(|s| !s.is_empty()),
        envelope_to: r.envelope_to.filter(|s| !s.is_empty()),
        dkim: r.dkim,
        spf: r.spf,
    })
}

fn finish(b: Builder) -> Result<Feedback, Rejection> {
    let org_name = b
        .org_name
        .filter(|s| !s.is_empty())
        .ok_or(Rejection::Missing("report_metadata/org_name"))?;
    let report_id = b
        .report_id
        .filter(|s| !s.is_empty())
        .ok_or(Rejection::Missing("report_metadata/report_id"))?;
    let time = |v: Option<String>, field: &'static str| -> Result<u64, Rejection> {
        let v = v.ok_or(Rejection::Missing(field))?;
        v.parse::<u64>()
            .ok()
            .filter(|t| *t <= MAX_TIME)
            .ok_or(Rejection::Invalid {
                field,
                line: 0,
                value: truncate(&v),
            })
    };
    let begin = time(b.begin, "date_range/begin")?;
    let end = time(b.end, "date_range/end")?;
    if end < begin {
        return Err(Rejection::Invalid {
            field: "date_range",
            line: 0,
            value: format!("ends ({end}) before it begins ({begin})"),
        });
    }
    if b.published.domain.is_empty() {
        return Err(Rejection::Missing("policy_published/domain"));
    }
    Ok(Feedback {
        namespace: b.namespace,
        version: b.version,
        org_name,
        email: b.email.filter(|s| !s.is_empty()),
        report_id,
        begin,
        end,
        errors: b.errors,
        generator: b.generator,
        published: b.published,
        rows: b.rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>google.com</org_name>
    <email>noreply-dmarc-support@google.com</email>
    <report_id>123</report_id>
    <date_range><begin>1700006400</begin><end>1700092799</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>Example.COM.</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct>
  </policy_published>
  <record>
    <row>
      <source_ip>203.0.113.7</source_ip>
      <count>12</count>
      <policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>pass</spf></policy_evaluated>
    </row>
    <identifiers><header_from>example.com</header_from></identifiers>
    <auth_results>
      <dkim><domain>mailer.example.net</domain><selector>s1</selector><result>pass</result></dkim>
      <spf><domain>example.com</domain><scope>mfrom</scope><result>pass</result></spf>
    </auth_results>
  </record>
</feedback>
"#;

    #[test]
    fn reads_a_report() {
        let f = parse(MINIMAL.as_bytes()).unwrap();
        assert_eq!(f.org_name, "google.com");
        assert_eq!(f.report_id, "123");
        assert_eq!((f.begin, f.end), (1_700_006_400, 1_700_092_799));
        assert_eq!(f.published.domain, "example.com");
        assert_eq!(f.published.p.as_deref(), Some("none"));
        assert_eq!(f.rows.len(), 1);
        let r = &f.rows[0];
        assert_eq!(r.line, 12);
        assert_eq!(r.source_ip.to_string(), "203.0.113.7");
        assert_eq!(r.count, 12);
        assert!(r.spf_aligned && !r.dkim_aligned && r.aligned());
        assert_eq!(r.dkim[0].domain, "mailer.example.net");
        assert_eq!(r.dkim[0].selector_or_scope.as_deref(), Some("s1"));
        assert_eq!(r.spf[0].result, AuthResult::Pass);
        assert_eq!(r.header_from.as_deref(), Some("example.com"));
    }

    #[test]
    fn namespaces_prefixes_and_extensions() {
        // Every element under the root's prefix.
        let prefixed = MINIMAL
            .replace("</", "\u{0}")
            .replace('<', "<d:")
            .replace('\u{0}', "</d:")
            .replace("<d:?xml", "<?xml")
            .replace(
                "<d:feedback>",
                "<d:feedback xmlns:d=\"urn:ietf:params:xml:ns:dmarc-2.0\">",
            );
        let f = parse(prefixed.as_bytes()).unwrap();
        assert_eq!(f.namespace.as_deref(), Some(NS_DMARC_2));
        assert_eq!(f.rows.len(), 1);
        // Elements under another prefix are extensions: skipped.
        let ext = prefixed.replace(
            "<d:report_metadata>",
            "<d:report_metadata><ext:report_id xmlns:ext=\"urn:x\">evil</ext:report_id>",
        );
        assert_eq!(parse(ext.as_bytes()).unwrap().report_id, "123");
        let ns = MINIMAL.replace(
            "<feedback>",
            "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\" xmlns:ext=\"urn:x\">",
        );
        let ns = ns.replace(
            "</auth_results>",
            "</auth_results><ext:row><source_ip>x</source_ip></ext:row>",
        );
        let ns = ns.replace(
            "</policy_published>",
            "</policy_published><extension><org_name>x</org_name></extension>",
        );
        let f = parse(ns.as_bytes()).unwrap();
        assert_eq!(f.namespace.as_deref(), Some(NS_DMARC_2));
        assert_eq!(f.org_name, "google.com");
        assert_eq!(f.rows.len(), 1);
    }

    #[test]
    fn entities_and_doctype() {
        let amp = MINIMAL.replace("google.com</org_name>", "AT&amp;T &#x41;&#66;</org_name>");
        assert_eq!(parse(amp.as_bytes()).unwrap().org_name, "AT&T AB");
        let ent = MINIMAL.replace("google.com</org_name>", "&xxe;</org_name>");
        assert_eq!(
            parse(ent.as_bytes()).unwrap_err(),
            Rejection::Entity("xxe".into())
        );
        let dtd = MINIMAL.replace(
            "<feedback>",
            "<!DOCTYPE feedback [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>\n<feedback>",
        );
        assert_eq!(parse(dtd.as_bytes()).unwrap_err(), Rejection::Doctype);
        let ext = MINIMAL.replace(
            "<feedback>",
            "<!DOCTYPE feedback SYSTEM \"file:///etc/passwd\">\n<feedback>",
        );
        assert_eq!(parse(ext.as_bytes()).unwrap_err(), Rejection::Doctype);
    }

    #[test]
    fn boms_and_encodings() {
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(MINIMAL.as_bytes());
        assert!(parse(&bom).is_ok());
        let mut le = vec![0xff, 0xfe];
        for u in MINIMAL.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(parse(&le).unwrap().rows.len(), 1);
        let latin = MINIMAL
            .replace("UTF-8", "ISO-8859-1")
            .replace("google.com</org_name>", "G\u{e9}ant</org_name>");
        let bytes: Vec<u8> = latin.chars().map(|c| c as u32 as u8).collect();
        assert_eq!(parse(&bytes).unwrap().org_name, "G\u{e9}ant");
        let spaced = format!("\n\n  {MINIMAL}");
        assert_eq!(parse(spaced.as_bytes()).unwrap().rows[0].line, 14);
    }

    #[test]
    fn strict_about_what_matters() {
        let cases: Vec<(String, Rejection)> = vec![
            (
                MINIMAL.replace("<report_id>123</report_id>", ""),
                Rejection::Missing("report_metadata/report_id"),
            ),
            (
                MINIMAL.replace("203.0.113.7", "203.0.113.300"),
                Rejection::Invalid {
                    field: "source_ip",
                    line: 12,
                    value: "203.0.113.300".into(),
                },
            ),
            (
                MINIMAL.replace("<count>12</count>", "<count>-1</count>"),
                Rejection::Invalid {
                    field: "count",
                    line: 12,
                    value: "-1".into(),
                },
            ),
            (
                MINIMAL.replace("<count>12</count>", "<count>1</count><count>2</count>"),
                Rejection::Repeated {
                    field: "count",
                    line: 15,
                },
            ),
            (
                MINIMAL.replace("<spf>pass</spf>", ""),
                Rejection::Missing("policy_evaluated/spf"),
            ),
            (
                MINIMAL.replace("feedback>", "report>"),
                Rejection::NotFeedback("report".into()),
            ),
            (MINIMAL.replace("</feedback>", ""), Rejection::Truncated),
            (
                MINIMAL.replace("<end>1700092799</end>", "<end>1</end>"),
                Rejection::Invalid {
                    field: "date_range",
                    line: 0,
                    value: "ends (1) before it begins (1700006400)".into(),
                },
            ),
            (
                format!("{MINIMAL}<feedback/>"),
                Rejection::Malformed {
                    line: 25,
                    message: "a second root element".into(),
                },
            ),
        ];
        for (doc, want) in cases {
            assert_eq!(parse(doc.as_bytes()).unwrap_err(), want, "{doc}");
        }
        let deep = format!(
            "<feedback>{}{}</feedback>",
            "<a>".repeat(40),
            "</a>".repeat(40)
        );
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err(),
            Rejection::TooDeep(MAX_DEPTH)
        );
    }

    #[test]
    fn tolerant_of_optional_and_odd_values() {
        let doc = MINIMAL
            .replace("<email>noreply-dmarc-support@google.com</email>", "")
            .replace(
                "<sp>none</sp><pct>100</pct>",
                "<np>reject</np><testing>n</testing>",
            )
            .replace(
                "<disposition>none</disposition>",
                "<disposition>PASS</disposition>",
            )
            .replace(
                "<identifiers><header_from>example.com</header_from></identifiers>",
                "",
            )
            .replace("203.0.113.7", " ::ffff:203.0.113.7 ")
            .replace(
                "</policy_evaluated>",
                "<reason><type>Forwarded</type><comment/></reason></policy_evaluated>",
            );
        let f = parse(doc.as_bytes()).unwrap();
        assert_eq!(f.email, None);
        assert_eq!(f.published.np.as_deref(), Some("reject"));
        let r = &f.rows[0];
        assert_eq!(r.disposition, Disposition::Pass);
        assert_eq!(r.source_ip.to_string(), "203.0.113.7");
        assert_eq!(r.header_from, None);
        assert_eq!(r.reasons[0].kind, "forwarded");
        assert_eq!(r.reasons[0].comment, None);
    }
}
