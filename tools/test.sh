#!/usr/bin/env bash
# Checks the module dependencies (tools/check-includes.py, the table of
# docs/DESIGN.md), builds Tidewatch and runs every test: unit and integration
# tests (real MariaDB servers through the sandbox, a real Kafka broker through
# tools/kafka/tidewatch-kafka), the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the fuzzers.
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

step() { printf '\n=== %s\n' "$*"; }

bash tools/install-deps.sh

step "module dependencies (docs/DESIGN.md)"
python3 tools/check-includes.py --components

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
  ninja -C build-asan -j "$jobs" base_tests binlog_tests stream_tests pgtid_tests sinks_tests analyzer_tests server_tests \
    simulator_tests row_values_tests
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -L unit -j "$jobs"
fi

if [ "$fuzz" = 1 ]; then
  step "decoder fuzzer (60 s)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DTIDEWATCH_FUZZ=ON -DTIDEWATCH_BENCH=OFF >/dev/null
  ninja -C build-fuzz -j "$jobs" decoder_fuzzer protocol_fuzzer event_body_fuzzer gtid_set_fuzzer
  corpus=$(mktemp -d)
  trap 'rm -rf "$corpus" "${log:-}"' EXIT
  # Seeds: the reference binlogs without their magic, checksum verification on.
  for f in "$root"/tests/data/mysql/*; do
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

  step "event body fuzzer (20 s)"
  # Seeds: the reference binlogs as the target reads them — per event its
  # type, a 3-byte body length and the body (checksum dropped; the target
  # computes it), each window of events opened by the file's description.
  mkdir -p "$corpus/bodies" "$corpus/sets"
  python3 - "$root/tests/data/mysql" "$corpus/bodies" <<'PY'
import os, struct, sys
src, dst = sys.argv[1:3]
def chunk(t, body):
    return bytes([t]) + len(body).to_bytes(3, "little") + body
for name in sorted(os.listdir(src)):
    if name.endswith(".md"):
        continue
    data = open(os.path.join(src, name), "rb").read()
    at, fde, crc, window, n = 4, None, False, [], 0
    while at + 19 <= len(data):
        size = struct.unpack_from("<I", data, at + 9)[0]
        if size < 19 or at + size > len(data):
            break
        t, body = data[at + 4], data[at + 19:at + size]
        at += size
        if t == 15:
            if fde is None:
                v = body[2:52].split(b"\0")[0].decode("latin1")
                nums = tuple(int(x) for x in v.split("-")[0].split(".")[:3] if x.isdigit())
                crc = len(body) > 5 and body[-5] == 1 and (nums >= (5, 6, 1) or "MariaDB" in v)
                fde = chunk(15, body)
            continue
        window.append(chunk(t, (body[:-4] if crc else body)[:4092]))
        if len(window) == 24:
            open(os.path.join(dst, "%s.%d" % (name, n)), "wb").write((fde or b"") + b"".join(window))
            window, n = [], n + 1
    if window:
        open(os.path.join(dst, "%s.%d" % (name, n)), "wb").write((fde or b"") + b"".join(window))
PY
  if ! ./build-fuzz/tests/event_body_fuzzer -max_total_time=20 -timeout=10 -max_len=16384 -rss_limit_mb=2560 \
      -malloc_limit_mb=2048 "$corpus/bodies" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "event body fuzzer: FAILED (the input is saved as ./crash-* / ./timeout-* / ./oom-*)" >&2
    exit 1
  fi
  grep -E '^Done' "$log"
  echo "event body fuzzer: every event delivered, no crash, hang or leak in 20 s"

  step "GTID set fuzzer (20 s)"
  i=0
  for s in "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11" \
           "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:Tag_A:1-3:7:b:9,4e11fa47-71ca-11e1-9e33-c80aa9429562:x:2" \
           " 4E11FA47-71CA-11E1-9E33-C80AA9429562 : nightly : 1-9223372036854775806 "; do
    printf '%s' "$s" > "$corpus/sets/$((i += 1))"
  done
  if ! ./build-fuzz/tests/gtid_set_fuzzer -max_total_time=20 -timeout=10 -rss_limit_mb=2560 \
      -malloc_limit_mb=2048 "$corpus/sets" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "GTID set fuzzer: FAILED (the input is saved as ./crash-* / ./timeout-* / ./oom-*)" >&2
    exit 1
  fi
  grep -E '^Done' "$log"
  echo "GTID set fuzzer: no crash, hang or leak in 20 s"
fi
