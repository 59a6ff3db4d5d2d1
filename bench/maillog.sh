#!/usr/bin/env bash
# The mail-log analyser on 1,000,000 generated Postfix lines (target: under
# 3 s natively). Generates the log (bench/gen_maillog.py, deterministic),
# builds the release bench (shared/benches/logs.rs) and the CLI, then times
# the engine in-process (median of RUNS) and the CLI end to end (streaming
# path: `mailaudit config FILE`).
#
#   bash bench/maillog.sh [RUNS] [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
lines=${2:-1000000}
# BENCH_DIR=dir keeps the generated log there (and reuses it); otherwise it is removed at the end.
if [ -n "${BENCH_DIR:-}" ]; then dir=$BENCH_DIR; mkdir -p "$dir"
else dir=$(mktemp -d /tmp/mailaudit-maillog.XXXXXX); trap 'rm -rf "$dir"' EXIT; fi
log="$dir/mail-$lines.log"
[ -f "$log" ] || python3 bench/gen_maillog.py "$log" "$lines"
ls -l "$log"
echo "load before: $(cat /proc/loadavg)"
out=$(cargo bench -q -p mailaudit-core --bench logs -- "$log" "$runs")
echo "$out"
cargo build -q --release -p mailaudit
target=${CARGO_TARGET_DIR:-target}
for i in 1 2 3; do
  /usr/bin/time -f "CLI: %e s wall, %M KiB max RSS" \
    "$target/release/mailaudit" config --now 2026-11-29T23:59:59Z --format json "$log" > /dev/null || true
done
echo "load after: $(cat /proc/loadavg)"
# Machine-readable lines for `cargo xtask bench` (from the bench's "median of N: X s (M MB/s, L M lines/s)").
med=$(sed -n 's/^median of [0-9]*: \([0-9.]*\) s .*/\1/p' <<<"$out")
mls=$(sed -n 's/.*MB\/s, \([0-9.]*\) M lines\/s.*/\1/p' <<<"$out")
nl=$(sed -n '1s/^\([0-9]*\) lines.*/\1/p' <<<"$out")
if [ -n "$med" ]; then
  python3 bench/result.py "figure=mail-log analyser (LogAnalyzer, all logs.* rules and stats), $nl generated Postfix lines, engine in-process, median of $runs" \
    ours="$med" unit=s "target=under 3 s" met="$(awk -v m="$med" 'BEGIN{print (m < 3) ? "true" : "false"}')" \
    "note=$mls M lines/s"
  python3 bench/result.py "figure=same, lines per second" ours="$(awk -v m="$mls" 'BEGIN{printf "%.0f", m*1e6}')" unit=lines/s
fi
