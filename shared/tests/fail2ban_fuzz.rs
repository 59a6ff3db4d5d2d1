//! The fail2ban fuzz target's body (`common/fail2ban_harness.rs`) over
//! pseudo-random inputs in every `cargo test`: token soup from fail2ban
//! syntax, mutated fixtures, random bytes, and the hostile shapes
//! (interpolation loops and fan-out, 1 MB lines, include loops).
//! Deterministic seeds: a failure reproduces.

mod common;
#[path = "common/fail2ban_harness.rs"]
mod harness;

use common::Rng;

const TOKENS: &[&str] = &[
    "[DEFAULT]\n",
    "[INCLUDES]\n",
    "[postfix]\n",
    "[postfix-sasl]\n",
    "[exim]\n",
    "[",
    "]",
    "before = ",
    "after = ",
    "jail.local",
    "paths-debian.conf",
    "enabled = true\n",
    "enabled = false\n",
    "mode = ",
    "auth",
    "more",
    "filter = ",
    "postfix[mode=auth]",
    "%(__name__)s[mode=%(mode)s]",
    "%(",
    ")s",
    "%%",
    "%",
    "known/",
    "default/",
    "bantime = ",
    "findtime = ",
    "maxretry = ",
    "ignoreip = ",
    "0.0.0.0/0",
    "10.0.0.0/255.0.0.0",
    "::/0",
    "1h30m",
    "-1",
    "10m",
    "1y-6mo",
    " = ",
    ":",
    "=",
    "\n",
    "\n    ",
    "\r\n",
    "\t",
    " ; c\n",
    "# c\n",
    "; c\n",
    "\u{0}",
    "\u{a0}",
    "é",
    "\u{ff}",
];

fn token_soup(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(150) {
        out.extend_from_slice(TOKENS[rng.below(TOKENS.len())].as_bytes());
        if rng.below(20) == 0 {
            out.push(0xff);
        }
    }
    out
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/fail2ban")
            .join(name),
    )
    .expect("fixture")
}

#[test]
fn fail2ban_harness_over_pseudo_random_inputs() {
    let mut seeds = Vec::new();
    for n in [
        "weak.local",
        "hardened.local",
        "mail.local",
        "defaults-debian.conf",
    ] {
        seeds.push(fixture(n));
    }
    let mut both = fixture("jail.conf");
    both.push(0xff);
    both.extend(fixture("mail.local"));
    seeds.push(both);
    let mut rng = Rng(0xf2b_f2b_f2b);
    for i in 0..800 {
        let input = match i % 3 {
            0 => token_soup(&mut rng),
            1 => {
                let seed = &seeds[rng.below(seeds.len())];
                rng.mutate(seed)
            }
            _ => (0..rng.below(600)).map(|_| rng.next() as u8).collect(),
        };
        harness::run(&input);
    }
}

#[test]
fn fail2ban_harness_on_the_bounds() {
    // Interpolation fan-out over the depth cap, a self-reference, 1 MB
    // lines, a value of 100k continuation lines, an include loop.
    let mut s = String::from("[DEFAULT]\n");
    for i in 0..12 {
        s.push_str(&format!("v{i} = {}\n", format!("%(v{})s", i + 1).repeat(8)));
    }
    s.push_str("bantime = %(bantime)s\nmaxretry = %(v0)s\n");
    s.push_str(&format!("ignoreip = {}\n", "10.0.0.1 ".repeat(120_000)));
    s.push_str(&format!("x = {}\n", "y".repeat(1 << 20)));
    s.push_str("action = a\n");
    s.push_str(&"  b\n".repeat(100_000));
    s.push_str(&format!("[{}]\n", "s".repeat(1 << 20)));
    s.push_str("[INCLUDES]\nbefore = jail.local\nafter = jail.conf\n[postfix]\nenabled = true\n");
    let mut data = s.clone().into_bytes();
    data.push(0xff);
    data.extend_from_slice(s.as_bytes());
    harness::run(&data);
}
