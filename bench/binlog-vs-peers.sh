#!/usr/bin/env bash
# Decodes each binlog FILE in-process with Tidewatch (bench/binlog_bench.cc,
# the file read into memory once as each peer reads it),
# mysql-binlog-connector-java 0.29.2 (bench/peers/java) and go-mysql v1.16.0
# (bench/peers/go), one after the other in one run, and prints a table of
# MB/s (decimal) of wall-clock time and MB per CPU-second (the process's:
# the peers' garbage collectors run on threads of their own), each with its
# ratio to the fastest peer. On a machine busy with other work the CPU
# figures are the steadier. Then the commands as users run them, each a whole
# process reading the file once: `tidewatch binlog dump FILE > /dev/null`
# (every event decoded, CRC32 verified, one JSON line written per event)
# beside each peer's program making one pass (values materialised, nothing
# printed); the medians of WHOLE_RUNS runs, taken in turn.
#   bench/binlog-vs-peers.sh FILE...
# Installs what is missing (Debian: maven, openjdk-17-jdk-headless,
# golang-go). The peers are built under $TIDEWATCH_BUILD_DIR/peers (default
# build/peers), their jars and modules fetched into Maven's and Go's own
# caches; nothing is written into the source tree. Environment:
#   TIDEWATCH_BUILD_DIR   the CMake build directory (default build)
#   JOBS                  ninja's parallelism (default: the number of cores)
#   REPETITIONS           Tidewatch repetitions, the median is taken (default 5)
#   JAVA_PASSES, JAVA_WARMUP   passes of the Java peer, and how many of them only
#                         warm the JIT (default 12 and 4); the median of the rest
#   GO_PASSES, GO_WARMUP  the same for the Go peer (default 6 and 1)
#   WHOLE_RUNS            runs of each whole process (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 FILE..." >&2; exit 2; }
for f in "$@"; do [ -r "$f" ] || { echo "$f: not readable" >&2; exit 1; }; done
build=${TIDEWATCH_BUILD_DIR:-build}
peers=$build/peers
mkdir -p "$peers"

missing=()
command -v mvn >/dev/null || missing+=(maven)
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v go >/dev/null || missing+=(golang-go)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
# go-mysql v1.16.0 needs Go 1.25; a Go of 1.21 or later fetches the toolchain
# go.mod names by itself, an older one cannot.
gov=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n' 1.21 "$gov" | sort -V | head -n1)" != 1.21 ]; then
  echo "Go $gov is too old for bench/peers/go (go-mysql v1.16.0 needs Go 1.25; Go 1.21+ fetches it)" >&2
  exit 1
fi

echo "building Tidewatch's binlog_bench, the Java and the Go peer" >&2
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
ninja -C "$build" -j "${JOBS:-$(nproc)}" binlog_bench tidewatch >&2
java_build=$(realpath -m "$peers/java")
mvn -q -f bench/peers/java/pom.xml -Dpeer.build.dir="$java_build" compile dependency:build-classpath \
  -Dmdep.outputFile="$java_build/classpath" >&2
go_peer=$(realpath -m "$peers/go/binlogpeer")
(cd bench/peers/go && go build -o "$go_peer" .) >&2

results=$(mktemp)
trap 'rm -f "$results" "$results.json"' EXIT
for f in "$@"; do
  echo "== $f" >&2
  echo "  Tidewatch" >&2
  TIDEWATCH_BENCH_IN_MEMORY=1 TIDEWATCH_BENCH_SKIP_PEER=1 TIDEWATCH_BENCH_BINLOG="$f" "$build/bench/binlog_bench" \
    --benchmark_filter='BM_DecodeEveryEvent|BM_DecodeMaterialiseEveryValue' \
    --benchmark_repetitions="${REPETITIONS:-5}" --benchmark_report_aggregates_only=true \
    --benchmark_out="$results.json" --benchmark_out_format=json >&2
  python3 -c '
import json, sys
import os
scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
mb = os.path.getsize(sys.argv[1]) / 1e6
picked = {}  # the median of the repetitions, or the one run
for b in json.load(sys.stdin)["benchmarks"]:
    if b.get("aggregate_name", "median") == "median":
        if b.get("aggregate_name") or b["run_name"] not in picked:
            picked[b["run_name"]] = b
for name, b in picked.items():
    unit = scale[b["time_unit"]]
    print(sys.argv[1], "tidewatch:" + name, mb / (b["real_time"] * unit), mb / (b["cpu_time"] * unit))
' "$f" <"$results.json" >>"$results"
  echo "  Java" >&2
  java -cp "$java_build/classes:$(cat "$java_build/classpath")" tidewatch.bench.Main \
    --passes "${JAVA_PASSES:-12}" --warmup "${JAVA_WARMUP:-4}" "$f" |
    sed -n 's/.* median_MBps=\([0-9.]*\).*cpu_median_MBps=\([0-9.]*\).*/\1 \2/p' | sed "s|^|$f java |" >>"$results"
  echo "  Go" >&2
  "$go_peer" -passes "${GO_PASSES:-6}" -warmup "${GO_WARMUP:-1}" "$f" |
    sed -n 's/.* median_MBps=\([0-9.]*\).*cpu_median_MBps=\([0-9.]*\).*/\1 \2/p' | sed "s|^|$f go |" >>"$results"
done

python3 - "$results" <<'EOF'
import os, sys
rows = {}
for line in open(sys.argv[1]):
    f, who, wall, cpu = line.split()
    rows.setdefault(f, {})[who] = (float(wall), float(cpu))
names = [
    ("tidewatch:BM_DecodeEveryEvent", "Tidewatch: decode every event, row images walked, CRC32 verified"),
    ("tidewatch:BM_DecodeEveryEventNoCrc", "Tidewatch: the same, CRC32 not verified"),
    ("tidewatch:BM_DecodeMaterialiseEveryValue", "Tidewatch: decode, every row value materialised, CRC32 verified"),
    ("tidewatch:BM_DecodeMaterialiseEveryValueNoCrc", "Tidewatch: the same, CRC32 not verified"),
    ("java", "mysql-binlog-connector-java 0.29.2 (values materialised, CRC32 skipped)"),
    ("go", "go-mysql v1.16.0 (values materialised, CRC32 skipped)"),
]
for f, r in rows.items():
    fastest = [max(r.get(p, (0, 0))[i] for p in ("java", "go")) for i in (0, 1)]
    print(f"\n{f} ({os.path.getsize(f) / 1e6:.1f} MB); MB/s of wall-clock time, and MB per CPU-second "
          "(the process's, every thread's)")
    print(f"| {'reader':<72} | {'MB/s':>6} | {'x fastest':>9} | {'MB/CPU-s':>8} | {'x fastest':>9} |")
    print(f"|{'-' * 74}|{'-' * 7}:|{'-' * 10}:|{'-' * 9}:|{'-' * 10}:|")
    for key, label in names:
        if key not in r:
            continue
        cells = []
        for i in (0, 1):
            cells.append(f"{r[key][i]:.0f}")
            cells.append(f"{r[key][i] / fastest[i]:.1f}x" if fastest[i] else "-")
        print(f"| {label:<72} | {cells[0]:>6} | {cells[1]:>9} | {cells[2]:>8} | {cells[3]:>9} |")
EOF

echo "whole processes, ${WHOLE_RUNS:-7} runs each" >&2
python3 - "${WHOLE_RUNS:-7}" "$build/tools/tidewatch" "$go_peer" "$java_build/classes:$(cat "$java_build/classpath")" "$@" <<'EOF'
import os, resource, statistics, subprocess, sys, time
runs, tidewatch, go_peer, java_cp, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
commands = [
    ("tidewatch binlog dump FILE > /dev/null", lambda f: [tidewatch, "binlog", "dump", f]),
    ("mysql-binlog-connector-java 0.29.2, one pass", lambda f: ["java", "-cp", java_cp, "tidewatch.bench.Main",
                                                               "--passes", "1", "--warmup", "0", f]),
    ("go-mysql v1.16.0, one pass", lambda f: [go_peer, "-passes", "1", "-warmup", "0", f]),
]
def timed(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
for f in files:
    mb = os.path.getsize(f) / 1e6
    samples = {label: [] for label, _ in commands}
    for label, make in commands:
        timed(make(f))  # warm-up: the file in the page cache, the JVM's classes loaded
    for _ in range(runs):
        for label, make in commands:
            samples[label].append(timed(make(f)))
    med = {label: (statistics.median(w for w, _ in s), statistics.median(c for _, c in s))
           for label, s in samples.items()}
    fastest_peer = min(med[label][0] for label, _ in commands[1:])
    print(f"\n{f} ({mb:.1f} MB), whole processes: medians of wall-clock and CPU seconds")
    print(f"| {'command':<46} | {'wall s':>7} | {'MB/s':>6} | {'CPU s':>6} | {'x fastest peer':>14} |")
    print(f"|{'-' * 48}|{'-' * 8}:|{'-' * 7}:|{'-' * 7}:|{'-' * 15}:|")
    for label, _ in commands:
        wall, cpu = med[label]
        print(f"| {label:<46} | {wall:>7.3f} | {mb / wall:>6.0f} | {cpu:>6.3f} | {fastest_peer / wall:>13.1f}x |")
EOF
