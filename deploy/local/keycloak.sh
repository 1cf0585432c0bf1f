#!/usr/bin/env bash
# Local OpenID Connect provider (Keycloak, dev mode) standing in for ProConnect, for development
# and tests. Usage: deploy/local/keycloak.sh fetch|start [--no-wait]|wait|stop|status
#
# The distribution comes from Maven Central via mvn and is cached, unzipped, in
#   ${AAP_CACHE:-$HOME/.cache/aap}/keycloak-$KEYCLOAK_VERSION
# It runs on the machine's Java (Keycloak 26.5 supports OpenJDK 17, 21 and 25; another JDK with
# AAP_KEYCLOAK_JAVA_HOME). Its home (embedded H2 database, realm import, providers, themes) is
# ${AAP_VAR:-<repo>/var}/keycloak; pid in .../run/keycloak.pid, output in .../log/keycloak.log.
# At start it imports deploy/keycloak/aap-realm.json (realm "aap": client aap-console and the
# demo people of deploy/keycloak/README.md); when that file changed since the database was made,
# the database is made again from it. Development only: the admin of the master realm is
# admin/admin (http://127.0.0.1:$PORT/admin), the client's secret is in the realm file.
set -euo pipefail

KEYCLOAK_VERSION="${AAP_KEYCLOAK_VERSION:-26.5.6}"

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${AAP_OIDC_PORT:-28080}"
REALM="aap"
REALM_FILE="$AAP_REPO/deploy/keycloak/aap-realm.json"
HOME_DIR="$AAP_VAR/keycloak"          # kc.home.dir: data/, providers/, themes/
RUN_DIR="$AAP_VAR/run"
LOG_DIR="$AAP_VAR/log"
PIDFILE="$RUN_DIR/keycloak.pid"
LOG="$LOG_DIR/keycloak.log"
START_TIMEOUT="${AAP_KEYCLOAK_START_TIMEOUT:-180}"
# Measured on 2 cores (deploy/keycloak/README.md): ~380 MiB resident when ready, of which the heap
# is ~95 MiB after two dozen logins; 384m bounds it with room to spare (G1 commits only what it
# uses). C1 alone: a start takes 8.7 s of CPU instead of 15.7 (and 7.5 s instead of 9.1 of wall
# time), which Kafka, PostgreSQL and the services starting beside it on 2 cores feel; a
# development provider has no use for C2's peak speed.
HEAP="${AAP_KEYCLOAK_HEAP:--Xms64m -Xmx384m}"
JVM_OPTS="${AAP_KEYCLOAK_JAVA_OPTS:--XX:TieredStopAtLevel=1}"
DISCOVERY="http://127.0.0.1:$PORT/realms/$REALM/.well-known/openid-configuration"

say() { echo "[keycloak] $*"; }
die() { echo "[keycloak] ERROR: $*" >&2; exit 1; }

dist_dir() { echo "$AAP_CACHE/keycloak-$KEYCLOAK_VERSION"; }

cmd_fetch() {
  local dist tmp started
  dist="$(dist_dir)"
  if [[ -f "$dist/.complete" ]]; then
    say "Keycloak $KEYCLOAK_VERSION already cached in $dist"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (needed to fetch Keycloak)"
  command -v unzip >/dev/null || die "unzip not found (apt-get install unzip)"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/aap-keycloak-fetch.XXXXXX")"
  started=$(date +%s)
  say "fetching org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip from Maven Central ..."
  if ! (cd "$tmp" && mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
          -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
          -DoutputDirectory="$tmp/zip" >"$tmp/mvn.log" 2>&1); then
    tail -n 20 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    die "could not fetch Keycloak $KEYCLOAK_VERSION"
  fi
  unzip -q "$tmp/zip/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$tmp/unzipped" \
    || { rm -rf "$tmp"; die "could not unzip the distribution"; }
  [[ -x "$tmp/unzipped/keycloak-$KEYCLOAK_VERSION/bin/kc.sh" ]] \
    || { rm -rf "$tmp"; die "the zip holds no keycloak-$KEYCLOAK_VERSION/bin/kc.sh"; }
  mkdir -p "$(dirname "$dist")"
  rm -rf "$dist"
  mv "$tmp/unzipped/keycloak-$KEYCLOAK_VERSION" "$dist"
  echo "keycloak=$KEYCLOAK_VERSION zip=$(stat -c %s "$tmp/zip/"*.zip)" > "$dist/.complete"
  rm -rf "$tmp"
  say "cached in $dist ($(du -sh "$dist" | cut -f1), $(( $(date +%s) - started )) s)"
}

java_bin() {
  if [[ -n "${AAP_KEYCLOAK_JAVA_HOME:-}" ]]; then echo "$AAP_KEYCLOAK_JAVA_HOME/bin/java"; return; fi
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then echo "$JAVA_HOME/bin/java"; return; fi
  command -v java || die "java not found (Keycloak $KEYCLOAK_VERSION needs OpenJDK 17, 21 or 25)"
}

check_java() {
  local java="$1" major
  major="$("$java" -XshowSettings:properties -version 2>&1 |
           sed -n 's/^ *java.specification.version = //p')"
  [[ "$major" =~ ^[0-9]+$ ]] || die "could not tell the version of $java"
  (( major >= 17 )) || die "$java is Java $major; Keycloak $KEYCLOAK_VERSION needs 17, 21 or 25"
  echo "$major"
}

is_running() { pid_alive "$PIDFILE" && port_open 127.0.0.1 "$PORT"; }

discovery_answers() { curl -fsS -m 5 -o /dev/null "$DISCOVERY" 2>/dev/null; }

# The home Keycloak runs in: its embedded database, the realm to import, no extensions, and the
# distribution's lib/ (Keycloak reads the options it was last built with from
# <home>/lib/quarkus: without it, every start would rebuild the server, 11 s here).
prepare_home() {
  local dist="$1" want have
  mkdir -p "$HOME_DIR/data/import" "$HOME_DIR/providers" "$HOME_DIR/themes" "$RUN_DIR" "$LOG_DIR"
  ln -sfn "$dist/lib" "$HOME_DIR/lib"
  [[ -s "$REALM_FILE" ]] || die "no realm file at $REALM_FILE"
  want="$(sha256sum "$REALM_FILE" | cut -c1-64)"
  have="$(cat "$HOME_DIR/realm.sha256" 2>/dev/null || true)"
  if [[ -d "$HOME_DIR/data/h2" && "$want" != "$have" ]]; then
    # --import-realm skips a realm that exists: a changed file means a database made again.
    say "$REALM_FILE changed since the database was made: making it again from the file"
    rm -rf "$HOME_DIR/data/h2"
  fi
  cp "$REALM_FILE" "$HOME_DIR/data/import/aap-realm.json"
  echo "$want" > "$HOME_DIR/realm.sha256"
}

cmd_start() {
  local wait_ready=1
  [[ "${1:-}" == "--no-wait" ]] && wait_ready=0
  if is_running; then
    say "already running (pid $(cat "$PIDFILE"), issuer http://127.0.0.1:$PORT/realms/$REALM)"
    return 0
  fi
  if pid_alive "$PIDFILE"; then
    say "pid $(cat "$PIDFILE") is starting (port $PORT does not answer yet)"
    (( wait_ready )) && cmd_wait
    return 0
  fi
  if port_open 127.0.0.1 "$PORT"; then
    die "port $PORT is already in use by another process (AAP_OIDC_PORT chooses another)"
  fi
  if ephemeral_port "$PORT"; then
    say "WARNING: port $PORT lies in the kernel's range of client source ports" \
        "($(tr '\t' '-' < /proc/sys/net/ipv4/ip_local_port_range)): a client retrying it can take it"
  fi
  cmd_fetch >/dev/null
  local java major dist
  java="$(java_bin)"
  major="$(check_java "$java")"
  dist="$(dist_dir)"
  prepare_home "$dist"
  rm -f "$PIDFILE"
  date +%s.%N > "$RUN_DIR/keycloak.started"
  say "starting Keycloak $KEYCLOAK_VERSION (Java $major, $HEAP $JVM_OPTS) on 127.0.0.1:$PORT" \
      "(home $HOME_DIR, log $LOG)"
  (
    cd "$HOME_DIR"
    # kc.sh forwards SIGTERM to the JVM; a later -Dkc.home.dir wins over the one kc.sh sets, so
    # the data stays in var/ and the cached distribution is shared by every checkout.
    # setsid+nohup: detach from the caller's session so the server survives it.
    JAVA="$java" JAVA_OPTS_KC_HEAP="$HEAP" JAVA_OPTS_APPEND="$JVM_OPTS" \
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin \
      nohup setsid "$dist/bin/kc.sh" "-Dkc.home.dir=$HOME_DIR" start-dev \
        --http-host=127.0.0.1 --http-port="$PORT" --import-realm \
        >"$LOG" 2>&1 </dev/null 9>&- &   # the server must not hold the start lock
    echo $! > "$PIDFILE"
  )
  if (( wait_ready )); then cmd_wait; else say "started (pid $(cat "$PIDFILE")); not waiting"; fi
}

cmd_wait() {
  local started now i
  [[ -s "$PIDFILE" ]] || die "not started (no $PIDFILE): $0 start"
  started="$(cat "$RUN_DIR/keycloak.started" 2>/dev/null || date +%s.%N)"
  for ((i = 0; i < START_TIMEOUT * 2; i++)); do
    if ! pid_alive "$PIDFILE"; then
      tail -n 30 "$LOG" >&2 || true
      die "Keycloak exited during startup (see $LOG)"
    fi
    if discovery_answers; then
      if (( i == 0 )); then  # up before we asked: no start of ours to time
        say "running (pid $(cat "$PIDFILE")): issuer http://127.0.0.1:$PORT/realms/$REALM"
        return 0
      fi
      now="$(date +%s.%N)"
      say "ready in $(awk "BEGIN { printf \"%.1f\", $now - $started }") s (pid $(cat "$PIDFILE")):" \
          "issuer http://127.0.0.1:$PORT/realms/$REALM"
      return 0
    fi
    sleep 0.5
  done
  die "the realm's discovery document did not answer within ${START_TIMEOUT}s (see $LOG)"
}

cmd_stop() {
  if ! pid_alive "$PIDFILE"; then
    rm -f "$PIDFILE"
    say "not running"
    return 0
  fi
  local pid i children; pid="$(cat "$PIDFILE")"
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still alive after 30s, sending SIGKILL"
    # and the JVM kc.sh started: kc.sh stays its parent (unless it rebuilt the server and exec'd)
    children="$(pgrep -P "$pid" 2>/dev/null || true)"
    kill -KILL "$pid" $children 2>/dev/null || true
    sleep 1
  fi
  rm -f "$PIDFILE"
  say "stopped"
}

# kc.sh and its JVM (kc.sh stays the JVM's parent unless it re-augmented and exec'd it)
resident_mib() {
  local kb=0 rss p
  for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
    rss="$(ps -o rss= -p "$p" 2>/dev/null | tr -d ' ')"
    [[ "$rss" =~ ^[0-9]+$ ]] && kb=$((kb + rss))
  done
  echo $((kb / 1024))
}

cmd_status() {
  if is_running && discovery_answers; then
    say "running (pid $(cat "$PIDFILE"), issuer http://127.0.0.1:$PORT/realms/$REALM," \
        "$(resident_mib "$(cat "$PIDFILE")") MiB resident)"
    return 0
  fi
  if pid_alive "$PIDFILE"; then
    say "process $(cat "$PIDFILE") alive but the realm does not answer yet (starting?)"
  else
    say "stopped"
  fi
  return 3
}

# One start or stop at a time: several people's ./dev test share var/, and two servers on one
# database lock each other out (H2 holds its file) while each overwrites the other's pidfile.
serialized() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/keycloak.lock"
  if ! flock -n 9; then
    say "another start or stop of Keycloak is under way; waiting for it"
    flock -w "$((START_TIMEOUT + 60))" 9 || die "it did not end within $((START_TIMEOUT + 60)) s"
  fi
  "$@"
}

case "${1:-}" in
  fetch)  serialized cmd_fetch ;;
  start)  serialized cmd_start "${2:-}" ;;
  wait)   cmd_wait ;;
  stop)   serialized cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 fetch|start [--no-wait]|wait|stop|status" >&2; exit 2 ;;
esac
