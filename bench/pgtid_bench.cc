// The Pseudo-GTID index: build rate from a binlog file, memory per entry and
// per server, and the cost of the lookups matching does.
//
//   TIDEWATCH_BENCH_BINLOG=/path/to/binlog build/bench/pgtid_bench
//
// The file should hold Pseudo-GTID entries (bench/make-row-binlog.sh writes
// them with the sandbox's default injection).
#include <cstdlib>
#include <iostream>
#include <random>

#include <benchmark/benchmark.h>

#include "binlog/file_reader.h"
#include "pgtid/indexer.h"

namespace {

using namespace tidewatch;

std::string g_file;

Status BuildIndex(pgtid::ServerIndex* index, uint64_t* bytes) {
  std::unique_ptr<pgtid::PseudoGtidPattern> pattern;
  auto s = pgtid::PseudoGtidPattern::Create({}, &pattern);
  if (!s.ok()) return s;
  pgtid::Indexer indexer(index, pattern.get());
  binlog::BinlogFileReader reader;
  s = reader.Open(g_file);
  if (!s.ok()) return s;
  std::string name = g_file.substr(g_file.rfind('/') + 1);
  binlog::RawEvent raw;
  while ((s = reader.Next(&raw)).ok()) {
    s = indexer.Add(name, raw, reader.format());
    if (!s.ok()) return s;
  }
  *bytes = reader.size();
  return s.IsEndOfFile() ? Status::OK() : s;
}

void BM_IndexBuildFromFile(benchmark::State& state) {
  uint64_t bytes = 0, events = 0, entries = 0;
  size_t memory = 0, window = 0;
  for (auto _ : state) {
    pgtid::ServerIndex index("bench");
    uint64_t b = 0;
    auto s = BuildIndex(&index, &b);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    bytes += b;
    events += index.events_indexed();
    entries = index.entry_count();
    memory = index.MemoryBytes();
    window = 0;
    for (const auto& seg : index.window()) window += seg.events.capacity() * sizeof(uint64_t);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["index_bytes"] = static_cast<double>(memory);
  state.counters["window_bytes"] = static_cast<double>(window);
  state.counters["bytes_per_entry"] = entries ? static_cast<double>(memory - window) / static_cast<double>(entries) : 0;
}

void BM_Lookups(benchmark::State& state) {
  pgtid::ServerIndex index("bench");
  uint64_t b = 0;
  auto s = BuildIndex(&index, &b);
  if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  if (index.entry_count() == 0) return state.SkipWithError("no Pseudo-GTID entry in the file");
  std::mt19937_64 rng(42);
  const auto end = index.position();
  const bool translate = state.range(0) == 1;
  for (auto _ : state) {
    if (translate) {
      pgtid::EntryOffset off;
      pgtid::BinlogCoordinates at{end.file, end.pos};
      benchmark::DoNotOptimize(index.Translate(at, &off).ok());
    } else {
      const auto& e = index.entry(rng() % index.entry_count());
      benchmark::DoNotOptimize(index.FindEntry(e.text));
    }
  }
  state.SetLabel(translate ? "Translate(end of log)" : "FindEntry(random entry)");
}

}  // namespace

BENCHMARK(BM_IndexBuildFromFile)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_Lookups)->Arg(0)->Arg(1);

int main(int argc, char** argv) {
  const char* f = std::getenv("TIDEWATCH_BENCH_BINLOG");
  if (f == nullptr) {
    std::cerr << "set TIDEWATCH_BENCH_BINLOG to a binlog file\n";
    return 2;
  }
  g_file = f;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
