//! The body of the fail2ban fuzz target, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/fail2ban_config.rs`) and the stable test
//! `shared/tests/fail2ban_fuzz.rs`.
//!
//! Input: arbitrary bytes, cut at 0xFF bytes into files named in turn
//! jail.conf, jail.d/a.conf, jail.local, jail.d/b.local, paths-debian.conf
//! (so precedence and includes run too). Bytes are decoded as the CLI
//! decodes files (`from_utf8_lossy`).

use mailaudit_core::config::fail2ban::{self, parse, RULES};
use mailaudit_core::config::{analyze, ConfigOptions, Input, Software};

const NAMES: &[&str] = &[
    "jail.conf",
    "jail.d/a.conf",
    "jail.local",
    "jail.d/b.local",
    "paths-debian.conf",
];

pub fn run(data: &[u8]) {
    let parts: Vec<Input> = data
        .split(|&b| b == 0xff)
        .zip(NAMES.iter().cycle())
        .map(|(bytes, name)| Input::new(*name, String::from_utf8_lossy(bytes)))
        .collect();
    let opts = ConfigOptions {
        detected: vec![Software::Postfix],
        ..Default::default()
    };
    let (findings, _) = fail2ban::analyse(&parts, &opts);
    assert_eq!(findings.len(), RULES.len());
    // Every value of every section interpolates within the caps.
    let loaded = fail2ban::load(&parts);
    let m = &loaded.merged;
    for sec in m.sections.iter().take(20) {
        for o in sec.options.iter().take(20) {
            if let Some(v) = m.get(&sec.name, &o.name) {
                assert!(v.text.len() <= parse::MAX_VALUE + 3 * data.len() + 64);
            }
        }
    }
    // The whole text as one paste: detection, then the report.
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = analyze(
        &[Input::new("pasted", text.clone())],
        &ConfigOptions::default(),
    );
    let forced = ConfigOptions {
        software: Some(Software::Fail2ban),
        ..Default::default()
    };
    let r = analyze(&[Input::new("pasted", text)], &forced);
    if let Ok(r) = r {
        assert_eq!(r.findings.len(), RULES.len());
    }
}
