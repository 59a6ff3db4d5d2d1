//! `cargo xtask bench [--quick] [--only NAME]...`: every benchmark side by
//! side, and their figures in `BENCHMARKS.md`.
//!
//! Each benchmark is a script under `bench/` (or an xtask step) that prints
//! its human-readable lines and, last, one `BENCH_RESULT {json}` line per
//! figure (`bench/result.py`). This runs them one after the other, shows
//! their output as it comes, collects those lines and rewrites the block
//! between `<!-- bench:begin -->` and `<!-- bench:end -->` in BENCHMARKS.md:
//! one table per benchmark with the figure, ours, theirs, ratio, target,
//! whether it is met, the exact command, the date and the load average
//! (as `uptime` shows it) before and after. The hand-written sections
//! around the block are left as they are. With `--only`, the sections of
//! the benchmarks not run are kept from the previous block.
//!
//! The test bed: the DNS and SMTP benchmarks need it. A bed that is up
//! (`BED_ENV`, else `tests/testbed/run/bed.env`, whose namespace exists) is
//! used as it is; otherwise this brings it up with the bed's own script and
//! takes it down again at the end.

use crate::{cargo, root, run, target_dir, Result};
use std::env;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BEGIN: &str = "<!-- bench:begin -->";
pub const END: &str = "<!-- bench:end -->";
const SECTION: &str = "<!-- bench:section ";

/// The benchmarks, in the order they run and appear.
pub const NAMES: &[(&str, &str)] = &[
    ("dns", "DNS audit vs checkdmarc, and vs the critical path"),
    ("smtp", "SMTP/TLS probe vs testssl.sh --starttls smtp"),
    ("postfix", "Postfix analysis vs postconf -n"),
    ("maillog", "Mail-log analysis, lines per second"),
    ("dmarc", "DMARC aggregate reports"),
    ("sizes", "wasm sizes"),
    ("worker-cpu", "Worker CPU per audit"),
    (
        "browser",
        "Browser timings (the page's own performance.now() figures)",
    ),
];

#[derive(Debug, Default)]
pub struct Options {
    pub only: Vec<String>,
    pub quick: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--quick" => o.quick = true,
                "--only" => {
                    let v = it.next().ok_or("--only needs a benchmark name")?;
                    for name in v.split(',') {
                        if !NAMES.iter().any(|(n, _)| *n == name) {
                            return Err(format!(
                                "unknown benchmark {name:?}; known: {}",
                                NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                            ));
                        }
                        o.only.push(name.to_string());
                    }
                }
                other => return Err(format!("bench: unknown argument {other:?}")),
            }
        }
        Ok(o)
    }

    fn selected(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|n| n == name)
    }
}

/// One figure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub figure: String,
    pub ours: Option<f64>,
    pub theirs: Option<f64>,
    pub unit: String,
    pub ratio: Option<f64>,
    pub ratio_of: String,
    pub target: String,
    pub met: Option<bool>,
    pub note: String,
}

impl Row {
    fn text(figure: impl Into<String>, note: impl Into<String>) -> Row {
        Row {
            figure: figure.into(),
            note: note.into(),
            ..Row::default()
        }
    }

    /// A `BENCH_RESULT {json}` line's row.
    pub fn parse(line: &str) -> Option<Row> {
        let json = line.strip_prefix("BENCH_RESULT ")?;
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        let s = |k: &str| match v.get(k) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let n = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
        Some(Row {
            figure: s("figure"),
            ours: n("ours"),
            theirs: n("theirs"),
            unit: s("unit"),
            ratio: n("ratio"),
            ratio_of: s("ratio_of"),
            target: s("target"),
            met: v.get("met").and_then(serde_json::Value::as_bool),
            note: s("note"),
        })
    }
}

/// One benchmark's results.
#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    pub rows: Vec<Row>,
    pub command: String,
    pub date: String,
    pub load: String,
}

fn num(x: f64) -> String {
    let s = if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    // Thousands separators on the integer part.
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render_section(s: &Section) -> String {
    let title = NAMES
        .iter()
        .find(|(n, _)| *n == s.name)
        .map_or("", |(_, t)| *t);
    let mut out = format!("{SECTION}{} -->\n### `{}`: {title}\n\n", s.name, s.name);
    out.push_str("| figure | ours | theirs | ratio | target | met? | command | date | load |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for r in &s.rows {
        let with_unit = |x: Option<f64>| match x {
            Some(x) if r.unit.is_empty() => num(x),
            Some(x) => format!("{} {}", num(x), r.unit),
            None => "—".into(),
        };
        let ratio = match r.ratio {
            Some(x) if r.ratio_of.is_empty() => format!("{}x", num(x)),
            Some(x) => format!("**{}x** {}", num(x), r.ratio_of),
            None => "—".into(),
        };
        let met = match r.met {
            Some(true) => "**met**",
            Some(false) => "**not met**",
            None => "—",
        };
        let figure = if r.note.is_empty() {
            r.figure.clone()
        } else {
            format!("{} ({})", r.figure, r.note)
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | `{}` | {} | {} |\n",
            cell(&figure),
            with_unit(r.ours),
            with_unit(r.theirs),
            ratio,
            if r.target.is_empty() {
                "—"
            } else {
                &r.target
            },
            met,
            cell(&s.command),
            s.date,
            s.load,
        ));
    }
    out.push('\n');
    out
}

/// The sections of an existing block, by name.
pub fn parse_block(block: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(SECTION) {
            let name = rest.trim_end().trim_end_matches("-->").trim().to_string();
            out.push((name, String::new()));
        }
        if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
        }
    }
    out
}

/// BENCHMARKS.md with the block replaced by `sections` (new ones) and the
/// kept sections of the old block; the block is added after the
/// introduction when there is none yet.
pub fn rewrite(doc: &str, new: &[Section]) -> String {
    let (before, old_block, after) = match (doc.find(BEGIN), doc.find(END)) {
        (Some(b), Some(e)) if b < e => (
            doc[..b].to_string(),
            doc[b + BEGIN.len()..e].to_string(),
            doc[e + END.len()..].to_string(),
        ),
        _ => {
            // After the introduction: before the first `## ` heading.
            let at = doc.find("\n## ").map_or(doc.len(), |i| i + 1);
            (
                format!(
                    "{}## All benchmarks side by side (`cargo xtask bench`)\n\n",
                    &doc[..at]
                ),
                String::new(),
                format!("\n\n{}", &doc[at..]),
            )
        }
    };
    let old = parse_block(&old_block);
    let mut body = String::from(
        "\n*Generated by `cargo xtask bench` (all; `--only NAME` re-runs one and keeps the \
         others, `--quick` takes fewer repetitions). Do not edit by hand: the hand-written \
         sections below keep the history and the explanations.*\n\n",
    );
    for (name, _) in NAMES {
        if let Some(s) = new.iter().find(|s| s.name == *name) {
            body.push_str(&render_section(s));
        } else if let Some((_, text)) = old.iter().find(|(n, _)| n == name) {
            body.push_str(text);
        }
    }
    format!("{before}{BEGIN}{body}{END}{after}")
}

fn date() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The load averages (1, 5, 15 min), as `uptime` shows them.
fn load() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Runs `cmd`, passing its output through to stderr, and returns the rows
/// of its `BENCH_RESULT` lines (and whether it succeeded).
fn collect(mut cmd: Command) -> Result<(Vec<Row>, bool)> {
    let shown = format!("{cmd:?}");
    eprintln!("xtask: $ {shown}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    let mut rows = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            eprintln!("  {line}");
            if let Some(r) = Row::parse(&line) {
                rows.push(r);
            }
        }
    }
    let ok = child.wait().map(|s| s.success()).unwrap_or(false);
    Ok((rows, ok))
}

/// The test bed's environment file.
fn bed_env() -> PathBuf {
    env::var_os("BED_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("tests/testbed/run/bed.env"))
}

/// A variable of the bed's environment file.
fn bed_var(env_file: &Path, key: &str) -> Option<String> {
    let text = fs::read_to_string(env_file).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(|s| s.trim_matches('"').to_string())
}

fn bed_is_up(env_file: &Path) -> bool {
    let Some(ns) = bed_var(env_file, "BED_NS") else {
        return false;
    };
    Command::new("ip")
        .args(["netns", "exec", &ns, "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// checkdmarc 6.0.4 (the version of the recorded figures): `CHECKDMARC`,
/// the venv the bench script names, or a venv made in the target dir.
fn checkdmarc() -> Result<PathBuf> {
    if let Some(p) = env::var_os("CHECKDMARC") {
        return Ok(PathBuf::from(p));
    }
    let usual = PathBuf::from("/tmp/cdvenv/bin/checkdmarc");
    if usual.exists() {
        return Ok(usual);
    }
    let venv = target_dir().join("bench-venv");
    let bin = venv.join("bin/checkdmarc");
    if !bin.exists() {
        let mut c = Command::new("python3");
        c.args(["-m", "venv"]).arg(&venv);
        run(c)?;
        let mut c = Command::new(venv.join("bin/pip"));
        c.args(["install", "--quiet", "checkdmarc==6.0.4"]);
        run(c)?;
    }
    Ok(bin)
}

struct Ctx {
    quick: bool,
    bed_env: PathBuf,
    release_cli: PathBuf,
}

fn script(ctx: &Ctx, file: &str, args: &[String]) -> (Command, String) {
    let mut c = Command::new("bash");
    c.current_dir(root())
        .arg(format!("bench/{file}"))
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("BED_ENV", &ctx.bed_env)
        .env("NO_BUILD", "1")
        .env("MAILAUDIT", &ctx.release_cli)
        .env("MAILAUDIT_BIN", &ctx.release_cli);
    let shown = format!("bash bench/{file} {}", args.join(" "));
    (c, shown.trim_end().to_string())
}

fn scripted(ctx: &Ctx, name: &str, file: &str, args: &[&str], env: &[(&str, String)]) -> Section {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut c, mut shown) = script(ctx, file, &args);
    let mut prefix = String::new();
    for (k, v) in env {
        c.env(k, v);
        if *k != "CHECKDMARC" {
            prefix.push_str(&format!("{k}={v} "));
        }
    }
    shown = format!("{prefix}{shown}");
    measured(name, shown, || collect(c))
}

/// Times one benchmark: date and load before and after around `f`.
fn measured(name: &str, command: String, f: impl FnOnce() -> Result<(Vec<Row>, bool)>) -> Section {
    let date = date();
    let before = load();
    let (mut rows, ok) = match f() {
        Ok(r) => r,
        Err(e) => (Vec::new(), {
            eprintln!("xtask: bench {name}: {e}");
            false
        }),
    };
    if rows.is_empty() {
        rows.push(Row::text(
            "no figure",
            if ok {
                "the benchmark printed no BENCH_RESULT line"
            } else {
                "the benchmark failed: see its output"
            },
        ));
    } else if !ok {
        rows.push(Row::text("warning", "the benchmark exited with an error"));
    }
    Section {
        name: name.to_string(),
        rows,
        command,
        date,
        load: format!("{before} → {}", load()),
    }
}

fn sizes_section() -> Section {
    measured("sizes", "cargo xtask sizes".into(), || {
        let site = crate::site_dir();
        if !site.join("mailaudit_frontend_bg.wasm").exists() {
            crate::step("build site", crate::build_site)?;
        }
        if !root().join("worker/build/index_bg.wasm").exists() {
            crate::step("build worker", crate::build_worker)?;
        }
        let mut rows = Vec::new();
        for (name, path) in crate::size_paths() {
            rows.push(match fs::read(&path) {
                Ok(b) => {
                    let gz = crate::gz_len(&b);
                    let first = name.starts_with("frontend (first");
                    Row {
                        figure: format!("{name}, gzip -9 ({:.1} KiB raw)", b.len() as f64 / 1024.0),
                        ours: Some(gz as f64 / 1024.0),
                        unit: "KiB".into(),
                        target: if first {
                            format!("{} B gzip", num(crate::FIRST_MODULE_GZIP_BUDGET as f64))
                        } else {
                            String::new()
                        },
                        met: first.then_some(gz <= crate::FIRST_MODULE_GZIP_BUDGET),
                        ..Row::default()
                    }
                }
                Err(_) => Row::text(name, format!("not built ({})", path.display())),
            });
        }
        Ok((rows, true))
    })
}

fn worker_cpu_section() -> Section {
    let bench = root().join("shared/benches/audit_cpu.rs");
    let cmd = "cargo bench -p mailaudit-core --bench audit_cpu";
    if !bench.exists() {
        eprintln!("xtask: worker-cpu: not available (no shared/benches/audit_cpu.rs)");
        return measured("worker-cpu", cmd.into(), || {
            Ok((
                vec![Row::text(
                    "Worker CPU per audit",
                    "not available: shared/benches/audit_cpu.rs does not exist on this branch",
                )],
                true,
            ))
        });
    }
    let cmd = format!(
        "{cmd}; cargo build -p mailaudit-core --bench audit_cpu --release \
         --target wasm32-unknown-unknown; node bench/audit_cpu_wasm.mjs 50"
    );
    measured("worker-cpu", cmd, || {
        // Natively (thread CPU time), then the same bench as wasm in V8
        // (what workerd runs; wrangler dev reports no CPU time itself).
        let mut c = cargo();
        c.args([
            "bench",
            "-q",
            "-p",
            "mailaudit-core",
            "--bench",
            "audit_cpu",
        ]);
        let (mut rows, mut ok) = collect(c)?;
        let mut c = cargo();
        c.args([
            "build",
            "-q",
            "-p",
            "mailaudit-core",
            "--bench",
            "audit_cpu",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
        ]);
        if run(c).is_ok() {
            let mut c = Command::new("node");
            c.current_dir(root())
                .args(["bench/audit_cpu_wasm.mjs", "50"])
                .env("CARGO_TARGET_DIR", target_dir());
            let (wasm, wasm_ok) = collect(c)?;
            rows.extend(wasm);
            ok &= wasm_ok;
        } else {
            ok = false;
        }
        if rows.is_empty() && ok {
            return Ok((
                vec![Row::text(
                    "Worker CPU per audit",
                    "the bench ran but printed no BENCH_RESULT line: see its output",
                )],
                true,
            ));
        }
        Ok((rows, ok))
    })
}

/// Rows from the browser tests' `perf*.json` files in `dir`.
pub fn browser_rows(dir: &Path) -> Vec<Row> {
    let read = |f: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&fs::read_to_string(dir.join(f)).ok()?).ok()
    };
    let mut rows = Vec::new();
    let at = |v: &serde_json::Value| {
        v.get("measured_at")
            .and_then(|s| s.as_str())
            .map(|s| format!("measured {s}"))
            .unwrap_or_default()
    };
    // A series of runs (tests/e2e/site-lib.mjs `timedRuns`): `median_ms`
    // of the `runs` timed runs, the warm-up run(s) (`warmup_ms`, the first
    // `first_ms`) left out; older records have only first/median.
    let timed = |figure: &str, v: &serde_json::Value, key: &str, target: Option<f64>| {
        let ms = v.get(key).and_then(serde_json::Value::as_f64)?;
        let f64_of = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
        let runs = v.get("runs").and_then(serde_json::Value::as_u64);
        let warmups = v
            .get("warmup_ms")
            .and_then(serde_json::Value::as_array)
            .map(Vec::len);
        let mut parts = Vec::new();
        match (f64_of("first_ms"), warmups) {
            (Some(f), Some(w)) if w > 0 => parts.push(format!(
                "first {} ms (warm-up, {w} run(s) left out)",
                num(f)
            )),
            (Some(f), _) => parts.push(format!("first {} ms", num(f))),
            _ => {}
        }
        if let (Some(lo), Some(hi)) = (f64_of("min_ms"), f64_of("max_ms")) {
            parts.push(format!("min {} max {} ms", num(lo), num(hi)));
        }
        let stamp = at(v);
        if !stamp.is_empty() {
            parts.push(stamp);
        }
        let figure = match runs {
            Some(n) if key == "median_ms" => format!("{figure} of {n}"),
            _ => figure.to_string(),
        };
        Some(Row {
            figure,
            ours: Some(ms),
            unit: "ms".into(),
            target: target
                .map(|t| format!("under {} ms", num(t)))
                .unwrap_or_default(),
            met: target.map(|t| ms < t),
            note: parts.join("; "),
            ..Row::default()
        })
    };
    if let Some(p) = read("perf.json") {
        let picks: &[(&str, &str, &str, Option<f64>)] = &[
            (
                "landing_first_render",
                "landing page, first render, median",
                "median_ms",
                Some(1000.0),
            ),
            (
                "big_config",
                "generated 5,000-line main.cf + 200-line master.cf pasted, median",
                "median_ms",
                Some(20.0),
            ),
            (
                "exim_big_config",
                "generated 10,000-line exim.conf pasted, median",
                "median_ms",
                Some(20.0),
            ),
            (
                "fail2ban_big",
                "stock jail.conf + 10,002-line jail.local pasted, median",
                "median_ms",
                Some(20.0),
            ),
            (
                "logs_big",
                "generated mail log in the page's Web Worker",
                "worker_ms",
                None,
            ),
            (
                "audit_render",
                "domain report render (weak.test, JSON at once), click to report",
                "ms",
                None,
            ),
        ];
        if let Some(ms) = p.get("analysis_ms").and_then(serde_json::Value::as_f64) {
            rows.push(Row {
                figure: "Debian 12 stock main.cf + master.cf pasted: analysis + fix plan".into(),
                ours: Some(ms),
                unit: "ms".into(),
                target: "under 50 ms".into(),
                met: Some(ms < 50.0),
                note: at(&p),
                ..Row::default()
            });
        }
        for (key, figure, field, target) in picks {
            if let Some(r) = p.get(*key).and_then(|v| timed(figure, v, field, *target)) {
                rows.push(r);
            }
        }
    }
    if let Some(serde_json::Value::Array(list)) = read("perf-smex.json") {
        for v in &list {
            let name = v
                .get("test")
                .and_then(|s| s.as_str())
                .unwrap_or("Sendmail/Exchange paste");
            let key = if v.get("median_ms").is_some() {
                "median_ms"
            } else {
                "analysis_ms"
            };
            let target = name.contains("lines").then_some(20.0);
            let figure = if key == "median_ms" {
                format!("{name} pasted, median")
            } else {
                format!("{name} pasted")
            };
            if let Some(r) = timed(&figure, v, key, target) {
                rows.push(r);
            }
        }
    }
    if let Some(d) = read("dmarc-perf.json") {
        if let Some(r) = timed(
            "1,000 DMARC report files (100,000 rows) in the page",
            &d,
            "analysis_ms",
            None,
        ) {
            rows.push(r);
        }
    }
    rows
}

fn browser_section(ctx: &Ctx) -> Section {
    // Figures an e2e run already wrote (TEST_OUT set by the caller).
    if let Some(out) = env::var_os("TEST_OUT").map(PathBuf::from) {
        let rows = browser_rows(&out);
        if !rows.is_empty() {
            return measured(
                "browser",
                format!(
                    "read from {}/perf*.json (the e2e tests' own figures)",
                    out.display()
                ),
                || Ok((rows, true)),
            );
        }
    }
    let files = [
        "tests/e2e/site.test.mjs",
        "tests/e2e/browser.test.mjs",
        "tests/e2e/sendmail_exchange.test.mjs",
        "tests/e2e/logs.test.mjs",
        "tests/e2e/dmarc.test.mjs",
    ];
    let command = format!("node --test --test-concurrency=1 {}", files.join(" "));
    measured("browser", command, || {
        if !crate::site_dir().join("index.html").exists() {
            crate::step("build site", crate::build_site)?;
        }
        let mut c = cargo();
        c.args(["build", "--package", "mailaudit"]);
        run(c)?;
        if !root().join("node_modules/playwright-core").exists() {
            let mut c = Command::new("npm");
            c.current_dir(root()).arg("ci");
            run(c)?;
        }
        let out = target_dir().join("bench-browser-out");
        let _ = fs::remove_dir_all(&out);
        fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let mut c = Command::new("node");
        c.current_dir(root())
            .args(["--test", "--test-concurrency=1"])
            .args(files)
            .env("MAILAUDIT_BIN", crate::cli_binary())
            .env("MAILAUDIT_SITE", crate::site_dir())
            .env("BED_ENV", &ctx.bed_env)
            .env("TEST_OUT", &out);
        if ctx.quick {
            // The 1M-line log is the long one; 100k in quick runs.
            c.env("LOGS_BENCH_LINES", "100000");
        }
        let (_, ok) = collect(c)?;
        Ok((browser_rows(&out), ok))
    })
}

pub fn bench(o: &Options) -> Result<()> {
    let needs_bed = o.selected("dns") || o.selected("smtp") || o.selected("browser");
    let bed = bed_env();
    let mut brought_up = false;
    if needs_bed && !bed_is_up(&bed) {
        eprintln!("xtask: no test bed up ({}): bringing it up", bed.display());
        let mut c = Command::new("bash");
        c.arg(root().join("tests/testbed/bin/bed-up.sh"))
            .arg("--install")
            .arg("--extra-mtas");
        run(c)?;
        brought_up = true;
    } else if needs_bed {
        eprintln!("xtask: using the test bed that is up ({})", bed.display());
    }
    let result = (|| {
        let release_cli = target_dir().join("release/mailaudit");
        // NO_BUILD=1: use the release CLI already built in the target dir.
        let no_build = env::var_os("NO_BUILD").is_some_and(|v| !v.is_empty());
        if (o.selected("dns") || o.selected("smtp")) && !(no_build && release_cli.exists()) {
            let mut c = cargo();
            c.args(["build", "--release", "--package", "mailaudit"]);
            run(c)?;
        }
        let ctx = Ctx {
            quick: o.quick,
            bed_env: bed.clone(),
            release_cli,
        };
        let q = |quick: &'static str, full: &'static str| if o.quick { quick } else { full };
        let mut sections = Vec::new();
        for (name, _) in NAMES {
            if !o.selected(name) {
                continue;
            }
            eprintln!("xtask: == bench {name}");
            let s = match *name {
                "dns" => {
                    let cd = checkdmarc()?;
                    scripted(
                        &ctx,
                        name,
                        "dns_audit_vs_checkdmarc.sh",
                        &[q("5", "11")],
                        &[("CHECKDMARC", cd.display().to_string())],
                    )
                }
                // The MX with the expired certificate: the same hardened Postfix as
                // mail.example.test, so that testssl's few hundred connections do not
                // disturb tests that use .25 at the same time.
                "smtp" => {
                    let addr = bed_var(&bed, "BED_MX_CERTEXPIRED")
                        .unwrap_or_else(|| "198.18.25.30".into());
                    scripted(
                        &ctx,
                        name,
                        "smtp_probe_vs_testssl.sh",
                        &[q("1", "3")],
                        &[
                            ("DOMAIN", "certexpired.example.test".into()),
                            ("ADDR", addr),
                        ],
                    )
                }
                "postfix" => scripted(&ctx, name, "postfix_vs_postconf.sh", &[q("7", "31")], &[]),
                "maillog" => scripted(&ctx, name, "maillog.sh", &[q("3", "5"), "1000000"], &[]),
                "dmarc" => scripted(
                    &ctx,
                    name,
                    "dmarc_reports.sh",
                    &["10000", "100", q("1", "3")],
                    &[],
                ),
                "sizes" => sizes_section(),
                "worker-cpu" => worker_cpu_section(),
                "browser" => browser_section(&ctx),
                _ => unreachable!("every name in NAMES is handled"),
            };
            sections.push(s);
        }
        let path = root().join("BENCHMARKS.md");
        let doc = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        fs::write(&path, rewrite(&doc, &sections)).map_err(|e| e.to_string())?;
        for s in &sections {
            eprint!("{}", render_section(s));
        }
        eprintln!(
            "xtask: BENCHMARKS.md updated ({} benchmark(s))",
            sections.len()
        );
        Ok(())
    })();
    if brought_up {
        let mut c = Command::new("bash");
        c.arg(root().join("tests/testbed/bin/bed-down.sh"));
        run(c)?;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &str, figure: &str) -> Section {
        Section {
            name: name.into(),
            rows: vec![Row::parse(&format!(
                r#"BENCH_RESULT {{"figure": "{figure}", "ours": 258, "theirs": 2661, "unit": "ms", "ratio": 10.3, "ratio_of": "faster", "target": "5x faster", "met": true}}"#
            ))
            .unwrap()],
            command: "bash bench/x.sh 11".into(),
            date: "2026-11-29 22:00 UTC".into(),
            load: "1.0 1.0 1.0 → 2.0 2.0 2.0".into(),
        }
    }

    #[test]
    fn parses_result_lines() {
        let r = Row::parse(
            r#"BENCH_RESULT {"figure": "a|b", "ours": 1.5, "met": false, "theirs": null}"#,
        )
        .unwrap();
        assert_eq!(r.figure, "a|b");
        assert_eq!(r.ours, Some(1.5));
        assert_eq!(r.theirs, None);
        assert_eq!(r.met, Some(false));
        assert!(Row::parse("run 1: 258 ms").is_none());
        assert!(Row::parse("BENCH_RESULT {not json").is_none());
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(num(2661.4), "2,661");
        assert_eq!(num(10.34), "10.3");
        assert_eq!(num(1.234), "1.23");
        assert_eq!(num(1234567.0), "1,234,567");
        assert_eq!(num(-1500.0), "-1,500");
    }

    #[test]
    fn adds_the_block_after_the_introduction_and_keeps_the_rest() {
        let doc = "# Benchmarks\n\nintro\n\n## History\n\nold | table\n";
        let out = rewrite(doc, &[section("dns", "DNS")]);
        assert!(out.starts_with("# Benchmarks\n\nintro\n\n## All benchmarks"));
        assert!(out.ends_with("## History\n\nold | table\n"), "{out}");
        assert!(out.contains("| DNS | 258 ms | 2,661 ms | **10.3x** faster | 5x faster | **met** | `bash bench/x.sh 11` |"), "{out}");
        // Once there, the block is replaced in place; --only keeps the others.
        let again = rewrite(&out, &[section("postfix", "Postfix")]);
        assert_eq!(again.matches(BEGIN).count(), 1);
        assert!(again.contains("| DNS |") && again.contains("| Postfix |"));
        assert!(
            again.find("| DNS |") < again.find("| Postfix |"),
            "catalog order"
        );
        let replaced = rewrite(&again, &[section("dns", "DNS again")]);
        assert!(!replaced.contains("| DNS |") && replaced.contains("| DNS again |"));
        assert!(replaced.contains("| Postfix |"));
        assert!(replaced.ends_with("## History\n\nold | table\n"));
    }

    #[test]
    fn reads_the_browser_figures() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("perf.json"),
            r#"{"analysis_ms": 27.6, "measured_at": "t", "big_config": {"first_ms": 114.6, "median_ms": 20.7}}"#,
        )
        .unwrap();
        fs::write(
            dir.join("perf-smex.json"),
            r#"[{"test": "x, 9803 lines", "median_ms": 68}, {"test": "y, 9999 lines",
                "first_ms": 51.2, "warmup_ms": [51.2], "median_ms": 12.5, "min_ms": 11.9,
                "max_ms": 19.0, "runs": 15, "runs_ms": []}]"#,
        )
        .unwrap();
        let rows = browser_rows(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(rows.len(), 4, "{rows:#?}");
        assert_eq!(rows[3].ours, Some(12.5));
        assert_eq!(rows[3].met, Some(true));
        assert_eq!(rows[3].figure, "y, 9999 lines pasted, median of 15");
        assert_eq!(
            rows[3].note,
            "first 51.2 ms (warm-up, 1 run(s) left out); min 11.9 max 19.0 ms"
        );
        assert_eq!(rows[0].met, Some(true));
        assert_eq!(rows[1].ours, Some(20.7));
        assert_eq!(rows[1].met, Some(false));
        assert!(rows[1].note.contains("first 115 ms"), "{}", rows[1].note);
        assert_eq!(rows[2].met, Some(false));
    }
}
