// KafkaSink against librdkafka's mock cluster: fast checks of ordering, keys,
// headers and the spool. The real broker is exercised by
// tests/kafka/kafka_broker_test.cc.
#include <gtest/gtest.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <filesystem>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "sinks/envelope_sequencer.h"
#include "sinks/kafka_envelope_consumer.h"
#include "sinks/kafka_sink.h"

namespace tidewatch::sinks {
namespace {

namespace fs = std::filesystem;

class MockCluster {
 public:
  MockCluster() {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    mc_ = rd_kafka_mock_cluster_new(rk_, 1);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(mc_); }
  rd_kafka_mock_cluster_t* get() { return mc_; }

 private:
  rd_kafka_t* rk_;
  rd_kafka_mock_cluster_t* mc_;
};

// Reads every message of `topic` from the start: key → sequences in order.
std::map<std::string, std::vector<uint64_t>> ReadAll(const std::string& brokers, const std::string& topic,
                                                     size_t expect) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "test", err, sizeof err);
  rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_poll_set_consumer(c);
  rd_kafka_topic_partition_list_t* t = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(t, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(c, t);
  rd_kafka_topic_partition_list_destroy(t);
  std::map<std::string, std::vector<uint64_t>> out;
  size_t n = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (n < expect && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 200);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      v1::Envelope e;
      EXPECT_TRUE(e.ParseFromArray(m->payload, static_cast<int>(m->len)));
      rd_kafka_headers_t* h = nullptr;
      const void* v;
      size_t len;
      EXPECT_EQ(rd_kafka_message_headers(m, &h), RD_KAFKA_RESP_ERR_NO_ERROR);
      if (h != nullptr && rd_kafka_header_get_last(h, "type", &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        EXPECT_EQ(std::string(static_cast<const char*>(v), len), BodyName(e));
      }
      out[std::string(static_cast<const char*>(m->key), m->key_len)].push_back(e.sequence());
      ++n;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return out;
}

v1::Envelope Analysis(const std::string& cluster) {
  v1::Envelope e;
  e.mutable_source()->set_cluster(cluster);
  e.mutable_source()->set_server(cluster + "-master");
  e.mutable_analysis()->set_code("DeadMaster");
  return e;
}

class KafkaSinkMockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tidewatch-kafka-spool-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  KafkaOptions Options(const std::string& brokers) {
    KafkaOptions o;
    o.brokers = brokers;
    o.partitions = 3;
    o.spool.dir = dir_.string();
    return o;
  }
  fs::path dir_;
};

TEST_F(KafkaSinkMockTest, OrderedPerClusterWithHeaders) {
  MockCluster mc;
  EnvelopeSequencer seq("p1");
  {
    std::unique_ptr<KafkaSink> sink;
    ASSERT_TRUE(KafkaSink::Open(Options(mc.bootstraps()), &sink).ok());
    for (int i = 0; i < 300; ++i) {
      v1::Envelope e = Analysis(i % 3 == 0 ? "alpha" : "beta");
      seq.Stamp(&e);
      ASSERT_TRUE(sink->Publish(e).ok());
    }
    ASSERT_TRUE(sink->FlushFor(30000).ok());
    EXPECT_EQ(sink->stats().spool_pending, 0u);
  }
  auto got = ReadAll(mc.bootstraps(), "tidewatch.analysis", 300);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["alpha"].size(), 100u);
  EXPECT_EQ(got["beta"].size(), 200u);
  for (auto& [key, seqs] : got) EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end())) << key;
}

// A reader of whole topics (how the recovery journal and a monitor group's
// records are read) gets every message exactly once, in its partition's
// order, those written while it reads included: a message that arrives for
// a partition already read to the end a call found is the next call's.
TEST_F(KafkaSinkMockTest, AReaderOfWholeTopicsMissesNothingWrittenWhileItReads) {
  MockCluster mc;
  std::unique_ptr<KafkaSink> sink;
  ASSERT_TRUE(KafkaSink::Open(Options(mc.bootstraps()), &sink).ok());
  EnvelopeSequencer seq("p1");
  // One partition with megabytes to read (several fetches), so that the
  // others reach their end first and go on receiving while it is read.
  uint64_t published = 0;
  for (int i = 0; i < 40; ++i) {
    v1::Envelope e = Analysis("big");
    e.mutable_analysis()->set_description(std::string(200000, 'x'));
    seq.Stamp(&e);
    ASSERT_TRUE(sink->Publish(e).ok());
    ++published;
  }
  ASSERT_TRUE(sink->FlushFor(30000).ok());
  std::atomic<bool> stop{false}, failed{false};
  std::atomic<uint64_t> written{0};
  std::mutex mu;
  std::thread writer([&] {
    for (uint64_t i = 0; !stop; ++i) {
      v1::Envelope e = Analysis("c" + std::to_string(i % 7));
      {
        std::lock_guard<std::mutex> lock(mu);
        seq.Stamp(&e);
      }
      if (!sink->Publish(e).ok()) failed = true;
      ++written;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  KafkaConsumerOptions o;
  o.brokers = mc.bootstraps();
  o.topics = {"tidewatch.analysis"};
  o.properties["fetch.message.max.bytes"] = "262144";
  std::unique_ptr<KafkaEnvelopeConsumer> reader;
  ASSERT_TRUE(KafkaEnvelopeConsumer::Open(o, &reader).ok());
  std::multiset<uint64_t> seen;
  std::map<std::string, uint64_t> last;  // key → last sequence
  bool ordered = true;
  auto take = [&](const ConsumedMessage& m) {
    seen.insert(m.envelope.sequence());
    ordered &= m.envelope.sequence() > last[m.key];
    last[m.key] = m.envelope.sequence();
  };
  for (int round = 0; round < 3; ++round) (void)reader->ReadToEnd(std::chrono::seconds(20), take);
  stop = true;
  writer.join();
  ASSERT_FALSE(failed);
  ASSERT_TRUE(sink->FlushFor(30000).ok());
  published += written;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (seen.size() < published && std::chrono::steady_clock::now() < deadline) {
    (void)reader->ReadToEnd(std::chrono::seconds(10), take);
  }
  EXPECT_TRUE(ordered);
  EXPECT_EQ(seen.size(), published);
  EXPECT_EQ(std::set<uint64_t>(seen.begin(), seen.end()).size(), published);
}

// Messages published while the broker is down wait in the spool, survive
// the sink being closed, and are delivered by the next one.
TEST_F(KafkaSinkMockTest, SpoolCarriesMessagesAcrossARestart) {
  MockCluster mc;
  rd_kafka_mock_broker_set_down(mc.get(), 1);
  EnvelopeSequencer seq("p2");
  {
    std::unique_ptr<KafkaSink> sink;
    ASSERT_TRUE(KafkaSink::Open(Options(mc.bootstraps()), &sink).ok());
    for (int i = 0; i < 50; ++i) {
      v1::Envelope e = Analysis("gamma");
      seq.Stamp(&e);
      ASSERT_TRUE(sink->Publish(e).ok());
    }
    EXPECT_FALSE(sink->FlushFor(500).ok());
    EXPECT_EQ(sink->stats().spool_pending, 50u);
  }
  rd_kafka_mock_broker_set_up(mc.get(), 1);
  {
    std::unique_ptr<KafkaSink> sink;
    ASSERT_TRUE(KafkaSink::Open(Options(mc.bootstraps()), &sink).ok());
    ASSERT_TRUE(sink->FlushFor(30000).ok());
  }
  auto got = ReadAll(mc.bootstraps(), "tidewatch.analysis", 50);
  ASSERT_EQ(got["gamma"].size(), 50u);
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ(got["gamma"][i], i + 1);
}

// A restarted producer numbers on from the newest spooled message, delivered
// or not; another producer's messages do not count.
TEST_F(KafkaSinkMockTest, LastSequenceComesFromTheSpool) {
  MockCluster mc;
  {
    std::unique_ptr<KafkaSink> sink;
    ASSERT_TRUE(KafkaSink::Open(Options(mc.bootstraps()), &sink).ok());
    uint64_t last = 99;
    ASSERT_TRUE(sink->LastSequence("p4", &last).ok());
    EXPECT_EQ(last, 0u);
    EnvelopeSequencer seq("p4");
    for (int i = 0; i < 25; ++i) {
      v1::Envelope e = Analysis("delta");
      seq.Stamp(&e);
      ASSERT_TRUE(sink->Publish(e).ok());
    }
    ASSERT_TRUE(sink->FlushFor(30000).ok());
  }
  std::unique_ptr<KafkaSink> sink;
  ASSERT_TRUE(KafkaSink::Open(Options(mc.bootstraps()), &sink).ok());
  uint64_t last = 0;
  ASSERT_TRUE(sink->LastSequence("p4", &last).ok());
  EXPECT_EQ(last, 25u);
  ASSERT_TRUE(sink->LastSequence("another", &last).ok());
  EXPECT_EQ(last, 0u);
}

// A registry that cannot be reached holds messages back in the spool and
// says so, naming its URL; nothing is produced unframed.
TEST_F(KafkaSinkMockTest, UnreachableSchemaRegistryIsReportedNotSkipped) {
  MockCluster mc;
  KafkaOptions o = Options(mc.bootstraps());
  o.schema_registry_url = "http://127.0.0.1:1";
  std::unique_ptr<KafkaSink> sink;
  ASSERT_TRUE(KafkaSink::Open(o, &sink).ok());
  EnvelopeSequencer seq("p5");
  v1::Envelope e = Analysis("epsilon");
  seq.Stamp(&e);
  ASSERT_TRUE(sink->Publish(e).ok());
  Status s = sink->FlushFor(1500);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("http://127.0.0.1:1/subjects/tidewatch.topology-value/versions"), std::string::npos)
      << s.message();
  EXPECT_EQ(sink->stats().produced, 0u);
  EXPECT_EQ(sink->stats().spool_pending, 1u);
}

TEST_F(KafkaSinkMockTest, SchemaRegistryUrlMustBeHttp) {
  KafkaOptions o = Options("127.0.0.1:9");
  o.schema_registry_url = "127.0.0.1:8081";
  std::unique_ptr<KafkaSink> sink;
  Status s = KafkaSink::Open(o, &sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("127.0.0.1:8081"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tidewatch::sinks
