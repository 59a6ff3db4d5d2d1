//! DKIM key records (RFC 6376 §3.6.1), parsed strictly: what a verifier
//! would accept, and what it would make of the key.
//!
//! The tag-list grammar is RFC 6376 §3.2: `name=value` pairs separated by
//! `;`, whitespace (FWS) allowed around names and values, tag names
//! case-sensitive, a duplicate tag invalidates the whole record. `v=`, if
//! present, must be the first tag and be `DKIM1`. Unknown tags are ignored.
//! One leniency, documented: an empty tag-spec (`;;`) is skipped rather
//! than rejected — the ABNF forbids it, but verifiers accept it, and calling
//! a working key unusable would mislead.
//!
//! The key's type and size come from its bytes: an RSA `p=` is a DER
//! SubjectPublicKeyInfo (what `opendkim-genkey` publishes) or, as RFC 6376's
//! text literally says, a bare PKCS#1 RSAPublicKey — both are read; an
//! Ed25519 `p=` is the raw 32-byte key (RFC 8463 §4.2).

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use spki::ObjectIdentifier;
use thiserror::Error;

/// `rsaEncryption` (RFC 8017 appendix C).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `id-Ed25519` (RFC 8410).
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// RFC 6376's base64string: padding is optional in its grammar.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The `k=` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa,
    Ed25519,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa => "rsa",
            KeyType::Ed25519 => "ed25519",
        }
    }
}

/// How an RSA key's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaEncoding {
    /// A SubjectPublicKeyInfo (RFC 5280), what nearly everyone publishes.
    Spki,
    /// A bare PKCS#1 RSAPublicKey (RFC 8017 §A.1.1).
    Pkcs1,
}

/// The key a record publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKey {
    /// An empty `p=`: the key was revoked (RFC 6376 §3.6.1).
    Revoked,
    Rsa {
        bits: u32,
        encoding: RsaEncoding,
    },
    Ed25519,
}

impl PublicKey {
    /// Plain description, e.g. "RSA 2048 bits".
    pub fn describe(&self) -> String {
        match self {
            PublicKey::Revoked => "revoked (empty p=)".into(),
            PublicKey::Rsa { bits, .. } => format!("RSA {bits} bits"),
            PublicKey::Ed25519 => "Ed25519".into(),
        }
    }
}

/// A DKIM key record a verifier would accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The tags in the record's order (name, value with FWS kept).
    pub tags: Vec<(String, String)>,
    /// `v=DKIM1` was present.
    pub versioned: bool,
    pub key_type: KeyType,
    pub key: PublicKey,
    /// `t=` flags, lower-cased (`y`: testing, `s`: strict; others ignored).
    pub flags: Vec<String>,
    /// `h=`: acceptable hash algorithms, if restricted.
    pub hashes: Option<Vec<String>>,
    /// `s=`: service types, if restricted.
    pub services: Option<Vec<String>>,
    /// `n=`: notes for humans.
    pub notes: Option<String>,
}

impl KeyRecord {
    /// `t=y`: the domain is testing DKIM; verifiers may treat failures as
    /// if the mail were unsigned.
    pub fn testing(&self) -> bool {
        self.flags.iter().any(|f| f == "y")
    }

    /// `t=s`: the signing domain must equal the `i=` domain.
    pub fn strict(&self) -> bool {
        self.flags.iter().any(|f| f == "s")
    }

    /// The record as it would read with the `y` flag removed.
    pub fn without_testing_flag(&self) -> String {
        let mut parts = Vec::new();
        for (name, value) in &self.tags {
            if name == "t" {
                let kept: Vec<&str> = value
                    .split(':')
                    .map(|f| f.trim())
                    .filter(|f| !f.eq_ignore_ascii_case("y"))
                    .collect();
                if !kept.is_empty() {
                    parts.push(format!("t={}", kept.join(":")));
                }
                continue;
            }
            let v: String = if name == "p" {
                value.chars().filter(|c| !c.is_ascii_whitespace()).collect()
            } else {
                value.clone()
            };
            parts.push(format!("{name}={v}"));
        }
        parts.join("; ")
    }
}

/// Why a record cannot be used by a verifier.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    #[error("the tag list is malformed: {0}")]
    Syntax(String),
    #[error("the tag {0}= appears more than once, which makes the whole record invalid")]
    DuplicateTag(String),
    #[error("v=DKIM1 is not the first tag (RFC 6376 §3.6.1 requires it first)")]
    VersionNotFirst,
    #[error("v={0} is not DKIM1, so verifiers discard the record")]
    BadVersion(String),
    #[error("there is no p= tag (the public key)")]
    MissingKey,
    #[error("k={0} is not a key type verifiers know (rsa or ed25519)")]
    UnknownKeyType(String),
    #[error("p= is not valid base64 ({0})")]
    BadBase64(String),
    #[error("{0}")]
    BadKey(String),
    #[error("s={0} does not include email or *, so the key may not be used for mail")]
    NotForEmail(String),
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// RFC 6376 §3.2 VALCHAR: printable ASCII except `;`.
fn is_valchar(c: char) -> bool {
    matches!(c, '\x21'..='\x3a' | '\x3c'..='\x7e')
}

/// Splits an RFC 6376 §3.2 tag-list into (name, value) pairs, values with
/// surrounding whitespace removed.
pub fn tag_list(text: &str) -> Result<Vec<(String, String)>, RecordError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for spec in text.split(';') {
        if spec.chars().all(is_ws) {
            continue;
        }
        let Some((name, value)) = spec.split_once('=') else {
            return Err(RecordError::Syntax(format!(
                "{:?} is not of the form name=value",
                spec.trim_matches(is_ws)
            )));
        };
        let name = name.trim_matches(is_ws);
        let mut chars = name.chars();
        let name_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name_ok {
            return Err(RecordError::Syntax(format!(
                "{name:?} is not a valid tag name"
            )));
        }
        let value = value.trim_matches(is_ws);
        if let Some(bad) = value.chars().find(|&c| !is_valchar(c) && !is_ws(c)) {
            return Err(RecordError::Syntax(format!(
                "the value of {name}= contains the character {:?}",
                bad
            )));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(RecordError::DuplicateTag(name.into()));
        }
        out.push((name.into(), value.into()));
    }
    Ok(out)
}

/// Whether a TXT string found at a selector is meant as a DKIM key record:
/// it starts with `v=DKIM1`, or it has a `p=` tag. A record starting with
/// another `v=` (an SPF record, say) is not (RFC 6376 §3.6.1: discard it).
pub fn looks_like_key_record(text: &str) -> bool {
    let mut specs = text
        .split(';')
        .filter(|s| !s.chars().all(is_ws))
        .filter_map(|s| s.split_once('='))
        .map(|(n, v)| (n.trim_matches(is_ws), v.trim_matches(is_ws)));
    let Some((first, value)) = specs.next() else {
        return false;
    };
    if first == "v" {
        return value.eq_ignore_ascii_case("DKIM1");
    }
    first == "p" || specs.any(|(n, _)| n == "p")
}

/// Parses a key record (the TXT strings already joined).
pub fn parse_key_record(text: &str) -> Result<KeyRecord, RecordError> {
    let tags = tag_list(text)?;
    let get = |k: &str| tags.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let versioned = match get("v") {
        None => false,
        Some(v) => {
            if !v.eq_ignore_ascii_case("DKIM1") {
                return Err(RecordError::BadVersion(v.into()));
            }
            if tags.first().map(|(n, _)| n.as_str()) != Some("v") {
                return Err(RecordError::VersionNotFirst);
            }
            true
        }
    };
    let key_type = match get("k") {
        None => KeyType::Rsa,
        Some(k) if k.eq_ignore_ascii_case("rsa") => KeyType::Rsa,
        Some(k) if k.eq_ignore_ascii_case("ed25519") => KeyType::Ed25519,
        Some(k) => return Err(RecordError::UnknownKeyType(k.into())),
    };
    let services = get("s").map(colon_list);
    if let Some(s) = &services {
        if !s.iter().any(|x| x == "*" || x == "email") {
            return Err(RecordError::NotForEmail(s.join(":")));
        }
    }
    let p = get("p").ok_or(RecordError::MissingKey)?;
    let key = decode_key(key_type, p)?;
    Ok(KeyRecord {
        versioned,
        key_type,
        key,
        flags: get("t").map(colon_list).unwrap_or_default(),
        hashes: get("h").map(colon_list),
        services,
        notes: get("n").map(str::to_string),
        tags,
    })
}

/// A colon-separated list (`h=`, `s=`, `t=`), lower-cased, whitespace dropped.
fn colon_list(v: &str) -> Vec<String> {
    v.split(':')
        .map(|x| x.trim_matches(is_ws).to_ascii_lowercase())
        .filter(|x| !x.is_empty())
        .collect()
}

/// Decodes `p=` for the given key type. An empty value is a revoked key.
pub fn decode_key(key_type: KeyType, p: &str) -> Result<PublicKey, RecordError> {
    let compact: String = p.chars().filter(|&c| !is_ws(c)).collect();
    if compact.is_empty() {
        return Ok(PublicKey::Revoked);
    }
    let der = BASE64
        .decode(compact.as_bytes())
        .map_err(|e| RecordError::BadBase64(e.to_string()))?;
    match key_type {
        KeyType::Rsa => rsa_key(&der),
        KeyType::Ed25519 => ed25519_key(&der),
    }
}

fn rsa_key(der: &[u8]) -> Result<PublicKey, RecordError> {
    if let Ok(info) = spki::SubjectPublicKeyInfoRef::try_from(der) {
        let oid = info.algorithm.oid;
        if oid == ED25519 {
            return Err(RecordError::BadKey(
                "p= holds an Ed25519 key but the record says k=rsa (the default); publish \
                 k=ed25519 with the raw 32-byte key"
                    .into(),
            ));
        }
        if oid != RSA_ENCRYPTION {
            return Err(RecordError::BadKey(format!(
                "p= holds a key of algorithm {oid}, not RSA"
            )));
        }
        let Some(bytes) = info.subject_public_key.as_bytes() else {
            return Err(RecordError::BadKey(
                "the RSA key's bit string is not whole bytes".into(),
            ));
        };
        return rsa_bits(bytes).map(|bits| PublicKey::Rsa {
            bits,
            encoding: RsaEncoding::Spki,
        });
    }
    rsa_bits(der)
        .map(|bits| PublicKey::Rsa {
            bits,
            encoding: RsaEncoding::Pkcs1,
        })
        .map_err(|_| {
            RecordError::BadKey(
                "p= is neither a DER SubjectPublicKeyInfo nor a PKCS#1 RSAPublicKey".into(),
            )
        })
}

/// Size of the modulus of a DER RSAPublicKey, in bits.
fn rsa_bits(der: &[u8]) -> Result<u32, RecordError> {
    use pkcs1::der::Decode;
    let key = pkcs1::RsaPublicKey::<pkcs1::UintRef<'_>>::from_der(der)
        .map_err(|e| RecordError::BadKey(format!("the RSA key does not decode: {e}")))?;
    let n = key.modulus.as_bytes();
    let Some(&top) = n.first() else {
        return Err(RecordError::BadKey("the RSA modulus is zero".into()));
    };
    if key.public_exponent.as_bytes().is_empty() {
        return Err(RecordError::BadKey("the RSA exponent is zero".into()));
    }
    let bits = (n.len() as u64 - 1) * 8 + u64::from(8 - top.leading_zeros());
    u32::try_from(bits).map_err(|_| RecordError::BadKey("the RSA modulus is absurdly long".into()))
}

fn ed25519_key(raw: &[u8]) -> Result<PublicKey, RecordError> {
    if raw.len() == 32 {
        return Ok(PublicKey::Ed25519);
    }
    if spki::SubjectPublicKeyInfoRef::try_from(raw).is_ok_and(|i| i.algorithm.oid == ED25519) {
        return Err(RecordError::BadKey(
            "p= is an Ed25519 SubjectPublicKeyInfo; RFC 8463 §4.2 requires the raw 32-byte key \
             (the last 32 bytes of that structure)"
                .into(),
        ));
    }
    Err(RecordError::BadKey(format!(
        "an Ed25519 key is 32 bytes, p= decodes to {}",
        raw.len()
    )))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // The files hold base64 without a trailing newline (`base64 -w0`).
    macro_rules! key {
        ($f:literal) => {
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dkim/", $f))
        };
    }
    pub const RSA512: &str = key!("rsa512.spki.b64");
    pub const RSA1023: &str = key!("rsa1023.spki.b64");
    pub const RSA1024: &str = key!("rsa1024.spki.b64");
    pub const RSA2048: &str = key!("rsa2048.spki.b64");
    pub const RSA4096: &str = key!("rsa4096.spki.b64");
    pub const RSA512_PKCS1: &str = key!("rsa512.pkcs1.b64");
    pub const RSA1024_PKCS1: &str = key!("rsa1024.pkcs1.b64");
    pub const RSA2048_PKCS1: &str = key!("rsa2048.pkcs1.b64");
    pub const RSA4096_PKCS1: &str = key!("rsa4096.pkcs1.b64");
    pub const ED_RAW: &str = key!("ed25519.raw.b64");
    pub const ED_SPKI: &str = key!("ed25519.spki.b64");

    fn key_of(text: &str) -> PublicKey {
        parse_key_record(text).unwrap().key
    }

    #[test]
    fn rsa_sizes_come_from_the_modulus() {
        for (b64, bits) in [
            (RSA512, 512),
            (RSA1023, 1023),
            (RSA1024, 1024),
            (RSA2048, 2048),
            (RSA4096, 4096),
        ] {
            assert_eq!(
                key_of(&format!("v=DKIM1; k=rsa; p={b64}")),
                PublicKey::Rsa {
                    bits,
                    encoding: RsaEncoding::Spki
                }
            );
        }
        for (b64, bits) in [
            (RSA512_PKCS1, 512),
            (RSA1024_PKCS1, 1024),
            (RSA2048_PKCS1, 2048),
            (RSA4096_PKCS1, 4096),
        ] {
            assert_eq!(
                key_of(&format!("p={b64}")),
                PublicKey::Rsa {
                    bits,
                    encoding: RsaEncoding::Pkcs1
                }
            );
        }
    }

    #[test]
    fn whitespace_and_folding_inside_p_are_allowed() {
        let folded: String = RSA2048
            .as_bytes()
            .chunks(60)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" \r\n\t");
        let r = parse_key_record(&format!(" v = DKIM1 ;\tk=rsa ; p= {folded} ;")).unwrap();
        assert_eq!(r.key.describe(), "RSA 2048 bits");
        assert!(r.versioned);
        // Padding is optional in RFC 6376's base64string.
        let unpadded = RSA512.trim_end_matches('=');
        assert_ne!(unpadded, RSA512, "test key must have padding");
        assert_eq!(key_of(&format!("p={unpadded}")).describe(), "RSA 512 bits");
    }

    #[test]
    fn ed25519_is_the_raw_key() {
        assert_eq!(
            key_of(&format!("v=DKIM1; k=ed25519; p={ED_RAW}")),
            PublicKey::Ed25519
        );
        assert_eq!(
            key_of(&format!("k=ED25519; p={ED_RAW}")),
            PublicKey::Ed25519
        );
        let e = parse_key_record(&format!("v=DKIM1; k=ed25519; p={ED_SPKI}")).unwrap_err();
        assert!(e.to_string().contains("raw 32-byte"), "{e}");
        // The Ed25519 key published without k=: verifiers take it for RSA.
        let e = parse_key_record(&format!("v=DKIM1; p={ED_SPKI}")).unwrap_err();
        assert!(e.to_string().contains("k=ed25519"), "{e}");
        // An RSA key labelled ed25519.
        let e = parse_key_record(&format!("k=ed25519; p={RSA1024}")).unwrap_err();
        assert!(e.to_string().contains("32 bytes"), "{e}");
    }

    #[test]
    fn empty_p_is_revoked() {
        assert_eq!(key_of("v=DKIM1; p="), PublicKey::Revoked);
        assert_eq!(key_of("v=DKIM1; k=rsa; p= ; t=y"), PublicKey::Revoked);
    }

    #[test]
    fn flags_and_optional_tags() {
        let r = parse_key_record(&format!(
            "v=DKIM1; h=sha256:SHA1; k=rsa; s=email; t=y:s:x; n=Rotated 2026; p={RSA2048}; \
             foo=bar"
        ))
        .unwrap();
        assert!(r.testing() && r.strict());
        assert_eq!(
            r.hashes.as_deref(),
            Some(&["sha256".into(), "sha1".into()][..])
        );
        assert_eq!(r.services.as_deref(), Some(&["email".into()][..]));
        assert_eq!(r.notes.as_deref(), Some("Rotated 2026"));
        let fixed = r.without_testing_flag();
        assert!(fixed.contains("t=s:x") && !fixed.contains("t=y"), "{fixed}");
        let again = parse_key_record(&fixed).unwrap();
        assert!(!again.testing());
        assert_eq!(again.key, r.key);
        let only_y = parse_key_record(&format!("v=DKIM1; t=y; p={RSA1024}")).unwrap();
        assert!(!only_y.without_testing_flag().contains("t="));
        assert!(!parse_key_record(&format!("p={RSA1024}")).unwrap().testing());
        assert!(parse_key_record(&format!("s=*; p={RSA1024}")).is_ok());
    }

    #[test]
    fn invalid_records() {
        let cases = [
            (
                format!("v=DKIM1; p={RSA1024}; p={RSA2048}"),
                "more than once",
            ),
            (format!("k=rsa; v=DKIM1; p={RSA1024}"), "first"),
            (format!("v=DKIM2; p={RSA1024}"), "not DKIM1"),
            ("v=DKIM1; k=rsa".to_string(), "no p="),
            (format!("v=DKIM1; k=dsa; p={RSA1024}"), "dsa"),
            ("v=DKIM1; p=MIGfMA0G*CSqGSIb3".to_string(), "base64"),
            ("v=DKIM1; p=AAAA".to_string(), "neither"),
            (format!("v=DKIM1; s=tlsrpt; p={RSA1024}"), "email"),
            (format!("v=DKIM1; p={RSA1024}; 1x=2"), "tag name"),
            (format!("v=DKIM1; p={RSA1024}; note"), "name=value"),
            (format!("v=DKIM1; n=caf\u{e9}; p={RSA1024}"), "character"),
        ];
        for (text, want) in cases {
            let e = parse_key_record(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
        // Tag names are case-sensitive: P= is not p=.
        assert_eq!(
            parse_key_record(&format!("v=DKIM1; P={RSA1024}")),
            Err(RecordError::MissingKey)
        );
        // Empty tag-specs are tolerated; a trailing ';' is allowed.
        assert!(parse_key_record(&format!("v=DKIM1;; p={RSA1024};")).is_ok());
    }

    #[test]
    fn which_texts_are_key_records() {
        assert!(looks_like_key_record("v=DKIM1; p="));
        assert!(looks_like_key_record("k=rsa; p=abc"));
        assert!(looks_like_key_record("p=abc"));
        assert!(!looks_like_key_record("v=spf1 -all"));
        assert!(!looks_like_key_record("v=DKIM2; p=abc"));
        assert!(!looks_like_key_record("google-site-verification=abc"));
        assert!(!looks_like_key_record(""));
    }
}
