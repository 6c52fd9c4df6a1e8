// Matching with the index, against live servers: the computation alone
// (locate the instance, walk the destination) and match-below end to end
// (stop, compute, CHANGE MASTER, start, post-check), with the indexes built
// beforehand as a running Tidewatch has them. The instance is moved back and
// forth between its master and the destination.
//
//   TIDEWATCH_BENCH_INSTANCE=127.0.0.1:P1 TIDEWATCH_BENCH_DEST=127.0.0.1:P2 build/bench/match_bench
//
// (user/password tidewatch/tidewatch unless TIDEWATCH_BENCH_USER/_PASSWORD).
#include <iostream>

#include <benchmark/benchmark.h>

#include "base/host_port.h"
#include "bench/match_setup.h"

namespace {

using namespace tidewatch;

bench::MatchSetup* g = nullptr;

void BM_IndexBuildOverStream(benchmark::State& state) {
  uint64_t events = 0;
  for (auto _ : state) {
    pgtid::StreamingIndexSource fresh(g->stream, g->pattern.get());
    std::string host;
    uint16_t port;
    SplitHostPort(g->destination, &host, &port);
    const pgtid::ServerIndex* index = nullptr;
    auto s = fresh.CaughtUp(host, port, &index);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    events += index->events_indexed();
    state.counters["entries"] = static_cast<double>(index->entry_count());
    state.counters["index_MiB"] = static_cast<double>(index->MemoryBytes()) / (1 << 20);
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void BM_MatchCompute(benchmark::State& state) {
  bench::MatchInputs in;
  auto s = bench::ReadMatchInputs(*g, &in);
  if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  uint64_t k = 0;
  for (auto _ : state) {
    pgtid::InstancePoint point;
    pgtid::DestinationPoint dp;
    s = bench::ComputeMatch(*g, in, &point, &dp);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    k = point.k;
  }
  state.counters["events_walked"] = static_cast<double>(k);
}

// Each iteration moves the instance below the destination (timed), then back
// below its master and stops its replication there (not timed), so that it
// stays behind the destination.
void BM_MatchBelowEndToEnd(benchmark::State& state) {
  pgtid::Executor executor(g->options, g->pattern.get(), g->indexes.get());
  for (auto _ : state) {
    pgtid::Move m;
    auto s = executor.MatchBelow(g->instance, g->destination, &m);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    if (!m.moved) return state.SkipWithError(("not moved: " + m.refused).c_str());
    state.counters["events_walked"] = static_cast<double>(m.k);
    state.PauseTiming();
    std::string why;
    if (!bench::MoveBack(executor, *g, &why)) return state.SkipWithError(("moving back: " + why).c_str());
    state.ResumeTiming();
  }
  state.SetLabel("stop, compute, change, start, post-check");
}

}  // namespace

BENCHMARK(BM_IndexBuildOverStream)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatchCompute)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatchBelowEndToEnd)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(20);

int main(int argc, char** argv) {
  bench::MatchSetup setup;
  if (!bench::ReadMatchEnvironment(0x7d000001, &setup)) return 2;
  setup.indexes = std::make_unique<pgtid::StreamingIndexSource>(setup.stream, setup.pattern.get());
  pgtid::Instance r;
  if (!bench::ReadReplicatingInstance(&setup, &r)) return 2;
  // The indexes a running Tidewatch holds: the instance's master and the destination.
  const pgtid::ServerIndex *master = nullptr, *dest = nullptr;
  if (auto s = bench::CatchUpIndexes(setup, &master, &dest); !s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 2;
  }
  g = &setup;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
