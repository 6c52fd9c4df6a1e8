#!/usr/bin/env bash
# Match-below side by side in one run, on the same sandbox servers: the
# orchestrator baseline (SHOW BINLOG EVENTS scans, bench/orchestrator_baseline.h)
# against Tidewatch's index (build/bench/match_vs_orchestrator_bench).
#
# Topology m>r1,r2 (MariaDB, file/position replication, Pseudo-GTID injected
# every second on m by the event scheduler). Instance r2, destination r1.
#   1. For each MB (default 100, then 1000): the master's binlog filled to MB
#      with bench/fill-row-binlog.sh (the same file grows: 100 MB, then 1 GB),
#      both replicas caught up; then r2 is stopped in the middle of a further
#      burst of writes that r1 receives in full — r2's last entry lies near the
#      end of its last binlog file, less than a second of writes before its
#      position.
#   2. Unless --no-earlier-file: the last entry in an earlier, large file.
#      New binlog files everywhere, one entry written, the injection switched
#      off, the master's new file filled to the last MB, r2 stopped and its
#      binlog rotated: the entry lies near the start of a file of MB that must
#      be read to its end, and every event after it must be walked.
# While the servers are filled, the coordinates orchestrator records every
# InstancePollSeconds (5) are recorded for r1 and r2, so the baseline runs
# both without and with its 2-minute coordinates history.
#
#   bench/match-vs-orchestrator.sh [--no-earlier-file] [MB...]
# Environment: TIDEWATCH_SANDBOX_DIR (default a new /tmp/tidewatch-orchbench.*),
# TIDEWATCH_BENCH_BASE_PORT (27100). Needs build/bench/match_vs_orchestrator_bench.
set -euo pipefail
cd "$(dirname "$0")/.."
earlier=1
sizes=()
for a in "$@"; do
  case "$a" in
    --no-earlier-file) earlier=0 ;;
    *) sizes+=("$a") ;;
  esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000)
bench=build/bench/match_vs_orchestrator_bench
[ -x "$bench" ] || { echo "build it first: ninja -C build match_vs_orchestrator_bench" >&2; exit 2; }
export TIDEWATCH_SANDBOX_DIR=${TIDEWATCH_SANDBOX_DIR:-$(mktemp -d /tmp/tidewatch-orchbench.XXXXXX)}
base=${TIDEWATCH_BENCH_BASE_PORT:-27100}
sandbox="python3 tools/sandbox/tidewatch-sandbox"
poller=
cleanup() {
  [ -z "$poller" ] || kill "$poller" 2>/dev/null || true
  $sandbox down >/dev/null 2>&1 || true
}
trap cleanup EXIT
say() { printf '\n=== %s\n' "$*" >&2; }

$sandbox up --base-port "$base" --no-gtid 'm>r1,r2' >&2
m=127.0.0.1:$base r1=127.0.0.1:$((base + 1)) r2=127.0.0.1:$((base + 2))
history=$TIDEWATCH_SANDBOX_DIR/coordinates-history
sql() { $sandbox sql -N "$@"; }
client() { mariadb -h 127.0.0.1 -P "$1" -u tidewatch -ptidewatch -N -B -e "$2"; }

# orchestrator's database_instance_coordinates_history: every 5 s, each
# replica's SHOW MASTER STATUS file and position and its SHOW SLAVE STATUS
# Relay_Log_File (column 8) and Relay_Log_Pos (column 9).
record_history() {
  while true; do
    for port in $((base + 1)) $((base + 2)); do
      local now b r
      now=$(date +%s)
      b=$(client "$port" "SHOW MASTER STATUS" | awk -F'\t' '{print $1, $2}') || continue
      r=$(client "$port" "SHOW SLAVE STATUS" | awk -F'\t' '{print $8, $9}') || continue
      echo "$now 127.0.0.1:$port $b ${r:-- 0}" >> "$history"
    done
    sleep 5
  done
}
record_history &
poller=$!

seq_of() { sql "$1" "SELECT @@gtid_binlog_pos" | awk -F- '{print $NF}'; }
# Waits until SERVER has logged the master's transaction number SEQ.
wait_for() {
  while [ "$(seq_of "$1")" -lt "$2" ]; do sleep 0.5; done
}
# The replicas' crash-safety fsyncs (sync_master_info, sync_relay_log_info =
# 1 with file/position replication) are relaxed while they apply the fill and
# restored before anything is measured.
replica_sync() { for r in r1 r2; do sql "$r" "SET GLOBAL sync_master_info=$1, GLOBAL sync_relay_log_info=$1" >/dev/null; done; }
next_id() { sql m "SELECT COALESCE(MAX(id) + 1, 0) FROM bench.t"; }
fill() {
  replica_sync 0
  bench/fill-row-binlog.sh m "$1" >/dev/null
  local target
  target=$(seq_of m)
  wait_for r1 "$target"
  wait_for r2 "$target"
  replica_sync 1
}
sizes_of() { sql "$1" "SHOW BINARY LOGS" | awk '{printf "%s%s %.1f MB", sep, $1, $2 / 1e6; sep = ", "}'; }
run() {  # label, extra environment...
  local label=$1; shift
  say "$label"
  echo "binlogs: r2 (instance): $(sizes_of r2); r1 (destination): $(sizes_of r1)" >&2
  env TIDEWATCH_BENCH_INSTANCE="$r2" TIDEWATCH_BENCH_DEST="$r1" TIDEWATCH_BENCH_HISTORY="$history" \
    TIDEWATCH_BENCH_FAILED_AT="$failed_at" TIDEWATCH_BENCH_LABEL="$label" "$@" "$bench"
  # The end-to-end bench leaves r2 below m, stopped.
  sql r2 "START SLAVE" >/dev/null
}

for mb in "${sizes[@]}"; do
  say "filling m's binlog to $mb MB"
  fill "$mb"
  # The failure: r2 stops while the master writes; r1 receives everything.
  id=$(next_id)
  sql m "CALL bench.fill($id, 20000)" >/dev/null &
  writer=$!
  sleep 1
  sql r2 "STOP SLAVE" >/dev/null
  failed_at=$(date +%s)
  wait "$writer"
  wait_for r1 "$(seq_of m)"
  run "last entry near the end of the last file, $mb MB"
done

if [ "$earlier" = 1 ]; then
  mb=${sizes[-1]}
  say "earlier file: entry near the start of a $mb MB file"
  target=$(seq_of m)
  wait_for r1 "$target"
  wait_for r2 "$target"
  for s in m r1 r2; do sql "$s" "FLUSH BINARY LOGS" >/dev/null; done
  sleep 3
  wait_for r2 "$(seq_of m)"
  sql m "SET GLOBAL event_scheduler=OFF" >/dev/null
  sleep 1
  fill "$mb"
  sql r2 "STOP SLAVE" >/dev/null
  sql r2 "FLUSH BINARY LOGS" >/dev/null
  failed_at=$(date +%s)
  sql m "SET GLOBAL event_scheduler=ON" >/dev/null
  sleep 3
  # The walk crosses r2's rotation: MariaDB's Gtid_list and Binlog_checkpoint
  # rows differ between servers and must be skipped (SkipBinlogEventsContaining).
  # Every event after the entry is walked, so Tidewatch's window must hold
  # them (2^25 events, 256 MiB per server).
  run "last entry near the start of an earlier $mb MB file" \
    TIDEWATCH_BENCH_SKIP_CONTAINING="[0-$base-|-bin.0" TIDEWATCH_BENCH_WINDOW_EVENTS=33554432 \
    TIDEWATCH_BENCH_ORCH_ITERATIONS=1 TIDEWATCH_BENCH_TW_ITERATIONS=3 TIDEWATCH_BENCH_E2E_ITERATIONS=1 \
    TIDEWATCH_BENCH_OFFSET_SCAN_MB=0
fi
