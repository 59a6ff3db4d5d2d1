//! Text renderings of reports and of the rule catalog: plain text for
//! terminals, Markdown for tickets and `docs/rules.md`, SARIF 2.1.0 for code
//! scanning. JSON is the report itself (serde).

use crate::report::{Evidence, Report, Status};
use crate::rules::{all, Area};
use std::fmt::Write;

fn evidence_line(e: &Evidence) -> String {
    match e {
        Evidence::Config {
            file,
            line: Some(n),
            text,
        } => format!("{file}:{n}: {text}"),
        Evidence::Config {
            file,
            line: None,
            text,
        } => format!("{file}: {text}"),
        Evidence::Dns {
            query,
            rtype,
            rcode,
            answers,
        } => {
            if answers.is_empty() {
                format!("{query} {rtype}: {rcode}, no records")
            } else {
                format!("{query} {rtype}: {rcode}: {}", answers.join(" | "))
            }
        }
        Evidence::Note { text } => text.clone(),
    }
}

/// Strips control characters from remote or pasted strings before they
/// reach a terminal (no escape sequences from DNS answers).
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

pub fn text(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "mailaudit report for {}", safe(&r.target));
    let _ = writeln!(
        out,
        "generated {} by {} {}",
        r.generated_at, r.tool.name, r.tool.version
    );
    for a in &r.assumptions {
        let _ = writeln!(out, "assumed {}: {}", a.key, safe(&a.value));
    }
    let _ = writeln!(
        out,
        "{} fail, {} warn, {} unknown, {} info, {} pass\n",
        r.summary.fail, r.summary.warn, r.summary.unknown, r.summary.info, r.summary.pass
    );
    for f in &r.findings {
        let sev = match f.status {
            Status::Fail | Status::Warn => format!(" [{}]", f.severity.as_str()),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<7} {}{}  {}",
            f.status.as_str().to_uppercase(),
            f.id,
            sev,
            f.title
        );
        let _ = writeln!(out, "        {}", safe(&f.detail));
        for e in &f.evidence {
            let _ = writeln!(out, "        > {}", safe(&evidence_line(e)));
        }
        if matches!(f.status, Status::Fail | Status::Warn) && !f.remediation.is_empty() {
            let _ = writeln!(out, "        fix:");
            for l in f.remediation.lines() {
                let _ = writeln!(out, "          {}", safe(l));
            }
        }
        let _ = writeln!(out);
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# mailaudit report: {}\n", md_escape(&r.target));
    let _ = writeln!(
        out,
        "Generated {} by {} {}. **{} fail, {} warn, {} unknown, {} info, {} pass.**\n",
        r.generated_at,
        r.tool.name,
        r.tool.version,
        r.summary.fail,
        r.summary.warn,
        r.summary.unknown,
        r.summary.info,
        r.summary.pass
    );
    if !r.assumptions.is_empty() {
        let _ = writeln!(out, "Assumptions:\n");
        for a in &r.assumptions {
            let _ = writeln!(out, "- {}: {}", a.key, md_escape(&a.value));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "| status | severity | id | title |\n|---|---|---|---|");
    for f in &r.findings {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} |",
            f.status.as_str(),
            f.severity.as_str(),
            f.id,
            md_escape(&f.title)
        );
    }
    for f in &r.findings {
        let _ = writeln!(
            out,
            "\n## {} `{}`: {}\n",
            f.status.as_str().to_uppercase(),
            f.id,
            f.title
        );
        let _ = writeln!(out, "{}\n", f.detail);
        if !f.evidence.is_empty() {
            let _ = writeln!(out, "Evidence:\n\n```");
            for e in &f.evidence {
                let _ = writeln!(out, "{}", evidence_line(e).replace("```", "'''"));
            }
            let _ = writeln!(out, "```\n");
        }
        if matches!(f.status, Status::Fail | Status::Warn) && !f.remediation.is_empty() {
            let _ = writeln!(
                out,
                "Fix:\n\n```\n{}\n```\n",
                f.remediation.replace("```", "'''")
            );
        }
        if !f.refs.is_empty() {
            let _ = writeln!(out, "References: {}", f.refs.join("; "));
        }
    }
    out
}

/// SARIF 2.1.0: one result per fail/warn finding, with file/line locations
/// for configuration evidence.
pub fn sarif(r: &Report) -> serde_json::Value {
    use serde_json::json;
    let rules: Vec<_> = all()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule.id,
                "shortDescription": {"text": rule.title},
                "fullDescription": {"text": rule.description},
                "properties": {"severity": rule.severity.as_str()}
            })
        })
        .collect();
    let results: Vec<_> = r
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .map(|f| {
            let level = match (f.status, f.severity) {
                (Status::Warn, _) => "warning",
                (_, s) if s >= crate::report::Severity::High => "error",
                (_, crate::report::Severity::Medium) => "warning",
                _ => "note",
            };
            let locations: Vec<_> = f
                .evidence
                .iter()
                .filter_map(|e| match e {
                    Evidence::Config {
                        file,
                        line: Some(n),
                        ..
                    } => Some(json!({"physicalLocation": {
                        "artifactLocation": {"uri": file},
                        "region": {"startLine": n}
                    }})),
                    _ => None,
                })
                .collect();
            json!({
                "ruleId": f.id,
                "level": level,
                "message": {"text": format!("{} {}", f.detail, f.remediation).trim().to_string()},
                "locations": locations,
                "properties": {"status": f.status.as_str(), "severity": f.severity.as_str()}
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": r.tool.name,
                "version": r.tool.version,
                "informationUri": "https://example.invalid/mailaudit",
                "rules": rules
            }},
            "results": results
        }]
    })
}

/// The rule catalog as Markdown (the content of `docs/rules.md`).
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "# mailaudit rules\n\n\
         Generated by `mailaudit rules --format markdown`; do not edit by hand \
         (a test compares this file with the code).\n\n\
         Each finding has a status (`pass`, `fail`, `warn`, `info`, `unknown`) and, \
         for fail/warn, a severity. A check that cannot be decided is `unknown`, never `pass`.\n",
    );
    let mut areas: Vec<Area> = all().map(|r| r.area).collect();
    areas.sort();
    areas.dedup();
    for area in areas {
        let _ = writeln!(
            out,
            "\n## {}\n\n| id | severity | fails when | references |\n|---|---|---|---|",
            area.title()
        );
        for r in all().filter(|r| r.area == area) {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                r.id,
                r.severity.as_str(),
                md_escape(r.description),
                md_escape(&r.refs.join("; "))
            );
        }
    }
    out
}

pub fn rules_json() -> serde_json::Value {
    serde_json::json!({ "schema": "mailaudit/rules/v1", "rules": all().collect::<Vec<_>>() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{analyze, ConfigOptions, Input};

    fn weak() -> Report {
        analyze(
            &[Input::new(
                "main.cf",
                "mynetworks = 0.0.0.0/0\ndisable_vrfy_command = no\n",
            )],
            &ConfigOptions {
                now: "2026-11-29T00:00:00Z".into(),
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn docs_rules_md_is_generated_from_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/rules.md");
        let want = rules_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "docs/rules.md is stale: run `UPDATE_DOCS=1 cargo test -p mailaudit-core docs_rules`"
        );
    }

    #[test]
    fn sarif_has_locations() {
        let s = sarif(&weak());
        let results = s["runs"][0]["results"].as_array().unwrap();
        let relay = results
            .iter()
            .find(|r| r["ruleId"] == "postfix.open_relay")
            .unwrap();
        assert_eq!(relay["level"], "error");
        assert_eq!(
            relay["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
    }

    #[test]
    fn text_and_markdown_show_evidence_and_fix() {
        let r = weak();
        let t = text(&r);
        assert!(t.contains("FAIL    postfix.open_relay [critical]"));
        assert!(t.contains("main.cf:1: mynetworks = 0.0.0.0/0"));
        assert!(t.contains("reject_unauth_destination"));
        let m = markdown(&r);
        assert!(m.contains("| fail | critical | `postfix.open_relay` |"));
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let mut r = weak();
        r.findings[0].detail = "evil \u{1b}[2J text".into();
        assert!(!text(&r).contains('\u{1b}'));
    }
}
