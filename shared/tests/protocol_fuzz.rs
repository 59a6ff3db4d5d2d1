//! The bodies of the protocol fuzz targets (DNS TXT records, DNS wire
//! answers, SMTP replies, TLS ServerHellos, certificate chains, MTA-STS
//! policies; `fuzz/fuzz_targets/`) over the committed fuzz corpus and
//! pseudo-random inputs in every `cargo test` on stable Rust, plus the
//! inputs the fuzzer found that once failed (regressions). Deterministic
//! seeds: a failure reproduces.

// The SMTP and TLS harnesses each include the scripted peer (their
// cargo-fuzz targets are built alone).
#![allow(clippy::duplicate_mod)]

mod common;
#[path = "common/dns_records_harness.rs"]
mod dns_records;
#[path = "common/dns_wire_harness.rs"]
mod dns_wire;
#[path = "common/mtasts_policy_harness.rs"]
mod mtasts_policy;
#[path = "common/smtp_reply_harness.rs"]
mod smtp_reply;
#[path = "common/tls_hello_harness.rs"]
mod tls_hello;
#[path = "common/x509_harness.rs"]
mod x509;

use std::path::Path;

/// The committed corpus of one target (`fuzz/corpus/<target>/`).
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

fn over_corpus(target: &str, seed: u64, tokens: &[&str], run: fn(&[u8])) {
    let seeds = corpus(target);
    assert!(seeds.len() >= 3, "{target}: corpus too small");
    for s in &seeds {
        run(s);
    }
    common::fuzz_rounds(seed, 600, tokens, &seeds, run);
}

#[test]
fn dns_records_harness() {
    over_corpus(
        "dns_records",
        0xd45_7e87,
        &[
            "v=spf1 ",
            "v=DKIM1;",
            "v=DMARC1;",
            "v=STSv1;",
            "v=TLSRPTv1;",
            "v=BIMI1;",
            " ip4:",
            "198.18.25.0/24",
            " ip6:",
            "::1/128",
            " include:",
            " a",
            " mx",
            " ptr",
            " exists:",
            "%{i}",
            "%{l1r-}",
            " redirect=",
            " exp=",
            " -all",
            " ~all",
            " ?all",
            "k=rsa;",
            "k=ed25519;",
            "p=",
            "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC",
            "t=y:s;",
            "h=sha256;",
            "p=reject;",
            "sp=none;",
            "pct=50;",
            "rua=mailto:a@example.org",
            "!10m",
            ",",
            "ruf=https://x.example/",
            "adkim=s;",
            "id=1;",
            "l=https://example.test/logo.svg;",
            "a=;",
            "=",
            ";",
            " ",
            "\u{ff}",
            "\u{fe}",
            "\0",
            "é",
        ],
        dns_records::run,
    );
}

#[test]
fn dns_wire_harness() {
    over_corpus(
        "dns_wire",
        0xd45_3143,
        &["\0", "\u{1}", "\u{c0}\u{c}"],
        dns_wire::run,
    );
}

#[test]
fn smtp_reply_harness() {
    over_corpus(
        "smtp_reply",
        0x5347_9e91,
        &[
            "220 ",
            "220-",
            "250-",
            "250 ",
            "421 ",
            "500 ",
            "502 ",
            "554 ",
            "\r\n",
            "\n",
            "STARTTLS",
            "AUTH PLAIN LOGIN",
            "AUTH=LOGIN",
            "SIZE 10240000",
            "SIZE",
            "PIPELINING",
            "8BITMIME",
            "2.0.0 ",
            "5.7.1 ",
            "mail.example.test ESMTP",
            "\u{ff}",
            " ",
        ],
        smtp_reply::run,
    );
}

#[test]
fn tls_hello_harness() {
    over_corpus(
        "tls_hello",
        0x71_5e11,
        &[
            "\u{16}\u{3}\u{3}",
            "\u{15}\u{3}\u{3}\0\u{2}\u{2}(",
            "\u{2}\0\0",
            "\u{ff}",
        ],
        tls_hello::run,
    );
}

#[test]
fn x509_chain_harness() {
    over_corpus(
        "x509_chain",
        0x509_c4a1,
        &["0\u{82}", "\u{6}\u{3}U\u{1d}"],
        x509::run,
    );
}

#[test]
fn mtasts_policy_harness() {
    over_corpus(
        "mtasts_policy",
        0x575_b0d1,
        &[
            "version: STSv1\n",
            "mode: enforce\n",
            "mode: testing\n",
            "mode: none\n",
            "max_age: 604800\n",
            "max_age: 99999999999999999999\n",
            "mx: mail.example.test\n",
            "mx: *.example.test\n",
            "mx: *.\n",
            "\r\n",
            ":",
            " ",
            "\t",
            "\u{ff}",
        ],
        mtasts_policy::run,
    );
}
