//! The body of the `x509_chain` fuzz target, shared by the cargo-fuzz
//! target (`fuzz/fuzz_targets/x509_chain.rs`) and the stable test
//! `shared/tests/protocol_fuzz.rs`.
//!
//! Input: a certificate chain as a server presents it. Byte 0 holds flags
//! (bit 0: the last certificate is also given as an extra trusted root, as
//! for a test bed's CA); then certificates, each behind a big-endian u16
//! length; bytes left over after the last complete one are one more
//! certificate. The chain goes through the x509-parser/webpki wrapper
//! (`tls::cert::analyze`), the four certificate rules, DANE matching and
//! the renewal reminder. Asserts: no panic; every certificate is either
//! summarised or reported unparsable; the chain rule never passes an
//! untrusted chain; DANE-EE with the leaf's own SHA-256 always matches.

use mailaudit_core::dns::dane::{match_chain, DaneMatch, Tlsa};
use mailaudit_core::tls::cert::{analyze, Trust};
use mailaudit_core::tls::{ics, rules};
use mailaudit_core::Status;

const HOST: &str = "mail.example.test";
/// 2026-11-29T12:00:00Z: the fuzz runs judge at a fixed time.
const NOW: i64 = 1_795_953_600;

pub fn split(data: &[u8]) -> (u8, Vec<Vec<u8>>) {
    let Some((&flags, mut rest)) = data.split_first() else {
        return (0, Vec::new());
    };
    let mut chain = Vec::new();
    while rest.len() >= 2 && chain.len() < 64 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        if rest.len() < 2 + n {
            break;
        }
        chain.push(rest[2..2 + n].to_vec());
        rest = &rest[2 + n..];
    }
    if !rest.is_empty() {
        chain.push(rest.to_vec());
    }
    (flags, chain)
}

/// The inverse of [`split`], for seeds.
#[allow(dead_code)] // not every user of this harness builds inputs
pub fn join(flags: u8, chain: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![flags];
    for c in chain {
        v.extend_from_slice(&(c.len() as u16).to_be_bytes());
        v.extend_from_slice(c);
    }
    v
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| s.get(2 * i..2 * i + 2))
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

pub fn run(data: &[u8]) {
    let (flags, chain) = split(data);
    let roots: Vec<Vec<u8>> = match chain.last() {
        Some(last) if flags & 1 == 1 => vec![last.clone()],
        _ => Vec::new(),
    };
    let r = analyze(&chain, HOST, NOW, &roots);
    assert!(r.chain.len() + r.unparsable.len() <= chain.len());
    for c in &r.chain {
        let _ = ics::expiry_ics(c, HOST, NOW);
        for n in &c.dns_names {
            let _ = rules::name_matches(n, HOST);
        }
        assert_eq!(c.sha256.len(), 64);
    }
    let findings = [
        rules::judge_cert_expiry(Ok(&r), NOW),
        rules::judge_cert_name(Ok(&r), flags & 2 == 2),
        rules::judge_cert_chain(Ok(&r)),
        rules::judge_cert_key(Ok(&r)),
    ];
    if !matches!(r.trust, Trust::Trusted { .. }) {
        assert_ne!(findings[2].status, Status::Pass, "{:?}", r.trust);
    }
    if r.leaf().is_none() {
        for f in &findings {
            assert_ne!(f.status, Status::Pass, "{}: pass without a leaf", f.id);
        }
    }

    // DANE: the leaf's own full-certificate SHA-256 (3 0 1) always matches.
    let mut tlsa: Vec<Tlsa> = Vec::new();
    if let Some(leaf) = r.leaf() {
        tlsa.push(Tlsa {
            usage: 3,
            selector: 0,
            matching: 1,
            data: unhex(&leaf.sha256),
        });
    }
    for usage in [2u8, 3] {
        for selector in [0u8, 1] {
            for matching in [0u8, 1, 2] {
                tlsa.push(Tlsa {
                    usage,
                    selector,
                    matching,
                    data: chain.first().cloned().unwrap_or_default(),
                });
            }
        }
    }
    let m = match_chain(&tlsa, &chain, HOST);
    if r.leaf().is_some() && r.unparsable.is_empty() {
        assert!(matches!(m, DaneMatch::Matched { .. }), "{m:?}");
    }
}
