//! `postfix.unknown_parameter`: names Postfix does not know, which it
//! ignores (it only logs "unused parameter").

use super::defaults::BARE_NEWLINE;
use super::names::NAMES;
use super::{list, Config, Ctx, Param, Service, Version, View};
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

/// The bytes a name has, as a set of 64 classes (`byte & 63`): a byte
/// class in one name and not in another is at least one byte the other
/// lacks, so `(a & !b).count_ones()` is a lower bound of the edit distance.
fn byte_classes(s: &str) -> u64 {
    s.bytes().fold(0, |m, b| m | 1 << (b & 63))
}

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
fn references<'a, S: std::hash::BuildHasher>(value: &'a str, out: &mut HashSet<&'a str, S>) {
    // Bytes, not chars (this runs over every value): the name chars are
    // ASCII, so a name ends at the first byte of any other char, a char
    // boundary.
    let b = value.as_bytes();
    for i in memchr::memchr_iter(b'$', b) {
        let mut start = i + 1;
        while matches!(b.get(start), Some(b'{' | b'(')) {
            start += 1;
        }
        let rest = b.get(start..).unwrap_or(&[]);
        let len = rest
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
            .unwrap_or(rest.len());
        if let Some(name) = value.get(start..start + len).filter(|n| !n.is_empty()) {
            out.insert(name);
        }
    }
}

/// Known names that may be within `max` edits of `name`: only names at
/// most `max` longer or shorter, and without more than `max` byte classes
/// the other lacks ([`byte_classes`]); [`distance`] decides.
fn names_near(name: &str, max: usize) -> impl Iterator<Item = &'static str> {
    type ByLen = Vec<Vec<(&'static str, u64)>>;
    static BY_LEN: std::sync::OnceLock<ByLen> = std::sync::OnceLock::new();
    let by_len = BY_LEN.get_or_init(|| {
        let mut v: ByLen = Vec::new();
        for n in NAMES {
            if v.len() <= n.len() {
                v.resize(n.len() + 1, Vec::new());
            }
            v[n.len()].push((n, byte_classes(n)));
        }
        v
    });
    let len = name.len();
    let classes = byte_classes(name);
    let lo = len.saturating_sub(max);
    let hi = (len + max + 1).min(by_len.len());
    let max = u32::try_from(max).unwrap_or(u32::MAX);
    by_len
        .get(lo..hi.max(lo))
        .unwrap_or(&[])
        .iter()
        .flatten()
        .filter(move |(_, c)| {
            (classes & !c).count_ones() <= max && (c & !classes).count_ones() <= max
        })
        .map(|(n, _)| *n)
}

/// Stock services whose `<service>_<suffix>` parameters Postfix knows.
/// Every parameter a rule reads through a view (`View::get`), sorted: the
/// single list the differential test against `postconf`
/// (`tests/postconf_diff.rs`) checks value by value. A test below runs the
/// rules and fails when one reads a name missing here. Restriction class
/// names (user-defined, from `smtpd_restriction_classes`) and
/// `tls_<grade>_cipherlist` for the grade a `*_ciphers` value names are read
/// too.
pub const READ_PARAMS: &[&str] = &[
    "content_filter",
    "disable_vrfy_command",
    "inet_interfaces",
    "mail_name",
    "mailbox_size_limit",
    "maillog_file",
    "message_size_limit",
    "mynetworks",
    "mynetworks_style",
    "non_smtpd_milters",
    "postscreen_dnsbl_sites",
    "postscreen_greet_action",
    "smtp_dns_support_level",
    "smtp_enforce_tls",
    "smtp_tls_ciphers",
    "smtp_tls_loglevel",
    "smtp_tls_mandatory_ciphers",
    "smtp_tls_mandatory_protocols",
    "smtp_tls_protocols",
    "smtp_tls_security_level",
    "smtp_use_tls",
    "smtpd_banner",
    "smtpd_client_auth_rate_limit",
    "smtpd_client_connection_rate_limit",
    "smtpd_client_message_rate_limit",
    "smtpd_client_recipient_rate_limit",
    "smtpd_client_restrictions",
    "smtpd_data_restrictions",
    "smtpd_discard_ehlo_keywords",
    "smtpd_enforce_tls",
    "smtpd_forbid_bare_newline",
    "smtpd_forbid_bare_newline_exclusions",
    "smtpd_helo_required",
    "smtpd_helo_restrictions",
    "smtpd_milters",
    "smtpd_recipient_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_restriction_classes",
    "smtpd_sasl_auth_enable",
    "smtpd_sasl_security_options",
    "smtpd_sasl_tls_security_options",
    "smtpd_sender_restrictions",
    "smtpd_tls_auth_only",
    "smtpd_tls_cert_file",
    "smtpd_tls_chain_files",
    "smtpd_tls_ciphers",
    "smtpd_tls_dcert_file",
    "smtpd_tls_eccert_file",
    "smtpd_tls_loglevel",
    "smtpd_tls_mandatory_ciphers",
    "smtpd_tls_mandatory_protocols",
    "smtpd_tls_protocols",
    "smtpd_tls_security_level",
    "smtpd_tls_wrappermode",
    "smtpd_use_tls",
    "tls_high_cipherlist",
    "tls_medium_cipherlist",
    "virtual_mailbox_limit",
];

/// Parameters whose built-in default depends on the host Postfix runs on
/// (`gethostname()`, the network interfaces): no release default exists.
pub const HOST_DEPENDENT: &[&str] = &["myhostname", "mydomain", "mynetworks"];

/// How much an expansion may add to the text it starts from: an expanded
/// value is never longer than its raw text plus this (hostile `$name`
/// fan-out is cut off, with an error).
pub const MAX_EXPANSION_GROWTH: usize = super::expand::MAX_OUTPUT;

/// A value as one service sees it (see [`effective`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveValue {
    pub name: String,
    /// Expanded text (cut off at the expansion caps).
    pub text: String,
    /// The expansion error Postfix would stop at (or the cap that stopped
    /// us); None when the value expanded cleanly.
    pub error: Option<String>,
    /// Set in main.cf or by a master.cf `-o` (not the built-in default).
    pub set: bool,
    /// Known: set, or a parameter of the judged release.
    pub exists: bool,
    /// Names the expansion looked up, directly or not.
    pub refs: Vec<String>,
}

/// The values of `names` as the rules see them for `service` (its `-o`
/// overrides, else main.cf, else the default of `version`), with `$name`
/// references expanded: what `postconf -x -h NAME` (main.cf) or
/// `postconf -P -x` (a service's overrides) shows.
pub fn effective<'n>(
    cfg: &Config,
    service: Option<&Service>,
    version: &Version,
    names: impl IntoIterator<Item = &'n str>,
) -> Vec<EffectiveValue> {
    let view = View::new(cfg, service, version);
    names
        .into_iter()
        .map(|n| {
            let v = view.get(n);
            EffectiveValue {
                name: v.name.clone(),
                set: v.is_set(),
                exists: v.exists,
                refs: v.ref_names,
                error: v.error,
                text: v.text,
            }
        })
        .collect()
}

const STOCK_SERVICES: &[&str] = &[
    "smtp", "lmtp", "relay", "local", "virtual", "error", "retry", "discard", "pipe",
];

pub(crate) fn unknown_parameter(ctx: &Ctx) -> Finding {
    let cfg = ctx.cfg;
    let overrides = || cfg.services.iter().flat_map(|s| &s.overrides);
    let all: Vec<&Param> = cfg.in_force().chain(overrides()).collect();
    // Names referred to as `$name` anywhere: made when a name nothing
    // else explains is met (most configurations have none).
    let mut referenced: Option<HashSet<&str, foldhash::fast::RandomState>> = None;
    let classes: HashSet<String, foldhash::fast::RandomState> =
        list(&ctx.main.get("smtpd_restriction_classes").text)
            .into_iter()
            .collect();
    let services: HashSet<&str, foldhash::fast::RandomState> = cfg
        .services
        .iter()
        .map(|s| s.name.as_str())
        .chain(STOCK_SERVICES.iter().copied())
        .collect();
    static SUFFIXES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let suffixes = SUFFIXES.get_or_init(|| {
        let mut v: Vec<&'static str> = NAMES
            .iter()
            .filter_map(|n| n.strip_prefix("default_"))
            .chain(["time_limit"])
            .collect();
        v.sort_unstable();
        v
    });
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
        if super::is_parameter_name(name)
            || (!classes.is_empty() && classes.contains(name))
            || name.split_once('_').is_some_and(|(svc, rest)| {
                services.contains(svc) && suffixes.binary_search(&rest).is_ok()
            })
        {
            continue;
        }
        let referenced = referenced.get_or_insert_with(|| {
            // Sized for a name a definition (a generated main.cf refers
            // to most of its own names): grown from empty, the set was
            // rehashed name by name a dozen times.
            let mut r = HashSet::with_capacity_and_hasher(
                cfg.params.len().min(1 << 16),
                Default::default(),
            );
            for p in cfg.params.iter().chain(overrides()) {
                references(&p.value, &mut r);
            }
            r
        });
        if referenced.contains(name) {
            continue;
        }
        checked += 1;
        if checked > 200 {
            break;
        }
        let nearest = names_near(name, 2)
            .filter_map(|k| distance(name, k, 2).map(|d| (d, k)))
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

#[cfg(test)]
thread_local! {
    static READ: std::cell::RefCell<HashSet<String>> = std::cell::RefCell::new(HashSet::new());
}

/// Test builds: records each name a rule reads through a view.
#[cfg(test)]
pub(crate) fn note_read(name: &str) {
    READ.with(|r| r.borrow_mut().insert(name.to_string()));
}

#[cfg(test)]
mod read_params {
    use super::super::defaults::{default, Version};
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn every_name_a_rule_reads_is_listed() {
        assert!(READ_PARAMS.windows(2).all(|w| w[0] < w[1]), "keep sorted");
        let postscreen = "smtp inet n - y - - postscreen\nsmtpd pass - - y - - smtpd\n\
            submission inet n - y - - smtpd -o smtpd_tls_security_level=encrypt \
            -o smtpd_sasl_auth_enable=yes\n";
        let mut cases: Vec<(String, Option<&str>)> = vec![
            (HARD.to_string(), None),
            (String::new(), None),
            (String::new(), Some(postscreen)),
            (
                "smtpd_restriction_classes = cls\ncls = permit\n\
                 smtpd_relay_restrictions = cls, reject_unauth_destination\n"
                    .into(),
                None,
            ),
        ];
        for grade in ["high", "medium", "low", "export", "null"] {
            cases.push((
                format!(
                    "smtpd_tls_ciphers = {grade}\nsmtp_tls_mandatory_ciphers = {grade}\n\
                     tls_{grade}_cipherlist = ALL\n"
                ),
                Some(postscreen),
            ));
        }
        READ.with(|r| r.borrow_mut().clear());
        for (main, master) in &cases {
            for v in [None, Some("3.7.11"), Some("2.9"), Some("3.10")] {
                let _ = run_v(main, *master, v);
            }
        }
        let read = READ.with(|r| r.borrow().clone());
        let mut missing: Vec<&String> = read
            .iter()
            .filter(|n| READ_PARAMS.binary_search(&n.as_str()).is_err() && *n != "cls")
            .collect();
        missing.sort();
        assert!(missing.is_empty(), "add to READ_PARAMS: {missing:?}");
        // And the list holds nothing the rules no longer read.
        for n in READ_PARAMS {
            assert!(
                read.contains(*n),
                "{n} is in READ_PARAMS but no rule read it"
            );
        }
    }

    /// `postconf -P -x`: `$service_name` is the master.cf service.
    #[test]
    fn service_name_in_a_service_view() {
        let cfg = Config::parse(&[
            crate::config::Input::new("main.cf", "syslog_name = main/$service_name\n"),
            crate::config::Input::new(
                "master.cf",
                "127.0.0.1:10025 inet n - n - - smtpd -o syslog_name=postfix/$service_name\n",
            ),
        ]);
        let v = Version::parse("3.7.11").unwrap();
        let svc = effective(&cfg, Some(&cfg.services[0]), &v, ["syslog_name"]);
        assert_eq!(svc[0].text, "postfix/127.0.0.1:10025");
        assert_eq!(effective(&cfg, None, &v, ["syslog_name"])[0].text, "main/");
    }

    #[test]
    fn every_read_name_has_a_default() {
        for v in ["3.7.11", "3.10"] {
            let v = Version::parse(v).unwrap();
            for n in READ_PARAMS {
                assert_eq!(
                    default(n, &v).is_some(),
                    !HOST_DEPENDENT.contains(n),
                    "{n} in {v}"
                );
            }
        }
    }
}
