#!/usr/bin/env bash
# Records the test bed's DNS/HTTPS answers for the audit_cpu bench: one
# `mailaudit audit --record` per bed domain, inside the bed's namespace,
# configured as the Worker audits (no probes, its budget of 50 subrequests
# and 6 at once, blocklist zones under bl.test). Writes
# tests/fixtures/audit_cpu/<domain>.json (committed; re-record after a
# change to what the audit asks). Needs the bed up and MAILAUDIT_BIN.
#
#   BED_ENV=tests/testbed/run/bed.env MAILAUDIT_BIN=target/debug/mailaudit bash bench/record_audit_cpu.sh
set -euo pipefail
: "${BED_ENV:?BED_ENV is not set}" "${MAILAUDIT_BIN:?MAILAUDIT_BIN is not set}"
# shellcheck disable=SC1090
. "$BED_ENV"
out="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/audit_cpu"
mkdir -p "$out"
rm -f "$out"/*.json
domains=(example.test weak.test nomail.test bogus.test lookups11.example.test
  extrua.example.test authrua.example.test dmarc2.example.test weakdkim.example.test
  stsmismatch.example.test ststesting.example.test stsredirect.example.test
  badrecords.example.test danebad.example.test hosted.example.test)
for d in "${domains[@]}"; do
  sel=()
  [ "$d" = example.test ] && sel=(--selector sel1)
  [ "$d" = weakdkim.example.test ] && sel=(--selector default --selector mail)
  rc=0
  ip netns exec "$BED_NS" "$MAILAUDIT_BIN" audit "$d" --resolver "$BED_DOH11_URL" --ca-file "$BED_CA" \
    --blocklist-zone-suffix bl.test --no-probe --budget 50 --concurrency 6 "${sel[@]}" \
    --record "$out/$d.json" --format json > /dev/null || rc=$?
  # Exit 1 is "findings at or above --fail-on", not an error.
  [ "$rc" -le 1 ] || { echo "audit $d: exit $rc" >&2; exit 1; }
  echo "$d: $(wc -c < "$out/$d.json") bytes"
done
