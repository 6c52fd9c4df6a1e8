#!/usr/bin/env bash
# Builds Tidewatch and runs every test: unit and integration tests (real
# MariaDB servers through the sandbox, a real Kafka broker through
# tools/kafka/tidewatch-kafka), the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the decoder fuzzer.
# Installs what is missing first. Usage: tools/test.sh [--no-fuzz] [--no-asan]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz=1 asan=1
for a in "$@"; do
  case "$a" in
    --no-fuzz) fuzz=0 ;;
    --no-asan) asan=0 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
jobs=$(nproc)

bash tools/install-deps.sh

step() { printf '\n=== %s\n' "$*"; }

step "build (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build -j "$jobs"

step "Kafka broker jars (fetched from Maven Central once, then cached)"
python3 tools/kafka/tidewatch-kafka fetch

step "unit and integration tests"
ctest --test-dir build --output-on-failure -j 1 --timeout 900

if [ "$asan" = 1 ]; then
  step "unit tests under ASan + UBSan"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTIDEWATCH_SANITIZE=ON -DTIDEWATCH_BENCH=OFF >/dev/null
  ninja -C build-asan -j "$jobs" binlog_tests stream_tests pgtid_tests sinks_tests analyzer_tests tools_tests
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -L unit -j "$jobs"
fi

if [ "$fuzz" = 1 ]; then
  step "decoder fuzzer (60 s)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DTIDEWATCH_FUZZ=ON -DTIDEWATCH_BENCH=OFF >/dev/null
  ninja -C build-fuzz -j "$jobs" decoder_fuzzer protocol_fuzzer
  corpus=$(mktemp -d)
  trap 'rm -rf "$corpus" "${log:-}"' EXIT
  # Seeds: the reference binlogs without their magic, checksum verification on.
  for f in "$root"/../shared/fixtures/mysql/*; do
    case "$f" in *.md) continue ;; esac
    { printf '\001'; tail -c +5 "$f"; } > "$corpus/$(basename "$f")"
  done
  log=$(mktemp)
  if ! ./build-fuzz/tests/decoder_fuzzer -max_total_time=60 -timeout=10 -rss_limit_mb=2560 \
      -malloc_limit_mb=2048 -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzzer: FAILED (the crashing input is saved as ./crash-* / ./timeout-* / ./oom-*)" >&2
    exit 1
  fi
  grep -E '^Done|number_of_executed_units' "$log"
  echo "decoder fuzzer: no crash, hang or leak in 60 s"

  step "protocol fuzzer (20 s)"
  if ! ./build-fuzz/tests/protocol_fuzzer -max_total_time=20 -timeout=10 -rss_limit_mb=2560 \
      -malloc_limit_mb=2048 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "protocol fuzzer: FAILED (the crashing input is saved as ./crash-* / ./timeout-* / ./oom-*)" >&2
    exit 1
  fi
  grep -E '^Done' "$log"
  echo "protocol fuzzer: no crash, hang or leak in 20 s"
fi
