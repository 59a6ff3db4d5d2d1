//! What a server's certificate chain says, and whether it reaches a trusted
//! root. [`analyze`] (feature `tls`) parses the DER chain with x509-parser
//! and checks the path with rustls-webpki against webpki-roots (Mozilla's
//! list) plus any roots the caller adds (a test bed's CA, a private PKI);
//! the result, [`CertReport`], is plain data that the rules judge.
//!
//! Certificates are untrusted input: nothing here panics on them; an
//! unparsable certificate is reported, not fatal.

#[cfg(feature = "tls")]
use super::Handshake;

/// The facts of one certificate that the rules and the evidence use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertSummary {
    /// RFC 4514 text ("CN=mail.example.org, O=Example").
    pub subject: String,
    pub issuer: String,
    /// Hex, colon-separated.
    pub serial: String,
    /// SAN dNSName entries, as written.
    pub dns_names: Vec<String>,
    /// SAN iPAddress entries.
    pub ip_names: Vec<String>,
    /// Subject common names (not used for matching; RFC 6125 §6.4.4).
    pub common_names: Vec<String>,
    /// Validity, unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// SHA-256 of the DER, lower-case hex without separators.
    pub sha256: String,
    /// "RSA", "EC P-256", "Ed25519", "DSA", or the algorithm OID.
    pub key_type: String,
    /// Key size in bits (RSA modulus, curve size); 0 when unknown.
    pub key_bits: u32,
    /// Signature algorithm name ("sha256WithRSAEncryption") or OID.
    pub signature_algorithm: String,
    /// "SHA-1", "MD5" or "MD2" when the signature uses a broken hash.
    pub weak_signature_hash: Option<String>,
    /// Issuer equals subject (and the key identifiers, if present, agree).
    pub self_signed: bool,
    pub is_ca: bool,
    /// AIA caIssuers URLs (where a missing intermediate can be fetched).
    pub ca_issuers: Vec<String>,
}

/// Where the chain leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// A valid path to this trusted root (subject).
    Trusted { root: String },
    /// The server certificate is self-signed.
    SelfSigned,
    /// The chain as sent stops at a certificate whose issuer was not sent
    /// and is not a trusted root: intermediates missing (or an unknown CA).
    Incomplete { missing_issuer: String },
    /// The chain ends at a self-signed CA that is not trusted.
    UntrustedRoot { root: String },
    /// Any other reason a path could not be built (bad signature,
    /// unsupported algorithm, not a CA, wrong key usage, expired CA).
    Invalid { reason: String },
}

/// The analysis of one presented chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertReport {
    /// The name the client connected to (the MX host).
    pub host: String,
    /// "TLS 1.3, TLS_AES_256_GCM_SHA384", when a handshake completed.
    pub negotiated: Option<String>,
    /// The handshake signature check (`Handshake::signature`).
    pub handshake_signature: Result<(), String>,
    /// The presented certificates, leaf first, that could be parsed.
    pub chain: Vec<CertSummary>,
    /// Certificates that could not be parsed: (position, error).
    pub unparsable: Vec<(usize, String)>,
    pub trust: Trust,
}

impl CertReport {
    pub fn leaf(&self) -> Option<&CertSummary> {
        self.chain.first()
    }
}

/// Analyses the chain of a completed handshake.
#[cfg(feature = "tls")]
pub fn analyze_handshake(
    hs: &Handshake,
    host: &str,
    now_unix: i64,
    extra_roots: &[Vec<u8>],
) -> CertReport {
    let mut r = analyze(&hs.chain, host, now_unix, extra_roots);
    r.negotiated = Some(hs.describe());
    r.handshake_signature = hs.signature.clone();
    r
}

/// Parses `chain` (DER, leaf first, as presented) and checks the path at
/// `now_unix` against webpki-roots plus `extra_roots` (DER).
#[cfg(feature = "tls")]
pub fn analyze(
    chain: &[Vec<u8>],
    host: &str,
    now_unix: i64,
    extra_roots: &[Vec<u8>],
) -> CertReport {
    let mut parsed = Vec::new();
    let mut unparsable = Vec::new();
    for (i, der) in chain.iter().enumerate() {
        match imp::summarize(der) {
            Ok(s) => parsed.push(s),
            Err(e) => unparsable.push((i, e)),
        }
    }
    let trust = if chain.is_empty() {
        Trust::Invalid {
            reason: "the server presented no certificate".into(),
        }
    } else if unparsable.iter().any(|(i, _)| *i == 0) {
        Trust::Invalid {
            reason: "the server certificate could not be parsed".into(),
        }
    } else {
        imp::trust(chain, &parsed, now_unix, extra_roots)
    };
    CertReport {
        host: host.trim_end_matches('.').to_ascii_lowercase(),
        negotiated: None,
        handshake_signature: Ok(()),
        chain: if unparsable.iter().any(|(i, _)| *i == 0) {
            Vec::new()
        } else {
            parsed
        },
        unparsable,
        trust,
    }
}

#[cfg(feature = "tls")]
mod imp {
    use super::{CertSummary, Trust};
    use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
    use std::time::Duration;
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    use x509_parser::oid_registry::{self, Oid};
    use x509_parser::prelude::{FromDer, X509Certificate, X509Name};
    use x509_parser::public_key::PublicKey;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn oid_is(oid: &Oid, dotted: &str) -> bool {
        oid.to_id_string() == dotted
    }

    /// (name, broken hash) of a signature algorithm OID.
    fn signature_name(oid: &Oid) -> (String, Option<&'static str>) {
        let s = oid.to_id_string();
        let (name, weak) = match s.as_str() {
            "1.2.840.113549.1.1.2" => ("md2WithRSAEncryption", Some("MD2")),
            "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", Some("MD5")),
            "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", Some("SHA-1")),
            "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", None),
            "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", None),
            "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", None),
            "1.2.840.113549.1.1.10" => ("RSASSA-PSS", None),
            "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", Some("SHA-1")),
            "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", None),
            "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", None),
            "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", None),
            "1.2.840.10040.4.3" => ("dsa-with-SHA1", Some("SHA-1")),
            "1.3.101.112" => ("Ed25519", None),
            "1.3.101.113" => ("Ed448", None),
            _ => return (s, None),
        };
        (name.to_string(), weak)
    }

    fn key_info(cert: &X509Certificate<'_>) -> (String, u32) {
        let spki = cert.public_key();
        let alg = &spki.algorithm;
        let curve = || {
            alg.parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| match o.to_id_string().as_str() {
                    "1.2.840.10045.3.1.7" => ("P-256", 256),
                    "1.3.132.0.34" => ("P-384", 384),
                    "1.3.132.0.35" => ("P-521", 521),
                    "1.3.132.0.10" => ("secp256k1", 256),
                    _ => ("unknown curve", 0),
                })
                .unwrap_or(("unknown curve", 0))
        };
        match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => ("RSA".into(), rsa.key_size() as u32),
            Ok(PublicKey::EC(ec)) => {
                let (name, bits) = curve();
                let bits = if bits == 0 {
                    ec.key_size() as u32
                } else {
                    bits
                };
                (format!("EC {name}"), bits)
            }
            Ok(PublicKey::DSA(y)) => ("DSA".into(), (y.len() * 8) as u32),
            _ if oid_is(&alg.algorithm, "1.3.101.112") => ("Ed25519".into(), 256),
            _ if oid_is(&alg.algorithm, "1.3.101.113") => ("Ed448".into(), 456),
            _ => (alg.algorithm.to_id_string(), 0),
        }
    }

    pub(super) fn summarize(der: &[u8]) -> Result<CertSummary, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        let mut s = CertSummary {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            serial: cert.raw_serial_as_string(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            sha256: hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref()),
            ..CertSummary::default()
        };
        for cn in cert.subject().iter_common_name() {
            if let Ok(t) = cn.as_str() {
                s.common_names.push(t.to_string());
            }
        }
        (s.key_type, s.key_bits) = key_info(&cert);
        let (name, weak) = signature_name(&cert.signature_algorithm.algorithm);
        s.signature_algorithm = name;
        s.weak_signature_hash = weak.map(str::to_string);
        let mut ski = None;
        let mut aki = None;
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for n in &san.general_names {
                        match n {
                            GeneralName::DNSName(d) => s.dns_names.push(d.to_string()),
                            GeneralName::IPAddress(ip) => s.ip_names.push(match ip.len() {
                                4 => {
                                    std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string()
                                }
                                16 => {
                                    let mut a = [0u8; 16];
                                    a.copy_from_slice(ip);
                                    std::net::Ipv6Addr::from(a).to_string()
                                }
                                _ => hex(ip),
                            }),
                            _ => {}
                        }
                    }
                }
                ParsedExtension::BasicConstraints(bc) => s.is_ca = bc.ca,
                ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    aki = a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                ParsedExtension::AuthorityInfoAccess(aia) => {
                    for d in &aia.accessdescs {
                        if d.access_method == oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS {
                            if let GeneralName::URI(u) = d.access_location {
                                s.ca_issuers.push(u.to_string());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        s.self_signed = cert.subject().as_raw() == cert.issuer().as_raw()
            && match (&ski, &aki) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
        Ok(s)
    }

    fn at(t: i64) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(t.max(0) as u64))
    }

    /// The subject of a trust anchor as text (webpki keeps the DER content
    /// of the Name without its SEQUENCE header).
    fn anchor_subject(a: &TrustAnchor<'_>) -> String {
        let content: &[u8] = a.subject.as_ref();
        let mut der = vec![0x30];
        let n = content.len();
        if n < 0x80 {
            der.push(n as u8);
        } else if n < 0x100 {
            der.extend_from_slice(&[0x81, n as u8]);
        } else {
            der.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
        }
        der.extend_from_slice(content);
        X509Name::from_der(&der)
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|_| "an unnamed root".into())
    }

    fn describe(e: &webpki::Error) -> String {
        use webpki::Error as E;
        match e {
            E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                "a certificate in the chain is signed with an algorithm that is no longer \
                 accepted (e.g. SHA-1, MD5, or an RSA key below 2048 bits)"
                    .into()
            }
            E::InvalidSignatureForPublicKey => "a signature in the chain does not verify".into(),
            E::CaUsedAsEndEntity => "the server certificate is a CA certificate".into(),
            E::EndEntityUsedAsCa => "an intermediate is not a CA certificate".into(),
            E::RequiredEkuNotFoundContext(_) => {
                "a certificate lacks the serverAuth extended key usage".into()
            }
            E::CertExpired { .. } | E::CertNotValidYet { .. } => {
                "an intermediate or root is outside its validity period".into()
            }
            other => format!("path validation failed: {other:?}"),
        }
    }

    pub(super) fn trust(
        chain: &[Vec<u8>],
        parsed: &[CertSummary],
        now: i64,
        extra_roots: &[Vec<u8>],
    ) -> Trust {
        let leaf = &parsed[0];
        let mut anchors: Vec<TrustAnchor<'_>> = webpki_roots::TLS_SERVER_ROOTS.to_vec();
        let extra: Vec<CertificateDer<'_>> = extra_roots
            .iter()
            .map(|r| CertificateDer::from(r.as_slice()))
            .collect();
        for r in &extra {
            if let Ok(a) = webpki::anchor_from_trusted_cert(r) {
                anchors.push(a);
            }
        }
        let leaf_der = CertificateDer::from(chain[0].as_slice());
        let ee = match webpki::EndEntityCert::try_from(&leaf_der) {
            Ok(ee) => ee,
            Err(e) => {
                return Trust::Invalid {
                    reason: format!("the server certificate is not acceptable to webpki: {e:?}"),
                }
            }
        };
        let intermediates: Vec<CertificateDer<'_>> = chain[1..]
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        let verify = |t: i64| {
            ee.verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &anchors,
                &intermediates,
                at(t),
                webpki::KeyUsage::server_auth(),
                None,
                None,
            )
            .map(|p| anchor_subject(p.anchor()))
        };
        let mut result = verify(now);
        if let Err(webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }) =
            result
        {
            // Expiry is tls.cert_expiry's business: ask again at a time
            // inside the server certificate's validity.
            let mid = leaf.not_before + (leaf.not_after - leaf.not_before) / 2;
            result = verify(mid);
        }
        match result {
            Ok(root) => Trust::Trusted { root },
            Err(webpki::Error::UnknownIssuer) => {
                if leaf.self_signed {
                    return Trust::SelfSigned;
                }
                // Follow the presented certificates from the leaf upwards.
                let mut top = leaf;
                for _ in 0..parsed.len() {
                    match parsed[1..]
                        .iter()
                        .find(|c| c.subject == top.issuer && !std::ptr::eq(*c, top))
                    {
                        Some(next) if !next.self_signed => top = next,
                        Some(root) => {
                            return Trust::UntrustedRoot {
                                root: root.subject.clone(),
                            }
                        }
                        None => break,
                    }
                }
                Trust::Incomplete {
                    missing_issuer: top.issuer.clone(),
                }
            }
            Err(e) => Trust::Invalid {
                reason: describe(&e),
            },
        }
    }
}

#[cfg(all(test, feature = "tls"))]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_reported_not_fatal() {
        let r = analyze(&[b"not a certificate".to_vec()], "mail.example.org", 0, &[]);
        assert!(r.chain.is_empty());
        assert_eq!(r.unparsable.len(), 1);
        assert!(matches!(r.trust, Trust::Invalid { .. }));
        let r = analyze(&[], "mail.example.org", 0, &[]);
        assert!(matches!(r.trust, Trust::Invalid { .. }));
    }
}
