#!/usr/bin/env bash
# Installs everything the test suite needs on a Debian 12 machine, and does
# nothing that is already done (a warm machine passes through in seconds).
#   - Debian packages: chromium (browser tests), fonts, iproute2, curl, python3,
#     postfix (its postconf is the oracle of shared/tests/postconf_diff.rs;
#     installed unconfigured, no daemon started), testssl.sh (the oracle of
#     tests/e2e/testssl.test.mjs and bench/smtp_probe_vs_testssl.sh). The test bed installs its
#     own (`bed-up.sh --install --extra-mtas`, run by `cargo xtask test`):
#     Knot, Unbound, …, and Exim, Sendmail and OpenSMTPD unpacked from their
#     .debs, with their runtime libraries and m4
#   - the wasm32 Rust target
#   - npm packages pinned in package-lock.json (wrangler/workerd, playwright-core)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup %(%T)T] %s\n' -1 "$*"; }

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need_apt+=(fonts-dejavu-core)
command -v ip >/dev/null || need_apt+=(iproute2)
command -v curl >/dev/null || need_apt+=(curl ca-certificates)
[ -x /usr/bin/python3 ] || need_apt+=(python3)
[ -x /usr/sbin/postconf ] || need_apt+=(postfix)
command -v testssl >/dev/null || need_apt+=(testssl.sh)
if [ ${#need_apt[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: need root to apt-get install ${need_apt[*]}" >&2; exit 1; }
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # No postinst may start a daemon (port 25 of the host; works without
  # systemd too); removed again unless it was there before.
  policy_rc_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    policy_rc_created=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  # Postfix without a configuration: no main.cf written, nothing started.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  if [ $policy_rc_created = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

command -v node >/dev/null || { echo "setup: node (>= 20) is required; install it first" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "setup: node >= 20 required, found $(node --version)" >&2; exit 1; }
# npm ci only when node_modules was not installed from this exact lock file.
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.mailaudit-lock 2>/dev/null)" != "$want" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > node_modules/.mailaudit-lock
fi
log "ready"
