#!/usr/bin/env bash
# Recovery latency: kill -9 of a sandbox master under a write load → a healed
# topology (the promoted replica writable, every other replica replicating
# from it), measured in MariaDB itself, over TRIALS fresh sandboxes with
# `tidewatch run --recover` (bench/recovery_latency_bench.cc).
#   bench/recovery-latency.sh [--trials 20] [--fill-mb 0] [--fill-rows 1]
set -euo pipefail
cd "$(dirname "$0")/.."
trials=20 fill=0 rows=1
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) trials=$2; shift ;;
    --fill-mb) fill=$2; shift ;;
    --fill-rows) rows=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
work=$(mktemp -d /tmp/tidewatch-recovery-XXXXXX)
cleanup() {
  python3 tools/sandbox/tidewatch-sandbox --dir "$work/sandbox" down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
ninja -C build tidewatch recovery_latency_bench >&2
TIDEWATCH_BENCH_WORK=$work TIDEWATCH_BENCH_TRIALS=$trials TIDEWATCH_BENCH_FILL_MB=$fill TIDEWATCH_BENCH_FILL_ROWS=$rows \
  TIDEWATCH_BINARY=build/tools/tidewatch ./build/bench/recovery_latency_bench
