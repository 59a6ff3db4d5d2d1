//! A tolerant reader of `sendmail.mc`: the m4 macro calls it makes, with
//! their arguments and line numbers.
//!
//! Not a full m4. A `.mc` file is a list of calls into sendmail's cf/m4
//! library (`FEATURE`, `define(`confX', ...)`, `DAEMON_OPTIONS`, ...), and
//! what the rules need is those calls, in order, with the line each starts
//! on. Running the real macro library would need its files (not pasted,
//! and version dependent) and a complete m4 with `eval`, diversions and
//! `m4wrap`; a paste must also be analysed when it is broken. So this
//! reader implements the part of m4 that decides which calls a `.mc` makes:
//!
//! - quoting with `` ` `` and `'` (nested; one level removed per read) and
//!   `changequote` to other ASCII delimiters;
//! - `dnl` (deletes through the end of the line, also inside arguments, as
//!   Debian's stock file relies on), `#` comments (copied, not scanned);
//! - argument collection with nested parentheses and leading blanks
//!   skipped, macros inside unquoted arguments expanded;
//! - `define`/`pushdef`/`undefine`/`defn`, `ifdef`, `ifelse` (the forms with
//!   string comparison), and the expansion of macros the file defines
//!   itself, with `$1`..`$9` — rescanned as m4 does;
//! - everything else that looks like a call (`FEATURE(...)`, a name in
//!   [`SENDMAIL_MACROS`]) is reported as a [`Call`] for the model to
//!   interpret; `include`/`sinclude` are reported, never followed.
//!
//! Hostile input cannot hang it: macro expansion is capped in depth
//! ([`MAX_DEPTH`]), count ([`MAX_EXPANSIONS`]) and bytes
//! ([`MAX_EXPANDED_BYTES`]); past a cap, names are read as plain text and a
//! diagnostic says where expansion stopped. Nothing here indexes past the
//! end of its input.

use std::collections::HashMap;

/// Frames of nested expansion at most.
pub const MAX_DEPTH: usize = 64;
/// Macro expansions (user macros, `ifdef`, `ifelse`, `defn`) per file.
pub const MAX_EXPANSIONS: usize = 20_000;
/// Bytes of expansion text pushed back for rescanning, per file.
pub const MAX_EXPANDED_BYTES: usize = 4 << 20;
/// Arguments kept per call.
const MAX_ARGS: usize = 32;

/// One macro call the `.mc` makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub name: String,
    pub args: Vec<String>,
    /// 1-based line of the paste where the call's name is (for calls that
    /// come out of an expansion: the line of the outermost call).
    pub line: usize,
}

/// What the reader saw.
#[derive(Debug, Default, Clone)]
pub struct Read {
    pub calls: Vec<Call>,
    /// Text lines copied to the output while a `LOCAL_*` section
    /// (`LOCAL_CONFIG`, `LOCAL_RULESETS`, `LOCAL_SRV_FEATURES`, ...) was
    /// open: raw sendmail.cf lines, with the section's name and line.
    pub local: Vec<(String, usize, String)>,
    /// Problems (unterminated quotes or calls, caps reached), with lines.
    pub diagnostics: Vec<(usize, String)>,
}

/// Calls into sendmail's cf library (and m4 builtins with a meaning for
/// the configuration) reported as [`Call`]s, with or without arguments.
pub const SENDMAIL_MACROS: &[&str] = &[
    "CANONIFY_DOMAIN",
    "CANONIFY_DOMAIN_FILE",
    "CLIENT_OPTIONS",
    "DAEMON_OPTIONS",
    "DOMAIN",
    "EXPOSED_USER",
    "EXPOSED_USER_FILE",
    "FEATURE",
    "GENERICS_DOMAIN",
    "GENERICS_DOMAIN_FILE",
    "HACK",
    "INPUT_MAIL_FILTER",
    "LDAPROUTE_DOMAIN",
    "LDAPROUTE_DOMAIN_FILE",
    "LOCAL_CLT_FEATURES",
    "LOCAL_CONFIG",
    "LOCAL_DNSBL",
    "LOCAL_DOMAIN",
    "LOCAL_NET_CONFIG",
    "LOCAL_RULESETS",
    "LOCAL_RULE_0",
    "LOCAL_RULE_1",
    "LOCAL_RULE_2",
    "LOCAL_RULE_3",
    "LOCAL_SRV_FEATURES",
    "LOCAL_TLS_CLIENT",
    "LOCAL_TLS_RCPT",
    "LOCAL_TLS_SERVER",
    "LOCAL_TRY_TLS",
    "LOCAL_USER",
    "LOCAL_USER_FILE",
    "MAILER",
    "MAILER_DEFINITIONS",
    "MAIL_FILTER",
    "MASQUERADE_AS",
    "MASQUERADE_DOMAIN",
    "MASQUERADE_DOMAIN_FILE",
    "MASQUERADE_EXCEPTION",
    "MODIFY_MAILER_FLAGS",
    "OSTYPE",
    "QUEUE_GROUP",
    "RELAY_DOMAIN",
    "RELAY_DOMAIN_FILE",
    "SITECONFIG",
    "TRUST_AUTH_MECH",
    "VERSIONID",
    "VIRTUSER_DOMAIN",
    "VIRTUSER_DOMAIN_FILE",
    "divert",
    "include",
    "sinclude",
];

/// Calls that open a section of raw sendmail.cf text.
const SECTIONS: &[&str] = &[
    "LOCAL_CLT_FEATURES",
    "LOCAL_CONFIG",
    "LOCAL_DNSBL",
    "LOCAL_NET_CONFIG",
    "LOCAL_RULESETS",
    "LOCAL_RULE_0",
    "LOCAL_RULE_1",
    "LOCAL_RULE_2",
    "LOCAL_RULE_3",
    "LOCAL_SRV_FEATURES",
    "LOCAL_TLS_CLIENT",
    "LOCAL_TLS_RCPT",
    "LOCAL_TLS_SERVER",
    "LOCAL_TRY_TLS",
];

struct Frame {
    text: Vec<u8>,
    pos: usize,
}

struct Reader<'a> {
    base: &'a [u8],
    pos: usize,
    /// 1-based line of `pos` in the base text.
    line: usize,
    stack: Vec<Frame>,
    open: Vec<u8>,
    close: Vec<u8>,
    macros: HashMap<String, Vec<String>>,
    expansions: usize,
    expanded_bytes: usize,
    capped: bool,
    out: Read,
    /// The LOCAL_* section text is copied to, if one is open.
    section: Option<String>,
    raw_line: String,
    raw_line_no: usize,
}

/// Reads a `.mc` text.
pub fn read(text: &str) -> Read {
    let mut r = Reader {
        base: text.as_bytes(),
        pos: 0,
        line: 1,
        stack: Vec::new(),
        open: b"`".to_vec(),
        close: b"'".to_vec(),
        macros: HashMap::new(),
        expansions: 0,
        expanded_bytes: 0,
        capped: false,
        out: Read::default(),
        section: None,
        raw_line: String::new(),
        raw_line_no: 1,
    };
    r.run();
    r.flush_raw();
    r.out
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Reader<'_> {
    // ------------------------------------------------------------ input

    fn peek(&mut self) -> Option<u8> {
        loop {
            match self.stack.last() {
                Some(f) if f.pos < f.text.len() => return f.text.get(f.pos).copied(),
                Some(_) => {
                    self.stack.pop();
                }
                None => return self.base.get(self.pos).copied(),
            }
        }
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        match self.stack.last_mut() {
            Some(f) => f.pos += 1,
            None => {
                self.pos += 1;
                if c == b'\n' {
                    self.line += 1;
                }
            }
        }
        Some(c)
    }

    /// Whether the input continues with the open (`close == false`) or
    /// close quote (within the current frame).
    fn at_quote(&mut self, close: bool) -> bool {
        let Some(c) = self.peek() else {
            return false;
        };
        let q = if close { &self.close } else { &self.open };
        if q.first() != Some(&c) {
            return false;
        }
        if q.len() == 1 {
            return true;
        }
        match self.stack.last() {
            Some(f) => f.text.get(f.pos..).is_some_and(|r| r.starts_with(q)),
            None => self.base.get(self.pos..).is_some_and(|r| r.starts_with(q)),
        }
    }

    fn skip(&mut self, n: usize) {
        for _ in 0..n {
            if self.bump().is_none() {
                break;
            }
        }
    }

    fn in_base(&self) -> bool {
        self.stack.is_empty()
    }

    /// Pushes text to be read next (an expansion). False when a cap is hit.
    fn push(&mut self, text: String) -> bool {
        if self.capped {
            return false;
        }
        self.expansions += 1;
        self.expanded_bytes += text.len();
        if self.stack.len() >= MAX_DEPTH
            || self.expansions > MAX_EXPANSIONS
            || self.expanded_bytes > MAX_EXPANDED_BYTES
        {
            self.capped = true;
            self.out.diagnostics.push((
                self.line,
                format!(
                    "m4 expansion stopped here: more than {MAX_DEPTH} nested, \
                     {MAX_EXPANSIONS} expansions or {} MB of expanded text (recursive \
                     macros?); the rest is read without expanding the file's own macros",
                    MAX_EXPANDED_BYTES >> 20
                ),
            ));
            return false;
        }
        if !text.is_empty() {
            self.stack.push(Frame {
                text: text.into_bytes(),
                pos: 0,
            });
        }
        true
    }

    // ----------------------------------------------------------- output

    fn emit(&mut self, s: &str) {
        if self.section.is_none() {
            return;
        }
        for ch in s.chars() {
            if ch == '\n' {
                self.flush_raw();
                self.raw_line_no = self.line;
            } else {
                if self.raw_line.is_empty() {
                    self.raw_line_no = self.line;
                }
                if self.raw_line.len() < 64 * 1024 {
                    self.raw_line.push(ch);
                }
            }
        }
    }

    fn flush_raw(&mut self) {
        if let Some(sec) = &self.section {
            let t = self.raw_line.trim();
            if !t.is_empty() {
                self.out
                    .local
                    .push((sec.clone(), self.raw_line_no, t.to_string()));
            }
        }
        self.raw_line.clear();
    }

    // ------------------------------------------------------------ lexing

    /// After the opening quote: the quoted text, one level of quotes removed.
    fn quoted(&mut self) -> String {
        let start_line = self.line;
        let mut depth = 1usize;
        let mut buf = Vec::new();
        loop {
            if self.peek().is_none() {
                self.out
                    .diagnostics
                    .push((start_line, "quoted text opened here is never closed".into()));
                break;
            }
            if self.at_quote(true) {
                let n = self.close.len();
                depth -= 1;
                if depth == 0 {
                    self.skip(n);
                    break;
                }
                buf.extend_from_slice(&self.close);
                self.skip(n);
                continue;
            }
            if self.at_quote(false) {
                let n = self.open.len();
                depth += 1;
                buf.extend_from_slice(&self.open);
                self.skip(n);
                continue;
            }
            if let Some(c) = self.bump() {
                buf.push(c);
            }
        }
        lossy(&buf)
    }

    fn word(&mut self) -> String {
        let mut w = Vec::new();
        while let Some(c) = self.peek() {
            if !is_ident(c) || w.len() > 256 {
                break;
            }
            w.push(c);
            self.bump();
        }
        lossy(&w)
    }

    /// `#` to the end of the line (the newline is left).
    fn comment(&mut self) -> String {
        let mut w = Vec::new();
        while let Some(c) = self.peek() {
            if c == b'\n' {
                break;
            }
            w.push(c);
            self.bump();
        }
        lossy(&w)
    }

    /// `dnl`: through the end of the line.
    fn dnl(&mut self) {
        while let Some(c) = self.bump() {
            if c == b'\n' {
                break;
            }
        }
    }

    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
    }

    /// Whether `name` is called here (a builtin we evaluate, a sendmail
    /// macro, or one the file defined).
    fn is_macro(&self, name: &str) -> bool {
        matches!(
            name,
            "define"
                | "pushdef"
                | "undefine"
                | "popdef"
                | "defn"
                | "ifdef"
                | "ifelse"
                | "changequote"
                | "dnl"
        ) || SENDMAIL_MACROS.contains(&name)
            || (!self.capped && self.macros.contains_key(name))
    }

    /// After a macro name, when `(` follows: its arguments.
    fn args(&mut self) -> Vec<String> {
        let start_line = self.line;
        self.bump(); // '('
        let mut args: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut depth = 0usize;
        let mut at_start = true;
        loop {
            if at_start {
                self.skip_blanks();
            }
            let Some(c) = self.peek() else {
                self.out
                    .diagnostics
                    .push((start_line, "macro call opened here is never closed".into()));
                break;
            };
            if self.at_quote(false) {
                let n = self.open.len();
                self.skip(n);
                let q = self.quoted();
                cur.push_str(&q);
                at_start = false;
                continue;
            }
            match c {
                b'#' => {
                    let t = self.comment();
                    cur.push_str(&t);
                    at_start = false;
                }
                b'(' => {
                    depth += 1;
                    cur.push('(');
                    self.bump();
                    at_start = false;
                }
                b')' => {
                    self.bump();
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    cur.push(')');
                }
                b',' if depth == 0 => {
                    self.bump();
                    if args.len() < MAX_ARGS {
                        args.push(std::mem::take(&mut cur));
                    } else {
                        cur.clear();
                    }
                    at_start = true;
                }
                c if is_ident_start(c) => {
                    let w = self.word();
                    if w == "dnl" {
                        self.dnl();
                        at_start = cur.is_empty();
                    } else if self.is_expandable(&w) {
                        let a = if self.peek() == Some(b'(') {
                            Some(self.args())
                        } else {
                            None
                        };
                        self.expand(&w, a);
                        at_start = cur.is_empty();
                    } else {
                        cur.push_str(&w);
                        at_start = false;
                    }
                }
                _ => {
                    self.bump();
                    cur.push(c as char);
                    // Keep non-ASCII text intact.
                    if c >= 0x80 {
                        cur.pop();
                        let mut bytes = vec![c];
                        while let Some(n) = self.peek() {
                            if (0x80..0xC0).contains(&n) {
                                bytes.push(n);
                                self.bump();
                            } else {
                                break;
                            }
                        }
                        cur.push_str(&lossy(&bytes));
                    }
                    at_start = false;
                }
            }
        }
        if args.len() < MAX_ARGS {
            args.push(cur);
        }
        args
    }

    /// Macros expanded in place (inside arguments too): the file's own and
    /// the builtins that produce text.
    fn is_expandable(&self, name: &str) -> bool {
        !self.capped
            && (matches!(name, "defn" | "ifdef" | "ifelse") || self.macros.contains_key(name))
    }

    /// Expands `name` (an expandable macro) by pushing its text.
    fn expand(&mut self, name: &str, args: Option<Vec<String>>) {
        let args = args.unwrap_or_default();
        let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
        let text = match name {
            "defn" => {
                let q = |s: &str, r: &Self| format!("{}{}{}", lossy(&r.open), s, lossy(&r.close));
                match self.macros.get(&arg(0)).and_then(|v| v.last()) {
                    Some(v) => q(&v.clone(), self),
                    None => String::new(),
                }
            }
            "ifdef" => {
                if self.macros.contains_key(&arg(0)) {
                    arg(1)
                } else {
                    arg(2)
                }
            }
            "ifelse" => ifelse(&args),
            _ => {
                let body = self
                    .macros
                    .get(name)
                    .and_then(|v| v.last())
                    .cloned()
                    .unwrap_or_default();
                substitute(&body, name, &args)
            }
        };
        self.push(text);
    }

    // -------------------------------------------------------------- run

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            if self.at_quote(false) {
                let n = self.open.len();
                self.skip(n);
                let q = self.quoted();
                self.emit(&q);
                continue;
            }
            if c == b'#' {
                let t = self.comment();
                self.emit(&t);
                continue;
            }
            if is_ident_start(c) {
                let line = self.line;
                let w = self.word();
                if !self.is_macro(&w) {
                    self.emit(&w);
                    continue;
                }
                if w == "dnl" {
                    self.dnl();
                    if self.in_base() {
                        // The deleted newline still ends a raw line.
                        self.flush_raw();
                    }
                    continue;
                }
                let args = if self.peek() == Some(b'(') {
                    Some(self.args())
                } else {
                    None
                };
                self.call(w, args, line);
                continue;
            }
            self.bump();
            if c < 0x80 {
                self.emit(&(c as char).to_string());
            } else {
                let mut bytes = vec![c];
                while let Some(n) = self.peek() {
                    if (0x80..0xC0).contains(&n) {
                        bytes.push(n);
                        self.bump();
                    } else {
                        break;
                    }
                }
                self.emit(&lossy(&bytes));
            }
        }
    }

    fn call(&mut self, name: String, args: Option<Vec<String>>, line: usize) {
        let a = |i: usize| args.as_ref().and_then(|v| v.get(i)).cloned();
        match name.as_str() {
            "define" | "pushdef" => {
                if let Some(n) = a(0).filter(|n| !n.is_empty()) {
                    let v = a(1).unwrap_or_default();
                    let e = self.macros.entry(n.clone()).or_default();
                    if name == "define" {
                        e.clear();
                    }
                    if e.len() < 16 {
                        e.push(v.clone());
                    }
                    self.record(name, vec![n, v], line);
                }
            }
            "undefine" | "popdef" => {
                if let Some(n) = a(0) {
                    if name == "undefine" {
                        self.macros.remove(&n);
                    } else if let Some(v) = self.macros.get_mut(&n) {
                        v.pop();
                        if v.is_empty() {
                            self.macros.remove(&n);
                        }
                    }
                    self.record(name, vec![n], line);
                }
            }
            "changequote" => {
                let (o, c) = match (a(0), a(1)) {
                    (None, _) => ("`".to_string(), "'".to_string()),
                    (Some(o), None) if o.is_empty() => ("`".to_string(), "'".to_string()),
                    (Some(o), c) => (o, c.unwrap_or_else(|| "'".into())),
                };
                let ok = |s: &str| {
                    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_graphic())
                };
                if ok(&o) && ok(&c) && o != c {
                    self.open = o.into_bytes();
                    self.close = c.into_bytes();
                } else {
                    self.out
                        .diagnostics
                        .push((line, "changequote with unusual quotes ignored".into()));
                }
            }
            "defn" | "ifdef" | "ifelse" => self.expand(&name, args),
            n if SENDMAIL_MACROS.contains(&n) => {
                if SECTIONS.contains(&n) {
                    self.flush_raw();
                    self.section = Some(name.clone());
                } else if matches!(n, "MAILER_DEFINITIONS" | "MAILER" | "divert") {
                    self.flush_raw();
                    self.section = None;
                }
                self.record(name, args.unwrap_or_default(), line);
            }
            _ => self.expand(&name, args),
        }
    }

    fn record(&mut self, name: String, args: Vec<String>, line: usize) {
        self.out.calls.push(Call { name, args, line });
    }
}

/// `ifelse(a, b, yes, [c, d, yes2, ...] no)`.
fn ifelse(args: &[String]) -> String {
    let mut i = 0;
    loop {
        match args.len().saturating_sub(i) {
            0..=2 => return String::new(),
            3 => {
                return if args[i] == args[i + 1] {
                    args[i + 2].clone()
                } else {
                    String::new()
                }
            }
            4 => {
                return if args[i] == args[i + 1] {
                    args[i + 2].clone()
                } else {
                    args[i + 3].clone()
                }
            }
            _ => {
                if args[i] == args[i + 1] {
                    return args[i + 2].clone();
                }
                i += 3;
            }
        }
    }
}

/// `$0`..`$9`, `$#`, `$*` and `$@` in a macro body.
fn substitute(body: &str, name: &str, args: &[String]) -> String {
    if !body.contains('$') {
        return body.to_string();
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(d @ '0'..='9') => {
                chars.next();
                let i = d as usize - '0' as usize;
                if i == 0 {
                    out.push_str(name);
                } else if let Some(a) = args.get(i - 1) {
                    out.push_str(a);
                }
            }
            Some('#') => {
                chars.next();
                out.push_str(&args.len().to_string());
            }
            Some('*') | Some('@') => {
                chars.next();
                out.push_str(&args.join(","));
            }
            _ => out.push('$'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(t: &str) -> Vec<(String, Vec<String>, usize)> {
        read(t)
            .calls
            .into_iter()
            .map(|c| (c.name, c.args, c.line))
            .collect()
    }

    #[test]
    fn reads_calls_with_quotes_and_lines() {
        let c = calls(
            "divert(-1)dnl\n# a comment with it's apostrophe\ndivert(0)dnl\n\
             FEATURE(`access_db', , `skip')dnl\nFEATURE(`greet_pause', `1000')dnl 1 second\n\
             define(`confSMTP_LOGIN_MSG', `$j ESMTP; $b')dnl\n",
        );
        assert_eq!(c[0], ("divert".into(), vec!["-1".into()], 1));
        assert_eq!(c[1], ("divert".into(), vec!["0".into()], 3));
        assert_eq!(
            c[2],
            (
                "FEATURE".into(),
                vec!["access_db".into(), "".into(), "skip".into()],
                4
            )
        );
        assert_eq!(c[3].1, vec!["greet_pause".to_string(), "1000".into()]);
        assert_eq!(c[3].2, 5);
        assert_eq!(
            c[4],
            (
                "define".into(),
                vec!["confSMTP_LOGIN_MSG".into(), "$j ESMTP; $b".into()],
                6
            )
        );
    }

    #[test]
    fn dnl_inside_arguments_as_debian_writes_it() {
        let c = calls(
            "define(`confPRIVACY_FLAGS',dnl\n`needmailhelo,needexpnhelo,authwarnings')dnl\n\
             FEATURE(`x')\n",
        );
        assert_eq!(
            c[0].1,
            vec![
                "confPRIVACY_FLAGS".to_string(),
                "needmailhelo,needexpnhelo,authwarnings".into()
            ]
        );
        assert_eq!(c[1].2, 3);
    }

    #[test]
    fn nested_quotes_parens_and_user_macros() {
        let c = calls(
            "define(`MYCERT', `/etc/ssl/mx.pem')dnl\n\
             define(`confSERVER_CERT', MYCERT)dnl\n\
             define(`confX', ``a, b'')dnl\n\
             DAEMON_OPTIONS(`Port=smtp, Addr=0.0.0.0, Name=MTA (main)')dnl\n",
        );
        assert_eq!(
            c[1].1,
            vec!["confSERVER_CERT".to_string(), "/etc/ssl/mx.pem".into()]
        );
        assert_eq!(c[2].1, vec!["confX".to_string(), "`a, b'".into()]);
        assert_eq!(c[3].1, vec!["Port=smtp, Addr=0.0.0.0, Name=MTA (main)"]);
    }

    #[test]
    fn ifdef_ifelse_and_changequote() {
        let c = calls(
            "define(`A')ifdef(`A', `FEATURE(`yes')', `FEATURE(`no')')\n\
             ifelse(`x', `y', `FEATURE(`eq')', `FEATURE(`ne')')\n\
             changequote([, ])dnl\ndefine([confMUST_QUOTE_CHARS], [.'])dnl\nchangequote(`, ')dnl\n\
             FEATURE(`after')\n",
        );
        let names: Vec<String> = c
            .iter()
            .filter(|c| c.0 != "define")
            .map(|c| c.1.join(","))
            .collect();
        assert_eq!(names, ["yes", "ne", "after"]);
        assert!(c
            .iter()
            .any(|x| x.1 == ["confMUST_QUOTE_CHARS".to_string(), ".'".into()]));
    }

    #[test]
    fn local_config_lines_are_raw_cf() {
        let r = read(
            "MAILER(`smtp')dnl\nLOCAL_CONFIG\nO MaxMessageSize=1000\nCwmx.example.org\n\
             LOCAL_RULESETS\nSLocal_check_rcpt\nR$* $: $1\n",
        );
        assert_eq!(
            r.local,
            vec![
                (
                    "LOCAL_CONFIG".to_string(),
                    3,
                    "O MaxMessageSize=1000".into()
                ),
                ("LOCAL_CONFIG".into(), 4, "Cwmx.example.org".into()),
                ("LOCAL_RULESETS".into(), 6, "SLocal_check_rcpt".into()),
                ("LOCAL_RULESETS".into(), 7, "R$* $: $1".into()),
            ]
        );
    }

    #[test]
    fn hostile_recursion_stops() {
        for t in [
            "define(`a', `a')a\n",
            "define(`a', `a a')a\n",
            "define(`a', `b(a)')define(`b', `a $1 $1')a\n",
            "define(`a', `ifdef(`a', `a a a a')')a",
            "define(`x', `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx x x x x x')x",
        ] {
            let r = read(t);
            assert!(
                r.diagnostics
                    .iter()
                    .any(|d| d.1.contains("expansion stopped")),
                "{t}: {:?}",
                r.diagnostics
            );
        }
    }

    #[test]
    fn unterminated_things_do_not_panic() {
        for t in [
            "FEATURE(`x'",
            "define(`a",
            "`",
            "'",
            "(",
            ")",
            "dnl",
            "changequote(",
            "changequote(é, ü)FEATURE(é)",
            "FEATURE(((((",
            "ifelse(",
            "ifelse(a,b,c,d,e,f,g)",
            "define(`a', `$)a",
            "\u{0}\u{ff}FEATURE(`\u{0}')",
        ] {
            let _ = read(t);
        }
        let r = read("FEATURE(`x'\nmore\n");
        assert!(!r.diagnostics.is_empty());
    }
}
