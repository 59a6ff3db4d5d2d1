//! DNS over HTTPS (RFC 8484): query encoding, answer decoding and the
//! typed view of answers the rules read. Wire format is hickory-proto's;
//! transport is the host's [`Network`].
//!
//! Queries are sent as POST `application/dns-message` with message id 0
//! (RFC 8484 §4.1), recursion desired and the EDNS DO bit set, so a
//! validating resolver reports the AD bit the DNSSEC checks read.

pub mod bimi;
pub mod dmarc;
pub mod mtasts;
pub mod mx;
pub mod psl;
pub mod spf;
pub mod tlsrpt;

use crate::net::{HttpRequest, NetError, Network};
use crate::report::Evidence;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use thiserror::Error;

pub use hickory_proto::rr::RecordType;

/// The resolver used when the user names none.
pub const DEFAULT_RESOLVER: &str = "https://cloudflare-dns.com/dns-query";
const DNS_MESSAGE: &str = "application/dns-message";
/// A DNS message can never be larger than this.
const MAX_DNS_MESSAGE: usize = 65_535;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DnsError {
    #[error("invalid domain name {0:?}")]
    BadName(String),
    #[error("resolver unreachable: {0}")]
    Transport(#[from] NetError),
    #[error("resolver answered HTTP {0}")]
    HttpStatus(u16),
    #[error("resolver sent a malformed DNS message: {0}")]
    Malformed(String),
    #[error("resolver answered a different question")]
    WrongQuestion,
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
    let fqdn = wire_name(name)?;
    let mut msg = Message::new(0, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(fqdn, rtype));
    let mut edns = Edns::new();
    edns.set_dnssec_ok(true);
    edns.set_max_payload(4096);
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
    Ok(DnsAnswer {
        qname: name.into(),
        qtype: rtype,
        rcode: msg.metadata.response_code,
        authentic_data: msg.metadata.authentic_data,
        records,
    })
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
        other => RrData::Other {
            rtype: other.record_type().to_string(),
            text: other.to_string(),
        },
    }
}

/// A DNS-over-HTTPS client over the host's network.
pub struct Resolver<'n, N: Network> {
    net: &'n N,
    url: String,
    timeout_ms: u32,
}

impl<'n, N: Network> Resolver<'n, N> {
    pub fn new(net: &'n N, url: impl Into<String>) -> Self {
        Resolver {
            net,
            url: url.into(),
            timeout_ms: 5_000,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Asks the resolver one question. `name` must already be normalised
    /// ([`normalize_name`]).
    pub async fn query(&self, name: &str, rtype: RecordType) -> Result<DnsAnswer, DnsError> {
        let body = encode_query(name, rtype)?;
        let mut req = HttpRequest::post(&self.url, DNS_MESSAGE, body).header("accept", DNS_MESSAGE);
        req.timeout_ms = self.timeout_ms;
        req.max_body = MAX_DNS_MESSAGE;
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

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for wire in [&b""[..], b"\x00", &[0xff; 40], &[0u8; 12]] {
            assert!(decode_answer("example.org", RecordType::A, wire).is_err());
        }
    }
}
