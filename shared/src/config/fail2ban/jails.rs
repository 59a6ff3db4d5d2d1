//! The fail2ban rules, over the merged configuration ([`super::load`]).
//!
//! Which filter catches which mail server's failed logins (fail2ban 1.0.2,
//! `filter.d/`):
//! - `postfix` in mode `auth`, `extra` or `aggressive` matches Postfix's
//!   `SASL LOGIN authentication failed`; its default mode `more` (= `normal`)
//!   and `rbl`, `ddos`, `errors` do not. The stock `[postfix-sasl]` jail is
//!   `filter = postfix[mode=auth]`; fail2ban before 0.10 had a separate
//!   `postfix-sasl` filter, also counted. The jail's own `mode` reaches the
//!   filter only through the stock `filter = %(__name__)s[mode=%(mode)s]`
//!   line: `filter = postfix` alone runs in mode `more`.
//! - `exim` (any mode) matches `authenticator failed … 535 Incorrect
//!   authentication data`; `exim-spam` matches spam and DNSBL rejections
//!   only, so it does not count.
//! - `sendmail-auth` matches `AUTH failure`; `sendmail-reject` does not.
//! - `dovecot` matches failed logins checked by Dovecot, which includes SMTP
//!   AUTH when Postfix or Exim authenticate through Dovecot SASL.

use super::parse::{Merged, Source, Value};
use super::{time, Loaded};
use crate::addr::Net;
use crate::config::Software;
use crate::report::{Assumption, Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use std::net::IpAddr;

pub static FAIL2BAN_SMTP_JAIL: Rule = Rule {
    id: "fail2ban.smtp_jail",
    area: Area::Config,
    title: "fail2ban jail for SMTP authentication failures",
    severity: Severity::Medium,
    description:
        "No enabled jail matches the mail software's authentication failures (postfix-sasl, \
        or postfix with mode auth/extra/aggressive — the default mode more does not; exim, \
        sendmail-auth, dovecot) after jail.conf → jail.d → jail.local precedence, so password \
        guessing against SMTP AUTH is never banned.",
    refs: &[
        "https://manpages.debian.org/bookworm/fail2ban/jail.conf.5.en.html",
        "https://github.com/fail2ban/fail2ban/blob/1.0.2/config/filter.d/postfix.conf",
        "https://github.com/fail2ban/fail2ban/blob/1.0.2/config/jail.conf",
    ],
};

pub static FAIL2BAN_THRESHOLDS: Rule = Rule {
    id: "fail2ban.thresholds",
    area: Area::Config,
    title: "fail2ban ban thresholds",
    severity: Severity::Low,
    description:
        "maxretry is above 10, findtime below 10 minutes, or bantime below 1 hour for the \
        mail jails (or the [DEFAULT] they inherit), so a slow guesser stays under the limit or \
        comes back soon (seed: ban after 5–10 failures, for at least one hour).",
    refs: &[
        "https://manpages.debian.org/bookworm/fail2ban/jail.conf.5.en.html",
        "https://github.com/fail2ban/fail2ban/blob/1.0.2/config/jail.conf",
    ],
};

pub static FAIL2BAN_IGNOREIP_BROAD: Rule = Rule {
    id: "fail2ban.ignoreip_broad",
    area: Area::Config,
    title: "fail2ban ignoreip exempts broad ranges",
    severity: Severity::Medium,
    description: "ignoreip holds a public range larger than /24 (IPv4) or /48 (IPv6), or every \
        address: attackers there are never banned. Warn for smaller public ranges, which are \
        right only when the whole range is the operator's own.",
    refs: &[
        "https://manpages.debian.org/bookworm/fail2ban/jail.conf.5.en.html",
        "https://github.com/fail2ban/fail2ban/blob/1.0.2/config/jail.conf",
    ],
};

/// Evidence lines kept per finding.
const MAX_EVIDENCE: usize = 12;

/// Whose failed SMTP logins a filter catches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Catches {
    Postfix,
    Exim,
    Sendmail,
    /// Dovecot SASL: Postfix's and Exim's when they authenticate through it.
    Dovecot,
}

impl Catches {
    fn serves(self, sw: Software) -> bool {
        matches!(
            (self, sw),
            (Catches::Postfix, Software::Postfix)
                | (Catches::Exim, Software::Exim)
                | (Catches::Sendmail, Software::Sendmail)
                | (Catches::Dovecot, Software::Postfix | Software::Exim)
        )
    }
}

/// A jail as fail2ban would run it.
struct Jail<'a> {
    name: &'a str,
    header: &'a Source,
    enabled: bool,
    enabled_value: Option<Value>,
    filter: Option<Value>,
    filter_name: String,
    /// The filter's mode: from `filter = name[mode=…]`, else the filter's own default.
    mode: String,
    /// Why it does or does not catch failed logins.
    catches: Result<Catches, String>,
    mail: bool,
}

impl Jail<'_> {
    fn evidence(&self) -> Vec<Evidence> {
        let mut out = vec![self.header.evidence()];
        for v in [&self.enabled_value, &self.filter].into_iter().flatten() {
            for e in v.evidence() {
                if !out.contains(&e) {
                    out.push(e);
                }
            }
        }
        out
    }
}

/// `postfix[mode=auth, x="y"]` → (`postfix`, [(mode, auth), (x, y)]).
fn split_filter(text: &str) -> (String, Vec<(String, String)>) {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let (name, args) = match first.split_once('[') {
        Some((n, rest)) => (
            n.trim(),
            rest.rsplit_once(']').map(|(a, _)| a).unwrap_or(rest),
        ),
        None => (first, ""),
    };
    let args = args
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches(['"', '\'']).to_string(),
            )
        })
        .collect();
    (name.to_string(), args)
}

fn catches(filter: &str, mode: &str) -> Result<Catches, String> {
    match filter {
        "postfix" => match mode {
            "auth" | "extra" | "aggressive" => Ok(Catches::Postfix),
            _ => Err(format!(
                "filter postfix in mode {mode} matches rejected clients (relay denied, unknown \
                 users, RBL hits), not failed SASL logins; modes auth, extra and aggressive do"
            )),
        },
        "postfix-sasl" => Ok(Catches::Postfix),
        "exim" => Ok(Catches::Exim),
        "sendmail-auth" => Ok(Catches::Sendmail),
        "dovecot" => Ok(Catches::Dovecot),
        "exim-spam" => Err(
            "filter exim-spam matches spam and DNSBL rejections, not failed \
                            logins"
                .into(),
        ),
        "sendmail-reject" => Err(
            "filter sendmail-reject matches rejected clients, not failed \
                                  logins"
                .into(),
        ),
        other => Err(format!("filter {other} does not read SMTP AUTH failures")),
    }
}

fn is_mail_filter(name: &str) -> bool {
    [
        "postfix",
        "exim",
        "sendmail",
        "dovecot",
        "sieve",
        "courier",
        "assp",
        "qmail",
        "kerio",
        "cyrus",
        "perdition",
        "uwimap",
        "domino-smtp",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// Sections that are not jails.
fn is_jail_section(name: &str) -> bool {
    !matches!(name, "DEFAULT" | "INCLUDES" | "Definition" | "Init") && !name.starts_with("KNOWN/")
}

fn jails(m: &Merged) -> Vec<Jail<'_>> {
    m.sections
        .iter()
        .filter(|s| is_jail_section(&s.name))
        .map(|s| {
            let enabled_value = m.get(&s.name, "enabled");
            let enabled = enabled_value
                .as_ref()
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let filter = m.get(&s.name, "filter");
            let (filter_name, args) = filter
                .as_ref()
                .map(|f| split_filter(&f.text))
                .unwrap_or_default();
            let explicit = args
                .iter()
                .rev()
                .find(|(k, _)| k == "mode")
                .map(|(_, v)| v.to_ascii_lowercase())
                .filter(|v| !v.is_empty());
            // The filters' own default modes (filter.d/*.conf, 1.0.2).
            let default_mode = if filter_name == "postfix" {
                "more"
            } else {
                "normal"
            };
            let mode = explicit.unwrap_or_else(|| default_mode.to_string());
            let catches = if filter_name.is_empty() {
                Err("no filter".to_string())
            } else {
                catches(&filter_name, &mode)
            };
            Jail {
                name: &s.name,
                header: &s.header,
                enabled,
                enabled_value,
                mail: is_mail_filter(&filter_name) || is_mail_filter(&s.name),
                filter,
                filter_name,
                mode,
                catches,
            }
        })
        .collect()
}

/// The mail software in the paste that fail2ban can protect.
fn mail_software(detected: &[Software]) -> Vec<Software> {
    let mut out = Vec::new();
    for s in [Software::Postfix, Software::Exim, Software::Sendmail] {
        if detected.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Findings of the three rules, and the assumption on the mail software.
pub fn check(loaded: &Loaded, detected: &[Software]) -> (Vec<Finding>, Vec<Assumption>) {
    let m = &loaded.merged;
    let all = jails(m);
    let needs = mail_software(detected);
    let assumption = Assumption::new(
        "fail2ban.mail software",
        if needs.is_empty() {
            "not in the paste: any jail that catches SMTP authentication failures counts (paste \
             the mail server's configuration with the jails to judge the right one)"
                .to_string()
        } else {
            format!(
                "{} (recognised in the same paste)",
                needs
                    .iter()
                    .map(|s| s.title())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
    );
    let (smtp, judged) = smtp_jail(&all, &needs);
    let findings = vec![smtp, thresholds(m, &all, &judged), ignoreip(m, &all)];
    (findings, vec![assumption])
}

/// `fail2ban.smtp_jail`; also returns the names of the jails the other
/// rules should judge.
fn smtp_jail(all: &[Jail], needs: &[Software]) -> (Finding, Vec<String>) {
    let covering = |sw: Option<Software>| -> Vec<&Jail> {
        all.iter()
            .filter(|j| j.enabled)
            .filter(|j| match (&j.catches, sw) {
                (Ok(c), Some(sw)) => c.serves(sw),
                (Ok(_), None) => true,
                _ => false,
            })
            .collect()
    };
    let wanted: Vec<Option<Software>> = if needs.is_empty() {
        vec![None]
    } else {
        needs.iter().copied().map(Some).collect()
    };
    let mut missing = Vec::new();
    let mut found: Vec<&Jail> = Vec::new();
    let mut seen = std::collections::HashSet::<_, foldhash::fast::FixedState>::default();
    for w in &wanted {
        let c = covering(*w);
        if c.is_empty() {
            missing.push(*w);
        }
        for j in c {
            if seen.insert(j.name) {
                found.push(j);
            }
        }
    }
    let judged: Vec<String> = if !found.is_empty() {
        found.iter().map(|j| j.name.to_string()).collect()
    } else {
        all.iter()
            .filter(|j| j.enabled && j.mail)
            .map(|j| j.name.to_string())
            .collect()
    };
    if missing.is_empty() {
        let mut ev = Vec::new();
        for j in found.iter().take(MAX_EVIDENCE) {
            ev.extend(j.evidence());
        }
        ev.truncate(MAX_EVIDENCE);
        let mut list = found
            .iter()
            .take(8)
            .map(|j| format!("[{}] (filter {}, mode {})", j.name, j.filter_name, j.mode))
            .collect::<Vec<_>>()
            .join(", ");
        if found.len() > 8 {
            list.push_str(&format!(" and {} more", found.len() - 8));
        }
        let f = FAIL2BAN_SMTP_JAIL
            .finding(
                Status::Pass,
                format!(
                    "Failed SMTP logins are banned: {list} {} enabled.",
                    if found.len() == 1 { "is" } else { "are" }
                ),
            )
            .with_evidences(ev);
        return (f, judged);
    }
    let whom = |w: &Option<Software>| match w {
        Some(s) => format!("{}'s", s.title()),
        None => "the mail server's".to_string(),
    };
    let missing_text = missing.iter().map(whom).collect::<Vec<_>>().join(" and ");
    // The mail jails that exist, and why they do not count.
    let mut notes = Vec::new();
    let mut ev = Vec::new();
    for j in all.iter().filter(|j| j.mail) {
        let relevant = match (&j.catches, missing.as_slice()) {
            (Ok(c), ms) => ms.iter().any(|m| m.is_none_or(|s| c.serves(s))),
            (Err(_), _) => j.enabled,
        };
        if !relevant {
            continue;
        }
        let why = match (&j.catches, j.enabled) {
            (Ok(_), false) => "is not enabled".to_string(),
            (Err(why), true) => format!("is enabled, but its {why}"),
            (Err(why), false) => format!("is not enabled, and its {why}"),
            (Ok(_), true) => continue,
        };
        notes.push(format!("[{}] {why}", j.name));
        if ev.len() < MAX_EVIDENCE {
            ev.extend(j.evidence());
        }
    }
    ev.truncate(MAX_EVIDENCE);
    let mut detail = format!(
        "No enabled jail catches {missing_text} failed SMTP logins, so password guessing \
         against AUTH is never banned."
    );
    if !notes.is_empty() {
        detail.push_str(&format!(" {}.", notes.join("; ")));
    }
    let remediation = missing
        .iter()
        .map(|w| jail_snippet(*w))
        .collect::<Vec<_>>()
        .join("\n");
    let f = FAIL2BAN_SMTP_JAIL
        .finding(Status::Fail, detail)
        .with_evidences(ev)
        .with_remediation(remediation);
    (f, judged)
}

/// A jail for the mail software, in jail.local syntax. Comments stand on
/// their own lines: fail2ban keeps a `#` after a value as part of it.
pub fn jail_snippet(sw: Option<Software>) -> String {
    const TIMES: &str = "maxretry = 5\nfindtime = 10m\nbantime  = 1h\n";
    match sw {
        Some(Software::Exim) => format!(
            "# /etc/fail2ban/jail.d/mail.local\n\
             [exim]\n\
             enabled  = true\n\
             port     = smtp,465,submission\n\
             logpath  = %(exim_main_log)s\n\
             {TIMES}"
        ),
        Some(Software::Sendmail) => format!(
            "# /etc/fail2ban/jail.d/mail.local\n\
             [sendmail-auth]\n\
             enabled  = true\n\
             port     = submission,465,smtp\n\
             logpath  = %(syslog_mail)s\n\
             {TIMES}"
        ),
        _ => {
            let other = if sw.is_none() {
                "# (Exim: enable [exim]; Sendmail: [sendmail-auth]; Dovecot SASL: [dovecot])\n"
            } else {
                ""
            };
            format!(
                "# /etc/fail2ban/jail.d/mail.local\n\
                 {other}\
                 [postfix-sasl]\n\
                 enabled  = true\n\
                 filter   = postfix[mode=auth]\n\
                 port     = smtp,465,submission,imap,imaps,pop3,pop3s\n\
                 logpath  = %(postfix_log)s\n\
                 {TIMES}\
                 # Postfix logging only to the journal (Debian 12 without rsyslog)? Then also:\n\
                 # backend      = systemd\n\
                 # journalmatch = _SYSTEMD_UNIT=postfix@-.service\n"
            )
        }
    }
}

/// One jail's times, or why they could not be read.
struct Times {
    label: String,
    maxretry: Option<Value>,
    findtime: Option<Value>,
    bantime: Option<Value>,
    increment: bool,
}

fn value_number(v: &Option<Value>, f: impl Fn(&str) -> Option<f64>) -> Result<f64, String> {
    match v {
        None => Err("not set".into()),
        Some(v) if !v.unresolved.is_empty() => Err(format!(
            "refers to {} which the paste does not set",
            v.unresolved.join(", ")
        )),
        Some(v) => {
            f(v.text.trim()).ok_or_else(|| format!("{:?} is not a number fail2ban reads", v.text))
        }
    }
}

/// `fail2ban.thresholds` over the jails `smtp_jail` chose (else [DEFAULT]).
fn thresholds(m: &Merged, all: &[Jail], judged: &[String]) -> Finding {
    let by_name: super::parse::HashMap<&str, &Jail> = all.iter().map(|j| (j.name, j)).collect();
    let mut sets: Vec<Times> = judged
        .iter()
        .filter_map(|n| by_name.get(n.as_str()).copied())
        .map(|j| Times {
            label: format!("[{}]", j.name),
            maxretry: m.get(j.name, "maxretry"),
            findtime: m.get(j.name, "findtime"),
            bantime: m.get(j.name, "bantime"),
            increment: m
                .get(j.name, "bantime.increment")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        })
        .collect();
    let default_only = sets.is_empty();
    if default_only {
        sets.push(Times {
            label: "[DEFAULT] (what a mail jail inherits)".into(),
            maxretry: m.get("DEFAULT", "maxretry"),
            findtime: m.get("DEFAULT", "findtime"),
            bantime: m.get("DEFAULT", "bantime"),
            increment: m
                .get("DEFAULT", "bantime.increment")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        });
    }
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    let mut bad_ev = Vec::new();
    let mut ok_ev = Vec::new();
    let mut fix_jails = Vec::new();
    for t in &sets {
        let mut bad_here = false;
        let parse_int = |s: &str| s.parse::<i64>().ok().map(|n| n as f64);
        match value_number(&t.maxretry, parse_int) {
            Ok(n) if n > 10.0 => {
                problems.push(format!(
                    "{}: maxretry = {n} (more than 10 failures)",
                    t.label
                ));
                bad_ev.extend(t.maxretry.iter().flat_map(Value::evidence));
                bad_here = true;
            }
            Ok(_) if ok_ev.len() < 64 => ok_ev.extend(t.maxretry.iter().flat_map(Value::evidence)),
            Ok(_) => {}
            Err(why) => unknown.push(format!("{}: maxretry {why}", t.label)),
        }
        match value_number(&t.findtime, time::seconds) {
            Ok(s) if s < 600.0 => {
                problems.push(format!(
                    "{}: findtime = {} (failures older than that are forgotten; under 10 minutes)",
                    t.label,
                    time::human(s)
                ));
                bad_ev.extend(t.findtime.iter().flat_map(Value::evidence));
                bad_here = true;
            }
            Ok(_) if ok_ev.len() < 64 => ok_ev.extend(t.findtime.iter().flat_map(Value::evidence)),
            Ok(_) => {}
            Err(why) => unknown.push(format!("{}: findtime {why}", t.label)),
        }
        match value_number(&t.bantime, time::seconds) {
            Ok(s) if (0.0..3600.0).contains(&s) => {
                problems.push(format!(
                    "{}: bantime = {} (under 1 hour{})",
                    t.label,
                    time::human(s),
                    if t.increment {
                        "; bantime.increment lengthens repeat bans only"
                    } else {
                        ""
                    }
                ));
                bad_ev.extend(t.bantime.iter().flat_map(Value::evidence));
                bad_here = true;
            }
            Ok(_) if ok_ev.len() < 64 => ok_ev.extend(t.bantime.iter().flat_map(Value::evidence)),
            Ok(_) => {}
            Err(why) => unknown.push(format!("{}: bantime {why}", t.label)),
        }
        if bad_here {
            fix_jails.push(t.label.split(' ').next().unwrap_or("[DEFAULT]").to_string());
        }
    }
    let dedup = |v: Vec<Evidence>| {
        let mut out: Vec<Evidence> = Vec::new();
        for e in v {
            if !out.contains(&e) && out.len() < MAX_EVIDENCE {
                out.push(e);
            }
        }
        out
    };
    let scope = if default_only {
        "No mail jail is enabled; judged: [DEFAULT]."
    } else {
        ""
    };
    if !problems.is_empty() {
        let snippet = fix_jails
            .iter()
            .map(|j| {
                format!(
                    "{j}\nmaxretry = 5\nfindtime = 10m\nbantime  = 1h\n\
                     # optional: longer bans for repeat offenders\n\
                     bantime.increment = true\nbantime.maxtime   = 1w\n"
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        return FAIL2BAN_THRESHOLDS
            .finding(
                Status::Fail,
                format!(
                    "{} {}. A password guesser stays under these limits or is back soon; ban \
                     after 5–10 failures within at least 10 minutes, for at least an hour.",
                    scope,
                    problems.join("; ")
                )
                .trim_start()
                .to_string(),
            )
            .with_evidences(dedup(bad_ev))
            .with_remediation(format!("# /etc/fail2ban/jail.local\n{snippet}"));
    }
    if !unknown.is_empty() {
        return FAIL2BAN_THRESHOLDS
            .finding(
                Status::Unknown,
                format!(
                    "{scope} Could not read: {}. Paste the files that set them (paths-*.conf, \
                     jail.d/*), or check `fail2ban-client get <jail> bantime` on the server.",
                    unknown.join("; ")
                )
                .trim_start()
                .to_string(),
            )
            .with_evidences(dedup(ok_ev));
    }
    FAIL2BAN_THRESHOLDS
        .finding(
            Status::Pass,
            format!(
                "{scope} {}: at most 10 failures within 10 minutes or more ban for an hour or more.",
                sets.iter().map(|t| t.label.as_str()).collect::<Vec<_>>().join(", ")
            )
            .trim_start()
            .to_string(),
        )
        .with_evidences(dedup(ok_ev))
}

/// One `ignoreip` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Net(Net),
    /// A DNS name fail2ban resolves.
    Host(String),
    /// `file:/path`: addresses from a file that was not pasted.
    File(String),
    /// Text fail2ban would not accept, or an unexpanded `%(name)s`.
    Other(String),
}

/// Parses an `ignoreip` entry: address, CIDR block (also with a dotted
/// netmask, `192.0.2.0/255.255.255.0`), DNS name or `file:` path.
pub fn entry(s: &str) -> Entry {
    if let Some(p) = s.strip_prefix("file:") {
        return Entry::File(p.to_string());
    }
    if let Some((a, mask)) = s.split_once('/') {
        if mask.contains('.') {
            if let (Ok(addr), Ok(m)) = (a.parse::<IpAddr>(), mask.parse::<std::net::Ipv4Addr>()) {
                let bits = u32::from(m);
                if addr.is_ipv4() && bits.leading_ones() + bits.trailing_zeros() == 32 {
                    return Entry::Net(Net::new(addr, bits.leading_ones() as u8));
                }
            }
            return Entry::Other(s.to_string());
        }
    }
    if let Some(n) = Net::parse(s) {
        return Entry::Net(n);
    }
    let host = !s.is_empty()
        && s.len() <= 253
        && s.contains(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if host {
        Entry::Host(s.to_string())
    } else {
        Entry::Other(s.to_string())
    }
}

/// `fail2ban.ignoreip_broad` over [DEFAULT] and every enabled jail.
fn ignoreip(m: &Merged, all: &[Jail]) -> Finding {
    let mut values: Vec<(String, Value)> = Vec::new();
    let mut sources = std::collections::HashSet::<_, foldhash::fast::FixedState>::default();
    let scopes = std::iter::once("DEFAULT").chain(all.iter().filter(|j| j.enabled).map(|j| j.name));
    for scope in scopes {
        if let Some(v) = m.get(scope, "ignoreip") {
            if sources.insert((v.source.file.clone(), v.source.line)) {
                values.push((scope.to_string(), v));
            }
        }
    }
    if values.is_empty() {
        return FAIL2BAN_IGNOREIP_BROAD.finding(
            Status::Pass,
            "ignoreip is not set: fail2ban exempts only this host's own addresses (ignoreself, \
             on by default).",
        );
    }
    let mut broad = Vec::new();
    let mut public = Vec::new();
    let mut notes = Vec::new();
    let mut ev = Vec::new();
    let mut seen_entries = std::collections::HashSet::<_, foldhash::fast::FixedState>::default();
    for (scope, v) in &values {
        let mut flagged = false;
        for item in v
            .text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .take(10_000)
        {
            match entry(item) {
                Entry::Net(n) => {
                    let host = n.len == if n.addr.is_ipv4() { 32 } else { 128 };
                    let list = if n.len == 0 || n.is_broad() {
                        &mut broad
                    } else if !n.is_private() && !host {
                        &mut public
                    } else {
                        continue;
                    };
                    flagged = true;
                    if seen_entries.insert(item) {
                        list.push(format!("{item} in [{scope}]"));
                    }
                }
                _ if notes.len() >= 5 => {}
                Entry::Host(h) => notes.push(format!(
                    "{h} is a DNS name: whoever controls its records controls who is never banned"
                )),
                Entry::File(p) => notes.push(format!("{p} (file: entries) was not pasted")),
                Entry::Other(o) => notes.push(format!("{o:?} is not an address fail2ban reads")),
            }
        }
        if flagged && ev.len() < MAX_EVIDENCE {
            ev.extend(v.evidence());
        }
    }
    ev.truncate(MAX_EVIDENCE);
    let listed = |v: &[String]| {
        let mut t = v.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        if v.len() > 10 {
            t.push_str(&format!(" and {} more", v.len() - 10));
        }
        t
    };
    notes.truncate(5);
    let note = if notes.is_empty() {
        String::new()
    } else {
        format!(" Also: {}.", notes.join("; "))
    };
    const FIX: &str = "# /etc/fail2ban/jail.local\n[DEFAULT]\n\
        # only this host and the addresses you administer from; never provider ranges\n\
        ignoreself = true\nignoreip   = 127.0.0.1/8 ::1 <your-admin-address>\n";
    if !broad.is_empty() {
        return FAIL2BAN_IGNOREIP_BROAD
            .finding(
                Status::Fail,
                format!(
                    "ignoreip exempts {}: every attacker in those ranges can guess passwords \
                     without ever being banned.{note}",
                    listed(&broad)
                ),
            )
            .with_evidences(ev)
            .with_remediation(FIX);
    }
    if !public.is_empty() {
        return FAIL2BAN_IGNOREIP_BROAD
            .finding(
                Status::Warn,
                format!(
                    "ignoreip exempts the public range(s) {}. That is right only when every \
                     address in them is yours; otherwise list single addresses.{note}",
                    listed(&public)
                ),
            )
            .with_evidences(ev)
            .with_remediation(FIX);
    }
    let mut pass_ev: Vec<Evidence> = values
        .iter()
        .take(MAX_EVIDENCE)
        .flat_map(|(_, v)| v.evidence())
        .collect();
    pass_ev.truncate(MAX_EVIDENCE);
    FAIL2BAN_IGNOREIP_BROAD
        .finding(
            Status::Pass,
            format!(
                "ignoreip holds only loopback, private addresses and single public hosts.{note}"
            ),
        )
        .with_evidences(pass_ev)
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use super::*;
    use crate::config::Input;

    fn run(text: &str, detected: &[Software]) -> Vec<Finding> {
        let l = load(&[Input::new("jail.local", text)]);
        check(&l, detected).0
    }

    fn get<'a>(f: &'a [Finding], id: &str) -> &'a Finding {
        f.iter().find(|x| x.id == id).expect(id)
    }

    #[test]
    fn smtp_jail_postfix_modes() {
        let pf = [Software::Postfix];
        // Stock jail.conf alone: nothing mail-related is enabled.
        let f = run("[sshd]\nenabled = true\n", &pf);
        let s = get(&f, "fail2ban.smtp_jail");
        assert_eq!(s.status, Status::Fail);
        assert!(
            s.detail.contains("[postfix-sasl] is not enabled"),
            "{}",
            s.detail
        );
        assert!(s.remediation.contains("[postfix-sasl]"));
        assert!(s.remediation.contains("filter   = postfix[mode=auth]"));
        // Evidence points at the stock jail.conf's [postfix-sasl] (line 675).
        assert!(s.evidence.iter().any(|e| matches!(e,
            Evidence::Config { line: Some(675), text, .. } if text == "[postfix-sasl]")));
        // [postfix] in its stock mode `more` does not count.
        let f = run("[postfix]\nenabled = true\n", &pf);
        let s = get(&f, "fail2ban.smtp_jail");
        assert_eq!(s.status, Status::Fail);
        assert!(s.detail.contains("mode more"), "{}", s.detail);
        // …in mode aggressive it does (via the stock filter line).
        let f = run("[postfix]\nenabled = true\nmode = aggressive\n", &pf);
        assert_eq!(get(&f, "fail2ban.smtp_jail").status, Status::Pass);
        // `filter = postfix` without arguments runs in mode more.
        let f = run(
            "[postfix]\nenabled = true\nmode = auth\nfilter = postfix\n",
            &pf,
        );
        assert_eq!(get(&f, "fail2ban.smtp_jail").status, Status::Fail);
        for ok in [
            "[postfix-sasl]\nenabled = true\n",
            "[postfix]\nenabled = yes\nmode = extra\n",
            "[mine]\nenabled = on\nfilter = postfix[mode=auth]\n",
            "[old]\nenabled = 1\nfilter = postfix-sasl\n",
            "[dovecot]\nenabled = true\n",
        ] {
            let f = run(ok, &pf);
            assert_eq!(get(&f, "fail2ban.smtp_jail").status, Status::Pass, "{ok}");
        }
    }

    #[test]
    fn smtp_jail_other_software() {
        let f = run("[exim-spam]\nenabled = true\n", &[Software::Exim]);
        let s = get(&f, "fail2ban.smtp_jail");
        assert_eq!(s.status, Status::Fail);
        assert!(s.detail.contains("exim-spam matches spam"), "{}", s.detail);
        assert!(s.remediation.contains("[exim]"));
        let f = run("[exim]\nenabled = true\n", &[Software::Exim]);
        assert_eq!(get(&f, "fail2ban.smtp_jail").status, Status::Pass);
        // Sendmail: dovecot does not protect it.
        let f = run("[dovecot]\nenabled = true\n", &[Software::Sendmail]);
        let s = get(&f, "fail2ban.smtp_jail");
        assert_eq!(s.status, Status::Fail);
        assert!(s.remediation.contains("[sendmail-auth]"));
        let f = run("[sendmail-auth]\nenabled = true\n", &[Software::Sendmail]);
        assert_eq!(get(&f, "fail2ban.smtp_jail").status, Status::Pass);
        // Unknown software: any auth jail.
        let f = run("[sendmail-auth]\nenabled = true\n", &[]);
        assert_eq!(get(&f, "fail2ban.smtp_jail").status, Status::Pass);
        // Postfix and Exim both: each needs its jail.
        let f = run(
            "[exim]\nenabled = true\n",
            &[Software::Postfix, Software::Exim],
        );
        let s = get(&f, "fail2ban.smtp_jail");
        assert_eq!(s.status, Status::Fail);
        assert!(s.detail.contains("Postfix's"), "{}", s.detail);
    }

    #[test]
    fn later_files_win() {
        let l = load(&[
            Input::new("jail.d/mail.local", "[postfix-sasl]\nenabled = false\n"),
            Input::new("jail.local", "[postfix-sasl]\nenabled = true\n"),
        ]);
        let f = check(&l, &[Software::Postfix]).0;
        let s = get(&f, "fail2ban.smtp_jail");
        assert_eq!(
            s.status,
            Status::Fail,
            "jail.d/*.local is read after jail.local"
        );
        assert!(s.evidence.iter().any(|e| matches!(e,
            Evidence::Config { file, line: Some(2), .. } if file == "jail.d/mail.local")));
    }

    #[test]
    fn thresholds_rule() {
        let pf = [Software::Postfix];
        // Stock times: bantime 10m.
        let f = run("[postfix-sasl]\nenabled = true\n", &pf);
        let t = get(&f, "fail2ban.thresholds");
        assert_eq!(t.status, Status::Fail);
        assert!(t.detail.contains("bantime = 10m"), "{}", t.detail);
        assert!(t.evidence.iter().any(|e| matches!(
            e,
            Evidence::Config {
                line: Some(101),
                ..
            }
        )));
        assert!(t.remediation.contains("[postfix-sasl]\nmaxretry = 5"));
        let f = run(
            "[DEFAULT]\nbantime = 1h30m\n[postfix-sasl]\nenabled = true\n",
            &pf,
        );
        assert_eq!(get(&f, "fail2ban.thresholds").status, Status::Pass);
        let f = run("[DEFAULT]\nbantime = -1\nfindtime = 1d\nmaxretry = 10\n[postfix-sasl]\nenabled = true\n", &pf);
        assert_eq!(get(&f, "fail2ban.thresholds").status, Status::Pass);
        let f = run("[DEFAULT]\nbantime = 1d\n[postfix-sasl]\nenabled = true\nmaxretry = 11\nfindtime = 5m\n", &pf);
        let t = get(&f, "fail2ban.thresholds");
        assert_eq!(t.status, Status::Fail);
        assert!(
            t.detail.contains("maxretry = 11") && t.detail.contains("findtime = 5m"),
            "{}",
            t.detail
        );
        // A value nobody can read is unknown, not a pass.
        let f = run(
            "[DEFAULT]\nbantime = %(mybantime)s\n[postfix-sasl]\nenabled = true\n",
            &pf,
        );
        let t = get(&f, "fail2ban.thresholds");
        assert_eq!(t.status, Status::Unknown, "{}", t.detail);
        assert!(t.detail.contains("mybantime"));
        // No mail jail: [DEFAULT] is judged.
        let f = run("[DEFAULT]\nbantime = 1w\n", &pf);
        let t = get(&f, "fail2ban.thresholds");
        assert_eq!(t.status, Status::Pass);
        assert!(t.detail.contains("[DEFAULT]"));
    }

    #[test]
    fn ignoreip_rule() {
        let case = |ip: &str| {
            let f = run(
                &format!("[DEFAULT]\nignoreip = {ip}\n[postfix-sasl]\nenabled = true\n"),
                &[],
            );
            get(&f, "fail2ban.ignoreip_broad").clone()
        };
        assert_eq!(
            case("127.0.0.1/8 ::1 10.0.0.0/8 192.168.1.0/24").status,
            Status::Pass
        );
        assert_eq!(case("127.0.0.1/8, 198.51.100.7").status, Status::Pass);
        let f = case("127.0.0.1/8 0.0.0.0/0");
        assert_eq!(f.status, Status::Fail);
        assert!(f.remediation.contains("ignoreip"));
        assert!(matches!(
            &f.evidence[0],
            Evidence::Config { line: Some(2), .. }
        ));
        assert_eq!(case("8.0.0.0/8").status, Status::Fail);
        assert_eq!(case("8.8.0.0/255.255.0.0").status, Status::Fail);
        assert_eq!(case("2001:4860::/32").status, Status::Fail);
        assert_eq!(case("198.51.100.0/24").status, Status::Warn);
        let f = case("127.0.0.1 office.example.org file:/etc/fail2ban/ips");
        assert_eq!(f.status, Status::Pass);
        assert!(f.detail.contains("DNS name"));
        // A jail's own ignoreip counts too.
        let f = run(
            "[postfix-sasl]\nenabled = true\nignoreip = 1.0.0.0/8\n",
            &[],
        );
        assert_eq!(get(&f, "fail2ban.ignoreip_broad").status, Status::Fail);
        // Not set.
        let f = run("[postfix-sasl]\nenabled = true\n", &[]);
        assert_eq!(get(&f, "fail2ban.ignoreip_broad").status, Status::Pass);
    }

    #[test]
    fn entries() {
        assert_eq!(
            entry("10.0.0.0/255.0.0.0"),
            Entry::Net(Net::parse("10.0.0.0/8").unwrap())
        );
        assert!(matches!(entry("10.0.0.0/255.0.255.0"), Entry::Other(_)));
        assert!(matches!(entry("%(x)s"), Entry::Other(_)));
        assert!(matches!(entry("mx.example.org"), Entry::Host(_)));
    }
}
