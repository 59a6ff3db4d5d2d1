//! Reading `main.cf`, `master.cf`, `postconf -n`, `postconf -M` and
//! `postconf -P` output the way Postfix reads its files (`readllines`):
//!
//! - a logical line starts with non-white text; a line that starts with
//!   white space continues it (appended as is);
//! - empty, white-space-only and `#` comment lines (also indented ones) are
//!   skipped and do not end the logical line;
//! - a continuation line with nothing to continue is an error (ignored);
//! - `name = value`: name and value trimmed; the last definition wins;
//! - master.cf: eight white-space separated fields, then arguments, where
//!   `{ ... }` groups text with white space (`-o { name = value }`, 3.0+).
//!
//! Parsing never fails: what is not understood becomes a diagnostic.

use super::Input;
use crate::config::{lines_inclusive, LinesInclusive};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::rc::Rc;

use crate::report::Evidence;

/// Text read from a file: a slice of the file's text (or of a logical
/// line joined from several), which it shares: making or cloning one
/// copies no text. Reads as a `&str` (`Deref`). Counted with `Rc`, not
/// `Arc`: a model is built, judged and dropped on one thread, and the
/// atomic counts of four shared texts a definition were a visible share of
/// a native analysis.
#[derive(Clone)]
pub struct Text {
    base: Rc<str>,
    start: usize,
    end: usize,
}

impl Text {
    /// `s`, which is a slice of `base`, as a shared slice (copied when it
    /// is not in `base`).
    fn within(base: &Rc<str>, s: &str) -> Text {
        let start = (s.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
        match start.checked_add(s.len()) {
            Some(end)
                if base
                    .get(start..end)
                    .is_some_and(|t| std::ptr::eq(t.as_ptr(), s.as_ptr())) =>
            {
                Text {
                    base: Rc::clone(base),
                    start,
                    end,
                }
            }
            _ => Text::from(s),
        }
    }

    pub fn as_str(&self) -> &str {
        self.base.get(self.start..self.end).unwrap_or("")
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text {
            base: Rc::from(s),
            start: 0,
            end: s.len(),
        }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        let end = s.len();
        Text {
            base: Rc::from(s),
            start: 0,
            end,
        }
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file's name (shared by every source in it).
    pub file: Rc<str>,
    /// Index of the text it is in, among those given to [`Config::parse`]
    /// (two parts may have the same name).
    pub part: usize,
    pub line: u32,
    /// The line, without its line end and trailing white space.
    pub text: Text,
}

impl Source {
    pub fn evidence(&self) -> Evidence {
        Evidence::Config {
            file: self.file.to_string(),
            line: (self.line > 0).then_some(self.line),
            text: self.text.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: Text,
    pub value: Text,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// `smtp`, `submission`, `127.0.0.1:10025`, `[::1]:2525`, `pickup`…
    pub name: String,
    /// `inet`, `unix`, `pass`, `fifo`, `unix-dgram`.
    pub kind: String,
    /// The daemon (eighth field, first word).
    pub command: String,
    /// `-o` overrides in order (the last of a name wins).
    pub overrides: Vec<Param>,
    pub source: Source,
}

impl Service {
    /// An smtpd that receives connections (directly or from postscreen).
    pub fn is_smtpd_listener(&self) -> bool {
        self.command == "smtpd" && (self.kind == "inet" || self.kind == "pass")
    }

    /// The TCP port of an inet service, when it is known.
    pub fn port(&self) -> Option<u16> {
        if self.kind != "inet" {
            return None;
        }
        let port = match self.name.rsplit_once(':') {
            Some((_, p)) => p,
            None => self.name.as_str(),
        };
        match port {
            "smtp" => Some(25),
            "submission" => Some(587),
            "smtps" | "submissions" | "urd" => Some(465),
            p => p.parse().ok(),
        }
    }

    /// The host part of `host:port`, when the service is bound to one.
    pub fn host(&self) -> Option<&str> {
        let (h, _) = self.name.rsplit_once(':')?;
        Some(h.trim_start_matches('[').trim_end_matches(']'))
    }

    /// Bound to the loopback interface only (content-filter re-injection).
    pub fn is_loopback_only(&self) -> bool {
        match self.host() {
            Some(h) => {
                h == "localhost"
                    || h.parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            None => false,
        }
    }

    /// Reachable from other hosts: inet not bound to loopback, or a
    /// postscreen hand-off (`pass`).
    pub fn is_internet_facing(&self) -> bool {
        self.is_smtpd_listener() && (self.kind == "pass" || !self.is_loopback_only())
    }
}

/// A line Postfix would not accept (or would complain about).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub source: Source,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Every main.cf definition in order (the last of a name wins).
    pub params: Vec<Param>,
    /// Index in `params` of the last definition of each name (the names
    /// are not copied: the table holds indices, hashed by the name).
    index: hashbrown::HashTable<usize>,
    hasher: foldhash::fast::RandomState,
    pub services: Vec<Service>,
    /// Whether any master.cf content was pasted.
    pub has_master: bool,
    /// Lines that could not be understood.
    pub diagnostics: Vec<Diagnostic>,
}

impl PartialEq for Config {
    /// The index is derived from the parameters.
    fn eq(&self, other: &Config) -> bool {
        self.params == other.params
            && self.services == other.services
            && self.has_master == other.has_master
            && self.diagnostics == other.diagnostics
    }
}

impl Eq for Config {}

/// `-o` options read per service (real services have a few dozen); more
/// are reported and ignored, which bounds the work per look-up.
pub const MAX_OVERRIDES: usize = 1000;

pub const SERVICE_TYPES: &[&str] = &["inet", "unix", "fifo", "pass", "unix-dgram"];

/// A logical line: the joined text (borrowed when it is one physical
/// line, the common case) and, for each physical line in it, its number,
/// its offset in the joined text and its own text.
struct Logical<'a> {
    joined: Cow<'a, str>,
    first: (u32, &'a str),
    /// Continuation lines: (number, offset in `joined`, text).
    more: Vec<(u32, usize, &'a str)>,
}

impl Logical<'_> {
    /// What the texts of the joined line are slices of: the file's text,
    /// or a copy of the line when it was joined from several (or cut).
    fn base(&self, all: &Rc<str>) -> Rc<str> {
        match &self.joined {
            Cow::Borrowed(_) => Rc::clone(all),
            Cow::Owned(s) => Rc::from(s.as_str()),
        }
    }

    /// `s`, a slice of the joined line, as a [`Text`] of `base`
    /// ([`Logical::base`]).
    fn text(&self, base: &Rc<str>, s: &str) -> Text {
        match &self.joined {
            Cow::Borrowed(_) => Text::within(base, s),
            Cow::Owned(j) => {
                let at = (s.as_ptr() as usize).wrapping_sub(j.as_ptr() as usize);
                match at.checked_add(s.len()).and_then(|end| base.get(at..end)) {
                    Some(t) if t == s => Text::within(base, t),
                    _ => Text::from(s),
                }
            }
        }
    }

    fn source_at(&self, file: &Rc<str>, all: &Rc<str>, part: usize, offset: usize) -> Source {
        let (line, text) = self
            .more
            .iter()
            .rev()
            .find(|s| s.1 <= offset)
            .map_or(self.first, |s| (s.0, s.2));
        Source {
            file: Rc::clone(file),
            part,
            line,
            text: Text::within(all, text),
        }
    }
}

/// White space as Postfix sees it in its files (C `isspace` in the C
/// locale): not U+00A0 and the other Unicode spaces Rust's `trim` knows.
/// All of it is ASCII, so trimming bytes never splits a character.
fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn trim_start_space(s: &str) -> &str {
    let n = s.bytes().take_while(|&b| is_space_byte(b)).count();
    s.get(n..).unwrap_or("")
}

fn trim_end_space(s: &str) -> &str {
    let n = s.bytes().rev().take_while(|&b| is_space_byte(b)).count();
    s.get(..s.len() - n).unwrap_or("")
}

fn trim_space(s: &str) -> &str {
    trim_end_space(trim_start_space(s))
}

/// The logical lines of one file, one at a time (nothing is collected).
struct LogicalLines<'a> {
    file: &'a Rc<str>,
    /// The file's text.
    all: &'a Rc<str>,
    part: usize,
    lines: std::iter::Enumerate<LinesInclusive<'a>>,
    /// The first line of the next logical line, already read.
    pending: Option<(u32, &'a str)>,
    /// Whether the text has a NUL byte at all (most have none).
    has_nul: bool,
    /// Continuation lines with nothing to continue (only before the first
    /// logical line): taken by the caller after each line.
    diagnostics: Vec<Diagnostic>,
    /// The continuation lines of the logical line being read (a buffer
    /// kept from line to line).
    continued: Vec<&'a str>,
}

impl<'a> LogicalLines<'a> {
    fn new(file: &'a Rc<str>, all: &'a Rc<str>, part: usize) -> Self {
        LogicalLines {
            file,
            all,
            part,
            lines: lines_inclusive(all).enumerate(),
            pending: None,
            has_nul: memchr::memchr(0, all.as_bytes()).is_some(),
            diagnostics: Vec::new(),
            continued: Vec::new(),
        }
    }

    /// The next physical line that matters: (number, text without line
    /// end, whether it continues a logical line). Blank and comment lines
    /// are skipped.
    fn next_physical(&mut self) -> Option<(u32, &'a str, bool)> {
        for (i, line) in self.lines.by_ref() {
            let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let end = line
                .bytes()
                .rev()
                .take_while(|&b| b == b'\r' || b == b'\n')
                .count();
            let line = line.get(..line.len() - end).unwrap_or("");
            let continues = line.bytes().next().is_some_and(is_space_byte);
            // Most lines start with a name: only others can be blank or an
            // indented comment.
            let first = if continues {
                trim_start_space(line).bytes().next()
            } else {
                line.bytes().next()
            };
            if !matches!(first, None | Some(b'#')) {
                return Some((n, line, continues));
            }
        }
        None
    }
}

impl<'a> Iterator for LogicalLines<'a> {
    type Item = Logical<'a>;

    fn next(&mut self) -> Option<Logical<'a>> {
        let (n, line) = match self.pending.take() {
            Some(p) => p,
            None => loop {
                let (n, line, continues) = self.next_physical()?;
                if !continues {
                    break (n, line);
                }
                self.diagnostics.push(Diagnostic {
                    source: Source {
                        file: Rc::clone(self.file),
                        part: self.part,
                        line: n,
                        text: Text::within(self.all, trim_end_space(line)),
                    },
                    message: "logical line must not start with whitespace (Postfix ignores it)"
                        .into(),
                });
            },
        };
        let mut l = Logical {
            joined: Cow::Borrowed(line),
            first: (n, trim_end_space(line)),
            more: Vec::new(),
        };
        // Continuation lines, then the joined text made in one allocation.
        self.continued.clear();
        let mut len = line.len();
        while let Some((n, next, continues)) = self.next_physical() {
            if !continues {
                self.pending = Some((n, next));
                break;
            }
            l.more.push((n, len, trim_end_space(next)));
            self.continued.push(next);
            len += next.len();
        }
        if !self.continued.is_empty() {
            let mut joined = String::with_capacity(len);
            joined.push_str(line);
            for c in &self.continued {
                joined.push_str(c);
            }
            l.joined = Cow::Owned(joined);
        }
        // Postfix handles each logical line as a C string: a NUL byte ends
        // it, continuation lines included.
        if self.has_nul {
            if let Some(at) = l.joined.find('\0') {
                l.joined.to_mut().truncate(at);
            }
        }
        Some(l)
    }
}

/// Whether a logical line may be a master.cf service (`name type ...`):
/// a cheap look at the second word before the full tokenising.
fn may_be_service(line: &str) -> bool {
    let sep = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let b = line.as_bytes();
    let Some(gap) = b.iter().position(sep) else {
        return false;
    };
    let rest = &b[gap..];
    let Some(start) = rest.iter().position(|c| !sep(c)) else {
        return false;
    };
    let word = &rest[start..];
    let word = &word[..word.iter().position(sep).unwrap_or(word.len())];
    SERVICE_TYPES.iter().any(|t| t.as_bytes() == word)
}

/// Splits at white space, keeping `{ ... }` groups (nesting counted) whole;
/// returns (token, byte offset).
fn tokens(s: &str) -> Vec<(&str, usize)> {
    // Bytes, not chars: the separators and braces are ASCII, so every
    // token starts and ends at a char boundary.
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut level = 0usize;
    for (i, &c) in s.as_bytes().iter().enumerate() {
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') && level == 0 {
            if let Some(st) = start.take() {
                out.push((s.get(st..i).unwrap_or(""), st));
            }
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        match c {
            b'{' => level += 1,
            b'}' => level = level.saturating_sub(1),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((s.get(st..).unwrap_or(""), st));
    }
    out
}

/// `{ text }` → `text` (Postfix's extpar), trimmed.
pub fn strip_braces(s: &str) -> &str {
    let t = trim_space(s);
    match t.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(inner) => trim_space(inner),
        None => t,
    }
}

/// Postfix's `split_nameval`: the name runs to white space or `=`, then
/// only white space may come before the `=`; name and value are trimmed.
fn split_nameval(s: &str) -> Option<(&str, &str)> {
    split_nameval_scan(s).map(|(name, value, _)| (name, value))
}

/// What a byte is to [`split_nameval_scan`]: 1 ends a name (`=`, white
/// space), 2 is a name byte the caller must look at again (`/` of a
/// `postconf -P` name, `{` of a master.cf group), 0 any other.
static NAME_BYTE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b == b'=' || matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            1
        } else if b == b'/' || b == b'{' {
            2
        } else {
            0
        };
        c += 1;
    }
    t
};

/// [`split_nameval`], and whether the name has a `/` or `{` byte, found in
/// the same pass over the name: every main.cf line is scanned once here
/// rather than once per question (a third of the parse's own instructions
/// were three byte loops over the names).
fn split_nameval_scan(s: &str) -> Option<(&str, &str, bool)> {
    let s = trim_start_space(s);
    let b = s.as_bytes();
    let mut end = 0;
    let mut special = false;
    loop {
        match NAME_BYTE[usize::from(*b.get(end)?)] {
            0 => {}
            1 => break,
            _ => special = true,
        }
        end += 1;
    }
    // The delimiters are ASCII: a byte position is a char boundary.
    let name = s.get(..end)?;
    let value = trim_start_space(s.get(end..)?).strip_prefix('=')?;
    (!name.is_empty()).then(|| (name, trim_space(value), special))
}

/// Whether a logical line whose [`split_nameval_scan`] gave `name` (without
/// `{`) cannot be a master.cf service line: white space follows the name,
/// so the line's second token starts with `=` (or `\v`, `\f`), which no
/// service type does. Saves the service check a scan of every main.cf line.
fn not_a_service(line: &str, name: &str) -> bool {
    let end = (name.as_ptr() as usize)
        .wrapping_sub(line.as_ptr() as usize)
        .wrapping_add(name.len());
    matches!(line.as_bytes().get(end), Some(b' ' | b'\t' | b'\r' | b'\n'))
}

impl Config {
    /// Parses texts as one configuration (each text is one file).
    pub fn parse(parts: &[Input]) -> Config {
        Config::parse_texts(parts.iter().map(|p| (p.name.as_str(), p.text.as_str())))
    }

    /// [`Config::parse`] of (name, text) pairs, e.g. the borrowed parts of
    /// [`crate::config::split_parts`].
    pub fn parse_texts<'t>(parts: impl IntoIterator<Item = (&'t str, &'t str)>) -> Config {
        let mut cfg = Config::default();
        // postconf -P lines: (service, type, param).
        let mut per_service: Vec<(String, String, Param)> = Vec::new();
        for (k, (file, text)) in parts.into_iter().enumerate() {
            let file: Rc<str> = Rc::from(file);
            // One copy of the text, which every value and line read from it
            // shares.
            let all: Rc<str> = Rc::from(text);
            // Room for the definitions (one per 50-odd bytes of a main.cf):
            // growing the vector copies it.
            let room = (text.len() / 48).min(1 << 16);
            cfg.params.reserve(room);
            // And in the index: growing it rehashes every name.
            let (params, hasher) = (&cfg.params, &cfg.hasher);
            cfg.index
                .reserve(room, |&i| hasher.hash_one(params[i].name.as_str()));
            let mut lines = LogicalLines::new(&file, &all, k);
            while let Some(l) = lines.next() {
                cfg.diagnostics.append(&mut lines.diagnostics);
                let nameval = split_nameval_scan(&l.joined);
                let plain = nameval
                    .is_some_and(|(name, _, special)| !special && not_a_service(&l.joined, name));
                let toks = if !plain && may_be_service(&l.joined) {
                    tokens(&l.joined)
                } else {
                    Vec::new()
                };
                if toks.len() >= 8 && SERVICE_TYPES.contains(&toks[1].0) {
                    cfg.has_master = true;
                    let svc = parse_service(&file, &all, k, &l, &toks, &mut cfg.diagnostics);
                    cfg.services.push(svc);
                    continue;
                }
                let first = l.source_at(&file, &all, k, 0);
                if let Some((name, value, special)) = nameval {
                    let base = l.base(&all);
                    let mut parts3 = [""; 3];
                    let mut slashes = 0;
                    // `special`: the name has a `/` or `{` (most have neither).
                    if special && name.bytes().any(|b| b == b'/') {
                        for (i, p) in name.splitn(4, '/').enumerate() {
                            slashes = i;
                            if let Some(slot) = parts3.get_mut(i) {
                                *slot = p;
                            }
                        }
                    }
                    if slashes == 2 && parts3.iter().all(|p| !p.is_empty()) {
                        per_service.push((
                            parts3[0].to_string(),
                            parts3[1].to_string(),
                            Param {
                                name: l.text(&base, parts3[2]),
                                value: l.text(&base, value),
                                source: first,
                            },
                        ));
                    } else {
                        cfg.define(Param {
                            name: l.text(&base, name),
                            value: l.text(&base, value),
                            source: first,
                        });
                    }
                } else {
                    cfg.diagnostics.push(Diagnostic {
                        source: first,
                        message: "not a `name = value` line nor a master.cf service (Postfix \
                                  stops with \"missing '=' after attribute name\")"
                            .into(),
                    });
                }
            }
            cfg.diagnostics.append(&mut lines.diagnostics);
        }
        let by_name: HashMap<(String, String), usize> = cfg
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.name.clone(), s.kind.clone()), i))
            .collect();
        for (svc, kind, p) in per_service {
            match by_name.get(&(svc.clone(), kind.clone())) {
                Some(&i) if cfg.services[i].overrides.len() < MAX_OVERRIDES => {
                    cfg.services[i].overrides.push(p)
                }
                Some(_) => cfg.diagnostics.push(Diagnostic {
                    source: p.source,
                    message: format!(
                        "more than {MAX_OVERRIDES} overrides for {svc}/{kind}: ignored"
                    ),
                }),
                None => cfg.diagnostics.push(Diagnostic {
                    source: p.source,
                    message: format!("service {svc}/{kind} is not in the pasted master.cf"),
                }),
            }
        }
        cfg
    }

    /// Adds a main.cf definition: the one in force for its name.
    fn define(&mut self, p: Param) {
        let at = self.params.len();
        let hash = self.hasher.hash_one(p.name.as_str());
        let params = &self.params;
        match self.index.find_mut(hash, |&i| params[i].name == p.name) {
            Some(i) => *i = at,
            None => {
                let hasher = &self.hasher;
                self.index
                    .insert_unique(hash, at, |&i| hasher.hash_one(params[i].name.as_str()));
            }
        }
        self.params.push(p);
    }

    /// The main.cf definitions in force (the last of each name), in order.
    pub fn in_force(&self) -> impl Iterator<Item = &Param> {
        let mut last = vec![false; self.params.len()];
        for &i in &self.index {
            last[i] = true;
        }
        self.params
            .iter()
            .zip(last)
            .filter_map(|(p, last)| last.then_some(p))
    }

    /// The main.cf definition in force for `name`, if any.
    pub fn main(&self, name: &str) -> Option<&Param> {
        let hash = self.hasher.hash_one(name);
        self.index
            .find(hash, |&i| self.params[i].name == name)
            .map(|&i| &self.params[i])
    }
}

fn parse_service(
    file: &Rc<str>,
    all: &Rc<str>,
    part: usize,
    l: &Logical,
    toks: &[(&str, usize)],
    diagnostics: &mut Vec<Diagnostic>,
) -> Service {
    let mut overrides = Vec::new();
    let args = &toks[8..];
    let mut i = 0;
    while i < args.len() {
        let (arg, at) = args[i];
        let (value, at) = if arg == "-o" {
            i += 1;
            match args.get(i) {
                Some(&(v, at)) => (v, at),
                None => break,
            }
        } else if let Some(v) = arg.strip_prefix("-o") {
            (v, at)
        } else {
            i += 1;
            continue;
        };
        i += 1;
        let source = l.source_at(file, all, part, at);
        if overrides.len() >= MAX_OVERRIDES {
            diagnostics.push(Diagnostic {
                source,
                message: format!("more than {MAX_OVERRIDES} -o options: the rest are ignored"),
            });
            break;
        }
        match split_nameval(strip_braces(value)) {
            // The value keeps its own braces: `-o { name = { x } }` sets
            // `{ x }`, as `postconf -P` shows.
            Some((name, value)) => {
                let base = l.base(all);
                overrides.push(Param {
                    name: l.text(&base, name),
                    value: l.text(&base, value),
                    source,
                })
            }
            None => diagnostics.push(Diagnostic {
                source,
                message: format!("-o {value}: expected name=value"),
            }),
        }
    }
    Service {
        name: toks[0].0.to_string(),
        kind: toks[1].0.to_string(),
        command: toks[7].0.to_string(),
        overrides,
        source: l.source_at(file, all, part, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(main: &str) -> Config {
        Config::parse(&[Input::new("main.cf", main)])
    }

    #[test]
    fn reads_like_postfix() {
        // Checked against `postconf -c DIR -h` (3.7.11): comments and blank
        // lines inside a continuation are skipped, the last definition wins,
        // CRLF is white space, `#` after a value is not a comment.
        let c =
            parse("a = 1\r\n# c\r\n\r\n  continued\r\nb = x # y\r\nb = z\r\n  lead\n\0nul = 1\n");
        assert_eq!(c.main("a").unwrap().value, "1  continued");
        assert_eq!(c.main("b").unwrap().value, "z  lead");
        assert_eq!(c.main("b").unwrap().source.line, 6);
        // A logical line ends at a NUL byte (Postfix reads C strings): one
        // that starts with it has no name ("missing attribute name").
        assert!(c.main("\0nul").is_none() && c.main("").is_none());
        assert_eq!(c.diagnostics.len(), 1);
        let c = parse("  lead = 1\nname with space = 1\nnovalue\nok = 1\n");
        assert_eq!(c.diagnostics.len(), 3);
        assert_eq!(c.main("ok").unwrap().value, "1");
    }

    /// Checked with `postconf -c DIR -h` (3.7.11).
    #[test]
    fn whitespace_nul_and_names_as_postfix() {
        // U+00A0 is not white space to Postfix; \v and \f are.
        let c = parse("a = \u{a0}x\u{a0}\n\u{a0}b = 1\nc = \x0b1\x0c\nd = 1\n\x0bx\n");
        assert_eq!(c.main("a").unwrap().value, "\u{a0}x\u{a0}");
        assert_eq!(c.main("\u{a0}b").unwrap().value, "1");
        assert_eq!(c.main("c").unwrap().value, "1");
        assert_eq!(c.main("d").unwrap().value, "1\x0bx");
        // NUL ends the logical line, its continuations included.
        let c = parse("a = x\0y\n  z\nb = 1\n  2\0 3\n  4\nn\0ame = 1\n");
        assert_eq!(c.main("a").unwrap().value, "x");
        assert_eq!(c.main("b").unwrap().value, "1  2");
        assert!(c.main("n").is_none());
        assert_eq!(c.diagnostics.len(), 1);
        // split_nameval: any name up to white space or '='.
        let c = parse("a{b}$ = 1\nx y = 2\n");
        assert_eq!(c.main("a{b}$").unwrap().value, "1");
        assert_eq!(c.diagnostics.len(), 1);
    }

    #[test]
    fn master_cf_and_postconf_m() {
        let m = "\
smtp inet n - y - - smtpd
  -o smtpd_banner=x
  -o { smtpd_tls_security_level = encrypt }
submission inet n - y - - smtpd -o smtpd_banner=$mail_name -o {smtpd_recipient_restrictions=permit_sasl_authenticated, reject} -osyslog_name=foo
# file: postconf -P
submission/inet/smtpd_helo_required = yes
";
        let c = Config::parse(&[Input::new("master.cf", m)]);
        assert_eq!(c.services.len(), 2);
        let smtp = &c.services[0];
        assert_eq!(smtp.overrides[1].name, "smtpd_tls_security_level");
        assert_eq!(smtp.overrides[1].value, "encrypt");
        assert_eq!(smtp.overrides[1].source.line, 3);
        let sub = &c.services[1];
        assert_eq!(sub.overrides[1].value, "permit_sasl_authenticated, reject");
        assert_eq!(sub.overrides[2].name, "syslog_name");
        assert_eq!(sub.overrides[3].name, "smtpd_helo_required");
        assert_eq!(sub.port(), Some(587));
        let lo = Service {
            name: "[::1]:10025".into(),
            kind: "inet".into(),
            command: "smtpd".into(),
            overrides: vec![],
            source: smtp.source.clone(),
        };
        assert!(lo.is_loopback_only() && !lo.is_internet_facing());
        assert_eq!(lo.port(), Some(10025));
    }

    /// The same text given to `postconf -P` (3.7.11) gives these overrides.
    #[test]
    fn master_cf_matches_postconf_p() {
        let m = "smtp inet n - y - - smtpd\n# comment inside\n  -o smtpd_banner=x\r\n\n  -o { smtpd_tls_security_level =\n     encrypt }\n  -o {smtpd_recipient_restrictions = permit_mynetworks,\n    { check_client_access inline:{1.2.3.4=OK} }, reject}\nsubmission inet n - y - - smtpd -oa=1 -o b=2 -v\n  -o c=has=equals\n  -o { d = { x y } } -o e={x}\n";
        let c = Config::parse(&[Input::new("master.cf", m)]);
        let got: Vec<(String, String, String)> = c
            .services
            .iter()
            .flat_map(|s| {
                s.overrides.iter().map(move |p| {
                    let v: Vec<&str> = p.value.split_whitespace().collect();
                    (s.name.clone(), p.name.to_string(), v.join(" "))
                })
            })
            .collect();
        let want = [
            ("smtp", "smtpd_banner", "x"),
            ("smtp", "smtpd_tls_security_level", "encrypt"),
            (
                "smtp",
                "smtpd_recipient_restrictions",
                "permit_mynetworks, { check_client_access inline:{1.2.3.4=OK} }, reject",
            ),
            ("submission", "a", "1"),
            ("submission", "b", "2"),
            ("submission", "c", "has=equals"),
            // The value keeps its braces.
            ("submission", "d", "{ x y }"),
            ("submission", "e", "{x}"),
        ];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1.as_str(), g.2.as_str()), w);
        }
        assert_eq!(c.services[0].overrides[1].source.line, 5);
    }

    #[test]
    fn texts_share_the_file() {
        let base: Rc<str> = Rc::from("name = value\n");
        let t = Text::within(&base, base.get(7..12).unwrap());
        assert_eq!(t, "value");
        assert!(Rc::ptr_eq(&t.base, &base));
        // Not a slice of the base: copied.
        let t = Text::within(&base, "value");
        assert_eq!(t, "value");
        assert!(!Rc::ptr_eq(&t.base, &base));
        assert_eq!(Text::from(String::from("x")).as_str(), "x");
        // A value joined from continuation lines is its own text.
        let c = parse("a = 1\n  2\nb = 3\n");
        let a = c.main("a").unwrap();
        assert_eq!((a.name.as_str(), a.value.as_str()), ("a", "1  2"));
        assert_eq!(a.source.text, "a = 1");
        assert_eq!(c.main("b").unwrap().source.text, "b = 3");
    }

    /// The service check skipped for `name = value` lines
    /// ([`not_a_service`]) decides as the full check (the word pre-check,
    /// then the second token a service type) did on every line.
    #[test]
    fn service_or_definition_as_before() {
        for (line, service) in [
            ("a = inet n - y - - smtpd", false),
            ("a\t= inet n - y - - smtpd", false),
            ("smtp=x inet n - y - - smtpd", true),
            // The pre-check reads words, not `{ }` groups: as before,
            // a definition of `x{`.
            ("x{ = } inet n - y - - smtpd", false),
            ("abc\x0b= inet n - y - - smtpd", true),
            ("a/b/c = inet n - y - - smtpd", false),
            ("smtp inet n - y - - smtpd", true),
            ("smtpd_banner = $myhostname ESMTP", false),
        ] {
            let c = Config::parse(&[Input::new("x.cf", line)]);
            assert_eq!(c.services.len(), usize::from(service), "{line:?}");
            // The check the parse made for every line before.
            let toks = tokens(line);
            let old = may_be_service(line) && toks.len() >= 8 && SERVICE_TYPES.contains(&toks[1].0);
            assert_eq!(old, service, "{line:?}");
        }
    }

    #[test]
    fn long_lines_and_odd_bytes() {
        let long = format!("mynetworks = {}\n", "10.0.0.1 ".repeat(100_000).trim_end());
        let c = parse(&long);
        assert!(c.main("mynetworks").unwrap().value.len() > 800_000);
        let _ = parse("{{{{ = }}}}\n-o\n\u{0}\u{0}\n\r\r\n");
    }
}
