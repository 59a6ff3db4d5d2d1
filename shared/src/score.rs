//! The score (0–100) and grade (A+ to F) of a report, and the "what to fix
//! first" list: computed from the findings alone, the same way by every
//! host (the website, the widget). `docs/scoring.md` states the formula for
//! people; the tests below pin it, so a change to it is a visible change.
//!
//! In short:
//! - each decided finding (pass, warn, fail) weighs by its severity
//!   (critical 16, high 8, medium 4, low 2, info 1); a pass earns its whole
//!   weight, a warn half, a fail nothing; the score is the share earned,
//!   rounded half up;
//! - `info` findings are context and `unknown` ones were not decided: neither
//!   earns anything nor counts in the share (an unknown never counts as a
//!   pass), but an unknown of medium severity or more rules out A+;
//! - caps: a critical fail holds the score to 59 (F), a high fail or a
//!   critical warn to 79 (C), any other fail or warn of medium severity or
//!   more to 89 (B);
//! - grades: A+ is 95 or more with no fail and no undecided medium-or-worse
//!   check; A 90, B 80, C 70, D 60, F below;
//! - a report with no decided finding has no score and no grade.

use crate::report::{Finding, Report, Severity, Status};
use serde::Serialize;
use std::fmt;

/// A letter grade, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Grade {
    #[serde(rename = "A+")]
    APlus,
    A,
    B,
    C,
    D,
    F,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::APlus => "A+",
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::F => "F",
        }
    }

    /// The lowest score of each grade below A+ (A+ also needs the
    /// conditions of [`score_findings`]).
    fn of_score(score: u8) -> Grade {
        match score {
            90..=u8::MAX => Grade::A,
            80..=89 => Grade::B,
            70..=79 => Grade::C,
            60..=69 => Grade::D,
            _ => Grade::F,
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A limit put on the score by one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cap {
    /// The highest score allowed.
    pub limit: u8,
    /// The finding that set it.
    pub id: String,
    pub status: Status,
    pub severity: Severity,
}

/// The score of a report (or of one area of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    /// 0–100; None when no finding was decided.
    pub score: Option<u8>,
    pub grade: Option<Grade>,
    /// The share earned before the caps.
    pub uncapped: Option<u8>,
    /// The lowest cap of the findings (the first such finding in report
    /// order), whether or not the share earned was already below it.
    pub cap: Option<Cap>,
    /// Findings that counted (pass, warn, fail).
    pub decided: usize,
    /// Findings that could not be decided.
    pub unknown: usize,
    /// Why the grade is not A+ although the score is 95 or more.
    pub no_a_plus: Option<String>,
}

/// Weight of a decided finding.
pub fn weight(s: Severity) -> u32 {
    match s {
        Severity::Critical => 16,
        Severity::High => 8,
        Severity::Medium => 4,
        Severity::Low => 2,
        Severity::Info => 1,
    }
}

/// The highest score a fail or warn of this severity allows.
pub fn cap_of(status: Status, severity: Severity) -> Option<u8> {
    match (status, severity) {
        (Status::Fail, Severity::Critical) => Some(59),
        (Status::Fail, Severity::High) | (Status::Warn, Severity::Critical) => Some(79),
        (Status::Fail | Status::Warn, Severity::High | Severity::Medium) => Some(89),
        _ => None,
    }
}

/// Lowest score of A+.
pub const A_PLUS: u8 = 95;

/// Scores any set of findings (a whole report, or one area).
pub fn score_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Score {
    let mut earned: u64 = 0; // in half-weights
    let mut total: u64 = 0; // in half-weights
    let mut decided = 0;
    let mut unknown = 0;
    let mut any_fail = false;
    let mut undecided_serious: Option<&Finding> = None;
    let mut cap: Option<Cap> = None;
    for f in findings {
        let w = u64::from(weight(f.severity));
        match f.status {
            Status::Pass => {
                earned += 2 * w;
                total += 2 * w;
            }
            Status::Warn => {
                earned += w;
                total += 2 * w;
            }
            Status::Fail => {
                total += 2 * w;
                any_fail = true;
            }
            Status::Unknown => {
                unknown += 1;
                if f.severity >= Severity::Medium && undecided_serious.is_none() {
                    undecided_serious = Some(f);
                }
                continue;
            }
            Status::Info => continue,
        }
        decided += 1;
        if let Some(limit) = cap_of(f.status, f.severity) {
            if cap.as_ref().is_none_or(|c| limit < c.limit) {
                cap = Some(Cap {
                    limit,
                    id: f.id.clone(),
                    status: f.status,
                    severity: f.severity,
                });
            }
        }
    }
    if total == 0 {
        return Score {
            score: None,
            grade: None,
            uncapped: None,
            cap: None,
            decided,
            unknown,
            no_a_plus: None,
        };
    }
    // 100 × earned / total, rounded half up (integers: the same everywhere).
    let uncapped = ((100 * earned * 2 + total) / (2 * total)).min(100) as u8;
    let score = cap.as_ref().map_or(uncapped, |c| c.limit.min(uncapped));
    let mut grade = Grade::of_score(score);
    let mut no_a_plus = None;
    if score >= A_PLUS {
        if any_fail {
            no_a_plus = Some("A+ needs every check to pass: one fails.".to_string());
        } else if let Some(u) = undecided_serious {
            no_a_plus = Some(format!(
                "A+ needs every check of medium severity or more decided: {} could not be.",
                u.id
            ));
        } else {
            grade = Grade::APlus;
        }
    }
    Score {
        score: Some(score),
        grade: Some(grade),
        uncapped: Some(uncapped),
        cap,
        decided,
        unknown,
        no_a_plus,
    }
}

/// The score of a whole report.
pub fn score(report: &Report) -> Score {
    score_findings(&report.findings)
}

/// The problems to fix first: fail and warn findings, the most severe
/// first, a fail before a warn of the same severity, then in report order;
/// at most `n`.
pub fn fix_first(report: &Report, n: usize) -> Vec<&Finding> {
    let mut v: Vec<(usize, &Finding)> = report
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.status, Status::Fail | Status::Warn))
        .collect();
    v.sort_by(|(ia, a), (ib, b)| {
        b.severity
            .cmp(&a.severity)
            .then(a.status.cmp(&b.status))
            .then(ia.cmp(ib))
    });
    v.into_iter().take(n).map(|(_, f)| f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, status: Status, severity: Severity) -> Finding {
        Finding {
            id: id.into(),
            status,
            severity,
            title: id.into(),
            detail: String::new(),
            evidence: vec![],
            remediation: String::new(),
            refs: vec![],
        }
    }

    fn s(findings: &[Finding]) -> (Option<u8>, Option<Grade>) {
        let r = score_findings(findings);
        (r.score, r.grade)
    }

    use Severity::{Critical, High, Low, Medium};
    use Status::{Fail, Pass, Unknown, Warn};

    #[test]
    fn all_pass_is_a_plus() {
        let r = [
            f("a", Pass, High),
            f("b", Pass, Low),
            f("c", Status::Info, Medium),
        ];
        assert_eq!(s(&r), (Some(100), Some(Grade::APlus)));
        let full = score_findings(&r);
        assert_eq!(full.decided, 2);
        assert_eq!(full.cap, None);
    }

    #[test]
    fn the_weights_are_pinned() {
        // high pass 16 of 16, medium fail 0 of 8 (half-weights): 16/24 → 67,
        // and the medium fail caps at 89 (no effect here).
        assert_eq!(
            s(&[f("a", Pass, High), f("b", Fail, Medium)]),
            (Some(67), Some(Grade::D))
        );
        // low fail: 8 pass weight of 10 → 80; no cap for low.
        assert_eq!(
            s(&[f("a", Pass, High), f("b", Fail, Low)]),
            (Some(80), Some(Grade::B))
        );
        // A warn earns half: critical pass 16 + low warn 1 of 18 → 94.4 → 94.
        assert_eq!(
            s(&[f("a", Pass, Critical), f("b", Warn, Low)]),
            (Some(94), Some(Grade::A))
        );
        // Rounding half up: info pass 1 + info fail 0 of 2 → 50.
        assert_eq!(
            s(&[f("a", Pass, Severity::Info), f("b", Fail, Severity::Info)]),
            (Some(50), Some(Grade::F))
        );
        assert_eq!(weight(Critical), 16);
        assert_eq!(weight(High), 8);
        assert_eq!(weight(Medium), 4);
        assert_eq!(weight(Low), 2);
        assert_eq!(weight(Severity::Info), 1);
    }

    #[test]
    fn a_critical_fail_caps_the_grade_at_f() {
        let mut r: Vec<Finding> = (0..40)
            .map(|i| f(&format!("p{i}"), Pass, Critical))
            .collect();
        r.push(f("relay", Fail, Critical));
        let got = score_findings(&r);
        assert_eq!(got.uncapped, Some(98));
        assert_eq!(got.score, Some(59));
        assert_eq!(got.grade, Some(Grade::F));
        assert_eq!(got.cap.as_ref().map(|c| c.id.as_str()), Some("relay"));
    }

    #[test]
    fn high_fail_caps_at_c_and_medium_at_b() {
        let mut r: Vec<Finding> = (0..40)
            .map(|i| f(&format!("p{i}"), Pass, Critical))
            .collect();
        r.push(f("dmarc", Fail, High));
        assert_eq!(s(&r), (Some(79), Some(Grade::C)));
        r.pop();
        r.push(f("crit-warn", Warn, Critical));
        assert_eq!(s(&r), (Some(79), Some(Grade::C)));
        r.pop();
        r.push(f("med", Fail, Medium));
        assert_eq!(s(&r), (Some(89), Some(Grade::B)));
        r.pop();
        r.push(f("high-warn", Warn, High));
        assert_eq!(s(&r), (Some(89), Some(Grade::B)));
        // The lowest cap wins, whatever the order.
        r.push(f("relay", Fail, Critical));
        r.push(f("dmarc", Fail, High));
        let got = score_findings(&r);
        assert_eq!(got.score, Some(59));
        assert_eq!(got.cap.unwrap().id, "relay");
    }

    #[test]
    fn a_low_fail_blocks_a_plus_but_not_a() {
        let mut r: Vec<Finding> = (0..20)
            .map(|i| f(&format!("p{i}"), Pass, Critical))
            .collect();
        r.push(f("low", Fail, Low));
        let got = score_findings(&r);
        assert_eq!(got.score, Some(99));
        assert_eq!(got.grade, Some(Grade::A));
        assert!(got.no_a_plus.unwrap().contains("fails"));
    }

    #[test]
    fn unknowns_never_count_as_passes() {
        // An unknown earns nothing and is not in the share...
        let decided = [f("a", Pass, High), f("b", Fail, Low)];
        let mut with_unknown = decided.to_vec();
        with_unknown.push(f("u", Unknown, Critical));
        assert_eq!(s(&decided).0, s(&with_unknown).0);
        // ...and it is not a pass: a would-be A+ with an undecided serious
        // check is an A.
        let all_pass = [f("a", Pass, High), f("b", Pass, Medium)];
        assert_eq!(s(&all_pass).1, Some(Grade::APlus));
        let mut undecided = all_pass.to_vec();
        undecided.push(f("smtp.open_relay", Unknown, Critical));
        let got = score_findings(&undecided);
        assert_eq!(got.grade, Some(Grade::A));
        assert_eq!(got.unknown, 1);
        assert!(got.no_a_plus.unwrap().contains("smtp.open_relay"));
        // A low-severity unknown does not block A+.
        let mut minor = all_pass.to_vec();
        minor.push(f("x", Unknown, Low));
        assert_eq!(s(&minor).1, Some(Grade::APlus));
    }

    #[test]
    fn nothing_decided_is_not_graded() {
        assert_eq!(s(&[]), (None, None));
        let r = [f("a", Unknown, High), f("b", Status::Info, Low)];
        let got = score_findings(&r);
        assert_eq!((got.score, got.grade), (None, None));
        assert_eq!(got.unknown, 1);
    }

    #[test]
    fn grade_boundaries() {
        for (score, grade) in [
            (100, Grade::A),
            (90, Grade::A),
            (89, Grade::B),
            (80, Grade::B),
            (79, Grade::C),
            (70, Grade::C),
            (69, Grade::D),
            (60, Grade::D),
            (59, Grade::F),
            (0, Grade::F),
        ] {
            assert_eq!(Grade::of_score(score), grade, "{score}");
        }
        assert_eq!(
            serde_json::to_value(Grade::APlus).unwrap(),
            serde_json::json!("A+")
        );
    }

    #[test]
    fn fix_first_orders_by_severity_then_status() {
        let r = Report::new(
            "t",
            "2026-01-01T00:00:00Z",
            vec![],
            vec![
                f("low-fail", Fail, Low),
                f("crit-warn", Warn, Critical),
                f("high-fail", Fail, High),
                f("high-warn", Warn, High),
                f("pass", Pass, Critical),
                f("unknown", Unknown, Critical),
                f("med-fail", Fail, Medium),
                f("info-warn", Warn, Severity::Info),
            ],
        );
        let ids: Vec<&str> = fix_first(&r, 5).iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "crit-warn",
                "high-fail",
                "high-warn",
                "med-fail",
                "low-fail"
            ]
        );
        assert_eq!(fix_first(&r, 100).len(), 6);
    }

    #[test]
    fn real_weak_config_is_f() {
        use crate::config::{analyze, ConfigOptions, Input};
        let r = analyze(
            &[Input::new(
                "main.cf",
                "mynetworks = 0.0.0.0/0\ndisable_vrfy_command = no\n",
            )],
            &ConfigOptions {
                now: "2026-11-29T00:00:00Z".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let got = score(&r);
        assert_eq!(got.grade, Some(Grade::F));
        // mynetworks = 0.0.0.0/0 is two critical failures (broad networks,
        // open relay): the first in report order sets the cap.
        let cap = got.cap.unwrap();
        assert_eq!(
            (cap.id.as_str(), cap.limit),
            ("postfix.mynetworks_broad", 59)
        );
        let first: Vec<&str> = fix_first(&r, 5).iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            first[..2],
            ["postfix.mynetworks_broad", "postfix.open_relay"]
        );
    }
}
