//! What was pasted: software, kind of file and confidence, per part.
//!
//! Each line gets a *signal*: the software it can only belong to (a Postfix
//! parameter name, an Exim `begin acl`, an m4 `FEATURE(`, a PowerShell
//! `AuthMechanism :` property, a fail2ban `[section]`, a syslog line from
//! `postfix/smtpd[…]`), with a kind hint; lines that fit several or none
//! (comments, blank lines, `name = value` with an unknown name) carry none.
//! A part whose signals agree is one file. A part whose signals change
//! software for good (a run of [`SWITCH_RUN`] signals of another software)
//! is split there, so files pasted one after another without `# file:`
//! headers are each analysed by their own parser. The split moves back over
//! the comment lines that lead the new file.
//!
//! Segments keep the line numbers of the paste: lines outside a segment are
//! left empty in its text (every parser skips empty lines), so evidence
//! points at the line the user sees.
//!
//! Hand-written rather than a classifier crate: the signals are the
//! softwares' own keywords, and the whole job is a pass over the lines.

use super::ascii_text;
use super::{Input, Software};
use serde::Serialize;
use std::borrow::Cow;

/// How sure the detection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One recognised part of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detected {
    /// Name of the part (`# file:` name, or the input's name).
    pub name: String,
    pub software: Software,
    /// What kind of file, e.g. `main.cf`, `Get-ReceiveConnector output`.
    pub kind: String,
    pub confidence: Confidence,
    /// First and last line of the part, 1-based, in the part's text.
    pub lines: (usize, usize),
    /// Whether it was forced with `--software` rather than recognised.
    pub forced: bool,
}

impl Detected {
    /// `main.cf: Postfix main.cf (high confidence)`.
    pub fn describe(&self) -> String {
        let how = if self.forced {
            "forced".to_string()
        } else {
            format!("{} confidence", self.confidence.name())
        };
        if self.software == Software::Logs {
            // The kind names the software (`Postfix mail log`).
            return format!("{}: {} ({how})", self.name, self.kind);
        }
        format!(
            "{}: {} {} ({how})",
            self.name,
            self.software.title(),
            self.kind
        )
    }
}

/// A part with its detection: the text to hand to the software's parser.
#[derive(Debug, Clone)]
pub struct Segment {
    pub input: Input,
    pub detected: Detected,
}

/// A part of the input nobody recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrecognised {
    pub name: String,
    pub lines: usize,
}

/// Signals of another software in a row needed to split a part there.
pub const SWITCH_RUN: usize = 3;

/// Parts larger than this are not split (a 200 MB log is one thing).
pub const MAX_SPLIT_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Signal {
    software: Software,
    kind: Kind,
}

/// Kind hints, turned into the part's `kind` by majority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    PostfixMain,
    PostfixMaster,
    Exim,
    SendmailMc,
    SendmailCf,
    SendmailAccess,
    SendmailD01,
    ExchangeReceive,
    ExchangeSend,
    ExchangeTransport,
    ExchangeCertificate,
    ExchangeServer,
    ExchangeAdPermission,
    ExchangeAny,
    Fail2ban,
    LogPostfix,
    LogExim,
    LogSendmail,
    LogExchange,
    LogOther,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::PostfixMain => "main.cf",
            Kind::PostfixMaster => "master.cf",
            Kind::Exim => "configuration",
            Kind::SendmailMc => "sendmail.mc",
            Kind::SendmailCf => "sendmail.cf",
            Kind::SendmailAccess => "access map",
            Kind::SendmailD01 => "`sendmail -d0.1` output",
            Kind::ExchangeReceive => "Get-ReceiveConnector output",
            Kind::ExchangeSend => "Get-SendConnector output",
            Kind::ExchangeTransport => "Get-TransportConfig output",
            Kind::ExchangeCertificate => "Get-ExchangeCertificate output",
            Kind::ExchangeServer => "Get-ExchangeServer output",
            Kind::ExchangeAdPermission => "Get-ADPermission output",
            Kind::ExchangeAny => "PowerShell output",
            Kind::Fail2ban => "jail configuration",
            Kind::LogPostfix => "Postfix mail log",
            Kind::LogExim => "Exim mainlog",
            Kind::LogSendmail => "Sendmail mail log",
            Kind::LogExchange => "Exchange log",
            Kind::LogOther => "mail log",
        }
    }
}

/// Splits and recognises the parts. With `forced`, every part is that
/// software (no split, high confidence).
pub fn detect(parts: &[Input], forced: Option<Software>) -> (Vec<Segment>, Vec<Unrecognised>) {
    detect_parts(parts.iter().map(Cow::Borrowed), forced)
}

/// [`detect`] of parts the caller no longer needs: a part that is one
/// segment becomes it without a copy.
pub(crate) fn detect_owned(
    parts: Vec<Input>,
    forced: Option<Software>,
) -> (Vec<Segment>, Vec<Unrecognised>) {
    detect_parts(parts.into_iter().map(Cow::Owned), forced)
}

fn detect_parts<'a>(
    parts: impl Iterator<Item = Cow<'a, Input>>,
    forced: Option<Software>,
) -> (Vec<Segment>, Vec<Unrecognised>) {
    let mut segments = Vec::new();
    let mut unknown = Vec::new();
    for mut part in parts {
        let total_lines = |part: &Input| super::lines(&part.text).count();
        if let Some(software) = forced {
            let lines = total_lines(&part);
            let kind = forced_kind(software, &part.text).to_string();
            let part = part.into_owned();
            segments.push(Segment {
                detected: Detected {
                    name: part.name.clone(),
                    software,
                    kind,
                    confidence: Confidence::High,
                    lines: (1, lines.max(1)),
                    forced: true,
                },
                input: part,
            });
            continue;
        }
        let (signals, ranges): (Vec<Option<Signal>>, _) = if part.text.len() > MAX_SPLIT_BYTES {
            // Look at the head only: enough to know what it is.
            let head = super::lines(&part.text).take(2000).map(signal).collect();
            (head, vec![(0, total_lines(&part))])
        } else {
            // One pass over the lines: the signals and the split read them.
            // Sized first (a SIMD count of the line ends): grown by
            // doubling, the vector was copied a dozen times over.
            let mut lines: Vec<&str> =
                Vec::with_capacity(memchr::memchr_iter(b'\n', part.text.as_bytes()).count() + 1);
            lines.extend(super::lines(&part.text));
            let signals = lines.iter().map(|l| signal(l)).collect::<Vec<_>>();
            let ranges = split_points(&lines, &signals);
            (signals, ranges)
        };
        let many = ranges.len() > 1;
        for (start, end) in ranges {
            let sig = &signals[start.min(signals.len())..end.min(signals.len())];
            let Some((software, kind, confidence)) = judge(sig) else {
                unknown.push(Unrecognised {
                    name: if many {
                        format!("{} (lines {}–{})", part.name, start + 1, end)
                    } else {
                        part.name.clone()
                    },
                    lines: end - start,
                });
                continue;
            };
            let name = part.name.clone();
            let input = if many {
                Input::new(part.name.clone(), blank_outside(&part.text, start, end))
            } else {
                // The one segment of the part (one pass of this loop): the
                // part itself, moved when the caller gave it away.
                std::mem::replace(
                    &mut part,
                    Cow::Owned(Input::new(String::new(), String::new())),
                )
                .into_owned()
            };
            segments.push(Segment {
                input,
                detected: Detected {
                    name,
                    software,
                    kind,
                    confidence,
                    lines: (start + 1, end.max(start + 1)),
                    forced: false,
                },
            });
        }
    }
    (segments, unknown)
}

fn forced_kind(software: Software, text: &str) -> &'static str {
    let sigs: Vec<Option<Signal>> = super::lines(text).take(2000).map(signal).collect();
    match judge(&sigs) {
        Some((s, _, _)) if s == software => {
            // The recognised kind, as a static name.
            let mut best = None;
            let mut counts: Vec<(Kind, usize)> = Vec::new();
            for s in sigs.iter().flatten().filter(|s| s.software == software) {
                match counts.iter_mut().find(|(k, _)| *k == s.kind) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((s.kind, 1)),
                }
            }
            if let Some((k, _)) = counts.iter().max_by_key(|(_, n)| *n) {
                best = Some(k.name());
            }
            best.unwrap_or("input")
        }
        _ => "input",
    }
}

/// The text with every line outside `start..end` emptied (line numbers kept).
fn blank_outside(text: &str, start: usize, end: usize) -> String {
    let mut out = String::with_capacity(text.len() / 2);
    for (i, line) in super::lines(text).enumerate() {
        if i >= start && i < end {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Line ranges (0-based, end exclusive) of the files in one part.
fn split_points(lines: &[&str], signals: &[Option<Signal>]) -> Vec<(usize, usize)> {
    let mut strong: Vec<(usize, Software)> = Vec::with_capacity(signals.len());
    strong.extend(
        signals
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (i, s.software))),
    );
    let mut cuts = vec![0usize];
    let mut current = strong.first().map(|(_, s)| *s);
    let mut k = 0;
    while k < strong.len() {
        let (line, sw) = strong[k];
        if Some(sw) != current {
            // A switch only if the next SWITCH_RUN signals (or all that are
            // left, at least two) are of the new software.
            let run = strong[k..].iter().take_while(|(_, s)| *s == sw).count();
            let left = strong.len() - k;
            if run >= SWITCH_RUN || (run == left && run >= 2) {
                // Move the cut back over the comments and blank lines that
                // lead the new file, but not past the previous signal.
                let floor = if k > 0 { strong[k - 1].0 + 1 } else { 0 };
                let mut cut = line;
                while cut > floor && is_lead(lines.get(cut - 1).copied().unwrap_or("")) {
                    cut -= 1;
                }
                // Blank lines right after the previous file stay with it.
                while cut < line && lines.get(cut).is_some_and(|l| l.trim().is_empty()) {
                    cut += 1;
                }
                if cut > *cuts.last().unwrap_or(&0) {
                    cuts.push(cut);
                }
                current = Some(sw);
                k += run;
                continue;
            }
        }
        k += 1;
    }
    let mut ranges = Vec::new();
    for (i, &c) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).copied().unwrap_or(lines.len());
        if end > c {
            ranges.push((c, end));
        }
    }
    if ranges.is_empty() {
        ranges.push((0, lines.len()));
    }
    ranges
}

/// A comment or blank line (shell `#`, m4 `dnl`, `;` in INI files).
fn is_lead(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#') || t.starts_with(';') || t.starts_with("dnl")
}

/// The software, kind and confidence of a run of signals; None when there
/// are no signals at all.
fn judge(signals: &[Option<Signal>]) -> Option<(Software, String, Confidence)> {
    let mut per: Vec<(Software, usize)> = Vec::new();
    let mut total = 0usize;
    for s in signals.iter().flatten() {
        total += 1;
        match per.iter_mut().find(|(sw, _)| *sw == s.software) {
            Some((_, n)) => *n += 1,
            None => per.push((s.software, 1)),
        }
    }
    let &(software, n) = per.iter().max_by_key(|(_, n)| *n)?;
    let mut kinds: Vec<(Kind, usize)> = Vec::new();
    for s in signals.iter().flatten().filter(|s| s.software == software) {
        match kinds.iter_mut().find(|(k, _)| *k == s.kind) {
            Some((_, c)) => *c += 1,
            None => kinds.push((s.kind, 1)),
        }
    }
    let kind = kind_name(software, &kinds);
    let share = n * 100 / total.max(1);
    let confidence = if n >= 3 && share >= 90 {
        Confidence::High
    } else if share >= 60 {
        Confidence::Medium
    } else {
        Confidence::Low
    };
    Some((software, kind, confidence))
}

fn kind_name(software: Software, kinds: &[(Kind, usize)]) -> String {
    let has = |k: Kind| kinds.iter().any(|(x, _)| *x == k);
    match software {
        Software::Postfix => match (has(Kind::PostfixMain), has(Kind::PostfixMaster)) {
            (true, true) => "main.cf and master.cf".into(),
            (false, true) => "master.cf".into(),
            _ => "main.cf".into(),
        },
        Software::Exchange => {
            let named: Vec<&str> = kinds
                .iter()
                .filter(|(k, _)| *k != Kind::ExchangeAny)
                .map(|(k, _)| k.name())
                .collect();
            if named.is_empty() {
                Kind::ExchangeAny.name().into()
            } else {
                named.join(", ")
            }
        }
        _ => kinds
            .iter()
            .max_by_key(|(_, n)| *n)
            .map(|(k, _)| k.name())
            .unwrap_or("input")
            .into(),
    }
}

fn sig(software: Software, kind: Kind) -> Option<Signal> {
    Some(Signal { software, kind })
}

/// The signal of one line.
fn signal(line: &str) -> Option<Signal> {
    signal_with(line, true)
}

/// [`signal`], with or without the shortcuts for the common shapes of a
/// main.cf line ([`postfix_like`], [`plain_continuation`]); the tests
/// check that both give the same on every line they have.
#[inline(always)]
fn signal_with(line: &str, shortcuts: bool) -> Option<Signal> {
    let t = trim(line);
    if t.is_empty() || t.len() > 4096 {
        return None;
    }
    if shortcuts {
        if let Some(s) = plain_continuation(line, t) {
            return s;
        }
    }
    // Logs first: a log line may quote anything.
    if let Some(s) = log_signal(t) {
        return Some(s);
    }
    if shortcuts {
        if let Some(s) = postfix_like(line, t) {
            return s;
        }
    }
    if t.starts_with('#') {
        // Exchange log headers are comments with a meaning.
        if t.starts_with("#Software: Microsoft Exchange") || t.starts_with("#Log-type: ") {
            return sig(Software::Logs, Kind::LogExchange);
        }
        return None;
    }
    let first = line.as_bytes().first().copied().unwrap_or(b' ');
    let indented = first == b' ' || first == b'\t';

    // Cheap necessary conditions guard the costlier checks below (this
    // runs for every line of a paste): every m4 macro starts with a letter,
    // every Exchange property and Sendmail map tag with an upper-case one.
    let lead = t.as_bytes().first().copied().unwrap_or(b' ');
    // m4 (sendmail.mc)
    if lead.is_ascii_alphabetic() {
        if let Some(open) = memchr::memchr(b'(', t.as_bytes()) {
            if M4_MACROS.contains(&t.get(..open).unwrap_or("").trim_end()) {
                return sig(Software::Sendmail, Kind::SendmailMc);
            }
        }
    }
    if t.starts_with("dnl")
        && t[3..]
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || c == '(')
    {
        return sig(Software::Sendmail, Kind::SendmailMc);
    }
    // sendmail.cf
    if !indented {
        if let Some(s) = sendmail_cf_signal(t) {
            return Some(s);
        }
    }
    if b"CFGSTV=".contains(&lead) {
        if let Some(s) = sendmail_other_signal(t) {
            return Some(s);
        }
    }
    // fail2ban section header
    if t.starts_with('[') && t.ends_with(']') && t.len() > 2 && !indented {
        let name = &t[1..t.len() - 1];
        if name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return sig(Software::Fail2ban, Kind::Fail2ban);
        }
    }
    // Exim directives and section starts
    if let Some(rest) = t.strip_prefix('.') {
        let word = rest.split_whitespace().next().unwrap_or("");
        if EXIM_DIRECTIVES.contains(&word) {
            return sig(Software::Exim, Kind::Exim);
        }
    }
    if let Some(rest) = t.strip_prefix("begin") {
        let word = rest.trim();
        if EXIM_SECTIONS.contains(&word) {
            return sig(Software::Exim, Kind::Exim);
        }
    }
    if let Some(s) = exim_signal(t, indented) {
        return Some(s);
    }
    // PowerShell Format-List: `Name : value` (aligned colons)
    if !indented && lead.is_ascii_uppercase() {
        if let Some(name) = before_colon(t) {
            let name = super::trim_end_fast(name);
            if !name.is_empty() && !name.contains(' ') {
                if let Some(kind) = exchange_property(name) {
                    return sig(Software::Exchange, kind);
                }
            }
        }
    }
    // `name = value`: Postfix, Exim or fail2ban by the name
    if let Some(name) = memchr::memchr(b'=', t.as_bytes()).and_then(|i| t.get(..i)) {
        let name = name.trim();
        if !indented && !name.is_empty() {
            return by_name(name);
        }
        if indented {
            let name = name.trim();
            if name == "driver" {
                return sig(Software::Exim, Kind::Exim);
            }
        }
    }
    // Postfix master.cf service line
    if !indented && super::postfix::may_be_service_line(t) {
        return sig(Software::Postfix, Kind::PostfixMaster);
    }
    None
}

/// `line.trim()`, without its search through Unicode white space when the
/// line starts and ends with ASCII that is not white space (most lines).
fn trim(line: &str) -> &str {
    // The ASCII chars `char::is_whitespace` accepts.
    let b = line.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) if ascii_text(f) && ascii_text(l) => line,
        // Blanks first byte by byte (Format-List pads with runs of 30).
        _ => super::trim_fast(line),
    }
}

/// Which of Postfix ([`POSTFIX_NAME`]), Exim ([`EXIM_NAME`]) and fail2ban
/// ([`FAIL2BAN_NAME`]) know a name: [`EXIM_OPTIONS`], [`FAIL2BAN_OPTIONS`]
/// and Postfix's parameter names in one hash map, so that a `name = value`
/// line (most lines of a paste) costs one look-up rather than three.
fn name_owners() -> &'static NameOwners {
    static OWNERS: std::sync::OnceLock<NameOwners> = std::sync::OnceLock::new();
    OWNERS.get_or_init(|| {
        let mut m = NameOwners::default();
        for n in super::postfix::parameter_names() {
            *m.entry(n).or_default() |= POSTFIX_NAME;
        }
        for n in EXIM_OPTIONS {
            *m.entry(n).or_default() |= EXIM_NAME;
        }
        for n in FAIL2BAN_OPTIONS {
            *m.entry(n).or_default() |= FAIL2BAN_NAME;
        }
        m
    })
}

type NameOwners = std::collections::HashMap<&'static str, u8, foldhash::fast::FixedState>;
const POSTFIX_NAME: u8 = 1;
const EXIM_NAME: u8 = 2;
const FAIL2BAN_NAME: u8 = 4;

/// The signal of a `name = value` line by its name: Postfix, Exim or
/// fail2ban when only one of them knows it.
fn by_name(name: &str) -> Option<Signal> {
    let owners = name_owners().get(name).copied().unwrap_or(0);
    let postfix = owners & POSTFIX_NAME != 0;
    // The prefixes by their first byte: most names start with none of
    // them, and five string comparisons a line showed in profiles.
    let exim = owners & EXIM_NAME != 0
        || match name.as_bytes().first() {
            Some(b'a') => name.starts_with("acl_smtp_") || name.starts_with("addresslist "),
            Some(b'd') => name.starts_with("domainlist "),
            Some(b'h') => name.starts_with("hostlist "),
            Some(b'l') => name.starts_with("localpartlist "),
            _ => false,
        };
    let f2b = owners & FAIL2BAN_NAME != 0;
    match (postfix, exim, f2b) {
        (true, false, false) => sig(Software::Postfix, Kind::PostfixMain),
        (false, true, false) => sig(Software::Exim, Kind::Exim),
        (false, false, true) => sig(Software::Fail2ban, Kind::Fail2ban),
        _ => None,
    }
}

/// The common line of a main.cf, decided without the other checks: at the
/// start of the line a lower-case word (`[a-z][a-z0-9_]*`), blanks, `=`.
/// None of the checks [`signal`] makes before its `name = value` branch
/// can fire on that shape (no log timestamp or month, no m4 macro before a
/// `(`, no upper-case Sendmail or Exchange start, no `[`, `.` or section
/// word, no Exim macro, verb or `word:`), except an Exim retry rule (the
/// third field `F,2h,…`) and, for `dnl…` and `dc_…` words, m4 and
/// Debian's `dc_*='…'`: those lines take the full path. `Some(signal)`
/// when decided.
fn postfix_like(line: &str, t: &str) -> Option<Option<Signal>> {
    let b = line.as_bytes();
    if !b.first()?.is_ascii_lowercase() {
        return None;
    }
    let end = b.iter().position(|&c| !LOWER_NAME[usize::from(c)])?;
    let eq = end
        + b.get(end..)?
            .iter()
            .position(|c| !matches!(c, b' ' | b'\t'))?;
    if b.get(eq) != Some(&b'=') {
        return None;
    }
    let name = line.get(..end)?;
    if name.starts_with("dnl") || name.starts_with("dc_") || nameval_retry_rule(t, end, eq) {
        return None;
    }
    Some(by_name(name))
}

/// [`exim_retry_rule`] of a [`postfix_like`] line (`t` trimmed; its name
/// ends at `end`, its `=` is at `eq`), without the search through the
/// line for `F,<digit>`: in the common shape `name = value` the third
/// field is the value's first word, which its first four bytes decide.
/// Any other shape (`name=value`, `name =value`, white space that is not
/// ASCII) takes [`exim_retry_rule`].
fn nameval_retry_rule(t: &str, end: usize, eq: usize) -> bool {
    let b = t.as_bytes();
    let blank = |c: &u8| matches!(c, b' ' | b'\t');
    // The name alone is the first field, `=` alone the second.
    if eq > end && b.get(eq + 1).is_some_and(blank) {
        let q = eq + 1 + b[eq + 1..].iter().take_while(|c| blank(c)).count();
        if let Some(&c) = b.get(q) {
            if ascii_text(c) {
                if !matches!(c, b'F' | b'G' | b'H') {
                    return false;
                }
                // `F,<digit>` and a fourth byte that is not white space.
                match b.get(q + 1..q + 4) {
                    Some(&[b',', d, e]) if d.is_ascii_digit() && ascii_text(e) => return true,
                    Some(&[b',', d, e]) if d.is_ascii_digit() && e.is_ascii() => return false,
                    Some(&[b',', d, _]) if d.is_ascii_digit() => {}
                    _ => return false,
                }
            }
        }
    }
    exim_retry_rule(t)
}

/// The bytes of [`postfix_like`]'s name (`[a-z0-9_]`), as a table: one
/// look-up a byte rather than three ranges (every main.cf line's name).
static LOWER_NAME: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
        c += 1;
    }
    t
};

/// The continuation line of a main.cf list (`    permit_mynetworks,`,
/// `    check_client_access hash:/etc/postfix/access,`), decided without
/// the other checks: an indented line whose text starts with a lower-case
/// letter and has only lower-case letters, digits, blanks and `_,:/.-`.
/// On that shape no log, m4 (no `(`), Sendmail (no upper case), fail2ban
/// (not indented), Exchange (not indented), `name = value` (no `=`) or
/// master.cf (indented) check can fire, nor any Exim one (no `=`, `!`,
/// upper case or `$`) except a section word, an ACL or driver header
/// (`word:`), an ACL verb alone and `endpass`: those, and `dnl…`/`begin…`,
/// take the full path. `Some(None)` when decided.
fn plain_continuation(line: &str, t: &str) -> Option<Option<Signal>> {
    if !matches!(line.as_bytes().first(), Some(b' ' | b'\t')) {
        return None;
    }
    let b = t.as_bytes();
    if !b.first()?.is_ascii_lowercase() {
        return None;
    }
    // One pass: every byte plain, and whether any is not a word byte.
    let classes = b
        .iter()
        .fold(0u8, |acc, &c| acc | PLAIN_CLASS[usize::from(c)]);
    if classes & NOT_PLAIN != 0 {
        return None;
    }
    if t.starts_with("dnl") || t.starts_with("begin") {
        return None;
    }
    // After the first word comes more than blanks (`t` ends with no blank)
    // and not `:` alone: no section word, header or verb alone.
    if classes & PLAIN_OTHER != 0 && b.last() != Some(&b':') {
        return Some(None);
    }
    let word_end = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        .unwrap_or(b.len());
    let (word, rest) = t.split_at(word_end);
    let rest = rest.trim_start_matches(' ');
    if rest == ":" || (rest.is_empty() && (EXIM_ACL_VERBS.contains(&word) || word == "endpass")) {
        return None;
    }
    Some(None)
}

/// The bytes of [`plain_continuation`]'s shape, by class: a word byte
/// (`[a-z0-9_]`, [`PLAIN_WORD`]), another one it allows (` ,:/.-`,
/// [`PLAIN_OTHER`]), or none of them ([`NOT_PLAIN`]).
static PLAIN_CLASS: [u8; 256] = {
    let mut t = [NOT_PLAIN; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' {
            t[c] = PLAIN_WORD;
        } else if matches!(b, b' ' | b',' | b':' | b'/' | b'.' | b'-') {
            t[c] = PLAIN_OTHER;
        }
        c += 1;
    }
    t
};
const PLAIN_WORD: u8 = 1;
const PLAIN_OTHER: u8 = 2;
const NOT_PLAIN: u8 = 4;

/// What is before the first ` :` in `t`, else before its first `:` (a
/// `Format-List` property name with its padding).
fn before_colon(t: &str) -> Option<&str> {
    let b = t.as_bytes();
    let mut first = None;
    for j in memchr::memchr_iter(b':', b) {
        if j > 0 && b.get(j - 1) == Some(&b' ') {
            return t.get(..j - 1);
        }
        first = first.or(Some(j));
    }
    first.and_then(|j| t.get(..j))
}

/// Exim lines that carry no option name: macro definitions, ACL and driver
/// headers, ACL verbs and conditions, retry rules, `exim -bV` banners and
/// Debian's update-exim4.conf.conf (`dc_*='…'`). Debian's conf.d files are
/// mostly these (comments, `.ifdef`, macros, `acl_check_mail:`, `accept`).
fn exim_signal(t: &str, indented: bool) -> Option<Signal> {
    let exim = sig(Software::Exim, Kind::Exim);
    if t.starts_with("Exim version ") {
        return exim;
    }
    // Bytes, not chars: a non-ASCII char ends the word at its first byte
    // all the same.
    let word_end = t
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(t.len());
    let word = &t[..word_end];
    let rest = super::trim_start_fast(&t[word_end..]);
    // update-exim4.conf.conf: `dc_relay_nets='…'`
    if word.starts_with("dc_") && rest.starts_with("='") {
        return exim;
    }
    // Macro definitions: `MAIN_TLS_ENABLE = yes`, `SEL == SEL +x`.
    if word.len() >= 4
        && word.contains('_')
        && word.as_bytes()[0].is_ascii_uppercase()
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && rest.starts_with('=')
    {
        return exim;
    }
    // `acl_check_rcpt:`, `remote_smtp:` on a line of their own.
    if rest == ":"
        && word
            .as_bytes()
            .first()
            .is_some_and(|b| b.is_ascii_lowercase())
    {
        return exim;
    }
    // ACL verbs, alone (indented) or with their first condition.
    let cond_follows = |r: &str| {
        let r = r.strip_prefix('!').map(str::trim_start).unwrap_or(r);
        let end = r
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .unwrap_or(r.len());
        EXIM_ACL_CONDITIONS.contains(&&r[..end]) && r[end..].trim_start().starts_with('=')
    };
    if EXIM_ACL_VERBS.contains(&word) && ((rest.is_empty() && indented) || cond_follows(rest)) {
        return exim;
    }
    if indented && (t.starts_with('!') || EXIM_ACL_CONDITIONS.contains(&word)) && cond_follows(t) {
        return exim;
    }
    if indented && word == "endpass" && rest.is_empty() {
        return exim;
    }
    if exim_retry_rule(t) {
        return exim;
    }
    None
}

/// Retry rules: `*   *   F,2h,15m; G,16h,1h,1.5; F,4d,6h`.
fn exim_retry_rule(t: &str) -> bool {
    // Only a line with `F,<digit>` (or G, H) in it can be one: look for
    // that first.
    let b = t.as_bytes();
    let retry_like = memchr::memchr_iter(b',', b).any(|i| {
        i > 0
            && matches!(b.get(i - 1), Some(b'F' | b'G' | b'H'))
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
    });
    if !retry_like {
        return false;
    }
    let mut f = t.split_whitespace();
    if let (Some(_), Some(_), Some(rule)) = (f.next(), f.next(), f.next()) {
        let b = rule.as_bytes();
        return b.len() > 3
            && matches!(b[0], b'F' | b'G' | b'H')
            && b[1] == b','
            && b[2].is_ascii_digit();
    }
    false
}

const EXIM_ACL_VERBS: &[&str] = &[
    "accept", "defer", "deny", "discard", "drop", "require", "warn",
];

const EXIM_ACL_CONDITIONS: &[&str] = &[
    "acl",
    "add_header",
    "authenticated",
    "condition",
    "control",
    "delay",
    "dnslists",
    "domains",
    "encrypted",
    "hosts",
    "local_parts",
    "log_message",
    "logwrite",
    "malware",
    "message",
    "ratelimit",
    "recipients",
    "remove_header",
    "sender_domains",
    "senders",
    "set",
    "spam",
    "spf",
    "verify",
];

fn sendmail_cf_signal(t: &str) -> Option<Signal> {
    let b = t.as_bytes();
    let c0 = *b.first()?;
    let c1 = b.get(1).copied().unwrap_or(b'\n');
    let cf = Some(Signal {
        software: Software::Sendmail,
        kind: Kind::SendmailCf,
    });
    match c0 {
        // `O PrivacyOptions=goaway`
        b'O' if c1 == b' ' => {
            let name = t[2..].split('=').next().unwrap_or("");
            if t.contains('=')
                && name.starts_with(|c: char| c.is_ascii_uppercase())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
            {
                return cf;
            }
            None
        }
        // Rewrite rules and rule sets
        b'R' if c1 == b'$' => cf,
        b'S' if t.len() > 1
            && (t[1..].chars().all(|c| c.is_ascii_digit()) || t[1..].contains('=')) =>
        {
            if t[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                cf
            } else {
                None
            }
        }
        // `V10/Berkeley`, `DZ8.17.1`, `Mlocal, P=...`
        b'V' if t[1..].starts_with(|c: char| c.is_ascii_digit()) && t.contains('/') => cf,
        b'D' if t.len() > 2
            && (c1 == b'{' || c1.is_ascii_alphabetic())
            && !t.contains(' ')
            && !t.contains('=') =>
        {
            if c1.is_ascii_uppercase() || c1 == b'{' {
                cf
            } else {
                None
            }
        }
        b'M' if t.contains(", P=") || t.contains(",P=") => cf,
        b'C' | b'F' if (c1 == b'w' || c1 == b'{') && t.len() > 2 => cf,
        _ => None,
    }
}

/// A sendmail access map entry (`Connect:10.0.0 RELAY`, `Srv_Features:
/// o`, `ClientRate: 10`) or a line of `sendmail -d0.1` output (`Version
/// 8.17.1`, ` Compiled with: ...`).
fn sendmail_other_signal(t: &str) -> Option<Signal> {
    if let Some(v) = t.strip_prefix("Version 8.") {
        if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return sig(Software::Sendmail, Kind::SendmailD01);
        }
    }
    if t.starts_with("Compiled with: ")
        || t.starts_with("============ SYSTEM IDENTITY (after readcf)")
    {
        return sig(Software::Sendmail, Kind::SendmailD01);
    }
    let (tag, rest) = t.split_once(':')?;
    let mut f = rest.split_whitespace();
    let key_attached = !rest.starts_with(char::is_whitespace);
    let action = if key_attached { f.nth(1) } else { f.next() }?;
    let distinctive = matches!(
        tag,
        "Srv_Features"
            | "Clt_Features"
            | "GreetPause"
            | "ClientRate"
            | "ClientConn"
            | "Try_TLS"
            | "TLS_Srv"
            | "TLS_Clt"
            | "TLS_Rcpt"
    );
    let verdict = matches!(action, "OK" | "RELAY" | "REJECT" | "DISCARD" | "SKIP")
        || action.starts_with("ERROR:");
    if distinctive || (matches!(tag, "Connect" | "From" | "To" | "Spam") && key_attached && verdict)
    {
        return sig(Software::Sendmail, Kind::SendmailAccess);
    }
    None
}

fn exchange_property(name: &str) -> Option<Kind> {
    Some(match name {
        "RemoteIPRanges"
        | "PermissionGroups"
        | "Bindings"
        | "AuthMechanism"
        | "TarpitInterval"
        | "MaxInboundConnectionPerSource"
        | "MaxInboundConnection"
        | "Banner"
        | "BareLinefeedRejectionEnabled"
        | "MessageRateLimit"
        | "ProtocolLoggingLevel"
        | "RequireTLS"
        | "TransportRole"
        | "MaxRecipientsPerMessage"
        | "AdvertiseClientSettings" => Kind::ExchangeReceive,
        "AddressSpaces"
        | "SmartHosts"
        | "SourceTransportServers"
        | "DNSRoutingEnabled"
        | "TlsAuthLevel"
        | "RequireOorg"
        | "UseExternalDNSServersEnabled" => Kind::ExchangeSend,
        "InternalSMTPServers"
        | "MaxRecipientEnvelopeLimit"
        | "TLSReceiveDomainSecureList"
        | "ShadowRedundancyEnabled"
        | "SafetyNetHoldTime"
        | "ExternalPostmasterAddress" => Kind::ExchangeTransport,
        "Thumbprint" | "CertificateDomains" | "NotAfter" | "NotBefore" | "Services"
        | "IsSelfSigned" | "HasPrivateKey" | "RootCAType" => Kind::ExchangeCertificate,
        "AdminDisplayVersion" | "ServerRole" | "IsHubTransportServer" | "IsEdgeServer" => {
            Kind::ExchangeServer
        }
        "ExtendedRights" | "AccessRights" | "IsInherited" | "Deny" | "InheritanceType" => {
            Kind::ExchangeAdPermission
        }
        "RunspaceId" | "Identity" | "DistinguishedName" | "Guid" | "ObjectCategory"
        | "OrganizationId" | "WhenChanged" | "WhenCreated" | "ExchangeVersion"
        | "PSComputerName" => Kind::ExchangeAny,
        _ => return None,
    })
}

fn log_signal(t: &str) -> Option<Signal> {
    let b = t.as_bytes();
    // ISO timestamps: `2026-11-29T07:00:00.123456+00:00 host prog[pid]: …`
    // (rsyslog high precision), Exim `2026-11-29 07:00:00 …`, Exchange CSV
    // `2026-11-29T07:00:00.000Z,…`.
    let iso = b.len() > 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[13] == b':'
        && b[16] == b':';
    if iso {
        let rest = t.get(19..).unwrap_or("");
        if b[10] == b'T' {
            if rest.contains("Z,")
                || rest.starts_with(".") && rest.contains(',') && !rest.contains(' ')
            {
                return sig(Software::Logs, Kind::LogExchange);
            }
            let after = rest.split_once(' ').map(|(_, r)| r).unwrap_or("");
            return syslog_program(after);
        }
        if b[10] == b' ' {
            // Exim mainlog: message id or an SMTP event
            let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
            let rest = rest.trim_start();
            let rest = match rest.strip_prefix('[') {
                Some(r) => r.split_once("] ").map(|(_, r)| r).unwrap_or(r),
                None => rest,
            };
            let rest = rest.strip_prefix("+0000 ").unwrap_or(rest);
            if is_exim_msgid(rest)
                || rest.starts_with("H=")
                || rest.starts_with("SMTP ")
                || rest.starts_with("no host name found")
                || rest.starts_with("TLS error")
                || rest.starts_with("Start queue run")
                || rest.starts_with("End queue run")
                || rest.starts_with("exim ")
                || rest.starts_with("dovecot_")
                || rest.starts_with("login authenticator failed")
                || rest.starts_with("plain authenticator failed")
            {
                return sig(Software::Logs, Kind::LogExim);
            }
        }
        return None;
    }
    // BSD syslog: `Nov 29 07:00:00 host prog[pid]: …`
    if b.len() > 16 && b[3] == b' ' && b[9] == b':' && b[12] == b':' && MONTHS.contains(&&t[..3]) {
        let after = t.get(15..).unwrap_or("").trim_start();
        let after = after.split_once(' ').map(|(_, r)| r).unwrap_or("");
        return syslog_program(after);
    }
    None
}

/// `postfix/smtpd[123]: …` after the host name.
fn syslog_program(after: &str) -> Option<Signal> {
    let prog = after.split([':', '[']).next().unwrap_or("");
    if prog.starts_with("postfix") && prog.contains('/') {
        return sig(Software::Logs, Kind::LogPostfix);
    }
    if matches!(prog, "sendmail" | "sm-mta" | "sm-msp-queue") {
        return sig(Software::Logs, Kind::LogSendmail);
    }
    if prog.starts_with("exim") {
        return sig(Software::Logs, Kind::LogExim);
    }
    if matches!(prog, "dovecot" | "opendkim" | "saslauthd" | "postscreen") {
        return sig(Software::Logs, Kind::LogOther);
    }
    None
}

/// Exim message ids: `1rABCd-000123-AB` (old) or `1rABCd-000000001a-ABCD` (4.97+).
fn is_exim_msgid(s: &str) -> bool {
    let id = s.split(' ').next().unwrap_or("");
    let mut it = id.split('-');
    let (Some(a), Some(b), Some(c), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return false;
    };
    a.len() == 6
        && (b.len() == 6 || b.len() == 11)
        && (c.len() == 2 || c.len() == 4)
        && id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
}

const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

const M4_MACROS: &[&str] = &[
    "divert",
    "VERSIONID",
    "OSTYPE",
    "DOMAIN",
    "FEATURE",
    "define",
    "undefine",
    "DAEMON_OPTIONS",
    "CLIENT_OPTIONS",
    "MAILER",
    "MAILER_DEFINITIONS",
    "LOCAL_CONFIG",
    "LOCAL_RULESETS",
    "MASQUERADE_AS",
    "MASQUERADE_DOMAIN",
    "EXPOSED_USER",
    "INPUT_MAIL_FILTER",
    "TRUST_AUTH_MECH",
    "LOCAL_DOMAIN",
    "RELAY_DOMAIN",
    "RELAY_DOMAIN_FILE",
    "include",
    "sinclude",
    "ifdef",
    "dnl",
];

const EXIM_DIRECTIVES: &[&str] = &[
    "ifdef",
    "ifndef",
    "elifdef",
    "elifndef",
    "else",
    "endif",
    "include",
    "include_if_exists",
];

const EXIM_SECTIONS: &[&str] = &[
    "acl",
    "authenticators",
    "local_scan",
    "retry",
    "rewrite",
    "routers",
    "transports",
];

/// Exim main options that are not Postfix parameters (Postfix-and-Exim
/// names such as `message_size_limit` carry no signal).
const EXIM_OPTIONS: &[&str] = &[
    "primary_hostname",
    "qualify_domain",
    "qualify_recipient",
    "local_interfaces",
    "daemon_smtp_ports",
    "tls_advertise_hosts",
    "tls_certificate",
    "tls_privatekey",
    "tls_require_ciphers",
    "tls_dhparam",
    "tls_verify_certificates",
    "openssl_options",
    "auth_advertise_hosts",
    "chunking_advertise_hosts",
    "pipelining_advertise_hosts",
    "smtp_accept_max",
    "smtp_accept_max_per_host",
    "smtp_accept_queue_per_connection",
    "smtp_banner",
    "log_selector",
    "log_file_path",
    "never_users",
    "host_lookup",
    "rfc1413_hosts",
    "rfc1413_query_timeout",
    "ignore_bounce_errors_after",
    "timeout_frozen_after",
    "exim_user",
    "exim_group",
    "trusted_users",
    "keep_environment",
    "add_environment",
    "av_scanner",
    "spamd_address",
    "prdr_enable",
    "system_filter",
    "freeze_tell",
    "remote_max_parallel",
    "queue_run_max",
    "queue_only_load",
    "split_spool_directory",
    "check_spool_space",
    "dns_dnssec_ok",
    "disable_ipv6",
    "helo_try_verify_hosts",
    "helo_verify_hosts",
    "smtp_enforce_sync",
    "recipient_unqualified_hosts",
    "sender_unqualified_hosts",
    "received_header_text",
    "accept_8bitmime",
    "bounce_return_size_limit",
    "errors_reply_to",
    "smtp_receive_timeout",
    "gnutls_compat_mode",
    "tls_on_connect_ports",
];

const FAIL2BAN_OPTIONS: &[&str] = &[
    "enabled",
    "port",
    "filter",
    "logpath",
    "maxretry",
    "findtime",
    "bantime",
    "bantime.increment",
    "bantime.factor",
    "bantime.maxtime",
    "bantime.rndtime",
    "ignoreip",
    "ignoreself",
    "ignorecommand",
    "backend",
    "action",
    "banaction",
    "banaction_allports",
    "journalmatch",
    "destemail",
    "sender",
    "mta",
    "protocol",
    "chain",
    "usedns",
    "logencoding",
    "maxmatches",
    "maxlines",
    "before",
    "after",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (Vec<Segment>, Vec<Unrecognised>) {
        detect(&[Input::new("pasted", text)], None)
    }

    fn kinds(text: &str) -> Vec<(Software, String, Confidence, (usize, usize))> {
        one(text)
            .0
            .into_iter()
            .map(|s| {
                (
                    s.detected.software,
                    s.detected.kind,
                    s.detected.confidence,
                    s.detected.lines,
                )
            })
            .collect()
    }

    #[test]
    fn postfix_main_and_master() {
        let k = kinds(
            "# main.cf\nmyhostname = mx.example.org\nsmtpd_banner = $myhostname ESMTP\n\
             mynetworks = 127.0.0.0/8\nsmtp      inet  n       -       y       -       -       smtpd\n",
        );
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].0, Software::Postfix);
        assert_eq!(k[0].1, "main.cf and master.cf");
        assert_eq!(k[0].2, Confidence::High);
    }

    #[test]
    fn each_software_is_recognised() {
        let cases: &[(&str, Software, &str)] = &[
            (
                "primary_hostname = mx.example.org\ndomainlist local_domains = @\nbegin acl\nacl_check_rcpt:\n  accept hosts = :\n",
                Software::Exim,
                "configuration",
            ),
            (
                "divert(-1)dnl\nVERSIONID(`x')dnl\nOSTYPE(`debian')dnl\nFEATURE(`greet_pause', `1000')dnl\n",
                Software::Sendmail,
                "sendmail.mc",
            ),
            (
                "V10/Berkeley\nO PrivacyOptions=authwarnings\nO LogLevel=9\nDZ8.17.1\n",
                Software::Sendmail,
                "sendmail.cf",
            ),
            (
                "RunspaceId : 1\nAuthMechanism : Tls, Integrated\nBindings : {0.0.0.0:25}\nRemoteIPRanges : {0.0.0.0-255.255.255.255}\n",
                Software::Exchange,
                "Get-ReceiveConnector output",
            ),
            (
                "[DEFAULT]\nbantime = 1h\nmaxretry = 5\n[postfix-sasl]\nenabled = true\n",
                Software::Fail2ban,
                "jail configuration",
            ),
            (
                "Nov 29 07:00:01 mx postfix/smtpd[123]: connect from unknown[203.0.113.9]\n\
                 Nov 29 07:00:02 mx postfix/smtpd[123]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed\n\
                 Nov 29 07:00:03 mx postfix/smtpd[123]: disconnect from unknown[203.0.113.9]\n",
                Software::Logs,
                "Postfix mail log",
            ),
            (
                "2026-11-29 07:00:01 1rABCd-000123-AB <= a@example.org H=x [203.0.113.9] P=esmtps\n\
                 2026-11-29 07:00:02 H=(x) [203.0.113.9] F=<a@b> rejected RCPT <c@d>: relay not permitted\n",
                Software::Logs,
                "Exim mainlog",
            ),
        ];
        for (text, sw, kind) in cases {
            let k = kinds(text);
            assert_eq!(k.len(), 1, "{text}");
            assert_eq!((k[0].0, k[0].1.as_str()), (*sw, *kind), "{text}");
        }
    }

    #[test]
    fn debian_exim_conf_d_files_are_exim() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/exim/debian12/conf.d"
        );
        let Ok(sections) = std::fs::read_dir(dir) else {
            return;
        };
        let mut n = 0;
        for sec in sections.flatten() {
            for f in std::fs::read_dir(sec.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let text = std::fs::read_to_string(f.path()).expect("read");
                let (segs, unknown) = detect(&[Input::new("x", text)], None);
                assert!(unknown.is_empty(), "{:?} not recognised", f.path());
                assert_eq!(segs.len(), 1, "{:?} split", f.path());
                assert_eq!(segs[0].detected.software, Software::Exim, "{:?}", f.path());
                n += 1;
            }
        }
        assert!(n > 30, "{n} files");
    }

    #[test]
    fn exim_lines_without_option_names() {
        for text in [
            "acl_check_mail:\n\n  accept\n",
            "MAIN_TLS_ENABLE = yes\nMESSAGE_SIZE_LIMIT = 20M\n",
            "dc_eximconfig_configtype='internet'\ndc_relay_nets=''\nCFILEMODE='644'\n",
            "*   *   F,2h,15m; G,16h,1h,1.5; F,4d,6h\n",
            "Exim version 4.96 #2 built 13-Nov-2024 19:00:00\n",
            "  deny    !verify = sender\n          message = no\n",
        ] {
            let k = kinds(text);
            assert_eq!(k.len(), 1, "{text}");
            assert_eq!(k[0].0, Software::Exim, "{text}");
        }
        // Not Exim: prose, a YAML-ish key alone is weak but a Postfix file stays Postfix.
        let k = kinds("myhostname = a\nmynetworks = 127.0.0.0/8\nsmtpd_banner = x\nrelayhost =\n");
        assert_eq!(k[0].0, Software::Postfix);
    }

    #[test]
    fn sendmail_access_map_and_d01_output() {
        // Without these signals an access map or `sendmail -d0.1` output
        // pasted as its own part was "not recognised" and never analysed.
        let k = kinds(
            "Connect:localhost.localdomain RELAY\nConnect:10.0.0 RELAY\n\
             Srv_Features:\to\nClientRate:192.0.2.7 2\nGreetPause:localhost 0\n",
        );
        assert_eq!(k.len(), 1);
        assert_eq!(
            (k[0].0, k[0].1.as_str()),
            (Software::Sendmail, "access map")
        );
        let k = kinds(
            "Version 8.17.1.9\n Compiled with: DANE DNSMAP IPV6_FULL LDAPMAP LOG MAP_REGEX\n\
             \t\tMILTER MIME7TO8 MIME8TO7 NAMED_BIND NETINET NETINET6\n\n\
             ============ SYSTEM IDENTITY (after readcf) ============\n",
        );
        assert_eq!(k.len(), 1);
        assert_eq!(
            (k[0].0, k[0].1.as_str()),
            (Software::Sendmail, "`sendmail -d0.1` output")
        );
        // Mail headers and prose with these words are not access maps.
        for t in [
            "From: Alice <alice@example.org>",
            "To: bob@example.org",
            "Connect: failed",
            "Version 3.7.11",
        ] {
            assert_eq!(signal(t), None, "{t}");
        }
    }

    #[test]
    fn concatenated_files_are_split_with_their_line_numbers() {
        let text = "# /etc/postfix/main.cf\nmyhostname = mx.example.org\nmynetworks = 127.0.0.0/8\n\
                    disable_vrfy_command = yes\n\n# /etc/fail2ban/jail.local\n[DEFAULT]\nbantime = 1h\n\
                    [postfix-sasl]\nenabled = true\n";
        let (segs, unknown) = one(text);
        assert!(unknown.is_empty());
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].detected.software, Software::Postfix);
        assert_eq!(segs[0].detected.lines, (1, 5));
        assert_eq!(segs[1].detected.software, Software::Fail2ban);
        assert_eq!(segs[1].detected.lines, (6, 10));
        // Line 7 of the paste is line 7 of the segment's text.
        assert_eq!(segs[1].input.text.lines().nth(6), Some("[DEFAULT]"));
        assert_eq!(segs[1].input.text.lines().nth(1), Some(""));
    }

    #[test]
    fn a_stray_line_does_not_split() {
        // One fail2ban-looking line inside main.cf is not a new file.
        let text =
            "myhostname = a\nmynetworks = 127.0.0.0/8\n[weird]\nsmtpd_banner = x\nrelayhost =\n";
        let (segs, _) = one(text);
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].detected.software, Software::Postfix);
        assert_eq!(segs[0].detected.confidence, Confidence::Medium);
    }

    #[test]
    fn nothing_recognised() {
        let (segs, unknown) = one("hello world\nthis is prose\n");
        assert!(segs.is_empty());
        assert_eq!(unknown.len(), 1);
    }

    #[test]
    fn forced_software_is_not_split() {
        let (segs, _) = detect(
            &[Input::new("x", "[DEFAULT]\nmyhostname = a\n")],
            Some(Software::Postfix),
        );
        assert_eq!(segs.len(), 1);
        assert!(segs[0].detected.forced);
        assert!(segs[0].detected.describe().contains("forced"));
    }

    #[test]
    fn hostile_lines_do_not_panic() {
        for t in [
            "O",
            "O =",
            "S",
            "D",
            "V1",
            "Mx",
            "[",
            "[]",
            "begin",
            ".",
            "dnl",
            "Nov 2",
            "2026-11-29T",
            "2026-11-29 07:00:01 ",
            "a:",
            " : ",
            "é=ü",
            "O é=1",
            "Sé",
            "Dé",
        ] {
            let _ = one(t);
            let _ = one(&format!("{t}\n{t}\n{t}\n"));
        }
    }

    /// Every line of the text files under `tests/fixtures`.
    fn fixture_lines() -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if let Ok(b) = std::fs::read(&p) {
                    out.extend(String::from_utf8_lossy(&b).lines().map(str::to_string));
                }
            }
        }
        let mut out = Vec::new();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");
        walk(std::path::Path::new(root), &mut out);
        assert!(out.len() > 1000, "fixtures not found under {root}");
        out
    }

    /// The shortcuts `signal` takes give what the plain forms give:
    /// [`trim`] is `str::trim`, and the one name table of [`by_name`] says
    /// what the three lists say.
    #[test]
    fn shortcuts_agree_with_the_plain_forms() {
        let mut lines = fixture_lines();
        // White space of every kind around text, and every ASCII byte at
        // either end.
        for b in 0u8..128 {
            let c = char::from(b);
            lines.extend([
                format!("{c}"),
                format!("{c}x"),
                format!("x{c}"),
                format!("{c}x{c}"),
            ]);
        }
        for ws in [
            "\u{85}", "\u{a0}", "\u{2003}", "\u{3000}", "\u{1c}", "\u{feff}", "é",
        ] {
            lines.extend([format!("{ws}a = b"), format!("a = b{ws}"), ws.to_string()]);
        }
        let n = lines.len();
        for i in 0..n {
            let l = lines[i].clone();
            for v in [
                format!(" {l}"),
                format!("\t{l}"),
                format!("{l} "),
                format!("{l}\r"),
                format!("\x0b{l}\x0c"),
            ] {
                lines.push(v);
            }
        }
        for l in &lines {
            assert_eq!(trim(l), l.trim(), "{l:?}");
        }
        // The shortcuts for main.cf lines: the shapes of the benchmark's
        // generated main.cf (bench/gen_postfix_config.py), the Exim words
        // they must leave to the full path, and every line lower-cased.
        let mut shaped: Vec<String> = [
            "    permit_mynetworks,",
            "    check_client_access hash:/etc/postfix/a15,",
            "    reject_unauth_destination",
            "site_17 = 10.17.3.0/24 $site_16",
            "mynetworks = 127.0.0.0/8 ${site_1?{$site_1}}",
            "smtpd_banner = $myhostname ESMTP 6",
            "  accept",
            "  endpass",
            "  deny  ",
            "  acl_check_rcpt:",
            "  remote_smtp :",
            "  begin acl",
            "  dnl x",
            "  define(`x')",
            "  a b f,2h,15m",
            "  a b F,2h,15m",
            "  driver = smtp",
            "  domains = +local_domains",
            "  hosts = : ",
            "  x:y",
            "  nov 29 07:00:00 host postfix/smtpd[1]: x",
            // Exim retry rules in the `name = value` shape, and near misses.
            "a = F,2h,15m",
            "a = F,2h",
            "a = F,2",
            "a = F,23",
            "a = F,",
            "a = f,2h,15m",
            "a = F;2h",
            "a = F,x2",
            "a =\tH,3hh",
            "a \t =  G,1d x",
            "a =F,2h,15m",
            "a=F,2h x F,2h,1",
            "a = F,2\u{a0}x",
            "a = F,2\u{2028}x",
            "a = F,2h\x0b",
            "a = \u{a0}F,2h,15m",
            "a =\x0bF,2h,15m",
            "a = x F,2h,15m",
            // Continuation shapes around the one-pass test.
            "  word",
            "  word :",
            "  word  :",
            "  word:",
            "  a b:",
            "  a-b",
            "  a, b",
            "  _x",
        ]
        .map(String::from)
        .to_vec();
        shaped.extend(
            lines
                .iter()
                .map(|l| format!("  {}", l.trim().to_lowercase())),
        );
        shaped.extend(lines.iter().map(|l| format!("\t{}", l.trim())));
        shaped.extend(lines.iter().cloned());
        let mut decided = 0;
        for l in &shaped {
            assert_eq!(signal_with(l, true), signal_with(l, false), "{l:?}");
            // The retry-rule test of `name = value` lines, against the full one.
            let b = l.as_bytes();
            let end = b.iter().position(|&c| !LOWER_NAME[usize::from(c)]);
            let eq = end.and_then(|e| {
                let n = b[e..]
                    .iter()
                    .take_while(|c| matches!(c, b' ' | b'\t'))
                    .count();
                (b.get(e + n) == Some(&b'=')).then_some(e + n)
            });
            if let (Some(end), Some(eq), true) = (end, eq, end > Some(0)) {
                let t = trim(l);
                assert_eq!(nameval_retry_rule(t, end, eq), exim_retry_rule(t), "{l:?}");
            }
            let t = trim(l);
            decided += usize::from(plain_continuation(l, t).is_some());
        }
        assert!(decided > 1000, "{decided}");
        let reference = |name: &str| {
            let postfix = crate::config::postfix::is_parameter_name(name);
            let exim = EXIM_OPTIONS.contains(&name)
                || name.starts_with("acl_smtp_")
                || name.starts_with("domainlist ")
                || name.starts_with("hostlist ")
                || name.starts_with("addresslist ")
                || name.starts_with("localpartlist ");
            let f2b = FAIL2BAN_OPTIONS.contains(&name);
            match (postfix, exim, f2b) {
                (true, false, false) => sig(Software::Postfix, Kind::PostfixMain),
                (false, true, false) => sig(Software::Exim, Kind::Exim),
                (false, false, true) => sig(Software::Fail2ban, Kind::Fail2ban),
                _ => None,
            }
        };
        let mut names: Vec<String> = crate::config::postfix::parameter_names()
            .iter()
            .chain(EXIM_OPTIONS)
            .chain(FAIL2BAN_OPTIONS)
            .map(|n| n.to_string())
            .collect();
        names.extend(
            [
                "acl_smtp_rcpt",
                "hostlist relay",
                "site_1",
                "",
                "x",
                "Banner",
            ]
            .map(String::from),
        );
        // The names of the fixture lines, as `signal` cuts them.
        for l in &lines {
            if let Some(i) = l.find('=') {
                names.push(l[..i].trim().to_string());
            }
        }
        let mut postfix = 0;
        for n in &names {
            let got = by_name(n);
            assert_eq!(got, reference(n), "{n:?}");
            postfix += usize::from(got.is_some_and(|s| s.software == Software::Postfix));
        }
        assert!(postfix > 500, "{postfix}");
    }
}
