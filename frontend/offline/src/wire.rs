//! What the offline module (`mailaudit-offline`) hands the page, as JSON.
//!
//! The page's module (`mailaudit-frontend`) includes this file with
//! `#[path]` rather than depending on the crate: a dependency would link the
//! crate's `#[wasm_bindgen]` exports, and with them every analyser, into the
//! first module, which is what the split exists to avoid.

use mailaudit_core::config::Software;
use mailaudit_core::logs::LogStats;
use mailaudit_core::report::{Report, Status};
use serde::{Deserialize, Serialize};

/// A mail-log analysis: the report and what the charts and tables show.
#[derive(Serialize, Deserialize, PartialEq)]
pub struct LogOutcome {
    pub report: Report,
    pub stats: LogStats,
}

/// A fixed file, named as it will be saved.
#[derive(Serialize, Deserialize, PartialEq, Clone)]
pub struct Download {
    pub name: String,
    pub text: String,
}

/// A fail or warn finding with no automatic fix.
#[derive(Serialize, Deserialize, PartialEq, Clone)]
pub struct Manual {
    pub id: String,
    pub status: Status,
}

/// A pasted text's analysis and its fix, as the paste tab shows it.
#[derive(Serialize, Deserialize, PartialEq)]
pub struct PasteOutcome {
    pub report: Report,
    /// How many findings the fixed files resolve.
    pub fixed: usize,
    /// The changed files, named for download.
    pub files: Vec<Download>,
    /// Their unified diff.
    pub diff: String,
    pub manual: Vec<Manual>,
}

/// The formats the paste tab accepts, for its hint and error message.
pub fn formats_list() -> String {
    Software::ALL
        .iter()
        .map(|s| s.formats())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The softwares with a weak and a hardened sample one click away on the
/// paste tab (the texts are in the offline module, `sample`).
pub const SAMPLES: [Software; 5] = [
    Software::Postfix,
    Software::Exim,
    Software::Sendmail,
    Software::Exchange,
    Software::Fail2ban,
];
