//! The Sendmail fuzz target's body (`common/sendmail_harness.rs`) over
//! pseudo-random inputs in every `cargo test` on stable Rust: token soup
//! from m4 and sendmail.cf syntax, mutations of Debian's stock files,
//! random bytes, and the bounds (recursive macros, a 1 MB line,
//! unterminated calls). Deterministic seeds: a failure reproduces.

mod common;
#[path = "common/sendmail_harness.rs"]
mod harness;

const TOKENS: &[&str] = &[
    "`",
    "'",
    "(",
    ")",
    ",",
    "dnl",
    "dnl\n",
    "#",
    "\n",
    " ",
    "\t",
    "$",
    "$1",
    "$#",
    "$*",
    "define(",
    "undefine(",
    "pushdef(",
    "popdef(",
    "defn(",
    "ifdef(",
    "ifelse(",
    "changequote(",
    "changequote([,])",
    "[",
    "]",
    "divert(-1)",
    "divert(0)",
    "include(`/etc/mail/m4/x.m4')",
    "FEATURE(",
    "`promiscuous_relay'",
    "`access_db'",
    "`greet_pause'",
    "`ratecontrol'",
    "DAEMON_OPTIONS(`Port=smtp, Addr=127.0.0.1')",
    "`confPRIVACY_FLAGS'",
    "`confSMTP_LOGIN_MSG'",
    "`confMAX_MESSAGE_SIZE'",
    "`confLOG_LEVEL'",
    "`goaway'",
    "`0'",
    "`$j Sendmail $v/$Z; $b'",
    "LOCAL_CONFIG\n",
    "LOCAL_SRV_FEATURES\n",
    "SLocal_srv_features\n",
    "R$*\t$#local $: G\n",
    "MAILER(`smtp')",
    "VERSIONID(`8.17.1.9')",
    "O PrivacyOptions=goaway\n",
    "O LogLevel=",
    "DZ8.18.1\n",
    "V10/Berkeley\n",
    "Cwlocalhost\n",
    "FR-o /etc/mail/relay-domains\n",
    "Kaccess hash /etc/mail/access\n",
    "#####  $Id: greet_pause.m4,v 1 #####\n",
    "Connect:10 RELAY\n",
    "Srv_Features: G\n",
    "Version 8.17.1\n",
    "a",
    "define(`a', `a a')",
    "a",
    "\u{ff}",
    "\0",
    "é",
];

fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sendmail");
    ["debian12-sendmail.mc", "debian12-sendmail.cf"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).expect("fixture"))
        .collect()
}

#[test]
fn sendmail_harness_over_pseudo_random_inputs() {
    let seeds = seeds();
    common::fuzz_rounds(0x5e4d_3a11_0c0f, 600, TOKENS, &seeds, harness::run);
}

#[test]
fn sendmail_harness_on_the_bounds() {
    for t in [
        "define(`a', `a')a\n".to_string(),
        "define(`a', `a a a a a a a a')a\n".to_string(),
        "define(`a', `b(a)')define(`b', `a $1 $1')a\n".to_string(),
        format!("FEATURE(`{}')\n", "x".repeat(1 << 20)),
        format!("dnl {}\n", "y".repeat(1 << 20)),
        format!("{}\n", "(".repeat(100_000)),
        format!("{}\n", "`".repeat(100_000)),
        "FEATURE(`access_db'\nDAEMON_OPTIONS(`Port=smtp\n".to_string(),
        format!("O SmtpGreetingMessage={}\n", "$v".repeat(500_000)),
    ] {
        harness::run(t.as_bytes());
    }
}
