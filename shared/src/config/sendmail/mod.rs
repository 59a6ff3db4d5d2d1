//! Sendmail: `sendmail.mc` (m4), generated `sendmail.cf`, and — when pasted
//! beside them — the access map and `sendmail -d0.1` output.
//!
//! The `.mc` is read by a tolerant m4 reader ([`m4`]: why not a full m4 is
//! explained there), the `.cf` line by line, both into one [`model::Model`]
//! with options under their sendmail.cf names ([`options`] maps the
//! `conf*` macros). Options that are not set take the defaults of a `.mc`
//! build (cf/m4/cfhead.m4) when a `.mc` was pasted, else the binary's own
//! ([`options::mc_default`], [`options::binary_default`]).
//!
//! Rules ([`rules`]): sendmail.open_relay, sendmail.smuggling,
//! sendmail.vrfy_expn, sendmail.auth_plaintext, sendmail.tls_off,
//! sendmail.tls_protocols, sendmail.rate_limits, sendmail.greeting_delay,
//! sendmail.size_limit, sendmail.logging, sendmail.banner_disclosure.
//!
//! The release judged is `--assume-version`, else the one the paste states
//! (`Version 8.x.y` of `sendmail -d0.1`, the `DZ` line of sendmail.cf, a
//! version in the `.mc`'s `VERSIONID`), else [`CURRENT_STABLE`].

pub mod m4;
pub mod model;
pub mod options;
pub mod rules;

use crate::config::{ConfigOptions, Input};
use crate::report::{Assumption, Evidence, Finding};
use crate::rules::Rule;
use model::{Model, VersionFrom};

/// The release whose behaviour applies when none is stated (8.18.1,
/// 2024-01-31, is the current upstream release; later 8.18.1.x are
/// snapshots).
pub const CURRENT_STABLE: &str = "8.18.1";

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &rules::SENDMAIL_OPEN_RELAY,
    &rules::SENDMAIL_SMUGGLING,
    &rules::SENDMAIL_VRFY_EXPN,
    &rules::SENDMAIL_AUTH_PLAINTEXT,
    &rules::SENDMAIL_TLS_OFF,
    &rules::SENDMAIL_TLS_PROTOCOLS,
    &rules::SENDMAIL_RATE_LIMITS,
    &rules::SENDMAIL_GREETING_DELAY,
    &rules::SENDMAIL_SIZE_LIMIT,
    &rules::SENDMAIL_LOGGING,
    &rules::SENDMAIL_BANNER_DISCLOSURE,
];

/// A sendmail release: `8.17.1.9`, with whether the text names a Debian
/// package that carries the CVE-2023-51765 backport (`+deb12u1` and later:
/// srv_features `o`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub text: String,
    pub nums: Vec<u32>,
    pub debian_backport: bool,
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let head = s
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()
            .unwrap_or("");
        let nums: Vec<u32> = head
            .split('.')
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        if nums.len() < 2 || nums.first() != Some(&8) {
            return None;
        }
        let lower = s.to_ascii_lowercase();
        let debian_backport = lower
            .split("deb12u")
            .nth(1)
            .and_then(|r| {
                r.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse::<u32>()
                    .ok()
            })
            .is_some_and(|u| u >= 1);
        Some(Version {
            text: s.to_string(),
            nums,
            debian_backport,
        })
    }

    /// At least `major.minor.patch`.
    pub fn at_least(&self, want: &[u32]) -> bool {
        for (i, w) in want.iter().enumerate() {
            let have = self.nums.get(i).copied().unwrap_or(0);
            if have != *w {
                return have > *w;
            }
        }
        true
    }
}

/// Where the judged release came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    Assumed,
    Stated(Evidence),
    Default,
}

/// Everything a rule needs.
pub(crate) struct Ctx<'a> {
    pub m: &'a Model,
    pub version: Version,
    pub version_source: VersionSource,
    /// Name of the first pasted part (for evidence of defaults).
    pub file: String,
}

/// The analyser [`crate::config::analyze`] calls for the parts recognised
/// as Sendmail.
pub fn analyse(parts: &[Input], opts: &ConfigOptions) -> (Vec<Finding>, Vec<Assumption>) {
    check(&Model::build(parts), opts.assume_version.as_deref(), parts)
}

/// Rules over a built model.
pub fn check(
    m: &Model,
    assume_version: Option<&str>,
    parts: &[Input],
) -> (Vec<Finding>, Vec<Assumption>) {
    let mut assumptions = Vec::new();
    let assumed = assume_version.and_then(Version::parse);
    if let (Some(bad), None) = (assume_version, &assumed) {
        assumptions.push(Assumption::new(
            "sendmail.version.ignored",
            format!("--assume-version {bad:?} is not a sendmail version"),
        ));
    }
    let stated = m
        .versions
        .iter()
        .filter_map(|(from, text, src)| Version::parse(text).map(|v| (*from, v, src)))
        .max_by_key(|(from, _, _)| *from);
    // `sendmail -d0.1` prints the upstream number only (8.17.1.9); Debian's
    // package revision, which tells whether the backport is there, is in
    // the .mc's VERSIONID or the .cf's DZ line.
    let stated = stated.map(|(from, mut v, src)| {
        if !v.debian_backport {
            v.debian_backport = m.versions.iter().any(|(_, t, _)| {
                Version::parse(t).is_some_and(|o| o.nums == v.nums && o.debian_backport)
            });
        }
        (from, v, src)
    });
    let (version, how, version_source) = match (assumed, stated) {
        (Some(v), _) => (
            v,
            "from --assume-version".to_string(),
            VersionSource::Assumed,
        ),
        (None, Some((from, v, src))) => (
            v,
            match from {
                VersionFrom::Binary => "from the `sendmail -d0.1` output in the input",
                VersionFrom::CfDz => "from the DZ line of sendmail.cf",
                VersionFrom::VersionId => "from VERSIONID in the .mc",
            }
            .to_string(),
            VersionSource::Stated(src.evidence()),
        ),
        (None, None) => (
            Version::parse(CURRENT_STABLE).expect("valid"),
            "current stable release; the input does not state one".to_string(),
            VersionSource::Default,
        ),
    };
    assumptions.push(Assumption::new(
        "sendmail.version",
        format!("{} ({how})", version.text),
    ));
    assumptions.push(Assumption::new(
        "sendmail.defaults",
        if m.has_cf {
            "options a sendmail.cf does not set take the sendmail binary's defaults"
        } else {
            "options the .mc does not set take the defaults of a .mc build (cf/m4/cfhead.m4)"
        },
    ));
    if !m.unknown.is_empty() {
        assumptions.push(Assumption::new(
            "sendmail.not_pasted",
            format!(
                "{} not pasted: settings made there are not seen",
                m.unknown
                    .iter()
                    .take(8)
                    .map(|(w, s)| format!("{w} (line {})", s.line))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if !m.diagnostics.is_empty() {
        assumptions.push(Assumption::new(
            "sendmail.unparsed",
            m.diagnostics
                .iter()
                .take(5)
                .map(|(s, d)| format!("{}:{}: {d}", s.file, s.line))
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    let ctx = Ctx {
        m,
        version,
        version_source,
        file: parts
            .first()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "sendmail.mc".into()),
    };
    let findings = vec![
        rules::open_relay(&ctx),
        rules::smuggling(&ctx),
        rules::vrfy_expn(&ctx),
        rules::auth_plaintext(&ctx),
        rules::tls_off(&ctx),
        rules::tls_protocols(&ctx),
        rules::rate_limits(&ctx),
        rules::greeting_delay(&ctx),
        rules::size_limit(&ctx),
        rules::logging(&ctx),
        rules::banner_disclosure(&ctx),
    ];
    (findings, assumptions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = Version::parse("8.17.1.9/Debian-2+deb12u2").unwrap();
        assert_eq!(v.nums, [8, 17, 1, 9]);
        assert!(v.debian_backport);
        assert!(!v.at_least(&[8, 18, 1]));
        assert!(!Version::parse("8.17.1.9-2").unwrap().debian_backport);
        assert!(Version::parse("8.18.1").unwrap().at_least(&[8, 18, 1]));
        assert!(Version::parse("8.18.1.16").unwrap().at_least(&[8, 18, 1]));
        assert_eq!(Version::parse("3.7.11"), None);
        assert_eq!(Version::parse("banana"), None);
    }

    #[test]
    fn version_sources_in_order_of_strength() {
        let parts = [Input::new(
            "x",
            "VERSIONID(`$Id: sendmail.mc, v 8.15.2 x')\nDZ8.16.1\nVersion 8.17.1\n",
        )];
        let m = Model::build(&parts);
        let (_, a) = check(&m, None, &parts);
        assert!(
            a[0].value.starts_with("8.17.1 (from the `sendmail -d0.1`"),
            "{}",
            a[0].value
        );
        let (_, a) = check(&m, Some("8.18.1"), &parts);
        assert!(a[0].value.starts_with("8.18.1 (from --assume-version"));
        let (_, a) = check(&Model::default(), Some("nope"), &[]);
        assert!(a.iter().any(|x| x.key == "sendmail.version.ignored"));
        assert!(a
            .iter()
            .any(|x| x.value.starts_with("8.18.1 (current stable")));
    }
}

#[cfg(test)]
mod fixture_tests {
    use crate::config::{analyze, recognise, ConfigOptions, Input, Software};
    use crate::report::{Evidence, Report, Status};

    const MC: &str = include_str!("../../../../tests/fixtures/sendmail/debian12-sendmail.mc");
    const CF: &str = include_str!("../../../../tests/fixtures/sendmail/debian12-sendmail.cf");

    fn report(inputs: &[Input]) -> Report {
        analyze(
            inputs,
            &ConfigOptions {
                now: "2026-11-29T12:00:00Z".into(),
                ..Default::default()
            },
        )
        .expect("report")
    }

    fn status(r: &Report, id: &str) -> Status {
        r.findings.iter().find(|f| f.id == id).expect(id).status
    }

    #[test]
    fn debian_stock_mc() {
        let input = [Input::new("sendmail.mc", MC)];
        let d = recognise(&input, None);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].software, d[0].kind.as_str()),
            (Software::Sendmail, "sendmail.mc")
        );
        let r = report(&input);
        for (id, want) in [
            ("sendmail.open_relay", Status::Pass),
            ("sendmail.smuggling", Status::Warn),
            ("sendmail.vrfy_expn", Status::Fail),
            ("sendmail.auth_plaintext", Status::Pass),
            ("sendmail.tls_off", Status::Fail),
            ("sendmail.tls_protocols", Status::Info),
            ("sendmail.rate_limits", Status::Pass),
            ("sendmail.greeting_delay", Status::Pass),
            ("sendmail.size_limit", Status::Fail),
            ("sendmail.logging", Status::Pass),
            ("sendmail.banner_disclosure", Status::Fail),
        ] {
            assert_eq!(status(&r, id), want, "{id}");
        }
        let v = r
            .findings
            .iter()
            .find(|f| f.id == "sendmail.vrfy_expn")
            .unwrap();
        // The multi-line define starts on line 62 of the stock file.
        assert!(
            matches!(&v.evidence[0], Evidence::Config { line: Some(62), text, .. } if text.starts_with("define(`confPRIVACY_FLAGS'")),
            "{:?}",
            v.evidence
        );
        let a = |k: &str| {
            r.assumptions
                .iter()
                .find(|a| a.key == k)
                .map(|a| a.value.clone())
        };
        assert!(a("sendmail.version")
            .unwrap()
            .starts_with("8.17.1.9-2+deb12u2 (from VERSIONID"));
        assert!(a("sendmail.not_pasted")
            .unwrap()
            .contains("OSTYPE(`debian')"));
    }

    #[test]
    fn access_map_and_d01_pasted_beside_the_mc() {
        let text = format!(
            "{MC}# file: access\nConnect:localhost.localdomain RELAY\nConnect:127.0.0.1 RELAY\n\
             Srv_Features:\to\n# file: sendmail -d0.1\nVersion 8.17.1.9\n \
             Compiled with: DANE DNSMAP IPV6_FULL LDAPMAP LOG MAP_REGEX MILTER\n"
        );
        let input = [Input::new("pasted", text)];
        let d = recognise(&input, None);
        assert_eq!(d.len(), 3, "{d:?}");
        assert_eq!(d[1].kind, "access map");
        let r = report(&input);
        assert_eq!(status(&r, "sendmail.smuggling"), Status::Pass);
        assert_eq!(status(&r, "sendmail.open_relay"), Status::Pass);
        let a = r
            .assumptions
            .iter()
            .find(|a| a.key == "sendmail.version")
            .unwrap();
        assert!(a.value.contains("sendmail -d0.1"), "{}", a.value);
    }

    #[test]
    fn debian_generated_cf() {
        let input = [Input::new("sendmail.cf", CF)];
        let d = recognise(&input, None);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            (d[0].software, d[0].kind.as_str()),
            (Software::Sendmail, "sendmail.cf")
        );
        let r = report(&input);
        for (id, want) in [
            ("sendmail.open_relay", Status::Pass),
            ("sendmail.smuggling", Status::Warn),
            ("sendmail.vrfy_expn", Status::Fail),
            ("sendmail.tls_off", Status::Fail),
            ("sendmail.rate_limits", Status::Pass),
            ("sendmail.greeting_delay", Status::Pass),
            ("sendmail.size_limit", Status::Fail),
            ("sendmail.logging", Status::Pass),
            ("sendmail.banner_disclosure", Status::Fail),
        ] {
            assert_eq!(status(&r, id), want, "{id}");
        }
        let a = r
            .assumptions
            .iter()
            .find(|a| a.key == "sendmail.version")
            .unwrap();
        assert!(
            a.value
                .starts_with("8.17.1.9/Debian-2+deb12u2 (from the DZ line"),
            "{}",
            a.value
        );
        // Both pasted together (no headers): one Sendmail part, the .cf wins.
        let both = format!("{MC}\n{CF}");
        let r = report(&[Input::new("pasted", both)]);
        assert_eq!(status(&r, "sendmail.size_limit"), Status::Fail);
        assert_eq!(status(&r, "sendmail.vrfy_expn"), Status::Fail);
    }
}
