// `tidewatch run` publishing to a real Kafka broker: what it detects on real
// MariaDB servers arrives on the topics (read by the reference subscriber and
// checked by an independent client), and when the daemon is killed while the
// broker is down, its spool is delivered by the next run — nothing lost, no
// (producer, sequence) reused.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "tests/integration/daemon_process.h"
#include "tests/integration/sandbox.h"
#include "tests/kafka/kafka_broker.h"

namespace tidewatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Every message on the topology and analysis topics, by the reference
// subscriber (the Pseudo-GTID topic gets an entry every second: it is never
// idle long enough for the subscriber to stop).
std::vector<json> Tail(const KafkaBroker& broker) {
  auto r = RunCommand(std::string(TIDEWATCH_BINARY) + " tail --kafka " + broker.bootstrap() +
                      " --topic tidewatch.topology --topic tidewatch.analysis --from-beginning --idle-exit-ms 3000"
                      " 2>/dev/null");
  std::vector<json> out;
  for (const auto& line : Lines(r.out)) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

// The independent reader's verdict: every message the daemon wrote to its
// JSON lines arrived on Kafka, equal, on its topic, under its key, with its
// headers; nothing else arrived; one key in one partition, in order; each
// (producer, sequence) once — or repeated as identical bytes, after a crash.
std::string ReadBack(const KafkaBroker& broker, const std::vector<json>& published, const std::filesystem::path& dir) {
  const auto expected = dir / "expected.jsonl";
  {
    std::ofstream out(expected);
    for (const auto& m : published) {
      std::string body = "instance";
      for (const char* b : {"instance", "edge", "stream", "pseudo_gtid", "analysis", "recovery", "audit"}) {
        if (m.contains(b)) body = b;
      }
      const std::string topic = body == "pseudo_gtid" ? "pgtid"
                                : body == "analysis" || body == "recovery" || body == "audit" ? body
                                                                                              : "topology";
      const std::string server = m["source"].value("server", ""), cluster = m["source"].value("cluster", "");
      const std::string key = body == "pseudo_gtid" || cluster.empty() ? server : cluster;
      out << json{{"topic", "tidewatch." + topic},
                  {"key", key},
                  {"headers", {{"type", body}, {"schema_version", "1"}}},
                  {"envelope", m}}
                 .dump()
          << "\n";
    }
  }
  const std::string cmd = std::string(TIDEWATCH_KAFKA_PYTHON) + " " + TIDEWATCH_SOURCE_DIR +
                          "/tests/kafka/read_back.py --bootstrap " + broker.bootstrap() + " --protoc " +
                          TIDEWATCH_PROTOC + " --proto-root " + TIDEWATCH_SOURCE_DIR +
                          "/sinks/proto --at-least-once --compacted tidewatch.pgtid --expect " + expected.string() +
                          " 2>&1";
  auto r = RunCommand(cmd);
  return r.status == 0 ? "" : r.out;
}

TEST(DaemonKafkaTest, DetectionsReachKafkaAndTheSpoolSurvivesAKillWhileTheBrokerIsDown) {
  KafkaBroker broker(29470);
  Sandbox sb("m>r1,r2", 25500);
  const auto dir = std::filesystem::temp_directory_path() / ("tidewatch-daemon-kafka-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  json config = {{"MySQLTopologyUser", "tidewatch"},
                 {"MySQLTopologyPassword", "tidewatch"},
                 {"DiscoverySeeds", {"127.0.0.1:25500"}},
                 {"InstancePollSeconds", 1},
                 {"ListenAddress", "127.0.0.1:25590"},
                 {"ProducerId", "tidewatch-test"},
                 {"KafkaBrokers", broker.bootstrap()}};
  DaemonProcess d(dir, config);
  ASSERT_TRUE(d.WaitSettled());

  // What the daemon published reaches the broker: each server discovered,
  // keyed by its cluster.
  std::vector<json> first;
  for (int i = 0; i < 20; ++i) {
    first = Tail(broker);
    size_t discovered = 0;
    for (const auto& m : first) discovered += m.contains("instance") && m["instance"]["kind"] == "DISCOVERED";
    if (discovered == 3) break;
  }
  size_t discovered = 0;
  for (const auto& m : first) {
    if (m.contains("instance") && m["instance"]["kind"] == "DISCOVERED") {
      ++discovered;
      EXPECT_EQ(m["source"]["cluster"], "127.0.0.1:25500");
      EXPECT_EQ(m["producer_id"], "tidewatch-test");
    }
  }
  ASSERT_EQ(discovered, 3u);

  // The broker goes away; the master dies; the daemon sees it (its JSON
  // lines say so) and is killed before the broker is back.
  broker.Stop();
  sb.Run("kill m");
  auto dead = d.WaitFor([](const json& m) { return IsAnalysis(m, "OPENED", "DeadMaster", "127.0.0.1:25500"); }, 20s);
  ASSERT_FALSE(dead.is_null()) << d.Log();
  const std::string dead_sequence = dead["sequence"];
  std::this_thread::sleep_for(500ms);
  d.Kill();
  uint64_t first_run_last = 0;
  for (const auto& m : d.Messages()) first_run_last = std::max<uint64_t>(first_run_last, std::stoull(m["sequence"].get<std::string>()));

  broker.Start();
  sb.Run("start m");
  d.Start();
  ASSERT_TRUE(d.WaitSettled());
  // The next run delivers the spool: the DeadMaster analysis of the run that
  // was killed arrives, under its own sequence.
  std::vector<json> all;
  bool found = false;
  for (int i = 0; i < 20 && !found; ++i) {
    all = Tail(broker);
    for (const auto& m : all) found |= IsAnalysis(m, "OPENED", "DeadMaster", "127.0.0.1:25500") && m["sequence"] == dead_sequence;
  }
  ASSERT_TRUE(found) << "the killed run's DeadMaster never reached Kafka";
  // Every message the first run wrote to its JSON lines reached the broker.
  std::set<std::string> on_kafka;
  for (const auto& m : all) on_kafka.insert(m["sequence"].get<std::string>());
  size_t missing = 0;
  for (const auto& m : d.Messages()) {
    if (m.contains("pseudo_gtid")) continue;  // not on the topics read here
    if (std::stoull(m["sequence"].get<std::string>()) <= first_run_last && on_kafka.count(m["sequence"]) == 0) ++missing;
  }
  EXPECT_EQ(missing, 0u);
  // The second run numbered on above everything the first had used.
  bool second_run_seen = false;
  for (const auto& m : all) second_run_seen |= std::stoull(m["sequence"].get<std::string>()) > first_run_last;
  EXPECT_TRUE(second_run_seen);
  ASSERT_EQ(d.Stop(), 0);  // a clean stop: what it published is delivered
  EXPECT_EQ(ReadBack(broker, d.Messages(), dir), "");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// A daemon of a recovery group: RecoveryConsumer "kafka", one partition (the
// owner of it acts on every cluster: a failover renames the cluster after its
// new master, which could hash to another partition).
json RecoveryGroupConfig(const KafkaBroker& broker, int seed_port, int api_port, int n) {
  return json{{"MySQLTopologyUser", "tidewatch"},
              {"MySQLTopologyPassword", "tidewatch"},
              {"DiscoverySeeds", {"127.0.0.1:" + std::to_string(seed_port)}},
              {"InstancePollSeconds", 1},
              {"ListenAddress", "127.0.0.1:" + std::to_string(api_port)},
              {"ProducerId", "tidewatch-" + std::to_string(n)},
              {"TidewatchServerId", 990000 + 10 * n},
              {"KafkaBrokers", broker.bootstrap()},
              {"RecoveryConsumer", "kafka"},
              {"RecoveryConsumerGroup", "it.recovery"},
              {"KafkaTopicPartitions", 1},
              {"RecoverMasterClusterFilters", {".*"}}};
}

// The recovery messages of one daemon with that step and outcome.
std::vector<json> RecoverySteps(const DaemonProcess& d, const std::string& step, const std::string& outcome) {
  std::vector<json> out;
  for (const auto& m : d.Messages()) {
    if (m.contains("recovery") && m["recovery"].value("step", "") == step &&
        m["recovery"].value("outcome", "") == outcome) {
      out.push_back(m);
    }
  }
  return out;
}

// Which of two processes started a recovery (waiting up to 60 s for one); -1
// when neither did.
int StartedARecovery(const std::vector<std::unique_ptr<DaemonProcess>>& d) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i : {0, 1}) {
      if (!RecoverySteps(*d[i], "recovery", "STARTED").empty()) return i;
    }
    std::this_thread::sleep_for(50ms);
  }
  return -1;
}

// A PreFailoverProcesses hook that marks `in_hook` and holds the recovery
// while `hold` exists. The hook runs once the recovery's intent (and what the
// daemon published before it) is durable on Kafka: a process killed inside it
// leaves its recovery to be finished, one killed earlier never acted.
std::string HeldHook(const std::string& hold, const std::string& in_hook) {
  return "touch " + in_hook + "; while [ -f " + hold + " ]; do sleep 0.1; done";
}

// Whether `path` exists within 30 s.
bool AppearsSoon(const std::string& path) {
  for (int i = 0; i < 600 && !std::filesystem::exists(path); ++i) std::this_thread::sleep_for(50ms);
  return std::filesystem::exists(path);
}

// Two daemons follow the same servers and recover from the analyses on
// Kafka in one consumer group: exactly one acts on a cluster's failure; when
// it is SIGKILLed, the group hands the cluster to the other, which recovers
// the next failure (the acting daemon owned the only partition: the second
// recovery needs the group's handover).
TEST(DaemonKafkaTest, TwoDaemonsInOneRecoveryGroupRecoverOnceAndHandOverWhenOneDies) {
  KafkaBroker broker(29480);
  Sandbox sb("m>r1,r2", 25510);
  const auto base = std::filesystem::temp_directory_path() / ("tidewatch-recovery-group-" + std::to_string(::getpid()));
  std::filesystem::remove_all(base);

  std::vector<std::unique_ptr<DaemonProcess>> d;
  for (int n : {1, 2}) {
    json config = RecoveryGroupConfig(broker, 25510, 25590 + n, n);
    // Every member reads the others' recoveries from the journal, so the
    // block holds across the group: a short one lets the second failure through.
    config["RecoveryPeriodBlockSeconds"] = 1;
    d.push_back(std::make_unique<DaemonProcess>(base / std::to_string(n), config));
  }
  for (auto& x : d) ASSERT_TRUE(x->WaitSettled()) << x->Log();
  std::this_thread::sleep_for(8s);  // both have joined the group
  sb.Run("load --seconds 1 --rate 200");

  auto recoveries = [&](size_t i, const std::string& outcome) { return RecoverySteps(*d[i], "recovery", outcome); };

  auto wait_success = [&](size_t count, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (recoveries(0, "SUCCEEDED").size() + recoveries(1, "SUCCEEDED").size() >= count) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  sb.Run("kill m");
  ASSERT_TRUE(wait_success(1, 60s)) << d[0]->Log() << d[1]->Log();
  std::this_thread::sleep_for(3s);  // a second recovery, if one were started, would show by now
  const size_t started0 = recoveries(0, "STARTED").size(), started1 = recoveries(1, "STARTED").size();
  EXPECT_EQ(started0 + started1, 1u) << "daemon 1 started " << started0 << ", daemon 2 " << started1;
  const size_t acting = started0 == 1 ? 0 : 1, other = 1 - acting;
  const json done = (acting == 0 ? recoveries(0, "SUCCEEDED") : recoveries(1, "SUCCEEDED")).at(0);
  const std::string successor = done["recovery"]["instance"];
  const std::string name = successor == "127.0.0.1:25511" ? "r1" : "r2", survivor = name == "r1" ? "r2" : "r1";
  EXPECT_EQ(sb.SlaveStatus(survivor, "Master_Port"), successor.substr(successor.rfind(':') + 1));

  // The acting daemon dies; the next failure is the other's.
  d[acting]->Kill();
  const auto killed = std::chrono::steady_clock::now();
  sb.Run("kill " + name);
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  bool recovered = false;
  while (!recovered && std::chrono::steady_clock::now() < deadline) {
    for (const auto& m : recoveries(other, "SUCCEEDED")) recovered |= m["source"].value("server", "") == successor;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(recovered) << d[other]->Log();
  std::cerr << "acting daemon SIGKILLed, then its new master: recovered by the other daemon in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count() << " s\n";
  EXPECT_EQ(sb.Run("sql -N " + survivor + " 'SELECT @@read_only'").substr(0, 1), "0");
  EXPECT_EQ(sb.SlaveStatus(survivor, "Slave_IO_Running"), "");
  d.clear();
  std::filesystem::remove_all(base);
}

// The acting daemon is SIGKILLed in the middle of a recovery (held in its
// PreFailoverProcesses hook): the analysis' offset was not committed, so the
// other daemon reads it again once the group hands it the partition, re-checks
// it against its own view, and finishes the recovery — one promotion in all.
TEST(DaemonKafkaTest, AConsumerKilledInTheMiddleOfARecoveryIsFollowedByOneThatFinishesIt) {
  KafkaBroker broker(29482);
  Sandbox sb("m>r1,r2", 25515);
  const auto base = std::filesystem::temp_directory_path() / ("tidewatch-recovery-kill-" + std::to_string(::getpid()));
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  const std::string hold = (base / "hold").string(), in_hook = (base / "in-hook").string();
  std::vector<std::unique_ptr<DaemonProcess>> d;
  for (int n : {1, 2}) {
    json config = RecoveryGroupConfig(broker, 25515, 25592 + n, n);
    config["PreFailoverProcesses"] = {HeldHook(hold, in_hook)};
    d.push_back(std::make_unique<DaemonProcess>(base / std::to_string(n), config));
  }
  for (auto& x : d) ASSERT_TRUE(x->WaitSettled()) << x->Log();
  std::this_thread::sleep_for(8s);  // both have joined the group
  sb.Run("load --seconds 1 --rate 200");
  std::ofstream(hold) << "held\n";
  sb.Run("kill m");
  const int acting = StartedARecovery(d);
  ASSERT_GE(acting, 0) << "no recovery started";
  const int other = 1 - acting;
  ASSERT_TRUE(AppearsSoon(in_hook)) << d[acting]->Log();
  d[acting]->Kill();
  std::filesystem::remove(hold);
  const auto killed = std::chrono::steady_clock::now();
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < killed + 90s) {
    done = !RecoverySteps(*d[other], "recovery", "SUCCEEDED").empty();
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(done) << d[other]->Log();
  std::cerr << "recovery finished by the other daemon "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count()
            << " s after the acting one was SIGKILLed\n";
  EXPECT_EQ(RecoverySteps(*d[acting], "promote", "SUCCEEDED").size() +
                RecoverySteps(*d[other], "promote", "SUCCEEDED").size(),
            1u);
  const std::string successor = RecoverySteps(*d[other], "recovery", "SUCCEEDED").at(0)["recovery"]["instance"];
  const std::string name = successor == "127.0.0.1:25516" ? "r1" : "r2", survivor = name == "r1" ? "r2" : "r1";
  EXPECT_EQ(sb.SlaveStatus(survivor, "Master_Port"), successor.substr(successor.rfind(':') + 1));
  EXPECT_EQ(sb.SlaveStatus(survivor, "Slave_IO_Running"), "Yes");
  EXPECT_EQ(sb.SlaveStatus(name, "Slave_IO_Running"), "");
  d.clear();
  std::filesystem::remove_all(base);
}

// How many clusters the daemon on `port` monitors as its share of a monitor
// group (its /metrics).
int ClustersMonitoredHere(uint16_t port) {
  const std::string prefix = "tidewatch_group_clusters{scope=\"here\"} ";
  for (const auto& line : Lines(HttpGet(port, "/metrics").body)) {
    if (line.rfind(prefix, 0) == 0) return std::stoi(line.substr(prefix.size()));
  }
  return -1;
}

// Two daemons of one monitor group (MonitorGroup), each with the recovery
// consumer embedded: the group gives the cluster to one of them, which alone
// follows it and reports its failures. That one is SIGKILLed in the middle of
// a recovery (held in its PreFailoverProcesses hook, its intent journaled).
// After the group's session timeout the other takes the cluster over, adopts
// the DeadMaster its predecessor published — not opened again — and finishes
// the recovery under the same id: one promotion in all.
TEST(DaemonKafkaTest, AMonitorGroupHandsAClusterOverInTheMiddleOfARecoveryAndItIsFinishedOnce) {
  KafkaBroker broker(29490);
  Sandbox sb("m>r1,r2", 25525);
  const auto base = std::filesystem::temp_directory_path() / ("tidewatch-monitor-group-" + std::to_string(::getpid()));
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  const std::string hold = (base / "hold").string(), in_hook = (base / "in-hook").string();
  std::vector<std::unique_ptr<DaemonProcess>> d;
  for (int n : {0, 1}) {
    json config = RecoveryGroupConfig(broker, 25525, 25540 + n, n);
    config["RecoveryConsumer"] = "embedded";
    config.erase("RecoveryConsumerGroup");
    config["MonitorGroup"] = "it.monitors";
    config["PreFailoverProcesses"] = {HeldHook(hold, in_hook)};
    d.push_back(std::make_unique<DaemonProcess>(base / std::to_string(n), config));
  }
  // One partition: one daemon monitors the cluster, the other nothing.
  int owner = -1;
  const auto joined = std::chrono::steady_clock::now() + 60s;
  while (owner < 0 && std::chrono::steady_clock::now() < joined) {
    const int a = ClustersMonitoredHere(25540), b = ClustersMonitoredHere(25541);
    if (a + b == 1) owner = a == 1 ? 0 : 1;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_GE(owner, 0) << d[0]->Log() << d[1]->Log();
  const int other = 1 - owner;
  ASSERT_TRUE(d[owner]->WaitSettled()) << d[owner]->Log();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(ClustersMonitoredHere(25540 + other), 0);
  sb.Run("load --seconds 1 --rate 200");
  std::ofstream(hold) << "held\n";
  sb.Run("kill m");
  // Only the daemon that monitors the cluster acts on it.
  ASSERT_EQ(StartedARecovery(d), owner) << d[owner]->Log();
  EXPECT_TRUE(RecoverySteps(*d[other], "recovery", "STARTED").empty());
  ASSERT_TRUE(AppearsSoon(in_hook)) << d[owner]->Log();
  d[owner]->Kill();
  std::filesystem::remove(hold);
  const auto killed = std::chrono::steady_clock::now();
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < killed + 90s) {
    done = !RecoverySteps(*d[other], "recovery", "SUCCEEDED").empty();
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(done) << d[other]->Log();
  std::cerr << "monitor group: recovery finished by the other daemon "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count()
            << " s after the owner was SIGKILLed\n";
  EXPECT_EQ(RecoverySteps(*d[owner], "promote", "SUCCEEDED").size() +
                RecoverySteps(*d[other], "promote", "SUCCEEDED").size(),
            1u);
  // The same recovery, not a second one.
  const json began = RecoverySteps(*d[owner], "recovery", "STARTED").at(0);
  const json finished = RecoverySteps(*d[other], "recovery", "SUCCEEDED").at(0);
  EXPECT_EQ(began["recovery"]["recovery_id"], finished["recovery"]["recovery_id"]);
  // The DeadMaster was opened once, by the daemon that saw it first.
  int opened = 0;
  for (const auto& x : d) {
    for (const auto& m : x->Messages()) {
      opened += m.contains("analysis") && m["analysis"].value("code", "") == "DeadMaster" &&
                m["analysis"].value("phase", "") == "OPENED";
    }
  }
  EXPECT_EQ(opened, 1);
  const std::string successor = finished["recovery"]["instance"];
  const std::string name = successor == "127.0.0.1:25526" ? "r1" : "r2", survivor = name == "r1" ? "r2" : "r1";
  EXPECT_EQ(sb.SlaveStatus(survivor, "Master_Port"), successor.substr(successor.rfind(':') + 1));
  EXPECT_EQ(sb.SlaveStatus(survivor, "Slave_IO_Running"), "Yes");
  if (::testing::Test::HasFailure()) {
    for (auto& x : d) std::cerr << x->Log() << "\n";
  }
  d.clear();
  std::filesystem::remove_all(base);
}

// `tidewatch recovery-consumer` as processes of their own beside a daemon
// that only detects: two consumers in one group, the acting one SIGKILLed in
// the middle of a recovery (held in its PreFailoverProcesses hook, after its
// intent was journaled on the recovery topic). The other reads the journal
// when the group hands it the cluster, finds the recovery begun and not
// ended, and finishes it under the same recovery id — one promotion in all;
// its audit API reports the recovery.
TEST(DaemonKafkaTest, RecoveryConsumerProcessesFinishTheRecoveryOfOneThatDied) {
  KafkaBroker broker(29484);
  Sandbox sb("m>r1,r2", 25520);
  const auto base = std::filesystem::temp_directory_path() / ("tidewatch-consumers-" + std::to_string(::getpid()));
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  const std::string hold = (base / "hold").string(), in_hook = (base / "in-hook").string();
  json daemon_config = RecoveryGroupConfig(broker, 25520, 25595, 0);
  daemon_config.erase("RecoveryConsumer");
  DaemonProcess daemon(base / "daemon", daemon_config);
  std::vector<std::unique_ptr<DaemonProcess>> c;
  for (int n : {1, 2}) {
    json config = RecoveryGroupConfig(broker, 25520, 25595 + n, n);
    config.erase("RecoveryConsumer");
    config["PreFailoverProcesses"] = {HeldHook(hold, in_hook)};
    const auto dir = base / ("consumer-" + std::to_string(n));
    c.push_back(std::make_unique<DaemonProcess>(
        dir, config,
        std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(25595 + n), "--jsonl",
                                 (dir / "messages.jsonl").string()},
        "recovery-consumer"));
  }
  ASSERT_TRUE(daemon.WaitSettled()) << daemon.Log();
  for (auto& x : c) ASSERT_TRUE(x->WaitSettled()) << x->Log();
  std::this_thread::sleep_for(8s);  // both have joined the group
  sb.Run("load --seconds 1 --rate 200");
  std::ofstream(hold) << "held\n";
  sb.Run("kill m");
  const int acting = StartedARecovery(c);
  ASSERT_GE(acting, 0) << "no recovery started" << c[0]->Log() << c[1]->Log();
  const int other = 1 - acting;
  const std::string id = RecoverySteps(*c[acting], "recovery", "STARTED").at(0)["recovery"]["recovery_id"];
  ASSERT_TRUE(AppearsSoon(in_hook)) << c[acting]->Log();
  c[acting]->Kill();
  std::filesystem::remove(hold);
  const auto killed = std::chrono::steady_clock::now();
  json done;
  while (done.is_null() && std::chrono::steady_clock::now() < killed + 90s) {
    for (const auto& m : RecoverySteps(*c[other], "recovery", "SUCCEEDED")) done = m;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(done.is_null()) << c[other]->Log();
  std::cerr << "recovery finished by the other consumer "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count()
            << " s after the acting one was SIGKILLed\n";
  // The same recovery, resumed — not a second one.
  EXPECT_EQ(done["recovery"]["recovery_id"], id);
  const auto resumed = RecoverySteps(*c[other], "recovery", "STARTED");
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0]["recovery"]["recovery_id"], id);
  EXPECT_NE(resumed[0]["recovery"].value("detail", "").find("resumed"), std::string::npos) << resumed[0].dump();
  EXPECT_EQ(RecoverySteps(*c[acting], "promote", "SUCCEEDED").size() +
                RecoverySteps(*c[other], "promote", "SUCCEEDED").size(),
            1u);
  // The daemon detects; it never acts.
  EXPECT_TRUE(RecoverySteps(daemon, "recovery", "STARTED").empty());
  const std::string successor = done["recovery"]["instance"];
  const std::string name = successor == "127.0.0.1:25521" ? "r1" : "r2", survivor = name == "r1" ? "r2" : "r1";
  EXPECT_EQ(sb.SlaveStatus(survivor, "Master_Port"), successor.substr(successor.rfind(':') + 1));
  EXPECT_EQ(sb.SlaveStatus(survivor, "Slave_IO_Running"), "Yes");
  EXPECT_EQ(sb.SlaveStatus(name, "Slave_IO_Running"), "");
  auto audit = c[other]->Get("/api/audit-recovery").Json();
  ASSERT_TRUE(audit.is_array() && !audit.empty()) << audit.dump();
  EXPECT_EQ(audit[0]["UID"], id);
  EXPECT_EQ(audit[0]["IsSuccessful"], true);
  if (::testing::Test::HasFailure()) {
    for (auto& x : c) std::cerr << x->Log() << "\n";
  }
  c.clear();
  std::filesystem::remove_all(base);
}

}  // namespace
}  // namespace tidewatch::testing
