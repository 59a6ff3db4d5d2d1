//! Sans-IO SMTP reply parsing (RFC 5321 §4.2, enhanced status codes RFC
//! 3463). Bytes go in with [`ReplyParser::feed`], whole replies come out of
//! [`ReplyParser::next_reply`]. Nothing here reads a socket.
//!
//! Replies come from untrusted servers, so every dimension is bounded
//! ([`MAX_LINE`], [`MAX_LINES`]), invalid UTF-8 is replaced, and a
//! malformed reply is an error value, never a panic.

use std::fmt;

/// Longest reply line accepted, terminator excluded (RFC 5321 §4.5.3.1.5
/// says 512 octets including CRLF; servers exceed it, so we allow more).
pub const MAX_LINE: usize = 2048;
/// Most lines in one (multi-line) reply. A large EHLO has ~20.
pub const MAX_LINES: usize = 100;
/// Lines longer than this are shortened in what we keep (evidence).
pub const KEEP_LINE: usize = 512;

/// An RFC 3463 enhanced status code, `class.subject.detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enhanced {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl fmt::Display for Enhanced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One complete reply: a three-digit code and its text lines (code and
/// separator removed; invalid UTF-8 replaced; long lines shortened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The enhanced status code of the first line, when present and
    /// consistent with the reply's class.
    pub enhanced: Option<Enhanced>,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// First text line (for the greeting: the server's name and banner).
    pub fn first(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }

    /// All text, lines joined by a space.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// The reply as the server sent it (`250-a` / `250 b`), one line each.
    pub fn wire_lines(&self) -> Vec<String> {
        let n = self.lines.len();
        if n == 0 {
            return vec![format!("{}", self.code)];
        }
        self.lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let sep = if i + 1 == n { ' ' } else { '-' };
                format!("{}{sep}{l}", self.code)
            })
            .collect()
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.wire_lines().join(" / "))
    }
}

/// Why bytes are not an SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// A line did not start with three digits followed by ` `, `-` or the
    /// end of the line. Carries an escaped excerpt of the line.
    NotSmtp(String),
    /// The lines of a multi-line reply carry different codes.
    CodeChanged {
        first: u16,
        then: u16,
    },
    LineTooLong,
    TooManyLines,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::NotSmtp(l) => write!(f, "not an SMTP reply: {l:?}"),
            ReplyError::CodeChanged { first, then } => {
                write!(f, "multi-line reply changed code from {first} to {then}")
            }
            ReplyError::LineTooLong => write!(f, "reply line longer than {MAX_LINE} bytes"),
            ReplyError::TooManyLines => write!(f, "reply of more than {MAX_LINES} lines"),
        }
    }
}

/// Turns untrusted bytes into text fit for a transcript: invalid UTF-8
/// replaced, control characters (other than tab) shown as `<XX>`, and
/// shortened to [`KEEP_LINE`] characters.
pub fn printable(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut n = 0;
    for c in s.chars() {
        let piece = match c {
            '\r' => "<CR>".to_string(),
            '\n' => "<LF>".to_string(),
            '\t' => "\t".to_string(),
            c if c.is_control() => format!("<{:02X}>", c as u32),
            c => c.to_string(),
        };
        let len = piece.chars().count();
        if n + len > KEEP_LINE {
            out.push('…');
            break;
        }
        n += len;
        out.push_str(&piece);
    }
    out
}

/// Parses `d.ddd.ddd` at the start of `text`, if its class matches.
fn enhanced_code(code: u16, text: &str) -> Option<Enhanced> {
    let word = text.split([' ', '\t']).next()?;
    let mut parts = word.splitn(3, '.');
    let class: u8 = parts.next()?.parse().ok()?;
    let subject = parts.next()?;
    let detail = parts.next()?;
    let num = |s: &str| -> Option<u16> {
        if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (subject, detail) = (num(subject)?, num(detail)?);
    if !matches!(class, 2 | 4 | 5) || u16::from(class) != code / 100 {
        return None;
    }
    Some(Enhanced {
        class,
        subject,
        detail,
    })
}

/// One line: (code, is_last, text).
fn parse_line(line: &[u8]) -> Result<(u16, bool, String), ReplyError> {
    let digits = line.get(..3).filter(|d| d.iter().all(u8::is_ascii_digit));
    let Some(d) = digits else {
        return Err(ReplyError::NotSmtp(printable(&line[..line.len().min(80)])));
    };
    let code = d.iter().fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
    if !(200..=599).contains(&code) && !(100..200).contains(&code) {
        return Err(ReplyError::NotSmtp(printable(&line[..line.len().min(80)])));
    }
    let (last, rest) = match line.get(3) {
        None => (true, &line[3..]),
        Some(b' ') => (true, &line[4..]),
        Some(b'-') => (false, &line[4..]),
        Some(_) => return Err(ReplyError::NotSmtp(printable(&line[..line.len().min(80)]))),
    };
    Ok((code, last, printable(rest)))
}

/// Accumulates bytes and yields replies. Accepts CRLF or a bare LF as the
/// line end from the server (be liberal in what you receive).
#[derive(Debug, Default)]
pub struct ReplyParser {
    buf: Vec<u8>,
    code: Option<u16>,
    lines: Vec<String>,
}

impl ReplyParser {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet part of a complete reply line.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True when part of a reply (some lines, or a partial line) is held.
    pub fn is_mid_reply(&self) -> bool {
        !self.buf.is_empty() || !self.lines.is_empty()
    }

    /// The next complete reply, `Ok(None)` if more bytes are needed.
    /// After an error the parser is in an undefined (but safe) state: the
    /// session should end.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, ReplyError> {
        loop {
            let Some(nl) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.buf.len() > MAX_LINE {
                    return Err(ReplyError::LineTooLong);
                }
                return Ok(None);
            };
            let mut end = nl;
            if end > 0 && self.buf[end - 1] == b'\r' {
                end -= 1;
            }
            if end > MAX_LINE {
                return Err(ReplyError::LineTooLong);
            }
            let parsed = parse_line(&self.buf[..end]);
            self.buf.drain(..=nl);
            let (code, last, text) = parsed?;
            match self.code {
                Some(first) if first != code => {
                    return Err(ReplyError::CodeChanged { first, then: code })
                }
                _ => self.code = Some(code),
            }
            if self.lines.len() >= MAX_LINES {
                return Err(ReplyError::TooManyLines);
            }
            self.lines.push(text);
            if last {
                let lines = std::mem::take(&mut self.lines);
                self.code = None;
                let enhanced = enhanced_code(code, lines.first().map_or("", |s| s.as_str()));
                return Ok(Some(Reply {
                    code,
                    enhanced,
                    lines,
                }));
            }
        }
    }
}

/// Parses every reply in `bytes` (for tests and pasted transcripts).
pub fn parse_all(bytes: &[u8]) -> Result<Vec<Reply>, ReplyError> {
    let mut p = ReplyParser::new();
    p.feed(bytes);
    let mut out = Vec::new();
    while let Some(r) = p.next_reply()? {
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_line() {
        let r = parse_all(b"220 mail.example.org ESMTP\r\n").unwrap();
        assert_eq!(r[0].code, 220);
        assert_eq!(r[0].first(), "mail.example.org ESMTP");
        let r = parse_all(b"250-mail.example.org\r\n250-SIZE 1000\r\n250 STARTTLS\r\n").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].lines, ["mail.example.org", "SIZE 1000", "STARTTLS"]);
        assert_eq!(
            r[0].wire_lines(),
            ["250-mail.example.org", "250-SIZE 1000", "250 STARTTLS"]
        );
    }

    #[test]
    fn code_alone_bare_lf_and_partial_input() {
        let r = parse_all(b"250\n354 go\n").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].lines, [""]);
        let mut p = ReplyParser::new();
        p.feed(b"250-a\r\n25");
        assert_eq!(p.next_reply(), Ok(None));
        assert!(p.is_mid_reply());
        p.feed(b"0 b\r\n");
        assert_eq!(p.next_reply().unwrap().unwrap().lines, ["a", "b"]);
        assert!(!p.is_mid_reply());
    }

    #[test]
    fn enhanced_codes() {
        let r = &parse_all(b"550 5.1.1 <x@y>: unknown\r\n").unwrap()[0];
        assert_eq!(r.enhanced.unwrap().to_string(), "5.1.1");
        let r = &parse_all(b"250 2.0.0 Ok\r\n").unwrap()[0];
        assert_eq!(r.enhanced.unwrap().subject, 0);
        // Class must match the code; malformed codes are ignored.
        for l in [
            "550 2.1.1 x",
            "250 Ok",
            "250 2.0",
            "250 2.1234.0 x",
            "250 2..0",
        ] {
            let r = &parse_all(format!("{l}\r\n").as_bytes()).unwrap()[0];
            assert_eq!(r.enhanced, None, "{l}");
        }
    }

    #[test]
    fn malformed_replies_are_errors() {
        assert!(matches!(
            parse_all(b"HTTP/1.1 400 Bad Request\r\n"),
            Err(ReplyError::NotSmtp(_))
        ));
        assert!(matches!(
            parse_all(b"250x\r\n"),
            Err(ReplyError::NotSmtp(_))
        ));
        assert!(matches!(
            parse_all(b"099 x\r\n"),
            Err(ReplyError::NotSmtp(_))
        ));
        assert_eq!(
            parse_all(b"250-a\r\n550 b\r\n"),
            Err(ReplyError::CodeChanged {
                first: 250,
                then: 550
            })
        );
        let long = vec![b'a'; MAX_LINE + 10];
        let mut p = ReplyParser::new();
        p.feed(b"250 ");
        p.feed(&long);
        assert_eq!(p.next_reply(), Err(ReplyError::LineTooLong));
        let many = "250-x\r\n".repeat(MAX_LINES + 1);
        assert_eq!(parse_all(many.as_bytes()), Err(ReplyError::TooManyLines));
    }

    #[test]
    fn untrusted_text_is_made_printable() {
        let r = &parse_all(b"220 \xff\xfe \x1b[31mred\x07\r\n").unwrap()[0];
        assert!(!r.first().contains('\x1b'));
        assert!(r.first().contains("<1B>"));
        assert!(r.first().contains('\u{fffd}'));
        let long = format!("250 {}\r\n", "é".repeat(1000));
        let r = &parse_all(long.as_bytes()).unwrap()[0];
        assert!(r.first().chars().count() <= KEEP_LINE + 1);
    }
}
