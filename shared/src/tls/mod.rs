//! TLS on mail servers: the protocol versions and cipher suites a server
//! accepts, and the certificate it presents. Rules decided here:
//! `tls.versions`, `tls.ciphers`, `tls.cert_expiry`, `tls.cert_name`,
//! `tls.cert_chain`, `tls.cert_key` (see [`rules`]).
//!
//! How the parts fit:
//! - [`stream`] (feature `tls`): a real TLS 1.2/1.3 client (rustls) over
//!   any [`crate::net::Conn`] — for SMTP after STARTTLS, or implicit TLS on
//!   465. It records the chain and the negotiated version and suite
//!   ([`Handshake`]), and is itself a `Conn`.
//! - [`hello`] and [`probe`]: hand-built ClientHellos that ask one question
//!   each ("SSLv3?", "RC4?") on a fresh connection from a caller-supplied
//!   `connect` function. Hand-built because rustls cannot offer legacy
//!   versions or weak suites; only the first flight is exchanged.
//! - [`cert`]: what the chain says (x509-parser) and whether it reaches a
//!   trusted root (rustls-webpki + webpki-roots, plus caller-given roots);
//!   the analysis needs feature `tls`, the resulting [`cert::CertReport`]
//!   is plain data.
//! - [`ics`]: an RFC 5545 calendar reminder of the certificate's expiry.
//! - [`rules`]: pure judgements over those results, with the caller's time.
//!
//! The frontend links this crate without feature `tls`: it gets the rule
//! catalog, the probe wire code and the judgements, but not rustls, ring,
//! webpki or x509-parser.

pub mod cert;
pub mod hello;
pub mod ics;
pub mod probe;
pub mod rules;
#[cfg(feature = "tls")]
pub mod stream;

pub use rules::RULES;

/// What a completed TLS handshake negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Wire version (0x0303 = TLS 1.2, 0x0304 = TLS 1.3).
    pub version: u16,
    /// IANA cipher suite number.
    pub cipher_suite: u16,
    /// The certificates the server presented, DER, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// Whether the server's handshake signature verified against the
    /// presented leaf key (an error text otherwise).
    pub signature: Result<(), String>,
}

impl Default for Handshake {
    fn default() -> Self {
        Handshake {
            version: 0,
            cipher_suite: 0,
            chain: Vec::new(),
            signature: Err("no handshake yet".into()),
        }
    }
}

impl Handshake {
    /// "TLS 1.3, TLS_AES_256_GCM_SHA384".
    pub fn describe(&self) -> String {
        format!(
            "{}, {}",
            hello::version_name(self.version),
            hello::suite_name(self.cipher_suite)
        )
    }
}
