#!/usr/bin/env bash
# The project's virtualenv (.venv, Python 3.11) with the project and its test tools installed.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "[python] $*"; }

pick_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  say "no Python 3.11 found; installing Debian's python3 (3.11 on Debian 12)" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2
  command -v python3
}

venv="$AAP_REPO/.venv"
stamp="$venv/.aap-installed"
want="$(sha256sum "$AAP_REPO/pyproject.toml" | cut -c1-64)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
if [[ ! -x "$venv/bin/python" ]]; then
  py="$(pick_python)"
  say "creating $venv with $("$py" --version)"
  "$py" -m venv "$venv" || { apt-get install -y -qq python3-venv && "$py" -m venv "$venv"; }
fi
say "installing the project and its dependencies (pip)"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$AAP_REPO[dev]"
echo "$want" > "$stamp"
