// Match-below side by side on the same live servers: orchestrator's method
// (bench/orchestrator_baseline.h — SHOW BINLOG EVENTS scans of the instance's
// and the destination's binlogs, then a lockstep walk) against Tidewatch's
// index (pgtid::LocateInstance + pgtid::MatchOnDestination, the indexes built
// beforehand as a running Tidewatch has them). Both compute where the
// instance continues on the destination; every orchestrator run is checked
// against Tidewatch's answer and a difference is an error (exit status 1).
//
//   TIDEWATCH_BENCH_INSTANCE=127.0.0.1:P2 TIDEWATCH_BENCH_DEST=127.0.0.1:P1 build/bench/match_vs_orchestrator_bench
//
// The instance's replication must be stopped (as match-below stops it) and
// the destination ahead of it. bench/match-vs-orchestrator.sh sets servers up
// and runs this. Optional environment:
//   TIDEWATCH_BENCH_HISTORY=FILE, TIDEWATCH_BENCH_FAILED_AT=EPOCH
//       orchestrator's coordinates history: lines "EPOCH HOST:PORT BINLOG POS
//       RELAYLOG POS"; the search hints are each server's last line at least
//       2 minutes (PseudoGTIDCoordinatesHistoryHeuristicMinutes) before EPOCH
//   TIDEWATCH_BENCH_SKIP_CONTAINING='a|b'   SkipBinlogEventsContaining
//   TIDEWATCH_BENCH_WINDOW_EVENTS=N         Tidewatch's index window (IndexOptions)
//   TIDEWATCH_BENCH_ORCH_ITERATIONS (3), TIDEWATCH_BENCH_TW_ITERATIONS (20),
//   TIDEWATCH_BENCH_E2E_ITERATIONS (10), TIDEWATCH_BENCH_OFFSET_SCAN_MB (100, 0: none)
//   TIDEWATCH_BENCH_USER / _PASSWORD (tidewatch/tidewatch), TIDEWATCH_BENCH_LABEL
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

#include <benchmark/benchmark.h>

#include "bench/env.h"
#include "bench/match_setup.h"
#include "bench/orchestrator_baseline.h"

namespace {

using namespace tidewatch;
using Clock = std::chrono::steady_clock;
using bench::Env;
using bench::EnvU64;

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct CorrelationFigures {
  std::vector<double> total, instance, destination, walk;
  orchestrator::Correlation last;
  uint64_t rows = 0, statements = 0;
};

struct Setup : bench::MatchSetup {
  std::string label;
  orchestrator::BaselineConfig baseline;
  orchestrator::RecordedCoordinates instance_history, destination_history;
  bool has_history = false;
  std::string history_note;
  uint64_t offset_scan_mb = 100;

  // Tidewatch's answer, computed first; every orchestrator run must agree.
  pgtid::BinlogCoordinates answer;
  uint64_t k = 0;
  std::string entry;
  bool disagreed = false, failed = false;
  std::string failure;  // the first error of a run

  CorrelationFigures exhaustive, hinted;
  std::vector<double> compute, e2e, gtid_pos;
  double from_pos_rate = 0, from_pos_mb = 0, from_pos_s = 0;
  double offset_s = 0, offset_mb = 0, offset_rows = 0;
  std::string first_move;  // coordinates of the first end-to-end move
};

Setup* g = nullptr;

void Fail(benchmark::State& state, const std::string& why) {
  g->failed = true;
  if (g->failure.empty()) g->failure = why;
  state.SkipWithError(why.c_str());
}

void Correlate(benchmark::State& state, bool with_history, CorrelationFigures* f) {
  orchestrator::Baseline b(g->baseline, g->pattern.get());
  const orchestrator::RecordedCoordinates none;
  for (auto _ : state) {
    // A recovery searches an entry for the first time: nothing cached.
    b.ForgetCache();
    orchestrator::Correlation c;
    const auto t0 = Clock::now();
    Status s = b.Correlate(g->instance, g->destination, with_history ? g->instance_history : none,
                           with_history ? g->destination_history : none, &c);
    const double secs = Seconds(t0);
    if (!s.ok()) return Fail(state, "orchestrator baseline: " + s.ToString());
    if (c.next != g->answer) {
      g->disagreed = true;
      return Fail(state, "the methods disagree: orchestrator " + c.next.ToString() + ", Tidewatch " +
                             g->answer.ToString());
    }
    f->total.push_back(secs);
    f->instance.push_back(c.find_instance.seconds);
    f->destination.push_back(c.find_destination.seconds);
    f->walk.push_back(c.walk.seconds);
    f->rows = c.find_instance.scan.rows + c.find_destination.scan.rows + c.walk.scan.rows;
    f->statements = c.find_instance.scan.statements + c.find_destination.scan.statements + c.walk.scan.statements;
    f->last = c;
  }
  state.counters["find_instance_s"] = Median(f->instance);
  state.counters["find_dest_s"] = Median(f->destination);
  state.counters["walk_s"] = Median(f->walk);
  state.counters["events_read"] = static_cast<double>(f->rows);
  state.counters["statements"] = static_cast<double>(f->statements);
  state.counters["walked"] = static_cast<double>(f->last.matched);
  state.SetLabel(f->last.route + " " + f->last.instance_entry.ToString() + " -> " +
                 f->last.destination_entry.ToString());
}

void BM_OrchestratorCorrelate(benchmark::State& state) { Correlate(state, false, &g->exhaustive); }
void BM_OrchestratorCorrelateWithHistory(benchmark::State& state) { Correlate(state, true, &g->hinted); }

// getLastPseudoGTIDEntryInBinlog over the instance's largest binlog, from its
// start: the FROM pos chunk scan's rate.
void BM_OrchestratorScanFromPos(benchmark::State& state) {
  std::unique_ptr<pgtid::SqlConnection> c;
  Status s = bench::Connect(*g, g->instance, &c);
  pgtid::SqlResult logs;
  if (s.ok()) s = c->Query("SHOW BINARY LOGS", &logs);
  if (!s.ok()) return Fail(state, s.ToString());
  std::string file;
  uint64_t size = 0;
  for (size_t i = 0; i < logs.rows.size(); ++i) {
    const uint64_t n = std::strtoull(logs.GetOr(i, "File_size", "0").c_str(), nullptr, 10);
    if (n >= size) {
      size = n;
      file = logs.GetOr(i, "Log_name");
    }
  }
  orchestrator::Baseline b(g->baseline, g->pattern.get());
  uint64_t rows = 0;
  std::vector<double> times;
  for (auto _ : state) {
    orchestrator::ScanCounters counters;
    bool found = false;
    pgtid::BinlogCoordinates at;
    std::string info;
    const auto t0 = Clock::now();
    s = b.LastEntryInFile(*c, orchestrator::LogType::kBinary, file, std::nullopt, std::nullopt, &found, &at, &info,
                          &counters);
    times.push_back(Seconds(t0));
    if (!s.ok()) return Fail(state, s.ToString());
    rows = counters.rows;
  }
  g->from_pos_s = Median(times);
  g->from_pos_rate = static_cast<double>(rows) / g->from_pos_s;
  g->from_pos_mb = static_cast<double>(size) / 1e6;
  state.SetBytesProcessed(static_cast<int64_t>(size * state.iterations()));
  state.counters["events"] = static_cast<double>(rows);
  state.counters["events/s"] = g->from_pos_rate;
  state.SetLabel(file);
}

// The relay-log page scan (getLastPseudoGTIDEntryInRelayLogs' statements):
// SHOW RELAYLOG EVENTS IN f FROM 0 LIMIT offset, n over the first MB of the
// instance's relay log.
void BM_OrchestratorScanLimitOffset(benchmark::State& state) {
  std::unique_ptr<pgtid::SqlConnection> c;
  pgtid::Instance r;
  Status s = bench::Connect(*g, g->instance, &c);
  if (s.ok()) s = pgtid::ReadInstance(*c, &r);
  if (!s.ok()) return Fail(state, s.ToString());
  const std::string file = r.replica.relay_log_file;
  const uint64_t limit_bytes = g->offset_scan_mb * 1000 * 1000;
  uint64_t rows = 0, reached = 0;
  std::vector<double> times;
  for (auto _ : state) {
    orchestrator::ScanCounters counters;
    std::vector<orchestrator::BinlogEventRow> chunk;
    const auto t0 = Clock::now();
    reached = 0;
    for (uint64_t step = 0;; ++step) {
      s = orchestrator::ShowEvents(*c, orchestrator::LogType::kRelay, file, 0,
                                   static_cast<int64_t>(step * g->baseline.chunk_size), g->baseline.chunk_size,
                                   &chunk, &counters);
      if (!s.ok()) return Fail(state, s.ToString());
      if (chunk.empty()) break;
      reached = chunk.back().at.pos;
      if (reached >= limit_bytes) break;
    }
    times.push_back(Seconds(t0));
    rows = counters.rows;
  }
  g->offset_s = Median(times);
  g->offset_mb = static_cast<double>(reached) / 1e6;
  g->offset_rows = static_cast<double>(rows);
  state.SetBytesProcessed(static_cast<int64_t>(reached * state.iterations()));
  state.counters["events"] = static_cast<double>(rows);
  state.counters["MB"] = g->offset_mb;
  state.SetLabel(file);
}

// What the instance's IO thread asks the destination when it connects with a
// file and position (MariaDB, slave.cc): SELECT BINLOG_GTID_POS(file, pos),
// which the server answers by reading that binlog file from its start to
// pos. START SLAVE in every match-below pays it, whatever computed the
// coordinates.
void BM_DestinationBinlogGtidPos(benchmark::State& state) {
  std::unique_ptr<pgtid::SqlConnection> c;
  Status s = bench::Connect(*g, g->destination, &c);
  if (!s.ok()) return Fail(state, s.ToString());
  const std::string sql = "SELECT BINLOG_GTID_POS(" + c->Literal(g->answer.file) + ", " +
                          std::to_string(g->answer.pos) + ")";
  for (auto _ : state) {
    const auto t0 = Clock::now();
    pgtid::SqlResult r;
    s = c->Query(sql, &r);
    g->gtid_pos.push_back(Seconds(t0));
    if (!s.ok()) return Fail(state, s.ToString());
  }
  state.SetLabel(g->answer.ToString());
}

void BM_TidewatchCompute(benchmark::State& state) {
  bench::MatchInputs in;
  Status s = bench::ReadMatchInputs(*g, &in);
  if (!s.ok()) return Fail(state, s.ToString());
  for (auto _ : state) {
    const auto t0 = Clock::now();
    pgtid::InstancePoint point;
    pgtid::DestinationPoint dp;
    s = bench::ComputeMatch(*g, in, &point, &dp);
    g->compute.push_back(Seconds(t0));
    if (!s.ok()) return Fail(state, s.ToString());
    if (dp.coordinates != g->answer) return Fail(state, "Tidewatch's answer changed between runs");
  }
  state.counters["events_walked"] = static_cast<double>(g->k);
}

// As bench/match_bench.cc: each iteration moves the instance below the
// destination (timed), then back below its master, stopped (not timed).
void BM_TidewatchMatchBelowEndToEnd(benchmark::State& state) {
  pgtid::Executor executor(g->options, g->pattern.get(), g->indexes.get());
  for (auto _ : state) {
    const auto t0 = Clock::now();
    pgtid::Move m;
    Status s = executor.MatchBelow(g->instance, g->destination, &m);
    const double secs = Seconds(t0);
    if (!s.ok()) return Fail(state, s.ToString());
    if (!m.moved) return Fail(state, "not moved: " + m.refused);
    g->e2e.push_back(secs);
    if (g->first_move.empty()) {
      g->first_move = m.coordinates.ToString() + " (k = " + std::to_string(m.k) + ")";
      if (m.coordinates != g->answer) {
        g->disagreed = true;
        return Fail(state, "match-below moved to " + m.coordinates.ToString() + ", computed " +
                               g->answer.ToString());
      }
    }
    state.counters["events_walked"] = static_cast<double>(m.k);
    state.PauseTiming();
    std::string why;
    if (!bench::MoveBack(executor, *g, &why)) return Fail(state, "moving back: " + why);
    state.ResumeTiming();
  }
  state.SetLabel("stop, compute, change, start, post-check");
}

// orchestrator's coordinates history: per server the last record at least
// two minutes older than the failure.
void ReadHistory(const std::string& path, double failed_at) {
  std::ifstream in(path);
  if (!in) {
    g->history_note = "no history file " + path;
    return;
  }
  const double before = failed_at - 120;
  double best_i = -1, best_d = -1;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    double t = 0;
    std::string server, bf, rf;
    uint64_t bp = 0, rp = 0;
    if (!(ls >> t >> server >> bf >> bp >> rf >> rp) || t > before) continue;
    if (server == g->instance && t >= best_i) {
      best_i = t;
      g->instance_history = {pgtid::BinlogCoordinates{bf, bp}, pgtid::BinlogCoordinates{rf, rp}};
    }
    if (server == g->destination && t >= best_d) {
      best_d = t;
      g->destination_history = {pgtid::BinlogCoordinates{bf, bp}, pgtid::BinlogCoordinates{rf, rp}};
    }
  }
  g->has_history = best_i >= 0 || best_d >= 0;
  char buf[160];
  std::snprintf(buf, sizeof buf, "records %.0f s (instance) and %.0f s (destination) before the failure",
                best_i >= 0 ? failed_at - best_i : -1.0, best_d >= 0 ? failed_at - best_d : -1.0);
  g->history_note = g->has_history ? buf : "nothing recorded 2 minutes before the failure";
}

void PrintSummary() {
  const Setup& s = *g;
  std::printf("\n== %s\n", s.label.c_str());
  std::printf("instance %s, destination %s, master %s\n", s.instance.c_str(), s.destination.c_str(),
              s.master.c_str());
  std::printf("Tidewatch's answer: %s (entry \"%s\", k = %llu)\n", s.answer.ToString().c_str(), s.entry.c_str(),
              static_cast<unsigned long long>(s.k));
  auto correlation = [&](const char* name, const CorrelationFigures& f) {
    if (f.total.empty()) return;
    std::printf("(a) %-40s %9.3f s  (instance %.3f s, destination %.3f s, walk %.3f s; %llu events read, "
                "%llu statements, %llu walked; %s entry %s, destination entry %s)\n",
                name, Median(f.total), Median(f.instance), Median(f.destination), Median(f.walk),
                static_cast<unsigned long long>(f.rows), static_cast<unsigned long long>(f.statements),
                static_cast<unsigned long long>(f.last.matched), f.last.route.c_str(),
                f.last.instance_entry.ToString().c_str(), f.last.destination_entry.ToString().c_str());
  };
  correlation("orchestrator correlation, no history", s.exhaustive);
  correlation("orchestrator correlation, 2-min history", s.hinted);
  if (!s.hinted.total.empty() || s.has_history) std::printf("    history: %s\n", s.history_note.c_str());
  if (s.from_pos_s > 0) {
    std::printf("(a) FROM pos scan of %.1f MB: %.3f s, %.0f events/s, %.1f MB/s\n", s.from_pos_mb, s.from_pos_s,
                s.from_pos_rate, s.from_pos_mb / s.from_pos_s);
  }
  if (s.offset_s > 0) {
    std::printf("(a) LIMIT offset, n relay-log scan of %.1f MB: %.3f s (%.0f events)\n", s.offset_mb, s.offset_s,
                s.offset_rows);
  }
  const double b = Median(s.compute);
  if (!s.compute.empty()) std::printf("(b) Tidewatch computation                   %9.3f ms\n", b * 1e3);
  if (!s.e2e.empty()) {
    std::printf("(b) Tidewatch match-below end to end        %9.3f ms (first move to %s)\n", Median(s.e2e) * 1e3,
                s.first_move.c_str());
  }
  if (!s.gtid_pos.empty()) {
    std::printf("    server side, measured apart: the destination answers the instance's IO thread's "
                "BINLOG_GTID_POS at %s in %.3f ms\n",
                s.answer.ToString().c_str(), Median(s.gtid_pos) * 1e3);
  }
  if (b > 0) {
    if (!s.exhaustive.total.empty()) std::printf("ratio (a) no history / (b): %.0fx\n", Median(s.exhaustive.total) / b);
    if (!s.hinted.total.empty()) std::printf("ratio (a) 2-min history / (b): %.0fx\n", Median(s.hinted.total) / b);
  }
  if (s.disagreed) {
    std::printf("coordinates: THE METHODS DISAGREE: %s\n", s.failure.c_str());
  } else if (s.failed) {
    std::printf("FAILED: %s\n", s.failure.c_str());
  } else {
    std::printf("coordinates: both methods agree on every run\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  Setup setup;
  g = &setup;
  setup.label = Env("TIDEWATCH_BENCH_LABEL", "match-below: orchestrator's method vs Tidewatch's index");
  if (!bench::ReadMatchEnvironment(0x7d000002, &setup)) return 2;
  // A LIMIT offset, n page deep in a large relay log takes the server long.
  setup.read_timeout = std::chrono::minutes(10);
  setup.baseline.user = setup.stream.user;
  setup.baseline.password = setup.stream.password;
  {
    std::stringstream skip(Env("TIDEWATCH_BENCH_SKIP_CONTAINING", ""));
    for (std::string item; std::getline(skip, item, '|');) {
      if (!item.empty()) setup.baseline.skip_containing.push_back(item);
    }
  }
  setup.offset_scan_mb = EnvU64("TIDEWATCH_BENCH_OFFSET_SCAN_MB", 100);
  pgtid::IndexOptions index_options;
  if (uint64_t w = EnvU64("TIDEWATCH_BENCH_WINDOW_EVENTS", 0); w > 0) index_options.window_events = w;
  setup.indexes = std::make_unique<pgtid::StreamingIndexSource>(setup.stream, setup.pattern.get(), index_options);

  // The indexes a running Tidewatch holds (the instance's master and the
  // destination), then Tidewatch's answer: the reference for every run.
  pgtid::Instance r;
  if (!bench::ReadReplicatingInstance(&setup, &r)) return 2;
  if (r.replica.io_running == "Yes" || r.replica.sql_running) {
    std::cerr << "instance: its replication must be stopped (match-below stops it first)\n";
    return 2;
  }
  const auto t0 = Clock::now();
  const pgtid::ServerIndex *master = nullptr, *dest = nullptr;
  Status s = bench::CatchUpIndexes(setup, &master, &dest);
  if (!s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 2;
  }
  for (const auto& [server, index] : {std::pair{&setup.master, master}, std::pair{&setup.destination, dest}}) {
    std::fprintf(stderr, "index of %s: %zu Pseudo-GTID entries, %llu events\n", server->c_str(),
                 index->entry_count(), static_cast<unsigned long long>(index->events_indexed()));
  }
  std::fprintf(stderr, "indexes of %s and %s built in %.1f s\n", setup.master.c_str(), setup.destination.c_str(),
               Seconds(t0));
  {
    bench::MatchInputs in;
    in.instance = r;
    in.destination = dest;
    in.destination_stream = bench::DestinationStream(setup);
    pgtid::InstancePoint point;
    pgtid::DestinationPoint dp;
    s = bench::ComputeMatch(setup, in, &point, &dp);
    if (!s.ok()) {
      std::cerr << "Tidewatch cannot place the instance: " << s.ToString() << "\n";
      return 1;
    }
    setup.answer = dp.coordinates;
    setup.k = point.k;
    setup.entry = point.entry_text;
  }
  if (const char* h = std::getenv("TIDEWATCH_BENCH_HISTORY"); h != nullptr && *h != '\0') {
    ReadHistory(h, std::strtod(Env("TIDEWATCH_BENCH_FAILED_AT", "0").c_str(), nullptr));
  }

  const auto orch = static_cast<benchmark::IterationCount>(EnvU64("TIDEWATCH_BENCH_ORCH_ITERATIONS", 3));
  benchmark::RegisterBenchmark("BM_OrchestratorCorrelate/no_history", BM_OrchestratorCorrelate)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(orch);
  if (setup.has_history) {
    benchmark::RegisterBenchmark("BM_OrchestratorCorrelate/history_2min", BM_OrchestratorCorrelateWithHistory)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(orch);
  }
  benchmark::RegisterBenchmark("BM_OrchestratorScanFromPos", BM_OrchestratorScanFromPos)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
  if (setup.offset_scan_mb > 0) {
    benchmark::RegisterBenchmark("BM_OrchestratorScanLimitOffset", BM_OrchestratorScanLimitOffset)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
  }
  benchmark::RegisterBenchmark("BM_TidewatchCompute", BM_TidewatchCompute)
      ->Unit(benchmark::kMillisecond)->UseRealTime()
      ->Iterations(static_cast<benchmark::IterationCount>(EnvU64("TIDEWATCH_BENCH_TW_ITERATIONS", 20)));
  {
    std::unique_ptr<pgtid::SqlConnection> c;
    if (bench::Connect(setup, setup.destination, &c).ok() && c->is_mariadb()) {
      benchmark::RegisterBenchmark("BM_DestinationBinlogGtidPos", BM_DestinationBinlogGtidPos)
          ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);
    }
  }
  // Last: it moves the instance.
  benchmark::RegisterBenchmark("BM_TidewatchMatchBelowEndToEnd", BM_TidewatchMatchBelowEndToEnd)
      ->Unit(benchmark::kMillisecond)->UseRealTime()
      ->Iterations(static_cast<benchmark::IterationCount>(EnvU64("TIDEWATCH_BENCH_E2E_ITERATIONS", 10)));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  PrintSummary();
  return setup.failed ? 1 : 0;
}
