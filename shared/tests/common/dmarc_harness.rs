//! The body of the `dmarc_report` fuzz target (fuzz/fuzz_targets/dmarc_report.rs),
//! shared with the stable test `shared/tests/dmarc_fuzz.rs`.
//!
//! Input: bytes split at 0xFF into up to 8 files (so one input can hold a
//! batch with duplicates or several domains); after a 0xFE byte in the last
//! part, the rest is the DMARC record given to the planner. Every file goes
//! through the whole path (sniffing, gzip/zip with the cap, XML, folding)
//! and the batch is judged and rendered. Asserts: no panic, every file is
//! accounted for, the volume classes add up, the report's summary matches
//! its findings, and every rule gives exactly one finding.

use mailaudit_core::dmarcrep::{Batch, Options};

pub fn run(data: &[u8]) {
    let (files, record) = match data.iter().rposition(|&b| b == 0xfe) {
        Some(i) => (
            &data[..i],
            Some(String::from_utf8_lossy(&data[i + 1..]).into_owned()),
        ),
        None => (data, None),
    };
    let mut batch = Batch::new();
    let mut parts = 0;
    for (i, part) in files.split(|&b| b == 0xff).take(8).enumerate() {
        batch.add(&format!("f{i}"), part);
        parts += 1;
    }
    let opts = Options {
        domain: None,
        record,
        now: "2026-01-01T00:00:00Z".into(),
    };
    let a = batch.finish(&opts);
    assert!(a.tables.files.len() >= parts, "every file is accounted for");
    let t = &a.tables.totals;
    if t.total < u64::MAX / 4 {
        assert_eq!(t.total, t.aligned + t.related_unaligned + t.unrelated);
        assert!(t.exempted <= t.related_unaligned);
    }
    let s = &a.report.summary;
    assert_eq!(
        s.fail + s.warn + s.unknown + s.info + s.pass,
        a.report.findings.len()
    );
    for rule in mailaudit_core::dmarcrep::RULES {
        assert_eq!(
            a.report.findings.iter().filter(|f| f.id == rule.id).count(),
            1,
            "{}",
            rule.id
        );
    }
    let _ = serde_json::to_string(&a).expect("serialises");
    let _ = mailaudit_core::render::text(&a.report);
    let _ = mailaudit_core::render::markdown(&a.report);
}
