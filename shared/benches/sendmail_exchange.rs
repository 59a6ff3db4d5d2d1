//! The Sendmail and Exchange analysers on 10,000-line inputs: `analyze()`
//! as the CLI and the page call it (split, detect, parse, rules, report),
//! median of RUNS. The inputs are generated here, deterministically:
//!
//! - sendmail.mc: Debian 12's stock file, then 10,000 lines of comments,
//!   `define`s of every mapped option, FEATUREs, RELAY_DOMAINs, macros the
//!   file defines and uses, and a LOCAL_CONFIG with class lines;
//! - sendmail.cf: the sendmail.cf generated from Debian's stock .mc, five
//!   times over (~9,700 lines) plus option lines to 10,000;
//! - Exchange: the five default Exchange 2019 receive connectors
//!   (`Format-List`, 377 lines) repeated under new names to 10,000 lines.
//!
//!     cargo bench -p mailaudit-core --bench sendmail_exchange -- [RUNS]

use mailaudit_core::config::sendmail::options::MACROS;
use mailaudit_core::config::{analyze, detect, fix, split_files, ConfigOptions, Input};
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

const MC: &str = include_str!("../../tests/fixtures/sendmail/debian12-sendmail.mc");
const CF: &str = include_str!("../../tests/fixtures/sendmail/debian12-sendmail.cf");
const RC: &str = include_str!("../../tests/fixtures/exchange/ex2019-receive-connectors.txt");

const LINES: usize = 10_000;

fn big_mc() -> String {
    let mut s = String::from(MC);
    let mut i = 0usize;
    // Every line pushed below is one line: count them as they come (a
    // count of the whole text per line made the generation quadratic).
    let mut lines = s.lines().count();
    while lines < LINES - 2 {
        lines += 1;
        let (m, _) = MACROS[i % MACROS.len()];
        s.push_str(&match i % 10 {
            0..=2 => format!("dnl # comment line {i}: keep `quotes' and (parens) out of it\n"),
            3 => format!("define(`{m}', `value-{i}')dnl\n"),
            4 => format!("FEATURE(`mailertable', `hash -o /etc/mail/mailertable{i}')dnl\n"),
            5 => format!("RELAY_DOMAIN(`host{i}.example.org')dnl\n"),
            6 => format!("define(`MYVAL{i}', `v{i}')dnl\n"),
            7 => format!(
                "define(`confTO_QUEUEWARN', MYVAL{})dnl\n",
                i.saturating_sub(1)
            ),
            8 => format!("# m4 comment {i}\n"),
            _ => format!(
                "ifdef(`MYVAL{}', `define(`confMAX_HOP', `25')', `')dnl\n",
                i.saturating_sub(3)
            ),
        });
        i += 1;
    }
    s.push_str("LOCAL_CONFIG\nCwmx.example.org\n");
    s
}

fn big_cf() -> String {
    let mut s = CF.repeat(5);
    let mut i = 0;
    let mut lines = s.lines().count();
    while lines < LINES {
        lines += 2;
        s.push_str(&format!("O Timeout.queuewarn=4h\nCwhost{i}.example.org\n"));
        i += 1;
    }
    s
}

fn big_exchange() -> String {
    let mut s = String::new();
    let mut i = 0;
    let rc = RC.lines().count();
    let mut lines = 0;
    while lines + rc <= LINES {
        s.push_str(&RC.replace("EX01", &format!("EX{:02}", i + 1)));
        lines += rc;
        i += 1;
    }
    while lines < LINES {
        s.push('\n');
        lines += 1;
    }
    s
}

fn main() {
    let runs: usize = common::args()
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(31);
    let opts = ConfigOptions {
        now: "2026-11-29T12:00:00Z".into(),
        ..Default::default()
    };
    for (name, text) in [
        ("sendmail.mc", big_mc()),
        ("sendmail.cf", big_cf()),
        ("exchange", big_exchange()),
    ] {
        let input = [Input::new(name, text.as_str())];
        let (mut t, mut d, mut fx) = (Vec::new(), Vec::new(), Vec::new());
        let mut findings = 0;
        for _ in 0..runs {
            let s = Instant::now();
            let r = analyze(&input, &opts).expect("report");
            t.push(s.elapsed().as_secs_f64() * 1000.0);
            findings = r.findings.len();
            // The detection step alone, and fix() (what the page runs).
            let s = Instant::now();
            std::hint::black_box(detect::detect(&split_files(&input), None));
            d.push(s.elapsed().as_secs_f64() * 1000.0);
            let s = Instant::now();
            std::hint::black_box(fix(&input, &opts).expect("report"));
            fx.push(s.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "{name:<12} {:>6} lines {:>8} bytes  analyze() median {:7.2} ms  min {:7.2} ms  \
             (detection median {:.2} ms, min {:.2} ms; fix() median {:.2} ms, min {:.2} ms; \
             {findings} findings, {runs} runs)",
            text.lines().count(),
            text.len(),
            common::median(&t),
            common::min(&t),
            common::median(&d),
            common::min(&d),
            common::median(&fx),
            common::min(&fx),
        );
        if let Ok(dir) = std::env::var("BENCH_DIR") {
            let _ = std::fs::write(
                std::path::Path::new(&dir).join(format!("big-{name}.txt")),
                &text,
            );
        }
    }
}
