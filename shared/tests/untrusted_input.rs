//! Untrusted input never panics the engine: mutation fuzzing (deterministic
//! seeds, so a failure reproduces) of every parser reachable from outside —
//! DNS answers from a resolver, pasted configuration, SPF and DMARC text.
//! Coverage-guided fuzzing with cargo-fuzz comes with the hardening issue;
//! this keeps a fast, always-on net under the same entry points.

use mailaudit_core::config::{analyze, ConfigOptions, Input};
use mailaudit_core::dns::{decode_answer, dmarc, encode_query, spf, RecordType};

mod common;
use common::Rng;

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(8) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.truncate(i);
            }
            2 => {
                let i = rng.below(v.len() + 1);
                let b = rng.next() as u8;
                v.insert(i, b);
            }
            3 if v.len() > 2 => {
                let i = rng.below(v.len());
                let j = rng.below(v.len());
                v.swap(i, j);
            }
            _ => {
                let i = rng.below(v.len() + 1);
                let chunk: Vec<u8> = v[..i].to_vec();
                v.extend_from_slice(&chunk[..chunk.len().min(64)]);
            }
        }
    }
    v
}

/// A real answer to mutate: a response to an MX query with one record.
fn seed_answer() -> Vec<u8> {
    let mut q = encode_query("example.org", RecordType::MX).unwrap();
    // Drop the OPT record (the last 11 bytes) and its count, mark as response.
    q.truncate(q.len() - 11);
    q[11] = 0; // ARCOUNT
    q[2] |= 0x80; // QR
    q[7] = 1; // ANCOUNT
    q.extend_from_slice(&[
        0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 1, 44, 0, 9, 0, 10, 4, b'm', b'a', b'i', b'l', 0xc0, 0x0c,
    ]);
    q
}

#[test]
fn dns_answers_never_panic() {
    let seed = seed_answer();
    let ok = decode_answer("example.org", RecordType::MX, &seed).expect("seed decodes");
    assert_eq!(ok.of_type().count(), 1);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let m = mutate(&mut rng, &seed);
        let _ = decode_answer("example.org", RecordType::MX, &m);
    }
}

#[test]
fn pasted_configs_never_panic() {
    let seeds: [&[u8]; 3] = [
        b"mynetworks = 0.0.0.0/0\nsmtpd_relay_restrictions = permit_mynetworks,\n  reject_unauth_destination\nx = ${y}\ny = $x\n",
        b"# file: master.cf\nsubmission inet n - y - - smtpd\n  -o { smtpd_sasl_auth_enable = yes }\n  -o smtpd_tls_security_level=encrypt\n",
        "disable_vrfy_command = \u{f1}\u{0}\n\t# comment\n=\n".as_bytes(),
    ];
    let opts = ConfigOptions::default();
    let mut rng = Rng(42);
    for i in 0..5_000 {
        let m = mutate(&mut rng, seeds[i % seeds.len()]);
        let text = String::from_utf8_lossy(&m).into_owned();
        let _ = analyze(&[Input::new("fuzz", text)], &opts);
    }
}

#[test]
fn spf_and_dmarc_text_never_panics() {
    let seeds: [&[u8]; 2] = [
        b"v=spf1 ip4:192.0.2.0/24 include:_spf.example.org redirect=x ~all",
        b"v=DMARC1; p=reject; sp=none; pct=50; rua=mailto:a@b",
    ];
    let mut rng = Rng(7);
    for i in 0..20_000 {
        let m = mutate(&mut rng, seeds[i % 2]);
        let text = String::from_utf8_lossy(&m);
        let _ = spf::terms(&text);
        let _ = dmarc::parse(&text);
    }
}
