//! Build chores: `cargo xtask <command>`.
//!
//! - `site [-- SERVE ARGS]`  build everything the site needs and serve it on http://127.0.0.1:8080/
//! - `test`                  install what the tests need, then run every test (what CI runs)
//! - `build-site`            frontend → wasm → bindgen → `<target>/site`
//! - `build-worker`          worker → wasm → bindgen → `worker/build`
//! - `sizes`                 raw and gzip sizes of the two wasm modules and the widget loader
//! - `bench [--quick] [--only NAME]`  every benchmark side by side; rewrites the generated
//!   block of BENCHMARKS.md (see bench.rs)
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
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| env::current_dir().ok().map(|d| d.join("xtask")))
        .expect("run through `cargo xtask` from the workspace");
    manifest_dir
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
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

fn wasm_build(package: &str, bin: bool) -> Result<PathBuf> {
    ensure_wasm_target()?;
    let mut c = cargo();
    c.args([
        "build",
        "--package",
        package,
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
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
        .join("wasm32-unknown-unknown/wasm-release")
        .join(format!("{file}.wasm")))
}

pub fn site_dir() -> PathBuf {
    target_dir().join("site")
}

fn build_site() -> Result<()> {
    let wasm = wasm_build("mailaudit-frontend", true)?;
    let out = site_dir();
    let _ = fs::remove_dir_all(&out);
    bindgen(&wasm, &out, "mailaudit_frontend")?;
    wasm_opt(&out.join("mailaudit_frontend_bg.wasm"))?;
    // The second module: the offline analysers, fetched only by the paste
    // and logs tabs (frontend/offline).
    let offline = wasm_build("mailaudit-offline", false)?;
    bindgen(&offline, &out, "mailaudit_offline")?;
    wasm_opt(&out.join("mailaudit_offline_bg.wasm"))?;
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
fn wasm_opt(module: &Path) -> Result<()> {
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
    c.arg("-Oz").arg(module).arg("-o").arg(&tmp);
    run(c)?;
    fs::rename(&tmp, module).map_err(|e| e.to_string())
}

fn build_worker() -> Result<()> {
    let wasm = wasm_build("mailaudit-worker", false)?;
    let out = root().join("worker/build");
    let _ = fs::remove_dir_all(&out);
    bindgen(&wasm, &out, "index")?;
    wasm_opt(&out.join("index_bg.wasm"))?;
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
        _ => Err(
            "usage: cargo xtask <site [-- SERVE ARGS] | test | build-site | build-worker | sizes \
             | bench [--quick] [--only NAME[,NAME]]>"
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
