// Recovery latency, end to end: a sandbox master under a write load is killed
// with SIGKILL and the clock runs until the topology is healed as a user sees
// it in MariaDB itself — one former replica writable with its replication
// reset, and every other replica replicating from it (both threads running).
// The servers are polled over persistent connections every 2 ms; nothing
// Tidewatch publishes is used for the figure.
//
// Each iteration is one trial on a fresh sandbox ('m>r1,r2,r3', file and
// position replication, Pseudo-GTID every second) with a fresh
// `tidewatch run --recover`; setting them up is untimed. With
// TIDEWATCH_BENCH_FILL_MB, the master's binlog (and through replication each
// replica's) is first filled with that many megabytes of ROW events
// (bench/fill-row-binlog.sh; TIDEWATCH_BENCH_FILL_ROWS rows per statement),
// once: the filled, caught-up sandbox is copied and every trial starts from
// a copy, and its fresh daemon indexes the whole binlog before the kill.
//
//   bench/recovery-latency.sh [--trials 20] [--fill-mb 0] [--fill-rows 1]
//
// Environment: TIDEWATCH_BENCH_TRIALS (default 20), TIDEWATCH_BENCH_FILL_MB
// (default 0), TIDEWATCH_BENCH_FILL_ROWS (default 1), TIDEWATCH_BENCH_WORK (a
// scratch directory), TIDEWATCH_BINARY (the tidewatch command).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <benchmark/benchmark.h>

#include "bench/env.h"
#include "bench/trials.h"
#include "pgtid/sql_connection.h"
#include "server/api_client.h"

namespace {

using tidewatch::bench::Percentile;
using tidewatch::bench::RunCommand;

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using tidewatch::pgtid::SqlConnection;
using tidewatch::pgtid::SqlEndpoint;
using tidewatch::pgtid::SqlResult;

constexpr int kBasePort = 26600;
constexpr uint16_t kApiPort = 26699;
const char* const kNames[] = {"m", "r1", "r2", "r3"};

std::string g_work, g_binary;
int g_fill_mb = 0;
int g_fill_rows = 1;
std::vector<double> g_ms;


std::string Sandbox(const std::string& args) {
  return RunCommand("python3 tools/sandbox/tidewatch-sandbox --dir " + g_work + "/sandbox " + args + " 2>&1");
}

std::unique_ptr<SqlConnection> Connect(int port) {
  SqlEndpoint ep{"127.0.0.1", static_cast<uint16_t>(port), "tidewatch", "tidewatch"};
  std::unique_ptr<SqlConnection> c;
  if (!SqlConnection::Connect(ep, &c).ok()) return nullptr;
  return c;
}

// The port of the healed topology's master, or 0 while it is not healed.
int Healed(std::vector<std::unique_ptr<SqlConnection>>& replicas) {
  int master = 0;
  std::vector<int> masters_of(replicas.size(), -1);
  for (size_t i = 0; i < replicas.size(); ++i) {
    SqlResult ro, st;
    if (!replicas[i]->Query("SELECT @@read_only", &ro).ok() || !replicas[i]->Query("SHOW SLAVE STATUS", &st).ok()) {
      return 0;
    }
    if (st.rows.empty()) {
      if (ro.GetOr(0, "@@read_only") != "0" || master != 0) return 0;
      master = kBasePort + 1 + static_cast<int>(i);
      continue;
    }
    if (st.GetOr(0, "Slave_IO_Running") != "Yes" || st.GetOr(0, "Slave_SQL_Running") != "Yes") return 0;
    masters_of[i] = std::atoi(st.GetOr(0, "Master_Port").c_str());
  }
  if (master == 0) return 0;
  for (size_t i = 0; i < replicas.size(); ++i) {
    if (kBasePort + 1 + static_cast<int>(i) != master && masters_of[i] != master) return 0;
  }
  return master;
}


// Whether every replica has executed everything the master logged.
bool CaughtUp() {
  auto master = Connect(kBasePort);
  SqlResult ms;
  if (master == nullptr || !master->Query("SHOW MASTER STATUS", &ms).ok() || ms.rows.empty()) return false;
  for (int i = 1; i <= 3; ++i) {
    auto r = Connect(kBasePort + i);
    SqlResult st;
    if (r == nullptr || !r->Query("SHOW SLAVE STATUS", &st).ok() || st.rows.empty()) return false;
    if (st.GetOr(0, "Relay_Master_Log_File") != ms.GetOr(0, "File") ||
        st.GetOr(0, "Exec_Master_Log_Pos") != ms.GetOr(0, "Position")) {
      return false;
    }
  }
  return true;
}

// The filled topology, made once for every trial: a fresh sandbox whose
// master's binlog is filled with g_fill_mb megabytes of ROW events, every
// replica caught up (a replica still applying a backlog would make a trial
// measure the backlog), every server stopped cleanly, the directory kept in
// <work>/filled.
std::string PrepareFilled() {
  Sandbox("down");
  const std::string up = Sandbox("up --base-port " + std::to_string(kBasePort) + " --no-gtid 'm>r1,r2,r3'");
  if (Connect(kBasePort) == nullptr) return "sandbox up failed: " + up;
  // Filling is setup: no server waits for its disk on every commit, nor a
  // replica on every event group (settings that the restart of every trial
  // puts back).
  for (const char* n : kNames) {
    Sandbox(std::string("sql ") + n + " 'SET GLOBAL sync_binlog = 0, GLOBAL innodb_flush_log_at_trx_commit = 0'");
    if (std::string(n) != "m") {
      Sandbox(std::string("sql ") + n + " 'SET GLOBAL sync_master_info = 0, GLOBAL sync_relay_log_info = 0'");
    }
  }
  const auto began = Steady::now();
  RunCommand("TIDEWATCH_SANDBOX_DIR=" + g_work + "/sandbox bench/fill-row-binlog.sh m " + std::to_string(g_fill_mb) +
             " " + std::to_string(g_fill_rows) + " >/dev/null 2>&1");
  while (!CaughtUp()) {
    if (Steady::now() - began > 3h) return "the replicas did not catch up with the fill";
    std::this_thread::sleep_for(1s);
  }
  std::cerr << "filled " << g_fill_mb << " MB (" << g_fill_rows << " row(s) per statement) and caught up in "
            << std::chrono::duration<double>(Steady::now() - began).count() << " s\n";
  for (const char* n : {"r1", "r2", "r3", "m"}) Sandbox(std::string("stop ") + n);
  std::filesystem::remove_all(g_work + "/filled");
  RunCommand("cp -a " + g_work + "/sandbox " + g_work + "/filled");
  return "";
}

// A trial's topology: a fresh sandbox, or a copy of the filled one started
// again (replication resumes where it stopped: nothing to catch up).
std::string FreshSandbox() {
  Sandbox("down");
  if (g_fill_mb <= 0) {
    const std::string up = Sandbox("up --base-port " + std::to_string(kBasePort) + " --no-gtid 'm>r1,r2,r3'");
    if (up.find("error") != std::string::npos && Connect(kBasePort) == nullptr) return "sandbox up failed: " + up;
    return "";
  }
  RunCommand("cp -a " + g_work + "/filled " + g_work + "/sandbox");
  for (const char* n : kNames) Sandbox(std::string("start ") + n);
  const auto began = Steady::now();
  while (!CaughtUp()) {
    if (Steady::now() - began > 120s) return "the filled copy did not replicate again";
    std::this_thread::sleep_for(100ms);
  }
  return "";
}

// The bytes of events in the four servers' binlogs now (SHOW BINARY LOGS,
// less each file's 4-byte magic number).
uint64_t BinlogBytes() {
  uint64_t total = 0;
  for (int i = 0; i <= 3; ++i) {
    auto c = Connect(kBasePort + i);
    SqlResult r;
    if (c == nullptr || !c->Query("SHOW BINARY LOGS", &r).ok()) continue;
    for (size_t row = 0; row < r.rows.size(); ++row) {
      const uint64_t size = std::strtoull(r.GetOr(row, "File_size").c_str(), nullptr, 10);
      total += size > 4 ? size - 4 : 0;
    }
  }
  return total;
}

// Where a trial's time went, from what the daemon published (its clock):
// the DeadMaster analysis, then each recovery step's own duration.
std::string Breakdown(const std::string& jsonl, std::chrono::system_clock::time_point killed) {
  auto since_kill = [&](const nlohmann::json& m) {
    const std::string t = m.value("detection_time", "");
    std::tm tm{};
    double frac = 0;
    if (t.size() < 20 || ::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return -1.0;
    if (t[19] == '.') frac = std::atof(("0" + t.substr(19, t.find('Z') - 19)).c_str());
    const auto at = std::chrono::system_clock::from_time_t(::timegm(&tm)) +
                    std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(frac));
    return std::chrono::duration<double, std::milli>(at - killed).count();
  };
  std::ifstream in(jsonl);
  std::string out;
  char buf[128];
  for (std::string line; std::getline(in, line);) {
    const auto m = nlohmann::json::parse(line, nullptr, false);
    if (!m.is_object()) continue;
    if (m.contains("analysis") && m["analysis"].value("code", "") == "DeadMaster" && out.empty()) {
      std::snprintf(buf, sizeof buf, "DeadMaster +%.0f ms", since_kill(m));
      out += buf;
    } else if (m.contains("recovery") && !out.empty()) {
      const auto& r = m["recovery"];
      std::snprintf(buf, sizeof buf, ", %s %s %.0f ms", r.value("step", "").c_str(),
                    r.value("instance", "").substr(r.value("instance", "").rfind(':') + 1).c_str(),
                    r.value("millis", 0.0));
      if (r.value("outcome", "") != "STARTED") out += buf;
    }
  }
  return out;
}

void BM_KillToHealedTopology(benchmark::State& state) {
  if (g_fill_mb > 0) {
    if (const std::string why = PrepareFilled(); !why.empty()) return state.SkipWithError(why.c_str());
  }
  for (auto _ : state) {
    if (const std::string why = FreshSandbox(); !why.empty()) return state.SkipWithError(why.c_str());
    std::filesystem::remove_all(g_work + "/state");
    std::filesystem::remove(g_work + "/messages.jsonl");
    std::ofstream(g_work + "/tidewatch.conf.json")
        << R"({"MySQLTopologyUser": "tidewatch", "MySQLTopologyPassword": "tidewatch",
 "DiscoverySeeds": ["127.0.0.1:)" << kBasePort << R"("], "InstancePollSeconds": 5,
 "ListenAddress": "127.0.0.1:)" << kApiPort << R"(", "StateDir": ")" << g_work << R"(/state",
 "RecoverMasterClusterFilters": [".*"]})";
    const uint64_t existing = BinlogBytes();
    const pid_t daemon = ::fork();
    if (daemon == 0) {
      const std::string log = g_work + "/tidewatch.log";
      std::freopen(log.c_str(), "a", stderr);
      ::execl(g_binary.c_str(), g_binary.c_str(), "run", "--recover", "-c", (g_work + "/tidewatch.conf.json").c_str(),
              "--jsonl", (g_work + "/messages.jsonl").c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Settled: every server checked, and every binlog streamed — the live
    // indexes hold what the servers had when the daemon started.
    const auto ready_by = Steady::now() + 300s;
    auto settled = [existing] {
      tidewatch::server::Config config;
      tidewatch::server::ApiClient api(config, "127.0.0.1:" + std::to_string(kApiPort));
      int status = 0;
      nlohmann::json body;
      if (!api.Get("/api/health", &status, &body, 2s).ok() || status != 200 ||
          !body["Details"].value("Settled", false)) {
        return false;
      }
      if (!api.Get("/metrics", &status, &body, 2s).ok() || status != 200 || !body.is_string()) return false;
      const std::string text = body.get<std::string>();
      const std::string name = "\ntidewatch_stream_bytes_total ";
      const size_t at = text.find(name);
      return at != std::string::npos && std::strtoull(text.c_str() + at + name.size(), nullptr, 10) >= existing;
    };
    while (!settled()) {
      if (Steady::now() > ready_by) {
        ::kill(daemon, SIGKILL);
        ::waitpid(daemon, nullptr, 0);
        return state.SkipWithError("the daemon did not settle");
      }
      std::this_thread::sleep_for(100ms);
    }
    std::vector<std::unique_ptr<SqlConnection>> replicas;
    for (int i = 1; i <= 3; ++i) replicas.push_back(Connect(kBasePort + i));
    if (std::any_of(replicas.begin(), replicas.end(), [](const auto& c) { return c == nullptr; })) {
      return state.SkipWithError("cannot connect to the replicas");
    }
    // A write load that is still running when the master dies.
    RunCommand("(python3 tools/sandbox/tidewatch-sandbox --dir " + g_work + "/sandbox load --seconds 6 --rate 300 "
        ">/dev/null 2>&1 &)");
    std::this_thread::sleep_for(3s);
    std::ifstream pidf(g_work + "/sandbox/m/mariadbd.pid");
    pid_t pid = 0;
    pidf >> pid;
    if (pid <= 0) return state.SkipWithError("no pid file for the master");
    const auto killed = Steady::now();
    const auto killed_wall = std::chrono::system_clock::now();
    ::kill(pid, SIGKILL);
    int master = 0;
    while ((master = Healed(replicas)) == 0) {
      if (Steady::now() - killed > 60s) break;
      std::this_thread::sleep_for(2ms);
    }
    const double ms = std::chrono::duration<double, std::milli>(Steady::now() - killed).count();
    ::kill(daemon, SIGTERM);
    ::waitpid(daemon, nullptr, 0);
    if (master == 0) return state.SkipWithError("not healed within 60 s");
    g_ms.push_back(ms);
    state.SetIterationTime(ms / 1000);
    std::cerr << "trial " << g_ms.size() << ": healed after " << ms << " ms (new master 127.0.0.1:" << master << "); "
              << Breakdown(g_work + "/messages.jsonl", killed_wall) << "\n";
  }
  state.counters["p50_ms"] = Percentile(g_ms, 0.50);
  state.counters["p99_ms"] = Percentile(g_ms, 0.99);
  state.counters["max_ms"] = Percentile(g_ms, 1.0);
  state.counters["trials"] = static_cast<double>(g_ms.size());
}

}  // namespace

int main(int argc, char** argv) {
  g_work = tidewatch::bench::Env("TIDEWATCH_BENCH_WORK", "/tmp/tidewatch-recovery-bench");
  g_binary = tidewatch::bench::Env("TIDEWATCH_BINARY", "build/tools/tidewatch");
  g_fill_mb = std::atoi(tidewatch::bench::Env("TIDEWATCH_BENCH_FILL_MB", "0").c_str());
  g_fill_rows = std::max(1, std::atoi(tidewatch::bench::Env("TIDEWATCH_BENCH_FILL_ROWS", "1").c_str()));
  const int trials = std::atoi(tidewatch::bench::Env("TIDEWATCH_BENCH_TRIALS", "20").c_str());
  std::filesystem::create_directories(g_work);
  benchmark::RegisterBenchmark("KillToHealedTopology", BM_KillToHealedTopology)
      ->Iterations(trials)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  Sandbox("down");
  benchmark::Shutdown();
  return 0;
}
