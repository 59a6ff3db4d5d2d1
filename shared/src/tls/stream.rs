//! TLS over any [`Conn`]: a rustls `ClientConnection` driven by hand
//! (`read_tls` → `process_new_packets` → `write_tls`), so the same code runs
//! over a CLI socket, the Worker's `connect()` socket after STARTTLS, and
//! scripted bytes in tests. The result, [`TlsStream`], is itself a
//! [`Conn`]: the SMTP dialogue continues over it (EHLO again after
//! STARTTLS).
//!
//! The certificate verifier records the chain the server presented and
//! accepts it: an invalid certificate is a finding for
//! [`super::cert::analyze`], not a dead connection. Handshake signatures
//! are still checked against the presented key; a failure there is recorded
//! too (evidence), since it may only mean a key type ring does not support
//! (RSA < 2048, P-521).
//!
//! Time comes from the caller (unix seconds) through a fixed rustls
//! `TimeProvider`; the engine never reads a clock (and on wasm32 there is
//! none to read).

use super::Handshake;
use crate::net::{Conn, NetError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring as provider, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A clock stopped at the caller's time.
#[derive(Debug)]
struct FixedTime(u64);

impl rustls::time_provider::TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(Duration::from_secs(self.0)))
    }
}

#[derive(Debug, Default)]
struct Seen {
    chain: Vec<Vec<u8>>,
    signature: Option<Result<(), String>>,
}

/// Records the presented chain and accepts it; checks handshake signatures
/// and records the outcome.
#[derive(Debug)]
struct Recorder {
    seen: Arc<Mutex<Seen>>,
    provider: Arc<CryptoProvider>,
}

impl Recorder {
    fn note_signature(&self, r: Result<HandshakeSignatureValid, rustls::Error>) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let r = r.map(|_| ()).map_err(|e| e.to_string());
        // Keep the first failure if there is one.
        if !matches!(seen.signature, Some(Err(_))) {
            seen.signature = Some(r);
        }
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.note_signature(rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        ));
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.note_signature(rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        ));
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        // What ring verifies, plus legacy schemes a weak server may insist
        // on: the handshake then completes and the failure is recorded.
        let mut s = self
            .provider
            .signature_verification_algorithms
            .supported_schemes();
        for extra in [
            SignatureScheme::ECDSA_NISTP521_SHA512,
            SignatureScheme::RSA_PKCS1_SHA1,
            SignatureScheme::ECDSA_SHA1_Legacy,
        ] {
            if !s.contains(&extra) {
                s.push(extra);
            }
        }
        s
    }
}

/// Why a TLS handshake did not complete, with whatever was seen before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFailure {
    pub error: NetError,
    /// The chain, if the server got as far as presenting one.
    pub chain: Vec<Vec<u8>>,
}

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

/// A TLS client session over `C`, usable as a [`Conn`].
pub struct TlsStream<C> {
    conn: C,
    tls: ClientConnection,
    /// Ciphertext read from `conn` that rustls has not taken yet.
    pending: Vec<u8>,
    eof: bool,
    info: Handshake,
}

impl<C> std::fmt::Debug for TlsStream<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("info", &self.info)
            .finish()
    }
}

fn tls_err(e: impl std::fmt::Display) -> NetError {
    NetError::Tls(e.to_string())
}

/// Performs a TLS handshake (TLS 1.2 or 1.3, as rustls offers) over
/// `conn`, sending SNI for `server_name` unless it is an IP literal.
/// `now_unix` is the time rustls sees.
pub async fn connect<C: Conn>(
    conn: C,
    server_name: &str,
    now_unix: u64,
) -> Result<TlsStream<C>, TlsFailure> {
    let fail = |error| TlsFailure {
        error,
        chain: Vec::new(),
    };
    let provider = Arc::new(provider::default_provider());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let verifier = Arc::new(Recorder {
        seen: seen.clone(),
        provider: provider.clone(),
    });
    let config = ClientConfig::builder_with_details(provider, Arc::new(FixedTime(now_unix)))
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| fail(tls_err(e)))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let name = server_name.trim_end_matches('.');
    let name = ServerName::try_from(name.to_string())
        .map_err(|e| fail(NetError::Tls(format!("bad server name {name:?}: {e}"))))?;
    let tls = ClientConnection::new(Arc::new(config), name).map_err(|e| fail(tls_err(e)))?;
    let mut s = TlsStream {
        conn,
        tls,
        pending: Vec::new(),
        eof: false,
        info: Handshake::default(),
    };
    let r = s.handshake().await;
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
    if let Err(error) = r {
        s.conn.close().await;
        return Err(TlsFailure {
            error,
            chain: seen.chain,
        });
    }
    s.info = Handshake {
        version: s.tls.protocol_version().map(u16::from).unwrap_or(0),
        cipher_suite: s
            .tls
            .negotiated_cipher_suite()
            .map(|c| u16::from(c.suite()))
            .unwrap_or(0),
        chain: seen.chain,
        signature: seen
            .signature
            .unwrap_or_else(|| Err("no handshake signature was checked".into())),
    };
    Ok(s)
}

impl<C: Conn> TlsStream<C> {
    /// What the handshake negotiated and the chain the server presented.
    pub fn info(&self) -> &Handshake {
        &self.info
    }

    /// The plain connection underneath (without a close_notify).
    pub fn into_inner(self) -> C {
        self.conn
    }

    async fn handshake(&mut self) -> Result<(), NetError> {
        while self.tls.is_handshaking() {
            self.flush().await?;
            if !self.tls.is_handshaking() {
                break;
            }
            if !self.tls.wants_write() && !self.feed().await? {
                return Err(NetError::Tls(
                    "the server closed the connection during the TLS handshake".into(),
                ));
            }
        }
        self.flush().await
    }

    /// Writes whatever rustls has queued.
    async fn flush(&mut self) -> Result<(), NetError> {
        while self.tls.wants_write() {
            let mut out = Vec::new();
            self.tls.write_tls(&mut out).map_err(tls_err)?;
            if out.is_empty() {
                break;
            }
            self.conn.write_all(&out).await?;
        }
        Ok(())
    }

    /// Gives rustls more ciphertext (reading from the connection when
    /// nothing is pending) and processes it. False at end of stream.
    async fn feed(&mut self) -> Result<bool, NetError> {
        if self.pending.is_empty() {
            if self.eof {
                return Ok(false);
            }
            let mut buf = [0u8; 8192];
            let n = self.conn.read(&mut buf).await?;
            if n == 0 {
                self.eof = true;
                // Tell rustls; it then reports a missing close_notify.
                let _ = self.tls.read_tls(&mut &[][..]);
                self.process().await?;
                return Ok(false);
            }
            self.pending.extend_from_slice(&buf[..n]);
        }
        let mut slice = &self.pending[..];
        let taken = self.tls.read_tls(&mut slice).map_err(tls_err)?;
        if taken == 0 {
            // rustls takes nothing more until its buffers drain: a peer
            // flooding us in the handshake. Never spin.
            return Err(NetError::Tls("TLS input stalled".into()));
        }
        self.pending.drain(..taken);
        self.process().await?;
        Ok(true)
    }

    async fn process(&mut self) -> Result<(), NetError> {
        if let Err(e) = self.tls.process_new_packets() {
            // Send the alert rustls queued, then give up.
            let _ = self.flush().await;
            return Err(tls_err(e));
        }
        Ok(())
    }
}

impl<C: Conn> Conn for TlsStream<C> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) => return Ok(n), // 0: close_notify received
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(NetError::Tls(
                        "the server closed the connection without close_notify".into(),
                    ))
                }
                Err(e) => return Err(tls_err(e)),
            }
            self.flush().await?;
            if !self.feed().await? && self.pending.is_empty() && self.eof {
                // One more pass to surface what rustls concluded.
                match self.tls.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(_) => {
                        return Err(NetError::Tls(
                            "the server closed the connection without close_notify".into(),
                        ))
                    }
                }
            }
        }
    }

    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
        self.tls.writer().write_all(data).map_err(tls_err)?;
        self.flush().await
    }

    async fn close(&mut self) {
        self.tls.send_close_notify();
        let _ = self.flush().await;
        self.conn.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use rustls::pki_types::PrivateKeyDer;
    use rustls::{ServerConfig, ServerConnection};

    const LEAF: &[u8] = include_bytes!("../../tests/data/tls/leaf.der");
    const INT: &[u8] = include_bytes!("../../tests/data/tls/int.der");
    const KEY: &[u8] = include_bytes!("../../tests/data/tls/leaf.key.der");
    /// 2026-06-01: inside the leaf's validity.
    const NOW: u64 = 1_780_272_000;

    /// The server end as a `Conn`: a rustls server fed synchronously by
    /// what the client writes; it echoes application data back.
    struct Server {
        tls: ServerConnection,
        out: Vec<u8>,
    }

    fn server(versions: &[&'static rustls::SupportedProtocolVersion]) -> Server {
        let config = ServerConfig::builder_with_details(
            Arc::new(provider::default_provider()),
            Arc::new(FixedTime(NOW)),
        )
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![LEAF.to_vec().into(), INT.to_vec().into()],
            PrivateKeyDer::Pkcs8(KEY.to_vec().into()),
        )
        .unwrap();
        Server {
            tls: ServerConnection::new(Arc::new(config)).unwrap(),
            out: Vec::new(),
        }
    }

    impl Conn for Server {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
            while self.tls.wants_write() {
                self.tls.write_tls(&mut self.out).map_err(tls_err)?;
            }
            // Small reads, so records arrive in pieces.
            let n = buf.len().min(self.out.len()).min(100);
            buf[..n].copy_from_slice(&self.out[..n]);
            self.out.drain(..n);
            Ok(n)
        }
        async fn write_all(&mut self, mut data: &[u8]) -> Result<(), NetError> {
            while !data.is_empty() {
                self.tls.read_tls(&mut data).map_err(tls_err)?;
                self.tls.process_new_packets().map_err(tls_err)?;
            }
            let mut plain = Vec::new();
            let _ = self.tls.reader().read_to_end(&mut plain);
            if !plain.is_empty() {
                self.tls.writer().write_all(&plain).map_err(tls_err)?;
            }
            Ok(())
        }
        async fn close(&mut self) {}
    }

    #[test]
    fn handshake_records_chain_and_carries_data() {
        for (versions, want) in [
            (&[&rustls::version::TLS13][..], 0x0304),
            (&[&rustls::version::TLS12][..], 0x0303),
        ] {
            let mut s = block_on(connect(server(versions), "mail.example.org", NOW))
                .unwrap_or_else(|e| panic!("{e}"));
            let info = s.info().clone();
            assert_eq!(info.version, want);
            assert_eq!(info.chain, vec![LEAF.to_vec(), INT.to_vec()]);
            assert_eq!(info.signature, Ok(()));
            assert!(info.describe().contains("TLS 1."), "{}", info.describe());
            // The stream is a Conn: an SMTP exchange runs over it.
            block_on(s.write_all(b"EHLO probe.example\r\n")).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 7];
            while got.len() < 20 {
                let n = block_on(s.read(&mut buf)).unwrap();
                assert!(n > 0);
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"EHLO probe.example\r\n");
            block_on(s.close());
        }
    }

    #[test]
    fn the_name_is_not_checked_here() {
        // A name the certificate does not cover still completes: the
        // mismatch is tls.cert_name's finding, not a dead connection.
        let s = block_on(connect(
            server(rustls::ALL_VERSIONS),
            "wrong.example.net",
            NOW,
        ));
        assert!(s.is_ok());
        // A time outside the certificate's validity too.
        let s = block_on(connect(server(rustls::ALL_VERSIONS), "mail.example.org", 0));
        assert!(s.is_ok());
    }

    struct Bytes(Vec<u8>, usize);
    impl Conn for Bytes {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
            let n = buf.len().min(self.0.len() - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
        async fn write_all(&mut self, _: &[u8]) -> Result<(), NetError> {
            Ok(())
        }
        async fn close(&mut self) {}
    }

    #[test]
    fn garbage_and_silence_are_errors_not_panics() {
        for bytes in [
            b"".to_vec(),
            b"454 4.7.0 TLS not available\r\n".to_vec(),
            vec![21, 3, 3, 0, 2, 2, 40],
            vec![22, 3, 3, 0, 4, 2, 0, 0, 0],
        ] {
            let r = block_on(connect(Bytes(bytes.clone(), 0), "mail.example.org", NOW));
            let e = r.expect_err("no handshake");
            assert!(matches!(e.error, NetError::Tls(_)), "{bytes:?}: {e:?}");
            assert!(e.chain.is_empty());
        }
        let e = block_on(connect(Bytes(vec![], 0), "bad name!", NOW)).expect_err("bad name");
        assert!(e.to_string().contains("bad server name"));
    }
}
