//! The native [`Network`]: reqwest (rustls, ring) for HTTPS, tokio for TCP.
//! Moves bytes only; every judgement is in mailaudit-core.

use mailaudit_core::net::{Conn, HttpRequest, HttpResponse, Method, NetError, Network};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Clone)]
pub struct NativeNet {
    client: reqwest::Client,
}

impl NativeNet {
    /// `extra_ca` is PEM text of additional trusted roots (e.g. a test CA).
    pub fn new(extra_ca: Option<&[u8]>) -> Result<NativeNet, String> {
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
        let client = b.build().map_err(|e| format!("HTTP client: {e}"))?;
        Ok(NativeNet { client })
    }
}

fn describe(e: &reqwest::Error) -> NetError {
    // The innermost cause says what actually went wrong (DNS, TLS, refused).
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    if e.is_timeout() {
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
            let mut rb = match req.method {
                Method::Get => self.client.get(&req.url),
                Method::Post => self.client.post(&req.url).body(req.body.clone()),
            };
            for (k, v) in &req.headers {
                rb = rb.header(k, v);
            }
            let mut resp = rb.send().await.map_err(|e| describe(&e))?;
            let status = resp.status().as_u16();
            let headers = resp
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
            while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
                if body.len() + chunk.len() > req.max_body {
                    return Err(NetError::TooLarge(req.max_body));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
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
        let connect = TcpStream::connect((host, port));
        match tokio::time::timeout(Duration::from_millis(timeout_ms.into()), connect).await {
            Ok(Ok(s)) => Ok(NativeConn { stream: s }),
            Ok(Err(e)) => Err(NetError::Connect(format!("{host}:{port}: {e}"))),
            Err(_) => Err(NetError::Timeout(timeout_ms)),
        }
    }
}

pub struct NativeConn {
    stream: TcpStream,
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

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
