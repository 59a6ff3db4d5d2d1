//! Build chores: `cargo xtask <command>`.
//!
//! - `site [-- SERVE ARGS]`  build everything the site needs and serve it on http://127.0.0.1:8080/
//! - `test`                  install what the tests need, then run every test (what CI runs)
//! - `build-site`            frontend → wasm → bindgen → `<target>/site`
//! - `build-worker`          worker → wasm → bindgen → `worker/build`
//! - `sizes`                 raw and gzip sizes of the two wasm modules and the widget loader
//! - `bench [--quick] [--only NAME]`  every benchmark side by side; rewrites the generated
//!   block of BENCHMARKS.md (see bench.rs)
//! - `fuzz-smoke [SECS]`     every cargo-fuzz target for SECS seconds (default 15) on the
//!   committed corpus (pinned nightly and cargo-fuzz); fails on a crash
//!
//! wasm-bindgen runs as a library (wasm-bindgen-cli-support, pinned to the
//! same version as the `wasm-bindgen` crate), so no separate tool install.

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench;

type Result<T> = std::result::Result<T, String>;

/// The workspace root, found at run time: a target dir shared between
/// checkouts (CI's clones) may hold an xtask built from another checkout, so
/// the path compiled into the binary cannot be trusted. `cargo run` sets
/// CARGO_MANIFEST_DIR to this checkout's xtask/ for the process.
fn root() -> PathBuf {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .or_else(|| env::current_dir().ok().map(|d| d.join("xtask")))
            .expect("run through `cargo xtask` from the workspace");
        manifest_dir
            .parent()
            .expect("xtask lives in the workspace")
            .to_path_buf()
    })
    .clone()
}

/// The variables `cargo run` sets for xtask itself, which every child would
/// otherwise inherit: build scripts that watch them (ring's watches
/// CARGO_MANIFEST_DIR and CARGO_PKG_*) rerun, and everything above them
/// rebuilds, whenever they differ from the last build's (another checkout's
/// path, a build run by hand or by a bench script). `root()` is read first.
fn scrub_cargo_run_env() {
    let _ = root();
    for (k, _) in env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "OUT_DIR",
            ]
            .contains(&k.as_ref())
        {
            env::remove_var(k.as_ref());
        }
    }
}

fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(mut cmd: Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    eprintln!("xtask: $ {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("failed ({status}): {shown}"))
    }
}

fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let t = Instant::now();
    eprintln!("xtask: == {name}");
    let r = f();
    eprintln!(
        "xtask: == {name}: {} in {:.1} s",
        if r.is_ok() { "ok" } else { "FAILED" },
        t.elapsed().as_secs_f64()
    );
    r
}

fn bindgen(wasm: &Path, out_dir: &Path, out_name: &str) -> Result<()> {
    fs::create_dir_all(out_dir).map_err(|e| e.to_string())?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .web(true)
        .map_err(|e| e.to_string())?
        .typescript(false)
        .omit_default_module_path(false)
        .out_name(out_name)
        .generate(out_dir)
        .map_err(|e| format!("wasm-bindgen on {}: {e}", wasm.display()))
}

fn ensure_wasm_target() -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup: {e}"))?;
    if !String::from_utf8_lossy(&out.stdout).contains("wasm32-unknown-unknown") {
        let mut c = Command::new("rustup");
        c.args(["target", "add", "wasm32-unknown-unknown"]);
        run(c)?;
    }
    Ok(())
}

fn wasm_build(package: &str, bin: bool, profile: &str) -> Result<PathBuf> {
    ensure_wasm_target()?;
    let mut c = cargo();
    c.args([
        "build",
        "--package",
        package,
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        profile,
    ]);
    if !bin {
        c.arg("--lib");
    }
    run(c)?;
    // cargo keeps a bin's hyphens in the file name, and turns a lib's into underscores.
    let file = if bin {
        package.to_string()
    } else {
        package.replace('-', "_")
    };
    Ok(target_dir()
        .join("wasm32-unknown-unknown")
        .join(profile)
        .join(format!("{file}.wasm")))
}

pub fn site_dir() -> PathBuf {
    target_dir().join("site")
}

fn build_site() -> Result<()> {
    let wasm = wasm_build("mailaudit-frontend", true, "wasm-release")?;
    let out = site_dir();
    let _ = fs::remove_dir_all(&out);
    bindgen(&wasm, &out, "mailaudit_frontend")?;
    wasm_opt(&out.join("mailaudit_frontend_bg.wasm"), "-Oz")?;
    // The second module: the offline analysers, fetched only by the paste
    // and logs tabs (frontend/offline). Built for speed, not size: it has no
    // size budget, and a 10k-line paste must be analysed in under 20 ms.
    let offline = wasm_build("mailaudit-offline", false, "wasm-fast")?;
    bindgen(&offline, &out, "mailaudit_offline")?;
    wasm_opt(&out.join("mailaudit_offline_bg.wasm"), "-O3")?;
    // With its subdirectories: widget/ (the frameable page) and demo/.
    copy_dir(&root().join("frontend/static"), &out)?;
    // Security headers for Workers static assets (the API sets its own).
    fs::write(
        out.join("_headers"),
        mailaudit_core::web::assets_headers_file(),
    )
    .map_err(|e| e.to_string())?;
    eprintln!("xtask: site built in {}", out.display());
    Ok(())
}

/// Copies the files of `from` into `to`, subdirectories included.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &dest)?;
        } else {
            fs::copy(&path, &dest).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Shrinks a module in place with binaryen's wasm-opt from npm (pinned in
/// package-lock.json; Debian's binaryen 108 breaks these modules). Skipped,
/// with a note, where `npm ci` has not been run.
fn wasm_opt(module: &Path, level: &str) -> Result<()> {
    let tool = root().join("node_modules/.bin/wasm-opt");
    if !tool.exists() {
        eprintln!(
            "xtask: wasm-opt not installed (npm ci): {} left unoptimised",
            module.display()
        );
        return Ok(());
    }
    let tmp = module.with_extension("opt.wasm");
    let mut c = Command::new(tool);
    c.arg(level).arg(module).arg("-o").arg(&tmp);
    run(c)?;
    fs::rename(&tmp, module).map_err(|e| e.to_string())
}

fn build_worker() -> Result<()> {
    let wasm = wasm_build("mailaudit-worker", false, "wasm-release")?;
    let out = root().join("worker/build");
    let _ = fs::remove_dir_all(&out);
    bindgen(&wasm, &out, "index")?;
    wasm_opt(&out.join("index_bg.wasm"), "-Oz")?;
    // The Worker's static assets are the site.
    let assets = out.join("site");
    fs::create_dir_all(&assets).map_err(|e| e.to_string())?;
    if site_dir().is_dir() {
        copy_dir(&site_dir(), &assets)?;
    } else {
        eprintln!("xtask: no built site yet: the Worker will serve the API only");
    }
    eprintln!("xtask: worker built in {}", out.display());
    Ok(())
}

fn gz_len(data: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = e.write_all(data);
    e.finish().map(|v| v.len()).unwrap_or(0)
}

/// The budget of the wasm the landing page, the domain audit and the widget
/// load (issue 6: "site wasm under 400 KB gzip"); the offline analysers'
/// module, fetched only by the paste and logs tabs, is reported beside it.
pub const FIRST_MODULE_GZIP_BUDGET: usize = 400_000;

/// The artefacts `sizes` reports, by name.
fn size_paths() -> [(&'static str, PathBuf); 4] {
    [
        (
            "frontend (first module)",
            site_dir().join("mailaudit_frontend_bg.wasm"),
        ),
        (
            "frontend offline analysers (second module)",
            site_dir().join("mailaudit_offline_bg.wasm"),
        ),
        ("worker", root().join("worker/build/index_bg.wasm")),
        ("widget loader", site_dir().join("widget.js")),
    ]
}

fn sizes() -> Result<()> {
    let first = site_dir().join("mailaudit_frontend_bg.wasm");
    for (name, path) in size_paths() {
        match fs::read(&path) {
            Ok(b) => eprintln!(
                "xtask: size {name}: {:.1} KiB raw, {:.1} KiB gzip ({})",
                b.len() as f64 / 1024.0,
                gz_len(&b) as f64 / 1024.0,
                path.display()
            ),
            Err(_) => eprintln!("xtask: size {name}: not built ({})", path.display()),
        }
    }
    if let Ok(b) = fs::read(&first) {
        let gz = gz_len(&b);
        if gz > FIRST_MODULE_GZIP_BUDGET {
            return Err(format!(
                "the site's first wasm module is {gz} bytes gzip, over the budget of {FIRST_MODULE_GZIP_BUDGET}"
            ));
        }
    }
    Ok(())
}

fn cli_binary() -> PathBuf {
    target_dir().join("debug/mailaudit")
}

fn site(extra: &[String]) -> Result<()> {
    step("build site", build_site)?;
    step("build cli", || {
        let mut c = cargo();
        c.args(["build", "--package", "mailaudit"]);
        run(c)
    })?;
    let mut c = Command::new(cli_binary());
    c.arg("serve").arg("--site").arg(site_dir());
    if !extra.iter().any(|a| a == "--listen") {
        c.args(["--listen", "127.0.0.1:8080"]);
    }
    c.args(extra);
    run(c)
}

/// The nightly that builds the fuzz targets (cargo-fuzz needs
/// `-Zsanitizer`). Pinned so that CI does not pick up a new nightly's
/// breakage; `rustup toolchain install` fetches it once.
const FUZZ_TOOLCHAIN: &str = "nightly-2026-05-19";
/// cargo-fuzz, installed (`--locked`) only when missing.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// Default seconds per target: 13 targets, two at a time, stay under
/// ~2 minutes of fuzzing plus the (warm) build.
const FUZZ_SMOKE_SECS: u64 = 15;

fn quiet_ok(mut c: Command) -> bool {
    c.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The pinned nightly, installed if missing; if it cannot be installed
/// (no route to the rustup dist server), any installed `nightly`, so that
/// an offline machine with a nightly still runs the smoke.
fn ensure_fuzz_toolchain() -> Result<String> {
    let has = |tc: &str| {
        let mut c = Command::new("rustup");
        c.args(["run", tc, "rustc", "-V"]);
        quiet_ok(c)
    };
    if has(FUZZ_TOOLCHAIN) {
        return Ok(FUZZ_TOOLCHAIN.into());
    }
    let mut c = Command::new("rustup");
    c.args([
        "toolchain",
        "install",
        FUZZ_TOOLCHAIN,
        "--profile",
        "minimal",
    ]);
    match run(c) {
        Ok(()) => Ok(FUZZ_TOOLCHAIN.into()),
        Err(e) if has("nightly") => {
            eprintln!("xtask: {e}; falling back to the installed `nightly`");
            Ok("nightly".into())
        }
        Err(e) => Err(e),
    }
}

fn ensure_cargo_fuzz() -> Result<()> {
    let mut c = cargo();
    c.args(["fuzz", "--version"]);
    if quiet_ok(c) {
        return Ok(());
    }
    let mut c = cargo();
    c.args([
        "install",
        "--locked",
        "cargo-fuzz",
        "--version",
        CARGO_FUZZ_VERSION,
    ]);
    run(c)
}

/// The `[[bin]]` names of fuzz/Cargo.toml, in file order.
fn fuzz_targets() -> Result<Vec<String>> {
    let toml = fs::read_to_string(root().join("fuzz/Cargo.toml")).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut in_bin = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if let Some(v) = line.strip_prefix("name").filter(|_| in_bin) {
            let name = v
                .trim_start()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"');
            out.push(name.to_string());
        }
    }
    if out.is_empty() {
        return Err("fuzz/Cargo.toml lists no targets".into());
    }
    Ok(out)
}

/// A value of libFuzzer's final stats (`stat::NAME: N`).
fn fuzz_stat(log: &str, name: &str) -> Option<u64> {
    log.lines()
        .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
        .and_then(|v| v.trim().parse().ok())
}

/// Builds every fuzz target once, then runs each for `secs` seconds on a
/// fresh copy of its committed corpus (`fuzz/corpus/<target>`), two at a
/// time. Any crash, leak, timeout (10 s per input) or out-of-memory
/// (2 GB) fails; the input is kept under `<fuzz target dir>/artifacts/`.
fn fuzz_smoke(secs: u64) -> Result<()> {
    let r = root();
    let toolchain = step("fuzz toolchain", ensure_fuzz_toolchain)?;
    step("cargo-fuzz", ensure_cargo_fuzz)?;
    // Its own target dir (sanitizer flags differ from the workspace's), kept
    // warm between CI runs under CARGO_TARGET_DIR.
    let dir = target_dir().join("fuzz");
    step("build fuzz targets", || {
        // `rustup run`: `cargo xtask` runs under the stable toolchain,
        // whose cargo and rustc it passes down in CARGO/RUSTC.
        let mut c = Command::new("rustup");
        c.current_dir(&r)
            .args([
                "run",
                &toolchain,
                "cargo",
                "fuzz",
                "build",
                "--fuzz-dir",
                "fuzz",
            ])
            .env("CARGO_TARGET_DIR", &dir);
        // Nor stable's cargo and rustc (the rest of `cargo run`'s variables
        // are gone from xtask's environment: scrub_cargo_run_env).
        for k in ["CARGO", "RUSTC", "RUSTUP_TOOLCHAIN"] {
            c.env_remove(k);
        }
        run(c)
    })?;
    let targets = fuzz_targets()?;
    let bin_dir = dir.join("x86_64-unknown-linux-gnu/release");
    let work = dir.join("smoke");
    let _ = fs::remove_dir_all(&work);
    let jobs = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 2);
    step(
        &format!("fuzz {} targets x {secs} s", targets.len()),
        || {
            let mut failed = Vec::new();
            let mut rows = Vec::new();
            for batch in targets.chunks(jobs) {
                let mut running = Vec::new();
                for t in batch {
                    let corpus = work.join("corpus").join(t);
                    let artifacts = dir.join("artifacts").join(t);
                    fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
                    fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
                    let log_path = work.join(format!("{t}.log"));
                    let log = fs::File::create(&log_path).map_err(|e| e.to_string())?;
                    let mut c = Command::new(bin_dir.join(t));
                    c.current_dir(&r)
                        .arg(&corpus)
                        .arg(r.join("fuzz/corpus").join(t))
                        .arg(format!("-max_total_time={secs}"))
                        .args(["-rss_limit_mb=2048", "-timeout=10", "-print_final_stats=1"])
                        .arg(format!("-artifact_prefix={}/", artifacts.display()))
                        .stdout(log.try_clone().map_err(|e| e.to_string())?)
                        .stderr(log);
                    let dict = r.join(format!(
                        "fuzz/{}.dict",
                        t.split('_').next().unwrap_or(t.as_str())
                    ));
                    if dict.exists() {
                        c.arg(format!("-dict={}", dict.display()));
                    }
                    let child = c
                        .spawn()
                        .map_err(|e| format!("{}: {e}", bin_dir.join(t).display()))?;
                    running.push((t.clone(), child, log_path));
                }
                for (t, mut child, log_path) in running {
                    let status = child.wait().map_err(|e| e.to_string())?;
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    let runs = fuzz_stat(&log, "number_of_executed_units").unwrap_or(0);
                    rows.push(format!(
                        "xtask:   {t:<18} {runs:>10} execs {:>8} /s  {}",
                        runs / secs.max(1),
                        if status.success() { "ok" } else { "CRASH" }
                    ));
                    if !status.success() {
                        let tail: Vec<&str> = log.lines().rev().take(40).collect();
                        eprintln!(
                            "xtask: fuzz target {t} failed ({status}); end of {}:",
                            log_path.display()
                        );
                        for l in tail.into_iter().rev() {
                            eprintln!("  {l}");
                        }
                        failed.push(t);
                    }
                }
            }
            for row in rows {
                eprintln!("{row}");
            }
            if failed.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "fuzz targets crashed: {} (inputs in {}; see fuzz/README.md)",
                    failed.join(", "),
                    dir.join("artifacts").display()
                ))
            }
        },
    )
}

fn test() -> Result<()> {
    let total = Instant::now();
    let r = root();
    eprintln!("xtask: workspace {}", r.display());
    step("install test dependencies", || {
        let mut c = Command::new("bash");
        c.arg(r.join("tests/setup.sh"));
        run(c)
    })?;
    step("rustfmt", || {
        let mut c = cargo();
        c.args(["fmt", "--all", "--check"]);
        run(c)
    })?;
    step("clippy (native)", || {
        let mut c = cargo();
        c.args([
            "clippy",
            "--workspace",
            "--exclude",
            "mailaudit-frontend",
            "--exclude",
            "mailaudit-worker",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]);
        run(c)
    })?;
    step("clippy (wasm)", || {
        ensure_wasm_target()?;
        let mut c = cargo();
        c.args([
            "clippy",
            "-p",
            "mailaudit-frontend",
            "-p",
            "mailaudit-worker",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]);
        run(c)
    })?;
    // After the cheap checks and before the bed: a crash fails the run in
    // about three minutes (warm build) rather than after the whole suite.
    step("fuzz smoke", || fuzz_smoke(FUZZ_SMOKE_SECS))?;
    // The bed comes up first: the Rust tests include live probes of its
    // mail servers (BED_ENV), and `--install` brings the Debian postfix whose
    // postconf the differential test uses as its oracle. `--extra-mtas` adds
    // Exim, Sendmail and OpenSMTPD (shared/tests/mta_bed.rs probes them;
    // about 1 s more once their packages are unpacked).
    let bed = r.join("tests/testbed");
    let bed_env = bed.join("run/bed.env");
    step("test bed up", || {
        let mut c = Command::new("bash");
        c.arg(bed.join("bin/bed-up.sh"))
            .arg("--install")
            .arg("--extra-mtas");
        run(c)
    })?;
    let out = r.join("tests/out");
    let _ = fs::create_dir_all(&out);
    let tests = (|| {
        step("rust tests", || {
            let mut c = cargo();
            c.args([
                "test",
                "--workspace",
                "--exclude",
                "mailaudit-frontend",
                "--exclude",
                "mailaudit-worker",
            ])
            .env("BED_ENV", &bed_env)
            .env("BED_REQUIRED", "1");
            run(c)
        })?;
        step("build site", build_site)?;
        step("build worker", build_worker)?;
        step("build cli", || {
            let mut c = cargo();
            c.args(["build", "--package", "mailaudit"]);
            run(c)
        })?;
        step(
            "end-to-end tests (CLI, Worker under workerd, browser)",
            || {
                let mut c = Command::new("node");
                c.current_dir(&r)
                    .args(["--test", "--test-concurrency=1"])
                    .arg("tests/e2e/")
                    .env("MAILAUDIT_BIN", cli_binary())
                    .env("MAILAUDIT_SITE", site_dir())
                    .env("BED_ENV", &bed_env)
                    .env("TEST_OUT", &out)
                    .env("WORKER_DIR", r.join("worker"));
                run(c)
            },
        )
    })();
    let down = step("test bed down", || {
        let mut c = Command::new("bash");
        c.arg(bed.join("bin/bed-down.sh"));
        run(c)
    });
    tests?;
    down?;
    sizes()?;
    eprintln!(
        "xtask: all tests passed in {:.0} s",
        total.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    scrub_cargo_run_env();
    let args: Vec<String> = env::args().skip(1).collect();
    let rest: Vec<String> = args
        .iter()
        .skip(1)
        .filter(|a| *a != "--")
        .cloned()
        .collect();
    let r = match args.first().map(String::as_str) {
        Some("site") => site(&rest),
        Some("test") => test(),
        Some("build-site") => step("build site", build_site),
        Some("build-worker") => step("build worker", build_worker),
        Some("sizes") => sizes(),
        Some("bench") => bench::Options::parse(&rest).and_then(|o| bench::bench(&o)),
        Some("fuzz-smoke") => match rest.first().map(|s| s.parse::<u64>()) {
            None => fuzz_smoke(FUZZ_SMOKE_SECS),
            Some(Ok(secs)) if secs > 0 => fuzz_smoke(secs),
            Some(_) => Err("usage: cargo xtask fuzz-smoke [SECS]".into()),
        },
        _ => Err(
            "usage: cargo xtask <site [-- SERVE ARGS] | test | build-site | build-worker | sizes \
             | bench [--quick] [--only NAME[,NAME]] | fuzz-smoke [SECS]>"
                .into(),
        ),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
