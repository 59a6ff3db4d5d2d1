//! The native [`Network`]: reqwest (rustls, ring) for HTTPS, tokio for TCP.
//! Moves bytes only; every judgement is in mailaudit-core.
//!
//! With an [`AddressPolicy`] (as `mailaudit serve` uses it) it never
//! connects to an address the policy refuses: TCP connections must name an
//! IP address (the engine connects by the address it looked up), and HTTPS
//! requests resolve through a resolver that drops refused addresses, so the
//! address checked is the address connected to. Requests to the configured
//! DoH resolver itself are exempt: the operator chose it.
//!
//! Requests to the DoH resolver go over one HTTP/2 connection: the client
//! for them speaks HTTP/2 from the start (RFC 8484 recommends it), so the
//! first wave of an audit's queries waits for one TLS handshake instead of
//! opening a connection each. A resolver that turns out not to speak
//! HTTP/2 is asked again, and from then on, over the ordinary client.

use mailaudit_core::addr::AddressPolicy;
use mailaudit_core::net::{Conn, HttpRequest, HttpResponse, Method, NetError, Network};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Clone)]
pub struct NativeNet {
    client: reqwest::Client,
    /// With a guard: the client for everything but the DoH resolver.
    guarded: Option<(reqwest::Client, Arc<AddressPolicy>, String)>,
    /// The DoH resolver's URL and its HTTP/2-only client.
    doh: Option<Arc<Doh>>,
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
        })
    }

    /// Sends the queries for the DoH resolver at `url` over one HTTP/2
    /// connection.
    pub fn with_resolver(mut self, url: &str, extra_ca: Option<&[u8]>) -> Result<Self, String> {
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

    #[test]
    fn bad_ca_file_is_a_clear_error() {
        assert!(NativeNet::new(Some(b"not a certificate")).is_err());
    }
}
