//! fail2ban: `jail.conf`, `jail.d/*.conf`, `jail.local`, `jail.d/*.local`.
//!
//! The files are read in fail2ban's order — `jail.conf`, then
//! `jail.d/*.conf` (alphabetical), `jail.local`, `jail.d/*.local`
//! (alphabetical) — each file's `[INCLUDES] before`/`after` files around it
//! when they were pasted too, and merged as fail2ban merges them
//! ([`parse`]: `[DEFAULT]` inheritance, `%(name)s` interpolation, later
//! files win). Files are named by their `# file:` headers; a part without a
//! jail file name is read as `jail.local` (or as `jail.conf` when it is the
//! stock file). When no `jail.conf` was pasted, the stock one of fail2ban
//! 1.0.2 (Debian 12) is assumed under the pasted files ([`stock`]), so a
//! `jail.local` that only says `enabled = true` is judged with the stock
//! filters and times.
//!
//! Rules (in [`jails`]): `fail2ban.smtp_jail`, `fail2ban.thresholds`,
//! `fail2ban.ignoreip_broad`. The mail software is taken from the other
//! parts of the same paste ([`super::ConfigOptions::detected`]); without
//! one, any jail that catches SMTP authentication failures counts.

pub mod jails;
pub mod parse;
mod stock;
pub mod time;

use super::{ConfigOptions, Input};
use crate::report::{Assumption, Finding};
use crate::rules::Rule;
pub use parse::{File, Merged, Source, Value};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &jails::FAIL2BAN_SMTP_JAIL,
    &jails::FAIL2BAN_THRESHOLDS,
    &jails::FAIL2BAN_IGNOREIP_BROAD,
];

/// The release whose stock `jail.conf` is assumed when none is pasted.
pub const STOCK_VERSION: &str = "1.0.2";

/// Evidence name of the assumed stock file.
pub const STOCK_NAME: &str = "/etc/fail2ban/jail.conf (stock, fail2ban 1.0.2, not pasted)";

/// Most include levels followed (fail2ban follows loops only once too).
const MAX_INCLUDE_DEPTH: usize = 8;

/// The stock `jail.conf` lines the analysis needs, at their own line
/// numbers (the others empty).
pub fn stock_jail_conf() -> String {
    let mut out = String::with_capacity(12 * 1024);
    let mut line = 1u32;
    for &(n, text) in stock::STOCK_LINES {
        while line < n {
            out.push('\n');
            line += 1;
        }
        out.push_str(text);
        out.push('\n');
        line += 1;
    }
    out
}

/// Where a file sits in fail2ban's reading order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    JailConf,
    JailDConf,
    JailLocal,
    JailDLocal,
    /// Read only when another file includes it (`paths-*.conf` …).
    Included,
    /// Not a jail file (`fail2ban.conf`, `filter.d/…`, `action.d/…`).
    Other,
}

fn basename(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The role of a pasted file, by its name (and, for unnamed parts, its
/// content).
pub fn role(name: &str, file: &File) -> Role {
    let base = basename(name);
    let in_jail_d = name.contains("jail.d/") || name.contains("jail.d\\");
    if name.contains("filter.d") || name.contains("action.d") || base.starts_with("fail2ban.") {
        return Role::Other;
    }
    if base == "jail.conf" {
        return Role::JailConf;
    }
    if base == "jail.local" {
        return Role::JailLocal;
    }
    if base.starts_with("paths-") {
        return Role::Included;
    }
    if in_jail_d && base.ends_with(".conf") {
        return Role::JailDConf;
    }
    if in_jail_d && base.ends_with(".local") {
        return Role::JailDLocal;
    }
    if file.section("Definition").is_some() {
        // A filter or action file.
        return Role::Other;
    }
    // An unnamed paste: the stock jail.conf has its [INCLUDES] and dozens
    // of jails; anything else is what people paste, their jail.local.
    if file.section("INCLUDES").is_some() && file.sections.len() > 20 {
        return Role::JailConf;
    }
    // `defaults-debian.conf`, `mail.local`: jail.d files named without
    // their directory.
    if base.ends_with(".conf") {
        return Role::JailDConf;
    }
    if base.ends_with(".local") {
        return Role::JailDLocal;
    }
    Role::JailLocal
}

/// The pasted files in reading order, and what the order assumed.
pub struct Loaded {
    pub merged: Merged,
    /// Files in the order they were read (with the stock one if assumed).
    pub order: Vec<String>,
    pub stock_assumed: bool,
    pub assumptions: Vec<Assumption>,
    pub diagnostics: Vec<parse::Diagnostic>,
}

/// Reads the parts in fail2ban's order and merges them.
pub fn load(parts: &[Input]) -> Loaded {
    let mut files: Vec<(File, Role)> = parts
        .iter()
        .map(|p| {
            let f = parse::parse(&p.name, &p.text);
            let r = role(&p.name, &f);
            (f, r)
        })
        .collect();
    let mut assumptions = Vec::new();
    let stock_assumed = !files.iter().any(|(_, r)| *r == Role::JailConf);
    if stock_assumed {
        files.insert(
            0,
            (parse::parse(STOCK_NAME, &stock_jail_conf()), Role::JailConf),
        );
        assumptions.push(Assumption::new(
            "fail2ban.jail.conf",
            format!(
                "not pasted: the stock jail.conf of fail2ban {STOCK_VERSION} (Debian 12) is \
                 assumed under the pasted files"
            ),
        ));
    }
    // Top-level files by role, alphabetical within jail.d (stable: paste
    // order for equal names).
    let mut top: Vec<usize> = (0..files.len())
        .filter(|&i| {
            matches!(
                files[i].1,
                Role::JailConf | Role::JailDConf | Role::JailLocal | Role::JailDLocal
            )
        })
        .collect();
    top.sort_by(|&a, &b| {
        let (fa, ra) = &files[a];
        let (fb, rb) = &files[b];
        ra.cmp(rb).then_with(|| {
            if matches!(ra, Role::JailDConf | Role::JailDLocal) {
                basename(&fa.name).cmp(basename(&fb.name))
            } else {
                std::cmp::Ordering::Equal
            }
        })
    });
    let mut order_idx = Vec::new();
    let mut missing_includes: Vec<String> = Vec::new();
    for &i in &top {
        expand(
            &files,
            i,
            0,
            &mut Vec::new(),
            &mut order_idx,
            &mut missing_includes,
        );
    }
    let unread: Vec<String> = files
        .iter()
        .enumerate()
        .filter(|(i, _)| !order_idx.contains(i))
        .map(|(_, (f, _))| f.name.clone())
        .collect();
    let order: Vec<String> = order_idx.iter().map(|&i| files[i].0.name.clone()).collect();
    // Merge, moving each file's sections instead of copying them.
    let mut slots: Vec<Option<File>> = files.into_iter().map(|(f, _)| Some(f)).collect();
    let mut merged = Merged::new();
    let mut diagnostics = Vec::new();
    for &i in &order_idx {
        if let Some(f) = slots.get_mut(i).and_then(Option::take) {
            diagnostics.extend(f.diagnostics.iter().cloned());
            merged.add_owned(f);
        }
    }
    if parts.len() > 1 || !stock_assumed {
        assumptions.push(Assumption::new(
            "fail2ban.files",
            format!("read in fail2ban's order: {}", order.join(" → ")),
        ));
    }
    if !unread.is_empty() {
        assumptions.push(Assumption::new(
            "fail2ban.not read",
            format!(
                "{}: not jail configuration (filter, action or fail2ban.conf files) or not \
                 included by any jail file",
                unread.join(", ")
            ),
        ));
    }
    missing_includes.sort();
    missing_includes.dedup();
    if !missing_includes.is_empty() {
        assumptions.push(Assumption::new(
            "fail2ban.includes",
            format!(
                "[INCLUDES] files not pasted: {} (their variables, such as log paths, stay \
                 unexpanded)",
                missing_includes.join(", ")
            ),
        ));
    }
    Loaded {
        merged,
        order,
        stock_assumed,
        assumptions,
        diagnostics,
    }
}

/// The file `i` with its `before` includes first and `after` ones last.
fn expand(
    files: &[(File, Role)],
    i: usize,
    depth: usize,
    stack: &mut Vec<usize>,
    out: &mut Vec<usize>,
    missing: &mut Vec<String>,
) {
    if depth > MAX_INCLUDE_DEPTH || stack.contains(&i) {
        return;
    }
    stack.push(i);
    let find = |name: &str| -> Vec<usize> {
        let base = basename(name);
        // fail2ban reads X.local right after an included X.conf.
        let local = base.strip_suffix(".conf").map(|b| format!("{b}.local"));
        let mut found: Vec<usize> = files
            .iter()
            .enumerate()
            .filter(|(_, (f, _))| basename(&f.name) == base)
            .map(|(j, _)| j)
            .collect();
        if let Some(l) = local {
            found.extend(
                files
                    .iter()
                    .enumerate()
                    .filter(|(_, (f, _))| basename(&f.name) == l)
                    .map(|(j, _)| j),
            );
        }
        found
    };
    for name in files[i].0.includes("before") {
        let found = find(&name);
        if found.is_empty() {
            missing.push(name);
        }
        for j in found {
            expand(files, j, depth + 1, stack, out, missing);
        }
    }
    if !out.contains(&i) {
        out.push(i);
    }
    for name in files[i].0.includes("after") {
        let found = find(&name);
        if found.is_empty() && !name.ends_with(".local") {
            missing.push(name);
        }
        for j in found {
            expand(files, j, depth + 1, stack, out, missing);
        }
    }
    stack.pop();
}

/// The analyser [`crate::config::analyze`] calls for the parts recognised
/// as fail2ban.
pub fn analyse(parts: &[Input], opts: &ConfigOptions) -> (Vec<Finding>, Vec<Assumption>) {
    let loaded = load(parts);
    let mut assumptions = vec![Assumption::new(
        "fail2ban.version",
        match &opts.assume_version {
            Some(v) => format!(
                "{v} (from --assume-version; defaults of the stock jail.conf of \
                 {STOCK_VERSION} are used for what is not pasted)"
            ),
            None => {
                format!("{STOCK_VERSION} (the release in Debian 12; the input does not state one)")
            }
        },
    )];
    assumptions.extend(loaded.assumptions.iter().cloned());
    if !loaded.diagnostics.is_empty() {
        assumptions.push(Assumption::new(
            "fail2ban.unparsed",
            loaded
                .diagnostics
                .iter()
                .take(5)
                .map(|d| format!("{}:{}: {}", d.source.file, d.source.line, d.message))
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    let (findings, more) = jails::check(&loaded, &opts.detected);
    assumptions.extend(more);
    (findings, assumptions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_lines_are_the_fixtures_lines() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/fail2ban/jail.conf"
        );
        let fixture = std::fs::read_to_string(path).expect("fixture");
        let lines: Vec<&str> = fixture.lines().collect();
        for &(n, text) in stock::STOCK_LINES {
            assert_eq!(lines[n as usize - 1], text, "line {n}");
        }
        // And the stock text parses as the fixture does for what we read.
        let stock = parse::parse("s", &stock_jail_conf());
        let full = parse::parse("s", &fixture);
        for sec in &stock.sections {
            let f = full.section(&sec.name).expect("section");
            for o in &sec.options {
                assert_eq!(f.get(&o.name).map(|x| &x.value), Some(&o.value));
            }
        }
    }

    #[test]
    fn reading_order_is_fail2bans() {
        let parts = [
            Input::new("/etc/fail2ban/jail.local", "[DEFAULT]\nbantime = 3\n"),
            Input::new("/etc/fail2ban/jail.d/b.local", "[DEFAULT]\nbantime = 5\n"),
            Input::new("/etc/fail2ban/jail.d/z.conf", "[DEFAULT]\nbantime = 2\n"),
            Input::new("/etc/fail2ban/jail.d/a.local", "[DEFAULT]\nbantime = 4\n"),
            Input::new("/etc/fail2ban/jail.d/a.conf", "[DEFAULT]\nbantime = 1\n"),
            Input::new(
                "/etc/fail2ban/filter.d/x.conf",
                "[Definition]\nfailregex = x\n",
            ),
        ];
        let l = load(&parts);
        assert!(l.stock_assumed);
        let names: Vec<&str> = l.order.iter().map(|n| basename(n)).collect();
        assert_eq!(
            names,
            [
                "jail.conf (stock, fail2ban 1.0.2, not pasted)",
                "a.conf",
                "z.conf",
                "jail.local",
                "a.local",
                "b.local"
            ]
        );
        assert_eq!(l.merged.get("DEFAULT", "bantime").unwrap().text, "5");
        assert!(l.assumptions.iter().any(|a| a.key == "fail2ban.not read"));
    }

    #[test]
    fn includes_are_read_around_their_file() {
        let parts = [
            Input::new(
                "jail.conf",
                "[INCLUDES]\nbefore = paths-debian.conf\nafter = extra.conf\n[DEFAULT]\nlogp = %(syslog_mail)s\n",
            ),
            Input::new(
                "paths-debian.conf",
                "[INCLUDES]\nbefore = paths-common.conf\n[DEFAULT]\nsyslog_mail = /var/log/mail.log\n",
            ),
            Input::new("extra.conf", "[DEFAULT]\nsyslog_mail = /var/log/other.log\n"),
        ];
        let l = load(&parts);
        assert!(!l.stock_assumed);
        assert_eq!(l.order, ["paths-debian.conf", "jail.conf", "extra.conf"]);
        assert_eq!(
            l.merged.get("DEFAULT", "logp").unwrap().text,
            "/var/log/other.log"
        );
        let inc = l
            .assumptions
            .iter()
            .find(|a| a.key == "fail2ban.includes")
            .unwrap();
        assert!(inc.value.contains("paths-common.conf"), "{}", inc.value);
    }

    #[test]
    fn include_loops_end() {
        let parts = [
            Input::new(
                "jail.conf",
                "[INCLUDES]\nbefore = a.conf\n[DEFAULT]\nx = 1\n",
            ),
            Input::new("a.conf", "[INCLUDES]\nbefore = jail.conf\nafter = a.conf\n"),
        ];
        let l = load(&parts);
        assert_eq!(l.order, ["a.conf", "jail.conf"]);
    }
}
