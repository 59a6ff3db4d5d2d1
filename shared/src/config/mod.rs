//! Analysis of pasted configuration files, entirely offline.
//!
//! Input is one or more named texts. A text may hold several files, each
//! introduced by a `# file: NAME` header line. Parsers never fail: they build
//! a model and keep going past lines they do not understand.

pub mod postfix;

pub use postfix::{fix, FixPlan, Fixed, FixedFile, Manual};

use crate::report::{Assumption, Report};
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

/// Analyses pasted configuration and returns the report.
pub fn analyze(inputs: &[Input], opts: &ConfigOptions) -> Result<Report, ConfigError> {
    let parts = split_files(inputs);
    if parts.is_empty() {
        return Err(ConfigError::Empty);
    }
    // Detection needs the Postfix parse, and so does the analysis: parse
    // once and share it (the parse is most of the cost on large inputs).
    let mut parsed = None;
    let software = match opts.software {
        Some(s) => s,
        None => {
            let cfg = postfix::Config::parse(&parts);
            if !postfix::looks_like_postfix_config(&cfg) {
                return Err(ConfigError::Unrecognised);
            }
            parsed = Some(cfg);
            Software::Postfix
        }
    };
    match software {
        Software::Postfix => {
            let cfg = parsed.unwrap_or_else(|| postfix::Config::parse(&parts));
            let (findings, mut assumptions) = postfix::check(&cfg, opts.assume_version.as_deref());
            assumptions.insert(
                0,
                Assumption::new(
                    "input",
                    parts
                        .iter()
                        .map(|p| format!("{} (postfix)", p.name))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            );
            let target = parts
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            Ok(Report::new(target, opts.now.clone(), assumptions, findings))
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
