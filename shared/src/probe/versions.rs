//! What an SMTP greeting reveals (software, version, operating system) and
//! the table of known vulnerabilities with the versions that fix them,
//! used by `smtp.banner` and `smtp.software_version`.
//!
//! # The advisory table
//!
//! | software | advisory | fixed in (per branch) | distributions backport |
//! |---|---|---|---|
//! | Postfix | CVE-2023-51764 SMTP smuggling (adds `smtpd_forbid_bare_newline`) | 3.5.23, 3.6.13, 3.7.9, 3.8.4 (3.9+ default `normalize`) | yes (Debian, Ubuntu) |
//! | Exim | CVE-2019-10149 "Return of the WIZard" RCE | 4.92 | yes |
//! | Exim | CVE-2019-15846 TLS SNI RCE | 4.92.2 | yes |
//! | Exim | CVE-2020-28017… "21Nails" | 4.94.2 | yes |
//! | Exim | CVE-2023-42115/42116/42114 (AUTH EXTERNAL, NTLM, SPA) | 4.96.1 | yes (Debian 4.96) |
//! | Exim | CVE-2023-51766 SMTP smuggling | 4.97.1 | yes (Debian 4.96) |
//! | Sendmail | CVE-2023-51765 SMTP smuggling | 8.18.1 | yes (Debian 8.17, opt-in) |
//! | OpenSMTPD | CVE-2020-7247 remote command execution | 6.6.2 | yes |
//! | OpenSMTPD | CVE-2020-8794 remote command execution | 6.6.4 | yes |
//! | Microsoft SMTP (IIS 5/6, Exchange 2003 and older) | end of life | — | no |
//!
//! Only entries whose fixed versions are certain are listed. A version
//! older than the fix is `warn` when distributions are known to backport
//! the fix without changing the version (the banner cannot tell), `fail`
//! otherwise. Exchange 2007 and later do not show a build in the banner,
//! so they are not judged by version.

use std::cmp::Ordering;
use std::fmt;

/// A dotted version, compared numerically (`6.6.2p1` is `6.6.2`).
#[derive(Debug, Clone)]
pub struct Version(pub Vec<u32>);

impl Version {
    /// Parses a version token such as `3.7.11`, `4.96.1`, `6.6.2p1`,
    /// `(3.7.11)`: at least two numeric components.
    pub fn parse(token: &str) -> Option<Version> {
        let t = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let mut parts = Vec::new();
        for (i, p) in t.split('.').enumerate() {
            if i >= 6 {
                return None;
            }
            let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
            if digits.is_empty() || digits.len() > 6 {
                return None;
            }
            parts.push(digits.parse().ok()?);
            if digits.len() != p.len() {
                // A suffix (`p1`, `-rc1`) ends the numeric part.
                break;
            }
        }
        (parts.len() >= 2).then_some(Version(parts))
    }

    fn branch(&self) -> &[u32] {
        &self.0[..self.0.len().min(2)]
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.0.len().max(other.0.len());
        for i in 0..n {
            let (a, b) = (
                self.0.get(i).copied().unwrap_or(0),
                other.0.get(i).copied().unwrap_or(0),
            );
            match a.cmp(&b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&s.join("."))
    }
}

/// Software recognised in a greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub software: &'static str,
    pub version: Option<Version>,
}

/// Names recognised in greetings (matched as whole words, any case).
/// `Microsoft` stands for Microsoft's SMTP service (IIS or Exchange).
const SOFTWARE: &[&str] = &[
    "Postfix",
    "Exim",
    "Sendmail",
    "OpenSMTPD",
    "Microsoft",
    "qmail",
    "Haraka",
    "hMailServer",
    "MailEnable",
    "MDaemon",
    "Kerio",
    "Zimbra",
    "CommuniGate",
    "Courier",
    "IceWarp",
    "Axigen",
    "Exchange",
];

/// Operating systems and distributions recognised in greetings.
const OS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "CentOS",
    "RHEL",
    "Red Hat",
    "Fedora",
    "FreeBSD",
    "OpenBSD",
    "NetBSD",
    "Windows",
    "SUSE",
    "openSUSE",
    "Gentoo",
    "Alpine",
    "Raspbian",
    "AlmaLinux",
    "Rocky",
];

fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '/' | '(' | ')'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The greeting text without its first word (the host name, which could
/// contain a product-looking label).
fn after_name(text: &str) -> &str {
    let t = text.trim_start();
    match t.find(char::is_whitespace) {
        Some(i) => &t[i..],
        None => "",
    }
}

/// Software (and version when shown) named in a greeting's first line
/// (whose first word, the host name, is skipped).
pub fn detect(text: &str) -> Option<Detected> {
    detect_in(after_name(text))
}

/// Software named anywhere in `rest` (a continuation line of a greeting).
pub fn detect_in(rest: &str) -> Option<Detected> {
    let w = words(rest);
    for (i, word) in w.iter().enumerate() {
        let Some(sw) = SOFTWARE.iter().find(|s| s.eq_ignore_ascii_case(word)) else {
            continue;
        };
        let version = match *sw {
            // "Microsoft ESMTP MAIL Service, Version: 6.0.3790.4675 ready"
            "Microsoft" => w
                .iter()
                .skip(i)
                .take(8)
                .position(|x| x.eq_ignore_ascii_case("version:"))
                .and_then(|j| w.get(i + j + 1))
                .and_then(|v| Version::parse(v)),
            // "Postfix 3.7.11", "Postfix (3.7.11)", "Exim 4.96", "Sendmail 8.17.1/8.17.1"
            _ => w.get(i + 1).and_then(|v| Version::parse(v)),
        };
        return Some(Detected {
            software: sw,
            version,
        });
    }
    None
}

/// Operating systems named in a greeting's first line (host name skipped).
pub fn detect_os(text: &str) -> Vec<&'static str> {
    detect_os_in(after_name(text))
}

/// Operating systems named anywhere in `rest`.
pub fn detect_os_in(rest: &str) -> Vec<&'static str> {
    let lower = rest.to_ascii_lowercase();
    let w: Vec<String> = words(&lower).into_iter().map(str::to_string).collect();
    OS.iter()
        .filter(|os| {
            let o = os.to_ascii_lowercase();
            if o.contains(' ') {
                lower.contains(&o)
            } else {
                w.iter().any(|x| x == &o)
            }
        })
        .copied()
        .collect()
}

/// One known vulnerability.
#[derive(Debug)]
pub struct Advisory {
    pub software: &'static str,
    pub id: &'static str,
    pub summary: &'static str,
    /// First fixed version of each maintained branch (major.minor).
    pub fixed: &'static [&'static str],
    /// Distributions ship the fix without changing the version.
    pub backported: bool,
}

/// The table (see the module documentation).
pub static ADVISORIES: &[Advisory] = &[
    Advisory {
        software: "Postfix",
        id: "CVE-2023-51764",
        summary: "SMTP smuggling: the fix adds smtpd_forbid_bare_newline, which must also be set",
        fixed: &["3.5.23", "3.6.13", "3.7.9", "3.8.4"],
        backported: true,
    },
    Advisory {
        software: "Exim",
        id: "CVE-2019-10149",
        summary: "remote command execution through the recipient address",
        fixed: &["4.92"],
        backported: true,
    },
    Advisory {
        software: "Exim",
        id: "CVE-2019-15846",
        summary: "remote code execution through a TLS SNI ending in a backslash",
        fixed: &["4.92.2"],
        backported: true,
    },
    Advisory {
        software: "Exim",
        id: "CVE-2020-28017 (21Nails)",
        summary: "21 vulnerabilities including unauthenticated remote code execution",
        fixed: &["4.94.2"],
        backported: true,
    },
    Advisory {
        software: "Exim",
        id: "CVE-2023-42115",
        summary: "out-of-bounds write in AUTH EXTERNAL (with CVE-2023-42116/42114)",
        fixed: &["4.96.1"],
        backported: true,
    },
    Advisory {
        software: "Exim",
        id: "CVE-2023-51766",
        summary: "SMTP smuggling (bare LF accepted as end of data)",
        fixed: &["4.97.1"],
        backported: true,
    },
    Advisory {
        software: "Sendmail",
        id: "CVE-2023-51765",
        summary: "SMTP smuggling (bare LF accepted as end of data)",
        fixed: &["8.18.1"],
        backported: true,
    },
    Advisory {
        software: "OpenSMTPD",
        id: "CVE-2020-7247",
        summary: "remote command execution as root through MAIL FROM",
        fixed: &["6.6.2"],
        backported: true,
    },
    Advisory {
        software: "OpenSMTPD",
        id: "CVE-2020-8794",
        summary: "remote command execution through a malicious server reply",
        fixed: &["6.6.4"],
        backported: true,
    },
    Advisory {
        software: "Microsoft",
        id: "end of life",
        summary: "the SMTP service of IIS 5/6 or Exchange 2003 and older gets no security fixes",
        fixed: &["7.0"],
        backported: false,
    },
];

impl Advisory {
    /// True when `v` is older than the fix on its branch (or than every
    /// listed branch). A version on a branch newer than all listed is fixed.
    pub fn affects(&self, v: &Version) -> bool {
        let fixes: Vec<Version> = self
            .fixed
            .iter()
            .filter_map(|f| Version::parse(f))
            .collect();
        if let Some(f) = fixes.iter().find(|f| f.branch() == v.branch()) {
            return v < f;
        }
        fixes.iter().all(|f| v < f)
    }
}

/// The advisories that apply to a detected version.
pub fn advisories_for(d: &Detected) -> Vec<&'static Advisory> {
    let Some(v) = &d.version else {
        return Vec::new();
    };
    ADVISORIES
        .iter()
        .filter(|a| a.software == d.software && a.affects(v))
        .collect()
}

/// Whether the table has entries for this software.
pub fn in_table(software: &str) -> bool {
    ADVISORIES.iter().any(|a| a.software == software)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn versions_parse_and_compare() {
        assert_eq!(v("3.7.11").0, [3, 7, 11]);
        assert_eq!(v("(3.7.11)").0, [3, 7, 11]);
        assert_eq!(v("6.6.2p1").0, [6, 6, 2]);
        assert!(v("4.96") < v("4.96.1"));
        assert!(v("4.96.1") == v("4.96.1.0"));
        assert!(v("3.10.1") > v("3.9.9"));
        for bad in ["3", "x.y", "", "1.2.3.4.5.6.7", "9999999.1"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn detects_software_versions_and_os() {
        let d = detect("mail.weak.test ESMTP Postfix 3.7.11 (Debian/GNU)").unwrap();
        assert_eq!((d.software, d.version), ("Postfix", Some(v("3.7.11"))));
        assert_eq!(
            detect_os("mail.weak.test ESMTP Postfix 3.7.11 (Debian/GNU)"),
            ["Debian"]
        );
        let d = detect("mx.example.org ESMTP Postfix").unwrap();
        assert_eq!(d.version, None);
        let d = detect("mx ESMTP Exim 4.96 Mon, 01 Jan 2024 00:00:00 +0000").unwrap();
        assert_eq!((d.software, d.version), ("Exim", Some(v("4.96"))));
        let d = detect("mx ESMTP Sendmail 8.17.1/8.17.1; Mon, 1 Jan 2024").unwrap();
        assert_eq!(d.version, Some(v("8.17.1")));
        let d = detect("mx Microsoft ESMTP MAIL Service, Version: 6.0.3790.4675 ready at").unwrap();
        assert_eq!(
            (d.software, d.version),
            ("Microsoft", Some(v("6.0.3790.4675")))
        );
        // The host name is not the software.
        assert_eq!(detect("postfix.example.org ESMTP"), None);
        assert_eq!(detect("exim ESMTP ready"), None);
        assert!(detect_os("debian.example.org ESMTP").is_empty());
        assert_eq!(detect_os("mx ESMTP (Red Hat)"), ["Red Hat"]);
    }

    #[test]
    fn advisories_follow_branches() {
        let pf = |s| Detected {
            software: "Postfix",
            version: Some(v(s)),
        };
        assert!(advisories_for(&pf("3.7.8"))
            .iter()
            .any(|a| a.id == "CVE-2023-51764"));
        assert!(advisories_for(&pf("3.7.11")).is_empty());
        assert!(advisories_for(&pf("3.9.0")).is_empty());
        assert!(!advisories_for(&pf("3.4.14")).is_empty());
        assert!(!advisories_for(&pf("3.8.3")).is_empty());
        let exim = |s| Detected {
            software: "Exim",
            version: Some(v(s)),
        };
        let ids = |d| -> Vec<&str> { advisories_for(&d).iter().map(|a| a.id).collect() };
        assert_eq!(ids(exim("4.96")), ["CVE-2023-42115", "CVE-2023-51766"]);
        assert_eq!(ids(exim("4.97")), ["CVE-2023-51766"]);
        assert!(ids(exim("4.97.1")).is_empty());
        assert!(ids(exim("4.98")).is_empty());
        assert_eq!(ids(exim("4.91")).len(), 5);
        let ms = Detected {
            software: "Microsoft",
            version: Some(v("6.0.3790.4675")),
        };
        assert!(!advisories_for(&ms)[0].backported);
    }
}
