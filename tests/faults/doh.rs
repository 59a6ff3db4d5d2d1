//! A scriptable, misbehaving DNS-over-HTTPS server (RFC 8484, HTTP/2 and
//! HTTP/1.1 over TLS, POST). Each question is handed to the
//! suite's `answer` function, which says what to send back: a proper DNS
//! answer (any rcode, TC bit optional), or a fault: no answer ever, the
//! answer cut short, random bytes, or a raw body of any size.

use bytes::Bytes;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Record, RecordType};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// What the server does with one question.
pub enum Reply {
    /// A DNS response: rcode, answer section, TC bit.
    Dns {
        rcode: ResponseCode,
        answers: Vec<Record>,
        truncated: bool,
    },
    /// The proper response, cut to its first half (a message that ends
    /// mid-record).
    CutShort(Vec<Record>),
    /// 200 `application/dns-message` with 512 pseudo-random bytes.
    Garbled,
    /// Never answers (the HTTP/2 stream stays open).
    Silent,
    /// 200 `application/dns-message` with exactly these bytes.
    Raw(Bytes),
}

pub type AnswerFn = dyn Fn(&str, RecordType) -> Reply + Send + Sync;

/// The name as lower-case labels without the root dot.
pub fn key(n: &hickory_proto::rr::Name) -> String {
    n.iter()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(".")
}

fn response(query: &Message, q: &Query, rcode: ResponseCode, answers: Vec<Record>) -> Message {
    let mut m = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
    m.metadata.recursion_desired = query.metadata.recursion_desired;
    m.metadata.recursion_available = true;
    m.metadata.checking_disabled = query.metadata.checking_disabled;
    m.metadata.response_code = rcode;
    m.add_query(q.clone());
    for a in answers {
        m.add_answer(a);
    }
    m
}

/// Deterministic junk (xorshift), so a failing run can be replayed.
fn junk(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn dns_body(b: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/dns-message")
        .body(Full::new(Bytes::from(b)))
        .expect("response")
}

fn status(s: StatusCode) -> Response<Full<Bytes>> {
    Response::builder()
        .status(s)
        .body(Full::new(Bytes::new()))
        .expect("response")
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    answer: Arc<AnswerFn>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let wire: Vec<u8> = if req.method() == hyper::Method::POST {
        match Limited::new(req.into_body(), 65_535).collect().await {
            Ok(b) => b.to_bytes().to_vec(),
            Err(_) => return Ok(status(StatusCode::PAYLOAD_TOO_LARGE)),
        }
    } else {
        // The engine always POSTs (RFC 8484 §4.1).
        return Ok(status(StatusCode::METHOD_NOT_ALLOWED));
    };
    let Ok(query) = Message::from_vec(&wire) else {
        return Ok(status(StatusCode::BAD_REQUEST));
    };
    let Some(q) = query.queries.first().cloned() else {
        return Ok(status(StatusCode::BAD_REQUEST));
    };
    let reply = answer(&key(q.name()), q.query_type());
    Ok(match reply {
        Reply::Dns {
            rcode,
            answers,
            truncated,
        } => {
            let mut m = response(&query, &q, rcode, answers);
            m.metadata.truncation = truncated;
            dns_body(m.to_vec().expect("encode"))
        }
        Reply::CutShort(answers) => {
            let full = response(&query, &q, ResponseCode::NoError, answers)
                .to_vec()
                .expect("encode");
            let half = full.len() / 2;
            dns_body(full[..half].to_vec())
        }
        Reply::Garbled => dns_body(junk(512, 0x9e37_79b9_7f4a_7c15)),
        Reply::Silent => std::future::pending().await,
        Reply::Raw(b) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/dns-message")
            .body(Full::new(b))
            .expect("response"),
    })
}

/// Serves DoH on `addr` until the runtime ends; returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    tls: Arc<rustls::ServerConfig>,
    answer: Arc<AnswerFn>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let acceptor = TlsAcceptor::from(tls);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(move |req| handle(req, answer.clone()));
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(local)
}

/// A DNS message of `records` TXT records of `size` bytes each for
/// `name`, assembled by hand: hickory's encoder stops at 64 KB, DoH has no
/// such limit (the HTTP body carries the message without a length prefix).
pub fn huge_txt_message(name: &str, records: u16, size: usize) -> Vec<u8> {
    let mut m = vec![0, 0, 0x81, 0x80, 0, 1];
    m.extend_from_slice(&records.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 16, 0, 1]);
    let strings = size / 256;
    let mut rdata = Vec::with_capacity(strings * 256);
    for i in 0..strings {
        rdata.push(255);
        rdata.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, 255));
    }
    for _ in 0..records {
        m.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 1, 44]);
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(&rdata);
    }
    m
}
