//! The native [`Network`]: reqwest (rustls, ring) for HTTPS, tokio for TCP.
//! Moves bytes only; every judgement is in mailaudit-core.
//!
//! With an [`AddressPolicy`] (as `mailaudit serve` uses it) it never
//! connects to an address the policy refuses: TCP connections must name an
//! IP address (the engine connects by the address it looked up), and HTTPS
//! requests resolve through a resolver that drops refused addresses, so the
//! address checked is the address connected to. Requests to the configured
//! DoH resolver itself are exempt: the operator chose it. So is a plain
//! DNS resolver (`dns://IP[:PORT]`) the operator names; plain DNS to any
//! other address is held to the policy like a TCP connection.
//!
//! Requests to the DoH resolver go over one HTTP/2 connection: the client
//! for them speaks HTTP/2 from the start (RFC 8484 recommends it), so the
//! first wave of an audit's queries waits for one TLS handshake instead of
//! opening a connection each. A resolver that turns out not to speak
//! HTTP/2 is asked again, and from then on, over the ordinary client.
//!
//! Plain DNS ([`Network::dns_exchange`]): one UDP socket per exchange,
//! connected to the resolver (the kernel drops datagrams from any other
//! address), a random message id per exchange, and only a datagram that
//! repeats the id and the question is taken as the reply (others are
//! ignored until the timeout: late answers, spoofing attempts). A reply
//! with the TC bit is asked again over TCP (RFC 7766). The engine decodes
//! and judges the reply; this host only reads the header facts of
//! `mailaudit_core::dns::wire`.

use mailaudit_core::addr::AddressPolicy;
use mailaudit_core::dns::{wire, ResolverUrl};
use mailaudit_core::net::{Conn, HttpRequest, HttpResponse, Method, NetError, Network};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

#[derive(Clone)]
pub struct NativeNet {
    client: reqwest::Client,
    /// With a guard: the client for everything but the DoH resolver.
    guarded: Option<(reqwest::Client, Arc<AddressPolicy>, String)>,
    /// The DoH resolver's URL and its HTTP/2-only client.
    doh: Option<Arc<Doh>>,
    /// The operator's plain DNS resolver (exempt from the guard).
    plain: Option<SocketAddr>,
}

struct Doh {
    url: String,
    client: reqwest::Client,
    /// Set when the resolver did not speak HTTP/2.
    http1: AtomicBool,
}

/// reqwest's name resolution, keeping only addresses the policy allows.
struct GuardedResolver(Arc<AddressPolicy>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = Vec::new();
            let allowed: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused.push(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refused
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| format!("{host} has no address"));
                return Err(format!("refused by policy: {why}").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl NativeNet {
    /// `extra_ca` is PEM text of additional trusted roots (e.g. a test CA).
    pub fn new(extra_ca: Option<&[u8]>) -> Result<NativeNet, String> {
        Ok(NativeNet {
            client: Self::client(extra_ca, None)?,
            guarded: None,
            doh: None,
            plain: None,
        })
    }

    /// Sends the queries for the DoH resolver at `url` over one HTTP/2
    /// connection.
    /// A plain DNS resolver (`dns://`) needs no client: it is only noted
    /// as the operator's.
    pub fn with_resolver(mut self, url: &str, extra_ca: Option<&[u8]>) -> Result<Self, String> {
        if let ResolverUrl::Plain(addr) = ResolverUrl::parse(url)? {
            self.plain = Some(addr);
            return Ok(self);
        }
        let client = Self::builder(extra_ca)?
            .http2_prior_knowledge()
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        self.doh = Some(Arc::new(Doh {
            url: url.to_string(),
            client,
            http1: AtomicBool::new(false),
        }));
        Ok(self)
    }

    /// A network that connects only where `policy` allows, except to the
    /// DoH resolver at `resolver_url`.
    pub fn guarded(
        extra_ca: Option<&[u8]>,
        policy: AddressPolicy,
        resolver_url: &str,
    ) -> Result<NativeNet, String> {
        let policy = Arc::new(policy);
        NativeNet {
            client: Self::client(extra_ca, None)?,
            guarded: Some((
                Self::client(extra_ca, Some(policy.clone()))?,
                policy,
                resolver_url.to_string(),
            )),
            doh: None,
            plain: None,
        }
        .with_resolver(resolver_url, extra_ca)
    }

    fn client(
        extra_ca: Option<&[u8]>,
        policy: Option<Arc<AddressPolicy>>,
    ) -> Result<reqwest::Client, String> {
        let mut b = Self::builder(extra_ca)?;
        if let Some(p) = policy {
            b = b.dns_resolver(Arc::new(GuardedResolver(p)));
        }
        b.build().map_err(|e| format!("HTTP client: {e}"))
    }

    fn builder(extra_ca: Option<&[u8]>) -> Result<reqwest::ClientBuilder, String> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("mailaudit/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        if let Some(pem) = extra_ca {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("the CA file is not PEM certificates: {e}"))?;
            if certs.is_empty() {
                return Err("the CA file holds no certificate".into());
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        Ok(b)
    }

    /// The HTTP/2 client when `url` is the DoH resolver's and it speaks
    /// HTTP/2 (as far as we know).
    fn doh_client(&self, url: &str) -> Option<&Doh> {
        let doh = self.doh.as_deref()?;
        let path = url.split('?').next().unwrap_or(url);
        (path == doh.url.split('?').next().unwrap_or(&doh.url)
            && !doh.http1.load(Ordering::Relaxed))
        .then_some(doh)
    }

    /// The policy's verdict on a plain DNS server (None: no guard, or the
    /// operator's resolver).
    fn refuse_dns(&self, server: SocketAddr) -> Option<NetError> {
        let (_, policy, _) = self.guarded.as_ref()?;
        if self.plain == Some(server) {
            return None;
        }
        policy.check(server.ip()).err().map(NetError::Refused)
    }

    /// The policy's verdict on a TCP destination (None: no guard).
    fn refuse_tcp(&self, host: &str) -> Option<NetError> {
        let (_, policy, _) = self.guarded.as_ref()?;
        match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => policy.check(ip).err().map(NetError::Refused),
            Err(_) => Some(NetError::Refused(format!(
                "{host} is a name: this service connects only to addresses it looked up and checked"
            ))),
        }
    }
}

fn describe(e: &reqwest::Error) -> NetError {
    // The innermost cause says what actually went wrong (DNS, TLS, refused).
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    if let Some(why) = text.strip_prefix("refused by policy: ") {
        NetError::Refused(why.to_string())
    } else if e.is_timeout() {
        NetError::Timeout(0)
    } else if text.contains("certificate") || text.contains("tls") || text.contains("TLS") {
        NetError::Tls(text)
    } else if e.is_connect() {
        NetError::Connect(text)
    } else {
        NetError::Other(text)
    }
}

impl Network for NativeNet {
    type Conn = NativeConn;

    async fn http(&self, req: HttpRequest) -> Result<HttpResponse, NetError> {
        let timeout = req.timeout_ms;
        let exchange = async {
            let client = match &self.guarded {
                Some((guarded, policy, resolver)) if req.url != *resolver => {
                    // An address in the URL skips name resolution: check it here.
                    let url = reqwest::Url::parse(&req.url)
                        .map_err(|e| NetError::Other(format!("bad URL {}: {e}", req.url)))?;
                    let literal = match url.host() {
                        Some(url::Host::Ipv4(a)) => Some(IpAddr::V4(a)),
                        Some(url::Host::Ipv6(a)) => Some(IpAddr::V6(a)),
                        _ => None,
                    };
                    if let Some(ip) = literal {
                        policy.check(ip).map_err(NetError::Refused)?;
                    }
                    guarded
                }
                _ => &self.client,
            };
            if let Some(doh) = self.doh_client(&req.url) {
                match send(&doh.client, &req).await {
                    // No answer (not HTTP/2, or not reachable): ask once
                    // more over the ordinary client, which also settles
                    // whether the failure was about HTTP/2.
                    Err(e) if !e.is_timeout() => {
                        doh.http1.store(true, Ordering::Relaxed);
                    }
                    r => return r.map_err(|e| describe(&e))?.read(req.max_body).await,
                }
            }
            send(client, &req)
                .await
                .map_err(|e| describe(&e))?
                .read(req.max_body)
                .await
        };
        match tokio::time::timeout(Duration::from_millis(timeout.into()), exchange).await {
            Ok(r) => r.map_err(|e| match e {
                NetError::Timeout(_) => NetError::Timeout(timeout),
                e => e,
            }),
            Err(_) => Err(NetError::Timeout(timeout)),
        }
    }

    async fn tcp_connect(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<NativeConn, NetError> {
        if let Some(refused) = self.refuse_tcp(host) {
            return Err(refused);
        }
        let connect = TcpStream::connect((host, port));
        match tokio::time::timeout(Duration::from_millis(timeout_ms.into()), connect).await {
            Ok(Ok(s)) => Ok(NativeConn {
                stream: s,
                opened: std::time::Instant::now(),
            }),
            Ok(Err(e)) => Err(NetError::Connect(format!("{host}:{port}: {e}"))),
            Err(_) => Err(NetError::Timeout(timeout_ms)),
        }
    }

    async fn dns_exchange(
        &self,
        server: &str,
        query: &[u8],
        timeout_ms: u32,
    ) -> Result<Vec<u8>, NetError> {
        let addr: SocketAddr = server
            .parse()
            .map_err(|_| NetError::Other(format!("{server} is not an address and port")))?;
        if let Some(refused) = self.refuse_dns(addr) {
            return Err(refused);
        }
        let limit = Duration::from_millis(timeout_ms.into());
        match tokio::time::timeout(limit, plain_dns(addr, query)).await {
            Ok(r) => r,
            Err(_) => Err(NetError::Timeout(timeout_ms)),
        }
    }
}

/// A message id no one off the path can guess (RFC 5452 §9.2).
fn random_id() -> Result<u16, NetError> {
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).map_err(|e| NetError::Other(format!("no randomness: {e}")))?;
    Ok(u16::from_be_bytes(b))
}

/// One plain DNS exchange: UDP, then TCP if the answer was truncated. The
/// caller bounds it in time.
async fn plain_dns(server: SocketAddr, query: &[u8]) -> Result<Vec<u8>, NetError> {
    let mut q = query.to_vec();
    wire::set_id(&mut q, random_id()?);
    let mut reply = udp_exchange(server, &q).await?;
    if wire::truncated(&reply) {
        reply = tcp_exchange(server, &q).await?;
    }
    // The engine sees its own id back.
    wire::set_id(&mut reply, wire::id(query).unwrap_or(0));
    Ok(reply)
}

/// The largest datagram (and so the largest DNS message over UDP).
const MAX_DATAGRAM: usize = 65_535;

async fn udp_exchange(server: SocketAddr, q: &[u8]) -> Result<Vec<u8>, NetError> {
    let io = |e: std::io::Error| NetError::Connect(format!("{server} (UDP): {e}"));
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(io)?;
    socket.connect(server).await.map_err(io)?;
    socket.send(q).await.map_err(io)?;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        // An ICMP "port unreachable" surfaces here as ECONNREFUSED.
        let n = socket.recv(&mut buf).await.map_err(io)?;
        let datagram = buf.get(..n).unwrap_or_default();
        if wire::reply_matches(q, datagram) {
            return Ok(datagram.to_vec());
        }
        // Not the reply to this query: keep waiting (until the timeout).
    }
}

/// The query again over TCP (RFC 1035 §4.2.2: each message after a
/// two-octet length), for an answer too large for UDP.
async fn tcp_exchange(server: SocketAddr, q: &[u8]) -> Result<Vec<u8>, NetError> {
    let io = |e: std::io::Error| {
        NetError::Connect(format!(
            "{server} (TCP, asked again for an answer truncated over UDP): {e}"
        ))
    };
    let len = u16::try_from(q.len())
        .map_err(|_| NetError::Other("query larger than a DNS message".into()))?;
    let mut stream = TcpStream::connect(server).await.map_err(io)?;
    let mut msg = len.to_be_bytes().to_vec();
    msg.extend_from_slice(q);
    stream.write_all(&msg).await.map_err(io)?;
    loop {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.map_err(io)?;
        let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut reply).await.map_err(io)?;
        if wire::reply_matches(q, &reply) {
            return Ok(reply);
        }
    }
}

fn send(
    client: &reqwest::Client,
    req: &HttpRequest,
) -> impl std::future::Future<Output = Result<reqwest::Response, reqwest::Error>> {
    let mut rb = match req.method {
        Method::Get => client.get(&req.url),
        Method::Post => client.post(&req.url).body(req.body.clone()),
    };
    for (k, v) in &req.headers {
        rb = rb.header(k, v);
    }
    rb.send()
}

/// Reading a response: status, headers and a body of at most `max` bytes.
trait ReadResponse {
    async fn read(self, max: usize) -> Result<HttpResponse, NetError>;
}

impl ReadResponse for reqwest::Response {
    async fn read(mut self, max: usize) -> Result<HttpResponse, NetError> {
        let status = self.status().as_u16();
        let headers = self
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = self.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > max {
                return Err(NetError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

pub struct NativeConn {
    stream: TcpStream,
    /// When the connection was established: the engine's SMTP probe asks
    /// how long the greeting took (`Conn::elapsed_ms`).
    opened: std::time::Instant,
}

/// A peer that sends nothing for this long is given up on: the engine has
/// no clock, so a silent server (one waiting for a CRLF after a bare-LF
/// probe, say) would otherwise hold a probe until it hangs up itself.
const READ_TIMEOUT_MS: u32 = 20_000;

impl Conn for NativeConn {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        match tokio::time::timeout(
            std::time::Duration::from_millis(READ_TIMEOUT_MS.into()),
            self.stream.read(buf),
        )
        .await
        {
            Ok(r) => r.map_err(|e| NetError::Other(e.to_string())),
            Err(_) => Err(NetError::Timeout(READ_TIMEOUT_MS)),
        }
    }

    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
        match tokio::time::timeout(
            std::time::Duration::from_millis(READ_TIMEOUT_MS.into()),
            self.stream.write_all(data),
        )
        .await
        {
            Ok(r) => r.map_err(|e| NetError::Other(e.to_string())),
            Err(_) => Err(NetError::Timeout(READ_TIMEOUT_MS)),
        }
    }

    async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }

    fn elapsed_ms(&self) -> Option<u64> {
        u64::try_from(self.opened.elapsed().as_millis()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn the_guard_refuses_private_addresses_and_names() {
        let net = NativeNet::guarded(
            None,
            AddressPolicy::public_only(),
            "https://127.0.0.1:9/dns-query",
        )
        .unwrap();
        for host in [
            "127.0.0.1",
            "10.0.0.1",
            "169.254.169.254",
            "::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            match net.tcp_connect(host, 25, 1000).await {
                Err(NetError::Refused(why)) => assert!(why.contains("not public"), "{why}"),
                other => panic!("{host}: {:?}", other.map(|_| ())),
            }
        }
        assert!(matches!(
            net.tcp_connect("mail.example.org", 25, 1000).await,
            Err(NetError::Refused(_))
        ));
        for url in [
            "https://10.0.0.1/x",
            "http://[::1]:8080/",
            "https://169.254.169.254/latest/meta-data/",
        ] {
            let r = net.http(HttpRequest::get(url)).await;
            assert!(matches!(r, Err(NetError::Refused(_))), "{url}: {r:?}");
        }
        // A name that resolves to loopback is refused at resolution time.
        let r = net.http(HttpRequest::get("http://localhost:9/")).await;
        assert!(matches!(r, Err(NetError::Refused(_))), "{r:?}");
        // The operator's own resolver is exempt (here: nothing listens).
        let r = net
            .http(HttpRequest::post(
                "https://127.0.0.1:9/dns-query",
                "x",
                vec![],
            ))
            .await;
        assert!(!matches!(r, Err(NetError::Refused(_))), "{r:?}");
    }

    #[tokio::test]
    async fn an_allowed_block_is_reachable_and_the_cli_is_unguarded() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let policy = AddressPolicy {
            allow: vec![mailaudit_core::addr::Net::parse("127.0.0.0/8").unwrap()],
            unrestricted: false,
        };
        let net = NativeNet::guarded(None, policy, "https://x.invalid/").unwrap();
        assert!(net.tcp_connect("127.0.0.1", port, 2000).await.is_ok());
        let plain = NativeNet::new(None).unwrap();
        assert!(plain.tcp_connect("127.0.0.1", port, 2000).await.is_ok());
    }

    #[tokio::test]
    async fn tcp_round_trip_on_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"220 ready\r\n").await.unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        let net = NativeNet::new(None).unwrap();
        let mut c = net.tcp_connect("127.0.0.1", port, 2000).await.unwrap();
        let mut buf = [0u8; 64];
        let n = c.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"220 ready\r\n");
        c.write_all(b"QUIT\r\n").await.unwrap();
        c.close().await;
        assert_eq!(server.await.unwrap(), b"QUIT\r\n");
    }

    /// The greeting delay (pregreet) is this host's measurement: a server
    /// that waits before its 220 is seen waiting, by the product's SMTP
    /// client, and judged as a greeting delay.
    #[tokio::test]
    async fn a_delayed_greeting_is_measured() {
        use mailaudit_core::probe::{rules, smtp};
        let delay = rules::GREETING_DELAY_MS + 100;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_millis(delay)).await;
            s.write_all(b"220 slow.example ESMTP\r\n").await.unwrap();
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
        });
        let net = NativeNet::new(None).unwrap();
        let ip = "127.0.0.1".parse().unwrap();
        let (c, banner) = smtp::connect(&net, ip, port, 2000).await.unwrap();
        assert_eq!(banner.code, 220);
        let ms = c.elapsed_ms().expect("the CLI measures connections");
        assert!((delay..delay + 5_000).contains(&ms), "{ms} ms");
        assert!(rules::greeting_delay(Some(ms)).contains("a greeting delay (pregreet test)"));
    }

    #[tokio::test]
    async fn refused_connection_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let net = NativeNet::new(None).unwrap();
        assert!(matches!(
            net.tcp_connect("127.0.0.1", port, 2000).await,
            Err(NetError::Connect(_))
        ));
    }

    #[tokio::test]
    async fn http_body_limit_and_status_are_enforced() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            for _ in 0..2 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let body = "x".repeat(5000);
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            }
        });
        let net = NativeNet::new(None).unwrap();
        let url = format!("http://127.0.0.1:{port}/");
        let mut req = HttpRequest::get(&url);
        req.max_body = 100;
        assert_eq!(net.http(req).await, Err(NetError::TooLarge(100)));
        let ok = net.http(HttpRequest::get(&url)).await.unwrap();
        assert_eq!(ok.status, 200);
        assert_eq!(ok.body.len(), 5000);
    }

    /// A resolver's reply to `query`: `ip` as the A record, or no answer
    /// and the TC bit when `truncated`.
    fn dns_reply(query: &[u8], ip: &str, truncated: bool) -> Vec<u8> {
        use hickory_proto::op::{Message, MessageType};
        use hickory_proto::rr::{rdata::A, RData, Record};
        let q = Message::from_vec(query).unwrap();
        let mut m = Message::new(q.metadata.id, MessageType::Response, q.metadata.op_code);
        m.metadata.recursion_desired = true;
        m.metadata.recursion_available = true;
        m.metadata.truncation = truncated;
        m.add_query(q.queries[0].clone());
        if !truncated {
            let a = RData::A(A(ip.parse().unwrap()));
            m.add_answer(Record::from_rdata(q.queries[0].name().clone(), 60, a));
        }
        m.to_vec().unwrap()
    }

    /// A UDP socket and a TCP listener on the same loopback port.
    async fn udp_and_tcp() -> (UdpSocket, TcpListener, u16) {
        for _ in 0..20 {
            let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let port = udp.local_addr().unwrap().port();
            if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)).await {
                return (udp, tcp, port);
            }
        }
        panic!("no port free for both UDP and TCP");
    }

    fn a_of(answer: &mailaudit_core::dns::DnsAnswer) -> Vec<String> {
        answer.of_type().map(|d| d.to_string()).collect()
    }

    /// A truncated UDP answer is asked again over TCP (length-prefixed),
    /// and the engine decodes the whole answer.
    #[tokio::test]
    async fn a_truncated_udp_answer_is_asked_again_over_tcp() {
        use mailaudit_core::dns::{RecordType, Resolver, UDP_PAYLOAD};
        let (udp, tcp, port) = udp_and_tcp().await;
        let seen = tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            let (n, from) = udp.recv_from(&mut buf).await.unwrap();
            udp.send_to(&dns_reply(&buf[..n], "", true), from)
                .await
                .unwrap();
            let (mut s, _) = tcp.accept().await.unwrap();
            let mut len = [0u8; 2];
            s.read_exact(&mut len).await.unwrap();
            let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
            s.read_exact(&mut q).await.unwrap();
            let reply = dns_reply(&q, "198.51.100.25", false);
            s.write_all(&(reply.len() as u16).to_be_bytes())
                .await
                .unwrap();
            s.write_all(&reply).await.unwrap();
            (buf[..n].to_vec(), q)
        });
        let net = NativeNet::new(None).unwrap();
        let r = Resolver::new(&net, format!("dns://127.0.0.1:{port}"));
        let a = r.query("mail.example.org", RecordType::A).await.unwrap();
        assert_eq!(a_of(&a), ["198.51.100.25"]);
        assert_eq!(r.exchanges(), 1);
        let (over_udp, over_tcp) = seen.await.unwrap();
        // The same query both ways, with the EDNS size the engine set.
        assert_eq!(over_udp, over_tcp);
        let msg = hickory_proto::op::Message::from_vec(&over_udp).unwrap();
        assert_eq!(msg.edns.unwrap().max_payload(), UDP_PAYLOAD);
    }

    /// Datagrams that are not the reply (another id, another question, a
    /// query) are ignored; the real reply that follows is taken. The
    /// engine gets its own id (0) back; the wire carried random ones.
    #[tokio::test]
    async fn replies_with_another_id_or_question_are_ignored() {
        use mailaudit_core::dns::{encode_query, wire, RecordType, Resolver};
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = udp.local_addr().unwrap().port();
        let ids = tokio::spawn(async move {
            let mut ids = Vec::new();
            let mut buf = [0u8; 1500];
            for _ in 0..9 {
                let (n, from) = udp.recv_from(&mut buf).await.unwrap();
                let q = &buf[..n];
                let id = wire::id(q).unwrap();
                ids.push(id);
                let mut wrong_id = dns_reply(q, "203.0.113.66", false);
                wire::set_id(&mut wrong_id, id ^ 0x0101);
                let mut other = encode_query("evil.example.org", RecordType::A).unwrap();
                wire::set_id(&mut other, id);
                let other = dns_reply(&other, "203.0.113.67", false);
                let mut not_a_response = q.to_vec();
                not_a_response.truncate(n);
                for junk in [&wrong_id[..], &other, &not_a_response, b"\x00\x01garbage"] {
                    udp.send_to(junk, from).await.unwrap();
                }
                udp.send_to(&dns_reply(q, "198.51.100.25", false), from)
                    .await
                    .unwrap();
            }
            ids
        });
        let net = NativeNet::new(None).unwrap();
        let server = format!("127.0.0.1:{port}");
        let r = Resolver::new(&net, format!("dns://{server}"));
        let a = r.query("mail.example.org", RecordType::A).await.unwrap();
        assert_eq!(a_of(&a), ["198.51.100.25"]);
        let query = encode_query("mail.example.org", RecordType::A).unwrap();
        for _ in 0..8 {
            let reply = net.dns_exchange(&server, &query, 2000).await.unwrap();
            assert_eq!(wire::id(&reply), Some(0));
        }
        let ids = ids.await.unwrap();
        assert!(ids.iter().any(|&i| i != ids[0]), "ids not random: {ids:?}");
    }

    /// A resolver that never answers: each exchange times out (and is
    /// tried once more by the engine), and the check is `unknown` with the
    /// reason.
    #[tokio::test]
    async fn a_silent_resolver_times_out_and_the_check_is_unknown() {
        use mailaudit_core::dns::{mx, Resolver};
        use mailaudit_core::report::Status;
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = udp.local_addr().unwrap().port();
        let heard = tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            let mut n = 0;
            while tokio::time::timeout(Duration::from_secs(3), udp.recv_from(&mut buf))
                .await
                .is_ok()
            {
                n += 1;
            }
            n
        });
        let net = NativeNet::new(None).unwrap();
        let r = Resolver::new(&net, format!("dns://127.0.0.1:{port}")).with_timeout(300);
        let m = mx::lookup(&r, "example.org").await;
        let f = mx::judge("example.org", &m, false);
        assert_eq!(f.status, Status::Unknown, "{}", f.detail);
        assert!(f.detail.contains("timed out after 300 ms"), "{}", f.detail);
        assert_eq!(heard.await.unwrap(), 2);
    }

    /// Under the guard (`mailaudit serve`) the operator's plain resolver is
    /// exempt, as the DoH resolver is; plain DNS elsewhere is held to the
    /// policy.
    #[tokio::test]
    async fn the_guard_exempts_only_the_operators_plain_resolver() {
        use mailaudit_core::dns::{encode_query, RecordType};
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = udp.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            let (n, from) = udp.recv_from(&mut buf).await.unwrap();
            let _ = udp
                .send_to(&dns_reply(&buf[..n], "198.51.100.25", false), from)
                .await;
        });
        let net = NativeNet::guarded(
            None,
            AddressPolicy::public_only(),
            &format!("dns://127.0.0.1:{port}"),
        )
        .unwrap();
        let query = encode_query("mail.example.org", RecordType::A).unwrap();
        let ok = net
            .dns_exchange(&format!("127.0.0.1:{port}"), &query, 2000)
            .await;
        assert!(ok.is_ok(), "{ok:?}");
        for other in ["127.0.0.1:53", "10.0.0.53:53", "[::1]:53"] {
            match net.dns_exchange(other, &query, 2000).await {
                Err(NetError::Refused(why)) => assert!(why.contains("not public"), "{why}"),
                r => panic!("{other}: {r:?}"),
            }
        }
        // Without a guard (the CLI) any address may be asked.
        let plain = NativeNet::new(None).unwrap();
        assert!(!matches!(
            plain.dns_exchange("127.0.0.1:9", &query, 500).await,
            Err(NetError::Refused(_))
        ));
    }

    #[test]
    fn bad_ca_file_is_a_clear_error() {
        assert!(NativeNet::new(Some(b"not a certificate")).is_err());
    }
}
