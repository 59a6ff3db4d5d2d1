#!/usr/bin/env python3
"""Prints one machine-readable benchmark result line for `cargo xtask bench`:

    BENCH_RESULT {"figure": ..., "ours": ..., "theirs": ..., "unit": ..., "ratio": ..., ...}

usage: result.py key=value ...   (values that parse as numbers become numbers;
true/false become booleans; an empty value is null)

Keys read by xtask (every one optional but `figure`):
  figure  what was measured              ours    our figure (number)
  theirs  the other tool's or the bound  unit    unit of ours/theirs (ms, lines/s, KiB)
  ratio   the ratio as the target states it (e.g. theirs/ours for "N x faster")
  ratio_of  how the ratio reads ("faster", "of the critical path")
  target  the target in words            met     true/false (null: no target)
  note    anything else worth a column
The scripts keep printing their human-readable lines; xtask only reads these.
"""
import json
import sys


def value(v):
    if v == "":
        return None
    if v in ("true", "false"):
        return v == "true"
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v else f


out = {}
for arg in sys.argv[1:]:
    k, sep, v = arg.partition("=")
    if not sep:
        sys.exit(f"result.py: {arg!r} is not key=value")
    out[k] = value(v)
if "figure" not in out:
    sys.exit("result.py: figure= is required")
print("BENCH_RESULT " + json.dumps(out), flush=True)
