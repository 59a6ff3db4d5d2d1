//! The probe agent protocol: a Worker, which cannot open port 25, asks a
//! `mailaudit probe-agent` elsewhere to run the live checks of one MX host.
//!
//! This module is pure (time and nonces are passed in): the request and
//! response types, the HMAC-SHA256 signatures of both directions, the
//! replay cache the agent keeps, and the client side ([`remote_run`]) that
//! the engine calls from [`super::plan::run`] when
//! [`super::plan::LiveOptions::agent`] is set. docs/api.md describes the
//! wire format for other implementations.
//!
//! # Request signature
//!
//! `POST <path>` with a JSON [`ProbeRequest`] and three headers:
//! `x-mailaudit-timestamp` (Unix seconds), `x-mailaudit-nonce` (16–64 of
//! `A–Z a–z 0–9 - _`, new for every request) and `x-mailaudit-signature`,
//! the lower-case hex HMAC-SHA256, keyed with the shared secret, of
//!
//! ```text
//! mailaudit-agent-v1\n<METHOD>\n<path>\n<timestamp>\n<nonce>\n<hex sha256(body)>
//! ```
//!
//! The agent refuses a request whose timestamp is more than
//! [`WINDOW_SECS`] from its own clock, whose signature does not match
//! (compared in constant time by `hmac`'s `verify_slice`), or whose nonce
//! it has already accepted within the window ([`ReplayCache`]). The nonce
//! is recorded only after the signature matched, so unsigned traffic cannot
//! fill the cache.
//!
//! # Response signature
//!
//! The agent signs its answer too, so that a network path without TLS
//! cannot change the findings: `x-mailaudit-signature` of the response is
//! the HMAC of `mailaudit-agent-v1-response\n<status>\n<request nonce>\n<hex
//! sha256(body)>`. The client drops an answer whose signature is missing
//! or wrong.

use super::plan::{live_rules, Live};
use crate::net::{HttpRequest, Network};
use crate::report::{Finding, Status};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// The agent's probe endpoint.
pub const PATH: &str = "/v1/probe";
pub const HDR_TIMESTAMP: &str = "x-mailaudit-timestamp";
pub const HDR_NONCE: &str = "x-mailaudit-nonce";
pub const HDR_SIGNATURE: &str = "x-mailaudit-signature";
/// How far (seconds) a request's timestamp may be from the agent's clock.
pub const WINDOW_SECS: i64 = 60;
/// Largest request body the agent reads.
pub const MAX_REQUEST_BODY: usize = 4096;
/// Largest response body the client reads.
pub const MAX_RESPONSE_BODY: usize = 1 << 20;
/// Shortest shared secret accepted (bytes).
pub const MIN_SECRET_LEN: usize = 32;
/// Nonces remembered at most; beyond, requests are refused until old ones
/// leave the window (a signed flood, so the secret is known anyway).
pub const MAX_NONCES: usize = 100_000;

type HmacSha256 = Hmac<Sha256>;

/// Why a request (or a response) was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// A signature header is missing.
    Missing(&'static str),
    BadNonce,
    BadTimestamp,
    /// The timestamp is this many seconds from the verifier's clock.
    Stale(i64),
    BadSignature,
    Replayed,
    TooManyNonces,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Missing(h) => write!(f, "the {h} header is missing"),
            AuthError::BadNonce => write!(f, "the nonce must be 16-64 of A-Z a-z 0-9 - _"),
            AuthError::BadTimestamp => write!(f, "the timestamp is not Unix seconds"),
            AuthError::Stale(d) => write!(
                f,
                "the timestamp is {d} s from the agent's clock (at most {WINDOW_SECS} s allowed)"
            ),
            AuthError::BadSignature => write!(f, "the signature does not match"),
            AuthError::Replayed => write!(f, "the nonce was already used"),
            AuthError::TooManyNonces => write!(f, "too many requests in the replay window"),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 128 {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| match p {
            [a, b] => Some(digit(*a)? << 4 | digit(*b)?),
            _ => None,
        })
        .collect()
}

fn body_hash(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

fn request_message(method: &str, path: &str, timestamp: i64, nonce: &str, body: &[u8]) -> String {
    format!(
        "mailaudit-agent-v1\n{}\n{path}\n{timestamp}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        body_hash(body)
    )
}

fn response_message(status: u16, nonce: &str, body: &[u8]) -> String {
    format!(
        "mailaudit-agent-v1-response\n{status}\n{nonce}\n{}",
        body_hash(body)
    )
}

fn mac(secret: &[u8], message: &str) -> HmacSha256 {
    // HMAC takes keys of any length: new_from_slice cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(message.as_bytes());
    m
}

fn check(secret: &[u8], message: &str, signature: &str) -> Result<(), AuthError> {
    let sig = unhex(signature.trim()).ok_or(AuthError::BadSignature)?;
    mac(secret, message)
        .verify_slice(&sig)
        .map_err(|_| AuthError::BadSignature)
}

/// The hex signature of a request.
pub fn sign_request(
    secret: &[u8],
    method: &str,
    path: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> String {
    let m = request_message(method, path, timestamp, nonce, body);
    hex(&mac(secret, &m).finalize().into_bytes())
}

/// The hex signature of the agent's answer to the request with `nonce`.
pub fn sign_response(secret: &[u8], status: u16, nonce: &str, body: &[u8]) -> String {
    hex(&mac(secret, &response_message(status, nonce, body))
        .finalize()
        .into_bytes())
}

/// Checks the agent's answer to the request with `nonce`.
pub fn verify_response(
    secret: &[u8],
    status: u16,
    nonce: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), AuthError> {
    let sig = signature.ok_or(AuthError::Missing(HDR_SIGNATURE))?;
    check(secret, &response_message(status, nonce, body), sig)
}

/// A nonce is 16–64 characters of `A–Z a–z 0–9 - _`.
pub fn valid_nonce(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The nonces accepted within the window, each with its timestamp.
#[derive(Debug, Default)]
pub struct ReplayCache {
    seen: HashMap<String, i64>,
}

impl ReplayCache {
    /// Records `nonce` (timestamp `ts`) or says it was seen. Nonces whose
    /// timestamp has left the window are forgotten first: a replay of
    /// them is refused as stale.
    pub fn insert(&mut self, nonce: &str, ts: i64, now: i64) -> Result<(), AuthError> {
        self.seen
            .retain(|_, t| t.saturating_add(WINDOW_SECS) >= now);
        if self.seen.contains_key(nonce) {
            return Err(AuthError::Replayed);
        }
        if self.seen.len() >= MAX_NONCES {
            return Err(AuthError::TooManyNonces);
        }
        self.seen.insert(nonce.to_string(), ts);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// The agent's side: the secret and the nonces seen.
pub struct Verifier {
    secret: Vec<u8>,
    cache: ReplayCache,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secret", &"<redacted>")
            .field("nonces", &self.cache.len())
            .finish()
    }
}

/// The signature headers of a request, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignatureHeaders<'a> {
    pub timestamp: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub signature: Option<&'a str>,
}

impl Verifier {
    /// A verifier for `secret` (surrounding white space removed, as read
    /// from a file): at least [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &str) -> Result<Verifier, String> {
        Ok(Verifier {
            secret: secret_bytes(secret)?,
            cache: ReplayCache::default(),
        })
    }

    /// Accepts a signed request at `now` (Unix seconds) and returns its
    /// nonce (the response is signed with it).
    pub fn verify<'a>(
        &mut self,
        method: &str,
        path: &str,
        h: SignatureHeaders<'a>,
        body: &[u8],
        now: i64,
    ) -> Result<&'a str, AuthError> {
        let ts = h.timestamp.ok_or(AuthError::Missing(HDR_TIMESTAMP))?;
        let nonce = h.nonce.ok_or(AuthError::Missing(HDR_NONCE))?;
        let sig = h.signature.ok_or(AuthError::Missing(HDR_SIGNATURE))?;
        if !valid_nonce(nonce) {
            return Err(AuthError::BadNonce);
        }
        let ts_text = ts.trim();
        if ts_text.is_empty() || ts_text.len() > 12 || !ts_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(AuthError::BadTimestamp);
        }
        let ts: i64 = ts_text.parse().map_err(|_| AuthError::BadTimestamp)?;
        let skew = ts.saturating_sub(now);
        if skew.abs() > WINDOW_SECS {
            return Err(AuthError::Stale(skew));
        }
        check(
            &self.secret,
            &request_message(method, path, ts, nonce, body),
            sig,
        )?;
        self.cache.insert(nonce, ts, now)?;
        Ok(nonce)
    }

    /// Signs the agent's answer to the request with `nonce`.
    pub fn sign_response(&self, status: u16, nonce: &str, body: &[u8]) -> String {
        sign_response(&self.secret, status, nonce, body)
    }
}

fn secret_bytes(secret: &str) -> Result<Vec<u8>, String> {
    let s = secret.trim();
    if s.len() < MIN_SECRET_LEN {
        return Err(format!(
            "the probe agent secret must be at least {MIN_SECRET_LEN} characters (e.g. \
             `openssl rand -hex 32`)"
        ));
    }
    Ok(s.as_bytes().to_vec())
}

/// What the Worker asks the agent to probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeRequest {
    /// The MX host name (certificate names, banner).
    pub host: String,
    /// The address to connect to (the agent checks it against its policy).
    pub ip: IpAddr,
    /// The address's PTR name, if DNS gave one.
    #[serde(default)]
    pub ptr_name: Option<String>,
    /// Whether the domain's MTA-STS policy is in `enforce` mode.
    #[serde(default)]
    pub mta_sts_enforce: bool,
}

impl ProbeRequest {
    /// Parses and checks a request body.
    pub fn parse(body: &[u8]) -> Result<ProbeRequest, String> {
        if body.len() > MAX_REQUEST_BODY {
            return Err(format!("the body is larger than {MAX_REQUEST_BODY} bytes"));
        }
        let mut r: ProbeRequest =
            serde_json::from_slice(body).map_err(|e| format!("not a probe request: {e}"))?;
        r.host = host_name(&r.host)?;
        if let Some(p) = &r.ptr_name {
            r.ptr_name = Some(host_name(p)?);
        }
        Ok(r)
    }
}

/// A DNS host name, normalised (letters, digits, `-`, `_` and dots).
fn host_name(name: &str) -> Result<String, String> {
    let bad = || format!("{name:?} is not a host name");
    let n = crate::dns::normalize_name(name).map_err(|_| bad())?;
    let ok = n.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if ok {
        Ok(n)
    } else {
        Err(bad())
    }
}

/// What the agent answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResponse {
    pub host: String,
    pub ip: IpAddr,
    /// The `smtp.*` and `tls.*` findings.
    pub findings: Vec<Finding>,
    /// The certificate chain served after STARTTLS (base64 DER), for the
    /// DANE match made by the caller.
    #[serde(default)]
    pub served_chain: Option<Vec<String>>,
    /// `mailaudit/<version>`.
    #[serde(default)]
    pub agent: String,
}

impl ProbeResponse {
    /// From the live checks of [`super::plan::run_target`].
    pub fn from_live(req: &ProbeRequest, live: Live) -> ProbeResponse {
        let b64 = base64::engine::general_purpose::STANDARD;
        ProbeResponse {
            host: req.host.clone(),
            ip: req.ip,
            findings: live.findings,
            served_chain: live
                .served
                .map(|(_, chain)| chain.iter().map(|c| b64.encode(c)).collect()),
            agent: concat!("mailaudit/", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

/// The agent's side of one request: runs the live checks of the target
/// (locally: `opts.agent` is ignored) through `net`, which the host guards.
pub async fn serve_probe<N: Network>(
    net: &N,
    req: &ProbeRequest,
    now_unix: i64,
    opts: &super::plan::LiveOptions,
) -> ProbeResponse {
    let live = super::plan::run_target(
        net,
        req.host.clone(),
        req.ip,
        req.ptr_name.as_deref(),
        req.mta_sts_enforce,
        now_unix,
        opts,
    )
    .await;
    ProbeResponse::from_live(req, live)
}

/// How the engine reaches a probe agent.
#[derive(Clone)]
pub struct AgentClient {
    /// Base URL (`https://agent.example.org`); [`PATH`] is appended.
    pub url: String,
    secret: Vec<u8>,
    /// A fresh nonce for this audit's request (the engine has no
    /// randomness: the host makes it).
    pub nonce: String,
    /// Deadline of the agent's answer.
    pub timeout_ms: u32,
}

impl fmt::Debug for AgentClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentClient")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("nonce", &self.nonce)
            .finish()
    }
}

impl AgentClient {
    pub fn new(url: &str, secret: &str, nonce: &str) -> Result<AgentClient, String> {
        let u = url::Url::parse(url.trim()).map_err(|e| format!("bad agent URL {url:?}: {e}"))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(format!(
                "the agent URL {url:?} must be http(s)://host[:port]"
            ));
        }
        if !valid_nonce(nonce) {
            return Err("the nonce must be 16-64 of A-Z a-z 0-9 - _".into());
        }
        Ok(AgentClient {
            url: url.trim().trim_end_matches('/').to_string(),
            secret: secret_bytes(secret)?,
            nonce: nonce.to_string(),
            timeout_ms: 120_000,
        })
    }

    fn endpoint(&self) -> String {
        format!("{}{PATH}", self.url)
    }

    /// The signed request for `req` at `now_unix`.
    pub fn request(&self, req: &ProbeRequest, now_unix: i64) -> HttpRequest {
        let body = serde_json::to_vec(req).unwrap_or_default();
        let url = self.endpoint();
        let path = url::Url::parse(&url)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| PATH.to_string());
        let sig = sign_request(&self.secret, "POST", &path, now_unix, &self.nonce, &body);
        let mut r = HttpRequest::post(url, "application/json", body)
            .header(HDR_TIMESTAMP, &now_unix.to_string())
            .header(HDR_NONCE, &self.nonce)
            .header(HDR_SIGNATURE, &sig);
        r.timeout_ms = self.timeout_ms;
        r.max_body = MAX_RESPONSE_BODY;
        r
    }
}

fn not_run(why: String) -> Live {
    Live {
        findings: super::plan::not_run(&why),
        served: None,
    }
}

/// Printable, bounded text from an untrusted message.
fn clip(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect::<String>()
}

/// The engine's side: asks the agent to probe `target` and turns its
/// signed answer into the live findings. Any failure (unreachable, refused,
/// unsigned or malformed answer) makes every live check `unknown` with the
/// reason.
pub async fn remote_run<N: Network>(
    net: &N,
    agent: &AgentClient,
    target: &ProbeRequest,
    now_unix: i64,
) -> Live {
    let url = agent.endpoint();
    let resp = match net.http(agent.request(target, now_unix)).await {
        Ok(r) => r,
        Err(e) => {
            return not_run(format!(
                "Not run: the probe agent at {url} did not answer: {e}."
            ))
        }
    };
    if let Err(e) = verify_response(
        &agent.secret,
        resp.status,
        &agent.nonce,
        &resp.body,
        resp.header(HDR_SIGNATURE),
    ) {
        return not_run(format!(
            "Not run: the answer of the probe agent at {url} (HTTP {}) was not signed with the \
             shared secret ({e}); check PROBE_AGENT_SECRET.",
            resp.status
        ));
    }
    if resp.status != 200 {
        let msg = serde_json::from_slice::<serde_json::Value>(&resp.body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(clip))
            .unwrap_or_default();
        return not_run(format!(
            "Not run: the probe agent at {url} refused the request (HTTP {}: {msg}).",
            resp.status
        ));
    }
    let answer: ProbeResponse = match serde_json::from_slice(&resp.body) {
        Ok(a) => a,
        Err(e) => {
            return not_run(format!(
                "Not run: the probe agent at {url} sent an answer that is not a probe result: {e}."
            ))
        }
    };
    if answer.ip != target.ip || !answer.host.eq_ignore_ascii_case(&target.host) {
        return not_run(format!(
            "Not run: the probe agent at {url} answered about {} ({}), not {} ({}).",
            clip(&answer.host),
            answer.ip,
            target.host,
            target.ip
        ));
    }
    let findings = live_rules()
        .map(
            |rule| match answer.findings.iter().find(|f| f.id == rule.id) {
                // Title, severity and references come from this build's
                // catalog; status, detail, evidence and remediation from the
                // agent.
                Some(f) => {
                    let mut out = rule.finding(f.status, f.detail.clone());
                    out.evidence = f.evidence.clone();
                    out.remediation = f.remediation.clone();
                    out
                }
                None => rule.finding(
                    Status::Unknown,
                    format!(
                        "The probe agent at {url} did not report this check (another version?)."
                    ),
                ),
            },
        )
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    let served = answer.served_chain.map(|chain| {
        (
            target.host.clone(),
            chain
                .iter()
                .filter_map(|c| b64.decode(c).ok())
                .collect::<Vec<_>>(),
        )
    });
    Live { findings, served }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_795_910_400;

    fn headers<'a>(ts: &'a str, nonce: &'a str, sig: &'a str) -> SignatureHeaders<'a> {
        SignatureHeaders {
            timestamp: Some(ts),
            nonce: Some(nonce),
            signature: Some(sig),
        }
    }

    fn signed(body: &[u8], ts: i64, nonce: &str) -> (String, String) {
        (
            ts.to_string(),
            sign_request(SECRET.as_bytes(), "POST", PATH, ts, nonce, body),
        )
    }

    #[test]
    fn a_signed_request_is_accepted_once() {
        let mut v = Verifier::new(SECRET).unwrap();
        let body = br#"{"host":"mail.example.org","ip":"192.0.2.1"}"#;
        let nonce = "n0nce-0000000001";
        let (ts, sig) = signed(body, NOW, nonce);
        assert_eq!(
            v.verify("POST", PATH, headers(&ts, nonce, &sig), body, NOW),
            Ok(nonce)
        );
        // Replayed within the window.
        assert_eq!(
            v.verify("POST", PATH, headers(&ts, nonce, &sig), body, NOW + 5),
            Err(AuthError::Replayed)
        );
        // Replayed after the window: stale, even though the cache forgot it.
        assert!(matches!(
            v.verify("POST", PATH, headers(&ts, nonce, &sig), body, NOW + 61),
            Err(AuthError::Stale(-61))
        ));
        // Upper-case hex and a lower-case method are the same signature.
        let nonce2 = "n0nce-0000000002";
        let (ts, sig) = signed(body, NOW, nonce2);
        assert!(v
            .verify(
                "post",
                PATH,
                headers(&ts, nonce2, &sig.to_uppercase()),
                body,
                NOW
            )
            .is_ok());
    }

    #[test]
    fn a_wrong_key_is_refused() {
        let mut v = Verifier::new(SECRET).unwrap();
        let body = b"{}";
        let nonce = "n0nce-0000000003";
        let sig = sign_request(
            b"another secret of at least 32 bytes!",
            "POST",
            PATH,
            NOW,
            nonce,
            body,
        );
        assert_eq!(
            v.verify(
                "POST",
                PATH,
                headers(&NOW.to_string(), nonce, &sig),
                body,
                NOW
            ),
            Err(AuthError::BadSignature)
        );
        // A refused request does not use up its nonce.
        let (ts, sig) = signed(body, NOW, nonce);
        assert!(v
            .verify("POST", PATH, headers(&ts, nonce, &sig), body, NOW)
            .is_ok());
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let mut v = Verifier::new(SECRET).unwrap();
        let body = b"{}";
        for (ts, ok) in [
            (NOW - 61, false),
            (NOW - 60, true),
            (NOW + 60, true),
            (NOW + 61, false),
            (0, false),
        ] {
            let nonce = format!("nonce-{:016}", ts);
            let (t, sig) = signed(body, ts, &nonce);
            let r = v.verify("POST", PATH, headers(&t, &nonce, &sig), body, NOW);
            assert_eq!(r.is_ok(), ok, "{ts}: {r:?}");
            if !ok {
                assert!(matches!(r, Err(AuthError::Stale(_))), "{r:?}");
            }
        }
        for bad in ["", "-5", "12a", "1e9", "99999999999999999999"] {
            assert_eq!(
                v.verify(
                    "POST",
                    PATH,
                    headers(bad, "nonce-aaaaaaaaaaaa", "00"),
                    body,
                    NOW
                ),
                Err(AuthError::BadTimestamp),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_tampered_request_is_refused() {
        let mut v = Verifier::new(SECRET).unwrap();
        let body = br#"{"host":"mail.example.org","ip":"192.0.2.1"}"#;
        let nonce = "n0nce-0000000004";
        let (ts, sig) = signed(body, NOW, nonce);
        let other = br#"{"host":"mail.example.org","ip":"10.0.0.1"}"#;
        let h = headers(&ts, nonce, &sig);
        assert_eq!(
            v.verify("POST", PATH, h, other, NOW),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            v.verify("POST", "/v1/other", h, body, NOW),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            v.verify("GET", PATH, h, body, NOW),
            Err(AuthError::BadSignature)
        );
        let later = (NOW + 1).to_string();
        assert_eq!(
            v.verify("POST", PATH, headers(&later, nonce, &sig), body, NOW),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            v.verify(
                "POST",
                PATH,
                headers(&ts, "n0nce-0000000005", &sig),
                body,
                NOW
            ),
            Err(AuthError::BadSignature)
        );
        for bad_sig in ["", "zz", &sig[..62], &format!("{sig}00"), &"0".repeat(64)] {
            assert_eq!(
                v.verify("POST", PATH, headers(&ts, nonce, bad_sig), body, NOW),
                Err(AuthError::BadSignature),
                "{bad_sig}"
            );
        }
        // Missing headers, bad nonces.
        let none = SignatureHeaders::default();
        assert_eq!(
            v.verify("POST", PATH, none, body, NOW),
            Err(AuthError::Missing(HDR_TIMESTAMP))
        );
        for bad in [
            "short",
            "has space in it 123",
            &"x".repeat(65),
            "nonce/with/slash1",
        ] {
            assert_eq!(
                v.verify("POST", PATH, headers(&ts, bad, &sig), body, NOW),
                Err(AuthError::BadNonce),
                "{bad}"
            );
        }
        // The untampered request still passes (nothing was recorded).
        assert!(v.verify("POST", PATH, h, body, NOW).is_ok());
    }

    #[test]
    fn the_replay_cache_forgets_only_what_left_the_window() {
        let mut c = ReplayCache::default();
        c.insert("a", NOW, NOW).unwrap();
        c.insert("b", NOW + 30, NOW).unwrap();
        assert_eq!(c.insert("a", NOW, NOW + 60), Err(AuthError::Replayed));
        c.insert("c", NOW + 61, NOW + 61).unwrap();
        // "a" (ts NOW) left the window at NOW + 61; "b" is still there.
        assert_eq!(c.len(), 2);
        assert_eq!(c.insert("b", NOW + 30, NOW + 61), Err(AuthError::Replayed));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Verifier::new("  short  ").is_err());
        assert!(Verifier::new(&format!("{SECRET}\n")).is_ok());
        assert!(AgentClient::new("https://a.example", "short", "nonce-aaaaaaaaaaaa").is_err());
        assert!(AgentClient::new("ftp://a.example", SECRET, "nonce-aaaaaaaaaaaa").is_err());
        assert!(AgentClient::new("https://a.example/", SECRET, "bad nonce").is_err());
        let c = AgentClient::new("https://a.example/", SECRET, "nonce-aaaaaaaaaaaa").unwrap();
        assert_eq!(c.endpoint(), "https://a.example/v1/probe");
        assert!(!format!("{c:?}").contains(SECRET));
    }

    #[test]
    fn responses_are_signed() {
        let v = Verifier::new(SECRET).unwrap();
        let nonce = "n0nce-0000000006";
        let sig = v.sign_response(200, nonce, b"{}");
        let s = SECRET.as_bytes();
        assert_eq!(verify_response(s, 200, nonce, b"{}", Some(&sig)), Ok(()));
        assert!(verify_response(s, 200, nonce, b"{ }", Some(&sig)).is_err());
        assert!(verify_response(s, 403, nonce, b"{}", Some(&sig)).is_err());
        assert!(verify_response(s, 200, "n0nce-0000000007", b"{}", Some(&sig)).is_err());
        assert_eq!(
            verify_response(s, 200, nonce, b"{}", None),
            Err(AuthError::Missing(HDR_SIGNATURE))
        );
    }

    /// A known-answer vector, so other implementations (the e2e test's
    /// Node client, docs/api.md) can check theirs.
    #[test]
    fn known_answer() {
        let sig = sign_request(
            SECRET.as_bytes(),
            "POST",
            PATH,
            NOW,
            "n0nce-0000000001",
            b"{}",
        );
        let m = request_message("POST", PATH, NOW, "n0nce-0000000001", b"{}");
        assert_eq!(
            m,
            "mailaudit-agent-v1\nPOST\n/v1/probe\n1795910400\nn0nce-0000000001\n\
             44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(sig.len(), 64);
        assert_eq!(unhex(&sig).map(|b| hex(&b)), Some(sig));
    }

    /// A fake agent behind the engine's network trait: verifies the
    /// request as the real one does and answers `answer_ip`'s findings.
    struct FakeAgent {
        verifier: std::cell::RefCell<Verifier>,
        answer_ip: &'static str,
        calls: std::cell::Cell<usize>,
    }

    impl Network for FakeAgent {
        type Conn = crate::testing::NoConn;
        async fn http(
            &self,
            req: HttpRequest,
        ) -> Result<crate::net::HttpResponse, crate::net::NetError> {
            self.calls.set(self.calls.get() + 1);
            assert_eq!(req.url, "https://agent.test/v1/probe");
            let h = |n: &str| {
                req.headers
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.as_str())
            };
            let sh = SignatureHeaders {
                timestamp: h(HDR_TIMESTAMP),
                nonce: h(HDR_NONCE),
                signature: h(HDR_SIGNATURE),
            };
            let mut v = self.verifier.borrow_mut();
            let nonce = match v.verify("POST", PATH, sh, &req.body, NOW + 3) {
                Ok(n) => n.to_string(),
                Err(e) => {
                    return Ok(crate::net::HttpResponse {
                        status: 401,
                        headers: vec![],
                        body: format!(r#"{{"error":{{"message":"{e}"}}}}"#).into_bytes(),
                    })
                }
            };
            let target = ProbeRequest::parse(&req.body).unwrap();
            let mut findings = super::super::plan::not_run("scripted");
            findings[0] = super::super::rules::SMTP_REACHABLE.finding(Status::Pass, "greeted");
            let answer = ProbeResponse {
                host: target.host,
                ip: self.answer_ip.parse().unwrap(),
                findings,
                served_chain: Some(vec!["AQID".into()]),
                agent: "mailaudit/test".into(),
            };
            let body = serde_json::to_vec(&answer).unwrap();
            Ok(crate::net::HttpResponse {
                status: 200,
                headers: vec![(HDR_SIGNATURE.into(), v.sign_response(200, &nonce, &body))],
                body,
            })
        }
        async fn tcp_connect(
            &self,
            _: &str,
            _: u16,
            _: u32,
        ) -> Result<Self::Conn, crate::net::NetError> {
            panic!("the engine must not connect itself when an agent is configured")
        }
    }

    fn target() -> ProbeRequest {
        ProbeRequest {
            host: "mail.example.org".into(),
            ip: "192.0.2.25".parse().unwrap(),
            ptr_name: None,
            mta_sts_enforce: false,
        }
    }

    fn fake(answer_ip: &'static str) -> FakeAgent {
        FakeAgent {
            verifier: std::cell::RefCell::new(Verifier::new(SECRET).unwrap()),
            answer_ip,
            calls: std::cell::Cell::new(0),
        }
    }

    #[test]
    fn the_engine_takes_the_agents_signed_findings() {
        use futures::executor::block_on;
        let net = fake("192.0.2.25");
        let client = AgentClient::new("https://agent.test/", SECRET, "nonce-0123456789ab").unwrap();
        let live = block_on(remote_run(&net, &client, &target(), NOW));
        assert_eq!(net.calls.get(), 1);
        assert_eq!(live.findings.len(), live_rules().count());
        let reachable = live
            .findings
            .iter()
            .find(|f| f.id == "smtp.reachable")
            .unwrap();
        assert_eq!(reachable.status, Status::Pass);
        assert!(live
            .findings
            .iter()
            .filter(|f| f.id != "smtp.reachable")
            .all(|f| f.status == Status::Unknown));
        assert_eq!(
            live.served,
            Some(("mail.example.org".to_string(), vec![vec![1, 2, 3]]))
        );
        // The same nonce again (a replay by the network): refused by the
        // agent, so every check is unknown with the reason.
        let again = block_on(remote_run(&net, &client, &target(), NOW));
        assert!(again.findings.iter().all(|f| f.status == Status::Unknown));
        assert!(
            again.findings[0].detail.contains("not signed"),
            "{}",
            again.findings[0].detail
        );
        // Through the planner: LiveOptions::agent routes the live checks.
        let client = AgentClient::new("https://agent.test", SECRET, "nonce-0123456789ac").unwrap();
        let opts = super::super::plan::LiveOptions {
            agent: Some(client),
            ..Default::default()
        };
        let dns = crate::testing::ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "192.0.2.25");
        let r = crate::dns::Resolver::new(&dns, "https://doh.test/dns-query");
        let mx = block_on(crate::dns::mx::lookup(&r, "example.org"));
        let ptr = crate::dns::ptr::PtrLookup::default();
        let live = block_on(super::super::plan::run(&net, &mx, &ptr, false, NOW, &opts));
        assert_eq!(net.calls.get(), 3);
        assert_eq!(
            live.findings
                .iter()
                .filter(|f| f.status == Status::Pass)
                .count(),
            1
        );
    }

    #[test]
    fn a_wrong_secret_or_target_makes_the_checks_unknown() {
        use futures::executor::block_on;
        let net = fake("192.0.2.25");
        let other = "another secret that is 32 bytes long";
        let client = AgentClient::new("https://agent.test", other, "nonce-0123456789ab").unwrap();
        let live = block_on(remote_run(&net, &client, &target(), NOW));
        assert!(live.findings.iter().all(|f| f.status == Status::Unknown));
        assert!(live.findings[0].detail.contains("PROBE_AGENT_SECRET"));
        assert_eq!(live.served, None);
        let net = fake("192.0.2.99");
        let client = AgentClient::new("https://agent.test", SECRET, "nonce-0123456789ab").unwrap();
        let live = block_on(remote_run(&net, &client, &target(), NOW));
        assert!(live.findings.iter().all(|f| f.status == Status::Unknown));
        assert!(
            live.findings[0].detail.contains("answered about"),
            "{}",
            live.findings[0].detail
        );
    }

    #[test]
    fn probe_requests_are_checked() {
        let r = ProbeRequest::parse(br#"{"host":"Mail.Example.org.","ip":"192.0.2.1"}"#).unwrap();
        assert_eq!(r.host, "mail.example.org");
        assert_eq!(r.ptr_name, None);
        assert!(!r.mta_sts_enforce);
        for bad in [
            &b"{}"[..],
            br#"{"host":"mail.example.org","ip":"not an ip"}"#,
            br#"{"host":"","ip":"192.0.2.1"}"#,
            br#"{"host":"a b","ip":"192.0.2.1"}"#,
            &[b'x'; MAX_REQUEST_BODY + 1][..],
        ] {
            assert!(ProbeRequest::parse(bad).is_err(), "{bad:?}");
        }
    }
}
