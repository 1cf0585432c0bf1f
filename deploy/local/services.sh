#!/usr/bin/env bash
# The four services as background processes.  Subcommands: start | stop | status [service...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The services verify bearer tokens with the public half of the development key pair that
# `./dev up` writes (`aap token keygen`); they refuse to start without a verifying key.
export AAP_JWT_PUBLIC_KEY_FILE="${AAP_JWT_PUBLIC_KEY_FILE:-$AAP_VAR/jwt/public.pem}"
export AAP_JWT_PRIVATE_KEY_FILE="${AAP_JWT_PRIVATE_KEY_FILE:-$AAP_VAR/jwt/private.pem}"
# The console signs its session cookie with a secret kept across restarts (sessions survive them).
if [[ -z "${AAP_CONSOLE_SESSION_SECRET:-}" ]]; then
  mkdir -p "$AAP_VAR/console"
  [[ -s "$AAP_VAR/console/session-secret" ]] || (umask 077; head -c 32 /dev/urandom | base64 > "$AAP_VAR/console/session-secret")
  export AAP_CONSOLE_SESSION_SECRET="$(cat "$AAP_VAR/console/session-secret")"
fi
# Campaigns added by the operator (or by `./dev demo` when the demo campaign's envelope is
# spent): the services read a file put there when its campaign is first asked for.
export AAP_CAMPAIGNS_DIR="${AAP_CAMPAIGNS_DIR:-$AAP_VAR/campaigns}"
mkdir -p "$AAP_CAMPAIGNS_DIR"

# The four services, then the web console (it calls them for the people logged in).
SERVICES=(applications selection payments notifications console)
declare -A PORT=([applications]=8001 [selection]=8002 [payments]=8003 [notifications]=8004 [console]=8000)
mkdir -p "$AAP_VAR/run" "$AAP_VAR/log"

start_one() {
  local s="$1" pidfile="$AAP_VAR/run/$s.pid"
  if pid_alive "$pidfile"; then echo "[services] $s already running"; return; fi
  setsid nohup "$AAP_REPO/.venv/bin/aap" serve "$s" --port "${PORT[$s]}" \
    >>"$AAP_VAR/log/$s.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
}

wait_ready() {
  local s="$1" url="http://127.0.0.1:${PORT[$1]}/readyz"
  for _ in $(seq 1 120); do
    if curl -fsS "$url" >/dev/null 2>&1; then return 0; fi
    pid_alive "$AAP_VAR/run/$s.pid" || { echo "[services] $s died; see $AAP_VAR/log/$s.log" >&2; tail -20 "$AAP_VAR/log/$s.log" >&2; return 1; }
    sleep 0.5
  done
  echo "[services] $s not ready after 60 s; see $AAP_VAR/log/$s.log" >&2; return 1
}

# The services named after the subcommand (all of them when none is named).
command="${1:-}"; shift || true
if (( $# )); then
  for s in "$@"; do
    [[ -n "${PORT[$s]:-}" ]] || { echo "[services] no service $s (one of ${SERVICES[*]})" >&2; exit 2; }
  done
  SERVICES=("$@")
fi

case "$command" in
  start)
    if [[ -z "${AAP_JWT_PUBLIC_KEY:-}" && ! -s "$AAP_JWT_PUBLIC_KEY_FILE" ]]; then
      echo "[services] no key to verify tokens at $AAP_JWT_PUBLIC_KEY_FILE:" \
           "run ./dev up, or $AAP_REPO/.venv/bin/aap token keygen --dir $AAP_VAR/jwt" >&2
      exit 1
    fi
    for s in "${SERVICES[@]}"; do start_one "$s"; done
    for s in "${SERVICES[@]}"; do
      wait_ready "$s"
      if [[ "$s" == console ]]; then echo "[services] $s ready: http://127.0.0.1:${PORT[$s]}/"
      else echo "[services] $s ready: http://127.0.0.1:${PORT[$s]}/docs"; fi
    done ;;
  stop)
    for s in "${SERVICES[@]}"; do
      pidfile="$AAP_VAR/run/$s.pid"
      if pid_alive "$pidfile"; then
        pid="$(cat "$pidfile")"; kill -TERM "$pid"
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        echo "[services] $s stopped"
      fi
      rm -f "$pidfile"
    done ;;
  status)
    for s in "${SERVICES[@]}"; do
      if pid_alive "$AAP_VAR/run/$s.pid"; then echo "[services] $s running on ${PORT[$s]}"; else echo "[services] $s stopped"; fi
    done ;;
  *) echo "usage: $0 start|stop|status [service...]" >&2; exit 2 ;;
esac
