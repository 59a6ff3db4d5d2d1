//! Analysis of pasted configuration files, entirely offline.
//!
//! Input is one or more named texts. A text may hold several files, each
//! introduced by a `# file: NAME` header line. Parsers never fail: they build
//! a model and keep going past lines they do not understand.

pub mod postfix;

pub use postfix::{fix, FixPlan, Fixed, FixedFile, Manual};

use crate::report::Report;
use thiserror::Error;

/// One pasted text or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub name: String,
    pub text: String,
}

impl Input {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Input {
            name: name.into(),
            text: text.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Software {
    Postfix,
    Exim,
    Sendmail,
    Exchange,
    Fail2ban,
    Logs,
}

impl Software {
    pub fn parse(s: &str) -> Option<Software> {
        Some(match s.to_ascii_lowercase().as_str() {
            "postfix" => Software::Postfix,
            "exim" => Software::Exim,
            "sendmail" => Software::Sendmail,
            "exchange" => Software::Exchange,
            "fail2ban" => Software::Fail2ban,
            "logs" => Software::Logs,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Software::Postfix => "postfix",
            Software::Exim => "exim",
            Software::Sendmail => "sendmail",
            Software::Exchange => "exchange",
            Software::Fail2ban => "fail2ban",
            Software::Logs => "logs",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ConfigOptions {
    /// Forced software; otherwise detected from the content.
    pub software: Option<Software>,
    /// Version to judge defaults by (`--assume-version`).
    pub assume_version: Option<String>,
    /// RFC 3339 time of the analysis, given by the host.
    pub now: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("nothing to analyse: the input is empty")]
    Empty,
    #[error(
        "the input was not recognised as a supported configuration. Supported: Postfix main.cf, \
         master.cf, `postconf -n` and `postconf -M` output (use --software to force one)"
    )]
    Unrecognised,
    #[error("analysis of {0} configurations is not available in this version; supported: postfix")]
    Unsupported(&'static str),
}

/// A `# file:` part of an input, borrowed from it ([`split_parts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part<'a> {
    /// The header's name, or the input's name for text before any header.
    pub name: &'a str,
    /// The part's lines as they are in the input (line ends as given; the
    /// header lines are not in it).
    pub text: &'a str,
    /// Index of the input it is in.
    pub input: usize,
    /// Line index (0-based) in the input of its first line.
    pub start: usize,
    /// How many lines it has (as [`str::lines`] counts them).
    pub lines: usize,
}

impl Part<'_> {
    /// Its text with every line ended by `\n` (what [`split_files`] gives).
    pub fn normalized(&self) -> String {
        if memchr::memchr(b'\r', self.text.as_bytes()).is_none() {
            let mut out = String::with_capacity(self.text.len() + 1);
            out.push_str(self.text);
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            return out;
        }
        let mut out = String::with_capacity(self.text.len() + 1);
        for line in lines_inclusive(self.text) {
            out.push_str(line_text(line));
            out.push('\n');
        }
        out
    }
}

/// The lines of a text, each with its line end (`str::split_inclusive` at
/// `\n`), found in one `memchr` pass over the text rather than one search
/// per line.
pub(crate) fn lines_inclusive(text: &str) -> LinesInclusive<'_> {
    LinesInclusive {
        text,
        ends: memchr::memchr_iter(b'\n', text.as_bytes()),
        start: 0,
    }
}

/// See [`lines_inclusive`].
pub(crate) struct LinesInclusive<'a> {
    text: &'a str,
    ends: memchr::Memchr<'a>,
    start: usize,
}

impl<'a> Iterator for LinesInclusive<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let end = match self.ends.next() {
            Some(at) => at + 1,
            None if self.start < self.text.len() => self.text.len(),
            None => return None,
        };
        // Both ends are just after a `\n` or at the text's end: char
        // boundaries.
        let line = self.text.get(self.start..end);
        self.start = end;
        line
    }
}

/// A line of [`lines_inclusive`] without its line end, as `str::lines`
/// gives it: `\n`, and a `\r` just before it, dropped.
pub(crate) fn line_text(line: &str) -> &str {
    match line.strip_suffix('\n') {
        Some(l) => l.strip_suffix('\r').unwrap_or(l),
        None => line,
    }
}

/// The name of a `# file: NAME` header line.
fn file_header(line: &str) -> Option<&str> {
    // Most lines start with a name: a header starts with `#`.
    if !line.trim_start().starts_with('#') {
        return None;
    }
    line.trim()
        .strip_prefix('#')
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix("file:"))
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

/// Splits texts at `# file: NAME` headers into named parts, without
/// copying them; parts with nothing but white space are dropped.
pub fn split_parts(inputs: &[Input]) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    for (k, input) in inputs.iter().enumerate() {
        let text = input.text.as_str();
        let bytes = text.as_bytes();
        let newlines = |from: usize, to: usize| {
            memchr::memchr_iter(b'\n', bytes.get(from..to).unwrap_or(&[])).count()
        };
        let mut part = Part {
            name: input.name.as_str(),
            text: "",
            input: k,
            start: 0,
            lines: 0,
        };
        // Byte offset of the part's first line.
        let mut from = 0;
        // A byte offset at a line start, and how many lines are before it.
        let (mut counted_to, mut counted) = (0, 0);
        // Only a line with `file:` in it can be a header: look at those.
        let mut next_line = 0;
        for at in memchr::memmem::find_iter(bytes, "file:") {
            if at < next_line {
                continue;
            }
            let before = bytes.get(..at).unwrap_or(&[]);
            let start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
            let after = bytes.get(at..).unwrap_or(&[]);
            let end = memchr::memchr(b'\n', after).map_or(bytes.len(), |i| at + i + 1);
            next_line = end;
            // Both ends are after a `\n` or at an end: char boundaries.
            let Some(header) = text.get(start..end).map(line_text).and_then(file_header) else {
                continue;
            };
            counted += newlines(counted_to, start);
            counted_to = start;
            part.text = text.get(from..start).unwrap_or("");
            part.lines = counted - part.start;
            if !part.text.trim().is_empty() {
                out.push(part);
            }
            part.name = header;
            part.start = counted + 1;
            from = end;
        }
        let total = counted
            + newlines(counted_to, bytes.len())
            + usize::from(!text.is_empty() && !text.ends_with('\n'));
        part.text = text.get(from..).unwrap_or("");
        part.lines = total.saturating_sub(part.start);
        if !part.text.trim().is_empty() {
            out.push(part);
        }
    }
    out
}

/// Splits texts at `# file: NAME` headers into named parts (copies, with
/// `\n` line ends: [`split_parts`] borrows instead).
pub fn split_files(inputs: &[Input]) -> Vec<Input> {
    split_parts(inputs)
        .iter()
        .map(|p| Input::new(p.name, p.normalized()))
        .collect()
}

/// Analyses pasted configuration and returns the report.
pub fn analyze(inputs: &[Input], opts: &ConfigOptions) -> Result<Report, ConfigError> {
    let parts = split_parts(inputs);
    if parts.is_empty() {
        return Err(ConfigError::Empty);
    }
    // Detection needs the Postfix parse, and so does the analysis: parse
    // once and share it (the parse is most of the cost on large inputs).
    let mut parsed = None;
    let software = match opts.software {
        Some(s) => s,
        None => {
            let cfg = postfix::Config::parse_texts(parts.iter().map(|p| (p.name, p.text)));
            if !postfix::looks_like_postfix_config(&cfg) {
                return Err(ConfigError::Unrecognised);
            }
            parsed = Some(cfg);
            Software::Postfix
        }
    };
    match software {
        Software::Postfix => {
            let cfg = parsed.unwrap_or_else(|| {
                postfix::Config::parse_texts(parts.iter().map(|p| (p.name, p.text)))
            });
            Ok(postfix::report(&parts, &cfg, opts).0)
        }
        other => Err(ConfigError::Unsupported(other.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_file_headers() {
        let parts = split_files(&[Input::new(
            "pasted",
            "# file: main.cf\na = b\n#file:master.cf\nsmtp inet n - y - - smtpd\n",
        )]);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "main.cf");
        assert_eq!(parts[1].name, "master.cf");
        assert!(parts[1].text.starts_with("smtp inet"));
    }

    #[test]
    fn parts_are_borrowed_slices_with_their_lines() {
        let inputs = [
            Input::new(
                "pasted",
                "\n# file: empty\n  \r\n# file: main.cf\r\na = 1\r\n\r\n  b\r\n#file:master.cf\nx inet n - y - - smtpd\n# file: end",
            ),
            Input::new("two", "c = 3"),
        ];
        let parts = split_parts(&inputs);
        let got: Vec<(&str, &str, usize, usize, usize)> = parts
            .iter()
            .map(|p| (p.name, p.text, p.input, p.start, p.lines))
            .collect();
        assert_eq!(
            got,
            [
                ("main.cf", "a = 1\r\n\r\n  b\r\n", 0, 4, 3),
                ("master.cf", "x inet n - y - - smtpd\n", 0, 8, 1),
                ("two", "c = 3", 1, 0, 1),
            ]
        );
        let files = split_files(&inputs);
        assert_eq!(files[0].text, "a = 1\n\n  b\n");
        assert_eq!(files[2].text, "c = 3\n");
    }

    #[test]
    fn empty_and_unrecognised_are_errors() {
        let o = ConfigOptions::default();
        assert_eq!(
            analyze(&[Input::new("x", "  \n")], &o),
            Err(ConfigError::Empty)
        );
        assert_eq!(
            analyze(
                &[Input::new("x", "hello world\nthis is not a config\n")],
                &o
            ),
            Err(ConfigError::Unrecognised)
        );
        let exim = ConfigOptions {
            software: Some(Software::Exim),
            ..Default::default()
        };
        assert!(matches!(
            analyze(&[Input::new("x", "a = b")], &exim),
            Err(ConfigError::Unsupported("exim"))
        ));
    }
}
