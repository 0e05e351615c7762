#!/usr/bin/env bash
# Local Apache Kafka (KRaft, each node broker and controller in one JVM) for
# development and integration tests: one node by default, or a cluster of
# KAFKA_NODES to try replication. No Docker: the broker's jars come from
# Maven Central through mvn and run on the machine's Java 17.
#
#   scripts/kafka.sh fetch         download kafka_2.13 and its runtime deps (cached)
#   scripts/kafka.sh start         fetch if needed, format fresh KRaft dirs, start every node, wait ready
#   scripts/kafka.sh stop          stop every node started by `start`
#   scripts/kafka.sh status        exit 0 and print KAFKA_BROKERS=... when every node runs
#   scripts/kafka.sh stop-node N   stop node N only (a broker outage; its log is kept)
#   scripts/kafka.sh start-node N  start node N again on its kept log
#
# Environment:
#   KAFKA_VERSION      (default 4.1.2)
#   KAFKA_NODES        nodes in the cluster (default 1). Node N listens on
#                      KAFKA_PORT + 2(N-1) (PLAINTEXT) and the port after it
#                      (controller). Kafka's own topics get min(3, nodes) replicas.
#   KAFKA_PORT         PLAINTEXT port of node 1, 127.0.0.1 only (default 19092)
#   KAFKA_CONTROLLER_PORT  controller port of a single node (default KAFKA_PORT+1)
#   KAFKA_DATA         state dir: config, logs, pid (default /tmp/chainsight-kafka;
#                      with several nodes, a node-N subdirectory each)
#   KAFKA_KEEP_DATA=1  keep the log dirs across starts instead of formatting afresh
#   KAFKA_HEAP         per node (default -Xmx512m -Xms128m)
#   KAFKA_START_TIMEOUT seconds (default 90)
#   CHAINSIGHT_CACHE   jar cache root (default $HOME/.cache/chainsight)
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.2}"
# log4j2 binding for slf4j 1.7 (what kafka 4.1 depends on); the version follows log4j-core's.
LOG4J_VERSION="${KAFKA_LOG4J_VERSION:-2.25.3}"
KAFKA_NODES="${KAFKA_NODES:-1}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_DATA="${KAFKA_DATA:-/tmp/chainsight-kafka}"
KAFKA_HEAP="${KAFKA_HEAP:--Xmx512m -Xms128m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
CACHE_ROOT="${CHAINSIGHT_CACHE:-$HOME/.cache/chainsight}"
HOME_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS="$HOME_DIR/libs"

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

[[ "$KAFKA_NODES" =~ ^[1-9][0-9]*$ ]] || die "KAFKA_NODES must be a positive integer"

# Per-node layout; a single node keeps the historical one-directory layout.
broker_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
controller_port() {
  if ((KAFKA_NODES == 1)); then echo "${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"; else echo $(($(broker_port "$1") + 1)); fi
}
node_dir() { if ((KAFKA_NODES == 1)); then echo "$KAFKA_DATA"; else echo "$KAFKA_DATA/node-$1"; fi; }
pid_file() { echo "$(node_dir "$1")/kafka.pid"; }
all_nodes() { seq 1 "$KAFKA_NODES"; }
BROKERS="$(for n in $(all_nodes); do printf '127.0.0.1:%s,' "$(broker_port "$n")"; done)"
BROKERS="${BROKERS%,}"

need_java() {
  command -v java >/dev/null 2>&1 || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
}

# --- fetch ------------------------------------------------------------------

fetch() {
  if [[ -f "$LIBS/.complete" ]]; then
    log "kafka $KAFKA_VERSION cached in $LIBS"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: needed once to fetch Kafka jars"
  local work
  work="$(mktemp -d)"
  # A throwaway pom whose only job is to name the broker artifact and a log4j2
  # slf4j binding; copy-dependencies then resolves the whole runtime closure.
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>chainsight.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  log "fetching kafka_2.13:$KAFKA_VERSION and its runtime dependencies with mvn"
  rm -rf "$LIBS"
  mkdir -p "$LIBS"
  if ! mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS" >"$work/mvn.log" 2>&1; then
    tail -40 "$work/mvn.log" >&2
    rm -rf "$work"
    die "mvn could not fetch kafka $KAFKA_VERSION"
  fi
  rm -rf "$work"
  touch "$LIBS/.complete"
  log "fetched $(ls "$LIBS" | wc -l) jars into $LIBS"
}

# --- helpers ----------------------------------------------------------------

running_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

port_open() {
  # bash's /dev/tcp: no nc needed.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# base64url of 16 random bytes, no padding: the form Kafka's Uuid parses.
random_cluster_id() {
  head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

# Every node of one cluster is formatted with the same id, kept beside them.
cluster_id() {
  local file="$KAFKA_DATA/cluster.id"
  [[ -s "$file" ]] || random_cluster_id >"$file"
  cat "$file"
}

write_config() {
  local n="$1" dir voters="" v
  local replicas=$((KAFKA_NODES < 3 ? KAFKA_NODES : 3))
  local min_isr=$((replicas < 2 ? 1 : 2))
  dir="$(node_dir "$n")"
  for v in $(all_nodes); do voters+="$v@127.0.0.1:$(controller_port "$v"),"; done
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=${voters%,}
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/log
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=16777216
# The gateway's records reach 8 MiB + key and its producer allows 9 MiB
# (collectors/gateway.yaml); 10 MiB leaves room for batch framing.
message.max.bytes=10485760
EOF
  # INFO to a file so readiness and failures can be read; the JVM's own stdout
  # goes to kafka.out beside it.
  cat >"$dir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $dir/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
}

java_opts() {
  local dir
  dir="$(node_dir "$1")"
  # shellcheck disable=SC2206
  local heap=($KAFKA_HEAP)
  # C1-only JIT and the serial collector: a small dev/test broker starts
  # faster and takes less CPU from a 2-core machine than with the server defaults.
  echo "${heap[@]}" ${KAFKA_JVM_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC} -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" \
    "-Dkafka.logs.dir=$dir"
}

# --- start / stop / status ---------------------------------------------------

# Formats the node if it has no log yet and launches its JVM, without
# waiting: the nodes of a cluster turn ready together, once their controller
# quorum has formed.
launch_node() {
  local n="$1" dir pid
  dir="$(node_dir "$n")"
  if pid="$(running_pid "$n")"; then
    log "node $n already running (pid $pid)"
    return 0
  fi
  if port_open "$(broker_port "$n")"; then
    die "port $(broker_port "$n") is in use by another process; set KAFKA_PORT"
  fi
  mkdir -p "$dir"
  if [[ "${KAFKA_KEEP_DATA:-0}" != 1 ]]; then
    rm -rf "$dir/log"
  fi
  rm -f "$dir/server.log" "$dir/kafka.out"
  write_config "$n"
  # shellcheck disable=SC2046
  if [[ ! -f "$dir/log/meta.properties" ]]; then
    # Formatting costs a JVM start; format once into a template and copy it
    # for each fresh start (same cluster id every time, which a local
    # cluster does not mind).
    local template="$dir/formatted-$KAFKA_VERSION"
    if [[ ! -f "$template/meta.properties" ]]; then
      rm -rf "$template"
      sed "s|^log.dirs=.*|log.dirs=$template|" "$dir/server.properties" >"$dir/format.properties"
      java $(java_opts "$n") -cp "$LIBS/*" kafka.tools.StorageTool format \
        -t "$(cluster_id)" -c "$dir/format.properties" \
        >"$dir/format.out" 2>&1 || { cat "$dir/format.out" >&2; die "storage format of node $n failed"; }
    fi
    rm -rf "$dir/log"
    cp -R "$template" "$dir/log"
  fi
  # setsid: the broker outlives this shell and is not tied to its process group.
  # shellcheck disable=SC2046
  setsid java $(java_opts "$n") -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/kafka.out" 2>&1 </dev/null &
  echo $! >"$(pid_file "$n")"
}

# Ready = the node logged its start and its client port answers.
wait_ready() {
  local deadline=$(( $(date +%s) + KAFKA_START_TIMEOUT )) n m dir pid
  for n in "$@"; do
    dir="$(node_dir "$n")"
    pid="$(cat "$(pid_file "$n")")"
    until grep -q "Kafka Server started" "$dir/server.log" 2>/dev/null && port_open "$(broker_port "$n")"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        log "node $n exited during start; log tail:"
        tail -40 "$dir/kafka.out" "$dir/server.log" >&2 2>/dev/null || true
        rm -f "$(pid_file "$n")"
        exit 1
      fi
      if (( $(date +%s) >= deadline )); then
        log "node $n not ready after ${KAFKA_START_TIMEOUT}s; log tail:"
        tail -40 "$dir/kafka.out" "$dir/server.log" >&2 2>/dev/null || true
        for m in "$@"; do stop_node "$m" >/dev/null 2>&1 || true; done
        exit 1
      fi
      sleep 0.2
    done
  done
}

start() {
  need_java
  fetch
  local t0 n
  t0="$(date +%s%3N)"
  mkdir -p "$KAFKA_DATA"
  for n in $(all_nodes); do launch_node "$n"; done
  # shellcheck disable=SC2046
  wait_ready $(all_nodes)
  local ms=$(( $(date +%s%3N) - t0 ))
  log "started $KAFKA_NODES node(s) in $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s (data $KAFKA_DATA)"
  echo "KAFKA_BROKERS=$BROKERS"
}

stop_node() {
  local n="$1" pid
  if ! pid="$(running_pid "$n")"; then
    log "node $n not running"
    rm -f "$(pid_file "$n")"
    return 0
  fi
  kill -TERM "$pid"
  # A controlled shutdown takes a few seconds; force after 30s.
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "node $n (pid $pid) did not stop in 30s; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$n")"
  log "stopped node $n (pid $pid)"
}

stop() {
  local n
  for n in $(all_nodes | tac); do stop_node "$n"; done
  if [[ "${KAFKA_KEEP_DATA:-0}" != 1 ]]; then
    for n in $(all_nodes); do rm -rf "$(node_dir "$n")/log"; done
  fi
}

status() {
  local n
  for n in $(all_nodes); do
    if ! running_pid "$n" >/dev/null || ! port_open "$(broker_port "$n")"; then
      log "node $n not running"
      return 1
    fi
  done
  log "running ($KAFKA_NODES node(s))"
  echo "KAFKA_BROKERS=$BROKERS"
}

check_node() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= KAFKA_NODES)) || die "node must be 1..$KAFKA_NODES"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  # A node stopped on its own keeps its log, so start-node brings it back as it was.
  stop-node) check_node "${2:-}"; stop_node "$2" ;;
  start-node) check_node "${2:-}"; need_java; KAFKA_KEEP_DATA=1 launch_node "$2"; wait_ready "$2"; echo "KAFKA_BROKERS=$BROKERS" ;;
  *) echo "usage: $0 start|stop|status|fetch|stop-node N|start-node N" >&2; exit 2 ;;
esac
