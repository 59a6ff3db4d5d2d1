//! A scripted SMTP server for tests: a [`Network`] whose TCP peers answer
//! each command line by rule, and that records every byte written to every
//! connection (so tests can prove what was, and was not, sent).

use crate::net::{Conn, HttpRequest, HttpResponse, NetError, Network};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// What the peer does in answer to a line (or at connect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// Send these bytes (a reply, exactly as on the wire).
    Send(Vec<u8>),
    /// Send these bytes, then close.
    SendClose(Vec<u8>),
    /// Close without a word.
    Close,
    /// The next read fails with "connection reset".
    Reset,
    /// Say nothing: the next read times out (as a host's read timeout would).
    Silent,
}

impl Act {
    pub fn reply(text: &str) -> Act {
        Act::Send(crlf(text))
    }
    pub fn reply_close(text: &str) -> Act {
        Act::SendClose(crlf(text))
    }
}

/// `"250-a\n250 b"` → `"250-a\r\n250 b\r\n"`.
fn crlf(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for l in text.lines() {
        out.extend_from_slice(l.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One scripted server. Rules match the start of a command line, case
/// insensitively; the longest match wins, else `otherwise`.
#[derive(Debug, Clone)]
pub struct Peer {
    pub greeting: Act,
    pub rules: Vec<(String, Act)>,
    /// Answer to a line ended by a bare LF (checked before `rules`).
    pub bare_lf: Option<Act>,
    pub otherwise: Act,
    /// What the connection reports as [`Conn::elapsed_ms`] (the host's
    /// measurement; `None`: a host without connection times).
    pub elapsed_ms: Option<u64>,
}

impl Peer {
    /// A server that greets with `greeting`, answers QUIT with 221 and
    /// everything else with `500`.
    pub fn new(greeting: &str) -> Peer {
        Peer {
            greeting: Act::reply(greeting),
            rules: vec![("QUIT".into(), Act::reply_close("221 2.0.0 Bye"))],
            bare_lf: None,
            otherwise: Act::reply("500 5.5.2 Error: command not recognized"),
            elapsed_ms: None,
        }
    }

    /// As measured by a host with a clock: the connection has been open
    /// `ms` milliseconds whenever the engine asks (so the greeting took
    /// that long).
    pub fn greeted_after(mut self, ms: u64) -> Peer {
        self.elapsed_ms = Some(ms);
        self
    }

    /// With a raw greeting action (silence, garbage, 421…).
    pub fn greeting(mut self, act: Act) -> Peer {
        self.greeting = act;
        self
    }

    /// Answers lines starting with `prefix`: a rule for the same prefix is
    /// replaced, and the longest matching prefix wins.
    pub fn on(mut self, prefix: &str, act: Act) -> Peer {
        let prefix = prefix.to_ascii_uppercase();
        self.rules.retain(|(p, _)| *p != prefix);
        self.rules.push((prefix, act));
        self
    }

    /// Answers lines starting with `prefix` with `reply` (`\n`-separated).
    pub fn reply(self, prefix: &str, reply: &str) -> Peer {
        self.on(prefix, Act::reply(reply))
    }

    pub fn on_bare_lf(mut self, act: Act) -> Peer {
        self.bare_lf = Some(act);
        self
    }

    /// Hardened Postfix, as in the test bed: STARTTLS, VRFY off, no relay,
    /// bare LF rejected with a disconnect, no version in the banner.
    pub fn hardened() -> Peer {
        Peer::new("220 mail.example.org ESMTP")
            .reply(
                "EHLO",
                "250-mail.example.org\n250-PIPELINING\n250-SIZE 10240000\n250-STARTTLS\n\
                 250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-SMTPUTF8\n250 CHUNKING",
            )
            .reply("MAIL FROM", "250 2.1.0 Ok")
            .reply(
                "RCPT TO",
                "554 5.7.1 <relay-test@example.org>: Relay access denied",
            )
            .reply("RSET", "250 2.0.0 Ok")
            .reply("VRFY", "502 5.5.1 VRFY command is disabled")
            .reply("STARTTLS", "220 2.0.0 Ready to start TLS")
            .on_bare_lf(Act::reply_close(
                "550 5.5.2 mail.example.org Error: bare <LF> received",
            ))
    }

    /// Weak Postfix, as in the test bed: open relay, VRFY on, no TLS,
    /// version and OS in the banner, bare LF accepted.
    pub fn weak() -> Peer {
        Peer::new("220 mail.weak.example ESMTP Postfix 3.7.11 (Debian/GNU)")
            .reply(
                "EHLO",
                "250-mail.weak.example\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n\
                 250-ETRN\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250-SMTPUTF8\n\
                 250 CHUNKING",
            )
            .reply("MAIL FROM", "250 2.1.0 Ok")
            .reply("RCPT TO", "250 2.1.5 Ok")
            .reply("RSET", "250 2.0.0 Ok")
            .reply("VRFY postmaster", "252 2.0.0 postmaster")
            .reply(
                "VRFY",
                "550 5.1.1 <x>: Recipient address rejected: User unknown in local recipient table",
            )
            .reply("NOOP", "250 2.0.0 Ok")
            .on_bare_lf(Act::reply("250 2.0.0 Ok"))
    }

    fn act_for(&self, line: &[u8], bare_lf: bool) -> Act {
        if bare_lf {
            if let Some(a) = &self.bare_lf {
                return a.clone();
            }
        }
        let text = String::from_utf8_lossy(line).to_ascii_uppercase();
        self.rules
            .iter()
            .filter(|(p, _)| text.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| self.otherwise.clone())
    }
}

/// Bytes written on each connection: (host, port, bytes), in connect order.
type Log = Rc<RefCell<Vec<(String, u16, Vec<u8>)>>>;

/// What a connect to host:port does.
#[derive(Debug, Clone)]
enum Endpoint {
    Peer(Rc<Peer>),
    Error(NetError),
}

/// The network of scripted SMTP peers.
#[derive(Debug, Default)]
pub struct SmtpNet {
    endpoints: HashMap<(String, u16), Endpoint>,
    /// Bytes written on each connection, in connect order.
    log: Log,
    open: Rc<Cell<usize>>,
    max_open: Rc<Cell<usize>>,
}

impl SmtpNet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn peer(mut self, host: &str, port: u16, peer: Peer) -> Self {
        self.endpoints
            .insert((host.into(), port), Endpoint::Peer(Rc::new(peer)));
        self
    }

    /// Connecting to host:port fails with `err`.
    pub fn connect_error(mut self, host: &str, port: u16, err: NetError) -> Self {
        self.endpoints
            .insert((host.into(), port), Endpoint::Error(err));
        self
    }

    /// Everything written, per connection: (host, port, bytes).
    pub fn written(&self) -> Vec<(String, u16, Vec<u8>)> {
        self.log.borrow().clone()
    }

    pub fn connections(&self) -> usize {
        self.log.borrow().len()
    }

    /// Most connections open at the same time.
    pub fn max_concurrent(&self) -> usize {
        self.max_open.get()
    }
}

impl Network for SmtpNet {
    type Conn = SmtpConn;

    async fn http(&self, _req: HttpRequest) -> Result<HttpResponse, NetError> {
        Err(NetError::Other(
            "no HTTP in the scripted SMTP network".into(),
        ))
    }

    async fn tcp_connect(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<SmtpConn, NetError> {
        match self.endpoints.get(&(host.to_string(), port)) {
            None => Err(NetError::Connect(format!(
                "{host}:{port}: connection refused"
            ))),
            Some(Endpoint::Error(NetError::Timeout(_))) => Err(NetError::Timeout(timeout_ms)),
            Some(Endpoint::Error(e)) => Err(e.clone()),
            Some(Endpoint::Peer(p)) => {
                let idx = {
                    let mut log = self.log.borrow_mut();
                    log.push((host.to_string(), port, Vec::new()));
                    log.len() - 1
                };
                self.open.set(self.open.get() + 1);
                self.max_open.set(self.max_open.get().max(self.open.get()));
                let mut c = SmtpConn {
                    peer: p.clone(),
                    out: Vec::new(),
                    pending: None,
                    closed_after_out: false,
                    line: Vec::new(),
                    log: self.log.clone(),
                    idx,
                    open: self.open.clone(),
                    counted: true,
                };
                c.apply(p.greeting.clone());
                Ok(c)
            }
        }
    }
}

/// One scripted connection.
pub struct SmtpConn {
    peer: Rc<Peer>,
    out: Vec<u8>,
    /// A failure the next read reports once `out` is drained.
    pending: Option<NetError>,
    closed_after_out: bool,
    line: Vec<u8>,
    log: Log,
    idx: usize,
    open: Rc<Cell<usize>>,
    counted: bool,
}

impl SmtpConn {
    fn apply(&mut self, act: Act) {
        if self.closed_after_out || self.pending.is_some() {
            return;
        }
        match act {
            Act::Send(b) => self.out.extend_from_slice(&b),
            Act::SendClose(b) => {
                self.out.extend_from_slice(&b);
                self.closed_after_out = true;
            }
            Act::Close => self.closed_after_out = true,
            Act::Reset => self.pending = Some(NetError::Other("connection reset by peer".into())),
            Act::Silent => self.pending = Some(NetError::Timeout(30_000)),
        }
    }

    fn release(&mut self) {
        if self.counted {
            self.counted = false;
            self.open.set(self.open.get() - 1);
        }
    }
}

impl Drop for SmtpConn {
    fn drop(&mut self) {
        self.release();
    }
}

impl Conn for SmtpConn {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        if !self.out.is_empty() {
            // Deliver in small pieces to exercise reassembly.
            let n = buf.len().min(self.out.len()).min(7);
            buf[..n].copy_from_slice(&self.out[..n]);
            self.out.drain(..n);
            return Ok(n);
        }
        if let Some(e) = &self.pending {
            return Err(e.clone());
        }
        if self.closed_after_out {
            return Ok(0);
        }
        // The client waits for an answer the script does not give.
        Err(NetError::Timeout(30_000))
    }

    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
        if self.closed_after_out && self.out.is_empty() {
            return Err(NetError::Other("broken pipe".into()));
        }
        if let Some(e) = &self.pending {
            return Err(e.clone());
        }
        self.log.borrow_mut()[self.idx].2.extend_from_slice(data);
        for &b in data {
            if b == b'\n' {
                let bare = self.line.last() != Some(&b'\r');
                let mut line = std::mem::take(&mut self.line);
                if !bare {
                    line.pop();
                }
                let act = self.peer.act_for(&line, bare);
                self.apply(act);
            } else {
                self.line.push(b);
            }
        }
        Ok(())
    }

    async fn close(&mut self) {
        self.closed_after_out = true;
        self.out.clear();
        self.release();
    }

    fn elapsed_ms(&self) -> Option<u64> {
        self.peer.elapsed_ms
    }
}
