//! Hand-built ClientHellos and a parser for what a server answers to them.
//!
//! Why by hand: to ask "does this server still accept SSLv3, TLS 1.0 or
//! TLS 1.1?" or "would it agree to RC4?" a client has to *offer* those
//! things, and rustls (rightly) cannot: it speaks only TLS 1.2 and 1.3 with
//! modern suites. A probe needs no more than the first flight anyway — one
//! ClientHello out, the ServerHello (or an alert, or a close) back — so no
//! key exchange is ever completed and nothing here is cryptography. The
//! [`crate::tls::stream`] module (rustls) does the real handshake.
//!
//! Everything the server sends is untrusted: [`parse_answer`] never panics
//! and never buffers more than [`MAX_ANSWER`] bytes.

/// Protocol versions as they appear on the wire.
pub const SSL3: u16 = 0x0300;
pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;
pub const TLS13: u16 = 0x0304;

/// A server's first flight larger than this is not a plausible answer to a
/// ClientHello before the ServerHello is complete.
pub const MAX_ANSWER: usize = 32 * 1024;

/// The version's usual name ("TLS 1.2").
pub fn version_name(v: u16) -> String {
    match v {
        0x0002 => "SSLv2".into(),
        SSL3 => "SSLv3".into(),
        TLS10 => "TLS 1.0".into(),
        TLS11 => "TLS 1.1".into(),
        TLS12 => "TLS 1.2".into(),
        TLS13 => "TLS 1.3".into(),
        v => format!("version 0x{v:04x}"),
    }
}

/// What kind of weakness a cipher suite has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weakness {
    /// No encryption at all.
    Null,
    /// 1990s export-grade (40/56-bit) cryptography.
    Export,
    /// Single DES (56-bit).
    Des,
    /// RC4 stream cipher (RFC 7465 prohibits it).
    Rc4,
    /// Triple DES (64-bit block: Sweet32).
    TripleDes,
    /// Anonymous key exchange: no server authentication at all.
    Anonymous,
}

impl Weakness {
    pub const ALL: [Weakness; 6] = [
        Weakness::Null,
        Weakness::Export,
        Weakness::Des,
        Weakness::Rc4,
        Weakness::TripleDes,
        Weakness::Anonymous,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Weakness::Null => "NULL (no encryption)",
            Weakness::Export => "EXPORT",
            Weakness::Des => "single DES",
            Weakness::Rc4 => "RC4",
            Weakness::TripleDes => "3DES",
            Weakness::Anonymous => "anonymous (no authentication)",
        }
    }
}

use Weakness::*;

/// Every cipher suite this module knows: (IANA id, IANA name, weaknesses).
/// Strong suites have no weaknesses. PSK/SRP/Kerberos suites are left out:
/// a probe cannot use them without credentials.
pub const SUITES: &[(u16, &str, &[Weakness])] = &[
    // TLS 1.3
    (0x1301, "TLS_AES_128_GCM_SHA256", &[]),
    (0x1302, "TLS_AES_256_GCM_SHA384", &[]),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256", &[]),
    // TLS 1.2 AEAD
    (0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", &[]),
    (0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", &[]),
    (0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", &[]),
    (0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", &[]),
    (0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", &[]),
    (0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", &[]),
    (0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", &[]),
    (0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", &[]),
    (0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", &[]),
    (0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", &[]),
    (0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", &[]),
    (0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", &[]),
    (0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", &[]),
    // CBC
    (0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", &[]),
    (0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", &[]),
    (0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", &[]),
    (0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", &[]),
    (0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", &[]),
    (0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", &[]),
    (0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", &[]),
    (0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", &[]),
    (0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", &[]),
    (0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", &[]),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", &[]),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", &[]),
    (0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", &[]),
    (0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", &[]),
    (0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", &[]),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", &[]),
    (0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", &[]),
    (0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", &[]),
    // NULL
    (0x0001, "TLS_RSA_WITH_NULL_MD5", &[Null]),
    (0x0002, "TLS_RSA_WITH_NULL_SHA", &[Null]),
    (0x003b, "TLS_RSA_WITH_NULL_SHA256", &[Null]),
    (0xc001, "TLS_ECDH_ECDSA_WITH_NULL_SHA", &[Null]),
    (0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", &[Null]),
    (0xc00b, "TLS_ECDH_RSA_WITH_NULL_SHA", &[Null]),
    (0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA", &[Null]),
    (0xc015, "TLS_ECDH_anon_WITH_NULL_SHA", &[Null, Anonymous]),
    // EXPORT
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", &[Export, Rc4]),
    (0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", &[Export]),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", &[Export]),
    (0x000b, "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA", &[Export]),
    (0x000e, "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA", &[Export]),
    (0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", &[Export]),
    (0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", &[Export]),
    (
        0x0017,
        "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5",
        &[Export, Rc4, Anonymous],
    ),
    (
        0x0019,
        "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA",
        &[Export, Anonymous],
    ),
    (0x0062, "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", &[Export]),
    (0x0064, "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA", &[Export, Rc4]),
    // single DES
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA", &[Des]),
    (0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA", &[Des]),
    (0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", &[Des]),
    (0x001a, "TLS_DH_anon_WITH_DES_CBC_SHA", &[Des, Anonymous]),
    // RC4
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5", &[Rc4]),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA", &[Rc4]),
    (0xc002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA", &[Rc4]),
    (0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", &[Rc4]),
    (0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA", &[Rc4]),
    (0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", &[Rc4]),
    (0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", &[Rc4, Anonymous]),
    (0xc016, "TLS_ECDH_anon_WITH_RC4_128_SHA", &[Rc4, Anonymous]),
    // 3DES
    (0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", &[TripleDes]),
    (0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", &[TripleDes]),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", &[TripleDes]),
    (0xc003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA", &[TripleDes]),
    (
        0xc008,
        "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
        &[TripleDes],
    ),
    (0xc00d, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA", &[TripleDes]),
    (0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", &[TripleDes]),
    (
        0x001b,
        "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA",
        &[TripleDes, Anonymous],
    ),
    (
        0xc017,
        "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA",
        &[TripleDes, Anonymous],
    ),
    // anonymous
    (0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", &[Anonymous]),
    (0x003a, "TLS_DH_anon_WITH_AES_256_CBC_SHA", &[Anonymous]),
    (0x006c, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", &[Anonymous]),
    (0x006d, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", &[Anonymous]),
    (0x00a6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", &[Anonymous]),
    (0x00a7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", &[Anonymous]),
    (
        0x0046,
        "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA",
        &[Anonymous],
    ),
    (
        0x0089,
        "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA",
        &[Anonymous],
    ),
    (0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", &[Anonymous]),
    (0xc019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", &[Anonymous]),
];

/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746), offered on SSLv3 hellos
/// instead of the extension.
const SCSV_RENEGOTIATION: u16 = 0x00ff;

/// The IANA name of a suite, or its number.
pub fn suite_name(id: u16) -> String {
    SUITES
        .iter()
        .find(|(s, _, _)| *s == id)
        .map(|(_, n, _)| n.to_string())
        .unwrap_or_else(|| format!("suite 0x{id:04x}"))
}

/// The weaknesses of a suite (empty for strong or unknown suites).
pub fn weaknesses(id: u16) -> &'static [Weakness] {
    SUITES
        .iter()
        .find(|(s, _, _)| *s == id)
        .map(|(_, _, w)| *w)
        .unwrap_or(&[])
}

/// True for AEAD suites (GCM, CCM, ChaCha20-Poly1305): not CBC, not a stream cipher.
pub fn is_aead(id: u16) -> bool {
    let n = suite_name(id);
    n.contains("_GCM_") || n.ends_with("_CCM") || n.contains("CHACHA20") || n.contains("_CCM_")
}

/// The strong suites for TLS 1.3.
pub const TLS13_SUITES: &[u16] = &[0x1301, 0x1302, 0x1303];

/// Suites offered when asking whether TLS 1.2 is accepted: modern first,
/// AEAD before CBC, nothing weak.
pub fn tls12_suites() -> Vec<u16> {
    SUITES
        .iter()
        .filter(|(id, _, w)| w.is_empty() && !TLS13_SUITES.contains(id))
        .map(|(id, _, _)| *id)
        .collect()
}

/// The AEAD suites for TLS 1.2 (to tell "CBC only" apart).
pub fn aead_suites() -> Vec<u16> {
    tls12_suites().into_iter().filter(|s| is_aead(*s)).collect()
}

/// Suites offered when asking whether a legacy version (SSLv3, TLS 1.0,
/// 1.1) is accepted: everything those versions could agree on, weak
/// ones included — the question is about the version, not the suite.
pub fn legacy_suites() -> Vec<u16> {
    SUITES
        .iter()
        .filter(|(id, _, w)| {
            !TLS13_SUITES.contains(id)
                && !is_aead(*id)
                && !w.contains(&Null)
                && !w.contains(&Anonymous)
                && !suite_name(*id).ends_with("SHA256")
                && !suite_name(*id).ends_with("SHA384")
        })
        .map(|(id, _, _)| *id)
        .collect()
}

/// Every suite with one of `kinds`.
pub fn weak_suites(kinds: &[Weakness]) -> Vec<u16> {
    SUITES
        .iter()
        .filter(|(_, _, w)| w.iter().any(|k| kinds.contains(k)))
        .map(|(id, _, _)| *id)
        .collect()
}

/// What to offer in one ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The highest version offered (`TLS13` sends the supported_versions
    /// extension with only TLS 1.3 in it).
    pub version: u16,
    pub suites: Vec<u16>,
    /// SNI; left out for IP literals.
    pub server_name: Option<String>,
}

fn put_u16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_be_bytes());
}

/// Appends `body` behind a big-endian length of `len_bytes` bytes.
fn put_vec(v: &mut Vec<u8>, len_bytes: usize, body: &[u8]) {
    let len = body.len() as u32;
    v.extend_from_slice(&len.to_be_bytes()[4 - len_bytes..]);
    v.extend_from_slice(body);
}

fn ext(v: &mut Vec<u8>, kind: u16, body: &[u8]) {
    put_u16(v, kind);
    put_vec(v, 2, body);
}

/// The client random. A probe never completes a key exchange, so this
/// need not be secret; it is derived from the offer so that the bytes are
/// reproducible in tests (the engine has no random source of its own).
fn client_random(offer: &Offer) -> [u8; 32] {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(offer.version);
    for s in &offer.suites {
        x = x.rotate_left(7) ^ u64::from(*s);
    }
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_be_bytes());
    }
    out
}

/// The X25519 base point (u = 9): a valid public key, used as the probe's
/// key share. The server answers with its own share; nothing is derived.
const X25519_SHARE: [u8; 32] = {
    let mut k = [0u8; 32];
    k[0] = 9;
    k
};

/// A complete ClientHello record, ready to write to the connection.
pub fn client_hello(offer: &Offer) -> Vec<u8> {
    let tls13 = offer.version >= TLS13;
    let legacy_version = if tls13 { TLS12 } else { offer.version };
    let mut suites = offer.suites.clone();
    if offer.version == SSL3 {
        suites.push(SCSV_RENEGOTIATION);
    }

    let mut body = Vec::with_capacity(512);
    put_u16(&mut body, legacy_version);
    body.extend_from_slice(&client_random(offer));
    body.push(0); // no session id
    let mut cs = Vec::new();
    for s in &suites {
        put_u16(&mut cs, *s);
    }
    put_vec(&mut body, 2, &cs);
    put_vec(&mut body, 1, &[0]); // compression: null only

    if offer.version > SSL3 {
        let mut exts = Vec::new();
        if let Some(name) = offer
            .server_name
            .as_deref()
            .filter(|n| !n.is_empty() && n.parse::<std::net::IpAddr>().is_err())
        {
            let name = name.trim_end_matches('.').as_bytes();
            let mut entry = vec![0u8]; // host_name
            put_vec(&mut entry, 2, name);
            let mut list = Vec::new();
            put_vec(&mut list, 2, &entry);
            ext(&mut exts, 0x0000, &list);
        }
        // supported_groups: x25519, secp256r1, secp384r1, secp521r1, ffdhe2048
        let mut groups = Vec::new();
        for g in [0x001d, 0x0017, 0x0018, 0x0019, 0x0100] {
            put_u16(&mut groups, g);
        }
        let mut g = Vec::new();
        put_vec(&mut g, 2, &groups);
        ext(&mut exts, 0x000a, &g);
        ext(&mut exts, 0x000b, &[1, 0]); // ec_point_formats: uncompressed
        if offer.version >= TLS12 {
            // signature_algorithms
            let mut algs = Vec::new();
            for a in [
                0x0403, 0x0503, 0x0603, 0x0807, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
                0x0201, 0x0203,
            ] {
                put_u16(&mut algs, a);
            }
            let mut s = Vec::new();
            put_vec(&mut s, 2, &algs);
            ext(&mut exts, 0x000d, &s);
        }
        ext(&mut exts, 0x0017, &[]); // extended_master_secret
        ext(&mut exts, 0xff01, &[0]); // renegotiation_info, empty
        if tls13 {
            ext(&mut exts, 0x002b, &[2, 0x03, 0x04]); // supported_versions: TLS 1.3 only
            let mut share = Vec::new();
            put_u16(&mut share, 0x001d);
            put_vec(&mut share, 2, &X25519_SHARE);
            let mut shares = Vec::new();
            put_vec(&mut shares, 2, &share);
            ext(&mut exts, 0x0033, &shares); // key_share
            ext(&mut exts, 0x002d, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
        }
        put_vec(&mut body, 2, &exts);
    }

    let mut hs = vec![1u8]; // client_hello
    put_vec(&mut hs, 3, &body);
    let record_version = if offer.version == SSL3 { SSL3 } else { TLS10 };
    let mut rec = vec![22u8];
    put_u16(&mut rec, record_version);
    put_vec(&mut rec, 2, &hs);
    rec
}

/// The `random` of a HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The parts of a ServerHello a probe needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The negotiated version: supported_versions if present, else the
    /// legacy version field.
    pub version: u16,
    pub legacy_version: u16,
    pub cipher_suite: u16,
    pub compression: u8,
    /// A TLS 1.3 HelloRetryRequest (the server wants another key share;
    /// it has still chosen TLS 1.3 and a suite).
    pub retry_request: bool,
}

/// What a server said to a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Hello(ServerHello),
    /// A fatal alert (or close_notify) before any ServerHello.
    Alert {
        level: u8,
        description: u8,
    },
    /// The server closed the connection without a word.
    Closed,
    /// Not a TLS answer (plain text, a malformed record, SSLv2).
    NotTls(String),
}

/// Result of parsing the bytes received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse {
    NeedMore,
    Done(Answer),
}

/// The alert's RFC 8446/5246 name.
pub fn alert_name(d: u8) -> String {
    let n = match d {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        47 => "illegal_parameter",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        120 => "no_application_protocol",
        _ => return format!("alert {d}"),
    };
    format!("{n}({d})")
}

/// Parses a server's first flight: records until a complete ServerHello
/// or a fatal alert. Warning alerts before the ServerHello are skipped.
pub fn parse_answer(bytes: &[u8]) -> Parse {
    let mut hs: Vec<u8> = Vec::new();
    let mut rest = bytes;
    loop {
        if rest.is_empty() {
            return Parse::NeedMore;
        }
        let kind = rest[0];
        if kind & 0x80 != 0 && hs.is_empty() && rest.len() >= 3 && rest[2] == 4 {
            return Parse::Done(Answer::NotTls("SSLv2 ServerHello".into()));
        }
        if !(20..=23).contains(&kind) {
            return Parse::Done(Answer::NotTls(format!(
                "not a TLS record (starts with {:?})",
                printable(&rest[..rest.len().min(40)])
            )));
        }
        if rest.len() < 5 {
            return Parse::NeedMore;
        }
        if rest[1] != 3 && !(rest[1] == 0 && rest[2] == 0 && kind == 22) {
            // Record versions are 3.x; some stacks send 0.0 before the hello.
            return Parse::Done(Answer::NotTls(format!(
                "record version {}.{}",
                rest[1], rest[2]
            )));
        }
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if len > 16384 + 2048 {
            return Parse::Done(Answer::NotTls(format!("record of {len} bytes")));
        }
        if rest.len() < 5 + len {
            return Parse::NeedMore;
        }
        let body = &rest[5..5 + len];
        rest = &rest[5 + len..];
        match kind {
            21 => {
                if body.len() != 2 {
                    return Parse::Done(Answer::NotTls("malformed alert".into()));
                }
                let (level, description) = (body[0], body[1]);
                if level == 1 && description != 0 && hs.is_empty() {
                    continue; // a warning (e.g. unrecognized_name); go on
                }
                return Parse::Done(Answer::Alert { level, description });
            }
            22 => {
                hs.extend_from_slice(body);
                if hs.len() >= 4 {
                    if hs[0] != 2 {
                        return Parse::Done(Answer::NotTls(format!(
                            "handshake message {} before ServerHello",
                            hs[0]
                        )));
                    }
                    let mlen = u32::from_be_bytes([0, hs[1], hs[2], hs[3]]) as usize;
                    if mlen > MAX_ANSWER {
                        return Parse::Done(Answer::NotTls(format!("ServerHello of {mlen} bytes")));
                    }
                    if hs.len() >= 4 + mlen {
                        return Parse::Done(match server_hello(&hs[4..4 + mlen]) {
                            Some(h) => Answer::Hello(h),
                            None => Answer::NotTls("malformed ServerHello".into()),
                        });
                    }
                }
            }
            _ => {
                return Parse::Done(Answer::NotTls(format!(
                    "record type {kind} before ServerHello"
                )))
            }
        }
        if bytes.len() - rest.len() > MAX_ANSWER {
            return Parse::Done(Answer::NotTls("answer too long".into()));
        }
    }
}

/// A little reader over untrusted bytes: every take is checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
}

fn server_hello(body: &[u8]) -> Option<ServerHello> {
    let mut r = Reader(body);
    let legacy_version = r.u16()?;
    let random = r.take(32)?;
    let sid_len = usize::from(r.u8()?);
    if sid_len > 32 {
        return None;
    }
    r.take(sid_len)?;
    let cipher_suite = r.u16()?;
    let compression = r.u8()?;
    let mut version = legacy_version;
    if !r.0.is_empty() {
        let ext_len = usize::from(r.u16()?);
        let mut exts = Reader(r.take(ext_len)?);
        while !exts.0.is_empty() {
            let kind = exts.u16()?;
            let len = usize::from(exts.u16()?);
            let data = exts.take(len)?;
            if kind == 0x002b {
                if data.len() != 2 {
                    return None;
                }
                version = u16::from_be_bytes([data[0], data[1]]);
            }
        }
    }
    Some(ServerHello {
        version,
        legacy_version,
        cipher_suite,
        compression,
        retry_request: random == HRR_RANDOM,
    })
}

fn printable(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if (0x20..0x7f).contains(&c) {
                c as char
            } else {
                '.'
            }
        })
        .collect()
}

/// Test helpers shared with the probe tests.
#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// A ServerHello record as OpenSSL would send it.
    pub(crate) fn server_hello_record(version: u16, suite: u16, tls13: bool) -> Vec<u8> {
        let mut b = Vec::new();
        put_u16(&mut b, if tls13 { TLS12 } else { version });
        b.extend_from_slice(&[7u8; 32]);
        put_vec(&mut b, 1, &[1u8; 32]);
        put_u16(&mut b, suite);
        b.push(0);
        let mut exts = Vec::new();
        ext(&mut exts, 0xff01, &[0]);
        if tls13 {
            ext(&mut exts, 0x002b, &TLS13.to_be_bytes());
        }
        put_vec(&mut b, 2, &exts);
        let mut hs = vec![2u8];
        put_vec(&mut hs, 3, &b);
        let mut rec = vec![22, 3, 3];
        put_vec(&mut rec, 2, &hs);
        rec
    }

    /// (max version offered, suites, supported_versions) of a ClientHello
    /// record made by [`client_hello`].
    pub(crate) fn read_client_hello(rec: &[u8]) -> Option<(u16, Vec<u16>, Vec<u16>)> {
        let mut r = Reader(rec.get(9..)?);
        let legacy = r.u16()?;
        r.take(32)?;
        let sid = usize::from(r.u8()?);
        r.take(sid)?;
        let n = usize::from(r.u16()?);
        let mut cs = Reader(r.take(n)?);
        let mut suites = Vec::new();
        while let Some(s) = cs.u16() {
            suites.push(s);
        }
        let n = usize::from(r.u8()?);
        r.take(n)?;
        let mut versions = Vec::new();
        if let Some(n) = r.u16() {
            let mut ex = Reader(r.take(usize::from(n))?);
            while let Some(kind) = ex.u16() {
                let len = usize::from(ex.u16()?);
                let data = ex.take(len)?;
                if kind == 0x002b {
                    let mut d = Reader(data.get(1..)?);
                    while let Some(v) = d.u16() {
                        versions.push(v);
                    }
                }
            }
        }
        Some((legacy, suites, versions))
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn hello_is_well_formed() {
        for version in [SSL3, TLS10, TLS11, TLS12, TLS13] {
            let offer = Offer {
                version,
                suites: if version == TLS13 {
                    TLS13_SUITES.to_vec()
                } else {
                    legacy_suites()
                },
                server_name: Some("mail.example.org".into()),
            };
            let rec = client_hello(&offer);
            assert_eq!(rec[0], 22);
            let rlen = usize::from(u16::from_be_bytes([rec[3], rec[4]]));
            assert_eq!(rec.len(), 5 + rlen);
            assert_eq!(rec[5], 1);
            let hlen = u32::from_be_bytes([0, rec[6], rec[7], rec[8]]) as usize;
            assert_eq!(rlen, 4 + hlen);
            let body = &rec[9..];
            let legacy = u16::from_be_bytes([body[0], body[1]]);
            assert_eq!(legacy, version.min(TLS12));
            let mut r = Reader(&body[34..]);
            assert_eq!(r.u8(), Some(0));
            let cs = usize::from(r.u16().unwrap());
            r.take(cs).unwrap();
            assert_eq!(r.take(2), Some(&[1u8, 0][..]));
            if version == SSL3 {
                assert!(r.0.is_empty(), "SSLv3 hello carries no extensions");
            } else {
                let el = usize::from(r.u16().unwrap());
                assert_eq!(r.0.len(), el);
                let sni = b"mail.example.org";
                assert!(rec.windows(sni.len()).any(|w| w == sni));
            }
            assert_eq!(
                rec.windows(3).any(|w| w == [2, 3, 4]),
                version == TLS13,
                "supported_versions only on the TLS 1.3 hello"
            );
        }
    }

    #[test]
    fn no_sni_for_ip_literals() {
        let offer = Offer {
            version: TLS12,
            suites: tls12_suites(),
            server_name: Some("192.0.2.1".into()),
        };
        let rec = client_hello(&offer);
        assert!(!rec.windows(9).any(|w| w == b"192.0.2.1"));
    }

    #[test]
    fn parses_server_hello_alert_and_garbage() {
        let rec = server_hello_record(TLS12, 0xc02f, false);
        match parse_answer(&rec) {
            Parse::Done(Answer::Hello(h)) => {
                assert_eq!(h.version, TLS12);
                assert_eq!(h.cipher_suite, 0xc02f);
                assert!(!h.retry_request);
            }
            other => panic!("{other:?}"),
        }
        let rec13 = server_hello_record(TLS12, 0x1302, true);
        assert!(matches!(
            parse_answer(&rec13),
            Parse::Done(Answer::Hello(ServerHello {
                version: TLS13,
                legacy_version: TLS12,
                ..
            }))
        ));
        // Every prefix is "need more", never a wrong answer.
        for i in 0..rec.len() {
            assert_eq!(parse_answer(&rec[..i]), Parse::NeedMore, "prefix {i}");
        }
        // A ServerHello split over two records.
        let hs = &rec[5..];
        let mut split = vec![22, 3, 3, 0, 10];
        split.extend_from_slice(&hs[..10]);
        split.extend_from_slice(&[22, 3, 3]);
        split.extend_from_slice(&((hs.len() - 10) as u16).to_be_bytes());
        split.extend_from_slice(&hs[10..]);
        assert!(matches!(
            parse_answer(&split),
            Parse::Done(Answer::Hello(_))
        ));
        assert_eq!(
            parse_answer(&[21, 3, 1, 0, 2, 2, 40]),
            Parse::Done(Answer::Alert {
                level: 2,
                description: 40
            })
        );
        // A warning first, then the hello.
        let mut warn = vec![21, 3, 3, 0, 2, 1, 112];
        warn.extend_from_slice(&rec);
        assert!(matches!(parse_answer(&warn), Parse::Done(Answer::Hello(_))));
        assert!(matches!(
            parse_answer(b"500 5.5.1 command unrecognized\r\n"),
            Parse::Done(Answer::NotTls(_))
        ));
        assert!(matches!(
            parse_answer(&[22, 3, 3, 0xff, 0xff]),
            Parse::Done(Answer::NotTls(_))
        ));
    }

    #[test]
    fn hello_retry_request_is_recognised() {
        let mut rec = server_hello_record(TLS12, 0x1301, true);
        rec[11..43].copy_from_slice(&HRR_RANDOM);
        match parse_answer(&rec) {
            Parse::Done(Answer::Hello(h)) => {
                assert!(h.retry_request);
                assert_eq!(h.version, TLS13);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn suite_tables() {
        assert!(is_aead(0xc02f) && is_aead(0xcca8) && is_aead(0xc0ac));
        assert!(!is_aead(0xc013) && !is_aead(0x000a));
        assert_eq!(weaknesses(0x000a), &[TripleDes]);
        assert!(tls12_suites().iter().all(|s| weaknesses(*s).is_empty()));
        assert!(legacy_suites().contains(&0x000a) && legacy_suites().contains(&0xc013));
        assert!(
            !legacy_suites().contains(&0xc027),
            "SHA-256 CBC is TLS 1.2 only"
        );
        let ids: std::collections::HashSet<_> = SUITES.iter().map(|s| s.0).collect();
        assert_eq!(ids.len(), SUITES.len(), "duplicate suite id");
        for k in Weakness::ALL {
            assert!(!weak_suites(&[k]).is_empty(), "{k:?}");
        }
    }
}
