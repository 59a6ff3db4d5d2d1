//! The body of the Exim fuzz target, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/exim_config.rs`, coverage-guided, nightly) and the
//! stable test `shared/tests/exim_fuzz.rs` (pseudo-random inputs in every
//! `cargo test`).
//!
//! Input: arbitrary bytes, decoded as the CLI decodes files
//! (`from_utf8_lossy`); a 0xFF byte starts a new part (as `# file:` would).
//! Asserts: no panic, one finding per rule, every finding carries a detail,
//! logical lines stay within the caps.

use mailaudit_core::config::exim::parse::{MAX_EXPANDED_LINE, MAX_LOGICAL_LINE};
use mailaudit_core::config::exim::{check, Config, RULES};
use mailaudit_core::config::{analyze, ConfigOptions, Input, Software};

pub fn run(data: &[u8]) {
    let parts: Vec<Input> = data
        .split(|&b| b == 0xff)
        .enumerate()
        .map(|(i, p)| {
            Input::new(
                format!("conf.d/acl/{i:02}_part"),
                String::from_utf8_lossy(p),
            )
        })
        .collect();
    let cfg = Config::parse(&parts);
    let (findings, _) = check(&cfg, &parts, Some("4.96-15+deb12u4"));
    assert_eq!(findings.len(), RULES.len());
    assert!(findings.iter().all(|f| !f.detail.is_empty()));
    let cap = MAX_LOGICAL_LINE + MAX_EXPANDED_LINE + 16;
    for o in &cfg.main {
        assert!(o.text().len() <= cap, "main option {} too long", o.name);
    }
    for a in &cfg.acls {
        for s in a.statements() {
            for c in &s.conds {
                assert!(c.value.len() <= cap);
            }
        }
    }
    // The pasted-text path, forced to Exim (detection may say otherwise).
    let opts = ConfigOptions {
        software: Some(Software::Exim),
        now: "2026-01-01T00:00:00Z".into(),
        ..Default::default()
    };
    let text = String::from_utf8_lossy(data).into_owned();
    if let Ok(r) = analyze(&[Input::new("pasted", text)], &opts) {
        assert!(r.findings.len() >= RULES.len());
    }
}
