//! The DMARC report fuzz target's body (`common/dmarc_harness.rs`) over a
//! few thousand pseudo-random inputs in every `cargo test` on stable Rust:
//! the fixtures (plain, gzip, zip, hostile) mutated, as they are and
//! decompressed, and batches of several. Deterministic seeds: a failure
//! reproduces. Coverage-guided fuzzing of the same body: fuzz/ (dmarc_report).

mod common;
#[path = "common/dmarc_harness.rs"]
mod harness;

use common::Rng;
use std::io::Read;

fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/dmarc");
    let mut out = Vec::new();
    for sub in ["", "bad"] {
        let mut paths: Vec<_> = std::fs::read_dir(format!("{dir}/{sub}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e != "py"))
            .collect();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(&p).unwrap();
            // Compressed seeds mostly die at the CRC; their XML mutates further.
            let mut plain = Vec::new();
            if flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut plain)
                .is_ok()
            {
                out.push(plain);
            }
            out.push(bytes);
        }
    }
    assert!(out.len() >= 12);
    out
}

#[test]
fn dmarc_harness_over_pseudo_random_inputs() {
    let seeds = seeds();
    for s in &seeds {
        harness::run(s);
    }
    let mut rng = Rng(0xd3a2_c0de_2026);
    for i in 0..2_000 {
        let seed = &seeds[i % seeds.len()];
        let mut input = rng.mutate(seed);
        if i % 5 == 0 {
            // A batch: another (mutated) file after a 0xFF separator.
            input.push(0xff);
            let other = rng.below(seeds.len());
            input.extend(rng.mutate(&seeds[other]));
        }
        if i % 7 == 0 {
            input.extend_from_slice(b"\xfev=DMARC1; p=quarantine; pct=");
            input.extend(rng.mutate(b"50; rua=mailto:a@example.com"));
        }
        harness::run(&input);
    }
}
