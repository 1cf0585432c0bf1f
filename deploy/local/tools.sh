#!/usr/bin/env bash
# Tools the tests use besides Python, from Debian's packages, each installed only when missing:
# docker-compose (v1), which validates docker-compose.yml without a Docker engine, and Chromium
# (/usr/bin/chromium), the browser the tests in tests/browser drive through Playwright
# (Playwright's own browser download is never used: it cannot be fetched on closed networks),
# and the libraries and fonts WeasyPrint draws the PDF documents with (Pango, HarfBuzz's subsetter,
# DejaVu: services/notifications/documents), and promtool (Debian's prometheus package, its server
# never started here), which checks deploy/prometheus/alerts.yml, and a JDK's compiler (the
# bench's relay ceiling runs bench/jvm/SameRecords.java on the Kafka jars). All without their
# recommended packages (docker.io among them).
# The Kubernetes manifests need nothing here: kubernetes-validate comes with the venv, and
# `kubectl kustomize` is used when the machine has kubectl.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "[tools] $*"; }

missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
# WeasyPrint loads these by their sonames; DejaVu is the documents' font (fc-list knows it).
for lib in libpango-1.0-0:libpango-1.0.so.0 libpangoft2-1.0-0:libpangoft2-1.0.so.0 \
           libharfbuzz-subset0:libharfbuzz-subset.so.0; do
  ldconfig -p 2>/dev/null | grep -q "${lib#*:}" || missing+=("${lib%%:*}")
done
fc-list 2>/dev/null | grep -q "DejaVu Sans" || missing+=(fonts-dejavu-core)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
(( ${#missing[@]} )) || exit 0
without="${missing[*]} not installed (without docker-compose its test is skipped, without chromium the browser tests fail, without Pango the PDF documents are not drawn, without promtool the alert rules are not checked, without a JDK the relay's JVM ceiling is not measured)"
if ! command -v apt-get >/dev/null 2>&1; then
  say "no apt-get: $without"
  exit 0
fi
SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { say "not root and no sudo: $without"; exit 0; }
  SUDO=(sudo -n)
fi
say "installing ${missing[*]} (Debian's packages)"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [[ " ${missing[*]} " == *" docker-compose "* ]]; then
  say "docker-compose $(docker-compose version --short 2>/dev/null || echo '?') installed"
fi
if [[ " ${missing[*]} " == *" chromium "* ]]; then
  say "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium ?') installed"
fi
