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
use std::borrow::Cow;
use std::collections::HashMap;

use crate::report::Evidence;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: String,
    /// Index of the text it is in, among those given to [`Config::parse`]
    /// (two parts may have the same name).
    pub part: usize,
    pub line: u32,
    pub text: String,
}

impl Source {
    pub fn evidence(&self) -> Evidence {
        Evidence::Config {
            file: self.file.clone(),
            line: (self.line > 0).then_some(self.line),
            text: self.text.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: String,
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

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Every main.cf definition in order (the last of a name wins).
    pub params: Vec<Param>,
    /// Index of the last definition of each name in `params`.
    index: HashMap<String, usize>,
    pub services: Vec<Service>,
    /// Whether any master.cf content was pasted.
    pub has_master: bool,
    /// Lines that could not be understood.
    pub diagnostics: Vec<Diagnostic>,
}

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
    fn source_at(&self, file: &str, part: usize, offset: usize) -> Source {
        let (line, text) = self
            .more
            .iter()
            .rev()
            .find(|s| s.1 <= offset)
            .map_or(self.first, |s| (s.0, s.2));
        Source {
            file: file.to_string(),
            part,
            line,
            text: text.to_string(),
        }
    }
}

/// White space as Postfix sees it in its files (C `isspace` in the C
/// locale): not U+00A0 and the other Unicode spaces Rust's `trim` knows.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

fn trim_space(s: &str) -> &str {
    s.trim_matches(is_space)
}

fn logical_lines<'a>(
    file: &str,
    part: usize,
    text: &'a str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Logical<'a>> {
    let mut out: Vec<Logical> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = line.trim_end_matches(['\r', '\n']);
        let continues = line.starts_with(is_space);
        // Most lines start with a name: only others can be blank or an
        // indented comment.
        let first = if continues {
            trim_space(line).bytes().next()
        } else {
            line.bytes().next()
        };
        if matches!(first, None | Some(b'#')) {
            continue;
        }
        let shown = line.trim_end_matches(is_space);
        if continues {
            match out.last_mut() {
                Some(last) => {
                    let joined = last.joined.to_mut();
                    last.more.push((n, joined.len(), shown));
                    joined.push_str(line);
                }
                None => diagnostics.push(Diagnostic {
                    source: Source {
                        file: file.to_string(),
                        part,
                        line: n,
                        text: shown.to_string(),
                    },
                    message: "logical line must not start with whitespace (Postfix ignores it)"
                        .into(),
                }),
            }
            continue;
        }
        out.push(Logical {
            joined: Cow::Borrowed(line),
            first: (n, shown),
            more: Vec::new(),
        });
    }
    // Postfix handles each logical line as a C string: a NUL byte ends it,
    // continuation lines included.
    for l in &mut out {
        if let Some(at) = l.joined.find('\0') {
            l.joined.to_mut().truncate(at);
        }
    }
    out
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
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut level = 0usize;
    for (i, c) in s.char_indices() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') && level == 0 {
            if let Some(st) = start.take() {
                out.push((&s[st..i], st));
            }
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        match c {
            '{' => level += 1,
            '}' => level = level.saturating_sub(1),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((&s[st..], st));
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
fn split_nameval(s: &str) -> Option<(String, String)> {
    let s = s.trim_start_matches(is_space);
    let end = s.find(|c: char| is_space(c) || c == '=')?;
    let name = &s[..end];
    let value = s[end..].trim_start_matches(is_space).strip_prefix('=')?;
    (!name.is_empty()).then(|| (name.to_string(), trim_space(value).to_string()))
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
        for (k, (name, text)) in parts.into_iter().enumerate() {
            let mut diags = Vec::new();
            let lines = logical_lines(name, k, text, &mut diags);
            cfg.diagnostics.extend(diags);
            for l in lines {
                let toks = if may_be_service(&l.joined) {
                    tokens(&l.joined)
                } else {
                    Vec::new()
                };
                if toks.len() >= 8 && SERVICE_TYPES.contains(&toks[1].0) {
                    cfg.has_master = true;
                    let svc = parse_service(name, k, &l, &toks, &mut cfg.diagnostics);
                    cfg.services.push(svc);
                    continue;
                }
                let first = l.source_at(name, k, 0);
                if let Some((name, value)) = split_nameval(&l.joined) {
                    let mut parts3 = [""; 3];
                    let mut slashes = 0;
                    if name.contains('/') {
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
                                name: parts3[2].to_string(),
                                value,
                                source: first,
                            },
                        ));
                    } else {
                        match cfg.index.get_mut(name.as_str()) {
                            Some(i) => *i = cfg.params.len(),
                            None => {
                                cfg.index.insert(name.clone(), cfg.params.len());
                            }
                        }
                        cfg.params.push(Param {
                            name,
                            value,
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

    /// The main.cf definition in force for `name`, if any.
    pub fn main(&self, name: &str) -> Option<&Param> {
        self.index.get(name).map(|&i| &self.params[i])
    }
}

fn parse_service(
    file: &str,
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
        let source = l.source_at(file, part, at);
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
            Some((name, value)) => overrides.push(Param {
                name,
                value,
                source,
            }),
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
        source: l.source_at(file, part, 0),
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
                    (s.name.clone(), p.name.clone(), v.join(" "))
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
    fn long_lines_and_odd_bytes() {
        let long = format!("mynetworks = {}\n", "10.0.0.1 ".repeat(100_000).trim_end());
        let c = parse(&long);
        assert!(c.main("mynetworks").unwrap().value.len() > 800_000);
        let _ = parse("{{{{ = }}}}\n-o\n\u{0}\u{0}\n\r\r\n");
    }
}
