//! The body of the `tls_hello` fuzz target, shared by the cargo-fuzz
//! target (`fuzz/fuzz_targets/tls_hello.rs`) and the stable test
//! `shared/tests/protocol_fuzz.rs`.
//!
//! The engine builds ClientHellos and parses what a server answers to them
//! (ServerHello, HelloRetryRequest, alerts, garbage); rustls parses the
//! rest of a real handshake. Input: byte 0 picks the offer (version and
//! suites), byte 1 the SNI; the rest is the server's answer in the pieces
//! it arrives in (cut at 0xFF). Asserts: the ClientHello built for the
//! offer is well-formed (its length fields add up), the answer parser
//! gives the same result on the whole answer as the probe does reading it
//! piece by piece, a prefix of an answer is never a different answer, and
//! the verdict never says "accepted" for a version or suite not offered.

#[path = "peer.rs"]
mod peer;

use mailaudit_core::tls::hello::{self, parse_answer, Answer, Offer, Parse};
use mailaudit_core::tls::probe;
use peer::{block_on, Peer};

const VERSIONS: [u16; 5] = [
    hello::SSL3,
    hello::TLS10,
    hello::TLS11,
    hello::TLS12,
    hello::TLS13,
];
const NAMES: [&str; 4] = ["mail.example.test", "198.18.25.25", "", "mx.example.org."];

fn be16(b: &[u8]) -> usize {
    usize::from(u16::from_be_bytes([b[0], b[1]]))
}

pub fn offer(sel: u8, name: u8) -> Offer {
    let version = VERSIONS[usize::from(sel % 5)];
    let suites = match (sel / 5) % 4 {
        0 => hello::tls12_suites(),
        1 => hello::aead_suites(),
        2 => hello::legacy_suites(),
        _ => vec![0x1301, 0x1302, 0x1303],
    };
    Offer {
        version,
        suites,
        server_name: Some(NAMES[usize::from(name % 4)].to_string()),
    }
}

pub fn run(data: &[u8]) {
    let (sel, name, answer) = match data {
        [a, b, rest @ ..] => (*a, *b, rest),
        _ => (0, 0, data),
    };
    let offer = offer(sel, name);

    // The ClientHello the probe sends: record and handshake lengths agree.
    let ch = hello::client_hello(&offer);
    assert!(ch.len() > 9 && ch[0] == 22 && ch[5] == 1);
    assert_eq!(be16(&ch[3..5]), ch.len() - 5);
    assert_eq!(usize::from(ch[6]) << 16 | be16(&ch[7..9]), ch.len() - 9);

    // Whole answer vs every cut the peer makes.
    let whole: Vec<u8> = answer.iter().copied().filter(|&b| b != 0xff).collect();
    let parsed = parse_answer(&whole);
    if let Parse::Done(a) = &parsed {
        // Nothing after the answer changes it.
        let mut longer = whole.clone();
        longer.extend_from_slice(b"\x16\x03\x03\x00\x01\x00");
        if !matches!(a, Answer::NotTls(_)) {
            assert_eq!(
                parse_answer(&longer),
                parsed,
                "trailing bytes changed the answer"
            );
        }
        if let Answer::Hello(h) = a {
            let _ = (
                hello::version_name(h.version),
                hello::suite_name(h.cipher_suite),
            );
            let _ = hello::weaknesses(h.cipher_suite);
        }
        if let Answer::Alert { description, .. } = a {
            let _ = hello::alert_name(*description);
        }
        let p = probe::judge_answer(&offer, a);
        if p.accepted() {
            let Answer::Hello(h) = a else {
                panic!("accepted without a ServerHello: {a:?}")
            };
            assert!(offer.suites.contains(&h.cipher_suite), "{h:?}");
        }
    }
    let mut connect = || std::future::ready(Ok(Peer::new(answer)));
    let p = block_on(probe::question(&mut connect, &offer));
    if let Parse::Done(a) = &parsed {
        if whole.len() <= hello::MAX_ANSWER {
            // The same verdict; the detail may quote fewer bytes of garbage.
            let w = probe::judge_answer(&offer, a);
            assert_eq!(
                (p.verdict, p.version, p.suite),
                (w.verdict, w.version, w.suite),
                "pieces vs whole: {p:?} {w:?}"
            );
        }
    }
}
