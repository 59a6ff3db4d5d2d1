//! The Exchange fuzz target's body (`common/exchange_harness.rs`) over
//! pseudo-random inputs in every `cargo test` on stable Rust: token soup
//! from Format-List/Format-Table syntax, mutations of the Exchange 2019
//! fixtures, random bytes, and the bounds (1 MB lines, endless lists,
//! tables without rows). Deterministic seeds: a failure reproduces.

mod common;
#[path = "common/exchange_harness.rs"]
mod harness;

const TOKENS: &[&str] = &[
    " : ",
    ":",
    "\n",
    "\n\n",
    "    ",
    "{",
    "}",
    ", ",
    "...",
    "-",
    "/",
    ".",
    "----  ----\n",
    "User   ExtendedRights   Deny\n",
    "PS C:\\> Get-ReceiveConnector | fl\n",
    "[PS] C:\\>",
    "AuthMechanism",
    "Tls, BasicAuth",
    "Bindings",
    "{0.0.0.0:25}",
    "RemoteIPRanges",
    "{0.0.0.0-255.255.255.255}",
    "10.0.0.0/8",
    "::/0",
    "PermissionGroups",
    "AnonymousUsers",
    "BareLinefeedRejectionEnabled",
    "False",
    "True",
    "MaxMessageSize",
    "Unlimited",
    "36 MB (37,748,736 bytes)",
    "TarpitInterval",
    "00:00:05",
    "1.00:00:00",
    "ProtocolLoggingLevel",
    "None",
    "Banner",
    "Identity",
    "EX01\\Default Frontend EX01",
    "Thumbprint",
    "Services",
    "SMTP",
    "NotAfter",
    "12/31/2026 11:59:59 PM",
    "05/01/2027 10:00:00",
    "31.12.2026",
    "2026-12-31T00:00:00Z",
    "AdminDisplayVersion",
    "Version 15.2 (Build 1258.28)",
    "ExtendedRights",
    "{ms-Exch-SMTP-Accept-Any-Recipient}",
    "NT AUTHORITY\\ANONYMOUS LOGON",
    "User",
    "Deny",
    "MaxRecipientEnvelopeLimit",
    "MaxReceiveSize",
    "AddressSpaces",
    "\u{ff}",
    "\0",
    "é",
];

fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/exchange");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

#[test]
fn exchange_harness_over_pseudo_random_inputs() {
    let seeds = seeds();
    assert!(seeds.len() >= 5);
    common::fuzz_rounds(0xe8c4_a46e_2019, 900, TOKENS, &seeds, harness::run);
}

#[test]
fn exchange_harness_on_the_bounds() {
    for t in [
        format!("Banner : {}\n", "x".repeat(1 << 20)),
        format!("RemoteIPRanges : {{{}}}\n", "10.0.0.1, ".repeat(100_000)),
        format!("Name : a\n{}", "    continued\n".repeat(100_000)),
        "A B\n--- ---\n".repeat(10_000),
        format!("{}\n", "-".repeat(1 << 20)),
        "User ExtendedRights\n---- --------------\n".to_string(),
        "Identity : x\n\n".repeat(30_000),
    ] {
        harness::run(t.as_bytes());
    }
}
