//! The body of the Postfix fuzz target, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/postfix_config.rs`, coverage-guided, nightly) and
//! the stable test `shared/tests/postfix_fuzz.rs` (pseudo-random inputs in
//! every `cargo test`).
//!
//! Input: arbitrary bytes; up to the first 0xFF byte is main.cf, the rest
//! master.cf (no 0xFF: main.cf alone, the stock master.cf assumed). Bytes
//! are decoded as the CLI decodes files (`from_utf8_lossy`).

use mailaudit_core::config::postfix::params::{effective, MAX_EXPANSION_GROWTH, READ_PARAMS};
use mailaudit_core::config::postfix::{check, Config, Version, RULES};
use mailaudit_core::config::{analyze, ConfigOptions, Input};

/// Defaults are short; a raw value is at most the whole input.
const MAX_DEFAULT_LEN: usize = 256;

pub fn run(data: &[u8]) {
    let (main, master) = match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let mut parts = vec![Input::new("main.cf", String::from_utf8_lossy(main))];
    if let Some(m) = master {
        parts.push(Input::new("master.cf", String::from_utf8_lossy(m)));
    }
    let cfg = Config::parse(&parts);
    // An older release than the default one `analyze` below judges by.
    let (findings, _) = check(&cfg, Some("3.7.11"));
    assert_eq!(findings.len(), RULES.len());
    // Expanded values stay within the cap, in main.cf's view and in each
    // service's (a few: hostile input has thousands).
    let version = Version::parse("3.10").expect("version");
    // A raw value is at most the input (3 bytes per invalid byte once
    // decoded) or a default; expansion adds at most the cap.
    let bound = MAX_EXPANSION_GROWTH + (3 * data.len()).max(MAX_DEFAULT_LEN);
    let services = std::iter::once(None).chain(cfg.services.iter().take(4).map(Some));
    for service in services {
        let names = READ_PARAMS
            .iter()
            .copied()
            .chain(cfg.params.iter().take(50).map(|p| p.name.as_str()));
        for v in effective(&cfg, service, &version, names) {
            assert!(
                v.text.len() <= bound,
                "{}: {} bytes from {} bytes of input",
                v.name,
                v.text.len(),
                data.len()
            );
        }
    }
    // The whole text as pasted: `# file:` headers, detection, the report.
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = analyze(&[Input::new("pasted", text)], &ConfigOptions::default());
}
