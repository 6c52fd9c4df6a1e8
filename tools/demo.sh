#!/usr/bin/env bash
# Tidewatch's main job against a local sandbox: a MariaDB master with three
# replicas (Pseudo-GTID injected every second) under a write load, a real
# Kafka broker, and `tidewatch run` following every server as a replica and
# publishing to the broker, with its recovery consumer (`--recover`). The
# terminal shows the live topology, analysis and recovery messages as the
# reference subscriber reads them from Kafka (JSON lines); kill the master in
# another terminal and the DeadMaster analysis appears, followed by the
# failover — the most advanced replica promoted, the others moved below it:
#
#   tools/sandbox/tidewatch-sandbox --dir /tmp/tidewatch-demo/sandbox kill m
#
# The HTTP API listens on 127.0.0.1:3000 (/api/topology/127.0.0.1/23306,
# /api/replication-analysis, /api/stream, /metrics). Ctrl-C stops it and tears
# everything down (--keep leaves the servers and the broker running).
#   tools/demo.sh [--keep] [--spec 'm>r1,r2,r3'] [--seconds N] [--kill-master-after N]
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0 spec='m>r1,r2,r3' seconds=0 kill_after=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --spec) spec=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --kill-master-after) kill_after=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

bash tools/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build tidewatch >&2

dir=${TIDEWATCH_DEMO_DIR:-/tmp/tidewatch-demo}
base_port=${TIDEWATCH_DEMO_BASE_PORT:-23306}
kafka_port=${TIDEWATCH_DEMO_KAFKA_PORT:-29092}
api=${TIDEWATCH_DEMO_API:-127.0.0.1:3000}
sandbox="python3 tools/sandbox/tidewatch-sandbox --dir $dir/sandbox"
kafka="python3 tools/kafka/tidewatch-kafka --dir $dir/kafka"
cleanup() {
  for p in ${tail_pid:-} ${load_pid:-} ${killer_pid:-} ${daemon_pid:-}; do kill "$p" 2>/dev/null || true; done
  [ -n "${daemon_pid:-}" ] && wait "$daemon_pid" 2>/dev/null || true
  if [ "$keep" = 0 ]; then
    $sandbox down >&2 || true
    $kafka down >&2 || true
    rm -rf "$dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$dir"
$sandbox up --base-port "$base_port" "$spec" >&2
$kafka up --port "$kafka_port" >&2
master=${spec%%[>\[<;]*}
master_port=$($sandbox port "$master")
cat > "$dir/tidewatch.conf.json" <<JSON
{
  "MySQLTopologyUser": "tidewatch",
  "MySQLTopologyPassword": "tidewatch",
  "DiscoverySeeds": ["127.0.0.1:$master_port"],
  "InstancePollSeconds": 5,
  "ListenAddress": "$api",
  "KafkaBrokers": "$($kafka bootstrap)",
  "StateDir": "$dir/state",
  "RecoverMasterClusterFilters": [".*"],
  "RecoverIntermediateMasterClusterFilters": [".*"]
}
JSON
./build/tools/tidewatch run --recover -c "$dir/tidewatch.conf.json" 2>"$dir/tidewatch.log" &
daemon_pid=$!
load_seconds=$seconds; [ "$seconds" -gt 0 ] || load_seconds=86400
$sandbox load --target "$master" --seconds "$load_seconds" >/dev/null 2>&1 &
load_pid=$!
cat >&2 <<EOF

tidewatch run is following the sandbox (log: $dir/tidewatch.log, API: http://$api).
Topology, analysis and recovery messages from Kafka follow. To see a failure
analysed and recovered:
  $sandbox kill $master
EOF
if [ "$kill_after" -gt 0 ]; then
  (sleep "$kill_after"; echo ">>> killing the master $master (kill -9)" >&2; $sandbox kill "$master" >&2) &
  killer_pid=$!
fi
stream=(./build/tools/tidewatch tail --kafka "$($kafka bootstrap)" --topic tidewatch.topology --topic tidewatch.analysis
  --topic tidewatch.recovery --from-beginning)
if [ "$seconds" -gt 0 ]; then
  timeout -s INT "$seconds" "${stream[@]}" || [ $? -eq 124 ]
else
  "${stream[@]}" &
  tail_pid=$!
  wait "$tail_pid"
fi
