#!/usr/bin/env bash
# Makes a ROW-heavy binlog of at least MB megabytes (default 100) with a real
# MariaDB server from the sandbox (see fill-row-binlog.sh; ROWS rows per
# transaction, default 1) and copies it to OUT. Prints OUT. The server listens
# on TIDEWATCH_BENCH_BASE_PORT (default 25306).
#   bench/make-row-binlog.sh [MB] [OUT] [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-100}
out=${2:-/tmp/tidewatch-bench/row-heavy-${mb}MB.bin}
rows=${3:-1}
mkdir -p "$(dirname "$out")"
export TIDEWATCH_SANDBOX_DIR=$(mktemp -d /tmp/tidewatch-benchgen.XXXXXX)
sandbox="python3 tools/sandbox/tidewatch-sandbox"
trap '$sandbox down >/dev/null 2>&1 || true' EXIT
$sandbox up --base-port "${TIDEWATCH_BENCH_BASE_PORT:-25306}" --pseudo-gtid-interval 0 'b' >&2
file=$(bench/fill-row-binlog.sh b "$mb" "$rows")
$sandbox sql b "FLUSH BINARY LOGS" >/dev/null
cp "$file" "$out"
echo "$out"
