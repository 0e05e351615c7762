#!/usr/bin/env bash
# Start or stop a local otelcol-chainsight gateway (collectors/gateway.yaml)
# for development and tests. Builds the distribution first if needed.
#
#   scripts/collector.sh start    build if needed, start, wait for the health check
#   scripts/collector.sh stop     stop the collector started by `start`
#   scripts/collector.sh status   exit 0 and print the endpoints when running
#
# Environment (all but KAFKA_BROKERS have defaults):
#   KAFKA_BROKERS          comma-separated host:port list (required for start)
#   KAFKA_TRACES_TOPIC     default otlp_spans
#   COLLECTOR_HOST         interface to bind, default 127.0.0.1
#   COLLECTOR_GRPC_PORT    default 4317
#   COLLECTOR_HTTP_PORT    default 4318
#   COLLECTOR_HEALTH_PORT  default 13133
#   COLLECTOR_METRICS_PORT the collector's own Prometheus metrics, default 8888
#   COLLECTOR_CONFIG       default collectors/gateway.yaml
#   COLLECTOR_DATA         pid and log dir, default /tmp/chainsight-collector
#   COLLECTOR_QUEUE_DIR    persistent sending queue, default $COLLECTOR_DATA/queue;
#                          a restart on the same directory resumes what was queued
#   COLLECTOR_START_TIMEOUT seconds, default 60 (excludes the build)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COLLECTOR_HOST="${COLLECTOR_HOST:-127.0.0.1}"
COLLECTOR_GRPC_PORT="${COLLECTOR_GRPC_PORT:-4317}"
COLLECTOR_HTTP_PORT="${COLLECTOR_HTTP_PORT:-4318}"
COLLECTOR_HEALTH_PORT="${COLLECTOR_HEALTH_PORT:-13133}"
COLLECTOR_METRICS_PORT="${COLLECTOR_METRICS_PORT:-8888}"
COLLECTOR_CONFIG="${COLLECTOR_CONFIG:-$repo_root/collectors/gateway.yaml}"
COLLECTOR_DATA="${COLLECTOR_DATA:-/tmp/chainsight-collector}"
COLLECTOR_START_TIMEOUT="${COLLECTOR_START_TIMEOUT:-60}"
COLLECTOR_QUEUE_DIR="${COLLECTOR_QUEUE_DIR:-$COLLECTOR_DATA/queue}"
PID_FILE="$COLLECTOR_DATA/collector.pid"
LOG_FILE="$COLLECTOR_DATA/collector.log"
HEALTH_URL="http://$COLLECTOR_HOST:$COLLECTOR_HEALTH_PORT/"

log() { echo "collector.sh: $*" >&2; }
die() { log "$*"; exit 1; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

healthy() {
  curl -fsS -o /dev/null --max-time 2 "$HEALTH_URL" 2>/dev/null
}

print_endpoints() {
  echo "OTLP_GRPC_ENDPOINT=$COLLECTOR_HOST:$COLLECTOR_GRPC_PORT"
  echo "OTLP_HTTP_ENDPOINT=http://$COLLECTOR_HOST:$COLLECTOR_HTTP_PORT"
  echo "COLLECTOR_HEALTH_URL=$HEALTH_URL"
  echo "COLLECTOR_LOG=$LOG_FILE"
  echo "COLLECTOR_QUEUE_DIR=$COLLECTOR_QUEUE_DIR"
}

start() {
  [[ -n "${KAFKA_BROKERS:-}" ]] || die "KAFKA_BROKERS is not set (e.g. KAFKA_BROKERS=127.0.0.1:19092)"
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    print_endpoints
    return 0
  fi
  local binary
  binary="$("$repo_root/scripts/build-collector.sh")"
  mkdir -p "$COLLECTOR_DATA"
  # gateway.yaml reads these names; the host/port split above is what callers set.
  OTLP_GRPC_ENDPOINT="$COLLECTOR_HOST:$COLLECTOR_GRPC_PORT" \
  OTLP_HTTP_ENDPOINT="$COLLECTOR_HOST:$COLLECTOR_HTTP_PORT" \
  HEALTH_CHECK_ENDPOINT="$COLLECTOR_HOST:$COLLECTOR_HEALTH_PORT" \
  TELEMETRY_HOST="$COLLECTOR_HOST" \
  TELEMETRY_PORT="$COLLECTOR_METRICS_PORT" \
  KAFKA_BROKERS="$KAFKA_BROKERS" \
  COLLECTOR_QUEUE_DIR="$COLLECTOR_QUEUE_DIR" \
    nohup "$binary" --config "$COLLECTOR_CONFIG" >"$LOG_FILE" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  local deadline=$((SECONDS + COLLECTOR_START_TIMEOUT))
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      tail -n 30 "$LOG_FILE" >&2 || true
      die "collector exited during startup (log: $LOG_FILE)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$LOG_FILE" >&2 || true
      kill "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      die "health check $HEALTH_URL not ready after ${COLLECTOR_START_TIMEOUT}s"
    fi
    sleep 0.2
  done
  log "running (pid $pid), healthy at $HEALTH_URL"
  print_endpoints
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  # SIGTERM shuts the pipeline down; what Kafka has not acknowledged stays in
  # the persistent queue and is sent by the next start on the same directory.
  kill -TERM "$pid"
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "pid $pid still alive after 20s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  log "stopped (pid $pid)"
}

status() {
  local pid
  if pid="$(running_pid)" && healthy; then
    log "running (pid $pid)"
    print_endpoints
    return 0
  fi
  log "not running"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
