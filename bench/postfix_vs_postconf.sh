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
python3 - "$DIR" <<'PY'
import sys, random
d = sys.argv[1]
r = random.Random(5000)
read = ["smtpd_tls_security_level", "smtpd_relay_restrictions", "smtpd_recipient_restrictions",
        "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
        "smtpd_banner", "mynetworks", "smtpd_tls_protocols", "smtp_tls_security_level",
        "disable_vrfy_command", "smtpd_helo_required", "message_size_limit",
        "smtpd_client_connection_rate_limit", "smtpd_milters", "postscreen_dnsbl_sites"]
other = ["smtp_helo_timeout = 300s", "queue_run_delay = 300s", "bounce_queue_lifetime = 5d",
         "maximal_queue_lifetime = 5d", "alias_maps = hash:/etc/aliases", "recipient_delimiter = +",
         "virtual_alias_maps = hash:/etc/postfix/virtual", "header_checks = regexp:/etc/postfix/hc"]
lines = ["# generated: 5,000 lines", "compatibility_level = 3.6",
         "myhostname = mail.example.org", "mydomain = example.org",
         "mynetworks = 127.0.0.0/8 [::1]/128"]
i = 0
while len(lines) < 5000:
    k = r.randrange(10)
    i += 1
    if k == 0:
        lines.append(f"# comment {i}: {'x' * r.randrange(60)}")
    elif k == 1:
        lines.append("")
    elif k in (2, 3):
        lines.append(f"site_{i} = 10.{i % 250}.{i % 7}.0/24" + (f" $site_{i-1}" if r.randrange(3) else ""))
    elif k == 4:
        name = r.choice(read[:6])
        lines += [f"{name} =", "    permit_mynetworks,", f"    check_client_access hash:/etc/postfix/a{i},",
                  "    reject_unauth_destination"]
    elif k == 5:
        lines.append(f"smtpd_banner = $myhostname ESMTP {i}")
    elif k == 6:
        lines.append(f"mynetworks = 127.0.0.0/8 ${{site_{max(i-1, 1)}?{{$site_{max(i-1, 1)}}}}}")
    elif k == 7:
        lines.append(f"smtpd_tls_security_level = {r.choice(['may', 'encrypt', 'none'])}")
    else:
        lines.append(r.choice(other))
open(f"{d}/main.cf", "w").write("\n".join(lines[:5000]) + "\n")
m = ["smtp      inet  n       -       y       -       -       smtpd",
     "pickup    unix  n       -       y       60      1       pickup",
     "cleanup   unix  n       -       y       -       0       cleanup",
     "qmgr      unix  n       -       n       300     1       qmgr",
     "relay     unix  -       -       y       -       -       smtp",
     "        -o syslog_name=postfix/$service_name"]
j = 0
while len(m) < 200:
    j += 1
    m += [f"127.0.0.{j}:{10025 + j} inet n - n - - smtpd",
          "  -o content_filter=",
          f"  -o {{ smtpd_client_restrictions = permit_mynetworks, reject }}",
          f"  -o mynetworks=127.0.0.0/8 $site_{j}",
          f"  -o syslog_name=postfix/filter{j}"]
open(f"{d}/master.cf", "w").write("\n".join(m[:200]) + "\n")
PY
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
ver=$("$PC" -c "$DIR" -d -h mail_version 2>/dev/null)
python3 - "$pc" "$engine" "$parse" "$cli" "$RUNS" "$ver" <<'PY'
import sys
pc, eng, parse, cli, runs, ver = map(str, sys.argv[1:])
pc, eng, parse, cli = map(float, (pc, eng, parse, cli))
print(f"postconf -n (Postfix {ver})         {pc:9.2f} ms   (median of {runs})")
print(f"engine: analyze() in-process         {eng:9.2f} ms   {pc / eng:7.1f}x faster")
print(f"engine: parse only                   {parse:9.2f} ms   {pc / parse:7.1f}x faster")
print(f"CLI: mailaudit config --format json  {cli:9.2f} ms   {pc / cli:7.1f}x faster")
PY
