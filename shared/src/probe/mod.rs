//! Live SMTP probes of one MX address (port 25) and the `smtp.*` rules that
//! judge them.
//!
//! # What is sent
//!
//! [`probe_mx`] opens at most three short sessions to `ip`:`port`, the first
//! alone and the other two at once (so never more than two connections to
//! one target at a time), and only if the first one was greeted with `220`:
//!
//! 1. **main** — greeting; `EHLO <ehlo_name>` (`HELO` if EHLO is refused);
//!    the relay test `MAIL FROM:<relay-test@example.net>`,
//!    `RCPT TO:<relay-test@example.org>` (RFC 2606 reserved names, both
//!    configurable), then `RSET`; `VRFY postmaster`, `VRFY <random>`,
//!    `EXPN postmaster`, `EXPN <random>` (the random local part comes from
//!    [`ProbeOptions`], so the engine stays deterministic); `QUIT`.
//! 2. **bare-lf** — greeting; EHLO; the bytes `NOOP\n` (a bare LF, no CR)
//!    and the server's answer, if any; `QUIT` if the connection is still
//!    open. This only fingerprints how the server ends lines
//!    (SMTP smuggling exposure); the full end-of-data test needs proven
//!    ownership of the domain and is not here.
//! 3. **starttls** (only when the main EHLO advertised STARTTLS) —
//!    greeting; EHLO; `STARTTLS`; on `220` the connection is closed (the
//!    TLS handshake belongs to the TLS checks, which use
//!    [`open_starttls`]).
//!
//! Separately, [`scan_ports`] tries the mail ports of an address
//! (`smtp.exposed_ports`, see [`ports`]): connect-only, except a capability
//! question on POP3/IMAP; never a login.
//!
//! # Safety guarantees
//!
//! - `DATA` and `BDAT` are never sent, so nothing can be delivered, even
//!   through an open relay: every recipient accepted is dropped by `RSET`.
//!   A unit test inspects every byte of every session to prove it.
//! - Commands never contain CR or LF except the one deliberate bare-LF
//!   `NOOP`; a command with CR/LF is refused by the client
//!   ([`smtp::SmtpError::BadCommand`]).
//! - Replies are untrusted: lines, replies, and total bytes per session are
//!   bounded ([`reply::MAX_LINE`], [`reply::MAX_LINES`],
//!   [`smtp::MAX_SESSION_BYTES`]), invalid UTF-8 and control characters
//!   are made printable, and malformed input is an error value.
//! - No clock: the connect timeout is the host's `tcp_connect(…, timeout)`
//!   ([`ProbeOptions::connect_timeout_ms`], 15 s); read timeouts are the
//!   host's `Conn::read`; the greeting delay is the host's measurement
//!   ([`crate::net::Conn::elapsed_ms`] read once the greeting is in), judged
//!   here ([`rules::greeting_delay`]). A refused, timed-out, reset or `421` session makes
//!   the checks that needed it `unknown`, never `fail` or `pass`.
//! - Every exchange is kept in a bounded [`smtp::Transcript`]; findings
//!   quote the relevant lines as evidence.

pub mod agent;
pub mod plan;
pub mod ports;
pub mod reply;
pub mod rules;
#[cfg(any(test, feature = "testing"))]
pub mod script;
pub mod smtp;
pub mod smuggling;
pub mod submission;
#[cfg(test)]
mod tests;
pub mod versions;

pub use ports::{judge_exposed_ports, scan_ports, PortScan};
pub use rules::{judge, RULES};

use crate::net::Network;
use reply::Reply;
use smtp::{Hello, SmtpClient, SmtpError, StartTls, Transcript};
use std::fmt;
use std::net::IpAddr;

/// How [`probe_mx`] probes. `Default` is the documented sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    pub port: u16,
    /// Budget of each TCP connect, enforced by the host's `tcp_connect`.
    /// Reads are bounded by the host's own read timeout (see the module doc).
    pub connect_timeout_ms: u32,
    /// The name we give in EHLO/HELO.
    pub ehlo_name: String,
    /// Sender of the relay test (`MAIL FROM`): a third-party domain.
    pub relay_sender: String,
    /// Recipient of the relay test (`RCPT TO`): a domain the server must
    /// not serve.
    pub relay_recipient: String,
    /// A random-looking local part for the VRFY/EXPN tell-apart test
    /// (letters, digits and `-` only; anything else is dropped).
    pub random_local_part: String,
    pub relay_test: bool,
    pub vrfy_expn_test: bool,
    pub bare_lf_test: bool,
    pub starttls_test: bool,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            port: 25,
            connect_timeout_ms: 15_000,
            ehlo_name: "mailaudit.invalid".into(),
            relay_sender: "relay-test@example.net".into(),
            relay_recipient: "relay-test@example.org".into(),
            random_local_part: "mailaudit-q7x2k9v4".into(),
            relay_test: true,
            vrfy_expn_test: true,
            bare_lf_test: true,
            starttls_test: true,
        }
    }
}

impl ProbeOptions {
    /// Default options with the caller's random local part.
    pub fn with_random(random_local_part: impl Into<String>) -> Self {
        ProbeOptions {
            random_local_part: random_local_part.into(),
            ..Self::default()
        }
    }

    fn random_part(&self) -> String {
        let s: String = self
            .random_local_part
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(64)
            .collect();
        if s.is_empty() {
            "mailaudit-q7x2k9v4".into()
        } else {
            s
        }
    }
}

/// One step of a probe: not run (and why), failed on the way, or done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<T> {
    NotRun(String),
    Failed(SmtpError),
    Done(T),
}

impl<T> Attempt<T> {
    pub fn done(&self) -> Option<&T> {
        match self {
            Attempt::Done(t) => Some(t),
            _ => None,
        }
    }

    /// Why there is no result (for `unknown` findings).
    pub fn why_not(&self) -> Option<String> {
        match self {
            Attempt::NotRun(s) => Some(s.clone()),
            Attempt::Failed(e) => Some(e.to_string()),
            Attempt::Done(_) => None,
        }
    }
}

/// The relay test: MAIL FROM then (if accepted) RCPT TO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayTest {
    pub mail_from: String,
    pub rcpt_to: String,
    pub mail: Reply,
    /// `None` when MAIL FROM was refused (RCPT was then not sent).
    pub rcpt: Option<Reply>,
}

/// VRFY or EXPN of a well-known name and of a random local part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressProbe {
    pub command: &'static str,
    pub known_arg: String,
    pub known: Reply,
    pub random_arg: String,
    pub random: Reply,
}

/// What the server did with `NOOP<LF>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BareLf {
    Reply(Reply),
    /// The server closed the connection without a reply.
    Closed,
}

/// Everything one MX address answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxProbe {
    /// The MX host name (what the server is expected to call itself).
    pub host: String,
    pub ip: IpAddr,
    pub port: u16,
    /// The main session's greeting.
    pub banner: Attempt<Reply>,
    /// How long the greeting took, from connect to its last line, as the
    /// host measured it ([`crate::net::Conn::elapsed_ms`]); `None` when the
    /// host keeps no clock for connections.
    pub greeting_ms: Option<u64>,
    pub hello: Attempt<Hello>,
    pub relay: Attempt<RelayTest>,
    pub vrfy: Attempt<AddressProbe>,
    pub expn: Attempt<AddressProbe>,
    pub bare_lf: Attempt<BareLf>,
    /// The reply to STARTTLS in the third session.
    pub starttls: Attempt<Reply>,
    /// Every session's transcript, labelled `main`, `bare-lf`, `starttls`.
    pub transcripts: Vec<(&'static str, Transcript)>,
}

impl MxProbe {
    fn new(host: &str, ip: IpAddr, port: u16) -> Self {
        let not = || "not run".to_string();
        MxProbe {
            host: host.to_string(),
            ip,
            port,
            banner: Attempt::NotRun(not()),
            greeting_ms: None,
            hello: Attempt::NotRun(not()),
            relay: Attempt::NotRun(not()),
            vrfy: Attempt::NotRun(not()),
            expn: Attempt::NotRun(not()),
            bare_lf: Attempt::NotRun(not()),
            starttls: Attempt::NotRun(not()),
            transcripts: Vec::new(),
        }
    }

    /// `host [ip]:port`, for finding details.
    pub fn target(&self) -> String {
        match self.ip {
            IpAddr::V4(ip) => format!("{} [{ip}]:{}", self.host, self.port),
            IpAddr::V6(ip) => format!("{} [{ip}]:{}", self.host, self.port),
        }
    }

    /// The transcript of one session.
    pub fn transcript(&self, label: &str) -> Option<&Transcript> {
        self.transcripts
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, t)| t)
    }

    /// Every command line sent in every session.
    pub fn commands_sent(&self) -> Vec<String> {
        self.transcripts
            .iter()
            .flat_map(|(_, t)| t.client_lines().map(str::to_string))
            .collect()
    }
}

impl fmt::Display for MxProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (label, t) in &self.transcripts {
            writeln!(f, "== {label} session with {}", self.target())?;
            writeln!(f, "{}", t.excerpt(usize::MAX))?;
        }
        Ok(())
    }
}

/// Sets every step that did not run to `NotRun(why)`.
fn skip_rest(p: &mut MxProbe, why: &str) {
    fn set<T>(a: &mut Attempt<T>, why: &str) {
        if matches!(a, Attempt::NotRun(_)) {
            *a = Attempt::NotRun(why.to_string());
        }
    }
    set(&mut p.hello, why);
    set(&mut p.relay, why);
    set(&mut p.vrfy, why);
    set(&mut p.expn, why);
    set(&mut p.bare_lf, why);
    set(&mut p.starttls, why);
}

/// Connects and greets, for the second and third sessions: the client
/// after a 220 and a positive EHLO/HELO, or why not.
async fn open_session<N: Network>(
    net: &N,
    ip: IpAddr,
    opts: &ProbeOptions,
) -> Result<(SmtpClient<N::Conn>, Hello), (SmtpError, Transcript, String)> {
    let (mut c, banner) = smtp::connect(net, ip, opts.port, opts.connect_timeout_ms)
        .await
        .map_err(|(e, t)| {
            let why = format!("no session: {e}");
            (e, t, why)
        })?;
    if banner.code != 220 {
        let t = c.quit().await;
        return Err((
            SmtpError::Closed,
            t,
            format!("the server greeted with {}", banner.code),
        ));
    }
    match c.ehlo(&opts.ehlo_name).await {
        Ok(h) if h.reply.is_positive() => Ok((c, h)),
        Ok(h) => {
            let t = c.quit().await;
            Err((
                SmtpError::Closed,
                t,
                format!("EHLO/HELO refused with {}", h.reply.code),
            ))
        }
        Err(e) => {
            let why = format!("EHLO failed: {e}");
            let t = c.close().await;
            Err((e, t, why))
        }
    }
}

/// A stream on which the server said `220` to STARTTLS: the TLS
/// handshake comes next.
pub struct StartTlsReady<C> {
    /// The plain stream, nothing buffered past the 220.
    pub conn: C,
    pub transcript: Transcript,
    /// The EHLO before STARTTLS.
    pub hello: Hello,
    /// The reply to STARTTLS.
    pub reply: Reply,
}

/// Connects, EHLOs and sends STARTTLS: on `220` the plain stream is
/// returned ready for the TLS handshake, with the transcript so far. The
/// TLS layer wraps `conn` in its own [`crate::net::Conn`] type and goes on
/// with [`SmtpClient::resume`] and [`SmtpClient::ehlo`] over it. On any
/// other outcome: the reply (`Done`) or why there is none, and the
/// transcript.
pub async fn open_starttls<N: Network>(
    net: &N,
    ip: IpAddr,
    opts: &ProbeOptions,
) -> Result<StartTlsReady<N::Conn>, (Attempt<Reply>, Transcript)> {
    let (c, hello) = match open_session(net, ip, opts).await {
        Ok(x) => x,
        Err((e, t, why)) => {
            let a = if e.is_transport() {
                Attempt::NotRun(why)
            } else {
                Attempt::Failed(e)
            };
            return Err((a, t));
        }
    };
    match c.starttls().await {
        Ok(StartTls::Ready {
            conn,
            reply,
            transcript,
        }) => Ok(StartTlsReady {
            conn,
            transcript,
            hello,
            reply,
        }),
        Ok(StartTls::Refused { client, reply }) => {
            let t = client.quit().await;
            Err((Attempt::Done(reply), t))
        }
        Err((e, t)) => Err((Attempt::Failed(e), t)),
    }
}

async fn main_session<N: Network>(net: &N, p: &mut MxProbe, opts: &ProbeOptions) {
    let (mut c, banner) = match smtp::connect(net, p.ip, opts.port, opts.connect_timeout_ms).await {
        Ok(x) => x,
        Err((e, t)) => {
            let why = format!("no SMTP session: {e}");
            p.banner = Attempt::Failed(e);
            p.transcripts.push(("main", t));
            skip_rest(p, &why);
            return;
        }
    };
    let code = banner.code;
    p.banner = Attempt::Done(banner);
    p.greeting_ms = c.elapsed_ms();
    if code != 220 {
        let t = c.quit().await;
        p.transcripts.push(("main", t));
        skip_rest(p, &format!("the server greeted with {code}, not 220"));
        return;
    }
    let hello = match c.ehlo(&opts.ehlo_name).await {
        Ok(h) => h,
        Err(e) => {
            let why = format!("the session ended at EHLO: {e}");
            p.hello = Attempt::Failed(e);
            p.transcripts.push(("main", c.close().await));
            skip_rest(p, &why);
            return;
        }
    };
    let greeted = hello.reply.is_positive();
    let hello_code = hello.reply.code;
    p.hello = Attempt::Done(hello);
    if !greeted {
        p.transcripts.push(("main", c.quit().await));
        skip_rest(p, &format!("EHLO/HELO refused with {hello_code}"));
        return;
    }
    let mut ended: Option<String> = None;
    if opts.relay_test {
        p.relay = relay_test(&mut c, opts).await;
        if let Attempt::Failed(e) = &p.relay {
            ended = Some(format!("the session ended during the relay test: {e}"));
        }
    } else {
        p.relay = Attempt::NotRun("turned off".into());
    }
    if !opts.vrfy_expn_test {
        p.vrfy = Attempt::NotRun("turned off".into());
        p.expn = Attempt::NotRun("turned off".into());
    } else {
        let random = opts.random_part();
        for cmd in ["VRFY", "EXPN"] {
            let a = match &ended {
                Some(why) => Attempt::NotRun(why.clone()),
                None => address_probe(&mut c, cmd, &random).await,
            };
            if let Attempt::Failed(e) = &a {
                ended = Some(format!("the session ended at {cmd}: {e}"));
            }
            if cmd == "VRFY" {
                p.vrfy = a;
            } else {
                p.expn = a;
            }
        }
    }
    let t = if ended.is_some() {
        c.close().await
    } else {
        c.quit().await
    };
    p.transcripts.push(("main", t));
}

/// MAIL FROM + RCPT TO, then RSET. Never DATA.
async fn relay_test<C: crate::net::Conn>(
    c: &mut SmtpClient<C>,
    opts: &ProbeOptions,
) -> Attempt<RelayTest> {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ' '))
            .collect()
    };
    let (from, to) = (clean(&opts.relay_sender), clean(&opts.relay_recipient));
    let mail = match c.command(&format!("MAIL FROM:<{from}>")).await {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(e),
    };
    let rcpt = if mail.is_positive() {
        match c.command(&format!("RCPT TO:<{to}>")).await {
            Ok(r) => Some(r),
            Err(e) => return Attempt::Failed(e),
        }
    } else {
        None
    };
    // Drop the transaction whatever was accepted.
    if let Err(e) = c.command("RSET").await {
        if !e.is_transport() {
            c.note(format!("RSET answer not understood: {e}"));
        }
    }
    Attempt::Done(RelayTest {
        mail_from: from,
        rcpt_to: to,
        mail,
        rcpt,
    })
}

async fn address_probe<C: crate::net::Conn>(
    c: &mut SmtpClient<C>,
    cmd: &'static str,
    random: &str,
) -> Attempt<AddressProbe> {
    let known = match c.command(&format!("{cmd} postmaster")).await {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(e),
    };
    let random_reply = match c.command(&format!("{cmd} {random}")).await {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(e),
    };
    Attempt::Done(AddressProbe {
        command: cmd,
        known_arg: "postmaster".into(),
        known,
        random_arg: random.to_string(),
        random: random_reply,
    })
}

async fn bare_lf_session<N: Network>(
    net: &N,
    ip: IpAddr,
    opts: &ProbeOptions,
) -> (Attempt<BareLf>, Transcript) {
    let (mut c, _) = match open_session(net, ip, opts).await {
        Ok(x) => x,
        Err((_, t, why)) => return (Attempt::NotRun(why), t),
    };
    if let Err(e) = c.send_raw(b"NOOP\n", "NOOP<LF>").await {
        return (Attempt::Failed(e), c.close().await);
    }
    match c.read_reply().await {
        // QUIT is sent only if the server has not hung up.
        Ok(r) => (Attempt::Done(BareLf::Reply(r)), c.quit().await),
        Err(SmtpError::Closed) => (Attempt::Done(BareLf::Closed), c.close().await),
        Err(e) => (Attempt::Failed(e), c.close().await),
    }
}

async fn starttls_session<N: Network>(
    net: &N,
    ip: IpAddr,
    opts: &ProbeOptions,
) -> (Attempt<Reply>, Transcript) {
    match open_starttls(net, ip, opts).await {
        Ok(mut ready) => {
            // The handshake is the TLS checks' job: hang up here.
            crate::net::Conn::close(&mut ready.conn).await;
            ready
                .transcript
                .event("closed before the TLS handshake (the TLS checks do that part)");
            (Attempt::Done(ready.reply), ready.transcript)
        }
        Err((a, t)) => (a, t),
    }
}

/// Probes one MX address: see the module documentation for the sequence.
/// Never fails: what could not be learnt is an [`Attempt`] that says why.
pub async fn probe_mx<N: Network>(net: &N, host: &str, ip: IpAddr, opts: &ProbeOptions) -> MxProbe {
    let mut p = MxProbe::new(host, ip, opts.port);
    main_session(net, &mut p, opts).await;
    if !matches!(&p.banner, Attempt::Done(r) if r.code == 220) {
        return p;
    }
    let advertised = p.hello.done().is_some_and(|h| h.caps.starttls);
    let bare_lf = async {
        if opts.bare_lf_test {
            Some(bare_lf_session(net, ip, opts).await)
        } else {
            None
        }
    };
    let starttls = async {
        if !opts.starttls_test {
            Err("turned off")
        } else if !advertised {
            Err("STARTTLS not advertised")
        } else {
            Ok(starttls_session(net, ip, opts).await)
        }
    };
    let (bare_lf, starttls) = futures::join!(bare_lf, starttls);
    match bare_lf {
        Some((a, t)) => {
            p.bare_lf = a;
            p.transcripts.push(("bare-lf", t));
        }
        None => p.bare_lf = Attempt::NotRun("turned off".into()),
    }
    match starttls {
        Ok((a, t)) => {
            p.starttls = a;
            p.transcripts.push(("starttls", t));
        }
        Err(why) => p.starttls = Attempt::NotRun(why.into()),
    }
    p
}
