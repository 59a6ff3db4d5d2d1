//! `postfix.unknown_parameter`: names Postfix does not know, which it
//! ignores (it only logs "unused parameter").

use super::defaults::BARE_NEWLINE;
use super::expand::is_name_char;
use super::names::NAMES;
use super::{list, Ctx, Param};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use std::collections::HashSet;

pub static POSTFIX_UNKNOWN_PARAMETER: Rule = Rule {
    id: "postfix.unknown_parameter",
    area: Area::Config,
    title: "Unknown parameter (typo)",
    severity: Severity::Low,
    description: "A main.cf line or master.cf -o override sets a parameter name Postfix does not know — \
        a typo of a real one, or a parameter the judged release does not have — and that no other \
        setting refers to as $name. Postfix ignores the line, so the intended setting is not in force. \
        Names far from every known parameter are reported only for releases up to 3.7, whose parameter \
        list mailaudit has in full.",
    refs: &["https://www.postfix.org/postconf.5.html"],
};

/// Levenshtein distance, or None when above `max`.
fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max || a.len() > 100 || b.len() > 100 {
        return None;
    }
    // Bag distance, a cheap lower bound of the edit distance.
    let mut bag = [0i32; 128];
    for c in a.bytes() {
        bag[usize::from(c & 0x7f)] += 1;
    }
    for c in b.bytes() {
        bag[usize::from(c & 0x7f)] -= 1;
    }
    let (more, less) = bag
        .iter()
        .fold((0, 0), |(m, l), &d| (m + d.max(0), l + (-d).max(0)));
    if more.max(less) > max as i32 {
        return None;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        if cur.iter().min().copied().unwrap_or(0) > max {
            return None;
        }
        prev = cur;
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// Names referred to as `$name`, `${name…}` or `$(name…)` in a value.
fn references(value: &str, out: &mut HashSet<String>) {
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        let after = rest[i + 1..].trim_start_matches(['{', '(']);
        let end = after
            .find(|c: char| !is_name_char(c))
            .unwrap_or(after.len());
        if end > 0 {
            out.insert(after[..end].to_string());
        }
        rest = &rest[i + 1..];
    }
}

/// Stock services whose `<service>_<suffix>` parameters Postfix knows.
const STOCK_SERVICES: &[&str] = &[
    "smtp", "lmtp", "relay", "local", "virtual", "error", "retry", "discard", "pipe",
];

pub(crate) fn unknown_parameter(ctx: &Ctx) -> Finding {
    let cfg = ctx.cfg;
    let mut referenced = HashSet::new();
    let mut all: Vec<&Param> = Vec::new();
    let mut seen = HashSet::new();
    for p in cfg.params.iter().rev() {
        references(&p.value, &mut referenced);
        if seen.insert(p.name.as_str()) {
            all.push(p);
        }
    }
    all.reverse();
    for s in &cfg.services {
        for p in &s.overrides {
            references(&p.value, &mut referenced);
            all.push(p);
        }
    }
    let classes: HashSet<String> = list(&ctx.main.get("smtpd_restriction_classes").text)
        .into_iter()
        .collect();
    let services: HashSet<&str> = cfg
        .services
        .iter()
        .map(|s| s.name.as_str())
        .chain(STOCK_SERVICES.iter().copied())
        .collect();
    let suffixes: HashSet<&str> = NAMES
        .iter()
        .filter_map(|n| n.strip_prefix("default_"))
        .chain(["time_limit"])
        .collect();
    let bare_newline_ok = ctx.version.has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1);
    let complete_list = !ctx.version.series_at_least(3, 8);
    let mut problems: Vec<(String, Evidence)> = Vec::new();
    let mut checked = 0;
    for p in all {
        let name = p.name.as_str();
        if name.starts_with("smtpd_forbid_bare_newline") && !bare_newline_ok {
            problems.push((
                format!(
                    "{name} (Postfix {} does not have it yet; see postfix.smuggling)",
                    ctx.version
                ),
                p.source.evidence(),
            ));
            continue;
        }
        if NAMES.binary_search(&name).is_ok()
            || referenced.contains(name)
            || classes.contains(name)
            || name
                .split_once('_')
                .is_some_and(|(svc, rest)| services.contains(svc) && suffixes.contains(rest))
        {
            continue;
        }
        checked += 1;
        if checked > 200 {
            break;
        }
        let nearest = NAMES
            .iter()
            .filter_map(|k| distance(name, k, 2).map(|d| (d, *k)))
            .min();
        match nearest {
            Some((_, k)) => {
                problems.push((format!("{name} (did you mean {k}?)"), p.source.evidence()))
            }
            None if complete_list => problems.push((
                format!("{name} (not a parameter of Postfix {})", ctx.version),
                p.source.evidence(),
            )),
            None => {}
        }
    }
    if problems.is_empty() {
        return POSTFIX_UNKNOWN_PARAMETER.finding(
            Status::Pass,
            "Every parameter set is one Postfix knows (or a user-defined one that another setting \
             refers to).",
        );
    }
    let names: Vec<String> = problems.iter().map(|p| p.0.clone()).collect();
    POSTFIX_UNKNOWN_PARAMETER
        .finding(
            Status::Fail,
            format!(
                "Postfix does not know {}; it ignores {} (logging only \"unused parameter\"), so \
                 the setting you meant is not in force.",
                names.join(", "),
                if names.len() == 1 {
                    "that line"
                } else {
                    "those lines"
                }
            ),
        )
        .with_evidences(problems.into_iter().map(|p| p.1))
        .with_remediation(
            "Correct the parameter name (`postconf -n` on the server lists what Postfix read; \
             `postconf NAME` shows whether a name exists), or remove the line.",
        )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn names_are_sorted() {
        assert!(NAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(NAMES.binary_search(&"smtpd_tls_security_level").is_ok());
    }

    #[test]
    fn typos_and_unknowns() {
        let id = "postfix.unknown_parameter";
        assert_eq!(
            status("smtpd_tls_security_level = may\n", None, id),
            Status::Pass
        );
        let f = get(&run("disable_vrfy_comand = yes\n", None), id).clone();
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.detail.contains("did you mean disable_vrfy_command"),
            "{}",
            f.detail
        );
        assert!(matches!(
            f.evidence[0],
            Evidence::Config { line: Some(1), .. }
        ));
        // User-defined and referenced, a restriction class, a service-specific one.
        assert_eq!(
            status(
                "my_nets = 10.0.0.0/8\nmynetworks = $my_nets\nsmtpd_restriction_classes = strictt\nstrictt = reject\ndovecot_destination_recipient_limit = 1\n",
                Some("dovecot unix - n n - - pipe\nsubmission inet n - y - - smtpd -o smtpd_client_restrictions=$mua_client\n"),
                id
            ),
            Status::Pass
        );
        assert_eq!(
            status(
                "mua_client = permit\n",
                Some("submission inet n - y - - smtpd -o smtpd_client_restrictions=$mua_client\n"),
                id
            ),
            Status::Pass
        );
        // A typo in a master.cf override.
        let f = get(
            &run(
                "",
                Some("submission inet n - y - - smtpd\n  -o smtpd_tls_security_levle=encrypt\n"),
            ),
            id,
        )
        .clone();
        assert_eq!(f.status, Status::Fail);
        assert!(
            matches!(&f.evidence[0], Evidence::Config { file, line: Some(2), .. } if file == "master.cf")
        );
        // Far from every name: reported only where the list is complete.
        assert_eq!(
            status("frobnicate_everything = 1\n", None, id),
            Status::Pass
        );
        assert_eq!(
            get(
                &run_v("frobnicate_everything = 1\n", None, Some("3.7.11")),
                id
            )
            .status,
            Status::Fail
        );
        assert_eq!(
            get(
                &run_v("smtpd_forbid_bare_newline = yes\n", None, Some("3.7.8")),
                id
            )
            .status,
            Status::Fail
        );
        assert_eq!(
            get(
                &run_v("smtpd_forbid_bare_newline = yes\n", None, Some("3.7.9")),
                id
            )
            .status,
            Status::Pass
        );
    }

    #[test]
    fn distance_is_bounded() {
        assert_eq!(distance("abc", "abd", 2), Some(1));
        assert_eq!(distance("abc", "xyzabc", 2), None);
        let long = "a".repeat(10_000);
        assert_eq!(distance(&long, &long, 2), None);
    }
}
