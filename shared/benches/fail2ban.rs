//! fail2ban analysis timed on the stock jail.conf plus a generated jail.local
//! of N lines (default 10,000), through `config::analyze` as the browser's
//! paste tab runs it (detection, precedence, interpolation, the rules);
//! prints the median. Not a test; no dependencies:
//!
//!     cargo bench -p mailaudit-core --bench fail2ban -- [LINES] [RUNS]

use mailaudit_core::config::{analyze, detect, split_files, ConfigOptions, Input};
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

fn main() {
    let args = common::args();
    let lines: usize = common::arg_or(&args, 0, 10_000);
    let runs: usize = common::arg_or(&args, 1, 31);
    let stock = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/fail2ban/jail.conf"
    ))
    .expect("fixture");
    // The same generator as tests/e2e/logs.test.mjs.
    let mut local = String::from("[DEFAULT]\nbantime = 1h\n");
    let mut i = 0;
    while 2 + 5 * i < lines {
        local.push_str(&format!(
            "[site{i}]\nenabled = {}\nfilter = postfix[mode=auth]\nignoreip = 127.0.0.1/8 10.{}.0.0/16\nmaxretry = {}\n",
            if i % 2 == 1 { "true" } else { "false" },
            i % 250,
            3 + i % 5
        ));
        i += 1;
    }
    let text = format!("{stock}# file: /etc/fail2ban/jail.local\n{local}");
    let opts = ConfigOptions {
        now: "2026-11-29T00:00:00Z".into(),
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut detection = Vec::new();
    let mut summary = String::new();
    for _ in 0..runs {
        let input = [Input::new("pasted", text.as_str())];
        let t = Instant::now();
        std::hint::black_box(detect::detect(&split_files(&input), None));
        detection.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let r = analyze(&input, &opts).expect("report");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        summary = r
            .findings
            .iter()
            .map(|f| format!("{}={}", f.id, f.status.as_str()))
            .collect::<Vec<_>>()
            .join(" ");
    }
    println!(
        "{} + {} lines: {summary}",
        stock.lines().count(),
        local.lines().count()
    );
    println!(
        "median of {runs}: {:.2} ms (min {:.2}, max {:.2})",
        common::median(&times),
        common::min(&times),
        common::max(&times)
    );
    println!(
        "detection alone: median {:.2} ms (min {:.2})",
        common::median(&detection),
        common::min(&detection)
    );
}
