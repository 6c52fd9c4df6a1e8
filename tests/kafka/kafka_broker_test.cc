// KafkaSink against a real Apache Kafka broker (tools/kafka/tidewatch-kafka),
// each test on a broker of its own. What was published is read back by an
// independent client (tests/kafka/read_back.py: confluent-kafka, the schema
// compiled by protoc for Python), which exits non-zero on any mismatch.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "sinks/envelope_sequencer.h"
#include "sinks/kafka_sink.h"
#include "tests/kafka/fake_schema_registry.h"
#include "tests/kafka/kafka_broker.h"
#include "tests/kafka/numbered_message.h"

namespace tidewatch::sinks {
namespace {

namespace fs = std::filesystem;
using testing::KafkaBroker;
using testing::NumberedMessage;
using testing::RunCommand;

class TempDir {
 public:
  explicit TempDir(const std::string& what) {
    path_ = fs::temp_directory_path() / ("tidewatch-kafka-" + what + "-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Waits for `done`, at most `seconds` (a bound against hanging, not a timing
// requirement).
bool WaitFor(const std::function<bool()>& done, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

struct ReadBackResult {
  int status = -1;
  std::string output;
  nlohmann::json summary;
};

// Runs the independent reader with `args`; its JSON summary is the line that
// starts with '{'.
ReadBackResult ReadBack(const std::string& bootstrap, const std::string& args) {
  const std::string cmd = std::string(TIDEWATCH_KAFKA_PYTHON) + " " + TIDEWATCH_SOURCE_DIR +
                          "/tests/kafka/read_back.py --bootstrap " + bootstrap + " --protoc " + TIDEWATCH_PROTOC +
                          " --proto-root " + TIDEWATCH_SOURCE_DIR + "/sinks/proto " + args + " 2>&1";
  auto r = RunCommand(cmd);
  ReadBackResult out{r.status, r.out, nlohmann::json::object()};
  for (const auto& line : testing::Lines(r.out)) {
    if (!line.empty() && line[0] == '{') out.summary = nlohmann::json::parse(line, nullptr, false);
  }
  return out;
}

KafkaOptions OptionsFor(const KafkaBroker& broker, const fs::path& spool) {
  KafkaOptions o;
  o.brokers = broker.bootstrap();
  o.partitions = 3;
  o.spool.dir = spool.string();
  return o;
}

// A message as published and where it must arrive.
struct Published {
  v1::Envelope envelope;
  std::string topic, key;
};

void WriteExpected(const fs::path& path, const std::vector<Published>& messages) {
  std::ofstream out(path);
  for (const auto& m : messages) {
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(m.envelope, &json).ok());
    nlohmann::json line = {{"topic", m.topic},
                           {"key", m.key},
                           {"headers", {{"type", BodyName(m.envelope)}, {"schema_version", "1"}}},
                           {"envelope", nlohmann::json::parse(json)}};
    out << line.dump() << "\n";
  }
}

void SetTime(google::protobuf::Timestamp* t, int64_t seconds, int32_t nanos) {
  t->set_seconds(seconds);
  t->set_nanos(nanos);
}

void SetCoordinates(v1::Coordinates* c, const std::string& file, uint64_t pos, const std::string& gtid) {
  c->set_file(file);
  c->set_pos(pos);
  c->set_gtid(gtid);
}

// One message of every kind, every field set (repeated ones with several
// values, enums away from their defaults, the largest integers).
std::vector<Published> EveryKindOfMessage(EnvelopeSequencer* sequencer) {
  std::vector<Published> out;
  auto add = [&](v1::Envelope e, const std::string& topic, const std::string& key) {
    SetTime(e.mutable_event_time(), 1767225600, 123456789);
    SetTime(e.mutable_detection_time(), 1767225601, 999999999);
    SetCoordinates(e.mutable_source()->mutable_coordinates(), "mariadb-bin.000042", 18446744073709551615ull,
                   "0-101-77");
    sequencer->Stamp(&e);
    out.push_back({std::move(e), topic, key});
  };
  {
    v1::Envelope e;
    e.mutable_source()->set_server("127.0.0.1:3306");
    e.mutable_source()->set_cluster("alpha");
    auto* c = e.mutable_instance();
    c->set_kind(v1::InstanceChange::READ_ONLY_OFF);
    c->add_changed_fields("read_only");
    c->add_changed_fields("seconds_behind_master");
    auto* i = c->mutable_instance();
    i->set_key("127.0.0.1:3306");
    i->set_version("10.11.6-MariaDB-0+deb12u1-log");
    i->set_server_id(4294967295u);
    i->set_server_uuid("3e11fa47-71ca-11e1-9e33-c80aa9429562");
    i->set_read_only(true);
    i->set_log_bin(true);
    i->set_log_replica_updates(true);
    i->set_binlog_format("ROW");
    i->set_master_key("127.0.0.1:3307");
    i->set_replica_io_running(true);
    i->set_replica_sql_running(true);
    i->set_seconds_behind_master(-1);
    i->set_gtid_executed("0-101-77,1-102-5");
    i->set_data_center("dc-ü");
    i->set_promotion_rule("prefer");
    i->set_semi_sync_enforced(true);
    SetCoordinates(i->mutable_self_coordinates(), "mariadb-bin.000042", 9223372036854775807ull, "0-101-77");
    SetCoordinates(i->mutable_exec_master_coordinates(), "mariadb-bin.000041", 4, "");
    add(std::move(e), "tidewatch.topology", "alpha");
  }
  {
    v1::Envelope e;
    e.mutable_source()->set_server("127.0.0.1:3307");
    e.mutable_source()->set_cluster("alpha");
    auto* g = e.mutable_edge();
    g->set_kind(v1::ReplicationEdge::REMOVED);
    g->set_master("127.0.0.1:3306");
    g->set_replica("127.0.0.1:3307");
    add(std::move(e), "tidewatch.topology", "alpha");
  }
  {
    v1::Envelope e;
    e.mutable_source()->set_server("127.0.0.1:3310");
    e.mutable_source()->set_cluster("beta");
    auto* s = e.mutable_stream();
    s->set_state(v1::StreamState::DISCONNECTED);
    s->set_reason("connection reset by peer\nwith a newline and \"quotes\"");
    s->set_attempt(7);
    s->set_tls(true);
    add(std::move(e), "tidewatch.topology", "beta");
  }
  {
    v1::Envelope e;
    e.mutable_source()->set_server("127.0.0.1:3306");
    e.mutable_source()->set_cluster("alpha");
    auto* p = e.mutable_pseudo_gtid();
    p->set_text("drop view if exists `meta`.`_pseudo_gtid_hint__asc:5F2B1C3A:0000000000000123:8a7f2c1d`");
    SetCoordinates(p->mutable_at(), "mariadb-bin.000042", 1234567, "0-101-76");
    p->set_end_pos(1234680);
    p->set_ordinal(18446744073709551614ull);
    p->set_events_since_previous(42);
    add(std::move(e), "tidewatch.pgtid", "127.0.0.1:3306");
  }
  {
    v1::Envelope e;
    e.mutable_source()->set_server("127.0.0.1:3306");
    e.mutable_source()->set_cluster("alpha");
    auto* a = e.mutable_analysis();
    a->set_phase(v1::Analysis::CLOSED);
    a->set_code("DeadMaster");
    a->set_analyzed_instance("127.0.0.1:3306");
    a->set_cluster("alpha");
    a->set_description("Master cannot be reached by orchestrator and none of its replicas is replicating");
    a->add_evidence("stream ended: EOF");
    a->add_evidence("2 of 2 replicas: IO thread connecting");
    a->add_replicas("127.0.0.1:3307");
    a->add_replicas("127.0.0.1:3308");
    a->set_count_replicas(2);
    a->set_count_valid_replicas(2);
    a->set_count_replicating_replicas(0);
    a->set_is_actionable(true);
    a->set_downtimed(true);
    a->add_structure_warnings("NoLoggingReplicasStructureWarning");
    add(std::move(e), "tidewatch.analysis", "alpha");
  }
  {
    v1::Envelope e;
    e.mutable_source()->set_server("127.0.0.1:3307");
    e.mutable_source()->set_cluster("alpha");
    auto* r = e.mutable_recovery();
    r->set_recovery_id("rec-1");
    r->set_step("match-below");
    r->set_outcome(v1::RecoveryStep::ROLLED_BACK);
    r->set_instance("127.0.0.1:3308");
    r->set_destination("127.0.0.1:3307");
    r->set_method("pseudo-gtid");
    SetCoordinates(r->mutable_coordinates(), "mariadb-bin.000007", 8812, "");
    r->set_detail("post-check: SQL thread stopped");
    r->add_statements("STOP SLAVE");
    r->add_statements("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=3307");
    r->set_millis(27.875);
    add(std::move(e), "tidewatch.recovery", "alpha");
  }
  {
    v1::Envelope e;
    e.mutable_source()->set_server("127.0.0.1:3308");
    e.mutable_source()->set_cluster("gamma");
    auto* a = e.mutable_audit();
    a->set_action("begin-maintenance");
    a->set_instance("127.0.0.1:3308");
    a->set_user("ops");
    a->set_message("kernel upgrade — 30 min");
    add(std::move(e), "tidewatch.audit", "gamma");
  }
  {
    // No cluster known yet: keyed by the server.
    v1::Envelope e;
    e.mutable_source()->set_server("127.0.0.1:3399");
    auto* c = e.mutable_instance();
    c->set_kind(v1::InstanceChange::DISCOVERED);
    c->mutable_instance()->set_key("127.0.0.1:3399");
    add(std::move(e), "tidewatch.topology", "127.0.0.1:3399");
  }
  return out;
}

TEST(KafkaBrokerTest, EveryFieldRoundTripsWithTopicsKeysAndHeaders) {
  KafkaBroker broker(29400);
  TempDir spool("roundtrip-spool"), work("roundtrip");
  EnvelopeSequencer sequencer("roundtrip-producer", 1000);
  const std::vector<Published> messages = EveryKindOfMessage(&sequencer);
  {
    std::unique_ptr<KafkaSink> sink;
    ASSERT_TRUE(KafkaSink::Open(OptionsFor(broker, spool.path()), &sink).ok());
    for (const auto& m : messages) ASSERT_TRUE(sink->Publish(m.envelope).ok());
    Status s = sink->FlushFor(120000);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(sink->stats().delivered, messages.size());
  }
  const fs::path expected = work.path() / "expected.jsonl";
  WriteExpected(expected, messages);
  auto r = ReadBack(broker.bootstrap(), "--expect " + expected.string() +
                                            " --compacted tidewatch.pgtid --not-compacted tidewatch.topology"
                                            " --not-compacted tidewatch.analysis --not-compacted tidewatch.recovery"
                                            " --not-compacted tidewatch.audit");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.summary.value("unique", -1), static_cast<int>(messages.size())) << r.output;
  EXPECT_EQ(r.summary.value("duplicates", -1), 0) << r.output;
  EXPECT_EQ(r.summary["topics"].value("tidewatch.topology", 0), 4) << r.output;
  EXPECT_EQ(r.summary["topics"].value("tidewatch.pgtid", 0), 1) << r.output;
}

// On a broker that creates topics on first use (Kafka's default), the
// sink's own topics come first: the pgtid and clusters topics compacted, the partitions
// as configured — even for messages published the moment the sink opens.
TEST(KafkaBrokerTest, SinkCreatesItsTopicsBeforeABrokerAutoCreatesThem) {
  KafkaBroker broker(29440, "--auto-create-topics");
  TempDir spool("autocreate-spool");
  {
    std::unique_ptr<KafkaSink> sink;
    ASSERT_TRUE(KafkaSink::Open(OptionsFor(broker, spool.path()), &sink).ok());
    EnvelopeSequencer sequencer("autocreate-producer");
    for (uint64_t i = 1; i <= 40; ++i) {
      v1::Envelope e = NumberedMessage(i, 3);
      sequencer.Stamp(&e);
      ASSERT_TRUE(sink->Publish(e).ok());
    }
    Status s = sink->FlushFor(120000);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  auto r = ReadBack(broker.bootstrap(), "--expect-sequences autocreate-producer:1-40 --partitions 3"
                                        " --compacted tidewatch.pgtid --compacted tidewatch.clusters"
                                        " --not-compacted tidewatch.analysis");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.summary.value("unique", -1), 40) << r.output;
}

// The broker is stopped for 30 s while messages keep being published, then
// started again: every message arrives exactly once, in order per key.
TEST(KafkaBrokerTest, BrokerOutageLosesAndDuplicatesNothing) {
  KafkaBroker broker(29410);
  TempDir spool("outage-spool");
  std::unique_ptr<KafkaSink> sink;
  ASSERT_TRUE(KafkaSink::Open(OptionsFor(broker, spool.path()), &sink).ok());
  EnvelopeSequencer sequencer("outage-producer");
  std::atomic<bool> publishing{true};
  std::atomic<uint64_t> published{0};
  std::string publish_error;
  std::thread publisher([&] {
    while (publishing) {
      v1::Envelope e = NumberedMessage(sequencer.last_sequence() + 1, 5);
      sequencer.Stamp(&e);
      if (Status s = sink->Publish(e); !s.ok()) {
        publish_error = s.ToString();
        return;
      }
      ++published;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  struct Join {
    std::atomic<bool>& flag;
    std::thread& t;
    ~Join() {
      flag = false;
      if (t.joinable()) t.join();
    }
  } join{publishing, publisher};

  ASSERT_TRUE(WaitFor([&] { return sink->stats().delivered >= 300; }, 120)) << "nothing delivered before the outage";
  broker.Stop();
  const uint64_t at_stop = published;
  std::this_thread::sleep_for(std::chrono::seconds(30));
  const uint64_t during = published - at_stop;
  const uint64_t delivered_while_down = sink->stats().delivered;
  broker.Start();
  const uint64_t at_start = published;
  ASSERT_TRUE(WaitFor([&] { return published >= at_start + 300; }, 120));
  publishing = false;
  publisher.join();
  ASSERT_TRUE(publish_error.empty()) << publish_error;
  EXPECT_GT(during, 0u) << "publishing went on while the broker was down";
  EXPECT_LT(delivered_while_down, at_start) << "messages waited while the broker was down";
  const uint64_t total = published;
  Status s = sink->FlushFor(180000);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(sink->stats().delivered, total);
  EXPECT_EQ(sink->stats().spool_dropped, 0u);
  sink.reset();

  auto r = ReadBack(broker.bootstrap(), "--expect-sequences outage-producer:1-" + std::to_string(total));
  std::printf("outage: %llu published, %llu of them while the broker was down; read back: %s\n",
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(during), r.summary.dump().c_str());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.summary.value("messages", -1), static_cast<int64_t>(total)) << r.output;
  EXPECT_EQ(r.summary.value("unique", -1), static_cast<int64_t>(total)) << r.output;
  EXPECT_EQ(r.summary.value("duplicates", -1), 0) << r.output;
}

// A child process with its standard input and output on pipes.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~Child() {
    Kill();
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
  }
  void Send(const std::string& line) {
    const std::string l = line + "\n";
    if (::write(to_, l.data(), l.size()) != static_cast<ssize_t>(l.size())) throw std::runtime_error("write");
  }
  // The next line it prints, or "" when it ends or prints nothing for `seconds`.
  std::string Line(int seconds = 180) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return l;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return "";
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char b[4096];
      const ssize_t n = ::read(from_, b, sizeof b);
      if (n <= 0) return "";
      buffer_.append(b, static_cast<size_t>(n));
    }
  }
  // The exit status once it ends.
  int Wait() {
    int st = 0;
    if (pid_ > 0 && ::waitpid(pid_, &st, 0) == pid_) pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  int Kill() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGKILL);
    return Wait();
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buffer_;
};

// The publishing process is killed (SIGKILL) while the broker is down with
// messages in its spool; a new process on the same spool numbers on after
// them and delivers them: with deduplication on (producer_id, sequence),
// every message is there once and in order.
TEST(KafkaBrokerTest, SpoolOfAKilledPublisherIsDeliveredByTheNext) {
  KafkaBroker broker(29420);
  TempDir spool("crash-spool");
  const std::vector<std::string> argv = {TIDEWATCH_PUBLISH_DRIVER, "--brokers", broker.bootstrap(), "--spool",
                                         spool.path().string(), "--producer", "crash-producer", "--clusters", "5"};
  {
    Child first(argv);
    ASSERT_EQ(first.Line(), "resumed-after 0");
    first.Send("publish 250");
    ASSERT_EQ(first.Line(), "published 250");
    first.Send("flush 120000");
    ASSERT_EQ(first.Line(), "delivered 250");
    broker.Stop();
    first.Send("publish 350");
    ASSERT_EQ(first.Line(), "published 600");
    EXPECT_EQ(first.Kill(), 128 + SIGKILL);
  }
  broker.Start();
  Child second(argv);
  ASSERT_EQ(second.Line(), "resumed-after 600");
  second.Send("publish 100");
  ASSERT_EQ(second.Line(), "published 700");
  second.Send("flush 180000");
  ASSERT_EQ(second.Line(), "delivered 700");
  second.Send("exit");
  EXPECT_EQ(second.Wait(), 0);

  auto r = ReadBack(broker.bootstrap(), "--expect-sequences crash-producer:1-700 --at-least-once");
  std::printf("crash: read back: %s\n", r.summary.dump().c_str());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.summary.value("unique", -1), 700) << r.output;
  EXPECT_EQ(r.summary.value("messages", -1), 700 + r.summary.value("duplicates", 0)) << r.output;
}

// With a Schema Registry: the schema is registered under each topic's value
// subject and every value carries Confluent's framing with that subject's id.
TEST(KafkaBrokerTest, SchemaRegistryFramingOnTheWire) {
  KafkaBroker broker(29430);
  testing::FakeSchemaRegistry registry(/*first_id=*/21);
  TempDir spool("registry-spool"), work("registry");
  EnvelopeSequencer sequencer("registry-producer");
  const std::vector<Published> messages = EveryKindOfMessage(&sequencer);
  {
    KafkaOptions o = OptionsFor(broker, spool.path());
    o.schema_registry_url = registry.url() + "/";
    std::unique_ptr<KafkaSink> sink;
    ASSERT_TRUE(KafkaSink::Open(o, &sink).ok());
    for (const auto& m : messages) ASSERT_TRUE(sink->Publish(m.envelope).ok());
    Status s = sink->FlushFor(120000);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  const std::vector<std::string> topics = {"tidewatch.topology", "tidewatch.analysis", "tidewatch.pgtid",
                                           "tidewatch.recovery", "tidewatch.audit",    "tidewatch.clusters"};
  const auto requests = registry.requests();
  ASSERT_EQ(requests.size(), topics.size());
  const std::string schema = v1::Envelope::descriptor()->file()->DebugString();
  for (size_t i = 0; i < topics.size(); ++i) {
    EXPECT_EQ(requests[i].method, "POST");
    EXPECT_EQ(requests[i].target, "/subjects/" + topics[i] + "-value/versions");
    EXPECT_EQ(requests[i].content_type, "application/vnd.schemaregistry.v1+json");
    const auto body = nlohmann::json::parse(requests[i].body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << requests[i].body;
    EXPECT_EQ(body.value("schemaType", ""), "PROTOBUF");
    EXPECT_EQ(body.value("schema", ""), schema);
  }
  EXPECT_NE(schema.find("message Envelope {"), std::string::npos) << schema;
  EXPECT_NE(schema.find("package tidewatch.v1;"), std::string::npos) << schema;

  std::string ids;
  for (const auto& [subject, id] : registry.ids()) {
    ids += (ids.empty() ? "" : ",") + subject.substr(0, subject.size() - 6) + "=" + std::to_string(id);
  }
  const fs::path expected = work.path() / "expected.jsonl";
  WriteExpected(expected, messages);
  auto r = ReadBack(broker.bootstrap(), "--expect " + expected.string() + " --schema-ids " + ids);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.summary.value("unique", -1), static_cast<int>(messages.size())) << r.output;

  // The reference subscriber reads the framed values too.
  auto tail = RunCommand(std::string(TIDEWATCH_BINARY) + " tail --kafka " + broker.bootstrap() +
                         " --from-beginning --count " + std::to_string(messages.size()) +
                         " --idle-exit-ms 60000 2>/dev/null");
  ASSERT_EQ(tail.status, 0) << tail.out;
  std::set<uint64_t> sequences;
  for (const auto& line : testing::Lines(tail.out)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_EQ(j.value("producer_id", ""), "registry-producer") << line;
    sequences.insert(std::stoull(j.value("sequence", "0")));
  }
  EXPECT_EQ(sequences.size(), messages.size()) << tail.out;
}

}  // namespace
}  // namespace tidewatch::sinks
