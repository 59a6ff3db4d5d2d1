//! The Exim engine alone on one configuration file: what the CLI's `config`
//! command does after reading the file (`analyze`: split, detection, parse,
//! 13 rules, the report), repeated; prints the median, and the parse alone.
//! Not a test (no dependencies):
//!
//!     python3 bench/gen_exim_config.py /tmp/exim10k.conf
//!     cargo bench -p mailaudit-core --bench exim -- /tmp/exim10k.conf [RUNS]
//!
//! With `EXIM_BENCH_ANALYZE_ONLY=1` only `analyze()` runs, so that
//! `/usr/bin/time` (user seconds / RUNS) gives its CPU time on a loaded
//! machine, where wall-clock medians mostly measure the other processes.

use mailaudit_core::config::exim::{check, Config};
use mailaudit_core::config::{analyze, detect, split_files, ConfigOptions, Input};
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

fn main() {
    let args = common::args();
    let Some(file) = args.first() else {
        eprintln!("usage: exim FILE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = common::arg_or(&args, 1, 51);
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let inputs = [Input::new(
        file.clone(),
        String::from_utf8_lossy(&bytes).into_owned(),
    )];
    let opts = ConfigOptions {
        now: "2026-01-01T00:00:00Z".into(),
        assume_version: Some("4.100.1".into()),
        ..Default::default()
    };
    let (mut full, mut parse, mut rules, mut detection) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut findings = 0;
    let only = std::env::var_os("EXIM_BENCH_ANALYZE_ONLY").is_some();
    for _ in 0..runs {
        if only {
            let r = analyze(std::hint::black_box(&inputs), &opts).expect("report");
            findings = r.findings.len();
            continue;
        }
        let parts = split_files(&inputs);
        let t = Instant::now();
        std::hint::black_box(detect::detect(&parts, None));
        detection.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let cfg = Config::parse(&parts);
        parse.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        std::hint::black_box(check(&cfg, &parts, Some("4.100.1")));
        rules.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let r = analyze(std::hint::black_box(&inputs), &opts).expect("report");
        full.push(t.elapsed().as_secs_f64());
        findings = r.findings.len();
    }
    let lines = inputs[0].text.lines().count();
    if only {
        println!("exim: {lines} lines, {findings} findings, {runs} runs of analyze() only");
        return;
    }
    let min = |v: &[f64]| common::min(v) * 1e3;
    println!(
        "exim: {lines} lines, {findings} findings, {runs} runs; median analyze() {:.2} ms \
         (min {:.2}), detection {:.2} ms (min {:.2}), parse {:.2} ms (min {:.2}), rules {:.2} ms",
        common::median(&full) * 1e3,
        min(&full),
        common::median(&detection) * 1e3,
        min(&detection),
        common::median(&parse) * 1e3,
        min(&parse),
        common::median(&rules) * 1e3
    );
}
