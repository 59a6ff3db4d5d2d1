//! The report contract (`mailaudit/report/v1`): what every host prints,
//! serves and renders. This is the one serialised boundary of the project;
//! field names never change meaning.

use serde::{Deserialize, Serialize};

/// Schema identifier carried by every report.
pub const SCHEMA: &str = "mailaudit/report/v1";

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The rule's condition holds.
    Fail,
    /// It may hold, or only a partial mitigation is in place.
    Warn,
    /// The check could not be decided; `detail` says why.
    Unknown,
    /// Context only.
    Info,
    /// The check ran and the condition does not hold.
    Pass,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Fail,
        Status::Warn,
        Status::Unknown,
        Status::Info,
        Status::Pass,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Unknown => "unknown",
            Status::Info => "info",
            Status::Pass => "pass",
        }
    }
}

/// Severity of the problem a rule detects (meaningful for fail/warn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// What was seen. Every finding carries at least one piece of evidence,
/// except a pass that by nature has nothing to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Evidence {
    /// A line of a pasted configuration file (1-based line number), or a
    /// default the software applies when the parameter is not set
    /// (`line` is then absent and `text` says so).
    Config {
        file: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
        text: String,
    },
    /// A DNS answer as the resolver gave it.
    Dns {
        query: String,
        rtype: String,
        rcode: String,
        #[serde(default)]
        answers: Vec<String>,
    },
    /// Any other observation (transcript excerpt, certificate field, note).
    Note { text: String },
}

/// One result of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub status: Status,
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub remediation: String,
    #[serde(default)]
    pub refs: Vec<String>,
}

/// Something the analysis took as given (assumed software version,
/// resolver used, how the input was recognised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assumption {
    pub key: String,
    pub value: String,
}

impl Assumption {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Assumption {
            key: key.into(),
            value: value.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "mailaudit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Counts of findings by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub fail: usize,
    pub warn: usize,
    pub unknown: usize,
    pub info: usize,
    pub pass: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            *s.slot(f.status) += 1;
        }
        s
    }

    fn slot(&mut self, status: Status) -> &mut usize {
        match status {
            Status::Fail => &mut self.fail,
            Status::Warn => &mut self.warn,
            Status::Unknown => &mut self.unknown,
            Status::Info => &mut self.info,
            Status::Pass => &mut self.pass,
        }
    }

    pub fn count(&self, status: Status) -> usize {
        match status {
            Status::Fail => self.fail,
            Status::Warn => self.warn,
            Status::Unknown => self.unknown,
            Status::Info => self.info,
            Status::Pass => self.pass,
        }
    }
}

/// A complete report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    /// The audited domain, or a description of the pasted input.
    pub target: String,
    /// RFC 3339 time given by the host (the engine never reads a clock).
    pub generated_at: String,
    pub tool: Tool,
    #[serde(default)]
    pub assumptions: Vec<Assumption>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

impl Report {
    /// Builds a report; findings are ordered worst first (status, then
    /// severity, then id) so every host shows them the same way.
    pub fn new(
        target: impl Into<String>,
        generated_at: impl Into<String>,
        assumptions: Vec<Assumption>,
        mut findings: Vec<Finding>,
    ) -> Report {
        findings.sort_by(|a, b| {
            a.status
                .cmp(&b.status)
                .then(b.severity.cmp(&a.severity))
                .then(a.id.cmp(&b.id))
        });
        Report {
            schema: SCHEMA.into(),
            target: target.into(),
            generated_at: generated_at.into(),
            tool: Tool::default(),
            assumptions,
            summary: Summary::of(&findings),
            findings,
        }
    }

    /// True when a finding with status fail or warn has at least `threshold`
    /// severity: the CLI's `--fail-on`.
    pub fn has_problem_at_or_above(&self, threshold: Severity) -> bool {
        self.findings
            .iter()
            .any(|f| matches!(f.status, Status::Fail | Status::Warn) && f.severity >= threshold)
    }
}

impl Finding {
    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }

    pub fn with_evidences(mut self, evidence: impl IntoIterator<Item = Evidence>) -> Self {
        self.evidence.extend(evidence);
        self
    }

    pub fn with_remediation(mut self, remediation: impl Into<String>) -> Self {
        self.remediation = remediation.into();
        self
    }

    /// For rules whose severity depends on what was found
    /// (e.g. `spf.all_permissive`: `+all` critical, `?all` high).
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, status: Status, severity: Severity) -> Finding {
        Finding {
            id: id.into(),
            status,
            severity,
            title: String::new(),
            detail: String::new(),
            evidence: vec![],
            remediation: String::new(),
            refs: vec![],
        }
    }

    #[test]
    fn orders_worst_first_and_counts() {
        let r = Report::new(
            "t",
            "2026-01-01T00:00:00Z",
            vec![],
            vec![
                f("b", Status::Pass, Severity::High),
                f("a", Status::Fail, Severity::Low),
                f("c", Status::Fail, Severity::Critical),
                f("d", Status::Unknown, Severity::High),
            ],
        );
        let ids: Vec<_> = r.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "d", "b"]);
        assert_eq!(r.summary.fail, 2);
        assert_eq!(r.summary.pass, 1);
        assert_eq!(r.summary.unknown, 1);
        assert!(r.has_problem_at_or_above(Severity::Critical));
        let only_low = Report::new("t", "x", vec![], vec![f("a", Status::Fail, Severity::Low)]);
        assert!(!only_low.has_problem_at_or_above(Severity::High));
        assert!(only_low.has_problem_at_or_above(Severity::Low));
    }

    #[test]
    fn json_shape_is_the_contract() {
        let mut finding = f("spf.missing", Status::Fail, Severity::High);
        finding.evidence.push(Evidence::Config {
            file: "main.cf".into(),
            line: Some(3),
            text: "x = y".into(),
        });
        let r = Report::new("example.org", "2026-01-01T00:00:00Z", vec![], vec![finding]);
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(v["schema"], "mailaudit/report/v1");
        assert_eq!(v["tool"]["name"], "mailaudit");
        assert_eq!(v["summary"]["fail"], 1);
        assert_eq!(v["findings"][0]["status"], "fail");
        assert_eq!(v["findings"][0]["severity"], "high");
        assert_eq!(v["findings"][0]["evidence"][0]["kind"], "config");
        assert_eq!(v["findings"][0]["evidence"][0]["line"], 3);
        let back: Report = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }
}
