//! The mail-log analyser on one file, streamed in 1 MiB chunks as the CLI
//! and the browser's worker feed it; prints lines, MB/s and the median of
//! the runs. Driven by `bench/maillog.sh` (not a test; no dependencies):
//!
//!     cargo bench -p mailaudit-core --bench logs -- FILE [RUNS]

use mailaudit_core::logs::{LogAnalyzer, LogOptions};
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

fn main() {
    let args = common::args();
    let Some(path) = args.first() else {
        eprintln!("usage: logs FILE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = common::arg_or(&args, 1, 5);
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut times = Vec::new();
    let mut summary = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut a = LogAnalyzer::new(LogOptions {
            now: "2026-11-29T23:59:59Z".into(),
            ..Default::default()
        });
        a.begin_file(path);
        for chunk in data.chunks(1 << 20) {
            a.feed(chunk);
        }
        let (findings, stats) = a.finish();
        times.push(t.elapsed().as_secs_f64());
        summary = format!(
            "{} lines, {} recognised, {} failed logins, {} addresses; {}",
            stats.lines,
            stats.recognised,
            stats.auth_failures,
            stats.ips.len(),
            findings
                .iter()
                .map(|f| format!("{}={}", f.id, f.status.as_str()))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let median = common::median(&times);
    println!("{summary}");
    println!(
        "median of {runs}: {:.3} s ({:.0} MB/s, {:.2} M lines/s); min {:.3} s, max {:.3} s",
        median,
        data.len() as f64 / median / 1e6,
        summary
            .split(' ')
            .next()
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
            / median
            / 1e6,
        common::min(&times),
        common::max(&times)
    );
}
