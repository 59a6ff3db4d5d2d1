//! The DMARC report engine alone on a directory of report files, read into
//! memory first: opening (gzip/zip), parsing and aggregating every file on
//! one thread, then judging (`Batch::add` for each file, `finish`);
//! repeated, prints the median and the split between the steps. Driven by
//! `bench/dmarc_reports.sh` (not a test; no dependencies):
//!
//!     cargo bench -p mailaudit-core --bench dmarc -- DIR [RUNS]

use mailaudit_core::dmarcrep::{parse_file, Batch, Options};
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

fn main() {
    let args = common::args();
    let Some(dir) = args.first() else {
        eprintln!("usage: dmarc DIR [RUNS]  (DIR holds report files)");
        std::process::exit(2);
    };
    let runs: usize = common::arg_or(&args, 1, 5);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let opts = Options {
        now: "2026-11-29T12:00:00Z".into(),
        ..Default::default()
    };

    let mut total = Vec::new();
    let mut cpu = Vec::new();
    let mut parse = Vec::new();
    let mut fold = Vec::new();
    let mut rows = 0usize;
    let mut findings = 0usize;
    for _ in 0..runs {
        // The whole path, as `analyze` runs it.
        let t = Instant::now();
        let c = common::cpu_ms();
        let mut b = Batch::new();
        for (n, bytes) in &files {
            b.add(n, bytes);
        }
        let a = b.finish(&opts);
        total.push(t.elapsed().as_secs_f64() * 1e3);
        cpu.push(common::cpu_ms() - c);
        findings = a.report.findings.len();
        rows = a.tables.files.iter().map(|f| f.rows).sum();

        // The same, split: open and parse every file, then fold and judge.
        let t = Instant::now();
        let parsed: Vec<_> = files.iter().map(|(n, b)| parse_file(n, b)).collect();
        parse.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let mut b = Batch::new();
        for p in parsed {
            b.add_parsed(p);
        }
        let _ = b.finish(&opts);
        fold.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("files={}", files.len());
    println!("input_mb={:.1}", bytes as f64 / 1e6);
    println!("rows={rows}");
    println!("findings={findings}");
    println!("engine_median_ms={:.1}", common::median(&total));
    println!("engine_cpu_median_ms={:.1}", common::median(&cpu));
    println!("engine_parse_median_ms={:.1}", common::median(&parse));
    println!("engine_fold_median_ms={:.1}", common::median(&fold));
}
