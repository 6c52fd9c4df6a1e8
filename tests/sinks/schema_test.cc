#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "sinks/envelope_sequencer.h"
#include "sinks/json_lines_sink.h"
#include "sinks/schema_fingerprint.h"

namespace tidewatch::sinks {
namespace {

// Every field and enum value of the locked schema is still there with the
// same number and type. New ones may be added; then the lock is rewritten with
//   TIDEWATCH_WRITE_SCHEMA_LOCK=1 build/tests/sinks_tests
TEST(SchemaTest, WireCompatibleWithTheLockedSchema) {
  const std::string lock_path = std::string(TIDEWATCH_SOURCE_DIR) + "/sinks/proto/tidewatch/v1/schema.lock";
  const auto now = SchemaFingerprint();
  if (std::getenv("TIDEWATCH_WRITE_SCHEMA_LOCK") != nullptr) {
    std::ofstream out(lock_path);
    for (const auto& l : now) out << l << "\n";
  }
  std::ifstream in(lock_path);
  ASSERT_TRUE(in) << "missing " << lock_path;
  const std::set<std::string> current(now.begin(), now.end());
  size_t locked = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    ++locked;
    EXPECT_TRUE(current.count(line)) << "incompatible schema change: \"" << line
                                     << "\" is gone or changed (numbers and types are forever)";
  }
  EXPECT_GT(locked, 50u);
}

v1::Envelope SampleAnalysis() {
  v1::Envelope e;
  e.mutable_source()->set_server("127.0.0.1:3306");
  e.mutable_source()->set_cluster("main");
  e.mutable_source()->mutable_coordinates()->set_file("m-bin.000007");
  e.mutable_source()->mutable_coordinates()->set_pos(123456);
  e.mutable_source()->mutable_coordinates()->set_gtid("0-1-42");
  auto* a = e.mutable_analysis();
  a->set_phase(v1::Analysis::OPENED);
  a->set_code("DeadMaster");
  a->set_analyzed_instance("127.0.0.1:3306");
  a->add_evidence("stream disconnected: connection refused");
  a->add_replicas("127.0.0.1:3307");
  a->set_count_replicas(1);
  return e;
}

TEST(SchemaTest, JsonIsProtobufsMappingAndReadsBack) {
  EnvelopeSequencer seq("tidewatch-1", 41);
  v1::Envelope e = SampleAnalysis();
  seq.Stamp(&e);
  EXPECT_EQ(e.sequence(), 42u);
  EXPECT_EQ(e.schema_version(), kSchemaVersion);
  EXPECT_STREQ(BodyName(e), "analysis");
  std::string json;
  ASSERT_TRUE(ToJsonLine(e, &json).ok());
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_NE(json.find("\"code\":\"DeadMaster\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"phase\":\"OPENED\""), std::string::npos) << json;
  // Defaults are written, not left out.
  EXPECT_NE(json.find("\"downtimed\":false"), std::string::npos) << json;
  v1::Envelope back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(e, back));
}

TEST(SchemaTest, SequenceIsUniqueAcrossThreads) {
  EnvelopeSequencer seq("p");
  std::vector<std::vector<uint64_t>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        v1::Envelope e;
        seq.Stamp(&e);
        got[t].push_back(e.sequence());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), 4000u);
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), 4000u);
  EXPECT_EQ(seq.last_sequence(), 4000u);
}

TEST(JsonLinesSinkTest, OneWholeLinePerMessage) {
  auto path = std::filesystem::temp_directory_path() / ("tidewatch-jsonl-" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  {
    std::unique_ptr<JsonLinesSink> sink;
    ASSERT_TRUE(JsonLinesSink::Open(path.string(), &sink).ok());
    EnvelopeSequencer seq("p");
    for (int i = 0; i < 3; ++i) {
      v1::Envelope e = SampleAnalysis();
      seq.Stamp(&e);
      ASSERT_TRUE(sink->Publish(e).ok());
    }
  }
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    v1::Envelope e;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &e).ok()) << line;
    EXPECT_EQ(e.sequence(), static_cast<uint64_t>(n + 1));
  }
  EXPECT_EQ(n, 3);
  std::filesystem::remove(path);
  std::unique_ptr<JsonLinesSink> bad;
  auto s = JsonLinesSink::Open("/nonexistent-dir/x.jsonl", &bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/x.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace tidewatch::sinks
