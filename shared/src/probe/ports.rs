//! `smtp.exposed_ports`: which mail-related ports of an MX address answer.
//!
//! Only the ports in [`MAIL_PORTS`] are tried (no wider scan), at most
//! [`MAX_PARALLEL`] connections at a time. Most ports are connect-only: the
//! connection is closed as soon as it opens. On POP3 (110) and IMAP (143)
//! the greeting is read and the capabilities are asked for (`CAPA`,
//! `a1 CAPABILITY`), then `QUIT` / `a2 LOGOUT`: no login is ever tried.
//! A plaintext login is judged possible when POP3 offers `USER` or SASL
//! PLAIN/LOGIN, or IMAP does not say `LOGINDISABLED`, before STARTTLS.

use super::reply::printable;
use super::rules::SMTP_EXPOSED_PORTS;
use crate::net::{Conn, NetError, Network};
use crate::report::{Evidence, Finding, Severity, Status};
use futures::future::join_all;
use std::net::IpAddr;

/// The ports tried, with what usually listens there.
pub const MAIL_PORTS: &[(u16, &str)] = &[
    (25, "SMTP"),
    (110, "POP3"),
    (143, "IMAP"),
    (465, "SMTP submission over TLS"),
    (587, "SMTP submission"),
    (993, "IMAP over TLS"),
    (995, "POP3 over TLS"),
    (2525, "SMTP (alternative port)"),
    (4190, "ManageSieve"),
];

/// Connections open at once to one address.
pub const MAX_PARALLEL: usize = 3;
/// Most bytes read from one POP3/IMAP capability exchange.
const MAX_BYTES: usize = 16 * 1024;
const MAX_LINES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortState {
    /// The connection opened. For POP3/IMAP: the greeting and capability
    /// lines seen (bounded, printable) and whether a plaintext login is
    /// offered (`None`: could not tell).
    Open {
        lines: Vec<String>,
        plaintext_login: Option<bool>,
    },
    /// The connection failed: refused (closed) or timed out (filtered).
    Closed(NetError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortScan {
    pub ip: IpAddr,
    pub ports: Vec<(u16, PortState)>,
}

/// Bounded line reading over a [`Conn`].
struct Lines<'a, C: Conn> {
    conn: &'a mut C,
    buf: Vec<u8>,
    total: usize,
}

impl<C: Conn> Lines<'_, C> {
    async fn line(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let mut l: Vec<u8> = self.buf.drain(..=i).collect();
                l.pop();
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
                return Some(printable(&l));
            }
            if self.total >= MAX_BYTES {
                return None;
            }
            let mut chunk = [0u8; 1024];
            match self.conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => {
                    let n = n.min(chunk.len());
                    self.total += n;
                    self.buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
    }
}

async fn pop3<C: Conn>(conn: &mut C, seen: &mut Vec<String>) -> Option<bool> {
    let mut r = Lines {
        conn,
        buf: Vec::new(),
        total: 0,
    };
    let greet = r.line().await?;
    seen.push(greet.clone());
    if !greet.starts_with("+OK") {
        return None;
    }
    r.conn.write_all(b"CAPA\r\n").await.ok()?;
    let first = r.line().await?;
    seen.push(first.clone());
    if !first.starts_with("+OK") {
        return None;
    }
    let mut plaintext = false;
    for _ in 0..MAX_LINES {
        let l = r.line().await?;
        if l == "." {
            let _ = r.conn.write_all(b"QUIT\r\n").await;
            return Some(plaintext);
        }
        let up = l.to_ascii_uppercase();
        let mut w = up.split_whitespace();
        match w.next() {
            Some("USER") => plaintext = true,
            Some("SASL") if w.any(|m| m == "PLAIN" || m == "LOGIN") => plaintext = true,
            _ => {}
        }
        seen.push(l);
    }
    None
}

fn imap_caps(line: &str) -> Option<String> {
    let up = line.to_ascii_uppercase();
    let i = up.find("CAPABILITY ")?;
    Some(up[i..].to_string())
}

async fn imap<C: Conn>(conn: &mut C, seen: &mut Vec<String>) -> Option<bool> {
    let mut r = Lines {
        conn,
        buf: Vec::new(),
        total: 0,
    };
    let greet = r.line().await?;
    seen.push(greet.clone());
    if !greet.to_ascii_uppercase().starts_with("* OK") {
        return None;
    }
    let caps = match imap_caps(&greet) {
        Some(c) => c,
        None => {
            r.conn.write_all(b"a1 CAPABILITY\r\n").await.ok()?;
            let mut caps = None;
            for _ in 0..MAX_LINES {
                let l = r.line().await?;
                seen.push(l.clone());
                if let Some(c) = imap_caps(&l).filter(|_| l.starts_with('*')) {
                    caps = Some(c);
                }
                if l.starts_with("a1 ") {
                    break;
                }
            }
            caps?
        }
    };
    let _ = r.conn.write_all(b"a2 LOGOUT\r\n").await;
    Some(
        !caps
            .split_whitespace()
            .any(|w| w.trim_end_matches(']') == "LOGINDISABLED"),
    )
}

async fn try_port<N: Network>(net: &N, ip: IpAddr, port: u16, timeout_ms: u32) -> PortState {
    let mut conn = match net.tcp_connect(&ip.to_string(), port, timeout_ms).await {
        Ok(c) => c,
        Err(e) => return PortState::Closed(e),
    };
    let mut lines = Vec::new();
    let plaintext_login = match port {
        110 => pop3(&mut conn, &mut lines).await,
        143 => imap(&mut conn, &mut lines).await,
        _ => None,
    };
    conn.close().await;
    lines.truncate(MAX_LINES);
    PortState::Open {
        lines,
        plaintext_login,
    }
}

/// Tries every port of [`MAIL_PORTS`] on `ip`, [`MAX_PARALLEL`] at a time.
pub async fn scan_ports<N: Network>(net: &N, ip: IpAddr, timeout_ms: u32) -> PortScan {
    let mut ports = Vec::new();
    for chunk in MAIL_PORTS.chunks(MAX_PARALLEL) {
        let states = join_all(chunk.iter().map(|(p, _)| try_port(net, ip, *p, timeout_ms))).await;
        ports.extend(chunk.iter().map(|(p, _)| *p).zip(states));
    }
    PortScan { ip, ports }
}

fn name(port: u16) -> &'static str {
    MAIL_PORTS
        .iter()
        .find(|(p, _)| *p == port)
        .map_or("?", |(_, n)| n)
}

/// `smtp.exposed_ports` for one address.
pub fn judge_exposed_ports(host: &str, s: &PortScan) -> Finding {
    let t = format!("{host} [{}]", s.ip);
    let open: Vec<u16> = s
        .ports
        .iter()
        .filter(|(_, st)| matches!(st, PortState::Open { .. }))
        .map(|(p, _)| *p)
        .collect();
    let timed_out: Vec<u16> = s
        .ports
        .iter()
        .filter(|(_, st)| matches!(st, PortState::Closed(NetError::Timeout(_))))
        .map(|(p, _)| *p)
        .collect();
    let mut ev: Vec<Evidence> = s
        .ports
        .iter()
        .map(|(p, st)| {
            let text = match st {
                PortState::Open { lines, .. } if lines.is_empty() => {
                    format!("port {p} ({}): open", name(*p))
                }
                PortState::Open { lines, .. } => format!(
                    "port {p} ({}): open\n{}",
                    name(*p),
                    lines
                        .iter()
                        .take(12)
                        .map(|l| format!("S: {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                PortState::Closed(e) => format!("port {p} ({}): {e}", name(*p)),
            };
            Evidence::Note { text }
        })
        .collect();
    if open.is_empty() {
        return SMTP_EXPOSED_PORTS
            .finding(
                Status::Unknown,
                format!(
                    "{t}: none of the mail ports answered from this vantage point, so what is \
                     exposed is not known."
                ),
            )
            .with_evidences(ev);
    }
    let list: Vec<String> = open.iter().map(|p| format!("{p} ({})", name(*p))).collect();
    let filtered = if timed_out.is_empty() {
        String::new()
    } else {
        format!(
            " No answer (filtered?) on {}.",
            timed_out
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let plain: Vec<String> = s
        .ports
        .iter()
        .filter(|(_, st)| {
            matches!(
                st,
                PortState::Open {
                    plaintext_login: Some(true),
                    ..
                }
            )
        })
        .map(|(p, _)| format!("{p} ({})", name(*p)))
        .collect();
    if !plain.is_empty() {
        return SMTP_EXPOSED_PORTS
            .finding(
                Status::Fail,
                format!(
                    "{t}: {} accept(s) a password login before STARTTLS, so a client can send \
                     credentials in clear text. Open ports: {}.{filtered}",
                    plain.join(", "),
                    list.join(", ")
                ),
            )
            .with_severity(Severity::Medium)
            .with_evidences(ev)
            .with_remediation(
                "Refuse logins before TLS, or close 110/143 and use 993/995 only:\n\
                 Dovecot (conf.d/10-auth.conf): disable_plaintext_auth = yes\n\
                 (Dovecot 2.4: auth_allow_cleartext = no)\n\
                 Courier: IMAP_TLS_REQUIRED=1 / POP3_TLS_REQUIRED=1",
            );
    }
    ev.push(Evidence::Note {
        text: "only the listed mail ports were tried; no wider scan".into(),
    });
    SMTP_EXPOSED_PORTS
        .finding(
            Status::Info,
            format!(
                "{t}: open mail ports: {}.{filtered} Check that each is meant to be public.",
                list.join(", ")
            ),
        )
        .with_evidences(ev)
}

#[cfg(test)]
mod tests {
    use super::super::script::{Act, Peer, SmtpNet};
    use super::*;
    use futures::executor::block_on;

    const IP: &str = "192.0.2.25";

    fn scan(net: &SmtpNet) -> Finding {
        let s = block_on(scan_ports(net, IP.parse().unwrap(), 1000));
        assert!(net.max_concurrent() <= MAX_PARALLEL);
        judge_exposed_ports("mail.example.org", &s)
    }

    fn pop3(capa: &str) -> Peer {
        Peer::new("+OK Dovecot ready.")
            .reply("CAPA", capa)
            .reply("QUIT", "+OK bye")
    }

    #[test]
    fn lists_open_ports_as_info() {
        let net = SmtpNet::new()
            .peer(IP, 25, Peer::hardened())
            .peer(IP, 993, Peer::new("* OK ready"))
            .connect_error(IP, 587, NetError::Timeout(0));
        let f = scan(&net);
        assert_eq!(f.status, Status::Info, "{}", f.detail);
        assert!(f.detail.contains("25 (SMTP)") && f.detail.contains("993"));
        assert!(f.detail.contains("filtered?) on 587"));
        assert_eq!(net.connections(), 2);
        // Connect-only: nothing written to 25 or 993.
        assert!(net.written().iter().all(|(_, _, b)| b.is_empty()));
    }

    #[test]
    fn plaintext_pop3_and_imap_logins_fail() {
        let net = SmtpNet::new().peer(IP, 110, pop3("+OK\nCAPA\nUSER\nSTLS\n."));
        let f = scan(&net);
        assert_eq!((f.status, f.severity), (Status::Fail, Severity::Medium));
        let net = SmtpNet::new().peer(IP, 110, pop3("+OK\nCAPA\nSTLS\nSASL\n."));
        assert_eq!(scan(&net).status, Status::Info);
        let net = SmtpNet::new().peer(
            IP,
            143,
            Peer::new("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready"),
        );
        assert_eq!(scan(&net).status, Status::Fail);
        let net = SmtpNet::new().peer(
            IP,
            143,
            Peer::new("* OK ready")
                .reply(
                    "A1 CAPABILITY",
                    "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\na1 OK done",
                )
                .reply("A2 LOGOUT", "* BYE"),
        );
        let f = scan(&net);
        assert_eq!(f.status, Status::Info, "{}", f.detail);
        // Never a login.
        for (_, _, b) in net.written() {
            let s = String::from_utf8_lossy(&b).to_ascii_uppercase();
            assert!(!s.contains("LOGIN ") && !s.contains("USER ") && !s.contains("PASS"));
        }
    }

    #[test]
    fn nothing_answering_is_unknown_and_garbage_is_safe() {
        assert_eq!(scan(&SmtpNet::new()).status, Status::Unknown);
        let net = SmtpNet::new()
            .peer(
                IP,
                110,
                Peer::new("x").greeting(Act::Send(vec![b'+'; 50_000])),
            )
            .peer(IP, 143, Peer::new("x").greeting(Act::Reset));
        let f = scan(&net);
        assert_eq!(f.status, Status::Info, "{}", f.detail);
    }
}
