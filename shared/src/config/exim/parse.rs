//! Reading an Exim runtime configuration the way Exim's `readconf.c` reads
//! it (`get_config_line`), checked against the Exim 4.97 specification,
//! chapter 6 "The Exim runtime configuration file":
//!
//! - every *physical* line is first macro-substituted (macro names are
//!   matched as plain substrings, each macro in definition order over the
//!   whole line, a replacement never rescanned for the same macro; on a
//!   `NAME = value` line the name itself is skipped), then leading white
//!   space is dropped;
//! - physical lines starting with `#` are comments, also in the middle of a
//!   continued line; an empty line ends a continued line;
//! - `.ifdef`/`.ifndef`/`.elifdef`/`.elifndef` are true when *any* macro
//!   substitution happened on the rest of the line (so `.ifdef A B` is an
//!   "or"); `.else`/`.endif` as usual; they apply to physical lines;
//! - `.include`/`.include_if_exists` name a file we cannot see: recorded as
//!   unknown content where it appears (never silently ignored);
//! - a logical line ending in `\` continues on the next physical line;
//! - `begin acl|routers|transports|authenticators|retry|rewrite|local_scan`
//!   starts a section; the main section comes first;
//! - a logical line starting with an upper-case letter followed by name
//!   characters and `=`/`==` defines (or redefines) a macro; a definition
//!   ends the driver or ACL being read, as in Exim.
//!
//! Debian's generated configuration (`update-exim4.conf`) inserts macros
//! computed from `update-exim4.conf.conf` after the `UPEX4CmacrosUPEX4C`
//! line; when that file is pasted too (`dc_*='…'` lines), the same macros
//! are seeded there (with `.ifndef` semantics, as the script does).
//!
//! Pasted extras that are not configuration are recognised and kept aside:
//! `exim -bV` output (version banner, TLS library) and Debian package
//! versions (`dpkg -s`, `dpkg -l`, `apt list`).
//!
//! Hand-written: there is no Exim configuration crate, and the job is
//! Exim's own line reader plus a few section grammars. Parsing never fails;
//! what is not understood becomes a [`Diagnostic`]. Sizes are capped
//! (logical lines, macro growth, nesting) so hostile input stays linear.

use crate::config::Input;
use crate::report::Evidence;
use std::borrow::Cow;
use std::sync::Arc;

/// A logical line longer than this is cut (and a diagnostic recorded).
pub const MAX_LOGICAL_LINE: usize = 1 << 20;
/// A physical line may not grow beyond this by macro substitution.
pub const MAX_EXPANDED_LINE: usize = 256 << 10;
/// `.ifdef` nesting deeper than this is not followed.
pub const MAX_COND_DEPTH: usize = 64;
/// Macros kept at most.
pub const MAX_MACROS: usize = 4096;
/// Bytes macro substitution may produce over the whole input; past it,
/// lines are read unexpanded (hostile fan-out stays linear).
pub const MAX_EXPANSION_WORK: usize = 32 << 20;

/// Where a setting came from: the pasted file, the 1-based line of the
/// paste, and that line's text as pasted.
/// Shared strings: a source is cloned into every option and condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: Arc<str>,
    pub line: u32,
    pub text: Arc<str>,
}

impl Source {
    pub fn new(file: &str, line: u32, text: &str) -> Source {
        Source {
            file: file.into(),
            line,
            text: text.into(),
        }
    }

    pub fn evidence(&self) -> Evidence {
        Evidence::Config {
            file: self.file.to_string(),
            line: (self.line > 0).then_some(self.line),
            text: self.text.to_string(),
        }
    }
}

/// Something in the input that Exim would reject or that we could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub source: Source,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Main,
    Acl,
    Routers,
    Transports,
    Authenticators,
    Retry,
    Rewrite,
    LocalScan,
    /// `begin` with a name Exim does not know.
    Unknown,
}

impl Section {
    fn from_begin(name: &str) -> Section {
        match name.trim().to_ascii_lowercase().as_str() {
            "acl" | "acls" => Section::Acl,
            "router" | "routers" => Section::Routers,
            "transport" | "transports" => Section::Transports,
            "authenticator" | "authenticators" => Section::Authenticators,
            "retry" | "retrys" => Section::Retry,
            "rewrite" | "rewrites" => Section::Rewrite,
            "local_scan" | "local_scans" => Section::LocalScan,
            _ => Section::Unknown,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Section::Main => "main",
            Section::Acl => "acl",
            Section::Routers => "routers",
            Section::Transports => "transports",
            Section::Authenticators => "authenticators",
            Section::Retry => "retry",
            Section::Rewrite => "rewrite",
            Section::LocalScan => "local_scan",
            Section::Unknown => "unknown",
        }
    }

    /// Order of Debian's `update-exim4.conf` (`main acl router transport
    /// retry rewrite auth`).
    fn debian_rank(self) -> u8 {
        match self {
            Section::Main => 0,
            Section::Acl => 1,
            Section::Routers => 2,
            Section::Transports => 3,
            Section::Retry => 4,
            Section::Rewrite => 5,
            Section::Authenticators => 6,
            Section::LocalScan | Section::Unknown => 7,
        }
    }
}

/// A main option or driver option: `name = value`, `name`, `no_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    pub name: String,
    /// The text after `=` (trimmed); None for the bare boolean forms.
    pub value: Option<String>,
    /// `no_name` / `not_name`.
    pub negated: bool,
    pub source: Source,
}

impl Opt {
    /// The value as text (`true`/`false` for the bare boolean forms).
    pub fn text(&self) -> &str {
        match &self.value {
            Some(v) => v,
            None if self.negated => "false",
            None => "true",
        }
    }

    /// The value read as a boolean, when it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.text().to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Domain,
    Host,
    Address,
    LocalPart,
}

/// `domainlist NAME = …` and its kin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedList {
    pub kind: ListKind,
    pub name: String,
    pub value: String,
    pub source: Source,
}

/// A router, transport or authenticator instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Driver {
    pub name: String,
    pub source: Source,
    pub options: Vec<Opt>,
}

impl Driver {
    /// The last setting of an option.
    pub fn get(&self, name: &str) -> Option<&Opt> {
        self.options.iter().rev().find(|o| o.name == name)
    }

    /// The `driver =` value.
    pub fn driver(&self) -> Option<&str> {
        self.get("driver").map(|o| o.text().trim())
    }

    /// Whether this is a server-side authenticator (any `server_*` option).
    pub fn is_server_auth(&self) -> bool {
        self.options.iter().any(|o| o.name.starts_with("server_"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Accept,
    Defer,
    Deny,
    Discard,
    Drop,
    Require,
    Warn,
}

impl Verb {
    pub fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "accept" => Verb::Accept,
            "defer" => Verb::Defer,
            "deny" => Verb::Deny,
            "discard" => Verb::Discard,
            "drop" => Verb::Drop,
            "require" => Verb::Require,
            "warn" => Verb::Warn,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Verb::Accept => "accept",
            Verb::Defer => "defer",
            Verb::Deny => "deny",
            Verb::Discard => "discard",
            Verb::Drop => "drop",
            Verb::Require => "require",
            Verb::Warn => "warn",
        }
    }
}

/// An ACL condition or modifier (`!hosts = +relay`, `endpass`, `set acl_m0 = x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    pub negated: bool,
    pub name: String,
    pub value: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub verb: Verb,
    pub source: Source,
    pub conds: Vec<Cond>,
}

/// A `.include` whose content we cannot see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub path: String,
    pub if_exists: bool,
    pub section: Section,
    /// The ACL or driver being read when the inclusion appeared.
    pub inside: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclItem {
    Statement(Statement),
    /// Unknown statements may stand here.
    Include(Include),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub name: String,
    pub source: Source,
    pub items: Vec<AclItem>,
}

impl Acl {
    pub fn statements(&self) -> impl Iterator<Item = &Statement> {
        self.items.iter().filter_map(|i| match i {
            AclItem::Statement(s) => Some(s),
            AclItem::Include(_) => None,
        })
    }
}

/// A macro as defined at the end of reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Macro {
    pub name: String,
    pub value: String,
    /// None for macros seeded from pasted `update-exim4.conf.conf` values.
    pub source: Option<Source>,
}

/// A version stated in the paste.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stated {
    /// `Exim version 4.96 #2 built …` (`exim -bV`).
    Banner(String, Source),
    /// A distribution package version (`4.96-15+deb12u4`).
    Package(String, Source),
}

/// The parsed configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub main: Vec<Opt>,
    pub lists: Vec<NamedList>,
    pub acls: Vec<Acl>,
    pub routers: Vec<Driver>,
    pub transports: Vec<Driver>,
    pub authenticators: Vec<Driver>,
    pub includes: Vec<Include>,
    pub macros: Vec<Macro>,
    /// `update-exim4.conf.conf` settings (`dc_relay_nets='…'`).
    pub debconf: Vec<Opt>,
    pub stated: Vec<Stated>,
    /// `Library version: GnuTLS: …` from `exim -bV`.
    pub tls_library: Option<(String, Source)>,
    /// Built-in macros (`_HAVE_*`, `_OPT_*`) a conditional asked about, and
    /// what was assumed.
    pub builtins: Vec<(String, bool)>,
    /// Sections entered without a `begin` line (a conf.d part pasted alone).
    pub implicit_sections: Vec<(String, Section)>,
    pub diagnostics: Vec<Diagnostic>,
    /// Lines of the paste looked at.
    pub lines: usize,
}

impl Config {
    /// The last setting of a main option.
    pub fn main_opt(&self, name: &str) -> Option<&Opt> {
        self.main.iter().rev().find(|o| o.name == name)
    }

    pub fn list(&self, kind: ListKind, name: &str) -> Option<&NamedList> {
        self.lists
            .iter()
            .rev()
            .find(|l| l.kind == kind && l.name == name)
    }

    pub fn acl(&self, name: &str) -> Option<&Acl> {
        self.acls.iter().rev().find(|a| a.name == name)
    }

    pub fn transport(&self, name: &str) -> Option<&Driver> {
        self.transports.iter().rev().find(|t| t.name == name)
    }

    pub fn macro_value(&self, name: &str) -> Option<&Macro> {
        self.macros.iter().find(|m| m.name == name)
    }

    /// Whether the input looks like Debian's packaging of Exim.
    pub fn is_debian(&self) -> bool {
        self.macro_value("UPEX4CmacrosUPEX4C").is_some()
            || self.macro_value("MAIN_PACKAGE_VERSION").is_some()
            || self
                .main_opt("exim_path")
                .is_some_and(|o| o.text().ends_with("/exim4"))
            || self
                .macro_value("CONFDIR")
                .is_some_and(|m| m.value.contains("/etc/exim4"))
            || !self.debconf.is_empty()
    }

    /// Reads the texts in order as one configuration. Parts named like
    /// Debian `conf.d` files (`acl/30_exim4-config_check_rcpt`) are put in
    /// `update-exim4.conf`'s order among themselves first.
    pub fn parse(parts: &[Input]) -> Config {
        let mut order: Vec<&Input> = parts.iter().collect();
        // The conf.d parts among themselves, in their own slots (other
        // parts, such as update-exim4.conf.conf, stay where they are).
        let slots: Vec<usize> = (0..order.len())
            .filter(|&i| conf_d_section(&order[i].name).is_some())
            .collect();
        if slots.len() > 1 {
            let mut conf_d: Vec<&Input> = slots.iter().map(|&i| order[i]).collect();
            conf_d.sort_by(|a, b| {
                let ra = conf_d_section(&a.name).map(|s| s.debian_rank());
                let rb = conf_d_section(&b.name).map(|s| s.debian_rank());
                ra.cmp(&rb)
                    .then_with(|| base_name(&a.name).cmp(base_name(&b.name)))
            });
            for (slot, p) in slots.iter().zip(conf_d) {
                order[*slot] = p;
            }
        }
        let mut r = Reader::new(parts);
        for part in order {
            r.part(part);
        }
        r.finish()
    }
}

/// The conf.d section a part's name points at (`…/conf.d/acl/30_x`, `acl/30_x`).
pub fn conf_d_section(name: &str) -> Option<Section> {
    let n = name.trim().replace('\\', "/");
    let rel = match n.rfind("conf.d/") {
        Some(i) => &n[i + 7..],
        None => n.as_str(),
    };
    let (dir, file) = rel.split_once('/')?;
    if file.is_empty() || file.contains('/') {
        return None;
    }
    Some(match dir {
        "main" => Section::Main,
        "acl" => Section::Acl,
        "router" => Section::Routers,
        "transport" => Section::Transports,
        "retry" => Section::Retry,
        "rewrite" => Section::Rewrite,
        "auth" => Section::Authenticators,
        _ => return None,
    })
}

fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Built-in macros assumed defined: features every current Exim build has
/// (TLS is a default build option since 4.93, DKIM/DNSSEC/PRDR/EVENT/OCSP
/// are on unless disabled) and every main/driver option name (`_OPT_*`).
fn builtin_defined(name: &str) -> bool {
    const YES: &[&str] = &[
        "_HAVE_TLS",
        "_HAVE_DKIM",
        "_HAVE_DNSSEC",
        "_HAVE_PRDR",
        "_HAVE_EVENT",
        "_HAVE_OCSP",
        "_HAVE_IPV6",
        "_HAVE_ICONV",
        "_HAVE_CRYPTEQ",
        "_HAVE_DANE",
        "_HAVE_ESMTP_LIMITS",
        "_HAVE_PIPE_CONNECT",
    ];
    name.starts_with("_OPT_")
        || name.starts_with("_DRIVER_")
        || name.starts_with("_LOG_")
        || name.starts_with("_EXP_")
        || YES.contains(&name)
}

/// Conditional-directive frame.
#[derive(Debug, Clone, Copy)]
struct Frame {
    parent_active: bool,
    taken: bool,
    active: bool,
    /// Nesting beyond the cap: the frame only counts.
    overflow: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Current {
    None,
    Acl(usize),
    Driver(usize),
}

struct Macros {
    list: Vec<Macro>,
    /// A byte trie of the names, to find every occurrence in one pass.
    trie: Vec<TrieNode>,
    /// Whether any name starts with a byte.
    first: [bool; 256],
}

#[derive(Default, Clone)]
struct TrieNode {
    children: Vec<(u8, u32)>,
    /// The macro whose name ends here.
    terminal: Option<u32>,
}

impl Macros {
    fn new() -> Self {
        Macros {
            list: Vec::new(),
            trie: vec![TrieNode::default()],
            first: [false; 256],
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        let mut node = 0usize;
        for b in name.bytes() {
            node = self.trie[node]
                .children
                .iter()
                .find(|(c, _)| *c == b)
                .map(|(_, n)| *n as usize)?;
        }
        self.trie[node].terminal.map(|t| t as usize)
    }

    fn define(&mut self, m: Macro) -> bool {
        let Some(&b0) = m.name.as_bytes().first() else {
            return false;
        };
        if self.list.len() >= MAX_MACROS {
            return false;
        }
        let idx = self.list.len() as u32;
        let mut node = 0usize;
        for b in m.name.bytes() {
            node = match self.trie[node].children.iter().find(|(c, _)| *c == b) {
                Some((_, n)) => *n as usize,
                None => {
                    let n = self.trie.len();
                    self.trie.push(TrieNode::default());
                    self.trie[node].children.push((b, n as u32));
                    n
                }
            };
        }
        self.trie[node].terminal = Some(idx);
        self.first[b0 as usize] = true;
        self.list.push(m);
        true
    }

    /// Indices of the macros whose names occur in `text` (overlapping too).
    fn occurring(&self, text: &str, out: &mut Vec<usize>) {
        let b = text.as_bytes();
        for i in 0..b.len() {
            if !self.first[b[i] as usize] {
                continue;
            }
            let mut node = 0usize;
            for &c in &b[i..] {
                match self.trie[node].children.iter().find(|(x, _)| *x == c) {
                    Some((_, n)) => node = *n as usize,
                    None => break,
                }
                if let Some(t) = self.trie[node].terminal {
                    out.push(t as usize);
                }
            }
        }
    }

    /// Substitutes every macro in `line` (from `skip` on), in definition
    /// order, as Exim does: each macro's occurrences are replaced left to
    /// right, its replacement is not rescanned for it but is for macros
    /// defined later. Returns the new text and whether any substitution
    /// happened; `truncated` is set when the line would grow past the cap
    /// or the work budget runs out.
    fn expand<'a>(
        &self,
        line: &'a str,
        skip: usize,
        truncated: &mut bool,
        budget: &mut usize,
    ) -> (Cow<'a, str>, bool) {
        if self.list.is_empty() {
            return (Cow::Borrowed(line), false);
        }
        let skip = skip.min(line.len());
        let skip = if line.is_char_boundary(skip) { skip } else { 0 };
        let tail = &line[skip..];
        let mut cands = Vec::new();
        self.occurring(tail, &mut cands);
        if cands.is_empty() {
            return (Cow::Borrowed(line), false);
        }
        if *budget == 0 {
            *truncated = true;
            return (Cow::Borrowed(line), true);
        }
        // Pending macro indices, smallest (earliest defined) first.
        let mut pending: std::collections::BTreeSet<usize> = cands.drain(..).collect();
        let mut s = tail.to_string();
        let mut found = false;
        while let Some(i) = pending.pop_first() {
            let m = &self.list[i];
            let n = s.matches(m.name.as_str()).count();
            if n == 0 {
                continue;
            }
            found = true;
            let grow = n.saturating_mul(m.value.len());
            if s.len().saturating_add(grow) > MAX_EXPANDED_LINE {
                *truncated = true;
                break;
            }
            s = s.replace(m.name.as_str(), &m.value);
            *budget = budget.saturating_sub(s.len());
            if *budget == 0 {
                *truncated = true;
                break;
            }
            // Later macros the replacement brought in.
            self.occurring(&m.value, &mut cands);
            pending.extend(cands.drain(..).filter(|&j| j > i));
        }
        let mut out = String::with_capacity(skip + s.len());
        out.push_str(&line[..skip]);
        out.push_str(&s);
        (Cow::Owned(out), found)
    }
}

/// The `NAME =`/`NAME ==` head of a macro definition line: (name, redefine,
/// offset of the value).
fn macro_head(s: &str) -> Option<(&str, bool, usize)> {
    let b = s.as_bytes();
    if !b.first()?.is_ascii_uppercase() {
        return None;
    }
    let end = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        .unwrap_or(b.len());
    let mut i = end;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    if b.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    let redef = b.get(i) == Some(&b'=');
    if redef {
        i += 1;
    }
    Some((&s[..end], redef, i))
}

/// `readconf_readname`: a name of letters, digits and underscores starting
/// with a letter, then the rest after white space.
fn read_name(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let b = s.as_bytes();
    if !b.first().is_some_and(|c| c.is_ascii_alphabetic()) {
        return ("", s);
    }
    let end = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        .unwrap_or(b.len());
    (&s[..end], s[end..].trim_start())
}

struct Reader {
    cfg: Config,
    macros: Macros,
    section: Section,
    current: Current,
    frames: Vec<Frame>,
    /// Macros to seed from `update-exim4.conf.conf` at `UPEX4CmacrosUPEX4C`.
    seed: Vec<(String, String)>,
    seeded: bool,
    /// What is left of [`MAX_EXPANSION_WORK`].
    budget: usize,
}

impl Reader {
    fn new(parts: &[Input]) -> Reader {
        let mut cfg = Config::default();
        let mut dc: Vec<(String, String)> = Vec::new();
        for p in parts {
            for (i, line) in crate::config::lines(&p.text).enumerate() {
                if let Some((name, value)) = debconf_line(line) {
                    dc.push((name.to_string(), value.to_string()));
                    cfg.debconf.push(Opt {
                        name: name.to_string(),
                        value: Some(value.to_string()),
                        negated: false,
                        source: Source::new(
                            &p.name,
                            u32::try_from(i + 1).unwrap_or(u32::MAX),
                            line.trim(),
                        ),
                    });
                }
            }
        }
        Reader {
            cfg,
            macros: Macros::new(),
            section: Section::Main,
            current: Current::None,
            frames: Vec::new(),
            seed: debian_seed(&dc),
            seeded: false,
            budget: MAX_EXPANSION_WORK,
        }
    }

    fn active(&self) -> bool {
        self.frames.last().is_none_or(|f| f.active)
    }

    fn diag(&mut self, source: &Source, message: impl Into<String>) {
        if self.cfg.diagnostics.len() < 200 {
            self.cfg.diagnostics.push(Diagnostic {
                source: source.clone(),
                message: message.into(),
            });
        }
    }

    fn part(&mut self, part: &Input) {
        // A conf.d part pasted without its section's `begin` header.
        if let Some(sec) = conf_d_section(&part.name) {
            if sec != self.section && sec != Section::Main {
                let has_begin = part
                    .text
                    .lines()
                    .any(|l| strip_begin(l.trim()).is_some_and(|r| Section::from_begin(r) == sec));
                if !has_begin {
                    self.section = sec;
                    self.current = Current::None;
                    self.cfg.implicit_sections.push((part.name.clone(), sec));
                }
            }
        }
        let mut logical: Option<(String, Source)> = None;
        let file: Arc<str> = part.name.as_str().into();
        for (i, raw) in crate::config::lines(&part.text).enumerate() {
            self.cfg.lines += 1;
            let lineno = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let src = || Source {
                file: file.clone(),
                line: lineno,
                text: clip(raw.trim()),
            };
            let starting = logical.is_none();
            let lead = raw.len() - raw.trim_start().len();
            let skip = if starting {
                macro_head(&raw[lead..])
                    .map(|(_, _, v)| lead + v - 1)
                    .unwrap_or(0)
            } else {
                0
            };
            let mut truncated = false;
            let (expanded, found) = self
                .macros
                .expand(raw, skip, &mut truncated, &mut self.budget);
            if truncated {
                self.diag(
                    &src(),
                    "macro expansion makes this line too long; rest not expanded",
                );
            }
            let ss = expanded.trim_start();
            if ss.starts_with('#') {
                continue;
            }
            if ss.starts_with('.') && self.directive(ss, found, &src) {
                continue;
            }
            if !self.active() {
                continue;
            }
            if let Some((path, if_exists)) = include_line(ss) {
                let inc = Include {
                    path: path.to_string(),
                    if_exists,
                    section: self.section,
                    inside: match self.current {
                        Current::Acl(i) => self.cfg.acls.get(i).map(|a| a.name.clone()),
                        Current::Driver(_) => None,
                        Current::None => None,
                    },
                    source: src(),
                };
                if let Current::Acl(ai) = self.current {
                    if let Some(acl) = self.cfg.acls.get_mut(ai) {
                        acl.items.push(AclItem::Include(inc.clone()));
                    }
                }
                self.cfg.includes.push(inc);
                continue;
            }
            if starting && maybe_extra(ss) && self.extra_line(ss, &src) {
                continue;
            }
            let piece = ss.trim_end();
            match logical.as_mut() {
                None => {
                    if piece.is_empty() {
                        continue;
                    }
                    if !piece.ends_with('\\') {
                        // A logical line of one physical line: no buffer.
                        let s = src();
                        self.logical(piece, &s);
                        continue;
                    }
                    logical = Some((piece.to_string(), src()));
                }
                Some((buf, _)) => {
                    if piece.is_empty() {
                        // An empty line ends the continued line.
                        if let Some((text, s)) = logical.take() {
                            self.logical(&text, &s);
                        }
                        continue;
                    }
                    if buf.len() + piece.len() > MAX_LOGICAL_LINE {
                        let s = src();
                        self.diag(&s, "continued line too long; the rest is ignored");
                    } else {
                        buf.push_str(piece);
                    }
                }
            }
            let cont = logical.as_ref().is_some_and(|(b, _)| b.ends_with('\\'));
            if cont {
                if let Some((buf, _)) = logical.as_mut() {
                    buf.pop();
                }
                continue;
            }
            if let Some((text, s)) = logical.take() {
                self.logical(&text, &s);
            }
        }
        if let Some((text, s)) = logical.take() {
            self.logical(&text, &s);
        }
    }

    /// Handles a conditional directive; false if the line is not one.
    fn directive(&mut self, ss: &str, found: bool, src: &dyn Fn() -> Source) -> bool {
        let rest = &ss[1..];
        let (word, arg) = match rest.find(|c: char| c.is_ascii_whitespace()) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => (rest, ""),
        };
        let kind = match word {
            "ifdef" | "ifndef" | "elifdef" | "elifndef" | "else" | "endif" => word,
            _ => return false,
        };
        let defined = || {
            if found {
                return true;
            }
            // Built-in macros: what every current build defines.
            let mut any = false;
            for tok in arg.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if tok.len() > 1 && tok.starts_with('_') && tok.as_bytes()[1].is_ascii_uppercase() {
                    any |= builtin_defined(tok);
                }
            }
            any
        };
        let builtins: Vec<String> = arg
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|t| t.len() > 1 && t.starts_with('_') && t.as_bytes()[1].is_ascii_uppercase())
            .map(str::to_string)
            .collect();
        for b in builtins {
            if !self.cfg.builtins.iter().any(|(n, _)| *n == b) && self.cfg.builtins.len() < 64 {
                let d = builtin_defined(&b);
                self.cfg.builtins.push((b, d));
            }
        }
        match kind {
            "ifdef" | "ifndef" => {
                let parent_active = self.active();
                if self.frames.len() >= MAX_COND_DEPTH {
                    self.diag(&src(), format!(".{kind} nested too deeply"));
                    self.frames.push(Frame {
                        parent_active: false,
                        taken: true,
                        active: false,
                        overflow: true,
                    });
                    return true;
                }
                let cond = if kind == "ifdef" {
                    defined()
                } else {
                    !defined()
                };
                self.frames.push(Frame {
                    parent_active,
                    taken: cond,
                    active: parent_active && cond,
                    overflow: false,
                });
            }
            "elifdef" | "elifndef" => {
                let d = if kind == "elifdef" {
                    defined()
                } else {
                    !defined()
                };
                match self.frames.last_mut() {
                    Some(f) if !f.overflow => {
                        f.active = f.parent_active && !f.taken && d;
                        f.taken |= d;
                    }
                    Some(_) => {}
                    None => self.diag(&src(), format!(".{kind} without matching .ifdef")),
                }
            }
            "else" => match self.frames.last_mut() {
                Some(f) if !f.overflow => {
                    f.active = f.parent_active && !f.taken;
                    f.taken = true;
                }
                Some(_) => {}
                None => self.diag(&src(), ".else without matching .ifdef"),
            },
            _ => {
                if self.frames.pop().is_none() {
                    self.diag(&src(), ".endif without matching .ifdef");
                }
            }
        }
        true
    }

    /// `exim -bV` output and package versions pasted with the configuration.
    fn extra_line(&mut self, ss: &str, src: &dyn Fn() -> Source) -> bool {
        let t = ss.trim();
        if let Some(rest) = t.strip_prefix("Exim version ") {
            let v = rest.split_whitespace().next().unwrap_or("").to_string();
            self.cfg.stated.push(Stated::Banner(v, src()));
            return true;
        }
        if let Some(rest) = t.strip_prefix("Library version:") {
            let lib = rest.trim();
            let name = if lib.starts_with("GnuTLS") {
                Some("GnuTLS")
            } else if lib.starts_with("OpenSSL") {
                Some("OpenSSL")
            } else {
                None
            };
            if let (Some(n), None) = (name, &self.cfg.tls_library) {
                self.cfg.tls_library = Some((n.to_string(), src()));
            }
            return true;
        }
        const BV: &[&str] = &[
            "Copyright (c)",
            "Berkeley DB:",
            "Support for:",
            "Lookups (built-in):",
            "Lookups (dynamic):",
            "Authenticators:",
            "Routers:",
            "Transports:",
            "Malware:",
            "Fixed never_users:",
            "Configure owner:",
            "Size of off_t:",
            "Configuration file search path is",
            "Configuration file is",
            "Compiler:",
            "Library version:",
            "WHITELIST_D_MACROS:",
            "TRUSTED_CONFIG_LIST:",
            "Events:",
            "Runtime:",
            "Compile:",
        ];
        if BV.iter().any(|p| t.starts_with(p)) {
            return true;
        }
        // dpkg -s: `Version: 4.96-15+deb12u4`
        if let Some(v) = t.strip_prefix("Version:").map(str::trim) {
            if looks_like_exim_version(v) {
                self.cfg.stated.push(Stated::Package(v.to_string(), src()));
                return true;
            }
        }
        // dpkg -l: `ii  exim4-base  4.96-15+deb12u4  amd64  support files…`
        let f: Vec<&str> = t.split_whitespace().take(4).collect();
        if f.len() >= 3
            && f[0].len() == 2
            && f[0].starts_with(['i', 'r', 'h', 'u', 'p'])
            && f[1].starts_with("exim4")
        {
            if looks_like_exim_version(f[2]) {
                self.cfg
                    .stated
                    .push(Stated::Package(f[2].to_string(), src()));
            }
            return true;
        }
        // apt list: `exim4-base/stable,now 4.96-15+deb12u4 amd64 [installed]`
        if f.len() >= 2 && f[0].starts_with("exim4") && f[0].contains('/') {
            if looks_like_exim_version(f[1]) {
                self.cfg
                    .stated
                    .push(Stated::Package(f[1].to_string(), src()));
            }
            return true;
        }
        // A bare version on its own line.
        if f.len() == 1 && looks_like_exim_version(t) && t.starts_with("4.") {
            self.cfg.stated.push(Stated::Package(t.to_string(), src()));
            return true;
        }
        false
    }

    fn logical(&mut self, text: &str, src: &Source) {
        // Debian's update-exim4.conf.conf lines were collected up front.
        if debconf_line(text).is_some() {
            return;
        }
        if matches!(
            self.section,
            Section::Main
                | Section::Acl
                | Section::Routers
                | Section::Transports
                | Section::Authenticators
        ) {
            if let Some((name, redef, v)) = macro_head(text) {
                let value = text.get(v..).unwrap_or("").trim().to_string();
                self.define_macro(name, redef, value, src);
                self.current = Current::None;
                if name == "UPEX4CmacrosUPEX4C" {
                    self.seed_debian(src);
                }
                return;
            }
        }
        if let Some(rest) = strip_begin(text) {
            let sec = Section::from_begin(rest);
            if sec == Section::Unknown {
                self.diag(src, format!("unknown section \"{}\"", rest.trim()));
            }
            self.section = sec;
            self.current = Current::None;
            return;
        }
        match self.section {
            Section::Main => self.main_line(text, src),
            Section::Acl => self.acl_line(text, src),
            Section::Routers | Section::Transports | Section::Authenticators => {
                self.driver_line(text, src)
            }
            Section::Retry | Section::Rewrite | Section::LocalScan | Section::Unknown => {}
        }
    }

    fn define_macro(&mut self, name: &str, redef: bool, value: String, src: &Source) {
        if name.len() > 63 {
            self.diag(src, "macro name too long (maximum is 63 characters)");
            return;
        }
        match self.macros.find(name) {
            Some(i) if redef => self.macros.list[i].value = value,
            Some(_) => self.diag(
                src,
                format!("macro \"{name}\" is already defined (Exim refuses to start; use == to redefine)"),
            ),
            None if redef => self.diag(src, format!("can't redefine an undefined macro \"{name}\"")),
            None => {
                if let Some(m) = self
                    .macros
                    .list
                    .iter()
                    .find(|m| m.name.len() < name.len() && name.contains(m.name.as_str()))
                {
                    let msg = format!(
                        "\"{name}\" cannot be defined as a macro because previously defined macro \"{}\" is a substring",
                        m.name
                    );
                    self.diag(src, msg);
                    return;
                }
                if !self.macros.define(Macro {
                    name: name.to_string(),
                    value,
                    source: Some(src.clone()),
                }) {
                    self.diag(src, "too many macros; this one is ignored");
                }
            }
        }
    }

    /// update-exim4.conf's generated block: `.ifndef NAME` / `NAME=value`.
    fn seed_debian(&mut self, _src: &Source) {
        if self.seeded || self.seed.is_empty() {
            return;
        }
        self.seeded = true;
        for (name, value) in std::mem::take(&mut self.seed) {
            if self.macros.find(&name).is_none() {
                self.macros.define(Macro {
                    name,
                    value,
                    source: None,
                });
            }
        }
    }

    fn main_line(&mut self, text: &str, src: &Source) {
        let text = text
            .strip_prefix("hide ")
            .map(str::trim_start)
            .unwrap_or(text);
        let (word, rest) = read_name(text);
        let kind = match word {
            "domainlist" | "domainlist_cache" => Some(ListKind::Domain),
            "hostlist" | "hostlist_cache" => Some(ListKind::Host),
            "addresslist" | "addresslist_cache" => Some(ListKind::Address),
            "localpartlist" | "localpartlist_cache" => Some(ListKind::LocalPart),
            _ => None,
        };
        if let Some(kind) = kind {
            let (name, after) = read_name(rest);
            match after.strip_prefix('=') {
                Some(v) if !name.is_empty() => self.cfg.lists.push(NamedList {
                    kind,
                    name: name.to_string(),
                    value: v.trim().to_string(),
                    source: src.clone(),
                }),
                _ => self.diag(src, format!("malformed {word} definition")),
            }
            return;
        }
        match option(text, src) {
            Some(o) => self.cfg.main.push(o),
            None => self.diag(
                src,
                "not an option setting, macro, named list or section start",
            ),
        }
    }

    fn driver_line(&mut self, text: &str, src: &Source) {
        let (name, rest) = read_name(text);
        if !name.is_empty() && rest.starts_with(':') {
            let d = Driver {
                name: name.to_string(),
                source: src.clone(),
                options: Vec::new(),
            };
            let list = self.drivers_mut();
            list.push(d);
            let idx = list.len() - 1;
            self.current = Current::Driver(idx);
            let after = rest[1..].trim();
            if !after.is_empty() {
                self.driver_line(after, src);
            }
            return;
        }
        let text = text
            .strip_prefix("hide ")
            .map(str::trim_start)
            .unwrap_or(text);
        let Some(o) = option(text, src) else {
            self.diag(src, "not a driver option");
            return;
        };
        match self.current {
            Current::Driver(i) => {
                if let Some(d) = self.drivers_mut().get_mut(i) {
                    d.options.push(o);
                }
            }
            _ => self.diag(
                src,
                format!("option \"{}\" set before any driver name", o.name),
            ),
        }
    }

    fn drivers_mut(&mut self) -> &mut Vec<Driver> {
        match self.section {
            Section::Routers => &mut self.cfg.routers,
            Section::Transports => &mut self.cfg.transports,
            _ => &mut self.cfg.authenticators,
        }
    }

    fn acl_line(&mut self, text: &str, src: &Source) {
        let (word, rest) = read_name(text);
        if !word.is_empty() && rest.starts_with(':') {
            self.cfg.acls.push(Acl {
                name: word.to_string(),
                source: src.clone(),
                items: Vec::new(),
            });
            self.current = Current::Acl(self.cfg.acls.len() - 1);
            return;
        }
        let Current::Acl(ai) = self.current else {
            self.diag(src, "ACL statement outside any ACL (missing \"name:\")");
            return;
        };
        if let Some(verb) = Verb::parse(word) {
            let st = Statement {
                verb,
                source: src.clone(),
                conds: Vec::new(),
            };
            if let Some(acl) = self.cfg.acls.get_mut(ai) {
                acl.items.push(AclItem::Statement(st));
            }
            if !rest.is_empty() {
                self.acl_cond(ai, rest, src);
            }
            return;
        }
        self.acl_cond(ai, text, src);
    }

    fn acl_cond(&mut self, ai: usize, text: &str, src: &Source) {
        match parse_cond(text, src) {
            Ok(c) => {
                let last = self
                    .cfg
                    .acls
                    .get_mut(ai)
                    .and_then(|a| a.items.last_mut())
                    .and_then(|i| match i {
                        AclItem::Statement(s) => Some(s),
                        AclItem::Include(_) => None,
                    });
                match last {
                    Some(s) => s.conds.push(c),
                    None => self.diag(src, "ACL condition before any verb"),
                }
            }
            Err(msg) => self.diag(src, msg),
        }
    }

    fn finish(mut self) -> Config {
        if !self.frames.is_empty() {
            let src = Source::new("", 0, "");
            self.diag(
                &src,
                "unexpected end of configuration: .endif missing (Exim refuses to start)",
            );
        }
        self.cfg.macros = self.macros.list;
        self.cfg
    }
}

/// Parses one ACL condition or modifier line (`!verify = sender`).
pub fn parse_cond(text: &str, src: &Source) -> Result<Cond, String> {
    let mut s = text.trim_start();
    let negated = s.starts_with('!');
    if negated {
        s = s[1..].trim_start();
    }
    let (name, rest) = read_name(s);
    if name.is_empty() {
        return Err(format!(
            "not an ACL verb, condition or modifier: \"{}\"",
            clip(text)
        ));
    }
    let value = if name == "endpass" {
        String::new()
    } else if name == "set" {
        rest.to_string()
    } else {
        match rest.strip_prefix('=') {
            Some(v) => v.trim().to_string(),
            None => return Err(format!("\"=\" missing after ACL \"{name}\"")),
        }
    };
    Ok(Cond {
        negated,
        name: name.to_string(),
        value,
        source: src.clone(),
    })
}

/// `name = value`, `name`, `no_name`, `not_name`, read from `src`.
fn option(text: &str, src: &Source) -> Option<Opt> {
    let b = text.as_bytes();
    if !b.first()?.is_ascii_lowercase() && *b.first()? != b'_' {
        return None;
    }
    let end = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        .unwrap_or(b.len());
    let name = &text[..end];
    let rest = text[end..].trim_start();
    if rest.is_empty() {
        let (negated, name) = match name
            .strip_prefix("no_")
            .or_else(|| name.strip_prefix("not_"))
        {
            Some(n) => (true, n),
            None => (false, name),
        };
        return Some(Opt {
            name: name.to_string(),
            value: None,
            negated,
            source: src.clone(),
        });
    }
    let v = rest.strip_prefix('=')?;
    Some(Opt {
        name: name.to_string(),
        value: Some(v.trim().to_string()),
        negated: false,
        source: src.clone(),
    })
}

/// The section name after `begin ` (case-insensitive), if the line is one.
fn strip_begin(t: &str) -> Option<&str> {
    let head = t.get(..6)?;
    head.eq_ignore_ascii_case("begin ").then(|| &t[6..])
}

/// Cheap pre-test for [`Reader::extra_line`]: `Exim version`, `Library
/// version:`, `-bV` lines, `Version:`, dpkg's `ii  exim4…`, `exim4…/…`,
/// bare versions.
fn maybe_extra(ss: &str) -> bool {
    let b = ss.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_uppercase() || c.is_ascii_digit() => true,
        Some(c) if c.is_ascii_lowercase() => {
            ss.starts_with("exim4") || (b.len() > 3 && b[2] == b' ' && b[1].is_ascii_lowercase())
        }
        _ => false,
    }
}

/// `.include /path` or `.include_if_exists /path` (quotes optional).
fn include_line(ss: &str) -> Option<(&str, bool)> {
    let (rest, if_exists) = if let Some(r) = ss.strip_prefix(".include_if_exists") {
        (r, true)
    } else if let Some(r) = ss.strip_prefix(".include") {
        (r, false)
    } else {
        return None;
    };
    if !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let p = rest.trim();
    let p = p
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(p);
    Some((p, if_exists))
}

/// `dc_relay_nets='192.0.2.0/24'` from update-exim4.conf.conf.
fn debconf_line(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    if !t.starts_with("dc_") {
        return None;
    }
    let (name, value) = t.split_once('=')?;
    let name = name.trim();
    if !name
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
    {
        return None;
    }
    let v = value.trim();
    let v = v
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .or_else(|| v.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
        .unwrap_or(v);
    Some((name, v))
}

/// The macros `update-exim4.conf` derives from update-exim4.conf.conf
/// (Debian exim4-config 4.96-15, `seed_macro` calls).
fn debian_seed(dc: &[(String, String)]) -> Vec<(String, String)> {
    if dc.is_empty() {
        return Vec::new();
    }
    let get = |n: &str| {
        dc.iter()
            .rev()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.to_ascii_lowercase())
            .unwrap_or_default()
    };
    // ";" in a value switches the list separator, as the script does.
    let semi = |v: String| {
        if v.contains(';') && !v.starts_with('<') {
            format!("<; {v}")
        } else {
            v
        }
    };
    let mut out = Vec::new();
    let li = semi(get("dc_local_interfaces"));
    if !li.is_empty() {
        out.push(("MAIN_LOCAL_INTERFACES".to_string(), li));
    }
    if get("dc_minimaldns") == "true" {
        out.push(("DC_minimaldns".to_string(), "1".to_string()));
    }
    let other = get("dc_other_hostnames");
    let mut local = format!("@:localhost:{other}");
    while local.ends_with([';', ':', ' ']) {
        local.pop();
    }
    out.push((
        "MAIN_LOCAL_DOMAINS".to_string(),
        local.replace(' ', "").replace(';', ":"),
    ));
    out.push((
        "MAIN_RELAY_TO_DOMAINS".to_string(),
        semi(get("dc_relay_domains")),
    ));
    let dl = get("dc_localdelivery");
    out.push((
        "LOCAL_DELIVERY".to_string(),
        if dl.is_empty() {
            "mail_spool".into()
        } else {
            dl
        },
    ));
    let nets = semi(get("dc_relay_nets"));
    let nets = if nets.starts_with("<;") {
        format!("{nets} ; 127.0.0.1 ; ::1")
    } else {
        format!("{nets} : 127.0.0.1 : ::::1")
    };
    out.push(("MAIN_RELAY_NETS".to_string(), nets));
    out.push(("DCreadhost".to_string(), get("dc_readhost")));
    out.push((
        "DCsmarthost".to_string(),
        get("dc_smarthost").replace(';', ":"),
    ));
    let ct = get("dc_eximconfig_configtype");
    out.push(("DC_eximconfig_configtype".to_string(), ct.clone()));
    if !ct.is_empty() {
        out.push((format!("DCconfig_{ct}"), "1".to_string()));
    }
    out
}

/// `4.96`, `4.97.1`, `4.96-15+deb12u4`, `4.95-4ubuntu2.5`.
pub fn looks_like_exim_version(s: &str) -> bool {
    let mut it = s.splitn(2, '.');
    let (Some(a), Some(b)) = (it.next(), it.next()) else {
        return false;
    };
    a == "4"
        && b.starts_with(|c: char| c.is_ascii_digit())
        && s.len() < 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '~' | '_'))
}

/// Evidence text is the pasted line, kept short.
fn clip(s: &str) -> Arc<str> {
    const MAX: usize = 300;
    if s.len() <= MAX {
        return Arc::from(s);
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end]).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        Config::parse(&[Input::new("exim.conf", text)])
    }

    #[test]
    fn continuation_comments_and_sections() {
        let c = parse(
            "# comment\nprimary_hostname = mx.example.org\nlocal_interfaces = 127.0.0.1 : \\\n  # inside\n   ::::1\n\
             domainlist local_domains = @ : example.org\nbegin acl\nacl_check_rcpt:\n  accept hosts = :\n  deny\n    message = no\n\
             begin routers\ndnslookup:\n  driver = dnslookup\n  no_more\n",
        );
        assert_eq!(
            c.main_opt("local_interfaces").unwrap().text(),
            "127.0.0.1 : ::::1"
        );
        assert_eq!(c.main_opt("local_interfaces").unwrap().source.line, 3);
        assert_eq!(c.lists.len(), 1);
        let acl = c.acl("acl_check_rcpt").unwrap();
        let st: Vec<_> = acl.statements().collect();
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].conds[0].name, "hosts");
        assert_eq!(st[0].conds[0].value, ":");
        assert_eq!(st[1].conds[0].name, "message");
        assert_eq!(c.routers[0].driver(), Some("dnslookup"));
        let more = c.routers[0].get("more").unwrap();
        assert!(more.negated);
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    }

    #[test]
    fn macros_substitute_in_order_and_ifdef_is_an_or() {
        let c = parse(
            "ABC_X = one\nABC = two\nX1 = ABC_X ABC\nfoo = X1\n.ifdef NOPE ABC\nbar = yes\n.else\nbar = no\n.endif\n\
             .ifndef ABC\nbaz = 1\n.elifdef ABC\nbaz = 2\n.endif\n",
        );
        assert_eq!(c.main_opt("foo").unwrap().text(), "one two");
        assert_eq!(c.main_opt("bar").unwrap().text(), "yes");
        assert_eq!(c.main_opt("baz").unwrap().text(), "2");
        let c = parse("ABC = two\nABC_X = one\n");
        assert_eq!(c.diagnostics.len(), 1, "substring rule");
    }

    #[test]
    fn redefinition_and_skipped_definitions() {
        let c =
            parse(".ifdef NOPE\nA_B = 1\n.endif\nSEL = +x\nSEL == SEL +y\nlog_selector = SEL\n");
        assert_eq!(c.main_opt("log_selector").unwrap().text(), "+x +y");
        assert!(c.macro_value("A_B").is_none());
    }

    #[test]
    fn includes_are_recorded_where_they_appear() {
        let c =
            parse("begin acl\nrcpt:\n  accept hosts = :\n  .include /etc/exim/local.acl\n  deny\n");
        assert_eq!(c.includes.len(), 1);
        assert_eq!(c.includes[0].inside.as_deref(), Some("rcpt"));
        assert!(matches!(c.acls[0].items[1], AclItem::Include(_)));
    }

    #[test]
    fn debconf_values_seed_the_generated_macros() {
        let c = Config::parse(&[
            Input::new("update-exim4.conf.conf", "dc_eximconfig_configtype='internet'\ndc_relay_nets='192.0.2.0/24'\n"),
            Input::new("exim4.conf", "UPEX4CmacrosUPEX4C = 1\nhostlist relay_from_hosts = MAIN_RELAY_NETS\n.ifdef DCconfig_internet\nx = 1\n.endif\n"),
        ]);
        assert_eq!(
            c.list(ListKind::Host, "relay_from_hosts").unwrap().value,
            "192.0.2.0/24 : 127.0.0.1 : ::::1"
        );
        assert_eq!(c.main_opt("x").unwrap().text(), "1");
        assert!(c.is_debian());
    }

    #[test]
    fn version_lines_are_kept_aside() {
        let c = parse(
            "Exim version 4.96 #2 built 13-Nov-2024 19:00:00\nLibrary version: GnuTLS: Compile: 3.7.9 Runtime: 3.7.9\n\
             ii  exim4-base  4.96-15+deb12u4  amd64  support files\nprimary_hostname = x\n",
        );
        assert_eq!(c.stated.len(), 2);
        assert_eq!(c.tls_library.as_ref().unwrap().0, "GnuTLS");
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    }

    #[test]
    fn conf_d_parts_are_ordered_like_update_exim4_conf() {
        let c = Config::parse(&[
            Input::new("conf.d/acl/30_check_rcpt", "acl_check_rcpt:\n  accept\n"),
            Input::new("conf.d/main/02_options", "acl_smtp_rcpt = acl_check_rcpt\n"),
        ]);
        assert_eq!(c.acls.len(), 1);
        assert!(c.main_opt("acl_smtp_rcpt").is_some());
        assert_eq!(c.implicit_sections.len(), 1);
    }

    #[test]
    fn hostile_input_is_bounded() {
        // Exponential macro growth is cut.
        let mut t = String::new();
        for i in (0..30).rev() {
            t.push_str(&format!("M{i:02}X = M{:02}X M{:02}X\n", i + 1, i + 1));
        }
        t.push_str("x = M00X\n");
        let c = parse(&t);
        assert!(c.main_opt("x").unwrap().text().len() <= MAX_EXPANDED_LINE);
        // Unterminated conditionals and continuations, deep nesting.
        let deep = ".ifdef A\n".repeat(200) + "x = 1 \\";
        let c = parse(&deep);
        assert!(!c.diagnostics.is_empty());
        let _ = parse("\\\n\\\n.\n.endif\n.else\nbegin\nbegin acl\n:\n!\n!x\naccept !\n");
    }
}
