//! CPU time of one domain audit in our code: the engine (look-up planning,
//! DNS wire decoding, SPF/DMARC/DKIM/MTA-STS/DNSSEC/blocklist judgement),
//! the NDJSON lines a streamed audit sends and the report's JSON, as the
//! Worker runs them (`audit_domain_streaming`, probes off, the free plan's
//! budget of 50 subrequests and 6 at once). The network is replaced by the
//! recorded answers of the test bed (`tests/fixtures/audit_cpu/*.json`,
//! written by `bench/record_audit_cpu.sh` with `mailaudit audit --record`),
//! answered at once ([`Answers`]), so nothing but our code runs. Each
//! replay must give the recorded report's statuses with no unrecorded
//! request, or the bench fails. Not a test; no dependencies:
//!
//!     cargo bench -p mailaudit-core --bench audit_cpu -- [RUNS] [FIXTURE_DIR]
//!
//! Each domain is replayed in 5 windows of RUNS consecutive audits (default
//! 50); the figure is the mean per audit of the median window.
//!
//! Natively the time is the thread's CPU time (`/proc/thread-self/schedstat`,
//! on-CPU nanoseconds, updated at scheduler ticks: hence windows of many
//! audits; other processes' load does not count) and its wall time. The same file builds for wasm32-unknown-unknown and runs in node
//! (`node bench/audit_cpu_wasm.mjs`: the engine as the edge runs it, wasm,
//! timed by `performance.now()` around each audit).

use mailaudit_core::audit::{audit_domain_streaming, AuditOptions};
use mailaudit_core::critical_path::Answers;
use mailaudit_core::web;

/// One recorded domain audit.
struct Fixture {
    name: String,
    domain: String,
    opts: AuditOptions,
    statuses: Vec<(String, String)>,
    answers: Answers,
}

fn fixture(name: &str, text: &str) -> Result<Fixture, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default();
    let mut opts = AuditOptions::new(s("resolver"), s("now"));
    // As the Worker: no probes, its deadline's text, the default budget.
    opts.probe = false;
    opts.no_probe_reason = "Not run from this deployment.".into();
    opts.deadline_secs = Some(web::DEFAULT_DEADLINE_SECS);
    opts.selectors = v
        .get("selectors")
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    opts.blocklists.zone_suffix = v
        .get("blocklist_zone_suffix")
        .and_then(|x| x.as_str())
        .map(str::to_string);
    let statuses = v
        .get("statuses")
        .and_then(|x| x.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let answers = Answers::from_json(v.get("exchanges").unwrap_or(&serde_json::Value::Null))
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(Fixture {
        name: name.to_string(),
        domain: s("domain").to_string(),
        opts,
        statuses,
        answers,
    })
}

/// One audit as the Worker's streaming route makes it: the start line, a
/// line per finding, the report line and the report's JSON for the cache.
/// Returns the findings' statuses and the bytes produced.
fn audit_once(f: &Fixture) -> (Vec<(String, String)>, usize) {
    f.answers.rewind();
    let mut bytes = web::ndjson::start(&f.domain).len();
    let report = futures::executor::block_on(audit_domain_streaming(
        &f.answers,
        &f.domain,
        &f.opts,
        std::future::pending(),
        |x| bytes += web::ndjson::finding(x).len(),
    ))
    .expect("a valid domain");
    bytes += web::ndjson::report(&report).len();
    bytes += serde_json::to_string(&report).map(|j| j.len()).unwrap_or(0);
    let mut statuses: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|x| (x.id.clone(), x.status.as_str().to_string()))
        .collect();
    statuses.sort();
    (statuses, bytes)
}

/// Replays every fixture once and checks it is faithful.
fn check(fixtures: &[Fixture]) -> Result<(), String> {
    for f in fixtures {
        let (got, _) = audit_once(f);
        let mut want = f.statuses.clone();
        want.sort();
        if f.answers.unrecorded() > 0 {
            return Err(format!(
                "{}: {} request(s) not in the recording",
                f.name,
                f.answers.unrecorded()
            ));
        }
        if got != want {
            let diff: Vec<String> = got
                .iter()
                .filter(|g| !want.contains(g))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            return Err(format!(
                "{}: the replay's statuses differ from the recording's: {}",
                f.name,
                diff.join(" ")
            ));
        }
    }
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Times every fixture: `REPS` windows of `runs` consecutive audits each
/// (a window is long enough for a coarse clock), the mean per audit in each
/// window, and the median window per domain. Returns the summary as JSON.
fn bench(fixtures: &[Fixture], runs: usize, clock: &dyn Fn() -> f64, what: &str) -> String {
    const REPS: usize = 5;
    let runs = runs.max(1);
    let mut per_domain = Vec::new();
    let mut medians = Vec::new();
    for f in fixtures {
        let mut windows: Vec<f64> = (0..REPS)
            .map(|_| {
                let t = clock();
                for _ in 0..runs {
                    std::hint::black_box(audit_once(f));
                }
                (clock() - t) / runs as f64
            })
            .collect();
        let m = median(&mut windows);
        medians.push(m);
        per_domain.push(serde_json::json!({
            "domain": f.name,
            "exchanges": f.answers.len(),
            "ms_per_audit": round3(m),
            "fastest_window_ms": round3(windows.first().copied().unwrap_or(0.0)),
        }));
    }
    let total: f64 = medians.iter().sum();
    serde_json::json!({
        "clock": what,
        "audits_per_window": runs,
        "windows": REPS,
        "domains": fixtures.len(),
        "mean_ms_per_audit": round3(total / fixtures.len().max(1) as f64),
        "median_ms_per_audit": round3(median(&mut medians.clone())),
        "slowest_domain_ms_per_audit": round3(medians.iter().copied().fold(0.0, f64::max)),
        "per_domain": per_domain,
    })
    .to_string()
}

/// `BENCH_RESULT` lines for `cargo xtask bench` (see bench/result.py) from
/// a summary of [`bench`]: the mean over the domains and the slowest
/// domain, against issue 5's 10 ms of CPU per audit. `node
/// bench/audit_cpu_wasm.mjs` prints the same two for wasm.
#[cfg(not(target_arch = "wasm32"))]
fn print_results(summary: &str, how: &str) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(summary) else {
        return;
    };
    let f = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let (domains, runs) = (f("domains"), f("audits_per_window"));
    let (mean, slowest) = (f("mean_ms_per_audit"), f("slowest_domain_ms_per_audit"));
    for (figure, ms) in [
        (
            format!(
                "engine CPU per Worker audit ({how}), mean over {domains} recorded test-bed domains, \
                 median of 5 windows of {runs} audits"
            ),
            mean,
        ),
        (format!("same, slowest domain ({how})"), slowest),
    ] {
        println!(
            "BENCH_RESULT {}",
            serde_json::json!({
                "figure": figure,
                "ours": ms,
                "unit": "ms",
                "target": "under 10 ms",
                "met": ms < 10.0,
            })
        );
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let runs: usize = args.first().and_then(|n| n.parse().ok()).unwrap_or(50);
    let dir = args.get(1).cloned().unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/audit_cpu").to_string()
    });
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let fixtures: Vec<Fixture> = paths
        .iter()
        .map(|p| {
            let name = p.file_stem().unwrap_or_default().to_string_lossy();
            fixture(&name, &std::fs::read_to_string(p).expect("fixture")).unwrap()
        })
        .collect();
    assert!(!fixtures.is_empty(), "no fixtures in {dir}");
    if let Err(e) = check(&fixtures) {
        eprintln!("audit_cpu: {e}");
        std::process::exit(1);
    }
    let thread_cpu = || -> f64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .map(|ns| ns / 1e6)
            .unwrap_or(f64::NAN)
    };
    let started = std::time::Instant::now();
    let cpu = bench(&fixtures, runs, &thread_cpu, "thread CPU time (schedstat)");
    println!("native cpu: {cpu}");
    print_results(&cpu, "native, release, thread CPU time");
    let t0 = started;
    let wall = bench(
        &fixtures,
        runs,
        &|| t0.elapsed().as_secs_f64() * 1000.0,
        "wall (Instant)",
    );
    println!("native wall: {wall}");
}

#[cfg(target_arch = "wasm32")]
fn main() {}

/// The wasm side: node hands each fixture's text in (`bench_alloc`,
/// `bench_add`), then `bench_run` times the rounds with the host's
/// `performance.now()` and leaves the summary for `bench_result*`.
#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::*;
    use std::cell::RefCell;

    #[link(wasm_import_module = "env")]
    extern "C" {
        fn now_ms() -> f64;
    }

    thread_local! {
        static FIXTURES: RefCell<Vec<Fixture>> = const { RefCell::new(Vec::new()) };
        static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        static RESULT: RefCell<String> = const { RefCell::new(String::new()) };
    }

    #[no_mangle]
    pub extern "C" fn bench_alloc(len: usize) -> *mut u8 {
        INPUT.with(|i| {
            let mut i = i.borrow_mut();
            *i = vec![0; len];
            i.as_mut_ptr()
        })
    }

    /// Parses the text last written into the `bench_alloc` buffer; 0 if it
    /// is a fixture, 1 if not (the reason is the result).
    #[no_mangle]
    pub extern "C" fn bench_add() -> u32 {
        let text = INPUT.with(|i| String::from_utf8_lossy(&i.borrow()).into_owned());
        match fixture("wasm", &text) {
            Ok(mut f) => {
                f.name = f.domain.clone();
                FIXTURES.with(|x| x.borrow_mut().push(f));
                0
            }
            Err(e) => {
                RESULT.with(|r| *r.borrow_mut() = e);
                1
            }
        }
    }

    #[no_mangle]
    pub extern "C" fn bench_run(runs: u32) -> u32 {
        FIXTURES.with(|x| {
            let fixtures = x.borrow();
            let (code, out) = match check(&fixtures) {
                Ok(()) => (
                    0,
                    bench(
                        &fixtures,
                        runs as usize,
                        &|| unsafe { now_ms() },
                        "wall (performance.now)",
                    ),
                ),
                Err(e) => (1, e),
            };
            RESULT.with(|r| *r.borrow_mut() = out);
            code
        })
    }

    #[no_mangle]
    pub extern "C" fn bench_result_ptr() -> *const u8 {
        RESULT.with(|r| r.borrow().as_ptr())
    }

    #[no_mangle]
    pub extern "C" fn bench_result_len() -> usize {
        RESULT.with(|r| r.borrow().len())
    }
}
