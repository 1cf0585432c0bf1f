#!/usr/bin/env bash
# Development mail sink (aiosmtpd): every message is kept in the Maildir var/mail, readable
# with `./dev mail` or Python's `mailbox.Maildir`.  Subcommands: start | stop | status
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "[smtp] $*"; }
PORT="${AAP_SMTP_PORT:-25025}"
PIDFILE="$AAP_VAR/run/smtp.pid"
MAILDIR="$AAP_VAR/mail"
mkdir -p "$AAP_VAR/run" "$AAP_VAR/log" "$MAILDIR"/{tmp,new,cur}

case "${1:-}" in
  start)
    if pid_alive "$PIDFILE" && port_open 127.0.0.1 "$PORT"; then say "running on 127.0.0.1:$PORT"; exit 0; fi
    setsid nohup "$AAP_REPO/.venv/bin/python" -m aiosmtpd -n -c aiosmtpd.handlers.Mailbox "$MAILDIR" \
      -l "127.0.0.1:$PORT" >"$AAP_VAR/log/smtp.out" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    for _ in $(seq 1 50); do port_open 127.0.0.1 "$PORT" && { say "started on 127.0.0.1:$PORT, mail kept in $MAILDIR"; exit 0; }; sleep 0.2; done
    say "did not start; see $AAP_VAR/log/smtp.out" >&2; exit 1 ;;
  stop)
    if pid_alive "$PIDFILE"; then kill "$(cat "$PIDFILE")"; say "stopped"; fi
    rm -f "$PIDFILE" ;;
  status)
    if pid_alive "$PIDFILE"; then say "running on 127.0.0.1:$PORT"; else say "stopped"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
