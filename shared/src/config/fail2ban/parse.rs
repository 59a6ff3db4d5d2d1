//! fail2ban's INI dialect, read the way fail2ban reads it: Python's
//! `configparser` (`SafeConfigParserWithIncludes` over `ConfigParser` with
//! `inline_comment_prefixes=";"`), then several files merged in order.
//!
//! - `[section]` headers (names are case-sensitive); option names are
//!   lower-cased (`optionxform`); `=` or `:` separates name and value,
//!   whichever comes first.
//! - Full-line comments start with `#` or `;`; an inline comment is `;`
//!   after white space. `#` after a value is **not** a comment: it stays in
//!   the value (a common mistake, reported in the remediation snippets).
//! - A line indented deeper than its option line continues the value
//!   (joined with `\n`, trailing blank lines dropped).
//! - In one file a repeated section or option is an error for fail2ban
//!   (`DuplicateSectionError`/`DuplicateOptionError`: it refuses to start);
//!   across files the later file wins, and the value it replaced stays
//!   reachable as `%(known/name)s`.
//! - `%(name)s` is interpolated from the section, then `[DEFAULT]`;
//!   `%(default/name)s`, `%(known/name)s` and `%(section/name)s` as in
//!   fail2ban; `__name__` is the section name; `%%` is a literal `%`.
//!   Depth is capped at Python's 10 and the output at [`MAX_VALUE`] bytes.
//!
//! Hand-written: no Rust crate implements Python's interpolation and
//! fail2ban's merge rules, and an INI crate would need both added anyway.
//! The parser never fails: what fail2ban would reject is a [`Diagnostic`].

use crate::report::Evidence;
/// Maps keyed by section names: foldhash (std's SipHash was a tenth of a
/// 10,000-line analysis); a fixed seed, deterministic like the rest.
pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
use std::sync::Arc;

/// Python's `MAX_INTERPOLATION_DEPTH`.
pub const MAX_DEPTH: usize = 10;

/// Longest interpolated value kept (hostile input).
pub const MAX_VALUE: usize = 64 * 1024;

/// Most `%(name)s` substitutions in one value (a fan-out of references
/// would otherwise take exponential time within the depth cap).
pub const MAX_STEPS: usize = 10_000;

/// Sections kept per file and options per section (hostile input).
pub const MAX_SECTIONS: usize = 4096;
pub const MAX_OPTIONS: usize = 4096;

/// Where a line came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// Shared by every line of the file (cheap to clone).
    pub file: Arc<str>,
    /// 1-based; 0 for something no file sets.
    pub line: u32,
    pub text: Arc<str>,
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
pub struct Opt {
    /// Lower-cased name.
    pub name: String,
    /// Raw value (continuation lines joined with `\n`).
    pub value: String,
    pub source: Source,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub header: Source,
    pub options: Vec<Opt>,
}

impl Section {
    pub fn get(&self, name: &str) -> Option<&Opt> {
        self.options.iter().rev().find(|o| o.name == name)
    }

    fn set(&mut self, opt: Opt) {
        match self.options.iter_mut().find(|o| o.name == opt.name) {
            Some(o) => *o = opt,
            None => self.options.push(opt),
        }
    }
}

/// Something fail2ban would reject or that was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub source: Source,
    pub message: String,
}

/// One file as fail2ban's parser sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub sections: Vec<Section>,
    pub diagnostics: Vec<Diagnostic>,
}

impl File {
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// `[INCLUDES] before`/`after` file names (one per line).
    pub fn includes(&self, which: &str) -> Vec<String> {
        self.section("INCLUDES")
            .and_then(|s| s.get(which))
            .map(|o| {
                o.value
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Strips an inline `;` comment (only after white space, as Python does).
fn strip_inline(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b';' && i > 0 && b[i - 1].is_ascii_whitespace() {
            return line.get(..i).unwrap_or(line);
        }
    }
    line
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Parses one file. `name` is the file name used in evidence.
/// `text` cut to at most `max` bytes at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

pub fn parse(name: &str, text: &str) -> File {
    let fname: Arc<str> = Arc::from(name);
    let mut file = File {
        name: name.to_string(),
        ..Default::default()
    };
    // (section index, option name, indent of the option line)
    let mut current: Option<usize> = None;
    let mut open: Option<(usize, String, usize)> = None;
    let mut index: HashMap<String, usize> = HashMap::default();
    for (i, raw) in crate::config::lines(text).enumerate() {
        let lineno = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let src = |t: &str| Source {
            file: fname.clone(),
            line: lineno,
            text: Arc::from(cut(t, 400)),
        };
        let stripped = raw.trim();
        if stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        let value = strip_inline(raw).trim();
        if value.is_empty() {
            // Inside a value, Python keeps blank lines (trailing ones are
            // dropped when the value is joined).
            if let (Some((s, name, _)), true) = (&open, stripped.is_empty()) {
                if let Some(o) = file
                    .sections
                    .get_mut(*s)
                    .and_then(|sec| sec.options.iter_mut().rev().find(|o| &o.name == name))
                {
                    if o.value.len() < MAX_VALUE {
                        o.value.push('\n');
                    }
                }
            }
            continue;
        }
        let ind = indent(raw);
        // Continuation of the open value.
        if let Some((s, oname, oind)) = &open {
            if ind > *oind {
                if let Some(o) = file
                    .sections
                    .get_mut(*s)
                    .and_then(|sec| sec.options.iter_mut().rev().find(|o| &o.name == oname))
                {
                    if o.value.len() < MAX_VALUE {
                        o.value.push('\n');
                        o.value.push_str(value);
                    }
                }
                continue;
            }
        }
        // Section header: `[name]` (Python: `\[(?P<header>.+)\]` at the start).
        if let Some(rest) = value.strip_prefix('[') {
            if let Some(end) = rest.rfind(']').filter(|&e| e > 0) {
                let sname = rest.get(..end).unwrap_or("").to_string();
                open = None;
                if let Some(&idx) = index.get(&sname) {
                    file.diagnostics.push(Diagnostic {
                        source: src(raw),
                        message: format!(
                            "section [{sname}] appears twice in this file: fail2ban refuses \
                             the file (DuplicateSectionError)"
                        ),
                    });
                    current = Some(idx);
                    continue;
                }
                if file.sections.len() >= MAX_SECTIONS {
                    current = None;
                    continue;
                }
                index.insert(sname.clone(), file.sections.len());
                file.sections.push(Section {
                    name: sname,
                    header: src(raw),
                    options: Vec::new(),
                });
                current = Some(file.sections.len() - 1);
                continue;
            }
        }
        let Some(s) = current else {
            file.diagnostics.push(Diagnostic {
                source: src(raw),
                message: "text before the first [section] header: fail2ban refuses the file \
                          (MissingSectionHeaderError)"
                    .into(),
            });
            open = None;
            continue;
        };
        // `name = value` or `name: value`, whichever delimiter comes first.
        let Some(pos) = value.find(['=', ':']) else {
            file.diagnostics.push(Diagnostic {
                source: src(raw),
                message: "not `name = value`: fail2ban refuses the file (ParsingError)".into(),
            });
            open = None;
            continue;
        };
        let oname = value
            .get(..pos)
            .unwrap_or("")
            .trim_end()
            .to_ascii_lowercase();
        let oval = value.get(pos + 1..).unwrap_or("").trim().to_string();
        if oname.is_empty() {
            file.diagnostics.push(Diagnostic {
                source: src(raw),
                message: "an option without a name: fail2ban refuses the file (ParsingError)"
                    .into(),
            });
            open = None;
            continue;
        }
        // The file's own section tells whether this file set it already.
        if let Some(sec) = file.sections.get_mut(s) {
            let set_before = sec.get(&oname).is_some();
            if set_before {
                file.diagnostics.push(Diagnostic {
                    source: src(raw),
                    message: format!(
                        "option {oname} set twice in [{}] of this file: fail2ban refuses the \
                         file (DuplicateOptionError)",
                        sec.name
                    ),
                });
            }
            if sec.options.len() < MAX_OPTIONS || set_before {
                sec.set(Opt {
                    name: oname.clone(),
                    value: oval,
                    source: src(raw),
                });
            }
        }
        open = Some((s, oname, ind));
    }
    // Trailing blank lines of values are dropped (Python's rstrip).
    for sec in &mut file.sections {
        for o in &mut sec.options {
            let t = o.value.trim_end().len();
            o.value.truncate(t);
        }
    }
    file
}

/// Files merged in reading order: what fail2ban's jail reader sees.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// `[DEFAULT]`.
    pub defaults: Section,
    /// Every other section, in first-seen order.
    pub sections: Vec<Section>,
    /// Per section, the values a later file replaced (`known/`).
    pub known: HashMap<String, Vec<Opt>>,
    /// Position of each section in `sections`.
    index: HashMap<String, usize>,
}

impl Merged {
    pub fn new() -> Merged {
        Merged {
            defaults: Section {
                name: "DEFAULT".into(),
                header: Source::default(),
                options: Vec::new(),
            },
            ..Default::default()
        }
    }

    /// Reads one more file over what is there.
    pub fn add(&mut self, file: &File) {
        self.add_owned(file.clone());
    }

    /// [`add`](Self::add), taking the file's sections instead of copying them.
    pub fn add_owned(&mut self, file: File) {
        for sec in file.sections {
            if sec.name == "DEFAULT" {
                for o in sec.options {
                    self.defaults.set(o);
                }
                continue;
            }
            match self.index.get(&sec.name).copied() {
                Some(i) => {
                    let existing = &mut self.sections[i];
                    let replaced: Vec<Opt> = sec
                        .options
                        .iter()
                        .filter_map(|o| existing.get(&o.name).cloned())
                        .collect();
                    if !replaced.is_empty() {
                        let k = self.known.entry(sec.name.clone()).or_default();
                        for r in replaced {
                            match k.iter_mut().find(|o| o.name == r.name) {
                                Some(o) => *o = r,
                                None => k.push(r),
                            }
                        }
                    }
                    for o in sec.options {
                        existing.set(o);
                    }
                }
                None => {
                    if self.sections.len() < MAX_SECTIONS {
                        self.index.insert(sec.name.clone(), self.sections.len());
                        self.sections.push(sec);
                    }
                }
            }
        }
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        if name == "DEFAULT" {
            return Some(&self.defaults);
        }
        self.index.get(name).and_then(|&i| self.sections.get(i))
    }

    /// The raw option a section sees: its own, else `[DEFAULT]`'s.
    pub fn raw(&self, section: &str, name: &str) -> Option<&Opt> {
        let sec = self.section(section)?;
        sec.get(name).or_else(|| self.defaults.get(name))
    }

    /// The interpolated value of an option in a section, with where it was
    /// set (None: not set anywhere).
    pub fn get(&self, section: &str, name: &str) -> Option<Value> {
        let opt = self.raw(section, name)?;
        let mut out = Value {
            text: String::new(),
            source: opt.source.clone(),
            refs: Vec::new(),
            unresolved: Vec::new(),
            error: None,
        };
        let mut text = String::new();
        let mut steps = 0;
        self.interpolate(section, &opt.value, 1, &mut text, &mut out, &mut steps);
        out.text = text;
        Some(out)
    }

    fn lookup(&self, section: &str, var: &str) -> Option<&Opt> {
        if let Some((sec, opt)) = var.split_once('/') {
            let opt = opt.to_ascii_lowercase();
            let found = match sec.to_ascii_lowercase().as_str() {
                "known" => self
                    .known
                    .get(section)
                    .and_then(|k| k.iter().find(|o| o.name == opt)),
                "default" => None,
                _ => self
                    .index
                    .get(sec)
                    .and_then(|&i| self.sections.get(i))
                    .and_then(|s| s.get(&opt)),
            };
            return found.or_else(|| self.defaults.get(&opt));
        }
        if var.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.raw(section, &var.to_ascii_lowercase());
        }
        self.raw(section, var)
    }

    fn interpolate(
        &self,
        section: &str,
        raw: &str,
        depth: usize,
        out: &mut String,
        v: &mut Value,
        steps: &mut usize,
    ) {
        if depth > MAX_DEPTH {
            v.error.get_or_insert_with(|| {
                format!("interpolation deeper than {MAX_DEPTH} levels (a loop?): fail2ban stops")
            });
            out.push_str(raw);
            return;
        }
        let mut rest = raw;
        while let Some(p) = rest.find('%') {
            *steps += 1;
            if out.len() > MAX_VALUE || *steps > MAX_STEPS {
                v.error
                    .get_or_insert_with(|| "value too long after interpolation".into());
                return;
            }
            out.push_str(rest.get(..p).unwrap_or(""));
            let after = rest.get(p + 1..).unwrap_or("");
            if let Some(r) = after.strip_prefix('%') {
                out.push('%');
                rest = r;
                continue;
            }
            let var = after
                .strip_prefix('(')
                .and_then(|r| r.split_once(")s"))
                .filter(|(name, _)| !name.contains(['(', ')', '%']));
            let Some((name, r)) = var else {
                // Bad syntax: Python raises; keep the text.
                v.error
                    .get_or_insert_with(|| "a `%` not followed by `%` or `(name)s`".into());
                out.push('%');
                rest = after;
                continue;
            };
            if name == "__name__" {
                out.push_str(section);
                rest = r;
                continue;
            }
            match self.lookup(section, name) {
                Some(o) => {
                    if o.source.line > 0 && !v.refs.contains(&o.source) {
                        v.refs.push(o.source.clone());
                    }
                    if o.value.contains('%') {
                        self.interpolate(section, &o.value, depth + 1, out, v, steps);
                    } else {
                        out.push_str(&o.value);
                    }
                }
                None => {
                    if !v.unresolved.iter().any(|u| u == name) {
                        v.unresolved.push(name.to_string());
                    }
                    out.push_str("%(");
                    out.push_str(name);
                    out.push_str(")s");
                }
            }
            rest = r;
        }
        out.push_str(rest);
        if out.len() > MAX_VALUE {
            let mut cut = MAX_VALUE;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            v.error
                .get_or_insert_with(|| "value too long after interpolation".into());
        }
    }
}

/// An interpolated value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub text: String,
    /// The line that set the option.
    pub source: Source,
    /// Lines of the options its `%(name)s` references came from.
    pub refs: Vec<Source>,
    /// References to options nobody set (fail2ban would stop; often a
    /// `paths-*.conf` variable that was not pasted).
    pub unresolved: Vec<String>,
    pub error: Option<String>,
}

impl Value {
    pub fn evidence(&self) -> Vec<Evidence> {
        let mut out = vec![self.source.evidence()];
        for r in &self.refs {
            let e = r.evidence();
            if !out.contains(&e) {
                out.push(e);
            }
        }
        out
    }

    /// Python's `getboolean` (fail2ban's `bool` option type).
    pub fn as_bool(&self) -> Option<bool> {
        match self.text.trim().to_ascii_lowercase().as_str() {
            "1" | "yes" | "true" | "on" => Some(true),
            "0" | "no" | "false" | "off" => Some(false),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_configparser_rules() {
        let f = parse(
            "jail.local",
            "# comment\n; comment\n[DEFAULT]\nBanTime = 1h ; inline\nfindtime: 10m # not a comment\n\
             action = a\n    b\n\n  c\n\nx=1\n[postfix]\nenabled = true\n",
        );
        assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
        let d = f.section("DEFAULT").unwrap();
        assert_eq!(d.get("bantime").unwrap().value, "1h");
        assert_eq!(d.get("bantime").unwrap().source.line, 4);
        assert_eq!(d.get("findtime").unwrap().value, "10m # not a comment");
        assert_eq!(d.get("action").unwrap().value, "a\nb\n\nc");
        assert_eq!(d.get("x").unwrap().value, "1");
        assert_eq!(
            f.section("postfix").unwrap().get("enabled").unwrap().value,
            "true"
        );
    }

    #[test]
    fn what_fail2ban_refuses_is_a_diagnostic() {
        let f = parse(
            "jail.local",
            "orphan = 1\n[a]\nx = 1\nx = 2\nno delimiter\n= v\n[a]\ny = 3\n",
        );
        let msgs: Vec<_> = f.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(msgs.len(), 5, "{msgs:?}");
        assert!(msgs[0].contains("MissingSectionHeader"));
        assert!(msgs[1].contains("DuplicateOption"));
        assert!(msgs[4].contains("DuplicateSection"));
        // Last wins, and the repeated section adds to the first.
        let a = f.section("a").unwrap();
        assert_eq!(a.get("x").unwrap().value, "2");
        assert_eq!(a.get("y").unwrap().value, "3");
    }

    #[test]
    fn interpolation_as_fail2ban() {
        let mut m = Merged::new();
        m.add(&parse(
            "jail.conf",
            "[DEFAULT]\nmode = normal\nfilter = %(__name__)s[mode=%(mode)s]\nport = 1\n\
             [postfix]\nmode = more\nport = smtp\n[x]\nv = %(postfix/port)s %(default/port)s 100%%\n",
        ));
        m.add(&parse(
            "jail.local",
            "[postfix]\nmode = aggressive\nport = %(known/port)s,465\n",
        ));
        assert_eq!(
            m.get("postfix", "filter").unwrap().text,
            "postfix[mode=aggressive]"
        );
        assert_eq!(m.get("postfix", "port").unwrap().text, "smtp,465");
        // A `sec/name` reference is expanded in the referring section, as
        // Python does: `known/port` there falls back to [DEFAULT].
        assert_eq!(m.get("x", "v").unwrap().text, "1,465 1 100%");
        assert_eq!(m.get("sshd", "filter"), None);
        let f = m.get("postfix", "filter").unwrap();
        assert_eq!(&*f.source.file, "jail.conf");
        assert!(f.refs.iter().any(|r| &*r.file == "jail.local"));
    }

    #[test]
    fn loops_and_missing_names_are_bounded() {
        let mut m = Merged::new();
        m.add(&parse(
            "j",
            "[DEFAULT]\na = %(b)s\nb = %(a)s\nc = %(nowhere)s/x\nd = 50%\n\
             e = %(f)s%(f)s%(f)s%(f)s\nf = %(e)s\n",
        ));
        let a = m.get("DEFAULT", "a").unwrap();
        assert!(a.error.as_deref().unwrap().contains("deeper"));
        let c = m.get("DEFAULT", "c").unwrap();
        assert_eq!(c.text, "%(nowhere)s/x");
        assert_eq!(c.unresolved, ["nowhere"]);
        assert!(m.get("DEFAULT", "d").unwrap().error.is_some());
        let e = m.get("DEFAULT", "e").unwrap();
        assert!(e.text.len() <= MAX_VALUE + 16);
        assert!(e.error.is_some());
        // Fan-out of 8 over 10 levels: bounded by the step cap.
        let mut t = String::from("[DEFAULT]\n");
        for i in 0..12 {
            t.push_str(&format!("v{i} = {}\n", format!("%(v{})s", i + 1).repeat(8)));
        }
        t.push_str("v12 = x\n");
        let mut m = Merged::new();
        m.add(&parse("j", &t));
        let v = m.get("DEFAULT", "v0").unwrap();
        assert!(v.error.is_some());
    }
}
