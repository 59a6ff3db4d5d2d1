//! Organisational domains (RFC 7489 §3.2) from the Public Suffix List.
//!
//! The list is embedded (`public_suffix_list.dat`, 113 KiB: Debian's
//! `publicsuffix` 20230209.2326-1, comments stripped) and parsed by the
//! `publicsuffix` crate on first use, once per process or isolate. Both of
//! the list's sections apply (ICANN and private, as receivers such as
//! OpenDMARC use it), so `alice.github.io` is its own organisational domain.
//! Only the domain audit reaches this module, so hosts that never audit a
//! domain (the frontend) do not link the list.
//!
//! Regenerate the data file from a newer list by keeping the two
//! `// ===BEGIN ... DOMAINS===` markers and every rule line, dropping other
//! comments and blank lines (see the file's header).

use publicsuffix::{List, Psl};
use std::sync::OnceLock;

/// Where the embedded list comes from, for reports' assumptions.
pub const LIST_VERSION: &str =
    "Public Suffix List of 2023-02-09 (Debian publicsuffix 20230209.2326-1)";

static DATA: &str = include_str!("public_suffix_list.dat");
static LIST: OnceLock<List> = OnceLock::new();

fn list() -> &'static List {
    LIST.get_or_init(|| {
        // The embedded list is known good (a test parses it); an empty list
        // still answers (every TLD is then a public suffix).
        DATA.parse().unwrap_or_default()
    })
}

/// The public suffix of `domain` (ASCII, lower case, no trailing dot),
/// by the list's rules including wildcards and exceptions; a name no rule
/// matches has its last label as suffix (the implicit `*` rule).
pub fn public_suffix(domain: &str) -> &str {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    match list().suffix(domain.as_bytes()) {
        Some(s) => &domain[domain.len() - s.as_bytes().len()..],
        None => domain,
    }
}

/// The organisational domain of `domain` (RFC 7489 §3.2): its public
/// suffix plus one label. A name that is itself a public suffix (or has no
/// label before one) is its own organisational domain.
pub fn organizational_domain(domain: &str) -> &str {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    match list().domain(domain.as_bytes()) {
        Some(d) => &domain[domain.len() - d.as_bytes().len()..],
        None => domain,
    }
}

/// Whether `domain` is a public suffix itself (`co.uk`, `github.io`).
pub fn is_public_suffix(domain: &str) -> bool {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    public_suffix(domain) == domain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_list_parses_with_both_sections() {
        let parsed: Result<List, _> = DATA.parse();
        assert!(parsed.is_ok(), "{:?}", parsed.err());
        // One rule from each section proves both were read.
        assert_eq!(public_suffix("example.co.uk"), "co.uk");
        assert_eq!(public_suffix("alice.github.io"), "github.io");
    }

    #[test]
    fn organisational_domains() {
        let cases = [
            ("example.org", "example.org"),
            ("mail.example.org", "example.org"),
            ("a.b.c.example.org", "example.org"),
            ("shop.example.co.uk", "example.co.uk"),
            ("alice.github.io", "alice.github.io"),
            ("www.alice.github.io", "alice.github.io"),
            // Wildcard `*.ck` with the exception `!www.ck`.
            ("a.b.ck", "a.b.ck"),
            ("x.www.ck", "www.ck"),
            // No rule: the implicit `*` makes the TLD the suffix.
            ("mail.example.unknowntld", "example.unknowntld"),
            // Internationalised suffix, asked in A-label form (公司.cn).
            ("mail.example.xn--55qx5d.cn", "example.xn--55qx5d.cn"),
            // Public suffixes and single labels are their own.
            ("co.uk", "co.uk"),
            ("org", "org"),
            ("example.org.", "example.org"),
        ];
        for (name, org) in cases {
            assert_eq!(organizational_domain(name), org, "{name}");
        }
        assert!(is_public_suffix("co.uk"));
        assert!(!is_public_suffix("example.co.uk"));
    }

    #[test]
    fn odd_names_do_not_panic() {
        for name in ["", ".", "..", "a..b", "*.", "!x.y", "é.example", "-.-"] {
            let _ = organizational_domain(name);
            let _ = public_suffix(name);
        }
    }
}
