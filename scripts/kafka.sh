#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller in one JVM) for
# development and integration tests. No Docker: the broker's jars come from
# Maven Central through mvn and run on the machine's Java 17.
#
#   scripts/kafka.sh fetch    download kafka_2.13 and its runtime deps (cached)
#   scripts/kafka.sh start    fetch if needed, format a fresh KRaft dir, start, wait ready
#   scripts/kafka.sh stop     stop the broker started by `start`
#   scripts/kafka.sh status   exit 0 and print KAFKA_BROKERS=... when running
#
# Environment:
#   KAFKA_VERSION      (default 4.1.2)
#   KAFKA_PORT         PLAINTEXT port, 127.0.0.1 only (default 19092)
#   KAFKA_CONTROLLER_PORT  (default KAFKA_PORT+1)
#   KAFKA_DATA         state dir: config, logs, pid (default /tmp/chainsight-kafka)
#   KAFKA_KEEP_DATA=1  keep the log dir across starts instead of formatting afresh
#   KAFKA_HEAP         (default -Xmx512m -Xms128m)
#   KAFKA_START_TIMEOUT seconds (default 90)
#   CHAINSIGHT_CACHE   jar cache root (default $HOME/.cache/chainsight)
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.2}"
# log4j2 binding for slf4j 1.7 (what kafka 4.1 depends on); the version follows log4j-core's.
LOG4J_VERSION="${KAFKA_LOG4J_VERSION:-2.25.3}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_DATA="${KAFKA_DATA:-/tmp/chainsight-kafka}"
KAFKA_HEAP="${KAFKA_HEAP:--Xmx512m -Xms128m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
CACHE_ROOT="${CHAINSIGHT_CACHE:-$HOME/.cache/chainsight}"
HOME_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS="$HOME_DIR/libs"
PID_FILE="$KAFKA_DATA/kafka.pid"
LOG_FILE="$KAFKA_DATA/kafka.out"
BROKERS="127.0.0.1:$KAFKA_PORT"

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

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
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
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

write_config() {
  cat >"$KAFKA_DATA/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA/log
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=16777216
# The gateway's records reach 8 MiB + key and its producer allows 9 MiB
# (collectors/gateway.yaml); 10 MiB leaves room for batch framing.
message.max.bytes=10485760
EOF
  # INFO to a file so readiness and failures can be read; the JVM's own stdout
  # goes to kafka.out beside it.
  cat >"$KAFKA_DATA/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $KAFKA_DATA/server.log
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
  # shellcheck disable=SC2206
  local heap=($KAFKA_HEAP)
  # C1-only JIT and the serial collector: a small dev/test broker starts
  # faster and takes less CPU from a 2-core machine than with the server defaults.
  echo "${heap[@]}" ${KAFKA_JVM_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC} -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$KAFKA_DATA/log4j2.properties" \
    "-Dkafka.logs.dir=$KAFKA_DATA"
}

# --- start / stop / status ---------------------------------------------------

start() {
  need_java
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    echo "KAFKA_BROKERS=$BROKERS"
    return 0
  fi
  if port_open "$KAFKA_PORT"; then
    die "port $KAFKA_PORT is in use by another process; set KAFKA_PORT"
  fi
  fetch
  local t0
  t0="$(date +%s%3N)"
  mkdir -p "$KAFKA_DATA"
  if [[ "${KAFKA_KEEP_DATA:-0}" != 1 ]]; then
    rm -rf "$KAFKA_DATA/log"
  fi
  rm -f "$KAFKA_DATA/server.log" "$LOG_FILE"
  write_config
  # shellcheck disable=SC2046
  if [[ ! -f "$KAFKA_DATA/log/meta.properties" ]]; then
    # Formatting costs a JVM start; format once into a template and copy it
    # for each fresh start (same cluster id every time, which a local broker
    # does not mind).
    local template="$KAFKA_DATA/formatted-$KAFKA_VERSION"
    if [[ ! -f "$template/meta.properties" ]]; then
      rm -rf "$template"
      sed "s|^log.dirs=.*|log.dirs=$template|" "$KAFKA_DATA/server.properties" >"$KAFKA_DATA/format.properties"
      java $(java_opts) -cp "$LIBS/*" kafka.tools.StorageTool format \
        -t "$(random_cluster_id)" -c "$KAFKA_DATA/format.properties" \
        >"$KAFKA_DATA/format.out" 2>&1 || { cat "$KAFKA_DATA/format.out" >&2; die "storage format failed"; }
    fi
    rm -rf "$KAFKA_DATA/log"
    cp -R "$template" "$KAFKA_DATA/log"
  fi
  # setsid: the broker outlives this shell and is not tied to its process group.
  # shellcheck disable=SC2046
  setsid java $(java_opts) -cp "$LIBS/*" kafka.Kafka "$KAFKA_DATA/server.properties" \
    >"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  local pid=$!
  local deadline=$(( $(date +%s) + KAFKA_START_TIMEOUT ))
  # Ready = the server logged its start and the client port answers.
  until grep -q "Kafka Server started" "$KAFKA_DATA/server.log" 2>/dev/null && port_open "$KAFKA_PORT"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker exited during start; log tail:"
      tail -40 "$LOG_FILE" "$KAFKA_DATA/server.log" >&2 2>/dev/null || true
      rm -f "$PID_FILE"
      exit 1
    fi
    if (( $(date +%s) >= deadline )); then
      log "broker not ready after ${KAFKA_START_TIMEOUT}s; log tail:"
      tail -40 "$LOG_FILE" "$KAFKA_DATA/server.log" >&2 2>/dev/null || true
      stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.2
  done
  local ms=$(( $(date +%s%3N) - t0 ))
  log "started pid $pid in $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s (data $KAFKA_DATA)"
  echo "KAFKA_BROKERS=$BROKERS"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  kill -TERM "$pid"
  # A controlled shutdown of a single node takes a few seconds; force after 30s.
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop in 30s; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  if [[ "${KAFKA_KEEP_DATA:-0}" != 1 ]]; then
    rm -rf "$KAFKA_DATA/log"
  fi
  log "stopped pid $pid"
}

status() {
  if pid="$(running_pid)" && port_open "$KAFKA_PORT"; then
    log "running (pid $pid)"
    echo "KAFKA_BROKERS=$BROKERS"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status|fetch" >&2; exit 2 ;;
esac
