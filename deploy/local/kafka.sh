#!/usr/bin/env bash
# Local Kafka (KRaft) for development and CI: one combined broker+controller node, or a cluster.
# Usage: deploy/local/kafka.sh fetch|start|stop|status|bootstrap
#        deploy/local/kafka.sh kill|stop-node|start-node|pid NODE
#
# AAP_KAFKA_BROKERS (default 1) is the number of nodes, each a broker and a controller (one
# static quorum of all of them). With 1: one node, broker on AAP_KAFKA_PORT (29092), controller
# on AAP_KAFKA_CONTROLLER_PORT (29093), state in .../kafka, pidfile .../run/kafka.pid. With N > 1,
# node i (1..N) serves clients on AAP_KAFKA_PORT + 2(i-1) and its quorum on
# AAP_KAFKA_CONTROLLER_PORT + 2(i-1): with the controller port one above the broker's (the
# defaults) the nodes take the 2N consecutive ports from AAP_KAFKA_PORT (29092-29097 for three),
# and any overlap is refused. Node i keeps its state in .../kafka/node-i, its pid in
# .../run/kafka-i.pid, its output in .../log/kafka-i.out; the internal topics (offsets,
# transactions) keep min(3, N) copies, min(2, N) in sync. `bootstrap` prints the clients'
# list (every node's broker address); `kill NODE` is a kill -9, `start-node NODE` starts it
# again and waits until it serves and is registered with the others. The quorum is static
# (controller.quorum.voters, each node formatted with the one cluster id): Kafka 4.1's simplest
# multi-node KRaft. A folder's data is for the number of nodes it was started with: to change
# AAP_KAFKA_BROKERS, stop, and start in a fresh AAP_VAR.
#
# Jars come from Maven Central via mvn and are cached in
#   ${AAP_CACHE:-$HOME/.cache/aap}/kafka-$KAFKA_VERSION/lib
# State (config, data, logs, pid) lives in ${AAP_VAR:-<repo>/var}/kafka, .../run, .../log.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"   # 4.1.1 resolves on Maven Central (fallbacks: 4.1.0, 4.0.1)
SCALA_VERSION="2.13"
# Kafka 4.1.x is built against slf4j-api 1.7.36 and log4j 2.24.3 (its POMs pull
# those in), so the matching SLF4J binding is log4j-slf4j-impl (SLF4J 1.x), as in
# the official Kafka tarball. log4j-slf4j2-impl would NOT bind to slf4j 1.7 and the
# broker would silently log nothing.
LOG4J_VERSION="${LOG4J_VERSION:-2.24.3}"

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BASE_PORT="${AAP_KAFKA_PORT:-29092}"
BASE_CONTROLLER_PORT="${AAP_KAFKA_CONTROLLER_PORT:-29093}"
BROKERS="${AAP_KAFKA_BROKERS:-1}"
ROOT_STATE="$AAP_VAR/kafka"
RUN_DIR="$AAP_VAR/run"
LOG_DIR="$AAP_VAR/log"
START_TIMEOUT="${AAP_KAFKA_START_TIMEOUT:-90}"

say() { echo "[kafka] $*"; }
die() { echo "[kafka] ERROR: $*" >&2; exit 1; }

[[ "$BROKERS" =~ ^[1-9][0-9]*$ ]] || die "AAP_KAFKA_BROKERS must be a number of nodes (1, 3, ...), not '$BROKERS'"
REPLICAS=$(( BROKERS < 3 ? BROKERS : 3 ))
IN_SYNC=$(( BROKERS < 2 ? BROKERS : 2 ))

# node I: the node's ports and files in NODE_* (one node keeps the paths it always had).
node() {
  NODE="$1"
  [[ "$NODE" =~ ^[1-9][0-9]*$ ]] && (( NODE <= BROKERS )) ||
    die "no node '$NODE': the nodes are 1..$BROKERS (AAP_KAFKA_BROKERS)"
  PORT=$(( BASE_PORT + 2 * (NODE - 1) ))
  CONTROLLER_PORT=$(( BASE_CONTROLLER_PORT + 2 * (NODE - 1) ))
  if (( BROKERS == 1 )); then
    STATE="$ROOT_STATE"; PIDFILE="$RUN_DIR/kafka.pid"; OUT="$LOG_DIR/kafka.out"; WHO="broker"; TAG=""
  else
    STATE="$ROOT_STATE/node-$NODE"; PIDFILE="$RUN_DIR/kafka-$NODE.pid"
    OUT="$LOG_DIR/kafka-$NODE.out"; WHO="node $NODE"; TAG="node $NODE: "
  fi
  PROPS="$STATE/server.properties"
  LOG4J_CONF="$STATE/log4j2.properties"
  DATA_DIR="$STATE/data"
}

nodes() { seq 1 "$BROKERS"; }

bootstrap() {
  local i list=()
  for i in $(nodes); do list+=("127.0.0.1:$(( BASE_PORT + 2 * (i - 1) ))"); done
  (IFS=,; echo "${list[*]}")
}

voters() {
  local i list=()
  for i in $(nodes); do list+=("$i@127.0.0.1:$(( BASE_CONTROLLER_PORT + 2 * (i - 1) ))"); done
  (IFS=,; echo "${list[*]}")
}

# Every node's two ports, all distinct (a controller port among the brokers' would be taken).
check_ports() {
  local i seen=" " p
  for i in $(nodes); do
    for p in $(( BASE_PORT + 2 * (i - 1) )) $(( BASE_CONTROLLER_PORT + 2 * (i - 1) )); do
      [[ "$seen" != *" $p "* ]] ||
        die "port $p is both a broker's and a controller's: with $BROKERS nodes the ports are AAP_KAFKA_PORT + 2(i-1) and AAP_KAFKA_CONTROLLER_PORT + 2(i-1); set AAP_KAFKA_CONTROLLER_PORT to AAP_KAFKA_PORT + 1"
      seen+="$p "
    done
  done
}

lib_dir() { echo "$AAP_CACHE/kafka-$1/lib"; }

fetch_version() {
  local ver="$1" lib tmp
  lib="$(lib_dir "$ver")"
  [[ -f "$lib/.complete" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (needed to fetch Kafka jars)"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/aap-kafka-fetch.XXXXXX")"
  cat > "$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.aap</groupId>
  <artifactId>kafka-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_${SCALA_VERSION}</artifactId><version>${ver}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>${ver}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>${LOG4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
POM
  say "fetching Kafka $ver (Scala $SCALA_VERSION) + log4j $LOG4J_VERSION from Maven Central ..."
  if ! mvn -q -B -f "$tmp/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1; then
    tail -n 20 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    return 1
  fi
  mkdir -p "$(dirname "$lib")"
  rm -rf "$lib"
  mv "$tmp/lib" "$lib"
  echo "kafka=$ver log4j=$LOG4J_VERSION" > "$lib/.complete"
  rm -rf "$tmp"
  say "cached $(ls "$lib" | wc -l) jars in $lib"
}

cmd_fetch() {
  if [[ -f "$(lib_dir "$KAFKA_VERSION")/.complete" ]]; then
    say "Kafka $KAFKA_VERSION already cached in $(lib_dir "$KAFKA_VERSION")"
    return 0
  fi
  local v
  for v in "$KAFKA_VERSION" 4.1.0 4.0.1; do
    if fetch_version "$v"; then
      if [[ "$v" != "$KAFKA_VERSION" ]]; then
        # remember the fallback so later calls use it without re-trying
        mkdir -p "$(lib_dir "$KAFKA_VERSION")"
        ln -sfn "$(lib_dir "$v")/"* "$(lib_dir "$KAFKA_VERSION")/" 2>/dev/null || true
        echo "fallback=$v" > "$(lib_dir "$KAFKA_VERSION")/.complete"
        say "WARNING: Kafka $KAFKA_VERSION did not resolve, using $v"
      fi
      return 0
    fi
    say "Kafka $v did not resolve"
  done
  die "could not fetch any Kafka version"
}

is_running() { pid_alive "$PIDFILE" && port_open 127.0.0.1 "$PORT"; }

# A broker stopped an instant ago leaves its sockets in TIME-WAIT on its port for a while; the
# new one binds with SO_REUSEADDR, but a client's socket connected to itself there blocks it.
wait_port_free() {
  local port="$1" i
  for ((i = 0; i < 120; i++)); do
    port_held "$port" || return 0
    ss -Htan "( sport = :$port and dport = :$port )" 2>/dev/null | grep -q . || return 0
    (( i == 0 )) && say "port $port is held by a socket connected to itself (a client's retry); waiting"
    sleep 0.5
  done
  die "port $port stayed held for 60 s: $(ss -Htan "( sport = :$port )" | head -3)"
}

write_config() {
  mkdir -p "$STATE" "$DATA_DIR" "$RUN_DIR" "$LOG_DIR"
  cat > "$PROPS" <<PROPS
# Generated by deploy/local/kafka.sh -- overwritten on every start.
process.roles=broker,controller
node.id=${NODE}
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${DATA_DIR}
auto.create.topics.enable=false
num.partitions=3
offsets.topic.replication.factor=${REPLICAS}
transaction.state.log.replication.factor=${REPLICAS}
transaction.state.log.min.isr=${IN_SYNC}
share.coordinator.state.topic.replication.factor=${REPLICAS}
share.coordinator.state.topic.min.isr=${IN_SYNC}
group.initial.rebalance.delay.ms=0
# Consumers commit an offset after every event: the broker must not hold each commit 5 ms.
group.coordinator.append.linger.ms=0
PROPS
  if (( BROKERS > 1 )); then
    cat >> "$PROPS" <<PROPS
# A cluster: the topics without a setting of their own (the committed offsets') want two copies
# in sync before they acknowledge, as the platform's topics do (AAP_TOPIC_MIN_INSYNC_REPLICAS).
min.insync.replicas=${IN_SYNC}
PROPS
  fi
  cat > "$LOG4J_CONF" <<L4J
# Generated by deploy/local/kafka.sh
status = warn
name = aap-kafka
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = ${STATE}/server.log
appender.file.filePattern = ${STATE}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
L4J
}

# Every node is formatted with the one cluster id kept in .../kafka/cluster.id.
cluster_id() {
  local lib="$1" cid
  mkdir -p "$ROOT_STATE"
  if [[ ! -s "$ROOT_STATE/cluster.id" ]]; then
    cid="$(java -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    [[ -n "$cid" ]] || die "could not generate a cluster id"
    echo "$cid" > "$ROOT_STATE/cluster.id"
  fi
  cat "$ROOT_STATE/cluster.id"
}

format_if_needed() {
  local lib="$1" cid out
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  cid="$(cluster_id "$lib")"
  out="${OUT%.out}-format.out"
  say "formatting $DATA_DIR (cluster id $cid)"
  java -Dlog4j2.configurationFile="$LOG4J_CONF" -cp "$lib/*" kafka.tools.StorageTool \
    format -t "$cid" -c "$PROPS" --ignore-formatted >"$out" 2>&1 \
    || { cat "$out" >&2; die "storage format failed"; }
}

# The checks before a node starts; 1 when it already runs.
can_start() {
  if is_running; then
    say "${TAG}already running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    return 1
  fi
  if pid_alive "$PIDFILE"; then
    die "pid $(cat "$PIDFILE") is alive but port $PORT does not answer; run '$0 stop' first"
  fi
  if port_open 127.0.0.1 "$PORT"; then
    die "port $PORT is already in use by another process"
  fi
  if ephemeral_port "$PORT"; then
    say "WARNING: port $PORT lies in the kernel's range of client source ports" \
        "($(tr '\t' '-' < /proc/sys/net/ipv4/ip_local_port_range)): a client retrying it can take it"
  fi
  wait_port_free "$PORT"
}

# Launches the current node in the background; its log's length before is kept in MARKER[node].
declare -A MARKER=()
launch() {
  local lib="$1"
  write_config
  format_if_needed "$lib"
  rm -f "$PIDFILE"
  MARKER[$NODE]="$(wc -l < "$STATE/server.log" 2>/dev/null || echo 0)"
  say "starting $WHO on 127.0.0.1:$PORT (controller $CONTROLLER_PORT, state $STATE)"
  (
    cd "$STATE"
    # setsid+nohup: detach from the caller's session so the broker survives it
    nohup setsid java -Xms256m -Xmx768m -XX:+UseG1GC \
      -Djava.awt.headless=true \
      -Dkafka.logs.dir="$STATE" \
      -Dlog4j2.configurationFile="$LOG4J_CONF" \
      -cp "$lib/*" kafka.Kafka "$PROPS" \
      >"$OUT" 2>&1 </dev/null &
    echo $! > "$PIDFILE"
  )
}

# started: 0 once the current node serves ("Kafka Server started" is logged once the broker is
# registered with the controllers and unfenced: back among the others); dies if it exited.
started() {
  if ! pid_alive "$PIDFILE"; then
    tail -n 30 "$OUT" >&2 || true
    tail -n 30 "$STATE/server.log" >&2 2>/dev/null || true
    rm -f "$PIDFILE"
    die "$WHO exited during startup (see $OUT, $STATE/server.log)"
  fi
  port_open 127.0.0.1 "$PORT" &&
    tail -n +"$((${MARKER[$NODE]} + 1))" "$STATE/server.log" 2>/dev/null | grep -q "Kafka Server started"
}

# The brokers registered and unfenced, as the cluster's metadata says (a client's
# DescribeCluster): a node killed stays registered, fenced, until it comes back.
registered() {
  java -Dlog4j2.configurationFile="$LOG4J_CONF" -cp "$1/*" org.apache.kafka.tools.ClusterTool \
    list-endpoints --bootstrap-server "$(bootstrap)" 2>/dev/null |
    awk '$1 ~ /^[0-9]+$/ && $5 == "unfenced" { n++ } END { print n + 0 }'
}

# Waits until every launched node serves, then (a cluster started whole) until all N are
# registered and unfenced; a node started alone is unfenced once it serves.
wait_started() {
  local lib="$1" whole="$2" i n waiting=("${!MARKER[@]}") left count
  for ((i = 0; i < START_TIMEOUT * 2; i++)); do
    left=()
    for n in "${waiting[@]}"; do
      node "$n"
      started || left+=("$n")
    done
    (( ${#left[@]} == 0 )) && break
    waiting=("${left[@]}")
    sleep 0.5
  done
  (( ${#left[@]} == 0 )) || { node "${left[0]}"; die "$WHO did not become ready within ${START_TIMEOUT}s (see $STATE/server.log)"; }
  if (( BROKERS == 1 )); then
    say "running (pid $(cat "$PIDFILE"), bootstrap 127.0.0.1:$PORT, ${i}x0.5s)"
    return 0
  fi
  if [[ "$whole" != whole ]]; then
    say "${TAG}running, unfenced (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT, ${i}x0.5s)"
    return 0
  fi
  for ((; i < START_TIMEOUT * 2; i++)); do
    count="$(registered "$lib")"
    if (( count == BROKERS )); then
      say "running: $BROKERS nodes registered, bootstrap $(bootstrap) (${i}x0.5s)"
      return 0
    fi
    sleep 0.5
  done
  die "the cluster registered ${count:-0} brokers of $BROKERS within ${START_TIMEOUT}s"
}

prepare() {
  cmd_fetch >/dev/null
  LIB="$(lib_dir "$KAFKA_VERSION")"
  command -v java >/dev/null || die "java not found"
}

cmd_start() {
  check_ports
  local i todo=()
  for i in $(nodes); do
    node "$i"
    if can_start; then todo+=("$i"); fi
  done
  (( ${#todo[@]} > 0 )) || return 0
  prepare
  # a node of a cluster comes up only with a quorum of the others: all are launched, then waited for
  for i in "${todo[@]}"; do node "$i"; launch "$LIB"; done
  wait_started "$LIB" whole
}

cmd_start_node() {
  check_ports
  node "$1"
  can_start || return 0
  prepare
  launch "$LIB"
  wait_started "$LIB" one
}

# SIGTERM to each running node at once (the last of a cluster stops with no quorum to hand its
# partitions to: it waits for none in turn), SIGKILL after 30 s.
stop_nodes() {
  local i pid pids=() t
  for i in "$@"; do
    node "$i"
    if ! pid_alive "$PIDFILE"; then
      rm -f "$PIDFILE"
      say "${TAG}not running"
      continue
    fi
    pid="$(cat "$PIDFILE")"
    say "${TAG}stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$i:$pid")
  done
  for t in "${pids[@]}"; do
    node "${t%%:*}"; pid="${t#*:}"
    for ((i = 0; i < 60; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "${TAG}still alive after 30s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
    fi
    rm -f "$PIDFILE"
    say "${TAG}stopped"
  done
}

cmd_stop() {
  # shellcheck disable=SC2046
  stop_nodes $(nodes)
  # nodes of a cluster started here with more nodes (or any, against one) are not this call's
  local f n others=()
  for f in "$RUN_DIR"/kafka-*.pid; do
    [[ "$f" =~ kafka-([0-9]+)\.pid$ ]] || continue
    n="${BASH_REMATCH[1]}"
    if (( BROKERS == 1 || n > BROKERS )) && pid_alive "$f"; then others+=("$n"); fi
  done
  if (( ${#others[@]} > 0 )); then
    say "WARNING: node(s) ${others[*]} of a cluster still run here: stop them with the AAP_KAFKA_BROKERS they started with"
  fi
}

cmd_kill() {
  node "$1"
  pid_alive "$PIDFILE" || die "$WHO is not running"
  local pid i; pid="$(cat "$PIDFILE")"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    pid_alive "$PIDFILE" || break
    sleep 0.1
  done
  pid_alive "$PIDFILE" && die "$WHO (pid $pid) outlived SIGKILL"
  rm -f "$PIDFILE"
  say "killed $WHO (pid $pid, SIGKILL)"
}

cmd_pid() {
  node "$1"
  pid_alive "$PIDFILE" || die "$WHO is not running"
  cat "$PIDFILE"
}

status_node() {
  if is_running; then
    say "${TAG}running (pid $(cat "$PIDFILE"), bootstrap 127.0.0.1:$PORT)"
    return 0
  fi
  if pid_alive "$PIDFILE"; then
    say "${TAG}process $(cat "$PIDFILE") alive but port $PORT not answering (starting?)"
  else
    say "${TAG}stopped"
  fi
  return 3
}

cmd_status() {
  local i status=0
  for i in $(nodes); do
    node "$i"
    status_node || status=3
  done
  return $status
}

case "${1:-}" in
  fetch)      cmd_fetch ;;
  start)      cmd_start ;;
  stop)       cmd_stop ;;
  status)     cmd_status ;;
  bootstrap)  bootstrap ;;
  kill)       cmd_kill "${2:?which node?}" ;;
  stop-node)  stop_nodes "${2:?which node?}" ;;
  start-node) cmd_start_node "${2:?which node?}" ;;
  pid)        cmd_pid "${2:?which node?}" ;;
  *) echo "usage: $0 fetch|start|stop|status|bootstrap, or $0 kill|stop-node|start-node|pid NODE" >&2; exit 2 ;;
esac
