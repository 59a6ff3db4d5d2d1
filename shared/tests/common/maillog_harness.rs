//! The body of the mail-log fuzz target, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/mail_log.rs`) and the stable test
//! `shared/tests/logs_fuzz.rs`.
//!
//! Input: arbitrary bytes. They are fed to the streaming analyser in chunks
//! cut at every 0xFF byte (so a line can span chunks anywhere), line by
//! line through `feed_line`, and as pasted text through `config::analyze`.
//! Chunking must not change the result; memory caps must hold.

use mailaudit_core::config::{analyze, ConfigOptions, Input, Software};
use mailaudit_core::logs::{LogAnalyzer, LogOptions, RULES};

fn analyzer() -> LogAnalyzer {
    let mut a = LogAnalyzer::new(LogOptions {
        now: "2026-11-29T12:00:00Z".into(),
        max_ips: 64,
        max_users: 64,
        top: 20,
    });
    a.begin_file("fuzz.log");
    a
}

pub fn run(data: &[u8]) {
    // Chunks cut at 0xFF (the byte stays in: it is part of the log).
    let mut a = analyzer();
    let mut start = 0;
    for (i, &b) in data.iter().enumerate() {
        if b == 0xff {
            a.feed(&data[start..=i]);
            start = i + 1;
        }
    }
    a.feed(&data[start..]);
    let (chunked, stats) = a.finish();
    assert_eq!(chunked.len(), RULES.len());
    assert!(stats.ips.len() <= 20 && stats.users.len() <= 20);
    // The whole input at once gives the same findings.
    let mut whole = analyzer();
    whole.feed(data);
    assert_eq!(whole.finish().0, chunked);
    // Line by line, and as a paste.
    let text = String::from_utf8_lossy(data).into_owned();
    let mut lines = analyzer();
    for l in text.lines() {
        lines.feed_line(l);
    }
    let _ = lines.finish();
    let _ = analyze(
        &[Input::new("pasted", text.clone())],
        &ConfigOptions::default(),
    );
    let forced = ConfigOptions {
        software: Some(Software::Logs),
        now: "2026-11-29T12:00:00Z".into(),
        ..Default::default()
    };
    if let Ok(r) = analyze(&[Input::new("pasted", text)], &forced) {
        assert_eq!(r.findings.len(), RULES.len());
    }
}
