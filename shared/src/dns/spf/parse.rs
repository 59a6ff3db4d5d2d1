//! Strict RFC 7208 record parser (§4.6, §5, §6, §7.1 ABNF). Never panics:
//! untrusted text yields a [`Record`] or a [`SyntaxError`] with the byte
//! position of the offending term.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A mechanism's qualifier (§4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    pub fn symbol(self) -> char {
        match self {
            Qualifier::Pass => '+',
            Qualifier::Fail => '-',
            Qualifier::SoftFail => '~',
            Qualifier::Neutral => '?',
        }
    }
}

/// One piece of a macro-string (§7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacroPart {
    Literal(String),
    /// `%%`, `%_` or `%-`, already replaced by what they stand for.
    Escape(&'static str),
    Macro {
        /// Lower case macro letter.
        letter: char,
        /// The letter was upper case: URL-escape the value (§7.3).
        url_escape: bool,
        /// Keep this many right-hand parts (never 0).
        digits: Option<u32>,
        reverse: bool,
        /// Delimiters to split on (empty: `.`).
        delimiters: String,
    },
}

/// A parsed macro-string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MacroString {
    pub parts: Vec<MacroPart>,
}

impl MacroString {
    /// True when the string contains no macro (its text is fixed).
    pub fn is_literal(&self) -> bool {
        self.parts
            .iter()
            .all(|p| !matches!(p, MacroPart::Macro { .. }))
    }

    /// Uses a letter that depends on the connecting client (`i`, `c`, `p`,
    /// `v`) or the sender (`s`, `l`, `o`, `h`).
    pub fn is_client_dependent(&self) -> bool {
        self.parts.iter().any(|p| {
            matches!(p, MacroPart::Macro { letter, .. } if *letter != 'd' && *letter != 'r' && *letter != 't')
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    All,
    Include(MacroString),
    A {
        domain: Option<MacroString>,
        cidr4: u8,
        cidr6: u8,
    },
    Mx {
        domain: Option<MacroString>,
        cidr4: u8,
        cidr6: u8,
    },
    Ptr(Option<MacroString>),
    Ip4(Ipv4Addr, u8),
    Ip6(Ipv6Addr, u8),
    Exists(MacroString),
}

impl Mechanism {
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::All => "all",
            Mechanism::Include(_) => "include",
            Mechanism::A { .. } => "a",
            Mechanism::Mx { .. } => "mx",
            Mechanism::Ptr(_) => "ptr",
            Mechanism::Ip4(..) => "ip4",
            Mechanism::Ip6(..) => "ip6",
            Mechanism::Exists(_) => "exists",
        }
    }

    /// Counts towards the limit of 10 DNS-querying terms (§4.6.4).
    pub fn queries_dns(&self) -> bool {
        !matches!(
            self,
            Mechanism::All | Mechanism::Ip4(..) | Mechanism::Ip6(..)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermKind {
    Mechanism {
        qualifier: Qualifier,
        mechanism: Mechanism,
    },
    Redirect(MacroString),
    Exp(MacroString),
    /// An unknown modifier: ignored (§6), but its value must be a
    /// macro-string.
    Unknown {
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// Byte offset of the term in the record.
    pub pos: usize,
    /// The term as written.
    pub text: String,
    pub kind: TermKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub terms: Vec<Term>,
}

impl Record {
    pub fn mechanisms(&self) -> impl Iterator<Item = (&Term, Qualifier, &Mechanism)> {
        self.terms.iter().filter_map(|t| match &t.kind {
            TermKind::Mechanism {
                qualifier,
                mechanism,
            } => Some((t, *qualifier, mechanism)),
            _ => None,
        })
    }

    pub fn redirect(&self) -> Option<(&Term, &MacroString)> {
        self.terms.iter().find_map(|t| match &t.kind {
            TermKind::Redirect(m) => Some((t, m)),
            _ => None,
        })
    }

    pub fn exp(&self) -> Option<&MacroString> {
        self.terms.iter().find_map(|t| match &t.kind {
            TermKind::Exp(m) => Some(m),
            _ => None,
        })
    }
}

/// Why a record is not valid RFC 7208.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset in the record (0-based).
    pub pos: usize,
    /// The offending term (empty for record-level problems).
    pub term: String,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.term.is_empty() {
            write!(f, "at character {}: {}", self.pos + 1, self.message)
        } else {
            write!(
                f,
                "at character {} (\"{}\"): {}",
                self.pos + 1,
                self.term.escape_debug(),
                self.message
            )
        }
    }
}

/// Parses a whole record (`v=spf1` and its terms).
pub fn parse_record(text: &str) -> Result<Record, SyntaxError> {
    let err = |pos, term: &str, message: String| SyntaxError {
        pos,
        term: term.to_string(),
        message,
    };
    let b = text.as_bytes();
    if !(b.len() >= 6 && b[..6].eq_ignore_ascii_case(b"v=spf1") && (b.len() == 6 || b[6] == b' ')) {
        return Err(err(
            0,
            "",
            "the record does not start with \"v=spf1 \"".into(),
        ));
    }
    if let Some((pos, c)) = text.char_indices().find(|(_, c)| !(' '..='~').contains(c)) {
        let what = if c.is_ascii() {
            format!("control character 0x{:02x}", c as u32)
        } else {
            format!("non-ASCII character {c:?}")
        };
        return Err(err(pos, "", format!("{what} is not allowed in a record")));
    }
    let mut terms = Vec::new();
    let mut pos = 6;
    let (mut redirects, mut exps) = (0, 0);
    for piece in text[6..].split(' ') {
        let start = pos;
        pos += piece.len() + 1;
        if piece.is_empty() {
            continue;
        }
        let kind = parse_term(piece).map_err(|m| err(start, piece, m))?;
        match kind {
            TermKind::Redirect(_) => redirects += 1,
            TermKind::Exp(_) => exps += 1,
            _ => {}
        }
        if redirects > 1 || exps > 1 {
            return Err(err(
                start,
                piece,
                "a modifier appears twice (redirect= and exp= may appear once each)".into(),
            ));
        }
        terms.push(Term {
            pos: start,
            text: piece.to_string(),
            kind,
        });
    }
    Ok(Record { terms })
}

fn is_modifier_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn parse_term(t: &str) -> Result<TermKind, String> {
    if let Some((name, value)) = t.split_once('=') {
        if is_modifier_name(name) {
            return Ok(match name.to_ascii_lowercase().as_str() {
                "redirect" => TermKind::Redirect(domain_spec(value)?),
                "exp" => TermKind::Exp(domain_spec(value)?),
                _ => {
                    macro_string(value, false)?;
                    TermKind::Unknown {
                        name: name.to_string(),
                    }
                }
            });
        }
    }
    let (qualifier, rest) = match t.as_bytes()[0] {
        b'+' => (Qualifier::Pass, &t[1..]),
        b'-' => (Qualifier::Fail, &t[1..]),
        b'~' => (Qualifier::SoftFail, &t[1..]),
        b'?' => (Qualifier::Neutral, &t[1..]),
        _ => (Qualifier::Pass, t),
    };
    let name_end = rest.find([':', '/']).unwrap_or(rest.len());
    let name = rest[..name_end].to_ascii_lowercase();
    let arg = &rest[name_end..];
    let domain_arg = |arg: &str| -> Result<MacroString, String> {
        match arg.strip_prefix(':') {
            Some(d) => domain_spec(d),
            None if arg.is_empty() => Err(format!("{name} needs a domain: {name}:<domain>")),
            None => Err(format!("{name} takes no CIDR length")),
        }
    };
    let mechanism = match name.as_str() {
        "all" if arg.is_empty() => Mechanism::All,
        "all" => return Err("all takes no argument".into()),
        "include" => Mechanism::Include(domain_arg(arg)?),
        "exists" => Mechanism::Exists(domain_arg(arg)?),
        "a" | "mx" => {
            let (rest, c4, c6) = split_dual_cidr(arg)?;
            let domain = match rest.strip_prefix(':') {
                Some(d) => Some(domain_spec(d)?),
                None if rest.is_empty() => None,
                None => return Err(format!("unexpected {rest:?} after {name}")),
            };
            let (cidr4, cidr6) = (c4.unwrap_or(32), c6.unwrap_or(128));
            if name == "a" {
                Mechanism::A {
                    domain,
                    cidr4,
                    cidr6,
                }
            } else {
                Mechanism::Mx {
                    domain,
                    cidr4,
                    cidr6,
                }
            }
        }
        "ptr" => match arg.strip_prefix(':') {
            Some(d) => Mechanism::Ptr(Some(domain_spec(d)?)),
            None if arg.is_empty() => Mechanism::Ptr(None),
            None => return Err("ptr takes no CIDR length".into()),
        },
        "ip4" => {
            let v = arg
                .strip_prefix(':')
                .ok_or("ip4 needs an address: ip4:<address>")?;
            let (addr, cidr) = match v.split_once('/') {
                Some((a, c)) => (a, cidr_len(c, 32)?),
                None => (v, 32),
            };
            let ip: Ipv4Addr = addr
                .parse()
                .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
            Mechanism::Ip4(ip, cidr)
        }
        "ip6" => {
            let v = arg
                .strip_prefix(':')
                .ok_or("ip6 needs an address: ip6:<address>")?;
            let (addr, cidr) = match v.split_once('/') {
                Some((a, c)) => (a, cidr_len(c, 128)?),
                None => (v, 128),
            };
            let ip: Ipv6Addr = addr
                .parse()
                .map_err(|_| format!("{addr:?} is not an IPv6 address"))?;
            Mechanism::Ip6(ip, cidr)
        }
        "" => return Err("empty mechanism name".into()),
        other => return Err(format!("unknown mechanism {other:?}")),
    };
    Ok(TermKind::Mechanism {
        qualifier,
        mechanism,
    })
}

/// `ip4-cidr-length` / `ip6-cidr-length` digits: no leading zero, at most `max`.
fn cidr_len(d: &str, max: u8) -> Result<u8, String> {
    let ok = !d.is_empty()
        && d.len() <= 3
        && d.bytes().all(|b| b.is_ascii_digit())
        && (d == "0" || !d.starts_with('0'));
    let n: u16 = if ok {
        d.parse().unwrap_or(u16::MAX)
    } else {
        u16::MAX
    };
    if n > u16::from(max) {
        return Err(format!(
            "invalid CIDR length /{d} (0 to {max}, no leading zeros)"
        ));
    }
    Ok(n as u8)
}

/// Splits `[":" domain] [ "/" ip4-cidr ] [ "//" ip6-cidr ]` from the end.
fn split_dual_cidr(arg: &str) -> Result<(&str, Option<u8>, Option<u8>), String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut rest = arg;
    let mut c6 = None;
    let mut c4 = None;
    if let Some(i) = rest.rfind("//") {
        if digits(&rest[i + 2..]) {
            c6 = Some(cidr_len(&rest[i + 2..], 128)?);
            rest = &rest[..i];
        }
    }
    if let Some(i) = rest.rfind('/') {
        if digits(&rest[i + 1..]) {
            c4 = Some(cidr_len(&rest[i + 1..], 32)?);
            rest = &rest[..i];
        }
    }
    Ok((rest, c4, c6))
}

/// `toplabel` of §7.1.
pub fn is_toplabel(l: &str) -> bool {
    let b = l.as_bytes();
    if b.is_empty() || !b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-') {
        return false;
    }
    if b.contains(&b'-') {
        b[0].is_ascii_alphanumeric() && b[b.len() - 1].is_ascii_alphanumeric()
    } else {
        b.iter().any(|c| c.is_ascii_alphabetic())
    }
}

/// `domain-spec = macro-string domain-end`.
pub fn domain_spec(s: &str) -> Result<MacroString, String> {
    if s.is_empty() {
        return Err("empty domain".into());
    }
    let ms = macro_string(s, false)?;
    match ms.parts.last() {
        Some(MacroPart::Literal(text)) => {
            let t = text.strip_suffix('.').unwrap_or(text);
            let ok = t.rfind('.').is_some_and(|i| is_toplabel(&t[i + 1..]));
            if !ok {
                return Err(format!(
                    "{s:?} does not end in a valid top-level label (\".\" toplabel)"
                ));
            }
        }
        Some(_) => {}
        None => return Err("empty domain".into()),
    }
    Ok(ms)
}

/// `macro-string` (or `explain-string` when `explain`: spaces and the
/// letters c, r, t are allowed).
pub fn macro_string(s: &str, explain: bool) -> Result<MacroString, String> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c != b'%' {
            let allowed = (0x21..=0x7e).contains(&c) || (explain && c == b' ');
            if !allowed {
                return Err(format!("character {:?} is not allowed here", c as char));
            }
            lit.push(c as char);
            i += 1;
            continue;
        }
        let esc = match b.get(i + 1) {
            Some(b'%') => Some("%"),
            Some(b'_') => Some(" "),
            Some(b'-') => Some("%20"),
            Some(b'{') => None,
            _ => {
                return Err(
                    "a % must be followed by {, %, _ or - (write %% for a literal %)".into(),
                )
            }
        };
        if !lit.is_empty() {
            parts.push(MacroPart::Literal(std::mem::take(&mut lit)));
        }
        if let Some(e) = esc {
            parts.push(MacroPart::Escape(e));
            i += 2;
            continue;
        }
        let close = s[i + 2..]
            .find('}')
            .map(|j| i + 2 + j)
            .ok_or("unterminated macro (missing })")?;
        let body = &s[i + 2..close];
        let mut chars = body.chars();
        let letter = chars.next().ok_or("empty macro %{}")?;
        let lower = letter.to_ascii_lowercase();
        let valid = "slodiphv".contains(lower) || (explain && "crt".contains(lower));
        if !letter.is_ascii_alphabetic() || !valid {
            return Err(format!("invalid macro letter {letter:?}"));
        }
        let rest = chars.as_str();
        let ndig = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
        let digits = if ndig > 0 {
            let n = rest[..ndig].bytes().fold(0u32, |a, d| {
                a.saturating_mul(10).saturating_add(u32::from(d - b'0'))
            });
            if n == 0 {
                return Err("a macro's digit transformer must not be 0".into());
            }
            Some(n)
        } else {
            None
        };
        let mut rest = &rest[ndig..];
        let reverse = rest.starts_with(['r', 'R']);
        if reverse {
            rest = &rest[1..];
        }
        if !rest.chars().all(|c| ".-+,/_=".contains(c)) {
            return Err(format!(
                "invalid macro transformer or delimiter in %{{{body}}}"
            ));
        }
        parts.push(MacroPart::Macro {
            letter: lower,
            url_escape: letter.is_ascii_uppercase(),
            digits,
            reverse,
            delimiters: rest.to_string(),
        });
        i = close + 1;
    }
    if !lit.is_empty() {
        parts.push(MacroPart::Literal(lit));
    }
    Ok(MacroString { parts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perr(r: &str) -> SyntaxError {
        parse_record(r).unwrap_err()
    }

    #[test]
    fn valid_records_parse() {
        for r in [
            "v=spf1",
            "v=spf1 -all",
            "V=SPF1 a mx/24 a:%{d}.example.org//64 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all",
            "v=spf1 include:_spf.example.com exists:%{ir}.%{l1r+-}._spf.%{d} redirect=x.example.org",
            "v=spf1 ptr ptr:example.org exp=explain._spf.%{d} foo=bar%%baz",
            "v=spf1  a   -all ",
            "v=spf1 a:foo:bar/baz.example.com",
        ] {
            assert!(parse_record(r).is_ok(), "{r}: {:?}", parse_record(r));
        }
    }

    #[test]
    fn errors_carry_positions() {
        let e = perr("v=spf1 ip4:1.2.3.4 -all moo");
        assert_eq!(e.pos, 24);
        assert_eq!(e.term, "moo");
        for r in [
            "v=spf1 -all.",
            "v=spf1 ip4:1.2.3.4/33",
            "v=spf1 ip4:1.2.3.4/032",
            "v=spf1 a/24/64",
            "v=spf1 a:museum",
            "v=spf1 include:",
            "v=spf1 exists:%(ir).x.org",
            "v=spf1 exp=%{r}.example.com",
            "v=spf1 redirect=a.org redirect=b.org",
            "v=spf1 a\r-all",
            "v=spf1 \u{80}a",
            "v=spf1 ptr/0",
            "v=spf1 ip6::CAFE::BABE",
            "v=spf1 =all",
            "v=spf1 a:%{d0}.org",
        ] {
            assert!(parse_record(r).is_err(), "{r}");
        }
    }

    #[test]
    fn macros_parse() {
        let m = macro_string("%{L2r+-}.x%%%_%-", false).unwrap();
        assert_eq!(
            m.parts[0],
            MacroPart::Macro {
                letter: 'l',
                url_escape: true,
                digits: Some(2),
                reverse: true,
                delimiters: "+-".into()
            }
        );
        assert!(macro_string("%{c}", false).is_err());
        assert!(macro_string("%{c} is here", true).is_ok());
    }
}
