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
dir=${BENCH_DIR:-$(mktemp -d)}
log="$dir/mail-$lines.log"
[ -f "$log" ] || python3 bench/gen_maillog.py "$log" "$lines"
ls -l "$log"
echo "load before: $(cat /proc/loadavg)"
cargo bench -q -p mailaudit-core --bench logs -- "$log" "$runs"
cargo build -q --release -p mailaudit
target=${CARGO_TARGET_DIR:-target}
for i in 1 2 3; do
  /usr/bin/time -f "CLI: %e s wall, %M KiB max RSS" \
    "$target/release/mailaudit" config --now 2026-11-29T23:59:59Z --format json "$log" > /dev/null || true
done
echo "load after: $(cat /proc/loadavg)"
