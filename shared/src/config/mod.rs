//! Analysis of pasted configuration files, entirely offline.
//!
//! Input is one or more named texts. A text may hold several files, each
//! introduced by a `# file: NAME` header line. Parsers never fail: they build
//! a model and keep going past lines they do not understand.

pub mod detect;
pub mod exchange;
pub mod exim;
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

/// Splits texts at `# file: NAME` headers into named parts.
pub fn split_files(inputs: &[Input]) -> Vec<Input> {
    let mut out = Vec::new();
    for input in inputs {
        let mut current = Input::new(input.name.clone(), String::new());
        for line in input.text.lines() {
            let header = line
                .trim()
                .strip_prefix('#')
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix("file:"))
                .map(str::trim)
                .filter(|n| !n.is_empty());
            if let Some(name) = header {
                if !current.text.trim().is_empty() {
                    out.push(std::mem::replace(
                        &mut current,
                        Input::new(name, String::new()),
                    ));
                } else {
                    current.name = name.to_string();
                    current.text.clear();
                }
                continue;
            }
            current.text.push_str(line);
            current.text.push('\n');
        }
        if !current.text.trim().is_empty() {
            out.push(current);
        }
    }
    out
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
        _ => None,
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
    let (segments, unknown) = detect::detect(&parts, opts.software);
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
    for software in Software::ALL {
        let texts: Vec<Input> = segments
            .iter()
            .filter(|s| s.detected.software == software)
            .map(|s| s.input.clone())
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
    for s in &segments {
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
