#!/usr/bin/env bash
# Tools the tests use besides Python: Debian's docker-compose (v1), which validates
# docker-compose.yml without a Docker engine (installed without its recommended docker.io).
# The Kubernetes manifests need nothing here: kubernetes-validate comes with the venv, and
# `kubectl kustomize` is used when the machine has kubectl.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "[tools] $*"; }

command -v docker-compose >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  say "no apt-get: docker-compose not installed, its test will be skipped"
  exit 0
fi
SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { say "not root and no sudo: docker-compose not installed"; exit 0; }
  SUDO=(sudo -n)
fi
say "installing docker-compose (Debian's package, without a Docker engine)"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
say "docker-compose $(docker-compose version --short 2>/dev/null || echo '?') installed"
