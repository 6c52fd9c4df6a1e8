// Publishing: the cost of encoding a message, and the rate KafkaSink delivers
// to a real broker (publish → spool → librdkafka → broker, until every
// delivery report confirmed), for two shapes of message: a Pseudo-GTID index
// entry and an instance (topology) change.
//
//   tools/kafka/tidewatch-kafka --dir /tmp/bench-kafka up --port 29600
//   TIDEWATCH_BENCH_KAFKA=$(tools/kafka/tidewatch-kafka --dir /tmp/bench-kafka bootstrap) build/bench/kafka_bench
//
// Without TIDEWATCH_BENCH_KAFKA only the encoding benchmarks run.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <benchmark/benchmark.h>

#include "sinks/envelope_sequencer.h"
#include "sinks/kafka_sink.h"

namespace {

using namespace tidewatch;

std::string g_brokers;

void SetCoordinates(v1::Coordinates* c, const std::string& file, uint64_t pos, const std::string& gtid) {
  c->set_file(file);
  c->set_pos(pos);
  c->set_gtid(gtid);
}

// What the indexer publishes for every Pseudo-GTID entry (orchestrator's
// default injection statement, 85 bytes).
v1::Envelope IndexEntry(uint64_t n) {
  v1::Envelope e;
  e.mutable_source()->set_server("10.20.30." + std::to_string(n % 200) + ":3306");
  e.mutable_source()->set_cluster("orders-" + std::to_string(n % 50));
  SetCoordinates(e.mutable_source()->mutable_coordinates(), "mariadb-bin.000123", 81234567 + n, "0-1012-" + std::to_string(9000000 + n));
  e.mutable_event_time()->set_seconds(1767225600 + static_cast<int64_t>(n));
  auto* p = e.mutable_pseudo_gtid();
  p->set_text("drop view if exists `meta`.`_pseudo_gtid_hint__asc:6954A2F0:00000000000" + std::to_string(100000 + n % 900000) +
              ":3d6f6a1e`");
  SetCoordinates(p->mutable_at(), "mariadb-bin.000123", 81234567 + n, "0-1012-" + std::to_string(9000000 + n));
  p->set_end_pos(81234690 + n);
  p->set_ordinal(5000000 + n * 37);
  p->set_events_since_previous(37);
  return e;
}

// An instance change as discovery publishes it: the whole instance.
v1::Envelope InstanceChange(uint64_t n) {
  v1::Envelope e;
  const std::string key = "10.20.30." + std::to_string(n % 200) + ":3306";
  e.mutable_source()->set_server(key);
  e.mutable_source()->set_cluster("orders-" + std::to_string(n % 50));
  auto* c = e.mutable_instance();
  c->set_kind(v1::InstanceChange::CHANGED);
  c->add_changed_fields("seconds_behind_master");
  c->add_changed_fields("exec_master_coordinates");
  auto* i = c->mutable_instance();
  i->set_key(key);
  i->set_version("10.11.6-MariaDB-0+deb12u1-log");
  i->set_server_id(1000 + static_cast<uint32_t>(n % 200));
  i->set_server_uuid("3e11fa47-71ca-11e1-9e33-c80aa9429562");
  i->set_read_only(true);
  i->set_log_bin(true);
  i->set_log_replica_updates(true);
  i->set_binlog_format("ROW");
  i->set_master_key("10.20.30.1:3306");
  i->set_replica_io_running(true);
  i->set_replica_sql_running(true);
  i->set_seconds_behind_master(static_cast<int64_t>(n % 5));
  i->set_gtid_executed("0-1012-" + std::to_string(9000000 + n) + ",1-1013-42");
  i->set_data_center("eu-west-1a");
  i->set_promotion_rule("neutral");
  SetCoordinates(i->mutable_self_coordinates(), "mariadb-bin.000044", 4012345 + n, "");
  SetCoordinates(i->mutable_exec_master_coordinates(), "mariadb-bin.000123", 81234567 + n, "");
  return e;
}

using Shape = v1::Envelope (*)(uint64_t);
Shape ShapeOf(int64_t arg) { return arg == 0 ? IndexEntry : InstanceChange; }
const char* ShapeName(int64_t arg) { return arg == 0 ? "pseudo_gtid entry" : "instance change"; }

// Encoding one stamped message, as KafkaSink::Publish does before spooling.
void BM_Encode(benchmark::State& state) {
  sinks::EnvelopeSequencer sequencer("bench");
  std::vector<v1::Envelope> messages;
  for (uint64_t n = 0; n < 1024; ++n) {
    messages.push_back(ShapeOf(state.range(0))(n));
    sequencer.Stamp(&messages.back());
  }
  std::string out;
  size_t bytes = 0, i = 0;
  for (auto _ : state) {
    messages[i++ & 1023].SerializeToString(&out);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes/msg"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
  state.SetLabel(ShapeName(state.range(0)));
}

// Decoding one spooled message, as KafkaSink's producer thread does to find
// its topic and key.
void BM_Decode(benchmark::State& state) {
  sinks::EnvelopeSequencer sequencer("bench");
  std::vector<std::string> encoded;
  for (uint64_t n = 0; n < 1024; ++n) {
    v1::Envelope e = ShapeOf(state.range(0))(n);
    sequencer.Stamp(&e);
    encoded.push_back(e.SerializeAsString());
  }
  v1::Envelope e;
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(e.ParseFromString(encoded[i++ & 1023]));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(ShapeName(state.range(0)));
}

// Messages published through KafkaSink and delivered: each iteration
// publishes state.range(1) messages and waits until the broker has
// acknowledged every one (acks=all, idempotent, zstd, the spool on disk).
void BM_PublishDelivered(benchmark::State& state) {
  const std::filesystem::path spool =
      std::filesystem::temp_directory_path() / ("tidewatch-kafka-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(spool);
  sinks::KafkaOptions options;
  options.brokers = g_brokers;
  options.topic_prefix = "bench";
  options.spool.dir = spool.string();
  std::unique_ptr<sinks::KafkaSink> sink;
  if (auto s = sinks::KafkaSink::Open(options, &sink); !s.ok()) return state.SkipWithError(s.ToString().c_str());
  sinks::EnvelopeSequencer sequencer("bench-" + std::to_string(::getpid()));
  const Shape shape = ShapeOf(state.range(0));
  const auto batch = static_cast<uint64_t>(state.range(1));
  // Warm-up: topics created, producer id acquired, connections up.
  {
    v1::Envelope e = shape(0);
    sequencer.Stamp(&e);
    (void)sink->Publish(e);
    if (auto s = sink->FlushFor(60000); !s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  uint64_t n = 1, bytes = 0;
  for (auto _ : state) {
    for (uint64_t i = 0; i < batch; ++i, ++n) {
      v1::Envelope e = shape(n);
      sequencer.Stamp(&e);
      bytes += e.ByteSizeLong();
      if (auto s = sink->Publish(e); !s.ok()) return state.SkipWithError(s.ToString().c_str());
    }
    if (auto s = sink->FlushFor(300000); !s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["bytes/msg"] = static_cast<double>(bytes) / static_cast<double>(state.iterations() * batch);
  state.SetLabel(ShapeName(state.range(0)));
  sink.reset();
  std::filesystem::remove_all(spool);
}

}  // namespace

BENCHMARK(BM_Encode)->Arg(0)->Arg(1);
BENCHMARK(BM_Decode)->Arg(0)->Arg(1);

int main(int argc, char** argv) {
  if (const char* b = std::getenv("TIDEWATCH_BENCH_KAFKA"); b != nullptr && *b != '\0') {
    g_brokers = b;
    benchmark::RegisterBenchmark("BM_PublishDelivered", BM_PublishDelivered)
        ->Args({0, 50000})
        ->Args({1, 50000})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MeasureProcessCPUTime();
  } else {
    std::cerr << "kafka_bench: TIDEWATCH_BENCH_KAFKA is not set: the publish-to-broker benchmarks are skipped "
                 "(start a broker with tools/kafka/tidewatch-kafka up and set it to the broker's HOST:PORT)\n";
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
