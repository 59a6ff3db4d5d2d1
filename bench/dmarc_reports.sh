#!/usr/bin/env bash
# Performance benchmark (not a test): DMARC aggregate reports analysed
# natively. Generates N report files (bench/gen_dmarc_reports.py: a third
# zip, a third gzip, a third plain XML; ROWS records each), then times
#   engine   Batch::add for every file + finish, in-process, one thread,
#            files already in memory (shared/benches/dmarc.rs; median of RUNS)
#   cli      `mailaudit dmarc-reports DIR --format json`, release build, end to
#            end: reading the files, parsing on every core, the report
#            (median of RUNS)
# Target (issue 8): 10,000 files, about 1 million rows, under 5 s.
#
#   bash bench/dmarc_reports.sh [N=10000] [ROWS=100] [RUNS=3]
#
# BENCH_DIR=dir keeps the generated files there (and reuses them if present).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
ROWS=${2:-100}
RUNS=${3:-3}
if [ -n "${BENCH_DIR:-}" ]; then DIR=$BENCH_DIR; mkdir -p "$DIR"
else DIR=$(mktemp -d /tmp/mailaudit-dmarc.XXXXXX); trap 'rm -rf "$DIR"' EXIT; fi

if [ "$(find "$DIR" -maxdepth 1 -type f | wc -l)" -ne "$N" ]; then
  find "$DIR" -maxdepth 1 -type f -delete
  python3 bench/gen_dmarc_reports.py "$DIR" "$N" "$ROWS"
fi
echo "bench: $(find "$DIR" -maxdepth 1 -type f | wc -l) files, $(du -sh "$DIR" | cut -f1) on disk in $DIR"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build -q --release -p mailaudit
cargo bench -q -p mailaudit-core --bench dmarc --no-run 2>/dev/null
CLI="$CARGO_TARGET_DIR/release/mailaudit"

eng=$(cargo bench -q -p mailaudit-core --bench dmarc -- "$DIR" "$RUNS" 2>/dev/null)
cli=$(python3 - "$RUNS" "$CLI" "$DIR" <<'PY'
import subprocess, sys, time, statistics
runs, cli, d = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ts = []
for _ in range(runs):
    t = time.perf_counter()
    p = subprocess.run([cli, "dmarc-reports", d, "--format", "json"], stdout=subprocess.DEVNULL)
    ts.append(time.perf_counter() - t)
    if p.returncode not in (0, 1):
        sys.exit(f"mailaudit exited {p.returncode}")
print(f"{statistics.median(ts) * 1e3:.0f}")
PY
)
get() { sed -n "s/^$1=//p" <<<"$eng"; }
echo "files $(get files), rows $(get rows), $(get input_mb) MB on disk, $(nproc) cores"
echo "engine (one thread, in memory):  $(get engine_median_ms) ms wall, $(get engine_cpu_median_ms) ms CPU   (open+parse $(get engine_parse_median_ms) ms, fold+judge $(get engine_fold_median_ms) ms; median of $RUNS)"
echo "cli dmarc-reports (all cores):   $cli ms   (median of $RUNS)"
echo "load average: $(cut -d" " -f1-3 /proc/loadavg)"
# Machine-readable lines for `cargo xtask bench` (bench/result.py).
python3 bench/result.py "figure=DMARC aggregate reports, $(get files) files, $(get rows) rows: \`mailaudit dmarc-reports\` (release, $(nproc) cores), median of $RUNS" \
  ours="$cli" unit=ms "target=under 5 s" met="$(awk -v m="$cli" 'BEGIN{print (m < 5000) ? "true" : "false"}')"
python3 bench/result.py "figure=same files: engine, one thread, files in memory (open+parse $(get engine_parse_median_ms) ms, fold+judge $(get engine_fold_median_ms) ms)" \
  ours="$(get engine_median_ms)" unit=ms
