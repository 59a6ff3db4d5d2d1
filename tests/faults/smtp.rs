//! A scriptable, misbehaving SMTP server on port 25 of one loopback
//! address. While `faulty` is false it is a small healthy MTA (EHLO,
//! STARTTLS with a certificate of the suite's CA, relay refused, VRFY
//! disabled), which the baseline audit sees; once set, every new
//! connection gets the row's [`Mode`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Healthy,
    /// Everything at one byte a second, a greeting that never ends.
    Tarpit,
    /// Accepts the connection, never sends a byte.
    Silent,
    /// A 1 MB multi-line greeting.
    HugeBanner,
    /// `220` to STARTTLS, reads the ClientHello, then a TCP reset.
    ResetMidStartTls,
    /// `220` to STARTTLS, then 4 KB of random bytes instead of a ServerHello.
    GarbageStartTls,
    /// Healthy, but TLS serves leaf + 49 intermediates.
    LongChain,
    /// `421` to EHLO (and HELO), then closes.
    Close421AfterEhlo,
}

pub struct Server {
    pub faulty: AtomicBool,
    pub mode: Mode,
    pub host: String,
    pub domain: String,
    pub healthy_tls: TlsAcceptor,
    pub long_tls: TlsAcceptor,
    /// Connections accepted in fault mode.
    pub fault_connections: AtomicUsize,
}

impl Server {
    pub async fn listen(self: Arc<Self>, addr: SocketAddr) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let me = self.clone();
                tokio::spawn(async move {
                    let mode = if me.faulty.load(Ordering::SeqCst) {
                        me.fault_connections.fetch_add(1, Ordering::SeqCst);
                        me.mode
                    } else {
                        Mode::Healthy
                    };
                    let _ = me.session(tcp, mode).await;
                });
            }
        });
        Ok(())
    }

    async fn session(&self, mut tcp: TcpStream, mode: Mode) -> std::io::Result<()> {
        match mode {
            Mode::Tarpit => {
                let line = format!("220-{} ESMTP welcome, please wait\r\n", self.host);
                // At most ten minutes; the audit is long gone by then.
                for b in line.bytes().cycle().take(600) {
                    tcp.write_all(&[b]).await?;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Ok(())
            }
            Mode::Silent => {
                let mut sink = [0u8; 1024];
                let idle = tokio::time::sleep(Duration::from_secs(600));
                tokio::pin!(idle);
                loop {
                    tokio::select! {
                        _ = &mut idle => return Ok(()),
                        n = tcp.read(&mut sink) => if n? == 0 { return Ok(()) },
                    }
                }
            }
            Mode::HugeBanner => {
                let line = format!("220-{} {}\r\n", self.host, "x".repeat(990));
                let mut sent = 0;
                while sent < 1 << 20 {
                    tcp.write_all(line.as_bytes()).await?;
                    sent += line.len();
                }
                tcp.write_all(format!("220 {} ESMTP\r\n", self.host).as_bytes())
                    .await?;
                self.dialogue(tcp, mode).await
            }
            _ => {
                tcp.write_all(format!("220 {} ESMTP faultsmtp\r\n", self.host).as_bytes())
                    .await?;
                self.dialogue(tcp, mode).await
            }
        }
    }

    /// Command loop, plaintext then (after STARTTLS) TLS.
    async fn dialogue(&self, tcp: TcpStream, mode: Mode) -> std::io::Result<()> {
        let mut r = BufReader::new(tcp);
        match self.commands(&mut r, false, mode).await? {
            After::Done => Ok(()),
            After::StartTls => {
                let mut tcp = r.into_inner();
                match mode {
                    Mode::ResetMidStartTls => {
                        let mut hello = [0u8; 512];
                        let _ = tcp.read(&mut hello).await?;
                        tcp.set_zero_linger()?;
                        drop(tcp);
                        Ok(())
                    }
                    Mode::GarbageStartTls => {
                        let mut hello = [0u8; 512];
                        let _ = tcp.read(&mut hello).await?;
                        let mut seed: u32 = 0x2545_f491;
                        let junk: Vec<u8> = (0..4096)
                            .map(|_| {
                                seed ^= seed << 13;
                                seed ^= seed >> 17;
                                seed ^= seed << 5;
                                (seed >> 24) as u8
                            })
                            .collect();
                        tcp.write_all(&junk).await?;
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        Ok(())
                    }
                    _ => {
                        let acceptor = if mode == Mode::LongChain {
                            &self.long_tls
                        } else {
                            &self.healthy_tls
                        };
                        let tls = acceptor.accept(tcp).await?;
                        let mut r = BufReader::new(tls);
                        self.commands(&mut r, true, mode).await.map(|_| ())
                    }
                }
            }
        }
    }

    async fn commands<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        r: &mut BufReader<S>,
        tls: bool,
        mode: Mode,
    ) -> std::io::Result<After> {
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = tokio::time::timeout(
                Duration::from_secs(60),
                (&mut *r).take(4096).read_until(b'\n', &mut line),
            )
            .await
            .map_err(|_| std::io::Error::other("idle"))??;
            if n == 0 {
                return Ok(After::Done);
            }
            let text = String::from_utf8_lossy(&line);
            let cmd = text.trim_end_matches(['\r', '\n']);
            let verb = cmd
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let w = r.get_mut();
            let reply: String = match verb.as_str() {
                "EHLO" | "HELO" if mode == Mode::Close421AfterEhlo => {
                    w.write_all(b"421 4.3.2 Service shutting down, closing channel\r\n")
                        .await?;
                    w.flush().await?;
                    return Ok(After::Done);
                }
                "EHLO" => {
                    let mut s = format!(
                        "250-{}\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n",
                        self.host
                    );
                    if !tls {
                        s.push_str("250-STARTTLS\r\n");
                    }
                    s.push_str("250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n");
                    s
                }
                "HELO" => format!("250 {}\r\n", self.host),
                "STARTTLS" if !tls => {
                    w.write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
                    w.flush().await?;
                    return Ok(After::StartTls);
                }
                "MAIL" => "250 2.1.0 Ok\r\n".into(),
                "RCPT" => {
                    let own = cmd
                        .to_ascii_lowercase()
                        .contains(&format!("@{}>", self.domain));
                    if own {
                        "250 2.1.5 Ok\r\n".into()
                    } else {
                        "554 5.7.1 Relay access denied\r\n".into()
                    }
                }
                "VRFY" => "502 5.5.1 VRFY command is disabled\r\n".into(),
                "EXPN" => "502 5.5.1 EXPN command is disabled\r\n".into(),
                "RSET" | "NOOP" => "250 2.0.0 Ok\r\n".into(),
                "QUIT" => {
                    w.write_all(b"221 2.0.0 Bye\r\n").await?;
                    w.flush().await?;
                    return Ok(After::Done);
                }
                "DATA" | "BDAT" => "554 5.5.1 Error: no valid recipients\r\n".into(),
                _ => "502 5.5.2 Error: command not recognized\r\n".into(),
            };
            w.write_all(reply.as_bytes()).await?;
            w.flush().await?;
        }
    }
}

enum After {
    Done,
    StartTls,
}
