// Matching with the index, against live servers: the computation alone
// (locate the instance, walk the destination) and match-below end to end
// (stop, compute, CHANGE MASTER, start, post-check), with the indexes built
// beforehand as a running Tidewatch has them. The instance is moved back and
// forth between its master and the destination.
//
//   TIDEWATCH_BENCH_INSTANCE=127.0.0.1:P1 TIDEWATCH_BENCH_DEST=127.0.0.1:P2 build/bench/match_bench
//
// (user/password tidewatch/tidewatch unless TIDEWATCH_BENCH_USER/_PASSWORD).
#include <cstdlib>
#include <iostream>

#include <benchmark/benchmark.h>

#include "pgtid/executor.h"

namespace {

using namespace tidewatch;

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

struct Setup {
  std::unique_ptr<pgtid::PseudoGtidPattern> pattern;
  binlog::ReplicaStreamOptions stream;
  std::unique_ptr<pgtid::StreamingIndexSource> indexes;
  std::string instance, destination, master;
  pgtid::ExecutorOptions options;
};

Setup* g = nullptr;

void BM_IndexBuildOverStream(benchmark::State& state) {
  uint64_t events = 0;
  for (auto _ : state) {
    pgtid::StreamingIndexSource fresh(g->stream, g->pattern.get());
    std::string host;
    uint16_t port;
    pgtid::SplitHostPort(g->destination, &host, &port);
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
  std::unique_ptr<pgtid::SqlConnection> c;
  pgtid::SqlEndpoint ep{"", 0, g->options.user, g->options.password};
  pgtid::SplitHostPort(g->instance, &ep.host, &ep.port);
  auto s = pgtid::SqlConnection::Connect(ep, &c);
  if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  pgtid::Instance r;
  s = pgtid::ReadInstance(*c, &r);
  if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  std::string host;
  uint16_t port;
  pgtid::SplitHostPort(g->destination, &host, &port);
  const pgtid::ServerIndex* dest = nullptr;
  s = g->indexes->CaughtUp(host, port, &dest);
  if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  binlog::ReplicaStreamOptions so = g->stream;
  so.host = host;
  so.port = port;
  uint64_t k = 0;
  for (auto _ : state) {
    pgtid::InstancePoint point;
    s = pgtid::LocateInstance(r, *g->indexes, *g->pattern, &point);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    pgtid::DestinationPoint dp;
    s = pgtid::MatchOnDestination(so, *dest, point, &dp);
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
    pgtid::Move back;
    s = executor.MatchBelow(g->instance, g->master, &back);
    if (!s.ok() || !back.moved) {
      return state.SkipWithError(("moving back: " + (s.ok() ? back.refused : s.ToString())).c_str());
    }
    std::unique_ptr<pgtid::SqlConnection> c;
    pgtid::SqlEndpoint ep{"", 0, g->options.user, g->options.password};
    pgtid::SplitHostPort(g->instance, &ep.host, &ep.port);
    if (pgtid::SqlConnection::Connect(ep, &c).ok()) (void)c->Execute("STOP SLAVE");
    state.ResumeTiming();
  }
  state.SetLabel("stop, compute, change, start, post-check");
}

}  // namespace

BENCHMARK(BM_IndexBuildOverStream)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatchCompute)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatchBelowEndToEnd)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(20);

int main(int argc, char** argv) {
  Setup setup;
  setup.instance = Env("TIDEWATCH_BENCH_INSTANCE", "");
  setup.destination = Env("TIDEWATCH_BENCH_DEST", "");
  if (setup.instance.empty() || setup.destination.empty()) {
    std::cerr << "set TIDEWATCH_BENCH_INSTANCE and TIDEWATCH_BENCH_DEST to HOST:PORT\n";
    return 2;
  }
  auto s = pgtid::PseudoGtidPattern::Create({}, &setup.pattern);
  if (!s.ok()) return 2;
  setup.stream.user = Env("TIDEWATCH_BENCH_USER", "tidewatch");
  setup.stream.password = Env("TIDEWATCH_BENCH_PASSWORD", "tidewatch");
  setup.stream.server_id = 0x7d000001;
  setup.options.user = setup.stream.user;
  setup.options.password = setup.stream.password;
  setup.options.stream = setup.stream;
  setup.options.method = pgtid::MatchMethod::kPseudoGtid;
  setup.indexes = std::make_unique<pgtid::StreamingIndexSource>(setup.stream, setup.pattern.get());
  // The indexes a running Tidewatch holds: the instance's master and the destination.
  {
    std::unique_ptr<pgtid::SqlConnection> c;
    pgtid::SqlEndpoint ep{"", 0, setup.options.user, setup.options.password};
    pgtid::SplitHostPort(setup.instance, &ep.host, &ep.port);
    pgtid::Instance r;
    s = pgtid::SqlConnection::Connect(ep, &c);
    if (s.ok()) s = pgtid::ReadInstance(*c, &r);
    if (!s.ok() || !r.replica.configured) {
      std::cerr << "instance: " << (s.ok() ? "not a replica" : s.ToString()) << "\n";
      return 2;
    }
    setup.master = r.replica.Master();
    for (const auto& server : {setup.master, setup.destination}) {
      std::string host;
      uint16_t port;
      pgtid::SplitHostPort(server, &host, &port);
      const pgtid::ServerIndex* index = nullptr;
      s = setup.indexes->CaughtUp(host, port, &index);
      if (!s.ok()) {
        std::cerr << s.ToString() << "\n";
        return 2;
      }
    }
  }
  g = &setup;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
