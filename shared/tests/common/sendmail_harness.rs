//! The body of the Sendmail fuzz target, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/sendmail_config.rs`, coverage-guided, nightly) and
//! the stable test `shared/tests/sendmail_fuzz.rs`.
//!
//! Input: arbitrary bytes, decoded as the CLI decodes files
//! (`from_utf8_lossy`), read as a `.mc` (m4), as a sendmail.cf, and through
//! the pasted-text path forced to Sendmail. Asserts: no panic, one finding
//! per rule, and the m4 reader's output bounded by the input plus its
//! expansion cap.

use mailaudit_core::config::sendmail::{check, m4, model::Model, RULES};
use mailaudit_core::config::{analyze, ConfigOptions, Input, Software};

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let read = m4::read(&text);
    let out: usize = read
        .calls
        .iter()
        .flat_map(|c| c.args.iter().map(String::len))
        .sum::<usize>()
        + read.local.iter().map(|l| l.2.len()).sum::<usize>();
    // Every byte of output comes from the input or from an expansion; a
    // call's arguments may repeat text (define + the call that uses it), so
    // allow for that, but never unbounded growth.
    assert!(
        out <= 8 * (text.len() + m4::MAX_EXPANDED_BYTES),
        "{out} bytes of m4 output from {} bytes of input",
        text.len()
    );
    for name in ["sendmail.mc", "sendmail.cf", "access"] {
        let parts = [Input::new(name, text.clone())];
        let (findings, _) = check(&Model::build(&parts), Some("8.17.1.9-2+deb12u2"), &parts);
        assert_eq!(findings.len(), RULES.len());
    }
    let opts = ConfigOptions {
        software: Some(Software::Sendmail),
        now: "2026-11-29T12:00:00Z".into(),
        ..Default::default()
    };
    let _ = analyze(&[Input::new("pasted", text)], &opts);
}
