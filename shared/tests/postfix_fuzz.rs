//! The Postfix fuzz target's body (`common/postfix_harness.rs`) over a few
//! thousand pseudo-random inputs (2,000), in every `cargo test` on stable Rust:
//! token soup from Postfix syntax, mutated corpus files, random bytes. The
//! harness asserts that nothing panics and that expanded values stay within
//! the expansion cap. Deterministic seeds: a failure reproduces.
//!
//! Coverage-guided fuzzing of the same body: see `fuzz/` (BENCHMARKS.md).

mod common;
#[path = "common/postfix_harness.rs"]
mod harness;

use common::Rng;
use std::path::Path;

/// Fragments of Postfix syntax, the interesting bytes around it, and the
/// names the rules read.
const TOKENS: &[&str] = &[
    "$",
    "$$",
    "${",
    "$(",
    "{",
    "}",
    "(",
    ")",
    "?",
    ":",
    "=",
    " = ",
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\n  ",
    "\n\t",
    "#",
    "\0",
    "\u{a0}",
    "\x0b",
    ",",
    "-o ",
    "-o{",
    " inet n - y - - smtpd ",
    " unix - - n - - smtp ",
    " pass - - y - - smtpd ",
    "smtp inet n - y - - postscreen\n",
    "==",
    "!=",
    "<",
    "<level",
    ">=",
    "{1}",
    "{3.6}",
    " ? ",
    " : ",
    "${{",
    "}?{",
    "}:{",
    "x",
    "yes",
    "no",
    "0.0.0.0/0",
    "[::]/0",
    "permit",
    "reject",
    "permit_mynetworks",
    "reject_unauth_destination",
    "check_client_access ",
    "inline:{",
    "# file: master.cf\n",
    "# file: main.cf\n",
    "\u{ff}",
    "compatibility_level",
    "mail_version = 3.7.11\n",
    "a",
    "b",
    "$a",
    "$b",
    "a = $b\n",
    "b = $a\n",
    "a = $b$b$b$b\n",
    "b = ${a?{$a}:{$a}}\n",
];

fn token_soup(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(120) {
        let t = match rng.below(4) {
            0 => {
                mailaudit_core::config::postfix::params::READ_PARAMS
                    [rng.below(mailaudit_core::config::postfix::params::READ_PARAMS.len())]
            }
            _ => TOKENS[rng.below(TOKENS.len())],
        };
        out.extend_from_slice(t.as_bytes());
        if rng.below(8) == 0 {
            out.push(0xff); // the main.cf / master.cf split
        }
    }
    out
}

fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/postconf/corpus");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/postconf/corpus")
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|d| {
            let mut s = std::fs::read(d.join("main.cf")).unwrap();
            s.push(0xff);
            s.extend(std::fs::read(d.join("master.cf")).unwrap());
            s
        })
        .collect()
}

#[test]
fn postfix_harness_over_pseudo_random_inputs() {
    let seeds = seeds();
    assert!(seeds.len() >= 30);
    let mut rng = Rng(0x5eed_9057_f1c5);
    for i in 0..2_000 {
        let input = match i % 3 {
            0 => token_soup(&mut rng),
            1 => {
                let seed = &seeds[rng.below(seeds.len())];
                rng.mutate(seed)
            }
            _ => {
                let n = rng.below(512);
                (0..n).map(|_| rng.next() as u8).collect()
            }
        };
        harness::run(&input);
    }
}

#[test]
fn postfix_harness_on_the_bounds() {
    // 2^40-fold fan-out, deep nesting, a self-referring relational operand,
    // a long line: bounded output, no panic.
    let mut s = String::from("p0 = xxxxxxxx\n");
    for i in 1..40 {
        s.push_str(&format!("p{i} = $p{0}${{p{0}}}\n", i - 1));
    }
    s.push_str("smtpd_banner = $p39\nsmtpd_client_restrictions = ${{$smtpd_client_restrictions} == {x} ? {y}}\n");
    s.push_str(&format!(
        "smtpd_helo_restrictions = {}x{}\n",
        "${a?".repeat(3000),
        "}".repeat(3000)
    ));
    s.push_str(&format!("mynetworks = {}\n", "10.0.0.1 ".repeat(50_000)));
    let mut data = s.into_bytes();
    data.push(0xff);
    data.extend_from_slice(b"submission inet n - y - - smtpd -o smtpd_banner=$p39$p39\n");
    harness::run(&data);
}
