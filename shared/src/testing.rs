//! A scripted [`Network`] for tests: a small in-memory zone answered over
//! real RFC 8484 wire format, so the DoH encoding and decoding run in every
//! test that uses it. Also used by the hosts' tests (feature `testing`).

use crate::dns::{decode_answer, RrData};
use crate::net::{Conn, HttpRequest, HttpResponse, Method, NetError, Network};
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, PTR, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// What the scripted resolver does for one (name, type).
#[derive(Debug, Clone)]
enum Scripted {
    Records(Vec<RrData>),
    Rcode(ResponseCode),
    Error(NetError),
}

#[derive(Debug, Default)]
pub struct ScriptedNet {
    zone: HashMap<(String, RecordType), Scripted>,
    tcp: HashMap<(String, u16), Vec<u8>>,
    pages: HashMap<String, Result<HttpResponse, NetError>>,
    signed: bool,
    requests: Cell<usize>,
    asked: RefCell<Vec<(String, RecordType)>>,
}

impl ScriptedNet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers carry the AD bit (the zone is "signed").
    pub fn signed(mut self, signed: bool) -> Self {
        self.signed = signed;
        self
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
        let mut resp = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
        resp.metadata.recursion_desired = true;
        resp.metadata.recursion_available = true;
        resp.add_query(q.clone());
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
        }
        let qname = target;
        match self.zone.get(&(qname.clone(), qtype)) {
            Some(Scripted::Error(e)) => return Err(e.clone()),
            Some(Scripted::Rcode(rc)) => resp.metadata.response_code = *rc,
            Some(Scripted::Records(rrs)) => {
                resp.metadata.authentic_data = self.signed;
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
                resp.metadata.authentic_data = self.signed;
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
        RrData::Other { .. } => panic!("scripted zone cannot serve opaque records"),
    }
}

impl Network for ScriptedNet {
    type Conn = ScriptedConn;

    async fn http(&self, req: HttpRequest) -> Result<HttpResponse, NetError> {
        self.requests.set(self.requests.get() + 1);
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
