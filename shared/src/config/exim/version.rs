//! Exim versions: upstream numbers (`4.96`, `4.97.1`, `4.100.1`) and
//! distribution package versions (`4.96-15+deb12u4`, `4.95-4ubuntu2.5`),
//! compared the way dpkg compares them, and the SMTP smuggling fix.
//!
//! Facts, with sources:
//! - CVE-2023-51766 is fixed upstream in 4.97.1 (Exim ChangeLog "JH/s1
//!   Refuse to accept a line "dot, LF" as end-of-DATA unless operating in
//!   LF-only mode"; exim.org/static/doc/security/CVE-2023-51766.txt).
//! - Debian 12 backported it in 4.96-15+deb12u4 (exim4 changelog.Debian,
//!   "77_CVE-2023-51766_4.97.1-release.diff", 2024-01-01; read from the
//!   exim4-config 4.96-15+deb12u11 package).
//! - Ubuntu (canonical/ubuntu-security-notices, osv/cve/2023/
//!   UBUNTU-CVE-2023-51766.json): 20.04 4.93-13ubuntu1.10, 22.04
//!   4.95-4ubuntu2.5, 18.04 ESM 4.90.1-1ubuntu1.10+esm3, 16.04 ESM
//!   4.86.2-2ubuntu2.6+esm6; 14.04 not fixed. 24.04 is not listed as
//!   affected (its 4.97 package is judged fixed by Ubuntu).
//! - Debian 11 (4.94.2-7+deb11uN): we found no record of the fix, so such
//!   versions are judged "cannot tell" (warn), never "fixed".
//! - A later smuggling variant, CVE-2026-94057 ("Exim before 4.100.1 allows
//!   SMTP smuggling … crafted data sent after a rejection during DATA
//!   processing"), is fixed upstream in 4.100.1 and in Debian 12 by
//!   4.96-15+deb12u11 (same changelog, 2026-11-26).
//! - The current stable release is 4.100.1 (the newest upstream release the
//!   Debian changelog above refers to).

use std::cmp::Ordering;
use std::fmt;

/// The release assumed when the input states none.
pub const CURRENT_STABLE: &str = "4.100.1";

/// A parsed version: upstream numbers plus the distribution revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub text: String,
    /// `[4, 96]`, `[4, 97, 1]`.
    pub nums: Vec<u32>,
    /// The Debian/Ubuntu revision after the first `-` (`15+deb12u4`).
    pub revision: Option<String>,
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let s = s.strip_prefix("exim-").unwrap_or(s);
        // Epochs (`1:4.96-…`) are not used by Exim packages; drop one if present.
        let s = match s.split_once(':') {
            Some((e, rest)) if e.bytes().all(|b| b.is_ascii_digit()) => rest,
            _ => s,
        };
        let (up, rev) = match s.split_once('-') {
            Some((u, r)) if !r.is_empty() => (u, Some(r.to_string())),
            _ => (s, None),
        };
        // `4.96`, `4.97.1`; upstream `4.96.2` style; ignore `~RC1`-like tails.
        let up_main = up.split(['~', '+', '_']).next().unwrap_or(up);
        let nums: Vec<u32> = up_main
            .split('.')
            .map(|p| p.parse::<u32>())
            .collect::<Result<_, _>>()
            .ok()?;
        if nums.len() < 2 || nums[0] != 4 || nums.len() > 4 {
            return None;
        }
        Some(Version {
            text: s.to_string(),
            nums,
            revision: rev,
        })
    }

    pub fn at_least(&self, other: &[u32]) -> bool {
        let n = self.nums.len().max(other.len());
        for i in 0..n {
            let a = self.nums.get(i).copied().unwrap_or(0);
            let b = other.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Greater => return true,
                Ordering::Less => return false,
                Ordering::Equal => {}
            }
        }
        true
    }

    pub fn upstream(&self) -> String {
        self.nums
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(".")
    }

    pub fn is_debian(&self) -> bool {
        self.revision.as_deref().is_some_and(|r| r.contains("deb"))
    }

    pub fn is_ubuntu(&self) -> bool {
        self.revision
            .as_deref()
            .is_some_and(|r| r.contains("ubuntu"))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// dpkg's comparison of version strings (upstream-revision, with `~` sorting
/// before everything and letters before non-letters).
pub fn dpkg_cmp(a: &str, b: &str) -> Ordering {
    let (ua, ra) = a.split_once('-').unwrap_or((a, ""));
    let (ub, rb) = b.split_once('-').unwrap_or((b, ""));
    dpkg_part(ua, ub).then_with(|| dpkg_part(ra, rb))
}

fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn dpkg_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Non-digit prefix.
        loop {
            let ca = a.get(i).copied().filter(|c| !c.is_ascii_digit());
            let cb = b.get(j).copied().filter(|c| !c.is_ascii_digit());
            if ca.is_none() && cb.is_none() {
                break;
            }
            let (oa, ob) = (order(ca), order(cb));
            if oa != ob {
                return oa.cmp(&ob);
            }
            if ca.is_some() {
                i += 1;
            }
            if cb.is_some() {
                j += 1;
            }
        }
        // Digit run.
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let na = std::str::from_utf8(&a[si..i])
            .unwrap_or("0")
            .trim_start_matches('0');
        let nb = std::str::from_utf8(&b[sj..j])
            .unwrap_or("0")
            .trim_start_matches('0');
        let c = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
        if c != Ordering::Equal {
            return c;
        }
    }
    Ordering::Equal
}

/// Whether a version has a fix, taking distribution backports into account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fixed {
    Yes(String),
    No(String),
    /// A distribution package we have no record for.
    CannotTell(String),
}

/// Backports of the CVE-2023-51766 fix: (upstream, revision marker, first
/// fixed package, release).
const SMUGGLING_BACKPORTS: &[(&str, &str, &str, &str)] = &[
    ("4.96", "deb12u", "4.96-15+deb12u4", "Debian 12"),
    ("4.95", "ubuntu", "4.95-4ubuntu2.5", "Ubuntu 22.04"),
    ("4.93", "ubuntu", "4.93-13ubuntu1.10", "Ubuntu 20.04"),
    (
        "4.90.1",
        "ubuntu",
        "4.90.1-1ubuntu1.10+esm3",
        "Ubuntu 18.04 (ESM)",
    ),
    (
        "4.86.2",
        "ubuntu",
        "4.86.2-2ubuntu2.6+esm6",
        "Ubuntu 16.04 (ESM)",
    ),
    ("4.97", "ubuntu", "4.97-0", "Ubuntu 24.04"),
];

/// CVE-2023-51766: fixed in 4.97.1 and the backports above.
pub fn smuggling_fixed(v: &Version) -> Fixed {
    if v.at_least(&[4, 97, 1]) {
        return Fixed::Yes(format!(
            "Exim {} has the fix (4.97.1 or later)",
            v.upstream()
        ));
    }
    let Some(rev) = &v.revision else {
        return Fixed::No(format!("Exim {} predates 4.97.1", v.upstream()));
    };
    for (up, marker, fixed, release) in SMUGGLING_BACKPORTS {
        if v.upstream() == *up && rev.contains(marker) {
            return if dpkg_cmp(&v.text, fixed) != Ordering::Less {
                Fixed::Yes(format!(
                    "package {} carries the backported fix ({release}: fixed in {fixed})",
                    v.text
                ))
            } else {
                Fixed::No(format!(
                    "package {} predates the backported fix ({release}: fixed in {fixed})",
                    v.text
                ))
            };
        }
    }
    Fixed::CannotTell(format!(
        "package {} is a distribution build of Exim {}; whether it carries a backport of the \
         4.97.1 fix is not in mailaudit's table",
        v.text,
        v.upstream()
    ))
}

/// CVE-2026-94057: fixed in 4.100.1 and Debian 12's 4.96-15+deb12u11.
pub fn smuggling2_fixed(v: &Version) -> Fixed {
    if v.at_least(&[4, 100, 1]) {
        return Fixed::Yes(format!("Exim {} is 4.100.1 or later", v.upstream()));
    }
    match &v.revision {
        None => Fixed::No(format!("Exim {} predates 4.100.1", v.upstream())),
        Some(rev) if v.upstream() == "4.96" && rev.contains("deb12u") => {
            if dpkg_cmp(&v.text, "4.96-15+deb12u11") != Ordering::Less {
                Fixed::Yes(format!(
                    "package {} carries the fix (4.96-15+deb12u11)",
                    v.text
                ))
            } else {
                Fixed::No(format!(
                    "package {} predates Debian 12's fix (4.96-15+deb12u11)",
                    v.text
                ))
            }
        }
        Some(_) => Fixed::CannotTell(format!(
            "package {}: whether it carries the 4.100.1 fix is not in mailaudit's table",
            v.text
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        let v = Version::parse("4.96-15+deb12u4").unwrap();
        assert_eq!(v.nums, vec![4, 96]);
        assert!(v.is_debian());
        assert_eq!(Version::parse("4.100.1").unwrap().nums, vec![4, 100, 1]);
        assert!(Version::parse("3.7.11").is_none());
        assert!(Version::parse("hello").is_none());
        assert!(Version::parse("4.98.2-1~bpo12+1")
            .unwrap()
            .at_least(&[4, 97, 1]));
    }

    #[test]
    fn dpkg_ordering() {
        assert_eq!(
            dpkg_cmp("4.96-15+deb12u4", "4.96-15+deb12u4"),
            Ordering::Equal
        );
        assert_eq!(
            dpkg_cmp("4.96-15+deb12u3", "4.96-15+deb12u4"),
            Ordering::Less
        );
        assert_eq!(
            dpkg_cmp("4.96-15+deb12u11", "4.96-15+deb12u4"),
            Ordering::Greater
        );
        assert_eq!(dpkg_cmp("4.96-15", "4.96-15+deb12u4"), Ordering::Less);
        assert_eq!(dpkg_cmp("4.98.2-1~bpo12+1", "4.98.2-1"), Ordering::Less);
        assert_eq!(
            dpkg_cmp("4.95-4ubuntu2.10", "4.95-4ubuntu2.5"),
            Ordering::Greater
        );
    }

    #[test]
    fn smuggling_table() {
        let f = |s: &str| smuggling_fixed(&Version::parse(s).unwrap());
        assert!(matches!(f("4.96-15+deb12u4"), Fixed::Yes(_)));
        assert!(matches!(f("4.96-15+deb12u3"), Fixed::No(_)));
        assert!(matches!(f("4.96"), Fixed::No(_)));
        assert!(matches!(f("4.97.1"), Fixed::Yes(_)));
        assert!(matches!(f("4.95-4ubuntu2.5"), Fixed::Yes(_)));
        assert!(matches!(f("4.95-4ubuntu2.4"), Fixed::No(_)));
        assert!(matches!(f("4.94.2-7+deb11u2"), Fixed::CannotTell(_)));
        assert!(matches!(f("4.97-4ubuntu4.4"), Fixed::Yes(_)));
        let g = |s: &str| smuggling2_fixed(&Version::parse(s).unwrap());
        assert!(matches!(g("4.96-15+deb12u11"), Fixed::Yes(_)));
        assert!(matches!(g("4.96-15+deb12u10"), Fixed::No(_)));
        assert!(matches!(g("4.100.1"), Fixed::Yes(_)));
    }
}
