//! Analysis of pasted configuration files, entirely offline.
//!
//! Input is one or more named texts. A text may hold several files, each
//! introduced by a `# file: NAME` header line. Parsers never fail: they build
//! a model and keep going past lines they do not understand.

pub mod detect;
pub mod exchange;
pub mod exim;
pub mod fail2ban;
pub mod postfix;
pub mod sendmail;

pub use detect::{Confidence, Detected};
pub use postfix::{fix, FixPlan, Fixed, FixedFile, Manual};

use crate::report::{Assumption, Finding, Report};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
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

    /// Every software, in report order.
    pub const ALL: [Software; 6] = [
        Software::Postfix,
        Software::Exim,
        Software::Sendmail,
        Software::Exchange,
        Software::Fail2ban,
        Software::Logs,
    ];

    /// The name people write (`Postfix`, `Microsoft Exchange`).
    pub fn title(self) -> &'static str {
        match self {
            Software::Postfix => "Postfix",
            Software::Exim => "Exim",
            Software::Sendmail => "Sendmail",
            Software::Exchange => "Microsoft Exchange",
            Software::Fail2ban => "fail2ban",
            Software::Logs => "mail logs",
        }
    }

    /// What can be pasted for it.
    pub fn formats(self) -> &'static str {
        match self {
            Software::Postfix => {
                "Postfix main.cf, master.cf, `postconf -n` and `postconf -M` output"
            }
            Software::Exim => "Exim exim.conf / exim4.conf or Debian's split conf.d files",
            Software::Sendmail => "Sendmail sendmail.mc or sendmail.cf",
            Software::Exchange => {
                "Exchange `Format-List` output of Get-ReceiveConnector, Get-SendConnector, \
                 Get-TransportConfig, Get-ExchangeCertificate, Get-ExchangeServer, Get-ADPermission"
            }
            Software::Fail2ban => "fail2ban jail.conf, jail.local and jail.d/*.conf",
            Software::Logs => {
                "mail logs from Postfix, Exim (mainlog), Sendmail, or Exchange protocol and \
                 message-tracking logs"
            }
        }
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
    /// Every software recognised in the paste, filled in by [`analyze`]
    /// before it calls the analysers (hosts leave it empty): a part can be
    /// judged by what else was pasted with it (the fail2ban jail for the
    /// Postfix, Exim or Sendmail pasted beside it).
    pub detected: Vec<Software>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("nothing to analyse: the input is empty")]
    Empty,
    #[error(
        "the input was not recognised as a supported configuration. Supported: {} \
         (use --software to force one)",
        supported_formats()
    )]
    Unrecognised,
    #[error(
        "analysis of {0} configurations is not available in this version; supported: {names}",
        names = supported_names()
    )]
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

/// The lines of a text as [`str::lines`] gives them, found with `memchr`
/// (the standard library's line search is a byte-at-a-time loop on short
/// lines, a visible share of every analyser's time on 10,000 lines).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    lines_inclusive(text).map(line_text)
}

/// `str::trim_start`, with the blanks and tabs of aligned columns skipped
/// byte by byte first (the same result: they are whitespace too, and what
/// is left is trimmed as `str` does). `str::trim_start` decodes every
/// character and tests it for Unicode whitespace, about ten instructions a
/// character; PowerShell's `Format-List` continuation lines start with 40
/// blanks, and detection and the Exchange parser trim every line.
pub(crate) fn trim_start_fast(s: &str) -> &str {
    let n = s
        .bytes()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(s.len());
    // `n` is just after ASCII bytes: a character boundary.
    let rest = s.get(n..).unwrap_or(s);
    // What follows the blanks is most often text: nothing left to trim.
    match rest.as_bytes().first() {
        Some(&b) if ascii_text(b) => rest,
        _ => rest.trim_start(),
    }
}

/// An ASCII byte that is not white space (as `char::is_whitespace` says).
pub(crate) fn ascii_text(b: u8) -> bool {
    b.is_ascii() && !matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// `str::trim_end` with trailing blanks and tabs skipped byte by byte
/// first ([`trim_start_fast`]): `Name                    :` padding.
pub(crate) fn trim_end_fast(s: &str) -> &str {
    let n = s
        .bytes()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(0, |i| i + 1);
    // Just after an ASCII byte (or 0): a character boundary.
    let rest = s.get(..n).unwrap_or(s);
    match rest.as_bytes().last() {
        Some(&b) if ascii_text(b) => rest,
        _ => rest.trim_end(),
    }
}

/// `str::trim`, as [`trim_start_fast`] and [`trim_end_fast`].
pub(crate) fn trim_fast(s: &str) -> &str {
    trim_end_fast(trim_start_fast(s))
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

/// The analyser of one software: findings and assumptions for the parts
/// recognised as it.
type Analyse = fn(&[Input], &ConfigOptions) -> (Vec<Finding>, Vec<Assumption>);

/// The analyser for a software, when this version has one.
fn analyser(s: Software) -> Option<Analyse> {
    match s {
        Software::Postfix => Some(postfix::analyse),
        Software::Exim => Some(exim::analyse),
        Software::Sendmail => Some(sendmail::analyse),
        Software::Exchange => Some(exchange::analyse),
        Software::Fail2ban => Some(fail2ban::analyse),
        Software::Logs => Some(crate::logs::analyse),
    }
}

/// The softwares this version analyses.
pub fn supported() -> impl Iterator<Item = Software> {
    Software::ALL.into_iter().filter(|s| analyser(*s).is_some())
}

fn supported_formats() -> String {
    supported()
        .map(Software::formats)
        .collect::<Vec<_>>()
        .join("; ")
}

fn supported_names() -> String {
    supported()
        .map(Software::name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the input was recognised as, part by part (the same detection
/// [`analyze`] uses), for hosts that show it before or beside the report.
pub fn recognise(inputs: &[Input], forced: Option<Software>) -> Vec<Detected> {
    let parts = split_files(inputs);
    detect::detect(&parts, forced)
        .0
        .into_iter()
        .map(|s| s.detected)
        .collect()
}

/// Analyses pasted configuration and returns the report.
///
/// The input is split at `# file:` headers and where the content changes
/// software ([`detect`]); each part goes to its software's analyser and
/// the findings make one report. The `input` assumption says what each part
/// was recognised as; parts nobody recognised are named in `not analysed`.
pub fn analyze(inputs: &[Input], opts: &ConfigOptions) -> Result<Report, ConfigError> {
    let parts = split_files(inputs);
    if parts.is_empty() {
        return Err(ConfigError::Empty);
    }
    let (mut segments, unknown) = detect::detect_owned(parts, opts.software);
    report(&mut segments, &unknown, opts, None)
}

/// The report on the detected parts of an input ([`analyze`]).
///
/// `postfix` is the Postfix analysis when the caller has already made it
/// over exactly the Postfix segments ([`fix()`] runs the rules once, for the
/// report and for the remedies). The segments' texts are moved to the
/// analysers (left empty): copying them was a visible share of a 5,000-line
/// analysis.
pub(crate) fn report(
    segments: &mut [detect::Segment],
    unknown: &[detect::Unrecognised],
    opts: &ConfigOptions,
    mut postfix: Option<(Vec<Finding>, Vec<Assumption>)>,
) -> Result<Report, ConfigError> {
    if segments.is_empty() {
        return Err(ConfigError::Unrecognised);
    }
    let mut findings = Vec::new();
    let mut assumptions = vec![Assumption::new(
        "input",
        segments
            .iter()
            .map(|s| s.detected.describe())
            .collect::<Vec<_>>()
            .join("; "),
    )];
    let mut skipped = Vec::new();
    let mut analysed = 0;
    let mut opts = opts.clone();
    opts.detected = Software::ALL
        .into_iter()
        .filter(|sw| segments.iter().any(|s| s.detected.software == *sw))
        .collect();
    let opts = &opts;
    for software in Software::ALL {
        if software == Software::Postfix {
            if let Some((f, a)) = postfix.take() {
                analysed += 1;
                findings.extend(f);
                assumptions.extend(a);
                continue;
            }
        }
        let texts: Vec<Input> = segments
            .iter_mut()
            .filter(|s| s.detected.software == software)
            .map(|s| std::mem::replace(&mut s.input, Input::new(String::new(), String::new())))
            .collect();
        if texts.is_empty() {
            continue;
        }
        let Some(analyse) = analyser(software) else {
            skipped.push(software);
            continue;
        };
        analysed += 1;
        let (f, a) = analyse(&texts, opts);
        findings.extend(f);
        assumptions.extend(a);
    }
    if analysed == 0 {
        // Only softwares this version cannot analyse.
        return Err(ConfigError::Unsupported(
            skipped.first().copied().unwrap_or(Software::Postfix).name(),
        ));
    }
    let mut not_analysed: Vec<String> = unknown
        .iter()
        .map(|u| format!("{} ({} lines): not recognised", u.name, u.lines))
        .collect();
    not_analysed.extend(skipped.iter().map(|s| {
        format!(
            "the {} part: analysis of {} is not available in this version",
            s.title(),
            s.name()
        )
    }));
    if !not_analysed.is_empty() {
        assumptions.push(Assumption::new("not analysed", not_analysed.join("; ")));
    }
    let mut names: Vec<&str> = Vec::new();
    for s in segments {
        if !names.contains(&s.detected.name.as_str()) {
            names.push(&s.detected.name);
        }
    }
    Ok(Report::new(
        names.join(", "),
        opts.now.clone(),
        assumptions,
        findings,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Evidence;

    #[test]
    fn fast_trims_are_std_trims() {
        for s in [
            "",
            " ",
            "\t \t",
            "  a  ",
            "Name                    : value   ",
            "\u{3000} x \u{3000}",
            " \u{a0}\t y\u{2003} \t",
            "\u{b}\u{c} z \r\n",
            "é  ",
            "  ü",
        ] {
            assert_eq!(trim_fast(s), s.trim(), "{s:?}");
            assert_eq!(trim_start_fast(s), s.trim_start(), "{s:?}");
            assert_eq!(trim_end_fast(s), s.trim_end(), "{s:?}");
        }
    }

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
    fn mixed_paste_is_split_and_each_part_named() {
        let text = "myhostname = mx.example.org\nmynetworks = 127.0.0.0/8\n\
                    disable_vrfy_command = no\n\n# jail.local\n[DEFAULT]\nbantime = 1h\n\
                    [sshd]\nenabled = true\n";
        let o = ConfigOptions::default();
        let r = analyze(&[Input::new("pasted", text)], &o).expect("report");
        let input = &r.assumptions[0];
        assert_eq!(input.key, "input");
        assert!(input.value.contains("Postfix main.cf"), "{}", input.value);
        assert!(input.value.contains("fail2ban"), "{}", input.value);
        // Postfix findings keep the paste's line numbers.
        let vrfy = r
            .findings
            .iter()
            .find(|f| f.id == "postfix.vrfy_enabled")
            .expect("vrfy");
        assert!(
            matches!(&vrfy.evidence[0], Evidence::Config { line: Some(3), .. }),
            "{:?}",
            vrfy.evidence
        );
        // The fix leaves a mixed paste alone and lists the findings.
        let plan = fix(&[Input::new("pasted", text)], &o).expect("plan");
        assert!(plan.fixed.is_empty());
        assert!(plan.manual.iter().any(|m| m.id == "postfix.vrfy_enabled"));
        assert_eq!(plan.files[0].fixed, text);
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
        // A software this version cannot analyse yet, forced, is a clear error.
        if let Some(missing) = Software::ALL.into_iter().find(|s| analyser(*s).is_none()) {
            let forced = ConfigOptions {
                software: Some(missing),
                ..Default::default()
            };
            assert_eq!(
                analyze(&[Input::new("x", "a = b")], &forced),
                Err(ConfigError::Unsupported(missing.name()))
            );
        }
    }
}
