//! DNS: query encoding, answer decoding and the typed view of answers the
//! rules read. Wire format is hickory-proto's; transport is the host's
//! [`Network`].
//!
//! The resolver's URL names the transport ([`ResolverUrl::parse`]):
//! - `https://…` — DNS over HTTPS (RFC 8484): POST `application/dns-message`
//!   with message id 0 (RFC 8484 §4.1), over [`Network::http`];
//! - `dns://IP[:PORT]` — plain DNS (RFC 1035 §4.2) to that address, port 53
//!   by default: UDP, and TCP when the answer comes back truncated, over
//!   [`Network::dns_exchange`]. The host sets a random message id for each
//!   exchange and accepts only a reply that repeats it and the question
//!   ([`wire::reply_matches`]). A host without plain DNS (the Worker, the
//!   browser) answers every such exchange with a refusal that says so.
//!
//! Either way queries ask for recursion and set the EDNS DO bit, so a
//! validating resolver reports the AD bit the DNSSEC checks read.
//!
//! [`Resolver`] is the one DNS path of the engine. Within one audit (one
//! `Resolver`) it asks each question once: identical questions, even
//! concurrent ones, share one exchange and its answer (see
//! [`Resolver::query`]). A look-up that fails in transport (timeout,
//! connection or TLS failure, HTTP 5xx) is tried once more; a DNS answer of
//! any rcode is final.

pub mod bimi;
pub mod blocklist;
pub mod dane;
pub mod dkim;
pub mod dmarc;
pub mod dnssec;
pub mod mtasts;
pub mod mx;
pub mod provider;
pub mod psl;
pub mod ptr;
pub mod spf;
pub mod tlsrpt;
pub mod wire;

use crate::net::{HttpRequest, NetError, Network};
use crate::report::Evidence;
use async_lock::OnceCell;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use thiserror::Error;

pub use hickory_proto::rr::RecordType;

/// The resolver used when the user names none.
pub const DEFAULT_RESOLVER: &str = "https://cloudflare-dns.com/dns-query";
const DNS_MESSAGE: &str = "application/dns-message";
/// A DNS message can never be larger than this.
const MAX_DNS_MESSAGE: usize = 65_535;
/// The EDNS UDP payload size offered over plain DNS: 1232 octets, the
/// size DNS Flag Day 2020 settled on, which fits a minimal IPv6 MTU, so
/// answers are not fragmented (fragments are easy to spoof and often
/// dropped). A larger answer comes back truncated and is asked again over
/// TCP by the host.
pub const UDP_PAYLOAD: u16 = 1232;
/// The EDNS payload size offered over DoH, where it only tells the
/// resolver how much the HTTP answer may carry.
const DOH_PAYLOAD: u16 = 4096;

/// What a report assumes of a plain DNS resolver (`None` for DoH, whose
/// answers arrive authenticated by TLS from the resolver named).
pub fn transport_assumption(url: &str) -> Option<String> {
    match ResolverUrl::parse(url) {
        Ok(ResolverUrl::Plain(addr)) => Some(format!(
            "plain DNS to {addr} (UDP, TCP for truncated answers), neither encrypted nor \
             authenticated: answers and the resolver's DNSSEC verdict (AD bit) are taken as \
             received, so the path to the resolver must be trusted (a resolver on this host \
             or network)"
        )),
        _ => None,
    }
}

/// Why a host without plain DNS refuses a `dns://` resolver.
pub const DOH_ONLY: &str =
    "this host sends DNS only over HTTPS (DoH): the resolver must be an https:// URL";

/// How the resolver is reached, from the scheme of its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolverUrl {
    /// DNS over HTTPS (RFC 8484) at this URL.
    Https(String),
    /// Plain DNS to this address: UDP, TCP for truncated answers.
    Plain(SocketAddr),
}

impl ResolverUrl {
    /// Reads a resolver URL: `dns://IP[:PORT]` (an IPv6 address in
    /// brackets; port 53 by default; `udp://` is read the same) is plain
    /// DNS; anything else is taken as a DoH URL, as before plain DNS
    /// existed. A plain resolver is named by its address: looking its name
    /// up would need another resolver.
    pub fn parse(url: &str) -> Result<ResolverUrl, String> {
        let trimmed = url.trim();
        let Some(rest) = ["dns://", "udp://"]
            .iter()
            .find_map(|scheme| trimmed.strip_prefix(scheme))
        else {
            return Ok(ResolverUrl::Https(url.to_string()));
        };
        let bad = |why: &str| {
            Err(format!(
                "resolver {trimmed:?}: {why} (plain DNS is dns://IP or dns://IP:PORT, \
                 e.g. dns://127.0.0.53 or dns://[::1]:5353)"
            ))
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) {
            return bad("only an address and a port");
        }
        if let Ok(addr) = authority.parse::<SocketAddr>() {
            if addr.port() == 0 {
                return bad("port 0");
            }
            return Ok(ResolverUrl::Plain(addr));
        }
        let bare = authority
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(authority);
        match bare.parse::<IpAddr>() {
            Ok(ip) => Ok(ResolverUrl::Plain(SocketAddr::new(ip, 53))),
            Err(_) => bad("not an IP address"),
        }
    }

    /// For a host that has no plain DNS (the Worker, the browser): `Err`
    /// with the reason when `url` is not a DoH URL.
    pub fn require_doh(url: &str) -> Result<(), String> {
        match ResolverUrl::parse(url)? {
            ResolverUrl::Https(_) => Ok(()),
            ResolverUrl::Plain(_) => Err(format!("resolver {:?}: {DOH_ONLY}", url.trim())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DnsError {
    #[error("invalid domain name {0:?}")]
    BadName(String),
    #[error("{}", transport_text(.0))]
    Transport(#[from] NetError),
    #[error("resolver answered HTTP {0}")]
    HttpStatus(u16),
    #[error("resolver sent a malformed DNS message: {0}")]
    Malformed(String),
    #[error("resolver answered a different question")]
    WrongQuestion,
    /// The answer has the TC bit: it is incomplete, so what it leaves out
    /// (a second SPF record, say) cannot be judged. DoH carries messages of
    /// any size (RFC 8484 §6), so a resolver has no reason to truncate;
    /// over plain DNS the host asks a truncated UDP answer again over TCP,
    /// which carries any size too.
    #[error("resolver sent a truncated answer (TC bit set)")]
    Truncated,
    /// The answer's CNAME chain comes back to a name it already named.
    #[error("resolver sent a CNAME loop: {0}")]
    CnameLoop(String),
    /// The resolver URL cannot be used (see [`ResolverUrl::parse`]).
    #[error("{0}")]
    BadResolver(String),
}

/// A transport failure as the reason of an `unknown` check. An answer over
/// the size limit did arrive: the resolver was reached.
fn transport_text(e: &NetError) -> String {
    match e {
        NetError::TooLarge(_) => format!("resolver's answer too large: {e}"),
        _ => format!("resolver unreachable: {e}"),
    }
}

impl DnsError {
    /// A failure another try may not repeat: the exchange did not complete
    /// (timeout, connection, TLS) or the resolver answered HTTP 5xx. Not a
    /// policy refusal (e.g. the audit's subrequest budget), an oversized or
    /// malformed answer, or a bad name: those would fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            DnsError::Transport(e) => matches!(
                e,
                NetError::Timeout(_) | NetError::Connect(_) | NetError::Tls(_) | NetError::Other(_)
            ),
            DnsError::HttpStatus(s) => (500..=599).contains(s),
            DnsError::BadName(_)
            | DnsError::Malformed(_)
            | DnsError::WrongQuestion
            | DnsError::Truncated
            | DnsError::CnameLoop(_)
            | DnsError::BadResolver(_) => false,
        }
    }
}

/// Record data the rules understand; anything else is kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RrData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Mx {
        preference: u16,
        exchange: String,
    },
    /// The character-strings of one TXT record, unjoined.
    Txt(Vec<Vec<u8>>),
    Cname(String),
    Ptr(String),
    /// A TLSA record (RFC 6698 §2.1), fields as published: values outside
    /// the registries are kept, for the DANE rules to report.
    Tlsa {
        usage: u8,
        selector: u8,
        matching: u8,
        data: Vec<u8>,
    },
    Other {
        rtype: String,
        text: String,
    },
}

impl RrData {
    pub fn rtype(&self) -> RecordType {
        match self {
            RrData::A(_) => RecordType::A,
            RrData::Aaaa(_) => RecordType::AAAA,
            RrData::Mx { .. } => RecordType::MX,
            RrData::Txt(_) => RecordType::TXT,
            RrData::Cname(_) => RecordType::CNAME,
            RrData::Ptr(_) => RecordType::PTR,
            RrData::Tlsa { .. } => RecordType::TLSA,
            RrData::Other { rtype, .. } => rtype.parse().unwrap_or(RecordType::Unknown(0)),
        }
    }

    /// A TXT record's strings concatenated (RFC 7208 §3.3), lossily as UTF-8.
    pub fn txt_joined(&self) -> Option<String> {
        match self {
            RrData::Txt(parts) => Some(String::from_utf8_lossy(&parts.concat()).into_owned()),
            _ => None,
        }
    }
}

impl fmt::Display for RrData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RrData::A(ip) => write!(f, "{ip}"),
            RrData::Aaaa(ip) => write!(f, "{ip}"),
            RrData::Mx {
                preference,
                exchange,
            } => write!(f, "{preference} {exchange}"),
            RrData::Txt(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "\"{}\"", String::from_utf8_lossy(p).escape_debug())?;
                }
                Ok(())
            }
            RrData::Cname(n) | RrData::Ptr(n) => f.write_str(n),
            // Presentation format (RFC 6698 §2.2): data in hexadecimal.
            RrData::Tlsa {
                usage,
                selector,
                matching,
                data,
            } => {
                write!(f, "{usage} {selector} {matching} ")?;
                if data.is_empty() {
                    return f.write_str("-");
                }
                for b in data {
                    write!(f, "{b:02X}")?;
                }
                Ok(())
            }
            RrData::Other { text, .. } => f.write_str(text),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    /// Owner name, lower case, without the trailing dot.
    pub name: String,
    pub ttl: u32,
    pub data: RrData,
}

/// The resolver's answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsAnswer {
    pub qname: String,
    pub qtype: RecordType,
    pub rcode: ResponseCode,
    /// The resolver validated the answer with DNSSEC (AD bit).
    pub authentic_data: bool,
    /// Answer section, including any CNAME chain.
    pub records: Vec<Rr>,
}

impl DnsAnswer {
    /// Records of the asked type (after any CNAME chain).
    pub fn of_type(&self) -> impl Iterator<Item = &RrData> {
        self.records
            .iter()
            .map(|r| &r.data)
            .filter(move |d| d.rtype() == self.qtype)
    }

    pub fn is_nxdomain(&self) -> bool {
        self.rcode == ResponseCode::NXDomain
    }

    /// NOERROR or NXDOMAIN: the name's records are known (possibly none).
    pub fn is_definite(&self) -> bool {
        matches!(self.rcode, ResponseCode::NoError | ResponseCode::NXDomain)
    }

    pub fn rcode_text(&self) -> String {
        rcode_text(self.rcode)
    }

    /// The answer as evidence for a finding.
    pub fn evidence(&self) -> Evidence {
        Evidence::Dns {
            query: self.qname.clone(),
            rtype: self.qtype.to_string(),
            rcode: self.rcode_text(),
            answers: self.records.iter().map(format_rr).collect(),
        }
    }
}

fn format_rr(rr: &Rr) -> String {
    format!("{} {} {} {}", rr.name, rr.ttl, rr.data.rtype(), rr.data)
}

pub fn rcode_text(rcode: ResponseCode) -> String {
    match rcode {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

/// Normalises a user-given domain: trims, drops one trailing dot, lower
/// case; internationalised names are converted to their A-label form.
pub fn normalize_name(name: &str) -> Result<String, DnsError> {
    let trimmed = name.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if trimmed.is_empty() || trimmed.len() > 253 {
        return Err(DnsError::BadName(name.into()));
    }
    let parsed = Name::from_utf8(trimmed).map_err(|_| DnsError::BadName(name.into()))?;
    let mut ascii = parsed.to_ascii().to_ascii_lowercase();
    if ascii.ends_with('.') {
        ascii.pop();
    }
    Ok(ascii)
}

/// The wire name of `name` (ASCII, normalised, no trailing dot). Labels go
/// out as their raw bytes, so every name DNS can carry can be asked — SPF
/// macros produce names that are not host names.
fn wire_name(name: &str) -> Result<Name, DnsError> {
    let bad = || DnsError::BadName(name.into());
    if name.is_empty() || name.len() > 253 || name.split('.').any(|l| l.is_empty() || l.len() > 63)
    {
        return Err(bad());
    }
    Name::from_labels(name.split('.').map(str::as_bytes)).map_err(|_| bad())
}

/// Encodes the query for `name`/`rtype` as an RFC 8484 message.
pub fn encode_query(name: &str, rtype: RecordType) -> Result<Vec<u8>, DnsError> {
    encode_query_with(name, rtype, false)
}

/// [`encode_query`], optionally with the CD (checking disabled) bit: a
/// validating resolver then answers even when DNSSEC validation fails,
/// which tells a bogus zone (SERVFAIL only without CD) from broken name
/// servers (SERVFAIL either way).
pub fn encode_query_with(
    name: &str,
    rtype: RecordType,
    checking_disabled: bool,
) -> Result<Vec<u8>, DnsError> {
    encode_query_sized(name, rtype, checking_disabled, DOH_PAYLOAD)
}

/// The query with an EDNS payload size of `payload` octets: what the
/// transport can carry without truncation ([`UDP_PAYLOAD`] over UDP).
fn encode_query_sized(
    name: &str,
    rtype: RecordType,
    checking_disabled: bool,
    payload: u16,
) -> Result<Vec<u8>, DnsError> {
    let fqdn = wire_name(name)?;
    let mut msg = Message::new(0, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.metadata.checking_disabled = checking_disabled;
    msg.add_query(Query::query(fqdn, rtype));
    let mut edns = Edns::new();
    edns.set_dnssec_ok(true);
    edns.set_max_payload(payload);
    msg.set_edns(edns);
    msg.to_vec().map_err(|e| DnsError::Malformed(e.to_string()))
}

/// Decodes a resolver's answer and checks it answers `name`/`rtype`.
pub fn decode_answer(name: &str, rtype: RecordType, wire: &[u8]) -> Result<DnsAnswer, DnsError> {
    let fqdn = wire_name(name)?;
    let msg = Message::from_vec(wire).map_err(|e| DnsError::Malformed(e.to_string()))?;
    if msg.metadata.message_type != MessageType::Response {
        return Err(DnsError::Malformed("not a response".into()));
    }
    let question_ok = msg.queries.len() == 1
        && msg.queries[0].query_type() == rtype
        && *msg.queries[0].name() == fqdn;
    if !question_ok {
        return Err(DnsError::WrongQuestion);
    }
    if msg.metadata.truncation {
        return Err(DnsError::Truncated);
    }
    let records = canonical_order(
        msg.answers
            .iter()
            .map(|r| Rr {
                name: lower_name(&r.name),
                ttl: r.ttl,
                data: convert(&r.data),
            })
            .collect(),
    );
    if let Some(chain) = cname_loop(name, &records) {
        return Err(DnsError::CnameLoop(chain));
    }
    Ok(DnsAnswer {
        qname: name.into(),
        qtype: rtype,
        rcode: msg.metadata.response_code,
        authentic_data: msg.metadata.authentic_data,
        records,
    })
}

/// The CNAME chain from `qname` through `records`, shown as
/// `a → b → a`, when it comes back to a name it passed: the answer then
/// has no end, and "no record of the type" would be read from a loop.
/// (A chain that ends at a name without data of the type is an ordinary
/// NODATA answer.)
fn cname_loop(qname: &str, records: &[Rr]) -> Option<String> {
    let mut seen = vec![qname.to_ascii_lowercase()];
    // Each step consumes a distinct record, so this ends.
    for _ in 0..records.len() {
        let at = seen.last()?;
        let next = records.iter().find_map(|r| match &r.data {
            RrData::Cname(t) if r.name == *at => Some(t.clone()),
            _ => None,
        })?;
        let looped = seen.contains(&next);
        seen.push(next);
        if looped {
            return Some(seen.join(" → "));
        }
    }
    None
}

/// RRsets are unordered and resolvers rotate them, so the same data can
/// arrive in any order. Findings and evidence must not depend on that: the
/// CNAME chain keeps its order, everything after it is sorted.
fn canonical_order(records: Vec<Rr>) -> Vec<Rr> {
    let (mut chain, mut rest): (Vec<Rr>, Vec<Rr>) = records
        .into_iter()
        .partition(|r| matches!(r.data, RrData::Cname(_)));
    rest.sort_by_cached_key(|r| {
        (
            r.data.rtype().to_string(),
            r.name.clone(),
            r.data.to_string(),
        )
    });
    chain.extend(rest);
    chain
}

/// A name as its raw label bytes, lower case, without the root dot.
pub(crate) fn lower_name(n: &Name) -> String {
    n.iter()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(".")
}

fn convert(data: &RData) -> RrData {
    match data {
        RData::A(a) => RrData::A(a.0),
        RData::AAAA(a) => RrData::Aaaa(a.0),
        RData::MX(mx) => RrData::Mx {
            preference: mx.preference,
            exchange: lower_name(&mx.exchange),
        },
        RData::TXT(txt) => RrData::Txt(txt.txt_data.iter().map(|s| s.to_vec()).collect()),
        RData::CNAME(c) => RrData::Cname(lower_name(&c.0)),
        RData::PTR(p) => RrData::Ptr(lower_name(&p.0)),
        RData::TLSA(t) => RrData::Tlsa {
            usage: t.cert_usage.into(),
            selector: t.selector.into(),
            matching: t.matching.into(),
            data: t.cert_data.clone(),
        },
        other => RrData::Other {
            rtype: other.record_type().to_string(),
            text: other.to_string(),
        },
    }
}

/// One question as the memo keys it: name, type, CD bit.
type QuestionKey = (String, RecordType, bool);
/// The answer to a question, filled by whichever caller asks first.
type AnswerCell = Arc<OnceCell<Result<DnsAnswer, DnsError>>>;

/// A DNS client over the host's network, for one audit: DNS over HTTPS or
/// plain DNS, as the resolver's URL says ([`ResolverUrl`]).
///
/// It keeps every answer it got (per name, type and CD bit) and hands it
/// to later askers of the same question; a question already under way is
/// waited for, not asked again. The memo is a map of
/// [`async_lock::OnceCell`]s behind a `std::sync::Mutex` that is never
/// held across an await: the first asker runs the exchange inside the
/// cell's initialiser, later askers wait on the cell. If the first asker's
/// future is dropped mid-way, the cell stays empty and a waiting asker
/// takes over, so nobody waits forever.
///
/// Why not `futures::future::Shared`: a map of shared futures needs a
/// nameable future type, i.e. a boxed `dyn Future`, which is either `Send`
/// (ruling out the Worker's non-`Send` network) or not (making every audit
/// future non-`Send`). With the cells, nothing in the resolver is a future:
/// it is `Sync` whenever the network is, and a query's future is `Send`
/// exactly when the network's are.
pub struct Resolver<'n, N: Network> {
    net: &'n N,
    url: String,
    transport: Result<ResolverUrl, String>,
    timeout_ms: u32,
    memo: Mutex<HashMap<QuestionKey, AnswerCell>>,
    sent: AtomicUsize,
}

impl<'n, N: Network> Resolver<'n, N> {
    /// A resolver URL that cannot be used makes every question fail with
    /// the reason ([`DnsError::BadResolver`]); hosts check it up front with
    /// [`ResolverUrl::parse`].
    pub fn new(net: &'n N, url: impl Into<String>) -> Self {
        let url = url.into();
        Resolver {
            net,
            transport: ResolverUrl::parse(&url),
            url,
            timeout_ms: 5_000,
            memo: Mutex::new(HashMap::new()),
            sent: AtomicUsize::new(0),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The time one exchange may take (5 s by default); a timed-out
    /// exchange is tried once more.
    pub fn with_timeout(mut self, timeout_ms: u32) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// DNS exchanges made, retries included (memo hits are not).
    pub fn exchanges(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// Asks the resolver one question. `name` must already be normalised
    /// ([`normalize_name`]). Asked at most once per resolver: see the type's
    /// documentation.
    pub async fn query(&self, name: &str, rtype: RecordType) -> Result<DnsAnswer, DnsError> {
        self.ask(name, rtype, false).await
    }

    /// [`Resolver::query`] for a question whose answer must be definite
    /// (NOERROR or NXDOMAIN) before anything is judged from it: a failed
    /// look-up or any other rcode is `Err(reason)`, the `unknown` a check
    /// reports. The answer's evidence is added to `evidence` whenever there
    /// is an answer, definite or not.
    pub async fn query_definite(
        &self,
        name: &str,
        rtype: RecordType,
        evidence: &mut Vec<Evidence>,
    ) -> Result<DnsAnswer, String> {
        let a = self.query(name, rtype).await.map_err(|e| e.to_string())?;
        evidence.push(a.evidence());
        if a.is_definite() {
            Ok(a)
        } else {
            Err(format!("resolver answered {}", a.rcode_text()))
        }
    }

    /// [`Resolver::query`] with the CD (checking disabled) bit set: the
    /// resolver answers without DNSSEC validation (AD is then never set).
    pub async fn query_cd(&self, name: &str, rtype: RecordType) -> Result<DnsAnswer, DnsError> {
        self.ask(name, rtype, true).await
    }

    async fn ask(
        &self,
        name: &str,
        rtype: RecordType,
        checking_disabled: bool,
    ) -> Result<DnsAnswer, DnsError> {
        let cell = {
            // Never held across an await; a panic while held cannot leave
            // the map inconsistent.
            let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            memo.entry((name.to_string(), rtype, checking_disabled))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| self.exchange(name, rtype, checking_disabled))
            .await
            .clone()
    }

    /// The exchange itself, tried a second time after a transient failure.
    async fn exchange(
        &self,
        name: &str,
        rtype: RecordType,
        checking_disabled: bool,
    ) -> Result<DnsAnswer, DnsError> {
        let payload = match &self.transport {
            Ok(ResolverUrl::Plain(_)) => UDP_PAYLOAD,
            _ => DOH_PAYLOAD,
        };
        let body = encode_query_sized(name, rtype, checking_disabled, payload)?;
        let first = self.send(name, rtype, body.clone()).await;
        match first {
            Err(e) if e.is_transient() => self.send(name, rtype, body).await,
            done => done,
        }
    }

    async fn send(
        &self,
        name: &str,
        rtype: RecordType,
        body: Vec<u8>,
    ) -> Result<DnsAnswer, DnsError> {
        let url = match &self.transport {
            Ok(ResolverUrl::Https(url)) => url,
            Ok(ResolverUrl::Plain(server)) => {
                self.sent.fetch_add(1, Ordering::Relaxed);
                let reply = self
                    .net
                    .dns_exchange(&server.to_string(), &body, self.timeout_ms)
                    .await?;
                return decode_answer(name, rtype, &reply);
            }
            Err(why) => return Err(DnsError::BadResolver(why.clone())),
        };
        let mut req = HttpRequest::post(url, DNS_MESSAGE, body).header("accept", DNS_MESSAGE);
        req.timeout_ms = self.timeout_ms;
        req.max_body = MAX_DNS_MESSAGE;
        self.sent.fetch_add(1, Ordering::Relaxed);
        let resp = self.net.http(req).await?;
        if resp.status != 200 {
            return Err(DnsError::HttpStatus(resp.status));
        }
        decode_answer(name, rtype, &resp.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_rfc8484_shaped() {
        let wire = encode_query("example.org", RecordType::MX).unwrap();
        let msg = Message::from_vec(&wire).unwrap();
        assert_eq!(msg.metadata.id, 0);
        assert!(msg.metadata.recursion_desired);
        assert_eq!(msg.queries[0].query_type(), RecordType::MX);
        assert!(msg.edns.as_ref().unwrap().flags().dnssec_ok);
    }

    fn response_with(
        name: &str,
        rtype: RecordType,
        answers: Vec<(&str, RData)>,
        tc: bool,
    ) -> Vec<u8> {
        use hickory_proto::rr::Record;
        let mut m = Message::new(0, MessageType::Response, OpCode::Query);
        m.metadata.truncation = tc;
        m.add_query(Query::query(
            Name::from_ascii(format!("{name}.")).unwrap(),
            rtype,
        ));
        for (owner, data) in answers {
            m.add_answer(Record::from_rdata(
                Name::from_ascii(format!("{owner}.")).unwrap(),
                300,
                data,
            ));
        }
        m.to_vec().unwrap()
    }

    /// A TC=1 answer is incomplete: with one of two SPF records left out,
    /// `spf.multiple` would pass. It is an error (the check is unknown),
    /// never an answer (tests/faults row `tcbit`).
    #[test]
    fn a_truncated_answer_is_not_an_answer() {
        use hickory_proto::rr::rdata::TXT;
        let txt = |s: &str| RData::TXT(TXT::new(vec![s.to_string()]));
        let wire = response_with(
            "example.org",
            RecordType::TXT,
            vec![("example.org", txt("v=spf1 -all"))],
            true,
        );
        let e = decode_answer("example.org", RecordType::TXT, &wire).unwrap_err();
        assert_eq!(e, DnsError::Truncated);
        assert!(!e.is_transient());
        let whole = response_with(
            "example.org",
            RecordType::TXT,
            vec![("example.org", txt("v=spf1 -all"))],
            false,
        );
        assert_eq!(
            decode_answer("example.org", RecordType::TXT, &whole)
                .unwrap()
                .records
                .len(),
            1
        );
    }

    /// A CNAME loop is an error, not "no record" (`dmarc.missing` would
    /// fail); a chain to a name without the type is NODATA, as before.
    #[test]
    fn a_cname_loop_is_an_error_and_a_dead_end_chain_is_nodata() {
        use hickory_proto::rr::rdata::CNAME;
        let cname = |t: &str| RData::CNAME(CNAME(Name::from_ascii(format!("{t}.")).unwrap()));
        let looped = response_with(
            "_dmarc.example.org",
            RecordType::TXT,
            vec![
                ("_dmarc.example.org", cname("loop.example.org")),
                ("loop.example.org", cname("_dmarc.example.org")),
            ],
            false,
        );
        match decode_answer("_dmarc.example.org", RecordType::TXT, &looped) {
            Err(DnsError::CnameLoop(chain)) => assert_eq!(
                chain,
                "_dmarc.example.org → loop.example.org → _dmarc.example.org"
            ),
            other => panic!("{other:?}"),
        }
        let self_loop = response_with(
            "a.example.org",
            RecordType::A,
            vec![("a.example.org", cname("a.example.org"))],
            false,
        );
        assert!(matches!(
            decode_answer("a.example.org", RecordType::A, &self_loop),
            Err(DnsError::CnameLoop(_))
        ));
        let dead_end = response_with(
            "_dmarc.example.org",
            RecordType::TXT,
            vec![("_dmarc.example.org", cname("elsewhere.example.net"))],
            false,
        );
        let a = decode_answer("_dmarc.example.org", RecordType::TXT, &dead_end).unwrap();
        assert_eq!(a.of_type().count(), 0);
        assert_eq!(a.records.len(), 1);
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalize_name(" Example.ORG. ").unwrap(), "example.org");
        assert_eq!(
            normalize_name("bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert!(normalize_name("").is_err());
        assert!(normalize_name(&"a".repeat(300)).is_err());
    }

    #[test]
    fn rrset_order_does_not_matter() {
        use crate::testing::{roundtrip, ScriptedNet};
        let one = ScriptedNet::new()
            .txt("example.org", "v=spf1 +all")
            .txt("example.org", "v=spf1 -all");
        let two = ScriptedNet::new()
            .txt("example.org", "v=spf1 -all")
            .txt("example.org", "v=spf1 +all");
        let a = roundtrip(&one, "example.org", RecordType::TXT);
        let b = roundtrip(&two, "example.org", RecordType::TXT);
        assert_eq!(a, b);
    }

    fn resolver(net: &crate::testing::ScriptedNet) -> Resolver<'_, crate::testing::ScriptedNet> {
        Resolver::new(net, "https://doh.test/dns-query")
    }

    #[test]
    fn transient_failures_are_retried_once() {
        use crate::testing::ScriptedNet;
        use futures::executor::block_on;
        let net = ScriptedNet::new()
            .a("mail.example.org", "198.51.100.25")
            .flaky(
                "mail.example.org",
                RecordType::A,
                NetError::Timeout(5000),
                1,
            )
            .aaaa("mail.example.org", "2001:db8::25")
            .flaky_status("mail.example.org", RecordType::AAAA, 503, 1);
        let r = resolver(&net);
        let a = block_on(r.query("mail.example.org", RecordType::A)).unwrap();
        assert_eq!(a.of_type().count(), 1);
        let aaaa = block_on(r.query("mail.example.org", RecordType::AAAA)).unwrap();
        assert_eq!(aaaa.of_type().count(), 1);
        assert_eq!(net.requests(), 4);
        assert_eq!(r.exchanges(), 4);
    }

    #[test]
    fn a_second_failure_is_reported_not_retried_again() {
        use crate::testing::ScriptedNet;
        use futures::executor::block_on;
        let net = ScriptedNet::new()
            .a("mail.example.org", "198.51.100.25")
            .flaky(
                "mail.example.org",
                RecordType::A,
                NetError::Timeout(5000),
                2,
            );
        let r = resolver(&net);
        let e = block_on(r.query("mail.example.org", RecordType::A)).unwrap_err();
        assert_eq!(e, DnsError::Transport(NetError::Timeout(5000)));
        assert_eq!(net.requests(), 2);
    }

    #[test]
    fn definite_answers_and_refusals_are_not_retried() {
        use crate::testing::ScriptedNet;
        use futures::executor::block_on;
        let net = ScriptedNet::new()
            .a("example.org", "198.51.100.1")
            .rcode(
                "servfail.example.org",
                RecordType::A,
                ResponseCode::ServFail,
            )
            .flaky_status("e404.example.org", RecordType::A, 404, 1)
            .flaky(
                "refused.example.org",
                RecordType::A,
                NetError::Refused("subrequest budget of 50 used up".into()),
                1,
            );
        let r = resolver(&net);
        for name in ["nx.example.net", "servfail.example.org", "example.org"] {
            assert!(block_on(r.query(name, RecordType::A)).is_ok(), "{name}");
        }
        assert!(block_on(r.query("e404.example.org", RecordType::A)).is_err());
        assert!(block_on(r.query("refused.example.org", RecordType::A)).is_err());
        assert_eq!(net.requests(), 5);
    }

    #[test]
    fn identical_questions_are_asked_once_even_at_once() {
        use crate::testing::ScriptedNet;
        use futures::executor::block_on;
        let net = ScriptedNet::new()
            .a("mail.example.org", "198.51.100.25")
            .slow(3);
        let r = resolver(&net);
        let answers = block_on(futures::future::join_all(
            (0..5).map(|_| r.query("mail.example.org", RecordType::A)),
        ));
        assert!(answers
            .iter()
            .all(|a| a.as_ref().is_ok_and(|a| a.of_type().count() == 1)));
        assert_eq!(net.requests(), 1);
        // Later askers get the kept answer; other types and the CD bit are
        // other questions.
        block_on(r.query("mail.example.org", RecordType::A)).unwrap();
        block_on(r.query("mail.example.org", RecordType::AAAA)).unwrap();
        block_on(r.query_cd("mail.example.org", RecordType::A)).unwrap();
        assert_eq!(net.requests(), 3);
        assert_eq!(net.asked_cd(), [false, false, true]);
    }

    #[test]
    fn failures_are_kept_too() {
        use crate::testing::ScriptedNet;
        use futures::executor::block_on;
        let net = ScriptedNet::new().error("example.org", RecordType::MX, NetError::Timeout(5000));
        let r = resolver(&net);
        assert!(block_on(r.query("example.org", RecordType::MX)).is_err());
        assert!(block_on(r.query("example.org", RecordType::MX)).is_err());
        // One question, tried twice (a timeout is transient), then kept.
        assert_eq!(net.requests(), 2);
    }

    #[test]
    fn an_abandoned_question_is_taken_over() {
        use crate::testing::ScriptedNet;
        use futures::executor::block_on;
        use futures::FutureExt;
        let net = ScriptedNet::new()
            .a("mail.example.org", "198.51.100.25")
            .slow(2);
        let r = resolver(&net);
        let mut first = Box::pin(r.query("mail.example.org", RecordType::A));
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(first.poll_unpin(&mut cx).is_pending());
        let second = r.query("mail.example.org", RecordType::A);
        drop(first);
        assert!(block_on(second).is_ok());
        assert_eq!(net.requests(), 2);
    }

    #[test]
    fn cd_queries_tell_bogus_from_broken() {
        use crate::testing::ScriptedNet;
        use futures::executor::block_on;
        let net = ScriptedNet::new()
            .a("mail.bogus.example", "198.51.100.25")
            .bogus_zone("bogus.example")
            .a("mail.signed.example", "198.51.100.26")
            .signed_zone("signed.example");
        let r = resolver(&net);
        let plain = block_on(r.query("mail.bogus.example", RecordType::A)).unwrap();
        assert_eq!(plain.rcode, ResponseCode::ServFail);
        assert!(plain.records.is_empty());
        let cd = block_on(r.query_cd("mail.bogus.example", RecordType::A)).unwrap();
        assert_eq!(cd.rcode, ResponseCode::NoError);
        assert!(!cd.authentic_data);
        let signed = block_on(r.query("mail.signed.example", RecordType::A)).unwrap();
        assert!(signed.authentic_data);
        let other = block_on(r.query("unsigned.example", RecordType::A)).unwrap();
        assert!(!other.authentic_data);
    }

    #[test]
    fn tlsa_records_round_trip_in_presentation_format() {
        use crate::testing::{roundtrip, ScriptedNet};
        let net = ScriptedNet::new().tlsa("_25._tcp.mail.example.org", 3, 1, 1, &[0xab; 32]);
        let a = roundtrip(&net, "_25._tcp.mail.example.org", RecordType::TLSA);
        let rr: Vec<_> = a.of_type().collect();
        assert_eq!(
            rr,
            [&RrData::Tlsa {
                usage: 3,
                selector: 1,
                matching: 1,
                data: vec![0xab; 32]
            }]
        );
        assert_eq!(rr[0].to_string(), format!("3 1 1 {}", "AB".repeat(32)));
        // Values outside the registries survive decoding, for the rules to judge.
        let net = ScriptedNet::new().tlsa("_25._tcp.mx.example.org", 7, 9, 200, &[1, 2]);
        let a = roundtrip(&net, "_25._tcp.mx.example.org", RecordType::TLSA);
        assert_eq!(a.of_type().next().unwrap().to_string(), "7 9 200 0102");
    }

    #[test]
    fn resolver_urls_name_their_transport() {
        let plain = |s: &str| ResolverUrl::Plain(s.parse().unwrap());
        for (url, want) in [
            ("dns://198.51.100.53", plain("198.51.100.53:53")),
            ("dns://198.51.100.53:5353", plain("198.51.100.53:5353")),
            (" dns://198.51.100.53/ ", plain("198.51.100.53:53")),
            ("udp://198.51.100.53", plain("198.51.100.53:53")),
            ("dns://[2001:db8::53]", plain("[2001:db8::53]:53")),
            ("dns://[2001:db8::53]:5353", plain("[2001:db8::53]:5353")),
            ("dns://2001:db8::53", plain("[2001:db8::53]:53")),
        ] {
            assert_eq!(ResolverUrl::parse(url), Ok(want), "{url}");
        }
        assert_eq!(
            ResolverUrl::parse(DEFAULT_RESOLVER),
            Ok(ResolverUrl::Https(DEFAULT_RESOLVER.into()))
        );
        for bad in [
            "dns://resolver.example",
            "dns://198.51.100.53:0",
            "dns://198.51.100.53:99999",
            "dns://198.51.100.53/dns-query",
            "dns://user@198.51.100.53",
            "dns://",
        ] {
            let e = ResolverUrl::parse(bad).unwrap_err();
            assert!(e.contains("dns://IP"), "{bad}: {e}");
        }
        assert!(ResolverUrl::require_doh(DEFAULT_RESOLVER).is_ok());
        let e = ResolverUrl::require_doh("dns://198.51.100.53").unwrap_err();
        assert!(e.contains("only over HTTPS"), "{e}");
    }

    #[test]
    fn a_dns_url_sends_plain_dns_and_an_https_url_doh() {
        use crate::testing::ScriptedNet;
        use futures::executor::block_on;
        let net = ScriptedNet::new().a("mail.example.org", "198.51.100.25");
        let r = Resolver::new(&net, "dns://198.51.100.53");
        let a = block_on(r.query("mail.example.org", RecordType::A)).unwrap();
        assert_eq!(a.of_type().count(), 1);
        assert_eq!(net.plain_servers(), ["198.51.100.53:53"]);
        assert_eq!(r.exchanges(), 1);
        // The same zone over DoH: no plain exchange.
        let r = resolver(&net);
        block_on(r.query("mail.example.org", RecordType::A)).unwrap();
        assert_eq!(net.plain_servers().len(), 1);
        assert_eq!(net.requests(), 2);
    }

    /// What the engine hands a host for plain DNS: id 0 (the host sets a
    /// random one), RD, DO and an EDNS payload size UDP carries unfragmented.
    #[test]
    fn plain_queries_offer_the_udp_payload_size() {
        use crate::net::HttpResponse;
        use crate::testing::NoConn;
        use futures::executor::block_on;
        struct Spy(Mutex<Vec<(String, Vec<u8>)>>);
        impl Network for Spy {
            type Conn = NoConn;
            async fn http(&self, _: HttpRequest) -> Result<HttpResponse, NetError> {
                Err(NetError::Other("no DoH here".into()))
            }
            async fn tcp_connect(&self, _: &str, _: u16, _: u32) -> Result<Self::Conn, NetError> {
                Err(NetError::Other("no TCP here".into()))
            }
            async fn dns_exchange(
                &self,
                server: &str,
                query: &[u8],
                timeout_ms: u32,
            ) -> Result<Vec<u8>, NetError> {
                self.0.lock().unwrap().push((server.into(), query.to_vec()));
                Err(NetError::Timeout(timeout_ms))
            }
        }
        let spy = Spy(Mutex::new(Vec::new()));
        let r = Resolver::new(&spy, "dns://[2001:db8::53]:5353");
        let e = block_on(r.query("example.org", RecordType::TXT)).unwrap_err();
        assert_eq!(e, DnsError::Transport(NetError::Timeout(5000)));
        let sent = spy.0.lock().unwrap().clone();
        // A timeout is transient: asked twice, the same bytes.
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0], sent[1]);
        assert_eq!(sent[0].0, "[2001:db8::53]:5353");
        let msg = Message::from_vec(&sent[0].1).unwrap();
        assert_eq!(msg.metadata.id, 0);
        assert!(msg.metadata.recursion_desired);
        let edns = msg.edns.as_ref().unwrap();
        assert!(edns.flags().dnssec_ok);
        assert_eq!(edns.max_payload(), UDP_PAYLOAD);
        let doh =
            Message::from_vec(&encode_query("example.org", RecordType::TXT).unwrap()).unwrap();
        assert_eq!(doh.edns.as_ref().unwrap().max_payload(), 4096);
    }

    /// A host without plain DNS (the Worker, the browser) says so in every
    /// check's reason; a resolver URL that cannot be used says why, and
    /// neither is tried twice.
    #[test]
    fn no_plain_dns_and_bad_urls_are_reasons_not_silence() {
        use crate::testing::{DownNet, ScriptedNet};
        use futures::executor::block_on;
        let r = Resolver::new(&DownNet, "dns://198.51.100.53");
        let e = block_on(r.query("example.org", RecordType::MX)).unwrap_err();
        assert!(!e.is_transient());
        assert_eq!(
            e.to_string(),
            format!("resolver unreachable: refused by policy: {DOH_ONLY}")
        );
        assert_eq!(r.exchanges(), 1);
        let net = ScriptedNet::new().a("example.org", "198.51.100.1");
        let r = Resolver::new(&net, "dns://resolver.example");
        let e = block_on(r.query("example.org", RecordType::A)).unwrap_err();
        assert!(matches!(e, DnsError::BadResolver(_)), "{e:?}");
        assert!(e.to_string().contains("not an IP address"), "{e}");
        assert_eq!(net.requests(), 0);
    }

    #[test]
    fn the_plain_transport_is_an_assumption_of_the_report() {
        assert_eq!(transport_assumption(DEFAULT_RESOLVER), None);
        let a = transport_assumption("dns://127.0.0.53").unwrap();
        assert!(a.starts_with("plain DNS to 127.0.0.53:53"), "{a}");
        assert!(a.contains("AD bit"), "{a}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for wire in [&b""[..], b"\x00", &[0xff; 40], &[0u8; 12]] {
            assert!(decode_answer("example.org", RecordType::A, wire).is_err());
        }
    }
}
