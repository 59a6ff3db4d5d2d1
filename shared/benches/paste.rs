//! The paste tab's whole engine path on one pasted text, natively: what
//! `data-analysis-ms` covers in the page (frontend/src/paste.rs) minus the
//! copies of the answer between wasm and JavaScript: `config::fix` (split,
//! detection, the analysers, the fix plan), the report as JSON (the offline
//! module's answer) and that JSON read back (the page's module). Prints the
//! median of each step and the JSON's size. Not a test; no dependencies:
//!
//!     cargo bench -p mailaudit-core --bench paste -- FILE [RUNS]
//!
//! With `PASTE_BENCH_ONLY=fix|json|all` each run does only that step (all:
//! the three), untimed, so that `valgrind --tool=callgrind` or `perf stat -e
//! instructions` count the instructions of that step (minus one run's setup
//! when compared with RUNS=0).

use mailaudit_core::config::{fix, ConfigOptions, Input};
use mailaudit_core::report::Report;
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

fn main() {
    let args = common::args();
    let Some(file) = args.first() else {
        eprintln!("usage: paste FILE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = common::arg_or(&args, 1, 31);
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let opts = ConfigOptions {
        now: "2026-11-29T00:00:00Z".into(),
        ..Default::default()
    };
    let input = [Input::new("pasted", text.as_str())];
    let plan = fix(&input, &opts).expect("a report");
    let json = serde_json::to_string(&plan.report).expect("json");
    let only = std::env::var("PASTE_BENCH_ONLY").ok();
    if let Some(step) = only.as_deref() {
        for _ in 0..runs {
            if matches!(step, "fix" | "all") {
                let input = [Input::new("pasted", text.as_str())];
                std::hint::black_box(fix(&input, &opts).expect("a report"));
            }
            if matches!(step, "json" | "all") {
                let j = serde_json::to_string(std::hint::black_box(&plan.report)).expect("json");
                std::hint::black_box(serde_json::from_str::<Report>(&j).expect("json"));
            }
        }
        println!("{runs} runs of {step}");
        return;
    }
    let (mut t_fix, mut t_ser, mut t_de) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let input = [Input::new("pasted", text.as_str())];
        let t = Instant::now();
        let plan = fix(&input, &opts).expect("a report");
        t_fix.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let j = serde_json::to_string(&plan.report).expect("json");
        t_ser.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        std::hint::black_box(serde_json::from_str::<Report>(&j).expect("json"));
        t_de.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "{file}: {} lines, {} findings, report JSON {} bytes; median of {runs}: fix {:.2} ms \
         (min {:.2}), to JSON {:.2} ms, from JSON {:.2} ms",
        text.lines().count(),
        plan.report.findings.len(),
        json.len(),
        common::median(&t_fix),
        common::min(&t_fix),
        common::median(&t_ser),
        common::median(&t_de),
    );
}
