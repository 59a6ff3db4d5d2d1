//! One log line → its time, its format, and the one event the rules need.
//!
//! Formats:
//! - syslog lines (BSD `Nov 29 07:00:00 host prog[pid]: msg` or RFC 3339
//!   `2026-11-29T07:00:00.123+01:00 host prog[pid]: msg`) from Postfix
//!   (`postfix/smtpd`, `postfix/submission/smtpd`, `postfix/qmgr` …),
//!   Sendmail (`sendmail`, `sm-mta`) and Exim (`exim`), plus other mail
//!   programs (Dovecot …) that are counted but carry no event;
//! - Exim's mainlog (`2026-11-29 07:00:00 [pid] 1rABCd-000123-AB <= …`);
//! - Exchange's SMTP protocol logs and message-tracking logs: CSV with a
//!   `#Fields:` header naming the columns (`#Log-type:` tells receive from
//!   send).
//!
//! The messages matched are the ones the software writes (Postfix
//! `smtpd_sasl_glue.c`, `smtp.c`, `qmgr`; Exim's `log.c` mainlog entries;
//! Sendmail's `srvrsmtp.c`/`deliver.c`; Exchange's transport logs), the same
//! ones fail2ban's filters match. Hand-written byte scanning rather than
//! regular expressions: the analyser must take a million lines in well
//! under three seconds, and a line needs only a few fixed substrings.

use super::time::{parse_bsd_in, parse_exim, parse_rfc3339, year_of};
use std::net::IpAddr;

/// Which kind of log a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Postfix,
    Exim,
    Sendmail,
    ExchangeProtocol,
    ExchangeTracking,
    /// A syslog line of another mail program (Dovecot, OpenDKIM …).
    OtherMail,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Postfix,
        Format::Exim,
        Format::Sendmail,
        Format::ExchangeProtocol,
        Format::ExchangeTracking,
        Format::OtherMail,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Postfix => "Postfix syslog",
            Format::Exim => "Exim mainlog",
            Format::Sendmail => "Sendmail syslog",
            Format::ExchangeProtocol => "Exchange SMTP protocol log",
            Format::ExchangeTracking => "Exchange message tracking log",
            Format::OtherMail => "other mail programs (syslog)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Sent,
    Deferred,
    Bounced,
}

/// What a line says, for the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    None,
    /// A failed SMTP AUTH from a client.
    AuthFail {
        ip: IpAddr,
        user: Option<&'a str>,
    },
    /// A message (queue id) submitted by an authenticated user.
    AuthOk {
        id: &'a str,
        user: &'a str,
    },
    /// The recipients of a queued message (Postfix qmgr `nrcpt`, Sendmail
    /// `nrcpts`).
    Queued {
        id: &'a str,
        rcpts: u32,
    },
    /// Recipients submitted by a user, counted at once (Exim with
    /// `received_recipients`, Exchange tracking).
    Submitted {
        user: &'a str,
        rcpts: u32,
    },
    /// One delivery attempt's outcome. `per_rcpt`: the line counts one
    /// recipient of message `id` (Exim, where arrivals lack a count).
    Delivery {
        id: Option<&'a str>,
        status: Status,
        reason: &'a str,
        peer: Option<&'a str>,
        per_rcpt: bool,
    },
    /// A client refused for relaying.
    Relay {
        ip: IpAddr,
    },
    /// A TLS handshake that failed.
    Tls {
        dir: Dir,
        peer: &'a str,
    },
    /// The message left the queue (forget its id).
    Done {
        id: &'a str,
    },
}

/// Column positions of an Exchange CSV log (from its `#Fields:` line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    pub tracking: bool,
    pub send: bool,
    pub date: usize,
    pub remote: Option<usize>,
    pub event: Option<usize>,
    pub data: Option<usize>,
    pub context: Option<usize>,
    pub event_id: Option<usize>,
    pub source: Option<usize>,
    pub sender: Option<usize>,
    pub rcpt_count: Option<usize>,
    pub rcpt_status: Option<usize>,
    pub server_host: Option<usize>,
}

impl Columns {
    /// The receive protocol log's standard columns (used before any
    /// `#Fields:` line is seen).
    pub fn protocol_default() -> Columns {
        Columns {
            date: 0,
            remote: Some(5),
            event: Some(6),
            data: Some(7),
            context: Some(8),
            ..Default::default()
        }
    }

    fn from_fields(fields: &str, send: bool) -> Columns {
        let names: Vec<&str> = fields.split(',').map(str::trim).collect();
        let at = |n: &str| names.iter().position(|x| x.eq_ignore_ascii_case(n));
        Columns {
            tracking: at("event-id").is_some(),
            send,
            date: at("date-time").unwrap_or(0),
            remote: at("remote-endpoint"),
            event: at("event"),
            data: at("data"),
            context: at("context"),
            event_id: at("event-id"),
            source: at("source"),
            sender: at("sender-address"),
            rcpt_count: at("recipient-count"),
            rcpt_status: at("recipient-status"),
            server_host: at("server-hostname"),
        }
    }
}

/// State carried from line to line (Exchange headers).
#[derive(Debug, Clone)]
pub struct Context {
    pub columns: Columns,
    /// `#Log-type: SMTP Send Protocol Log` seen.
    pub send: bool,
    /// `now` and its year, computed once.
    year: Option<(i64, i64)>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            columns: Columns::protocol_default(),
            send: false,
            year: None,
        }
    }
}

/// A parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    pub time: Option<i64>,
    pub format: Option<Format>,
    pub event: Event<'a>,
}

const NOTHING: Line<'static> = Line {
    time: None,
    format: None,
    event: Event::None,
};

/// Parses one line (no trailing newline). `now` (Unix seconds) gives BSD
/// timestamps their year.
pub fn line<'a>(text: &'a str, now: i64, ctx: &mut Context) -> Line<'a> {
    let b = text.as_bytes();
    let Some(&first) = b.first() else {
        return NOTHING;
    };
    if first == b'#' {
        header(text, ctx);
        return NOTHING;
    }
    if first.is_ascii_digit() {
        if let Some((t, used)) = parse_rfc3339(b) {
            let rest = text.get(used..).unwrap_or("");
            if let Some(csv) = rest.strip_prefix(',') {
                let _ = csv;
                return exchange(text, t, ctx);
            }
            return syslog(rest, t);
        }
        if let Some((t, used)) = parse_exim(b) {
            let rest = text.get(used..).unwrap_or("");
            return Line {
                time: Some(t),
                format: Some(Format::Exim),
                event: exim(rest.trim_start()),
            };
        }
        return NOTHING;
    }
    if first.is_ascii_uppercase() {
        let year = match ctx.year {
            Some((n, y)) if n == now => y,
            _ => {
                let y = year_of(now);
                ctx.year = Some((now, y));
                y
            }
        };
        if let Some((t, used)) = parse_bsd_in(b, now, Some(year)) {
            return syslog(text.get(used..).unwrap_or(""), t);
        }
    }
    NOTHING
}

fn header(text: &str, ctx: &mut Context) {
    if let Some(f) = text.strip_prefix("#Fields:") {
        ctx.columns = Columns::from_fields(f, ctx.send);
    } else if let Some(t) = text.strip_prefix("#Log-type:") {
        ctx.send = t.contains("Send");
        ctx.columns.send = ctx.send;
    }
}

/// ` host prog[pid]: message` after a syslog timestamp.
fn syslog(rest: &str, t: i64) -> Line<'_> {
    let rest = rest.trim_start();
    let Some((_host, rest)) = rest.split_once(' ') else {
        return NOTHING;
    };
    let Some((prog, msg)) = colon_space(rest) else {
        return NOTHING;
    };
    let name = prog.split('[').next().unwrap_or(prog);
    let mut line = Line {
        time: Some(t),
        format: None,
        event: Event::None,
    };
    if let Some(sub) = name.strip_prefix("postfix") {
        // `postfix/smtpd`, `postfix/submission/smtpd`, `postfix-out/smtp`
        let Some(daemon) = sub.rsplit('/').next().filter(|_| sub.contains('/')) else {
            return NOTHING;
        };
        line.format = Some(Format::Postfix);
        line.event = postfix(daemon, msg);
    } else if matches!(name, "sendmail" | "sm-mta" | "sm-msp-queue") {
        line.format = Some(Format::Sendmail);
        line.event = sendmail(msg);
    } else if name.starts_with("exim") {
        line.format = Some(Format::Exim);
        line.event = exim(msg);
    } else if matches!(
        name,
        "dovecot" | "opendkim" | "opendmarc" | "saslauthd" | "amavis" | "spamd" | "postgrey"
    ) {
        line.format = Some(Format::OtherMail);
    } else {
        return NOTHING;
    }
    line
}

/// The address in the first `[…]` of `s` (`unknown[203.0.113.5]`,
/// `[IPv6:2001:db8::1]`).
pub fn bracket_ip(s: &str) -> Option<IpAddr> {
    let start = s.find('[')?;
    let inner = s.get(start + 1..)?;
    let end = inner.find(']')?;
    let ip = inner.get(..end)?;
    let ip = ip.strip_prefix("IPv6:").unwrap_or(ip);
    ip.parse().ok()
}

/// The value after `key` up to the first of `ends` (or the end).
fn field<'a>(s: &'a str, key: &str, ends: &[char]) -> Option<&'a str> {
    let p = s.find(key)?;
    let v = s.get(p + key.len()..)?;
    let e = v.find(ends).unwrap_or(v.len());
    v.get(..e).filter(|x| !x.is_empty())
}

/// Splits at the first `": "` (a byte search: this runs on every line).
fn colon_space(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(p) = memchr::memchr(b':', b.get(from..)?) {
        let i = from + p;
        if b.get(i + 1) == Some(&b' ') {
            return Some((s.get(..i)?, s.get(i + 2..)?));
        }
        from = i + 1;
    }
    None
}

/// `QUEUEID: rest` (Postfix and Sendmail ids: letters and digits).
fn queue_id(msg: &str) -> Option<(&str, &str)> {
    // The id is short: look for its end in the first bytes only.
    let b = msg.as_bytes();
    let end = b
        .iter()
        .take(34)
        .position(|&c| !c.is_ascii_alphanumeric())?;
    if !(5..=32).contains(&end) || b.get(end) != Some(&b':') || b.get(end + 1) != Some(&b' ') {
        return None;
    }
    Some((msg.get(..end)?, msg.get(end + 2..)?))
}

/// The text between the first `(` after `at` and the matching last `)`.
fn paren(s: &str) -> &str {
    match s.find('(') {
        Some(p) => {
            let r = s.get(p + 1..).unwrap_or("");
            r.rfind(')').and_then(|e| r.get(..e)).unwrap_or(r)
        }
        None => s.trim(),
    }
}

fn postfix<'a>(daemon: &str, msg: &'a str) -> Event<'a> {
    match daemon {
        "smtpd" => {
            if let Some(rest) = msg.strip_prefix("warning: ") {
                if let Some(p) = rest.find(": SASL ") {
                    let tail = rest.get(p..).unwrap_or("");
                    if tail.contains(" authentication failed")
                        && !tail.contains("Connection lost to authentication server")
                        && !tail.contains("Invalid authentication mechanism")
                    {
                        if let Some(ip) = bracket_ip(rest.get(..p).unwrap_or("")) {
                            return Event::AuthFail {
                                ip,
                                user: field(tail, "sasl_username=", &[',', ' ']),
                            };
                        }
                    }
                }
                return Event::None;
            }
            if let Some(rest) = msg.strip_prefix("SSL_accept error from ") {
                let peer = rest.split(": ").next().unwrap_or(rest);
                return Event::Tls { dir: Dir::In, peer };
            }
            // `NOQUEUE: reject: …` or `QUEUEID: reject: …` / `client=…`
            if let Some((id, rest)) = queue_id(msg) {
                if let Some(r) = rest.strip_prefix("reject: RCPT from ") {
                    if r.contains("Relay access denied") {
                        if let Some(ip) = bracket_ip(r) {
                            return Event::Relay { ip };
                        }
                    }
                    return Event::None;
                }
                if id != "NOQUEUE" && rest.starts_with("client=") {
                    if let Some(user) = field(rest, "sasl_username=", &[',', ' ']) {
                        return Event::AuthOk { id, user };
                    }
                }
            }
            Event::None
        }
        "qmgr" => {
            let Some((id, rest)) = queue_id(msg) else {
                return Event::None;
            };
            if rest == "removed" {
                return Event::Done { id };
            }
            if rest.starts_with("from=") {
                if let Some(n) = field(rest, "nrcpt=", &[' ', ',']).and_then(|n| n.parse().ok()) {
                    return Event::Queued { id, rcpts: n };
                }
            }
            Event::None
        }
        "smtp" | "lmtp" | "local" | "virtual" | "pipe" | "error" | "retry" | "discard" => {
            if let Some(rest) = msg.strip_prefix("SSL_connect error to ") {
                let peer = rest.split(": ").next().unwrap_or(rest);
                return Event::Tls {
                    dir: Dir::Out,
                    peer,
                };
            }
            let Some((id, rest)) = queue_id(msg) else {
                return Event::None;
            };
            if !rest.starts_with("to=") {
                return Event::None;
            }
            let Some(sp) = rest.find(" status=") else {
                return Event::None;
            };
            let st = rest.get(sp + 8..).unwrap_or("");
            let status = if st.starts_with("sent") {
                Status::Sent
            } else if st.starts_with("deferred") {
                Status::Deferred
            } else if st.starts_with("bounced") || st.starts_with("expired") {
                Status::Bounced
            } else {
                return Event::None;
            };
            let peer = field(rest, "relay=", &[',']).filter(|r| *r != "none" && *r != "local");
            Event::Delivery {
                id: Some(id),
                status,
                reason: paren(st),
                peer,
                per_rcpt: false,
            }
        }
        _ => Event::None,
    }
}

fn sendmail(msg: &str) -> Event<'_> {
    let (id, rest) = queue_id(msg).unwrap_or(("", msg));
    if rest.starts_with("AUTH failure") {
        let relay = field(rest, "relay=", &['\n']).unwrap_or("");
        if let Some(ip) = bracket_ip(relay) {
            return Event::AuthFail {
                ip,
                user: field(rest, "user=", &[',', ' ']),
            };
        }
        return Event::None;
    }
    if rest.starts_with("AUTH=server") {
        if let Some(user) = field(rest, "authid=", &[',', ' ']) {
            if !id.is_empty() {
                return Event::AuthOk { id, user };
            }
        }
        return Event::None;
    }
    if let Some(tls) = rest.strip_prefix("STARTTLS=") {
        if tls.contains("error:") {
            let dir = if tls.starts_with("client") {
                Dir::Out
            } else {
                Dir::In
            };
            let peer = field(tls, "relay=", &[',']).unwrap_or("(not logged)");
            return Event::Tls { dir, peer };
        }
        return Event::None;
    }
    if rest.starts_with("ruleset=check_rcpt") && rest.contains("Relaying denied") {
        if let Some(ip) = field(rest, "relay=", &[',']).and_then(bracket_ip) {
            return Event::Relay { ip };
        }
        return Event::None;
    }
    if id.is_empty() {
        return Event::None;
    }
    if rest.starts_with("from=") {
        if let Some(n) = field(rest, "nrcpts=", &[',', ' ']).and_then(|n| n.parse().ok()) {
            return Event::Queued { id, rcpts: n };
        }
        return Event::None;
    }
    if rest.starts_with("to=") {
        let Some(stat) = field(rest, "stat=", &['\n']) else {
            return Event::None;
        };
        let dsn5 = field(rest, "dsn=", &[',']).is_some_and(|d| d.starts_with('5'));
        let status = if stat.starts_with("Sent") {
            Status::Sent
        } else if stat.starts_with("Deferred") && !dsn5 {
            Status::Deferred
        } else if dsn5
            || stat.starts_with("User unknown")
            || stat.starts_with("Service unavailable")
        {
            Status::Bounced
        } else {
            return Event::None;
        };
        let reason = stat.strip_prefix("Deferred: ").unwrap_or(stat);
        return Event::Delivery {
            id: Some(id),
            status,
            reason,
            peer: field(rest, "relay=", &[',']),
            per_rcpt: false,
        };
    }
    if rest == "done" {
        // `sm-mta[…]: QID: done` is not logged by Sendmail; nothing here.
        return Event::None;
    }
    Event::None
}

/// Exim's message ids: `1rABCd-000123-AB` and `1rABCd-000000001a-ABCD`.
fn exim_id(s: &str) -> Option<&str> {
    let id = s.split(' ').next()?;
    let b = id.as_bytes();
    let ok = (b.len() == 16 || b.len() == 23)
        && b.get(6) == Some(&b'-')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && id.split('-').count() == 3;
    ok.then_some(id)
}

fn exim(msg: &str) -> Event<'_> {
    // Optional `[pid] ` (log_selector +pid).
    let msg = match msg.strip_prefix('[') {
        Some(r) => r.split_once("] ").map(|(_, r)| r).unwrap_or(msg),
        None => msg,
    };
    if let Some(id) = exim_id(msg) {
        let rest = msg.get(id.len()..).unwrap_or("").trim_start();
        let flag = rest.get(..3).unwrap_or("");
        let tail = rest.get(3..).unwrap_or("");
        match flag {
            "<= " => {
                let Some(a) = field(tail, " A=", &[' ']) else {
                    return Event::None;
                };
                let Some((_, user)) = a.split_once(':') else {
                    return Event::None;
                };
                if let Some(p) = tail.find(" for ") {
                    let n = tail.get(p + 5..).unwrap_or("").split_whitespace().count();
                    return Event::Submitted {
                        user,
                        rcpts: u32::try_from(n).unwrap_or(u32::MAX),
                    };
                }
                return Event::AuthOk { id, user };
            }
            "=> " | "-> " | "*> " => {
                return Event::Delivery {
                    id: Some(id),
                    status: Status::Sent,
                    reason: "",
                    peer: exim_host(tail),
                    per_rcpt: true,
                };
            }
            "== " => {
                let reason = tail.split_once(": ").map(|(_, r)| r).unwrap_or_else(|| {
                    tail.find(" defer ")
                        .and_then(|p| tail.get(p + 1..))
                        .unwrap_or("")
                });
                return Event::Delivery {
                    id: Some(id),
                    status: Status::Deferred,
                    reason,
                    peer: exim_host(tail),
                    per_rcpt: false,
                };
            }
            "** " => {
                let reason = tail.split_once(": ").map(|(_, r)| r).unwrap_or("");
                return Event::Delivery {
                    id: Some(id),
                    status: Status::Bounced,
                    reason,
                    peer: exim_host(tail),
                    per_rcpt: true,
                };
            }
            _ => {}
        }
        if rest == "Completed" || rest.starts_with("Completed ") {
            return Event::Done { id };
        }
        return Event::None;
    }
    if let Some(p) = msg.find(" authenticator failed for ") {
        let tail = msg.get(p..).unwrap_or("");
        if tail.contains(": 535 ") {
            // `… for (helo) [ip]:port …`, or `H=(helo) [ip]`
            let ip = tail
                .find(" [")
                .and_then(|q| tail.get(q + 1..))
                .and_then(bracket_ip);
            if let Some(ip) = ip {
                return Event::AuthFail {
                    ip,
                    user: field(tail, "(set_id=", &[')']),
                };
            }
        }
        return Event::None;
    }
    if msg.contains("rejected RCPT") && msg.contains("relay not permitted") {
        if let Some(ip) = msg
            .find(" [")
            .and_then(|q| msg.get(q + 1..))
            .and_then(bracket_ip)
        {
            return Event::Relay { ip };
        }
        return Event::None;
    }
    if let Some(rest) = msg.strip_prefix("TLS error on connection ") {
        if let Some(to) = rest.strip_prefix("to ") {
            let peer = to.split(" (").next().unwrap_or(to);
            return Event::Tls {
                dir: Dir::Out,
                peer,
            };
        }
        if let Some(from) = rest.strip_prefix("from ") {
            let peer = from.split(" (SSL").next().unwrap_or(from);
            let peer = peer.split(" (gnutls").next().unwrap_or(peer);
            return Event::Tls { dir: Dir::In, peer };
        }
    }
    Event::None
}

/// `H=mx.example.org [198.51.100.7]` in an Exim delivery line.
fn exim_host(tail: &str) -> Option<&str> {
    let p = tail.find(" H=")?;
    let h = tail.get(p + 3..)?;
    let end = h
        .find(']')
        .map(|e| e + 1)
        .unwrap_or_else(|| h.find(' ').unwrap_or(h.len()));
    h.get(..end)
}

/// Fields of a CSV line (`"…"` quoting; quotes stay doubled inside).
fn csv(line: &str) -> Vec<&str> {
    let mut out = Vec::with_capacity(16);
    let b = line.as_bytes();
    let mut i = 0;
    while i <= b.len() && out.len() < 64 {
        if b.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            loop {
                match b.get(j) {
                    Some(b'"') if b.get(j + 1) == Some(&b'"') => j += 2,
                    Some(b'"') | None => break,
                    Some(_) => j += 1,
                }
            }
            out.push(line.get(start..j.min(b.len())).unwrap_or(""));
            // Skip the closing quote and the comma.
            i = j + 1;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            i += 1;
        } else {
            let end = b[i.min(b.len())..]
                .iter()
                .position(|&c| c == b',')
                .map(|p| i + p)
                .unwrap_or(b.len());
            out.push(line.get(i..end).unwrap_or(""));
            i = end + 1;
        }
    }
    out
}

fn exchange<'a>(text: &'a str, t: i64, ctx: &Context) -> Line<'a> {
    let f = csv(text);
    let get = |i: Option<usize>| i.and_then(|i| f.get(i).copied()).unwrap_or("");
    let c = &ctx.columns;
    if c.tracking {
        let event = match get(c.event_id) {
            "RECEIVE" if get(c.source) == "STOREDRIVER" => {
                let user = get(c.sender);
                match get(c.rcpt_count).parse::<u32>() {
                    Ok(n) if !user.is_empty() => Event::Submitted { user, rcpts: n },
                    _ => Event::None,
                }
            }
            id @ ("DEFER" | "FAIL" | "SEND") => Event::Delivery {
                id: None,
                status: match id {
                    "DEFER" => Status::Deferred,
                    "FAIL" => Status::Bounced,
                    _ => Status::Sent,
                },
                reason: get(c.rcpt_status),
                peer: Some(get(c.server_host)).filter(|s| !s.is_empty()),
                per_rcpt: false,
            },
            _ => Event::None,
        };
        return Line {
            time: Some(t),
            format: Some(Format::ExchangeTracking),
            event,
        };
    }
    let remote = get(c.remote);
    let ip = remote
        .rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']))
        .and_then(|h| h.parse::<IpAddr>().ok());
    let data = get(c.data);
    let context = get(c.context);
    let event = if context.contains("TLS negotiation failed") {
        Event::Tls {
            dir: if c.send { Dir::Out } else { Dir::In },
            peer: remote,
        }
    } else if c.send {
        Event::None
    } else if get(c.event) == ">" && data.starts_with("535") {
        match ip {
            Some(ip) => Event::AuthFail { ip, user: None },
            None => Event::None,
        }
    } else if get(c.event) == ">" && (data.contains("5.7.54") || data.contains("Unable to relay")) {
        match ip {
            Some(ip) => Event::Relay { ip },
            None => Event::None,
        }
    } else {
        Event::None
    };
    Line {
        time: Some(t),
        format: Some(Format::ExchangeProtocol),
        event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_968_000; // 2026-11-29T16:00:00Z

    fn ev(text: &str) -> (Option<Format>, Event<'_>) {
        let l = line(text, NOW, &mut Context::default());
        (l.format, l.event)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn postfix_lines() {
        let (f, e) = ev("Nov 29 07:00:02 mx postfix/smtpd[123]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
        assert_eq!(f, Some(Format::Postfix));
        assert_eq!(
            e,
            Event::AuthFail {
                ip: ip("203.0.113.9"),
                user: None
            }
        );
        let (_, e) = ev("2026-11-29T07:00:02.123456+00:00 mx postfix/submission/smtpd[9]: warning: host.example[2001:db8::5]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=info@example.org");
        assert_eq!(
            e,
            Event::AuthFail {
                ip: ip("2001:db8::5"),
                user: Some("info@example.org")
            }
        );
        let (_, e) = ev("Nov 29 07:00:02 mx postfix/smtpd[123]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: Connection lost to authentication server");
        assert_eq!(e, Event::None);
        let (_, e) = ev("Nov 29 07:00:03 mx postfix/smtpd[123]: NOQUEUE: reject: RCPT from unknown[198.51.100.4]: 454 4.7.1 <x@other.example>: Relay access denied; from=<a@b.example> to=<x@other.example> proto=ESMTP helo=<x>");
        assert_eq!(
            e,
            Event::Relay {
                ip: ip("198.51.100.4")
            }
        );
        let (_, e) = ev("Nov 29 07:00:03 mx postfix/smtpd[123]: SSL_accept error from unknown[198.51.100.4]: -1");
        assert_eq!(
            e,
            Event::Tls {
                dir: Dir::In,
                peer: "unknown[198.51.100.4]"
            }
        );
        let (_, e) = ev("Nov 29 07:01:00 mx postfix/smtpd[77]: 4N1xYz0AbCz9: client=laptop.example[192.0.2.10], sasl_method=PLAIN, sasl_username=alice@example.org");
        assert_eq!(
            e,
            Event::AuthOk {
                id: "4N1xYz0AbCz9",
                user: "alice@example.org"
            }
        );
        let (_, e) = ev("Nov 29 07:01:00 mx postfix/qmgr[60]: 4N1xYz0AbCz9: from=<alice@example.org>, size=1234, nrcpt=3 (queue active)");
        assert_eq!(
            e,
            Event::Queued {
                id: "4N1xYz0AbCz9",
                rcpts: 3
            }
        );
        let (_, e) = ev("Nov 29 07:01:05 mx postfix/qmgr[60]: 4N1xYz0AbCz9: removed");
        assert_eq!(e, Event::Done { id: "4N1xYz0AbCz9" });
        let (_, e) = ev("Nov 29 07:01:01 mx postfix/smtp[80]: 4N1xYz0AbCz9: to=<bob@other.example>, relay=mx.other.example[198.51.100.7]:25, delay=1, delays=0/0/0.5/0.5, dsn=4.4.1, status=deferred (connect to mx.other.example[198.51.100.7]:25: Connection timed out)");
        assert_eq!(
            e,
            Event::Delivery {
                id: Some("4N1xYz0AbCz9"),
                status: Status::Deferred,
                reason: "connect to mx.other.example[198.51.100.7]:25: Connection timed out",
                peer: Some("mx.other.example[198.51.100.7]:25"),
                per_rcpt: false
            }
        );
        let (_, e) = ev("Nov 29 07:01:01 mx postfix/smtp[80]: SSL_connect error to mx.other.example[198.51.100.7]:25: -1");
        assert_eq!(
            e,
            Event::Tls {
                dir: Dir::Out,
                peer: "mx.other.example[198.51.100.7]:25"
            }
        );
    }

    #[test]
    fn exim_lines() {
        let (f, e) = ev("2026-11-29 07:00:01 dovecot_login authenticator failed for (User) [203.0.113.5]:54321 I=[192.0.2.1]:587: 535 Incorrect authentication data (set_id=alice@example.org)");
        assert_eq!(f, Some(Format::Exim));
        assert_eq!(
            e,
            Event::AuthFail {
                ip: ip("203.0.113.5"),
                user: Some("alice@example.org")
            }
        );
        let (_, e) = ev("2026-11-29 07:00:01 [4242] H=(x) [203.0.113.5] F=<a@b> rejected RCPT <c@d.example>: relay not permitted");
        assert_eq!(
            e,
            Event::Relay {
                ip: ip("203.0.113.5")
            }
        );
        let (_, e) = ev("2026-11-29 07:00:01 1rABCd-000123-AB <= alice@example.org H=laptop [192.0.2.10] P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:alice@example.org S=1234 id=x@y");
        assert_eq!(
            e,
            Event::AuthOk {
                id: "1rABCd-000123-AB",
                user: "alice@example.org"
            }
        );
        let (_, e) = ev("2026-11-29 07:00:01 1rABCd-000123-AB <= alice@example.org H=laptop [192.0.2.10] P=esmtpsa A=plain:alice S=1234 for a@x.example b@y.example");
        assert_eq!(
            e,
            Event::Submitted {
                user: "alice",
                rcpts: 2
            }
        );
        let (_, e) = ev("2026-11-29 07:00:02 1rABCd-000123-AB => bob@other.example R=dnslookup T=remote_smtp H=mx.other.example [198.51.100.7] X=TLS1.3:x:256 C=\"250 OK\"");
        assert!(matches!(
            e,
            Event::Delivery {
                status: Status::Sent,
                per_rcpt: true,
                peer: Some("mx.other.example [198.51.100.7]"),
                ..
            }
        ));
        let (_, e) = ev("2026-11-29 07:00:02 1rABCd-000123-AB == bob@other.example R=dnslookup T=remote_smtp defer (-44) H=mx.other.example [198.51.100.7]: SMTP error from remote mail server after RCPT TO:<bob@other.example>: 451 4.7.1 Greylisted");
        assert!(
            matches!(e, Event::Delivery { status: Status::Deferred, reason, .. } if reason.contains("Greylisted"))
        );
        let (_, e) = ev("2026-11-29 07:00:02 1rABCd-000123-AB ** bob@other.example R=dnslookup T=remote_smtp H=mx.other.example [198.51.100.7]: SMTP error from remote mail server after RCPT TO:<bob@other.example>: 550 5.1.1 User unknown");
        assert!(matches!(
            e,
            Event::Delivery {
                status: Status::Bounced,
                ..
            }
        ));
        let (_, e) = ev("2026-11-29 07:00:03 1rABCd-000123-AB Completed");
        assert_eq!(
            e,
            Event::Done {
                id: "1rABCd-000123-AB"
            }
        );
        let (_, e) = ev("2026-11-29 07:00:03 TLS error on connection from (helo) [203.0.113.5]:40000 (SSL_accept): error:0A000102:SSL routines::unsupported protocol");
        assert_eq!(
            e,
            Event::Tls {
                dir: Dir::In,
                peer: "(helo) [203.0.113.5]:40000"
            }
        );
        let (_, e) = ev("2026-11-29 07:00:03 TLS error on connection to mx.other.example [198.51.100.7] (SSL_connect): timed out");
        assert_eq!(
            e,
            Event::Tls {
                dir: Dir::Out,
                peer: "mx.other.example [198.51.100.7]"
            }
        );
    }

    #[test]
    fn sendmail_lines() {
        let (f, e) = ev("Nov 29 07:00:01 mx sm-mta[1234]: 3ATH01ab012345: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: checkpass failed, user=alice, relay=[203.0.113.5]");
        assert_eq!(f, Some(Format::Sendmail));
        assert_eq!(
            e,
            Event::AuthFail {
                ip: ip("203.0.113.5"),
                user: Some("alice")
            }
        );
        let (_, e) = ev("Nov 29 07:00:01 mx sm-mta[1234]: 3ATH01ab012345: AUTH=server, relay=laptop.example [192.0.2.10], authid=alice, mech=PLAIN, bits=0");
        assert_eq!(
            e,
            Event::AuthOk {
                id: "3ATH01ab012345",
                user: "alice"
            }
        );
        let (_, e) = ev("Nov 29 07:00:01 mx sm-mta[1234]: 3ATH01ab012345: from=<alice@example.org>, size=1200, class=0, nrcpts=4, msgid=<x@y>, proto=ESMTPSA, daemon=MTA, relay=laptop.example [192.0.2.10]");
        assert_eq!(
            e,
            Event::Queued {
                id: "3ATH01ab012345",
                rcpts: 4
            }
        );
        let (_, e) = ev("Nov 29 07:00:02 mx sm-mta[1234]: 3ATH01ab012345: ruleset=check_rcpt, arg1=<x@other.example>, relay=[198.51.100.4], reject=550 5.7.1 <x@other.example>... Relaying denied");
        assert_eq!(
            e,
            Event::Relay {
                ip: ip("198.51.100.4")
            }
        );
        let (_, e) = ev("Nov 29 07:00:02 mx sm-mta[1235]: 3ATH01ab012345: to=<bob@other.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=121200, relay=mx.other.example. [198.51.100.7], dsn=4.0.0, stat=Deferred: Connection timed out with mx.other.example.");
        assert!(matches!(
            e,
            Event::Delivery {
                status: Status::Deferred,
                reason: "Connection timed out with mx.other.example.",
                ..
            }
        ));
        let (_, e) = ev("Nov 29 07:00:02 mx sm-mta[1235]: 3ATH01ab012345: to=<x@example.org>, delay=00:00:00, mailer=local, pri=30000, dsn=5.1.1, stat=User unknown");
        assert!(matches!(
            e,
            Event::Delivery {
                status: Status::Bounced,
                ..
            }
        ));
        let (_, e) = ev("Nov 29 07:00:02 mx sm-mta[1235]: STARTTLS=server, error: accept failed=-1, reason=no shared cipher, SSL_error=1, errno=0, retry=-1, relay=[203.0.113.5]");
        assert_eq!(
            e,
            Event::Tls {
                dir: Dir::In,
                peer: "[203.0.113.5]"
            }
        );
    }

    #[test]
    fn exchange_lines() {
        let mut ctx = Context::default();
        for h in [
            "#Software: Microsoft Exchange Server",
            "#Version: 15.2.1544.4",
            "#Log-type: SMTP Receive Protocol Log",
            "#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context",
        ] {
            assert_eq!(line(h, NOW, &mut ctx), NOTHING);
        }
        let l = line("2026-11-29T07:00:01.123Z,EX01\\Client Frontend EX01,08DBF1A2B3C4D5E6,7,10.0.0.5:587,203.0.113.5:51234,>,535 5.7.3 Authentication unsuccessful,", NOW, &mut ctx);
        assert_eq!(l.format, Some(Format::ExchangeProtocol));
        assert_eq!(
            l.event,
            Event::AuthFail {
                ip: ip("203.0.113.5"),
                user: None
            }
        );
        let l = line("2026-11-29T07:00:01.123Z,EX01\\Default Frontend EX01,08DB,4,10.0.0.5:25,198.51.100.4:40000,>,550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain,", NOW, &mut ctx);
        assert_eq!(
            l.event,
            Event::Relay {
                ip: ip("198.51.100.4")
            }
        );
        let l = line("2026-11-29T07:00:01.123Z,EX01\\Default Frontend EX01,08DB,2,10.0.0.5:25,[2001:db8::9]:40000,*,,\"TLS negotiation failed with error UnknownCredentials\"", NOW, &mut ctx);
        assert_eq!(
            l.event,
            Event::Tls {
                dir: Dir::In,
                peer: "[2001:db8::9]:40000"
            }
        );

        let mut ctx = Context::default();
        line("#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version", NOW, &mut ctx);
        let l = line("2026-11-29T07:00:01.123Z,,,,EX01,,,STOREDRIVER,RECEIVE,1234,<m@example.org>,abc,a@x.example;b@y.example,,5000,2,,,\"Hello, world\",alice@example.org,alice@example.org,,Originating,,,,,,,", NOW, &mut ctx);
        assert_eq!(l.format, Some(Format::ExchangeTracking));
        assert_eq!(
            l.event,
            Event::Submitted {
                user: "alice@example.org",
                rcpts: 2
            }
        );
        let l = line("2026-11-29T07:00:01.123Z,10.0.0.5,EX01,198.51.100.7,mx.other.example,,Internet,SMTP,DEFER,1234,<m@example.org>,abc,bob@other.example,\"451 4.4.0 Primary target IP address responded with: \"\"421 4.4.2 Connection dropped.\"\"\",5000,1,,,x,alice@example.org,alice@example.org,,Originating,,,,,,,", NOW, &mut ctx);
        assert!(
            matches!(l.event, Event::Delivery { status: Status::Deferred, reason, peer: Some("mx.other.example"), .. } if reason.starts_with("451 4.4.0"))
        );
    }

    #[test]
    fn junk_never_panics() {
        let mut ctx = Context::default();
        for s in [
            "", "#", "#Fields:", "1", "2026-11-29T07:00:01Z,", "2026-11-29T07:00:01Z,\"", "2026-11-29 07:00:01 ",
            "2026-11-29 07:00:01 1rABCd-000123-AB", "2026-11-29 07:00:01 [", "Nov 29 07:00:01 ", "Nov 29 07:00:01 mx postfix/smtpd[1]: warning: [: SASL x authentication failed",
            "Nov 29 07:00:01 mx postfix/smtpd[1]: warning: x[é]: SASL authentication failed", "Nov 29 07:00:01 mx sm-mta[1]: AUTH failure relay=[",
            "2026-11-29 07:00:01 x authenticator failed for [: 535 ", "Nov 29 07:00:01 mx postfix/qmgr[1]: ABCDEF: from=<>, nrcpt=99999999999999999 (queue active)",
        ] {
            let _ = line(s, NOW, &mut ctx);
        }
    }
}
