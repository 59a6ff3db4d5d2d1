#!/usr/bin/env bash
# Installs everything the test suite needs on a Debian 12 machine, and does
# nothing that is already done (a warm machine passes through in seconds).
#   - Debian packages: chromium (browser tests), fonts, iproute2, curl, python3
#     (the test bed installs its own: Knot, Unbound, Postfix, …)
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
if [ ${#need_apt[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: need root to apt-get install ${need_apt[*]}" >&2; exit 1; }
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
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
