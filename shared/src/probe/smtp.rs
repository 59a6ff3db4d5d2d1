//! An SMTP client over any [`Conn`]: greeting, EHLO (HELO fallback),
//! capabilities, commands, STARTTLS hand-over and QUIT. Every byte sent and
//! every reply received is kept in a bounded [`Transcript`].
//!
//! The client is generic over the stream so that the TLS layer can plug its
//! own: [`SmtpClient::starttls`] gives back the plain stream after `220`,
//! the TLS layer wraps it in a type that implements [`Conn`], and
//! [`SmtpClient::resume`] continues the dialogue (EHLO again) over it with
//! the same transcript.

use super::reply::{printable, Reply, ReplyError, ReplyParser};
use crate::net::{Conn, NetError, Network};
use std::fmt;
use std::net::IpAddr;

/// Most bytes read from one session (all replies together).
pub const MAX_SESSION_BYTES: usize = 256 * 1024;
/// Most transcript lines kept per session; later ones are counted only.
pub const MAX_TRANSCRIPT_LINES: usize = 400;

/// Who said a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Client,
    Server,
    /// Something that happened (connected, closed, timed out).
    Event,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub dir: Dir,
    pub text: String,
}

/// A bounded record of one session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    pub lines: Vec<Line>,
    /// Lines not kept because of [`MAX_TRANSCRIPT_LINES`].
    pub dropped: usize,
    /// Every byte written, exactly (bounded like the lines), so tests can
    /// check what was sent.
    sent: Vec<u8>,
}

impl Transcript {
    fn push(&mut self, dir: Dir, text: String) {
        if self.lines.len() < MAX_TRANSCRIPT_LINES {
            self.lines.push(Line { dir, text });
        } else {
            self.dropped += 1;
        }
    }

    pub fn event(&mut self, text: impl Into<String>) {
        self.push(Dir::Event, text.into());
    }

    /// The commands the client sent, as shown (`NOOP<LF>` for a bare LF).
    pub fn client_lines(&self) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .filter(|l| l.dir == Dir::Client)
            .map(|l| l.text.as_str())
    }

    /// The raw bytes the client wrote (first [`MAX_SESSION_BYTES`]).
    pub fn sent_bytes(&self) -> &[u8] {
        &self.sent
    }

    /// `C: …` / `S: …` / `-- …` lines, at most `max` of them.
    pub fn excerpt(&self, max: usize) -> String {
        let mut out: Vec<String> = self.lines.iter().take(max).map(render).collect();
        let more = self.lines.len().saturating_sub(max) + self.dropped;
        if more > 0 {
            out.push(format!("-- {more} more line(s)"));
        }
        out.join("\n")
    }
}

fn render(l: &Line) -> String {
    match l.dir {
        Dir::Client => format!("C: {}", l.text),
        Dir::Server => format!("S: {}", l.text),
        Dir::Event => format!("-- {}", l.text),
    }
}

/// Why a session step did not produce a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpError {
    /// Connect, read or write failed (refused, timeout, reset…).
    Net(NetError),
    /// The server closed the connection.
    Closed,
    /// The server sent something that is not an SMTP reply.
    Protocol(ReplyError),
    /// The server sent more than [`MAX_SESSION_BYTES`].
    TooMuch,
    /// A command we were asked to send contains CR or LF (never sent).
    BadCommand,
    /// Plaintext followed the `220` to STARTTLS in the same read: a
    /// server (or middlebox) bug that enables command injection
    /// (CVE-2011-0411 class). The stream is not handed over.
    StartTlsInjection,
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmtpError::Net(e) => write!(f, "{e}"),
            SmtpError::Closed => write!(f, "the server closed the connection"),
            SmtpError::Protocol(e) => write!(f, "{e}"),
            SmtpError::TooMuch => write!(f, "the server sent more than {MAX_SESSION_BYTES} bytes"),
            SmtpError::BadCommand => write!(f, "refused to send a command containing CR or LF"),
            SmtpError::StartTlsInjection => {
                write!(f, "the server sent plaintext after 220 to STARTTLS")
            }
        }
    }
}

impl SmtpError {
    /// True for errors that say nothing about the server's SMTP behaviour
    /// (refused, timed out, reset): checks that hit them are `unknown`.
    pub fn is_transport(&self) -> bool {
        matches!(self, SmtpError::Net(_) | SmtpError::Closed)
    }
}

/// What the server advertised in its EHLO reply (RFC 5321 §4.1.1.1 and
/// the extension RFCs). Keywords are matched case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Every keyword line after the greeting, as sent.
    pub lines: Vec<String>,
    pub starttls: bool,
    /// SASL mechanisms (upper case) from `AUTH` and legacy `AUTH=`;
    /// `None` when AUTH is not advertised.
    pub auth: Option<Vec<String>>,
    /// `None`: no SIZE; `Some(None)`: SIZE without a value; `Some(Some(n))`.
    pub size: Option<Option<u64>>,
    pub pipelining: bool,
    pub chunking: bool,
    pub smtputf8: bool,
    pub eight_bit_mime: bool,
    pub enhanced_status_codes: bool,
    pub dsn: bool,
    pub vrfy: bool,
    pub requiretls: bool,
}

impl Capabilities {
    /// From the text lines of a positive EHLO reply (the first line is the
    /// server's greeting and is skipped).
    pub fn parse(lines: &[String]) -> Capabilities {
        let mut c = Capabilities::default();
        for line in lines.iter().skip(1) {
            c.lines.push(line.clone());
            let mut words = line.split_ascii_whitespace();
            let Some(kw) = words.next() else { continue };
            let kw_upper = kw.to_ascii_uppercase();
            let (kw_name, legacy) = match kw_upper.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (kw_upper.clone(), None),
            };
            match kw_name.as_str() {
                "STARTTLS" => c.starttls = true,
                "AUTH" => {
                    let mechs = c.auth.get_or_insert_with(Vec::new);
                    for m in legacy.into_iter().chain(words.map(str::to_ascii_uppercase)) {
                        if !m.is_empty() && !mechs.contains(&m) && mechs.len() < 32 {
                            mechs.push(m);
                        }
                    }
                }
                "SIZE" => {
                    c.size = Some(words.next().and_then(|v| v.parse::<u64>().ok()));
                }
                "PIPELINING" => c.pipelining = true,
                "CHUNKING" => c.chunking = true,
                "SMTPUTF8" => c.smtputf8 = true,
                "8BITMIME" => c.eight_bit_mime = true,
                "ENHANCEDSTATUSCODES" => c.enhanced_status_codes = true,
                "DSN" => c.dsn = true,
                "VRFY" => c.vrfy = true,
                "REQUIRETLS" => c.requiretls = true,
                _ => {}
            }
        }
        c
    }
}

/// The answer to EHLO (or HELO when EHLO was refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    pub reply: Reply,
    /// False when the server refused EHLO and HELO was used.
    pub esmtp: bool,
    /// Empty unless `esmtp`.
    pub caps: Capabilities,
}

impl Hello {
    /// The name the server gives in its EHLO/HELO reply.
    pub fn name(&self) -> &str {
        self.reply.first().split_whitespace().next().unwrap_or("")
    }
}

/// Result of [`SmtpClient::starttls`].
pub enum StartTls<C: Conn> {
    /// `220`: the stream, with nothing buffered, for the TLS layer; then
    /// [`SmtpClient::resume`] over the TLS stream and EHLO again.
    Ready {
        conn: C,
        reply: Reply,
        transcript: Transcript,
    },
    /// Any other reply: the session goes on in plaintext.
    Refused { client: SmtpClient<C>, reply: Reply },
}

/// An SMTP client session over one stream.
pub struct SmtpClient<C: Conn> {
    conn: C,
    parser: ReplyParser,
    transcript: Transcript,
    read_total: usize,
    closed: bool,
}

impl<C: Conn> SmtpClient<C> {
    /// A session over a freshly connected stream (read the greeting next).
    pub fn new(conn: C) -> Self {
        Self::resume(conn, Transcript::default())
    }

    /// Continues a session over `conn` (e.g. the TLS stream after
    /// STARTTLS), appending to `transcript`.
    pub fn resume(conn: C, transcript: Transcript) -> Self {
        SmtpClient {
            conn,
            parser: ReplyParser::new(),
            transcript,
            read_total: 0,
            closed: false,
        }
    }

    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Milliseconds since the connection opened, if the host measures it
    /// ([`Conn::elapsed_ms`]).
    pub fn elapsed_ms(&self) -> Option<u64> {
        self.conn.elapsed_ms()
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.transcript.event(text);
    }

    /// Reads the next complete reply.
    pub async fn read_reply(&mut self) -> Result<Reply, SmtpError> {
        if self.closed {
            return Err(SmtpError::Closed);
        }
        let mut buf = [0u8; 4096];
        loop {
            match self.parser.next_reply() {
                Ok(Some(r)) => {
                    for l in r.wire_lines() {
                        self.transcript.push(Dir::Server, l);
                    }
                    return Ok(r);
                }
                Ok(None) => {}
                Err(e) => {
                    self.transcript.event(format!("unparseable reply: {e}"));
                    return Err(SmtpError::Protocol(e));
                }
            }
            if self.read_total >= MAX_SESSION_BYTES {
                self.transcript.event("too much data from the server");
                return Err(SmtpError::TooMuch);
            }
            let want = buf.len().min(MAX_SESSION_BYTES - self.read_total);
            match self.conn.read(&mut buf[..want]).await {
                Ok(0) => {
                    self.closed = true;
                    if self.parser.is_mid_reply() {
                        self.transcript.event(format!(
                            "connection closed mid-reply ({} byte(s) unterminated)",
                            self.parser.buffered()
                        ));
                    } else {
                        self.transcript.event("connection closed by the server");
                    }
                    return Err(SmtpError::Closed);
                }
                Ok(n) => {
                    let n = n.min(want);
                    self.read_total += n;
                    self.parser.feed(&buf[..n]);
                }
                Err(e) => {
                    self.closed = true;
                    self.transcript.event(format!("read failed: {e}"));
                    return Err(SmtpError::Net(e));
                }
            }
        }
    }

    /// Writes raw bytes; `shown` is what the transcript records.
    pub async fn send_raw(&mut self, bytes: &[u8], shown: &str) -> Result<(), SmtpError> {
        if self.closed {
            return Err(SmtpError::Closed);
        }
        self.transcript.push(Dir::Client, shown.to_string());
        let room = MAX_SESSION_BYTES.saturating_sub(self.transcript.sent.len());
        self.transcript
            .sent
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        if let Err(e) = self.conn.write_all(bytes).await {
            self.closed = true;
            self.transcript.event(format!("write failed: {e}"));
            return Err(SmtpError::Net(e));
        }
        Ok(())
    }

    /// Sends `cmd` + CRLF and reads the reply. `cmd` must not contain CR
    /// or LF (a guard against injecting a second command).
    pub async fn command(&mut self, cmd: &str) -> Result<Reply, SmtpError> {
        if cmd.contains(['\r', '\n']) {
            return Err(SmtpError::BadCommand);
        }
        self.send_raw(format!("{cmd}\r\n").as_bytes(), &printable(cmd.as_bytes()))
            .await?;
        self.read_reply().await
    }

    /// EHLO, falling back to HELO when EHLO is refused with 500/502/504/550
    /// (RFC 5321 §4.1.4 / 3.2). A 4xx or other reply is returned as is,
    /// with `esmtp` false.
    pub async fn ehlo(&mut self, name: &str) -> Result<Hello, SmtpError> {
        let r = self.command(&format!("EHLO {name}")).await?;
        if r.is_positive() {
            let caps = Capabilities::parse(&r.lines);
            return Ok(Hello {
                reply: r,
                esmtp: true,
                caps,
            });
        }
        if matches!(r.code, 500 | 502 | 504 | 550) {
            let r = self.command(&format!("HELO {name}")).await?;
            return Ok(Hello {
                reply: r,
                esmtp: false,
                caps: Capabilities::default(),
            });
        }
        Ok(Hello {
            reply: r,
            esmtp: false,
            caps: Capabilities::default(),
        })
    }

    /// Sends STARTTLS. On `220` the plain stream is handed over (nothing
    /// may be buffered after the reply: see [`SmtpError::StartTlsInjection`]).
    pub async fn starttls(mut self) -> Result<StartTls<C>, (SmtpError, Transcript)> {
        let reply = match self.command("STARTTLS").await {
            Ok(r) => r,
            Err(e) => {
                self.conn.close().await;
                return Err((e, self.transcript));
            }
        };
        if reply.code != 220 {
            return Ok(StartTls::Refused {
                client: self,
                reply,
            });
        }
        if self.parser.buffered() > 0 {
            self.transcript
                .event("plaintext bytes followed the 220 to STARTTLS (injection risk)");
            self.conn.close().await;
            return Err((SmtpError::StartTlsInjection, self.transcript));
        }
        self.transcript
            .event("STARTTLS accepted: TLS handshake next");
        Ok(StartTls::Ready {
            conn: self.conn,
            reply,
            transcript: self.transcript,
        })
    }

    /// QUIT (when the connection is still open), then close. Returns the
    /// transcript.
    pub async fn quit(mut self) -> Transcript {
        if !self.closed {
            // The 221 (or its absence) changes nothing.
            let _ = self.command("QUIT").await;
        }
        self.close().await
    }

    /// Closes without QUIT.
    pub async fn close(mut self) -> Transcript {
        self.conn.close().await;
        self.transcript
    }

    /// The stream and the transcript (for a caller that takes over).
    pub fn into_parts(self) -> (C, Transcript) {
        (self.conn, self.transcript)
    }
}

/// Connects to `ip`:`port` (the host's `tcp_connect` enforces
/// `timeout_ms`) and reads the greeting. The client is returned even when
/// the greeting is not 220, so that the caller can QUIT politely.
pub async fn connect<N: Network>(
    net: &N,
    ip: IpAddr,
    port: u16,
    timeout_ms: u32,
) -> Result<(SmtpClient<N::Conn>, Reply), (SmtpError, Transcript)> {
    let mut transcript = Transcript::default();
    let conn = match net.tcp_connect(&ip.to_string(), port, timeout_ms).await {
        Ok(c) => c,
        Err(e) => {
            transcript.event(format!("connect to {ip} port {port} failed: {e}"));
            return Err((SmtpError::Net(e), transcript));
        }
    };
    transcript.event(format!("connected to {ip} port {port}"));
    let mut client = SmtpClient::resume(conn, transcript);
    match client.read_reply().await {
        Ok(r) => Ok((client, r)),
        Err(e) => {
            let t = client.close().await;
            Err((e, t))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(lines: &[&str]) -> Capabilities {
        let v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        Capabilities::parse(&v)
    }

    #[test]
    fn parses_capabilities() {
        let c = caps(&[
            "mail.example.org Hello",
            "PIPELINING",
            "SIZE 10240000",
            "starttls",
            "AUTH PLAIN LOGIN",
            "AUTH=LOGIN",
            "8BITMIME",
            "SMTPUTF8",
            "CHUNKING",
            "ENHANCEDSTATUSCODES",
        ]);
        assert!(c.starttls && c.pipelining && c.chunking && c.smtputf8 && c.eight_bit_mime);
        assert!(c.enhanced_status_codes && !c.dsn && !c.vrfy);
        assert_eq!(c.size, Some(Some(10_240_000)));
        assert_eq!(
            c.auth.as_deref(),
            Some(&["PLAIN".into(), "LOGIN".into()][..])
        );
        // The greeting line is not a keyword, even if it looks like one.
        assert!(!caps(&["STARTTLS"]).starttls);
        assert_eq!(caps(&["x", "SIZE"]).size, Some(None));
        assert_eq!(caps(&["x", "SIZE 0"]).size, Some(Some(0)));
        assert_eq!(caps(&["x", "SIZE lots"]).size, Some(None));
        assert_eq!(caps(&["x", "AUTH"]).auth, Some(vec![]));
        assert_eq!(caps(&["x"]).auth, None);
    }

    #[test]
    fn transcript_is_bounded() {
        let mut t = Transcript::default();
        for i in 0..MAX_TRANSCRIPT_LINES + 5 {
            t.event(format!("{i}"));
        }
        assert_eq!(t.lines.len(), MAX_TRANSCRIPT_LINES);
        assert_eq!(t.dropped, 5);
        assert!(t
            .excerpt(3)
            .ends_with(&format!("-- {} more line(s)", MAX_TRANSCRIPT_LINES - 3 + 5)));
    }
}
