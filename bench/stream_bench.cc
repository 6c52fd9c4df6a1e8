// Aggregate ingest of many replica streams on one io_context (one thread):
// fake servers on loopback replay a real binlog over the replication
// protocol, so the server side is never the bottleneck; every event is
// located, checksum-verified and decoded.
//
//   TIDEWATCH_BENCH_BINLOG=/path/to/binlog build/bench/stream_bench
//
// Reports MB/s decoded per second of wall time and per second of the
// stream thread's own CPU time (the figure per core).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>

#include "binlog/event_decoder.h"
#include "binlog/replica_stream.h"
#include "simulator/fake_binlog_server.h"

namespace {

using namespace tidewatch;

std::vector<uint8_t> g_binlog;

double ThreadCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void BM_StreamIngest(benchmark::State& state) {
  const int streams = static_cast<int>(state.range(0));
  std::vector<std::unique_ptr<simulator::FakeBinlogServer>> servers;
  for (int i = 0; i < streams; ++i) {
    servers.push_back(std::make_unique<simulator::FakeBinlogServer>(simulator::FakeBinlogServer::Behavior::kReplay,
                                                                g_binlog, "bench-bin.000001"));
  }
  uint64_t bytes = 0, events = 0;
  double cpu = 0;
  for (auto _ : state) {
    boost::asio::io_context io;
    std::vector<std::unique_ptr<binlog::ReplicaStream>> s;
    std::vector<std::unique_ptr<binlog::EventDecoder>> decoders;
    binlog::Event event;
    int ended = 0;
    bool failed = false;
    for (int i = 0; i < streams; ++i) {
      binlog::ReplicaStreamOptions o;
      o.port = servers[i]->port();
      o.user = "bench";
      o.server_id = 5000 + i;
      o.non_blocking = true;
      o.max_reconnects = 0;
      decoders.push_back(std::make_unique<binlog::EventDecoder>());
      auto* d = decoders.back().get();
      s.push_back(std::make_unique<binlog::ReplicaStream>(
          io, o,
          [&, d](const binlog::StreamEvent& e) {
            if (!d->Decode(e.raw, e.format, &event).ok()) failed = true;
            bytes += e.raw.header.event_size;
            ++events;
          },
          [&](const binlog::StreamStatus& st) {
            if (st.state == binlog::StreamState::kEnded) ++ended;
            if (st.state == binlog::StreamState::kFailed) failed = true;
          }));
      s.back()->Start();
    }
    const double c0 = ThreadCpuSeconds();
    io.run();
    cpu += ThreadCpuSeconds() - c0;
    if (failed || ended != streams) {
      state.SkipWithError("a stream failed");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["MB_per_cpu_s"] = bytes / 1e6 / cpu;
  state.counters["streams"] = streams;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const char* f = std::getenv("TIDEWATCH_BENCH_BINLOG");
  if (f == nullptr || *f == '\0') {
    std::printf("TIDEWATCH_BENCH_BINLOG not set (see bench/README.md)\n");
    return 0;
  }
  std::ifstream in(f, std::ios::binary);
  g_binlog.assign(std::istreambuf_iterator<char>(in), {});
  std::printf("input: %s, %.1f MB, replayed to every stream\n", f, g_binlog.size() / 1e6);
  benchmark::RegisterBenchmark("BM_StreamIngest", BM_StreamIngest)
      ->Arg(1)->Arg(4)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
