//! Exim lists (colon-separated, `<;` to change the separator, `::` for a
//! literal colon, `!` to negate an item, `+name` for a named list) and how
//! their items match the *abstract attacker* of the relay check: an
//! unauthenticated client somewhere on the internet, who picks its own
//! sender, recipient local part and recipient domain (a domain this server
//! does not handle).
//!
//! Matching follows Exim (spec ch. 10 "Domain, host, address, and local part
//! lists"): items are tried left to right, the first match decides, a
//! negated item that matches makes the list fail, and a list that ends in a
//! negated item matches a subject that matched nothing (`hosts =
//! !192.168.3.4` equals `!hosts = 192.168.3.4`).

use super::parse::{Config, ListKind};
use crate::addr::Net;

/// Three-valued truth for "can this happen".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tri {
    No,
    Unknown,
    Yes,
}

impl Tri {
    pub fn and(self, o: Tri) -> Tri {
        self.min(o)
    }
    pub fn or(self, o: Tri) -> Tri {
        self.max(o)
    }
    pub fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

/// What the attacker can make of a condition: can it be true, can it be
/// false (each Yes/No/Unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Can {
    pub t: Tri,
    pub f: Tri,
}

impl Can {
    pub const TRUE: Can = Can {
        t: Tri::Yes,
        f: Tri::No,
    };
    pub const FALSE: Can = Can {
        t: Tri::No,
        f: Tri::Yes,
    };
    /// The attacker chooses.
    pub const EITHER: Can = Can {
        t: Tri::Yes,
        f: Tri::Yes,
    };
    pub const UNKNOWN: Can = Can {
        t: Tri::Unknown,
        f: Tri::Unknown,
    };
    /// Might match (content not seen), but the attacker can avoid it.
    pub const MAYBE: Can = Can {
        t: Tri::Unknown,
        f: Tri::Yes,
    };

    pub fn negate(self) -> Can {
        Can {
            t: self.f,
            f: self.t,
        }
    }
}

/// Splits an Exim list into items (trimmed; a trailing empty item dropped).
pub fn items(value: &str) -> Vec<String> {
    let v = value.trim();
    let (sep, body) = match v.strip_prefix('<') {
        Some(rest) => match rest.chars().next() {
            Some(c) if !c.is_alphanumeric() && !c.is_whitespace() => (c, &rest[c.len_utf8()..]),
            _ => (':', v),
        },
        None => (':', v),
    };
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == sep {
            if chars.peek() == Some(&sep) {
                chars.next();
                cur.push(sep);
                continue;
            }
            out.push(cur.trim().to_string());
            cur.clear();
            continue;
        }
        cur.push(c);
        if out.len() > 10_000 {
            break;
        }
    }
    let last = cur.trim().to_string();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// How an item relates to the set of possible attackers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every attacker matches it.
    All,
    /// The attacker can match it or not, at will.
    Some,
    /// No attacker matches it.
    Never,
    /// Cannot tell (content not pasted, expansion).
    Unknown,
    /// Might match, content unseen; the attacker can still avoid it.
    Maybe,
}

impl Reach {
    fn can_contain(self) -> Tri {
        match self {
            Reach::All | Reach::Some => Tri::Yes,
            Reach::Never => Tri::No,
            Reach::Unknown | Reach::Maybe => Tri::Unknown,
        }
    }
    fn can_avoid(self) -> Tri {
        match self {
            Reach::All => Tri::No,
            Reach::Some | Reach::Never | Reach::Maybe => Tri::Yes,
            Reach::Unknown => Tri::Unknown,
        }
    }
}

/// What a list's subject is, for the attacker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The client host (IP address and name).
    Host,
    /// The recipient domain: one this server does not handle.
    RecipientDomain,
    /// The recipient local part (chosen by the attacker).
    LocalPart,
    /// The envelope sender (chosen by the attacker).
    Sender,
    /// The sender's domain (chosen by the attacker).
    SenderDomain,
    /// The full recipient address (local part chosen, domain foreign).
    Recipient,
}

impl Subject {
    fn list_kind(self) -> ListKind {
        match self {
            Subject::Host => ListKind::Host,
            Subject::RecipientDomain | Subject::SenderDomain => ListKind::Domain,
            Subject::LocalPart => ListKind::LocalPart,
            Subject::Sender | Subject::Recipient => ListKind::Address,
        }
    }
}

/// Named lists that are, by the rule's definition, not the attacker's:
/// the recipient domain is outside `local_domains` and `relay_to_domains`,
/// the client outside `relay_from_hosts` (their width is judged apart).
pub fn definitional(kind: ListKind, name: &str) -> bool {
    matches!(
        (kind, name),
        (ListKind::Domain, "local_domains")
            | (ListKind::Domain, "relay_to_domains")
            | (ListKind::Host, "relay_from_hosts")
    )
}

/// An upper-case name with an underscore (`MAIN_RELAY_NETS`): a macro that
/// was not defined, since defined ones are already substituted.
pub fn looks_like_macro(item: &str) -> bool {
    item.len() >= 3
        && item.contains('_')
        && item.as_bytes()[0].is_ascii_uppercase()
        && item
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Opaque items: lookups, files, expansions.
pub fn is_opaque(item: &str) -> bool {
    item.contains("${") || item.contains('$') || item.starts_with('/') || lookup_prefix(item)
}

fn lookup_prefix(item: &str) -> bool {
    // `lsearch;/file`, `net24-lsearch;/x`, `partial-dbm;/y`, `mysql;select …`
    match item.split_once(';') {
        Some((head, _)) => {
            !head.is_empty()
                && head
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '*' | '@'))
        }
        None => false,
    }
}

/// Evaluates a list for the attacker. `depth` caps named-list recursion.
pub fn eval(cfg: &Config, value: &str, subject: Subject, depth: u8) -> Can {
    let mut can_true = Tri::No;
    let mut can_false = Tri::No;
    let mut reach = Tri::Yes;
    let list = items(value);
    let mut last_negated = false;
    for raw in &list {
        let (neg, item) = match raw.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, raw.as_str()),
        };
        last_negated = neg;
        let r = item_reach(cfg, item, subject, depth);
        let hit = reach.and(r.can_contain());
        if neg {
            can_false = can_false.or(hit);
        } else {
            can_true = can_true.or(hit);
        }
        reach = reach.and(r.can_avoid());
        if reach == Tri::No {
            break;
        }
    }
    if last_negated {
        can_true = can_true.or(reach);
    } else {
        can_false = can_false.or(reach);
    }
    Can {
        t: can_true,
        f: can_false,
    }
}

fn item_reach(cfg: &Config, item: &str, subject: Subject, depth: u8) -> Reach {
    if let Some(name) = item.strip_prefix('+') {
        let kind = subject.list_kind();
        if definitional(kind, name) {
            return Reach::Never;
        }
        if depth > 8 {
            return Reach::Unknown;
        }
        return match cfg.list(kind, name) {
            Some(l) => {
                let c = eval(cfg, &l.value, subject, depth + 1);
                match (c.t, c.f) {
                    (Tri::Yes, Tri::No) => Reach::All,
                    (Tri::No, _) => Reach::Never,
                    (Tri::Yes, Tri::Yes) => Reach::Some,
                    (Tri::Unknown, Tri::Yes) => Reach::Maybe,
                    _ => Reach::Unknown,
                }
            }
            None => Reach::Unknown,
        };
    }
    if item == "*" {
        return Reach::All;
    }
    if looks_like_macro(item) {
        // A macro the paste never defined (Debian's MAIN_RELAY_NETS when
        // update-exim4.conf.conf is missing): its value is unknown.
        return Reach::Unknown;
    }
    if is_opaque(item) {
        // A lookup or file of admin-chosen entries: assumed not to list
        // everyone, but it may list the attacker's choice.
        return Reach::Maybe;
    }
    match subject {
        Subject::Host => host_item(item),
        Subject::RecipientDomain => domain_item(item),
        Subject::LocalPart | Subject::Sender | Subject::SenderDomain => {
            // The attacker writes these: any concrete item can be matched
            // or avoided (an empty item is the null sender `<>`).
            Reach::Some
        }
        Subject::Recipient => {
            if item == "*@*" {
                Reach::All
            } else if item.starts_with('^') {
                Reach::Unknown
            } else {
                // An explicit address or `*@domain`: a destination the admin
                // chose, not an arbitrary one.
                Reach::Never
            }
        }
    }
}

fn host_item(item: &str) -> Reach {
    if item.is_empty() {
        // Matches only local (non-TCP) submissions.
        return Reach::Never;
    }
    if item.starts_with('@') {
        return Reach::Never;
    }
    if let Some(net) = Net::parse(item) {
        if net.len == 0 {
            return Reach::All;
        }
        return if net.is_broad() {
            Reach::Some
        } else {
            Reach::Never
        };
    }
    if item.starts_with('^') {
        return Reach::Unknown;
    }
    if let Some(suffix) = item.strip_prefix("*.").or_else(|| item.strip_prefix('*')) {
        // `*.example.com` needs a forward-confirmed name in that domain;
        // `*.com` is anyone's.
        return if suffix.contains('.') {
            Reach::Never
        } else {
            Reach::Unknown
        };
    }
    Reach::Never
}

fn domain_item(item: &str) -> Reach {
    if item.starts_with('^') || item.starts_with("\\N^") {
        return Reach::Unknown;
    }
    if let Some(suffix) = item.strip_prefix('*') {
        let suffix = suffix.trim_start_matches('.');
        return if suffix.contains('.') {
            Reach::Never
        } else {
            Reach::Unknown
        };
    }
    // `@`, `localhost`, names, `@[]`, `@mx_any` (domains whose MX is this
    // host: the attacker's own domain at most, not arbitrary victims).
    Reach::Never
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Input;

    fn cfg(text: &str) -> Config {
        Config::parse(&[Input::new("x", text)])
    }

    #[test]
    fn splitting() {
        assert_eq!(items("a : b :: c :"), vec!["a", "b : c"]);
        assert_eq!(items("<; 127.0.0.1 ; ::1"), vec!["127.0.0.1", "::1"]);
        assert_eq!(items(":"), vec![""]);
        assert_eq!(items(": 127.0.0.1 : ::::1"), vec!["", "127.0.0.1", "::1"]);
        assert!(items("").is_empty());
    }

    #[test]
    fn host_lists() {
        let c = cfg("hostlist relay_from_hosts = 0.0.0.0/0\nhostlist mine = 192.0.2.0/24\n");
        assert_eq!(eval(&c, ":", Subject::Host, 0), Can::FALSE);
        assert_eq!(eval(&c, "*", Subject::Host, 0), Can::TRUE);
        assert_eq!(eval(&c, "+relay_from_hosts", Subject::Host, 0), Can::FALSE);
        assert_eq!(eval(&c, "+mine", Subject::Host, 0), Can::FALSE);
        assert_eq!(eval(&c, "!192.168.0.0/16", Subject::Host, 0), Can::TRUE);
        assert_eq!(eval(&c, "0.0.0.0/0", Subject::Host, 0), Can::TRUE);
        assert_eq!(
            eval(&c, "net-lsearch;/etc/hosts.ok", Subject::Host, 0).t,
            Tri::Unknown
        );
    }

    #[test]
    fn domain_lists() {
        let c = cfg("domainlist local_domains = *\n");
        assert_eq!(
            eval(
                &c,
                "+local_domains : +relay_to_domains",
                Subject::RecipientDomain,
                0
            ),
            Can::FALSE
        );
        assert_eq!(
            eval(&c, "!+local_domains", Subject::RecipientDomain, 0),
            Can::TRUE
        );
        assert_eq!(
            eval(&c, "example.org", Subject::RecipientDomain, 0),
            Can::FALSE
        );
        assert_eq!(eval(&c, "*", Subject::RecipientDomain, 0), Can::TRUE);
    }

    #[test]
    fn attacker_chosen_lists() {
        let c = cfg("");
        assert_eq!(eval(&c, "postmaster", Subject::LocalPart, 0), Can::EITHER);
        assert_eq!(
            eval(&c, "^[.] : ^.*[@%!/|]", Subject::LocalPart, 0),
            Can::EITHER
        );
    }
}
