#!/usr/bin/env bash
# The front-end files the services serve themselves (Swagger UI for /docs), never from a CDN:
# the packages pinned in web/package-lock.json, installed by `npm ci` into web/node_modules
# (the services' AAP_ASSETS_DIR). Re-installs only when the lock file changed since the last
# install. Install scripts are not run: no package needs one, and some would call home.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "[assets] $*"; }

web="$AAP_REPO/web"
stamp="$web/node_modules/.aap-installed"
want="$(sha256sum "$web/package-lock.json" | cut -c1-64)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no npm and no apt-get: not installed, /docs will say so; install Node.js and npm, then run $0"
    exit 0
  fi
  SUDO=()
  [[ "$(id -u)" == 0 ]] || SUDO=(sudo -n)
  say "no npm found; installing Debian's npm"
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi
say "installing the pinned front-end packages (npm ci in web/)"
(cd "$web" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
echo "$want" > "$stamp"
