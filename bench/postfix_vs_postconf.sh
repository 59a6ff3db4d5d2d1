#!/usr/bin/env bash
# Performance benchmark (not a test): mailaudit's Postfix analysis against
# `postconf -n` on the same generated 5,000-line main.cf + 200-line master.cf.
#
#   bash bench/postfix_vs_postconf.sh [RUNS]      (default 31; median of RUNS)
#
# Times, each the median of RUNS:
#   postconf   `postconf -c DIR -n` (Postfix parses main.cf and master.cf and
#              prints the non-default parameters; output to /dev/null)
#   engine     `analyze()` in-process, release build (parse, expand, 23 rules,
#              report): shared/benches/postfix.rs
#   fix        `fix()` in-process: the report and the fixed files (what the
#              page runs on a paste)
#   cli        `mailaudit config --format json DIR/main.cf DIR/master.cf`,
#              release build, end to end (process start, reading, JSON)
# and the ratios. Target: engine and CLI at least 10x faster than postconf -n.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-31}
PC=${POSTCONF:-/usr/sbin/postconf}
[ -x "$PC" ] || { echo "bench: no postconf at $PC (apt-get install postfix, or set POSTCONF)" >&2; exit 2; }
# BENCH_DIR=dir keeps the generated files there (for profiling).
if [ -n "${BENCH_DIR:-}" ]; then DIR=$BENCH_DIR; mkdir -p "$DIR"
else DIR=$(mktemp -d /tmp/mailaudit-bench.XXXXXX); trap 'rm -rf "$DIR"' EXIT; fi

# ---- the configuration: deterministic, realistic mix --------------------
python3 bench/gen_postfix_config.py "$DIR"
echo "bench: $(wc -l <"$DIR/main.cf") lines main.cf, $(wc -l <"$DIR/master.cf") lines master.cf in $DIR"

# ---- builds (release) ----------------------------------------------------
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build -q --release -p mailaudit
cargo bench -q -p mailaudit-core --bench postfix --no-run 2>/dev/null
CLI="$CARGO_TARGET_DIR/release/mailaudit"

# ---- timing --------------------------------------------------------------
median_ms() { # command...: median wall time of RUNS runs, in ms
  python3 - "$RUNS" "$@" <<'PY'
import subprocess, sys, time, statistics
runs, cmd = int(sys.argv[1]), sys.argv[2:]
ts = []
for _ in range(runs):
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"PATH": "/usr/sbin:/usr/bin:/bin"})
    ts.append(time.perf_counter() - t)
    if p.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} exited {p.returncode}")
print(f"{statistics.median(ts) * 1e3:.2f}")
PY
}
pc=$(median_ms "$PC" -c "$DIR" -n)
cli=$(median_ms "$CLI" config --format json "$DIR/main.cf" "$DIR/master.cf")
eng=$(cargo bench -q -p mailaudit-core --bench postfix -- "$DIR" "$RUNS" 2>/dev/null)
engine=$(sed -n 's/^engine_analyze_median_ms=//p' <<<"$eng")
parse=$(sed -n 's/^engine_parse_median_ms=//p' <<<"$eng")
fixm=$(sed -n 's/^engine_fix_median_ms=//p' <<<"$eng")
ver=$("$PC" -c "$DIR" -d -h mail_version 2>/dev/null)
python3 - "$pc" "$engine" "$parse" "$cli" "$RUNS" "$ver" "$fixm" <<'PY'
import subprocess, sys
pc, eng, parse, cli, runs, ver, fixm = map(str, sys.argv[1:])
pc, eng, parse, cli, fixm = map(float, (pc, eng, parse, cli, fixm))
print(f"postconf -n (Postfix {ver})         {pc:9.2f} ms   (median of {runs})")
print(f"engine: analyze() in-process         {eng:9.2f} ms   {pc / eng:7.1f}x faster")
print(f"engine: fix() (report + fixes)       {fixm:9.2f} ms   {pc / fixm:7.1f}x faster")
print(f"engine: parse only                   {parse:9.2f} ms   {pc / parse:7.1f}x faster")
print(f"CLI: mailaudit config --format json  {cli:9.2f} ms   {pc / cli:7.1f}x faster")
# Machine-readable lines for `cargo xtask bench`.
for fig, ours in [
    (f"Postfix, generated 5,000-line main.cf + 200-line master.cf: engine analyze() vs postconf -n (Postfix {ver}), medians of {runs}", eng),
    ("same: engine fix() (the report and the fixed files, what the page runs)", fixm),
    ("same: Config::parse alone", parse),
    ("same: CLI `mailaudit config --format json`, end to end", cli),
]:
    subprocess.run([sys.executable, "bench/result.py", f"figure={fig}", f"ours={ours:.2f}", f"theirs={pc:.2f}",
                    "unit=ms", f"ratio={pc / ours:.1f}", "ratio_of=faster", "target=10x faster",
                    f"met={str(pc / ours >= 10).lower()}"], check=True)
PY
grep -E '^engine_(split|detect|rules)' <<<"$eng"
