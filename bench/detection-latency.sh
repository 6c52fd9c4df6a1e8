#!/usr/bin/env bash
# Failure detection latency: kill -9 of a sandbox master → the DeadMaster
# analysis on Kafka, over 20 trials (bench/detection_latency_bench.cc), with
# tidewatch run polling every InstancePollSeconds (orchestrator's default 5 s:
# the stream, not the poll, detects) and the stream's heartbeat at
# StreamHeartbeatMilliseconds.
#   bench/detection-latency.sh [--heartbeat-ms 250] [--poll-seconds 5] [--trials 20]
set -euo pipefail
cd "$(dirname "$0")/.."
heartbeat=250 poll=5 trials=20
while [ $# -gt 0 ]; do
  case "$1" in
    --heartbeat-ms) heartbeat=$2; shift ;;
    --poll-seconds) poll=$2; shift ;;
    --trials) trials=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
work=$(mktemp -d /tmp/tidewatch-detection-XXXXXX)
sandbox="python3 tools/sandbox/tidewatch-sandbox --dir $work/sandbox"
kafka="python3 tools/kafka/tidewatch-kafka --dir $work/kafka"
cleanup() {
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  $sandbox down >/dev/null 2>&1 || true
  $kafka down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
ninja -C build tidewatch detection_latency_bench >&2
$sandbox up --base-port 26400 'm>r1,r2' >&2
$kafka up --port 29810 >&2
cat > "$work/tidewatch.conf.json" <<JSON
{"MySQLTopologyUser": "tidewatch", "MySQLTopologyPassword": "tidewatch",
 "DiscoverySeeds": ["127.0.0.1:26400"], "InstancePollSeconds": $poll,
 "StreamHeartbeatMilliseconds": $heartbeat, "ListenAddress": "127.0.0.1:26499",
 "KafkaBrokers": "$($kafka bootstrap)", "StateDir": "$work/state"}
JSON
./build/tools/tidewatch run -c "$work/tidewatch.conf.json" 2>"$work/tidewatch.log" &
daemon=$!
TIDEWATCH_BENCH_KAFKA=$($kafka bootstrap) TIDEWATCH_BENCH_SANDBOX=$work/sandbox TIDEWATCH_BENCH_API=127.0.0.1:26499 \
  TIDEWATCH_BENCH_TRIALS=$trials ./build/bench/detection_latency_bench 2>&1 |
  grep -v '^\[20' || true
