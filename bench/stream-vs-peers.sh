#!/usr/bin/env bash
# Stream throughput from one real MariaDB server over loopback, side by side
# in one run on the same ≥ MB-megabyte binlog:
#   tidewatch binlog stream --summary (every event located, CRC-verified, decoded)
#   mariadb-binlog --read-from-remote-server --raw
#   the server's own replica IO thread (a fresh replica, only the IO thread)
# with the CPU time the server's mariadbd spent on each.
#   bench/stream-vs-peers.sh [MB]
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-100}
export TIDEWATCH_SANDBOX_DIR=$(mktemp -d /tmp/tidewatch-streambench.XXXXXX)
sandbox="python3 tools/sandbox/tidewatch-sandbox"
trap '$sandbox down >/dev/null 2>&1 || true; rm -rf "$raw_dir"' EXIT
raw_dir=$(mktemp -d)
$sandbox up --base-port 25400 --pseudo-gtid-interval 0 'b>r' >&2
$sandbox sql r "STOP SLAVE" >/dev/null
file=$(bench/fill-row-binlog.sh b "$mb")
$sandbox sql b "FLUSH BINARY LOGS" >/dev/null
size=$(stat -c %s "$file")
name=$(basename "$file")
port=$($sandbox port b)
pw=$(mktemp); printf tidewatch > "$pw"
server_pid=$(cat "$TIDEWATCH_SANDBOX_DIR/b/mariadbd.pid")
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, clock ticks
hz=$(getconf CLK_TCK)

measure() {  # label, command...; prints seconds, MB/s and the server's CPU seconds
  local label=$1; shift
  local c0 t0 t1 c1
  c0=$(cpu "$server_pid"); t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N); c1=$(cpu "$server_pid")
  awk -v l="$label" -v s="$size" -v a="$t0" -v b="$t1" -v c0="$c0" -v c1="$c1" -v hz="$hz" \
    'BEGIN { d = b - a; printf "%-44s %7.2f s %8.1f MB/s   server CPU %6.2f s\n", l, d, s / 1e6 / d, (c1 - c0) / hz }'
}

stream() {
  /usr/bin/time -f "    (tidewatch CPU: user %U s, sys %S s)" \
    ./build/tools/tidewatch binlog stream --source "127.0.0.1:$port" --user tidewatch --password-file "$pw" \
      --from "$name:4" --until "$name:$size" --non-blocking --summary 2>&1 >/dev/null | grep -v '"state"' >&2
}
remote_raw() {
  mariadb-binlog --read-from-remote-server --raw --host 127.0.0.1 --port "$port" --user tidewatch \
    --password=tidewatch --result-file="$raw_dir/" "$name" >/dev/null 2>&1
}
io_thread() {
  $sandbox sql r "STOP SLAVE; RESET SLAVE; CHANGE MASTER TO MASTER_USE_GTID=no, MASTER_LOG_FILE='$name', MASTER_LOG_POS=4; START SLAVE IO_THREAD" >/dev/null
  while true; do
    # SHOW SLAVE STATUS: column 6 Master_Log_File, column 7 Read_Master_Log_Pos.
    read -r f p < <($sandbox sql -N r "SHOW SLAVE STATUS" | awk -F'\t' '{print $6, $7}')
    if [[ "$f" > "$name" ]] || { [ "$f" = "$name" ] && [ "${p:-0}" -ge "$size" ]; }; then break; fi
    sleep 0.02
  done
}

echo "binlog: $file, $((size / 1000000)) MB" >&2
measure "tidewatch binlog stream (decode, verify)" stream
measure "mariadb-binlog --read-from-remote-server --raw" remote_raw
measure "replica IO thread (fresh replica)" io_thread
rm -f "$pw"
