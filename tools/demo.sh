#!/usr/bin/env bash
# Tidewatch's main job against a local sandbox: starts a MariaDB topology
# (master m with replicas r1, r2, r3; Pseudo-GTID injected every second), runs a
# write load on the master, and follows the master as a replica, printing its
# binlog events live, one JSON object per event, as they are written (the
# stream's state changes go to standard error). Ctrl-C stops it and tears the
# sandbox down (--keep leaves it running).
#   tools/demo.sh [--keep] [--spec 'm>r1,r2,r3'] [--seconds N]
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0 spec='m>r1,r2,r3' seconds=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --spec) spec=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

bash tools/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build tidewatch >&2

sandbox=tools/sandbox/tidewatch-sandbox
export TIDEWATCH_SANDBOX_DIR=${TIDEWATCH_SANDBOX_DIR:-/tmp/tidewatch-demo}
cleanup() {
  [ -n "${load_pid:-}" ] && kill "$load_pid" 2>/dev/null || true
  [ -n "${pw:-}" ] && rm -f "$pw"
  if [ "$keep" = 0 ]; then python3 $sandbox down >&2 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 $sandbox up "$spec" >&2
python3 $sandbox status >&2
master=${spec%%[>\[<;]*}
port=$(python3 $sandbox port "$master")
pw=$(mktemp)
printf tidewatch > "$pw"
load_seconds=$seconds; [ "$seconds" -gt 0 ] || load_seconds=86400
python3 $sandbox load --target "$master" --seconds "$load_seconds" >/dev/null 2>&1 &
load_pid=$!
echo "streaming 127.0.0.1:$port as a replica (Ctrl-C to stop)" >&2
stream=(./build/tools/tidewatch binlog stream --source "127.0.0.1:$port" --user tidewatch --password-file "$pw")
if [ "$seconds" -gt 0 ]; then
  timeout -s INT "$seconds" "${stream[@]}" || [ $? -eq 124 ]
else
  "${stream[@]}"
fi
