// Failure detection latency, end to end: a sandbox master is killed with
// SIGKILL and the clock runs until the DeadMaster analysis arrives on Kafka,
// read by a consumer of this program's own from <prefix>.analysis. Each
// iteration is one trial: the master is started again afterwards (untimed)
// and the next trial waits until the daemon streams it again and its
// replicas replicate.
//
// Reported per trial (manual time) and as counters over all trials: p50, p99
// and max of kill → DeadMaster on Kafka, and of kill → the daemon's own
// detection_time in the message (Kafka's delivery is the difference).
//
//   bench/detection-latency.sh            (sets up the sandbox, broker and daemon, runs 20 trials)
//
// Environment: TIDEWATCH_BENCH_KAFKA (bootstrap), TIDEWATCH_BENCH_SANDBOX
// (sandbox directory), TIDEWATCH_BENCH_API (the daemon's HOST:PORT),
// TIDEWATCH_BENCH_MASTER (sandbox name, default m), TIDEWATCH_BENCH_TRIALS
// (default 20).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include <benchmark/benchmark.h>
#include <google/protobuf/util/time_util.h>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "bench/trials.h"
#include "tidewatch/v1/tidewatch.pb.h"
#include "server/api_client.h"

namespace {

using tidewatch::bench::Percentile;
using tidewatch::bench::RunCommand;

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

std::string Env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

std::string g_sandbox, g_api, g_master = "m", g_master_key;
rd_kafka_t* g_consumer = nullptr;
std::vector<double> g_kafka_ms, g_detect_ms;


std::string Sandbox(const std::string& args) {
  return RunCommand("python3 tools/sandbox/tidewatch-sandbox --dir " + g_sandbox + " " + args + " 2>&1");
}

// The daemon's answer to GET `path` (null when it does not answer).
nlohmann::json ApiGet(const std::string& path) {
  tidewatch::server::Config config;
  tidewatch::server::ApiClient api(config, g_api);
  int status = 0;
  nlohmann::json body;
  if (!api.Get(path, &status, &body, std::chrono::seconds(5)).ok()) return nullptr;
  return body;
}

// The master answers, the daemon streams it, its replicas replicate, and no
// DeadMaster is open: ready for the next trial.
bool Healthy() {
  auto m = ApiGet("/api/instance/" + g_master_key.substr(0, g_master_key.rfind(':')) + "/" +
                  g_master_key.substr(g_master_key.rfind(':') + 1));
  if (!m.is_object() || !m.value("IsLastCheckValid", false)) return false;
  if (m["TidewatchStream"].value("State", "") != "streaming") return false;
  for (const auto& r : m["Replicas"]) {
    auto ri = ApiGet("/api/instance/" + r["Hostname"].get<std::string>() + "/" + std::to_string(r["Port"].get<int>()));
    if (!ri.is_object() || !ri.value("Slave_IO_Running", false) || !ri.value("Slave_SQL_Running", false)) return false;
  }
  auto a = ApiGet("/api/replication-analysis");
  if (!a.is_object()) return false;
  for (const auto& x : a["Details"]) {
    if (x.value("Analysis", "").find("Dead") != std::string::npos) return false;
  }
  return true;
}

// Skips what is already on the analysis topic.
void DrainConsumer() {
  while (rd_kafka_message_t* m = rd_kafka_consumer_poll(g_consumer, 200)) rd_kafka_message_destroy(m);
}


void BM_KillToDeadMasterOnKafka(benchmark::State& state) {
  for (auto _ : state) {
    const auto ready_by = std::chrono::steady_clock::now() + 60s;
    while (!Healthy()) {
      if (std::chrono::steady_clock::now() > ready_by) return state.SkipWithError("topology not healthy after 60 s");
      std::this_thread::sleep_for(100ms);
    }
    std::this_thread::sleep_for(500ms);  // a few heartbeats of steady streaming
    DrainConsumer();
    std::ifstream pidf(g_sandbox + "/" + g_master + "/mariadbd.pid");
    pid_t pid = 0;
    pidf >> pid;
    if (pid <= 0) return state.SkipWithError("no pid file for the master");
    const auto killed = Clock::now();
    ::kill(pid, SIGKILL);
    bool seen = false;
    while (!seen) {
      if (Clock::now() - killed > 30s) return state.SkipWithError("no DeadMaster on Kafka within 30 s");
      rd_kafka_message_t* m = rd_kafka_consumer_poll(g_consumer, 100);
      if (m == nullptr) continue;
      const auto arrived = Clock::now();
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        tidewatch::v1::Envelope e;
        if (e.ParseFromArray(m->payload, static_cast<int>(m->len)) && e.has_analysis() &&
            e.analysis().phase() == tidewatch::v1::Analysis::OPENED && e.analysis().code() == "DeadMaster" &&
            e.analysis().analyzed_instance() == g_master_key) {
          const auto detected = Clock::time_point(std::chrono::duration_cast<Clock::duration>(
              std::chrono::nanoseconds(google::protobuf::util::TimeUtil::TimestampToNanoseconds(e.detection_time()))));
          const double kafka_ms = std::chrono::duration<double, std::milli>(arrived - killed).count();
          g_kafka_ms.push_back(kafka_ms);
          g_detect_ms.push_back(std::chrono::duration<double, std::milli>(detected - killed).count());
          state.SetIterationTime(kafka_ms / 1000);
          std::cerr << "trial " << g_kafka_ms.size() << ": DeadMaster on Kafka after " << kafka_ms
                    << " ms (detected after " << g_detect_ms.back() << " ms)\n";
          seen = true;
        }
      }
      rd_kafka_message_destroy(m);
    }
    state.PauseTiming();
    Sandbox("start " + g_master);
    state.ResumeTiming();
  }
  state.counters["kafka_p50_ms"] = Percentile(g_kafka_ms, 0.50);
  state.counters["kafka_p99_ms"] = Percentile(g_kafka_ms, 0.99);
  state.counters["kafka_max_ms"] = Percentile(g_kafka_ms, 1.0);
  state.counters["detect_p50_ms"] = Percentile(g_detect_ms, 0.50);
  state.counters["detect_p99_ms"] = Percentile(g_detect_ms, 0.99);
  state.counters["trials"] = static_cast<double>(g_kafka_ms.size());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string brokers = Env("TIDEWATCH_BENCH_KAFKA");
  g_sandbox = Env("TIDEWATCH_BENCH_SANDBOX");
  g_api = Env("TIDEWATCH_BENCH_API");
  g_master = Env("TIDEWATCH_BENCH_MASTER", "m");
  if (brokers.empty() || g_sandbox.empty() || g_api.empty()) {
    std::cerr << "detection_latency_bench: set TIDEWATCH_BENCH_KAFKA, TIDEWATCH_BENCH_SANDBOX and TIDEWATCH_BENCH_API "
                 "(bench/detection-latency.sh does)\n";
    return 2;
  }
  g_master_key = "127.0.0.1:" + Sandbox("port " + g_master).substr(0, 5);
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", ("detection-latency-" + std::to_string(::getpid())).c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", err, sizeof err);
  g_consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (g_consumer == nullptr) {
    std::cerr << "detection_latency_bench: " << err << "\n";
    return 2;
  }
  rd_kafka_poll_set_consumer(g_consumer);
  // Every partition of the analysis topic from its end, assigned directly
  // (no group join to wait for); the daemon creates the topic.
  const std::string topic = Env("TIDEWATCH_BENCH_TOPIC", "tidewatch.analysis");
  int partitions = 0;
  for (int i = 0; i < 300 && partitions == 0; ++i) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* t = rd_kafka_topic_new(g_consumer, topic.c_str(), nullptr);
    if (rd_kafka_metadata(g_consumer, 0, t, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) partitions = md->topics[0].partition_cnt;
      rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(t);
    if (partitions == 0) std::this_thread::sleep_for(100ms);
  }
  if (partitions == 0) {
    std::cerr << "detection_latency_bench: no topic " << topic << "\n";
    return 2;
  }
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  }
  rd_kafka_assign(g_consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  DrainConsumer();
  benchmark::RegisterBenchmark("BM_KillToDeadMasterOnKafka", BM_KillToDeadMasterOnKafka)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(std::stoi(Env("TIDEWATCH_BENCH_TRIALS", "20")));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  rd_kafka_assign(g_consumer, nullptr);
  rd_kafka_destroy(g_consumer);
  return 0;
}
