//! The body of the Exchange fuzz target, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/exchange_output.rs`, coverage-guided, nightly) and
//! the stable test `shared/tests/exchange_fuzz.rs`.
//!
//! Input: arbitrary bytes (decoded as the CLI decodes files), parsed as
//! PowerShell output and judged by every rule, directly and through the
//! pasted-text path forced to Exchange. Asserts: no panic, one finding per
//! rule, values never longer than the input.

use mailaudit_core::config::exchange::{check, parse, RULES};
use mailaudit_core::config::{analyze, ConfigOptions, Input, Software};

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let objects = parse::parse("pasted", &text);
    for o in &objects {
        for p in &o.props {
            assert!(
                p.value.len() <= text.len(),
                "{}: value longer than the input",
                p.name
            );
        }
    }
    let (findings, _) = check(&objects, Some("15.2.1258.27"), "2026-11-29T12:00:00Z");
    assert_eq!(findings.len(), RULES.len());
    let opts = ConfigOptions {
        software: Some(Software::Exchange),
        now: "2026-11-29T12:00:00Z".into(),
        ..Default::default()
    };
    let _ = analyze(&[Input::new("pasted", text)], &opts);
}
