#!/bin/bash
# mailaudit's live SMTP+TLS probe vs testssl.sh's full STARTTLS scan of the same mail server,
# inside the test bed's namespace (root, bed up, testssl.sh installed: tests/setup.sh).
#   bench/smtp_probe_vs_testssl.sh [N]        (default N=5; alternating runs, medians)
# Environment:
#   MAILAUDIT_BIN  the CLI (default: target/release/mailaudit)
#   BED_ENV        default tests/testbed/run/bed.env
#   DOMAIN         audited domain (default example.test, MX mail.example.test = BED_MX_HARD)
#   ADDR           the MX address testssl scans (default $BED_MX_HARD); must be DOMAIN's MX
#   TESTSSL_ARGS   extra testssl arguments (default none: its full default run)
# Measured, wall time of the whole process each:
#   full     mailaudit audit DOMAIN                (DNS + live probe: STARTTLS, versions, ciphers,
#                                                   certificate, relay, VRFY/EXPN, smuggling, ports)
#   dns      mailaudit audit DOMAIN --no-probe     (the same audit without the live probe)
#   testssl  testssl --starttls smtp ADDR:25       (its full default run)
# probe-only ~ median(full) - median(dns): the probe runs after the MX lookup, so this is its share
# of the wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5}
BED_ENV=${BED_ENV:-tests/testbed/run/bed.env}
# shellcheck disable=SC1090
. "$BED_ENV"
BIN=${MAILAUDIT_BIN:-target/release/mailaudit}
DOMAIN=${DOMAIN:-example.test}
ADDR=${ADDR:-$BED_MX_HARD}
IN() { ip netns exec "$BED_NS" "$@"; }
command -v testssl >/dev/null || { echo "testssl not installed (tests/setup.sh)" >&2; exit 1; }
ms() { # cmd...: runs it, prints wall milliseconds
  local s e
  s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
  echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2) }'; }
range() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END{print lo "-" hi}'; }
AUDIT=(audit "$DOMAIN" --resolver "$BED_DOH_URL" --ca-file "$BED_CA" --blocklist-zone-suffix bl.test --format json)
full=() dns=() ts=()
for i in $(seq "$N"); do
  full+=("$(ms IN "$BIN" "${AUDIT[@]}")")
  dns+=("$(ms IN "$BIN" "${AUDIT[@]}" --no-probe)")
  # shellcheck disable=SC2086
  ts+=("$(ms IN testssl --quiet --color 0 --warnings off ${TESTSSL_ARGS:-} --starttls smtp "$ADDR:25")")
  echo "run $i: full ${full[-1]} ms, dns-only ${dns[-1]} ms, testssl ${ts[-1]} ms" >&2
done
mf=$(printf '%s\n' "${full[@]}" | median); md=$(printf '%s\n' "${dns[@]}" | median)
mt=$(printf '%s\n' "${ts[@]}" | median); mp=$(( mf - md > 0 ? mf - md : 1 ))
echo "runs: $N; domain $DOMAIN; server $ADDR:25"
echo "mailaudit full audit:   median ${mf} ms ($(printf '%s\n' "${full[@]}" | range))"
echo "mailaudit --no-probe:   median ${md} ms ($(printf '%s\n' "${dns[@]}" | range))"
echo "mailaudit probe share:  ${mp} ms"
echo "testssl --starttls smtp: median ${mt} ms ($(printf '%s\n' "${ts[@]}" | range))"
awk -v t="$mt" -v f="$mf" -v p="$mp" 'BEGIN{printf "ratio: testssl / full audit = %.1fx; testssl / probe share = %.1fx\n", t/f, t/p}'
# Machine-readable lines for `cargo xtask bench` (bench/result.py).
python3 bench/result.py "figure=SMTP/TLS audit of $DOMAIN ($ADDR:25): \`mailaudit audit\` (DNS + live probe) vs \`testssl --starttls smtp\` ${TESTSSL_ARGS:-(full default run)}, medians of $N" \
  ours="$mf" theirs="$mt" unit=ms ratio="$(awk -v t="$mt" -v f="$mf" 'BEGIN{printf "%.1f", t/f}')" ratio_of=faster \
  "target=20x faster" met="$(awk -v t="$mt" -v f="$mf" 'BEGIN{print (t >= 20*f) ? "true" : "false"}')" \
  "note=verdicts (versions, certificate expiry) compared by tests/e2e/testssl.test.mjs"
python3 bench/result.py "figure=same, mailaudit's probe share (full audit - --no-probe: ${md} ms) vs testssl" \
  ours="$mp" theirs="$mt" unit=ms ratio="$(awk -v t="$mt" -v p="$mp" 'BEGIN{printf "%.1f", t/p}')" ratio_of=faster \
  "target=20x faster" met="$(awk -v t="$mt" -v p="$mp" 'BEGIN{print (t >= 20*p) ? "true" : "false"}')"
