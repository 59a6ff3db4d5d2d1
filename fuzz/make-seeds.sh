#!/usr/bin/env bash
# Seed inputs for the postfix_config target from the committed postconf
# corpus: main.cf, a 0xFF byte, master.cf (the target's split).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p fuzz/seeds
for d in tests/postconf/corpus/*/; do
  n=$(basename "$d")
  { cat "$d/main.cf"; printf '\377'; cat "$d/master.cf"; } > "fuzz/seeds/$n"
done
echo "fuzz/seeds: $(ls fuzz/seeds | wc -l) inputs"
