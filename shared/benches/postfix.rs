//! The Postfix engine alone on one configuration directory: what the CLI's
//! `config` command does after reading the files (`analyze`: split,
//! detect the software line by line, parse, expand, the rules, the report),
//! repeated; prints the median. Also times the steps one by one (split into
//! files, detection, parse, rules), and `fix` (the report and the fixed
//! files: what the page runs).
//! Driven by `bench/postfix_vs_postconf.sh` (not a test; no dependencies):
//!
//!     cargo bench -p mailaudit-core --bench postfix -- DIR [RUNS]

use mailaudit_core::config::postfix::{check, Config};
use mailaudit_core::config::{
    analyze, detect, fix, split_files, split_parts, ConfigOptions, Input,
};
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

fn main() {
    let args = common::args();
    let Some(dir) = args.first() else {
        eprintln!("usage: postfix DIR [RUNS]  (DIR holds main.cf and master.cf)");
        std::process::exit(2);
    };
    let runs: usize = common::arg_or(&args, 1, 51);
    let read = |f: &str| {
        let p = std::path::Path::new(dir).join(f);
        let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        Input::new(
            p.display().to_string(),
            String::from_utf8_lossy(&b).into_owned(),
        )
    };
    let inputs = [read("main.cf"), read("master.cf")];
    let opts = ConfigOptions {
        now: "2026-01-01T00:00:00Z".into(),
        ..Default::default()
    };
    let (mut parse, mut full, mut split, mut detect, mut rules, mut fixes) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let mut findings = 0;
    for _ in 0..runs {
        // The steps of analyze(), one by one.
        let t = Instant::now();
        let files = split_files(&inputs);
        split.push(t.elapsed().as_secs_f64());
        // Which software each part is, line by line.
        let t = Instant::now();
        let (segments, _) = detect::detect(std::hint::black_box(&files), None);
        detect.push(t.elapsed().as_secs_f64());
        assert_eq!(segments.len(), 2);
        let parts = split_parts(&inputs);
        let t = Instant::now();
        let cfg = Config::parse_texts(parts.iter().map(|p| (p.name, p.text)));
        parse.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        std::hint::black_box(check(&cfg, None));
        rules.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let report = analyze(&inputs, &opts).expect("a Postfix configuration");
        full.push(t.elapsed().as_secs_f64());
        findings = std::hint::black_box(report).findings.len();
        // What the page runs: the report and the fixed files.
        let t = Instant::now();
        std::hint::black_box(fix(&inputs, &opts).expect("a Postfix configuration"));
        fixes.push(t.elapsed().as_secs_f64());
    }
    // The fastest run of each step too: on a loaded machine (other
    // processes on the cores) it moves less than the median.
    for (name, v) in [
        ("split", &split),
        ("detect", &detect),
        ("parse", &parse),
        ("rules", &rules),
        ("analyze", &full),
        ("fix", &fixes),
    ] {
        println!("engine_{name}_min_ms={:.3}", common::min(v) * 1e3);
    }
    println!("engine_split_median_ms={:.3}", common::median(&split) * 1e3);
    println!(
        "engine_detect_median_ms={:.3}",
        common::median(&detect) * 1e3
    );
    println!("engine_parse_median_ms={:.3}", common::median(&parse) * 1e3);
    println!("engine_rules_median_ms={:.3}", common::median(&rules) * 1e3);
    println!(
        "engine_analyze_median_ms={:.3}",
        common::median(&full) * 1e3
    );
    println!("engine_fix_median_ms={:.3}", common::median(&fixes) * 1e3);
    println!("engine_findings={findings} runs={runs}");
}
