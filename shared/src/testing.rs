//! A scripted [`Network`] for tests: a small in-memory zone answered over
//! real RFC 8484 wire format, so the DoH encoding and decoding run in every
//! test that uses it. Also used by the hosts' tests (feature `testing`).
//!
//! DNSSEC is scripted as a validating resolver would report it: answers
//! carry the AD bit for names in a signed zone ([`ScriptedNet::signed`] for
//! all, [`ScriptedNet::signed_zone`] per suffix), and names in a bogus zone
//! ([`ScriptedNet::bogus_zone`]) answer SERVFAIL unless the query has the
//! CD bit set. Transient failures ([`ScriptedNet::flaky`],
//! [`ScriptedNet::flaky_status`]) fail a set number of times, then the
//! question is answered from the zone.

use crate::dns::{decode_answer, RrData};
use crate::net::{Conn, HttpRequest, HttpResponse, Method, NetError, Network};
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::TLSA;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, PTR, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What the scripted resolver does for one (name, type).
#[derive(Debug, Clone)]
enum Scripted {
    Records(Vec<RrData>),
    Rcode(ResponseCode),
    Error(NetError),
}

/// A failure that lasts for a number of attempts.
#[derive(Debug, Clone)]
enum Transient {
    Net(NetError),
    Status(u16),
}

#[derive(Debug, Default)]
pub struct ScriptedNet {
    zone: HashMap<(String, RecordType), Scripted>,
    tcp: HashMap<(String, u16), Vec<u8>>,
    pages: HashMap<String, Result<HttpResponse, NetError>>,
    signed: bool,
    signed_zones: Vec<String>,
    bogus_zones: Vec<String>,
    flaky: HashMap<(String, RecordType), (Transient, Cell<usize>)>,
    polls_before_answer: usize,
    stalled: Vec<(String, RecordType)>,
    requests: Cell<usize>,
    asked: RefCell<Vec<(String, RecordType)>>,
    asked_cd: RefCell<Vec<bool>>,
    in_flight: Cell<usize>,
    max_in_flight: Cell<usize>,
    plain_servers: RefCell<Vec<String>>,
}

/// `name` is `zone` or a name below it.
fn is_under(name: &str, zone: &str) -> bool {
    zone.is_empty()
        || name == zone
        || name
            .strip_suffix(zone)
            .is_some_and(|head| head.ends_with('.'))
}

impl ScriptedNet {
    pub fn new() -> Self {
        Self::default()
    }

    /// The servers of the plain DNS exchanges made, in order (DoH
    /// exchanges are not listed).
    pub fn plain_servers(&self) -> Vec<String> {
        self.plain_servers.borrow().clone()
    }

    /// Answers carry the AD bit (the zone is "signed").
    pub fn signed(mut self, signed: bool) -> Self {
        self.signed = signed;
        self
    }

    /// Names at or below `suffix` are in a signed zone: their answers carry
    /// the AD bit. (`""` is the root: everything.)
    pub fn signed_zone(mut self, suffix: &str) -> Self {
        self.signed_zones.push(suffix.to_ascii_lowercase());
        self
    }

    /// Names at or below `suffix` are in a zone whose signatures do not
    /// validate: SERVFAIL, unless the query sets the CD bit.
    pub fn bogus_zone(mut self, suffix: &str) -> Self {
        self.bogus_zones.push(suffix.to_ascii_lowercase());
        self
    }

    /// The first `times` questions for (name, type) fail with `err`; later
    /// ones are answered from the zone.
    pub fn flaky(mut self, name: &str, rtype: RecordType, err: NetError, times: usize) -> Self {
        self.flaky.insert(
            (name.to_ascii_lowercase(), rtype),
            (Transient::Net(err), Cell::new(times)),
        );
        self
    }

    /// The first `times` questions for (name, type) get HTTP `status`.
    pub fn flaky_status(
        mut self,
        name: &str,
        rtype: RecordType,
        status: u16,
        times: usize,
    ) -> Self {
        self.flaky.insert(
            (name.to_ascii_lowercase(), rtype),
            (Transient::Status(status), Cell::new(times)),
        );
        self
    }

    /// Each exchange stays pending for `polls` polls before it answers, so
    /// concurrent exchanges overlap (for tests of sharing and of limits).
    pub fn slow(mut self, polls: usize) -> Self {
        self.polls_before_answer = polls;
        self
    }

    /// Questions for (name, type) are never answered (a resolver that
    /// hangs): for tests of the audit's deadline.
    pub fn stall(mut self, name: &str, rtype: RecordType) -> Self {
        self.stalled.push((name.to_ascii_lowercase(), rtype));
        self
    }

    /// A TLSA record (RFC 6698) at `name`, e.g. `_25._tcp.mail.example.org`.
    pub fn tlsa(self, name: &str, usage: u8, selector: u8, matching: u8, data: &[u8]) -> Self {
        self.record(
            name,
            RrData::Tlsa {
                usage,
                selector,
                matching,
                data: data.to_vec(),
            },
        )
    }

    pub fn record(mut self, name: &str, data: RrData) -> Self {
        let key = (name.to_ascii_lowercase(), data.rtype());
        match self
            .zone
            .entry(key)
            .or_insert(Scripted::Records(Vec::new()))
        {
            Scripted::Records(v) => v.push(data),
            other => *other = Scripted::Records(vec![data]),
        }
        self
    }

    pub fn txt(self, name: &str, text: &str) -> Self {
        // Split as a zone file would: character-strings of at most 255 bytes.
        let parts = text.as_bytes().chunks(255).map(|c| c.to_vec()).collect();
        self.record(name, RrData::Txt(parts))
    }

    pub fn mx(self, name: &str, preference: u16, exchange: &str) -> Self {
        self.record(
            name,
            RrData::Mx {
                preference,
                exchange: exchange.into(),
            },
        )
    }

    pub fn a(self, name: &str, ip: &str) -> Self {
        self.record(name, RrData::A(ip.parse().expect("test IPv4")))
    }

    pub fn aaaa(self, name: &str, ip: &str) -> Self {
        self.record(name, RrData::Aaaa(ip.parse().expect("test IPv6")))
    }

    pub fn ptr(self, name: &str, target: &str) -> Self {
        self.record(name, RrData::Ptr(target.to_ascii_lowercase()))
    }

    pub fn cname(self, name: &str, target: &str) -> Self {
        self.record(name, RrData::Cname(target.to_ascii_lowercase()))
    }

    /// A TXT record made of exactly these character-strings.
    pub fn txt_strings(self, name: &str, strings: &[&[u8]]) -> Self {
        self.record(
            name,
            RrData::Txt(strings.iter().map(|s| s.to_vec()).collect()),
        )
    }

    pub fn rcode(mut self, name: &str, rtype: RecordType, rcode: ResponseCode) -> Self {
        self.zone
            .insert((name.to_ascii_lowercase(), rtype), Scripted::Rcode(rcode));
        self
    }

    pub fn error(mut self, name: &str, rtype: RecordType, err: NetError) -> Self {
        self.zone
            .insert((name.to_ascii_lowercase(), rtype), Scripted::Error(err));
        self
    }

    /// What a GET of `url` answers (any other GET is a 404).
    pub fn page(mut self, url: &str, status: u16, content_type: &str, body: &[u8]) -> Self {
        self.pages.insert(
            url.into(),
            Ok(HttpResponse {
                status,
                headers: vec![("content-type".into(), content_type.into())],
                body: body.to_vec(),
            }),
        );
        self
    }

    /// A GET of `url` fails with `err` (TLS failure, timeout, refused).
    pub fn page_error(mut self, url: &str, err: NetError) -> Self {
        self.pages.insert(url.into(), Err(err));
        self
    }

    /// Bytes a TCP peer at host:port sends (then it closes).
    pub fn tcp_peer(mut self, host: &str, port: u16, bytes: &[u8]) -> Self {
        self.tcp.insert((host.into(), port), bytes.to_vec());
        self
    }

    /// How many network exchanges were made.
    pub fn requests(&self) -> usize {
        self.requests.get()
    }

    /// Every question asked, in order.
    pub fn asked(&self) -> Vec<(String, RecordType)> {
        self.asked.borrow().clone()
    }

    /// For every question asked, in order, whether it had the CD bit.
    pub fn asked_cd(&self) -> Vec<bool> {
        self.asked_cd.borrow().clone()
    }

    /// The most exchanges that were under way at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.get()
    }

    fn is_signed(&self, name: &str) -> bool {
        self.signed || self.signed_zones.iter().any(|z| is_under(name, z))
    }

    fn is_bogus(&self, name: &str) -> bool {
        self.bogus_zones.iter().any(|z| is_under(name, z))
    }

    /// Takes one failure from a flaky (name, type), if any is left.
    fn transient(&self, query: &Message) -> Option<Transient> {
        let q = query.queries.first()?;
        let (t, left) = self.flaky.get(&(raw_key(q.name()), q.query_type()))?;
        if left.get() == 0 {
            return None;
        }
        left.set(left.get() - 1);
        Some(t.clone())
    }

    fn answer(&self, query: &Message) -> Result<Message, NetError> {
        let q = query
            .queries
            .first()
            .ok_or_else(|| NetError::Other("no question".into()))?;
        // Raw label bytes: SPF macro expansion can ask for names that are
        // not host names (`foo:bar/baz.example.com`), which DNS carries.
        let qname = raw_key(q.name());
        let qtype = q.query_type();
        self.asked.borrow_mut().push((qname.clone(), qtype));
        let cd = query.metadata.checking_disabled;
        self.asked_cd.borrow_mut().push(cd);
        let mut resp = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
        resp.metadata.recursion_desired = true;
        resp.metadata.recursion_available = true;
        resp.metadata.checking_disabled = cd;
        resp.add_query(q.clone());
        let mut chain = vec![qname.clone()];
        // Follow a CNAME at the name, as a recursive resolver does.
        let mut target = qname.clone();
        for _ in 0..8 {
            if qtype == RecordType::CNAME {
                break;
            }
            let Some(Scripted::Records(rrs)) = self.zone.get(&(target.clone(), RecordType::CNAME))
            else {
                break;
            };
            let Some(RrData::Cname(next)) = rrs.first() else {
                break;
            };
            resp.add_answer(Record::from_rdata(name(&target), 300, to_rdata(&rrs[0])));
            target = next.clone();
            chain.push(target.clone());
        }
        if !cd && chain.iter().any(|n| self.is_bogus(n)) {
            // A validating resolver withholds data it cannot validate.
            resp.answers.clear();
            resp.metadata.response_code = ResponseCode::ServFail;
            return Ok(resp);
        }
        let authentic = chain.iter().all(|n| self.is_signed(n) && !self.is_bogus(n));
        let qname = target;
        match self.zone.get(&(qname.clone(), qtype)) {
            Some(Scripted::Error(e)) => return Err(e.clone()),
            Some(Scripted::Rcode(rc)) => resp.metadata.response_code = *rc,
            Some(Scripted::Records(rrs)) => {
                resp.metadata.authentic_data = authentic;
                let owner = name(&qname);
                for rr in rrs {
                    resp.add_answer(Record::from_rdata(owner.clone(), 300, to_rdata(rr)));
                }
            }
            None => {
                let exists = self
                    .zone
                    .keys()
                    .any(|(n, _)| n == &qname || n.ends_with(&format!(".{qname}")));
                resp.metadata.authentic_data = authentic;
                if !exists {
                    resp.metadata.response_code = ResponseCode::NXDomain;
                }
            }
        }
        Ok(resp)
    }
}

fn name(s: &str) -> Name {
    Name::from_utf8(format!("{s}."))
        .or_else(|_| {
            if s.is_empty() {
                return Ok(Name::root());
            }
            Name::from_labels(s.split('.').map(str::as_bytes))
        })
        .expect("test name")
}

/// A name as its raw label bytes, lower case, without the root dot.
fn raw_key(n: &Name) -> String {
    n.iter()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(".")
}

fn to_rdata(d: &RrData) -> RData {
    match d {
        RrData::A(ip) => RData::A(A(*ip)),
        RrData::Aaaa(ip) => RData::AAAA(AAAA(*ip)),
        RrData::Mx {
            preference,
            exchange,
        } => RData::MX(MX::new(*preference, name(exchange))),
        RrData::Txt(parts) => RData::TXT(TXT::from_bytes(parts.iter().map(|p| &p[..]).collect())),
        RrData::Cname(n) => RData::CNAME(CNAME(name(n))),
        RrData::Ptr(n) => RData::PTR(PTR(name(n))),
        RrData::Tlsa {
            usage,
            selector,
            matching,
            data,
        } => RData::TLSA(TLSA::new(
            (*usage).into(),
            (*selector).into(),
            (*matching).into(),
            data.clone(),
        )),
        RrData::Other { .. } => panic!("scripted zone cannot serve opaque records"),
    }
}

impl Network for ScriptedNet {
    type Conn = ScriptedConn;

    async fn http(&self, req: HttpRequest) -> Result<HttpResponse, NetError> {
        self.requests.set(self.requests.get() + 1);
        self.in_flight.set(self.in_flight.get() + 1);
        self.max_in_flight
            .set(self.max_in_flight.get().max(self.in_flight.get()));
        Yield(self.polls_before_answer).await;
        self.in_flight.set(self.in_flight.get() - 1);
        if req.method != Method::Post {
            return match self.pages.get(&req.url) {
                Some(Ok(resp)) if resp.body.len() > req.max_body => {
                    Err(NetError::TooLarge(req.max_body))
                }
                Some(page) => page.clone(),
                None => Ok(HttpResponse {
                    status: 404,
                    headers: vec![],
                    body: vec![],
                }),
            };
        }
        let query = Message::from_vec(&req.body).map_err(|e| NetError::Other(e.to_string()))?;
        if let Some(q) = query.queries.first() {
            if self
                .stalled
                .iter()
                .any(|(n, t)| *n == raw_key(q.name()) && *t == q.query_type())
            {
                self.in_flight.set(self.in_flight.get() + 1);
                return std::future::pending().await;
            }
        }
        match self.transient(&query) {
            Some(Transient::Net(e)) => return Err(e),
            Some(Transient::Status(status)) => {
                return Ok(HttpResponse {
                    status,
                    headers: vec![],
                    body: vec![],
                })
            }
            None => {}
        }
        let resp = self.answer(&query)?;
        let body = resp.to_vec().map_err(|e| NetError::Other(e.to_string()))?;
        if body.len() > req.max_body {
            return Err(NetError::TooLarge(req.max_body));
        }
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/dns-message".into())],
            body,
        })
    }

    async fn tcp_connect(
        &self,
        host: &str,
        port: u16,
        _timeout_ms: u32,
    ) -> Result<ScriptedConn, NetError> {
        self.requests.set(self.requests.get() + 1);
        match self.tcp.get(&(host.to_string(), port)) {
            Some(bytes) => Ok(ScriptedConn {
                incoming: bytes.clone(),
                pos: 0,
                written: Vec::new(),
            }),
            None => Err(NetError::Connect(format!(
                "{host}:{port}: connection refused"
            ))),
        }
    }

    /// The scripted zone over plain DNS: the same answers as over DoH (a
    /// scripted HTTP status is a transport failure here). Replies carry
    /// the query's id, as a host hands them back.
    async fn dns_exchange(
        &self,
        server: &str,
        query: &[u8],
        _timeout_ms: u32,
    ) -> Result<Vec<u8>, NetError> {
        self.plain_servers.borrow_mut().push(server.to_string());
        let req = HttpRequest::post(
            format!("dns://{server}"),
            "application/dns-message",
            query.to_vec(),
        );
        let resp = self.http(req).await?;
        match resp.status {
            200 => Ok(resp.body),
            s => Err(NetError::Other(format!("scripted failure {s}"))),
        }
    }
}

/// A future that is pending for `polls` polls (waking itself each time),
/// then ready: a deterministic stand-in for a host's timer.
pub fn after_polls(polls: usize) -> impl Future<Output = ()> {
    Yield(polls)
}

/// Pending for the given number of polls (waking itself), then ready.
struct Yield(usize);

impl Future for Yield {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A scripted peer: sends its bytes, records what it was sent.
#[derive(Debug)]
pub struct ScriptedConn {
    incoming: Vec<u8>,
    pos: usize,
    pub written: Vec<u8>,
}

impl Conn for ScriptedConn {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        let n = buf.len().min(self.incoming.len() - self.pos);
        buf[..n].copy_from_slice(&self.incoming[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }

    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
        self.written.extend_from_slice(data);
        Ok(())
    }

    async fn close(&mut self) {}
}

/// Decodes what a scripted answer would be, for tests of the decoder.
pub fn roundtrip(net: &ScriptedNet, name: &str, rtype: RecordType) -> crate::dns::DnsAnswer {
    let wire = crate::dns::encode_query(name, rtype).expect("encode");
    let q = Message::from_vec(&wire).expect("decode query");
    let resp = net
        .answer(&q)
        .expect("scripted answer")
        .to_vec()
        .expect("encode answer");
    decode_answer(name, rtype, &resp).expect("decode answer")
}

/// A network where nothing answers (every exchange times out). Its futures
/// are `Send`, like a native host's: tests use it to prove the engine's
/// futures stay `Send` when the host's are.
#[derive(Debug, Default, Clone, Copy)]
pub struct DownNet;

/// The connection type of [`DownNet`] (never made).
#[derive(Debug)]
pub struct NoConn;

impl Conn for NoConn {
    async fn read(&mut self, _: &mut [u8]) -> Result<usize, NetError> {
        Ok(0)
    }

    async fn write_all(&mut self, _: &[u8]) -> Result<(), NetError> {
        Ok(())
    }

    async fn close(&mut self) {}
}

impl Network for DownNet {
    type Conn = NoConn;

    async fn http(&self, _: HttpRequest) -> Result<HttpResponse, NetError> {
        Err(NetError::Timeout(1))
    }

    async fn tcp_connect(&self, _: &str, _: u16, _: u32) -> Result<NoConn, NetError> {
        Err(NetError::Timeout(1))
    }
}

/// Compiles only when `T` is `Send`; returns it unchanged.
pub fn assert_send<T: Send>(t: T) -> T {
    t
}
