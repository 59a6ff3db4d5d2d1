//! `postfix.version`: the stated release against upstream's support and
//! security-fix history.
//!
//! Facts (from postfix.org's source page and release announcements, as of
//! 2026-04: 3.11 is the stable release, 3.12 experimental): Wietse Venema
//! supports the four most recent stable series, so 3.8 to 3.11 get fixes
//! and 3.7 and older do not. The one remotely exploitable flaw fixed in
//! the 3.x series is SMTP smuggling (CVE-2023-51764): the
//! `smtpd_forbid_bare_newline` defence came in 3.8.4, 3.7.9, 3.6.13 and
//! 3.5.23 and is on by default from 3.9.0. Older 2.x releases had
//! CVE-2011-1720 (Cyrus SASL memory corruption) and are long unsupported.
//!
//! Only what is known is judged: a release newer than this table is a pass
//! with a note, not a guess about patches we cannot know of. Distributions
//! (Debian, Ubuntu LTS, RHEL) keep patching series upstream has dropped;
//! the detail says so, since the version string alone cannot show it.

use super::defaults::BARE_NEWLINE;
use super::Ctx;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

pub static POSTFIX_VERSION: Rule = Rule {
    id: "postfix.version",
    area: Area::Config,
    title: "Postfix release support and patches",
    severity: Severity::Medium,
    description:
        "The stated mail_version is outside upstream's supported stable releases, or older \
        than the patch release that fixed a known vulnerability in its series.",
    refs: &[
        "https://www.postfix.org/announcements.html",
        "https://www.postfix.org/smtp-smuggling.html",
        "CVE-2023-51764",
    ],
};

/// Oldest stable series upstream still supports.
pub const OLDEST_SUPPORTED: (u32, u32) = (3, 8);
/// Newest stable series this table knows.
pub const NEWEST_KNOWN: (u32, u32) = (3, 11);

/// Where the judged release came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    /// `--assume-version` on the command line (or the page's field).
    Assumed,
    /// A `mail_version` line in the input.
    Stated(Evidence),
    /// Nothing stated: the current stable release was assumed.
    Default,
}

pub(crate) fn version(ctx: &Ctx) -> Finding {
    let rule = &POSTFIX_VERSION;
    let v = ctx.version;
    let evidence = match &ctx.version_source {
        VersionSource::Default => {
            return rule
                .finding(
                    Status::Unknown,
                    "The input does not state the Postfix release (no mail_version line), so \
                     whether it is supported and patched cannot be judged. Paste `postconf -n` \
                     together with `postconf mail_version`, or give the release with \
                     --assume-version.",
                )
                .with_remediation(
                    "Run `postconf mail_version` on the server and include its output.",
                );
        }
        VersionSource::Assumed => Evidence::Note {
            text: format!("Postfix {v} (given with --assume-version)"),
        },
        VersionSource::Stated(e) => e.clone(),
    };
    let distro = "Distributions such as Debian, Ubuntu LTS and RHEL keep patching releases \
                  upstream has dropped; if this is a distribution package with current security \
                  updates, the risk is lower than the number suggests.";
    let series = (v.major, v.minor);
    let (status, detail, fix) = if series < OLDEST_SUPPORTED {
        let smuggling = if v.has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1) {
            ""
        } else {
            " It also predates the SMTP smuggling fix (CVE-2023-51764)."
        };
        (
            Status::Fail,
            format!(
                "Postfix {v} belongs to the {}.{} series, which upstream no longer supports \
                 (supported: {}.{} to {}.{}): security fixes no longer reach it.{smuggling} \
                 {distro}",
                v.major,
                v.minor,
                OLDEST_SUPPORTED.0,
                OLDEST_SUPPORTED.1,
                NEWEST_KNOWN.0,
                NEWEST_KNOWN.1
            ),
            format!(
                "Upgrade to a supported stable release (Postfix {}.{} or later, e.g. from your \
                 distribution's current release or backports).",
                OLDEST_SUPPORTED.0, OLDEST_SUPPORTED.1
            ),
        )
    } else if !v.has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1) {
        let fixed = BARE_NEWLINE
            .1
            .iter()
            .find(|(ma, mi, _)| (*ma, *mi) == series)
            .map(|(ma, mi, p)| format!("{ma}.{mi}.{p}"))
            .unwrap_or_else(|| "the latest patch release".into());
        (
            Status::Fail,
            format!(
                "Postfix {v} is older than {fixed}, the patch release of its series that fixed \
                 SMTP smuggling (CVE-2023-51764). {distro}"
            ),
            format!(
                "Update to Postfix {fixed} or later in the {}.{} series.",
                v.major, v.minor
            ),
        )
    } else if series > NEWEST_KNOWN {
        (
            Status::Pass,
            format!(
                "Postfix {v} is newer than the releases mailaudit's table knows ({}.{}); no known \
                 vulnerability applies.",
                NEWEST_KNOWN.0, NEWEST_KNOWN.1
            ),
            String::new(),
        )
    } else {
        (
            Status::Pass,
            format!(
                "Postfix {v} is in a supported stable series and has the fixes for the known \
                 vulnerabilities of its series{}.",
                if v.patch.is_none() {
                    " (no patch level given: the latest patch release assumed)"
                } else {
                    ""
                }
            ),
            String::new(),
        )
    };
    let f = rule.finding(status, detail).with_evidence(evidence);
    if fix.is_empty() {
        f
    } else {
        f.with_remediation(fix)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::postfix::test_support::{get, run, run_v};
    use crate::report::Status;

    fn st(main: &str, version: Option<&str>) -> Status {
        get(&run_v(main, None, version), "postfix.version").status
    }

    #[test]
    fn unsupported_series_fails() {
        assert_eq!(st("mail_version = 3.7.11\n", None), Status::Fail);
        assert_eq!(st("", Some("3.6.13")), Status::Fail);
        assert_eq!(st("", Some("2.11.3")), Status::Fail);
    }

    #[test]
    fn unpatched_supported_series_fails() {
        let fs = run_v("", None, Some("3.8.3"));
        let f = get(&fs, "postfix.version");
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("3.8.4"), "{}", f.detail);
        assert!(f.remediation.contains("3.8.4"));
    }

    #[test]
    fn supported_and_patched_passes() {
        for v in ["3.8.4", "3.9.0", "3.10.5", "3.11.1", "3.10"] {
            assert_eq!(st("", Some(v)), Status::Pass, "{v}");
        }
        // A snapshot of a series newer than the table.
        assert_eq!(st("mail_version = 3.12-20260423\n", None), Status::Pass);
    }

    #[test]
    fn stated_version_is_the_evidence() {
        let fs = run("myhostname = m.example\nmail_version = 3.7.11\n", None);
        let f = get(&fs, "postfix.version");
        match &f.evidence[0] {
            crate::report::Evidence::Config { line, text, .. } => {
                assert_eq!(*line, Some(2));
                assert!(text.contains("3.7.11"));
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn no_stated_version_is_unknown() {
        assert_eq!(st("myhostname = m.example\n", None), Status::Unknown);
    }
}
