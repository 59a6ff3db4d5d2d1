#!/bin/bash
# Tear down the bed:  bed-down.sh [--purge]
# TERM (then KILL) exactly the processes living in netns $BED_NS (nothing else on the machine is
# touched), delete the namespace (its veth pair goes with it; the host end mb-host is deleted too if
# it is still there), remove /etc/netns/$BED_NS and run/bed.env. The run dir (logs) is kept unless
# --purge.
# Safe to run when nothing is up. Must run as root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd); RUN=${BED_RUN:-$HERE/run}; NS=${BED_NS:-mailbed}
PURGE=0
for a in "$@"; do case $a in --purge) PURGE=1;; *) echo "unknown argument $a (usage: bed-down.sh [--purge])" >&2; exit 2;; esac; done
[ "$(id -u)" = 0 ] || { echo "bed-down: must run as root" >&2; exit 1; }
ns_exists() { ip netns list 2>/dev/null | awk -v n="$NS" '$1==n{f=1} END{exit !f}'; }
if ns_exists; then
  # polite postfix stop first (flushes nothing: all transports discard)
  for d in "$RUN"/pf-*/etc; do
    [ -f "$d/main.cf" ] && timeout 20 ip netns exec "$NS" postfix -c "$d" stop >/dev/null 2>&1
  done
  pids=$(ip netns pids "$NS")
  [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
  for _ in $(seq 50); do [ -z "$(ip netns pids "$NS")" ] && break; sleep 0.2; done
  pids=$(ip netns pids "$NS"); [ -n "$pids" ] && { echo "bed-down: KILL $(echo $pids)"; kill -KILL $pids 2>/dev/null; sleep 0.5; }
  ip netns del "$NS" || echo "bed-down: could not delete netns $NS" >&2
fi
ip link del mb-host 2>/dev/null || true
rm -rf /etc/netns/"$NS"; rmdir /etc/netns 2>/dev/null
# the bed is gone: a stale bed.env would point tests at 198.18.25.x, which without the veth would
# follow the host's default route off the machine
if [ -e "$RUN/.mailbed-run" ]; then rm -f "$RUN/bed.env"; fi
if [ $PURGE = 1 ] && [ -e "$RUN/.mailbed-run" ]; then rm -rf "$RUN"; fi
if ns_exists || ip link show mb-host >/dev/null 2>&1; then echo "bed-down: $NS NOT fully down" >&2; exit 1; fi
echo "bed $NS down"
