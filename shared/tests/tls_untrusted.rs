//! What a server answers to a ClientHello is untrusted: random bytes and
//! mutated ServerHellos/alerts never panic the parser or the probe, and a
//! mutated answer is never read past its end.

use mailaudit_core::net::{Conn, NetError};
use mailaudit_core::tls::hello::{self, parse_answer, Answer, Offer, Parse};
use mailaudit_core::tls::probe::{self, Verdict};

mod common;
use common::Rng;

/// A TLS 1.2 ServerHello (ECDHE-RSA-AES128-GCM) with renegotiation_info,
/// as OpenSSL sends it, followed by the start of a Certificate message.
fn server_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x5a; 32]);
    body.push(32);
    body.extend_from_slice(&[0x11; 32]);
    body.extend_from_slice(&[0xc0, 0x2f, 0x00]);
    body.extend_from_slice(&[0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00]);
    let mut hs = vec![2, 0, 0, body.len() as u8];
    hs.extend_from_slice(&body);
    hs.extend_from_slice(&[11, 0, 0x10, 0]); // Certificate header
    let mut rec = vec![22, 3, 3, 0, hs.len() as u8];
    rec.extend_from_slice(&hs);
    rec
}

#[test]
fn the_seed_parses() {
    match parse_answer(&server_hello()) {
        Parse::Done(Answer::Hello(h)) => {
            assert_eq!((h.version, h.cipher_suite), (hello::TLS12, 0xc02f))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn random_and_mutated_answers_never_panic() {
    let seeds = [
        server_hello(),
        vec![21, 3, 3, 0, 2, 2, 40],
        vec![21, 3, 1, 0, 2, 1, 112, 21, 3, 1, 0, 2, 2, 70],
        b"220 mail.example.org ESMTP\r\n".to_vec(),
    ];
    for seed in 0..20_000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let bytes = if seed % 4 == 0 {
            (0..rng.below(300)).map(|_| rng.next() as u8).collect()
        } else {
            let i = rng.below(seeds.len());
            rng.mutate(&seeds[i])
        };
        // Every prefix too: a server that stops mid-record.
        let cut = rng.below(bytes.len() + 1);
        for b in [&bytes[..], &bytes[..cut]] {
            if let Parse::Done(Answer::Hello(h)) = parse_answer(b) {
                let _ = hello::version_name(h.version);
                let _ = hello::suite_name(h.cipher_suite);
            }
        }
    }
}

/// A peer that answers any hello with fixed bytes, in random-sized pieces.
struct Peer {
    bytes: Vec<u8>,
    pos: usize,
    rng: Rng,
}

impl Conn for Peer {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        let left = self.bytes.len() - self.pos;
        let n = buf.len().min(left).min(1 + self.rng.below(64));
        buf[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
    async fn write_all(&mut self, _: &[u8]) -> Result<(), NetError> {
        Ok(())
    }
    async fn close(&mut self) {}
}

#[test]
fn the_probe_survives_mutated_peers() {
    let offer = Offer {
        version: hello::TLS12,
        suites: hello::tls12_suites(),
        server_name: Some("mail.example.org".into()),
    };
    let seed = server_hello();
    let mut accepted = 0;
    for s in 0..3_000u64 {
        let mut rng = Rng(s.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let bytes = if s == 0 {
            seed.clone()
        } else {
            rng.mutate(&seed)
        };
        let mut connect = || {
            std::future::ready(Ok::<_, NetError>(Peer {
                bytes: bytes.clone(),
                pos: 0,
                rng: Rng(s | 1),
            }))
        };
        let p = futures::executor::block_on(probe::question(&mut connect, &offer));
        if p.verdict == Verdict::Accepted {
            accepted += 1;
            assert_eq!(p.version, Some(hello::TLS12));
            assert!(offer.suites.contains(&p.suite.unwrap()));
        }
        assert!(!p.detail.is_empty());
    }
    assert!(accepted >= 1);
}
