// `tidewatch run` against real MariaDB topologies: discovery from a seed,
// event-driven failure analysis (kill -9, SIGSTOP, stopped replication, a
// dead intermediate master, a dead master with some of its replicas), each
// closing again once repaired, and the HTTP API.
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "tests/integration/daemon_fixture.h"
#include "tests/integration/sandbox.h"

namespace tidewatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json BaseConfig(int base_port, uint16_t api_port) {
  return {{"MySQLTopologyUser", "tidewatch"},
          {"MySQLTopologyPassword", "tidewatch"},
          {"DiscoverySeeds", {"127.0.0.1:" + std::to_string(base_port)}},
          {"InstancePollSeconds", 1},
          {"ListenAddress", "127.0.0.1:" + std::to_string(api_port)}};
}

std::string Key(int port) { return "127.0.0.1:" + std::to_string(port); }

// "file.000001:1234" as (file number, position), ordered.
std::pair<int, uint64_t> FilePosition(const std::string& at) {
  const auto colon = at.rfind(':');
  const auto dot = at.rfind('.', colon);
  return {std::stoi(at.substr(dot + 1, colon - dot - 1)), std::stoull(at.substr(colon + 1))};
}

// The analyses a run opened and did not close, by (instance, code).
std::set<std::pair<std::string, std::string>> OpenAnalyses(const std::vector<json>& messages) {
  std::set<std::pair<std::string, std::string>> open;
  for (const auto& m : messages) {
    if (!m.contains("analysis")) continue;
    const auto& a = m["analysis"];
    std::pair<std::string, std::string> k{a.value("analyzed_instance", ""), a.value("code", "")};
    if (a.value("phase", "") == "CLOSED") {
      open.erase(k);
    } else {
      open.insert(k);
    }
  }
  return open;
}

using DaemonTest = DaemonFixture;

TEST_F(DaemonTest, DiscoversTheTopologyFromOneSeedAndServesIt) {
  Sandbox sb("m>r1,r2;r2>r3", 25100);
  auto& d = StartDaemon("discover", BaseConfig(25100, 25190));
  ASSERT_TRUE(d.WaitSettled());
  // Every server discovered, each edge published, each server streamed.
  for (int p : {25100, 25101, 25102, 25103}) {
    EXPECT_FALSE(d.WaitFor([&](const json& m) {
                    return m.contains("instance") && m["instance"]["kind"] == "DISCOVERED" &&
                           m["source"]["server"] == Key(p);
                  }).is_null())
        << Key(p);
    EXPECT_FALSE(d.WaitFor([&](const json& m) {
                    return m.contains("stream") && m["stream"]["state"] == "STREAMING" && m["source"]["server"] == Key(p);
                  }).is_null())
        << Key(p);
  }
  EXPECT_FALSE(d.WaitFor([](const json& m) {
                  return m.contains("edge") && m["edge"]["master"] == Key(25102) && m["edge"]["replica"] == Key(25103);
                }).is_null());
  // Every message of the cluster names it after its master.
  for (const auto& m : d.Messages()) {
    if (m.contains("instance")) {
      EXPECT_EQ(m["source"]["cluster"], Key(25100)) << m.dump();
    }
  }

  auto clusters = d.Get("/api/clusters");
  ASSERT_EQ(clusters.status, 200);
  EXPECT_EQ(clusters.Json(), json::array({Key(25100)}));
  auto inst = d.Get("/api/instance/127.0.0.1/25103");
  ASSERT_EQ(inst.status, 200) << inst.body;
  EXPECT_EQ(inst.Json()["MasterKey"]["Port"], 25102);
  EXPECT_EQ(inst.Json()["ReplicationDepth"], 2);
  EXPECT_EQ(inst.Json()["ClusterName"], Key(25100));
  EXPECT_TRUE(inst.Json()["Slave_IO_Running"].get<bool>());
  EXPECT_EQ(inst.Json()["Slave_IO_Running"], inst.Json()["ReplicationIOThreadRuning"]);
  auto master = d.Get("/api/instance/127.0.0.1/25100").Json();
  EXPECT_EQ(master["Replicas"].size(), 2u);
  EXPECT_EQ(master["Replicas"], master["SlaveHosts"]);
  auto cluster = d.Get("/api/cluster/" + Key(25100));
  ASSERT_EQ(cluster.status, 200);
  EXPECT_EQ(cluster.Json().size(), 4u);
  auto unknown = d.Get("/api/instance/127.0.0.1/1");
  EXPECT_EQ(unknown.status, 500);
  EXPECT_EQ(unknown.Json()["Code"], "ERROR");
  auto bad_port = d.Get("/api/instance/127.0.0.1/x");
  EXPECT_EQ(bad_port.Json()["Message"], "Invalid port: x");
  auto topo = d.Get("/api/topology/" + Key(25100));
  ASSERT_EQ(topo.status, 200);
  const std::string tree = topo.Json()["Details"];
  EXPECT_EQ(tree.rfind(Key(25100) + " ", 0), 0u) << tree;
  EXPECT_NE(tree.find("\n+ " + Key(25102)), std::string::npos) << tree;
  EXPECT_NE(tree.find("\n  + " + Key(25103)), std::string::npos) << tree;
  auto analysis = d.Get("/api/replication-analysis");
  ASSERT_EQ(analysis.status, 200);
  EXPECT_EQ(analysis.Json()["Details"], json::array()) << analysis.body;
  auto metrics = d.Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("tidewatch_streams{state=\"streaming\"} 4"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("tidewatch_instances 4"), std::string::npos);
  // A healthy topology opens nothing.
  EXPECT_TRUE(OpenAnalyses(d.Messages()).empty());
}

TEST_F(DaemonTest, KilledMasterIsDeadMasterAtOnceAndClosesWhenItReturns) {
  Sandbox sb("m>r1,r2,r3", 25110);
  // A poll interval far longer than the test: only the stream can tell.
  json config = BaseConfig(25110, 25191);
  config["InstancePollSeconds"] = 600;
  auto& d = StartDaemon("deadmaster", config);
  ASSERT_TRUE(d.WaitSettled());
  ASSERT_FALSE(d.WaitFor([](const json& m) { return m.contains("stream") && m["source"]["server"] == "127.0.0.1:25110" &&
                                                    m["stream"]["state"] == "STREAMING"; })
                   .is_null());
  sb.Run("kill m");
  auto dead = d.WaitFor([](const json& m) { return IsAnalysis(m, "OPENED", "DeadMaster", "127.0.0.1:25110"); }, 20s);
  ASSERT_FALSE(dead.is_null()) << "no DeadMaster";
  EXPECT_TRUE(dead["analysis"]["is_actionable"].get<bool>());
  EXPECT_EQ(dead["analysis"]["count_replicas"], 3);
  EXPECT_EQ(dead["analysis"]["count_replicating_replicas"].get<int>(), 0) << dead.dump();
  EXPECT_EQ(dead["source"]["cluster"], "127.0.0.1:25110");
  const std::string evidence = dead["analysis"]["evidence"].dump();
  EXPECT_NE(evidence.find("unreachable"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("replication stream"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("IO thread"), std::string::npos) << evidence;
  // Never "dead" on the direct check alone: orchestrator's holistic rule.
  auto api = d.Get("/api/replication-analysis/127.0.0.1:25110").Json();
  bool listed = false;
  for (const auto& a : api["Details"]) listed |= a["Analysis"] == "DeadMaster" && a["IsActionableRecovery"] == true;
  EXPECT_TRUE(listed) << api.dump();

  sb.Run("start m");
  auto closed = d.WaitFor([](const json& m) { return IsAnalysis(m, "CLOSED", "DeadMaster", "127.0.0.1:25110"); }, 30s);
  ASSERT_FALSE(closed.is_null());
  // Once the replicas replicate again, nothing stays open.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!OpenAnalyses(d.Messages()).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(OpenAnalyses(d.Messages()).empty());
}

TEST_F(DaemonTest, HungMasterIsUnreachableNotDead) {
  Sandbox sb("m>r1,r2", 25120);
  auto& d = StartDaemon("hung", BaseConfig(25120, 25192));
  ASSERT_TRUE(d.WaitSettled());
  sb.Run("pause m");
  // The stream falls silent (no heartbeat), the direct check times out, the
  // replicas still say their IO threads run: unreachable, not dead.
  auto unreachable =
      d.WaitFor([](const json& m) { return IsAnalysis(m, "OPENED", "UnreachableMaster", "127.0.0.1:25120"); }, 20s);
  ASSERT_FALSE(unreachable.is_null());
  EXPECT_FALSE(unreachable["analysis"]["is_actionable"].get<bool>());
  for (const auto& m : d.Messages()) EXPECT_FALSE(IsAnalysis(m, "OPENED", "DeadMaster")) << m.dump();
  sb.Run("resume m");
  EXPECT_FALSE(d.WaitFor([](const json& m) { return IsAnalysis(m, "CLOSED", "UnreachableMaster", "127.0.0.1:25120"); }, 30s)
                   .is_null());
}

TEST_F(DaemonTest, StoppedReplicationIsAnalyzedAndClosesWhenRestarted) {
  Sandbox sb("m>r1,r2", 25130);
  auto& d = StartDaemon("stopped", BaseConfig(25130, 25193));
  ASSERT_TRUE(d.WaitSettled());
  sb.Sql("r1", "STOP SLAVE IO_THREAD");
  sb.Sql("r2", "STOP SLAVE IO_THREAD");
  EXPECT_FALSE(d.WaitFor([](const json& m) {
                  return IsAnalysis(m, "OPENED", "AllMasterReplicasNotReplicating", "127.0.0.1:25130");
                }, 20s)
                   .is_null());
  sb.Sql("r1", "START SLAVE IO_THREAD");
  sb.Sql("r2", "START SLAVE IO_THREAD");
  EXPECT_FALSE(d.WaitFor([](const json& m) {
                  return IsAnalysis(m, "CLOSED", "AllMasterReplicasNotReplicating", "127.0.0.1:25130");
                }, 20s)
                   .is_null());
}

TEST_F(DaemonTest, DeadIntermediateMaster) {
  Sandbox sb("a>b>c,d", 25140);
  auto& d = StartDaemon("intermediate", BaseConfig(25140, 25194));
  ASSERT_TRUE(d.WaitSettled());
  sb.Run("kill b");
  auto dead = d.WaitFor([](const json& m) { return IsAnalysis(m, "OPENED", "DeadIntermediateMaster", "127.0.0.1:25141"); },
                        20s);
  ASSERT_FALSE(dead.is_null());
  EXPECT_TRUE(dead["analysis"]["is_actionable"].get<bool>());
  EXPECT_EQ(dead["analysis"]["count_replicas"], 2);
  sb.Run("start b");
  EXPECT_FALSE(d.WaitFor([](const json& m) { return IsAnalysis(m, "CLOSED", "DeadIntermediateMaster", "127.0.0.1:25141"); },
                         30s)
                   .is_null());
}

TEST_F(DaemonTest, DeadMasterAndSomeReplicas) {
  Sandbox sb("m>r1,r2,r3", 25150);
  auto& d = StartDaemon("someReplicas", BaseConfig(25150, 25195));
  ASSERT_TRUE(d.WaitSettled());
  sb.Run("kill r3");
  sb.Run("kill m");
  EXPECT_FALSE(d.WaitFor([](const json& m) {
                  return IsAnalysis(m, "OPENED", "DeadMasterAndSomeReplicas", "127.0.0.1:25150");
                }, 20s)
                   .is_null());
}

TEST_F(DaemonTest, DowntimeMakesDeadMasterNotActionable) {
  Sandbox sb("m>r1,r2", 25160);
  auto& d = StartDaemon("downtime", BaseConfig(25160, 25196));
  ASSERT_TRUE(d.WaitSettled());
  auto r = d.Get("/api/begin-downtime/127.0.0.1/25160/dba/upgrade/1h");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["Message"], "Downtime begun: 127.0.0.1:25160");
  EXPECT_FALSE(d.WaitFor([](const json& m) { return m.contains("audit") && m["audit"]["action"] == "begin-downtime"; })
                   .is_null());
  sb.Run("kill m");
  auto dead = d.WaitFor([](const json& m) { return IsAnalysis(m, "OPENED", "DeadMaster", "127.0.0.1:25160"); }, 20s);
  ASSERT_FALSE(dead.is_null());
  EXPECT_TRUE(dead["analysis"]["downtimed"].get<bool>());
  EXPECT_FALSE(dead["analysis"]["is_actionable"].get<bool>());
  auto downtimed = d.Get("/api/downtimed").Json();
  ASSERT_EQ(downtimed.size(), 1u);
  EXPECT_EQ(downtimed[0]["DowntimeOwner"], "dba");
}

TEST_F(DaemonTest, RestartProducesNoSpuriousAnalysis) {
  Sandbox sb("m>r1,r2", 25170);
  json config = BaseConfig(25170, 25197);
  auto& d = StartDaemon("restart", config);
  ASSERT_TRUE(d.WaitSettled());
  std::this_thread::sleep_for(3s);  // several polls and many heartbeats
  EXPECT_EQ(d.Stop(), 0);
  const size_t before = d.Messages().size();
  const uint64_t last_sequence = std::stoull(d.Messages().back()["sequence"].get<std::string>());
  d.Start();
  ASSERT_TRUE(d.WaitSettled());
  std::this_thread::sleep_for(3s);
  const auto all = d.Messages();
  ASSERT_GT(all.size(), before);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_FALSE(all[i].contains("analysis")) << all[i].dump();
    // The sequence only grows, across the restart too.
    if (i >= before) {
      EXPECT_GT(std::stoull(all[i]["sequence"].get<std::string>()), last_sequence);
    }
  }
}

// Runs a tidewatch command; its standard output.
CommandResult Tidewatch(const std::string& args) {
  return RunCommand(std::string(TIDEWATCH_BINARY) + " " + args + " 2>/dev/null");
}

TEST_F(DaemonTest, CommandsMoveReplicasThroughTheDaemonsLiveIndex) {
  Sandbox sb("m>r1,r2,r3", 25200, "--no-gtid");
  json config = BaseConfig(25200, 25290);
  auto& d = StartDaemon("moves", config);
  ASSERT_TRUE(d.WaitSettled());
  sb.Run("load --seconds 2 --rate 300");
  // A destination behind the instance is refused (rightly): not what is tested here.
  ASSERT_TRUE(sb.WaitCaughtUp("m", {"r1", "r2", "r3"}));
  const std::string conf = "-c " + (dir_ / "tidewatch.conf.json").string();

  // match-below: answered by the daemon, from the master's live index.
  auto r = Tidewatch("match-below " + conf + " -i 127.0.0.1:25202 -s 127.0.0.1:25201 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  json move = json::parse(r.out);
  EXPECT_TRUE(move["moved"].get<bool>()) << move.dump();
  EXPECT_EQ(move["method"], "pseudo-gtid");
  EXPECT_EQ(move["position_from"], "master-index");
  EXPECT_EQ(move["events_compared"], move["events_after_entry"]);
  // The daemon's model has the new edge at once.
  auto moved = d.Get("/api/instance/127.0.0.1/25202").Json();
  EXPECT_EQ(moved["MasterKey"]["Port"], 25201);

  auto last = Tidewatch("last-pseudo-gtid " + conf + " -i 127.0.0.1:25200 --json");
  ASSERT_EQ(last.status, 0) << last.out;
  EXPECT_NE(json::parse(last.out)["entry"].get<std::string>().find("_pseudo_gtid_hint__asc:"), std::string::npos);

  // The master dies with r3 behind: regroup places r3 from what the daemon
  // had indexed of the dead master.
  sb.Sql("r3", "STOP SLAVE");
  sb.Run("load --seconds 1 --rate 300");
  sb.Run("kill m");
  ASSERT_FALSE(d.WaitFor([](const json& m) { return IsAnalysis(m, "OPENED", "DeadMaster", "127.0.0.1:25200"); }, 20s)
                   .is_null());
  auto g = Tidewatch("regroup-replicas " + conf + " -i 127.0.0.1:25200 --json");
  ASSERT_EQ(g.status, 0) << g.out;
  json regroup = json::parse(g.out);
  EXPECT_EQ(regroup["candidate"], "127.0.0.1:25201") << regroup.dump();
  bool r3_moved = false;
  for (const auto& m : regroup["moves"]) {
    EXPECT_TRUE(m["moved"].get<bool>()) << m.dump();
    if (m["instance"] == "127.0.0.1:25203") {
      r3_moved = true;
      EXPECT_EQ(m["position_from"], "master-index") << m.dump();
    }
  }
  EXPECT_TRUE(r3_moved) << regroup.dump();
  auto r3 = d.Get("/api/instance/127.0.0.1/25203").Json();
  EXPECT_EQ(r3["MasterKey"]["Port"], 25201);
  // Every change went out as an audit entry.
  EXPECT_FALSE(d.WaitFor([](const json& m) { return m.contains("audit") && m["audit"]["action"] == "regroup-replicas"; })
                   .is_null());
  // The commands' ASCII tree comes from the daemon too. As after
  // orchestrator's regroup, the promoted replica still points at the dead
  // master (detaching it is the recovery's step): the others are below it.
  auto topo = Tidewatch("topology " + conf + " -i 127.0.0.1:25201");
  ASSERT_EQ(topo.status, 0);
  EXPECT_EQ(topo.out.rfind("127.0.0.1:25200 ", 0), 0u) << topo.out;
  EXPECT_NE(topo.out.find("[unknown,invalid,"), std::string::npos) << topo.out;
  EXPECT_NE(topo.out.find("\n  + 127.0.0.1:25202 "), std::string::npos) << topo.out;
  EXPECT_NE(topo.out.find("\n  + 127.0.0.1:25203 "), std::string::npos) << topo.out;
}

// The value of a counter or gauge without labels in /metrics text.
double MetricValue(const std::string& metrics, const std::string& name) {
  const auto at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + name.size() + 2));
}

TEST_F(DaemonTest, RestartResumesTheIndexesFromTheStore) {
  Sandbox sb("m>r1", 25210);
  auto& d = StartDaemon("store", BaseConfig(25210, 25291));
  ASSERT_TRUE(d.WaitSettled());
  sb.Run("load --seconds 3 --rate 500");
  std::this_thread::sleep_for(1s);
  const double first_run = MetricValue(d.Get("/metrics").body, "tidewatch_stream_bytes_total");
  ASSERT_GT(first_run, 100000) << "the load wrote too little to tell";
  auto before = d.Get("/api/last-pseudo-gtid/127.0.0.1/25210").Json();
  ASSERT_EQ(before["Code"], "OK") << before.dump();
  ASSERT_EQ(d.Stop(), 0);
  d.Start();
  ASSERT_TRUE(d.WaitSettled());
  std::this_thread::sleep_for(2s);
  // Both servers' indexes came from the store and were verified; the streams
  // read only what was written since: the Pseudo-GTID entries of a few seconds.
  const std::string log = d.Log();
  EXPECT_NE(log.find("127.0.0.1:25210: index loaded from the store"), std::string::npos) << log;
  EXPECT_NE(log.find("127.0.0.1:25211: index loaded from the store"), std::string::npos) << log;
  const double second_run = MetricValue(d.Get("/metrics").body, "tidewatch_stream_bytes_total");
  EXPECT_GT(second_run, 0);
  EXPECT_LT(second_run, first_run / 10) << "the restart read the binlogs again";
  auto after = d.Get("/api/last-pseudo-gtid/127.0.0.1/25210").Json();
  ASSERT_EQ(after["Code"], "OK") << after.dump();
  EXPECT_GE(FilePosition(after["Message"]), FilePosition(before["Message"]));
}

TEST_F(DaemonTest, AutoPseudoGtidInjectsIntoTheWritableMasterOnly) {
  // No Pseudo-GTID from the sandbox's event scheduler: only the daemon's.
  Sandbox sb("m>r1", 25220, "--pseudo-gtid-interval 0");
  json config = BaseConfig(25220, 25292);
  config["AutoPseudoGTID"] = true;
  config["PseudoGTIDInjectionIntervalMilliseconds"] = 200;
  auto& d = StartDaemon("autopgtid", config);
  ASSERT_TRUE(d.WaitSettled());
  auto entry = d.WaitFor([](const json& m) { return m.contains("pseudo_gtid") && m["source"]["server"] == "127.0.0.1:25220"; },
                         20s);
  ASSERT_FALSE(entry.is_null()) << d.Log();
  EXPECT_NE(entry["pseudo_gtid"]["text"].get<std::string>().find("_pseudo_gtid_hint__asc:"), std::string::npos);
  // The replica holds the same entries by replication, written by the master.
  EXPECT_FALSE(d.WaitFor([](const json& m) { return m.contains("pseudo_gtid") && m["source"]["server"] == "127.0.0.1:25221"; },
                         20s)
                   .is_null());
  // Once the master is read-only, nothing more is injected.
  sb.Sql("m", "SET GLOBAL read_only=1");
  ASSERT_FALSE(d.WaitFor([](const json& m) {
                  return m.contains("instance") && m["instance"]["kind"] == "READ_ONLY_ON" &&
                         m["source"]["server"] == "127.0.0.1:25220";
                }, 20s)
                   .is_null());
  std::this_thread::sleep_for(1s);
  const auto master_entries = [&]() {
    size_t n = 0;
    for (const auto& m : d.Messages()) n += m.contains("pseudo_gtid") && m["source"]["server"] == "127.0.0.1:25220";
    return n;
  };
  const size_t before = master_entries();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(master_entries(), before);
}

TEST_F(DaemonTest, Authentication) {
  Sandbox sb("m>r1", 25180);
  json config = BaseConfig(25180, 25198);
  config["AuthenticationMethod"] = "multi";
  config["HTTPAuthUser"] = "admin";
  config["HTTPAuthPassword"] = "secret";
  auto& d = StartDaemon("auth", config);
  auto none = d.Get("/api/clusters");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["WWW-Authenticate"], "Basic realm=\"Authorization Required\"");
  const std::map<std::string, std::string> admin = {{"Authorization", "Basic YWRtaW46c2VjcmV0"}};  // admin:secret
  const std::map<std::string, std::string> readonly = {{"Authorization", "Basic cmVhZG9ubHk6eA=="}};  // readonly:x
  const std::map<std::string, std::string> wrong = {{"Authorization", "Basic YWRtaW46d3Jvbmc="}};  // admin:wrong
  EXPECT_EQ(d.Get("/api/clusters", wrong).status, 401);
  for (int i = 0; i < 200 && d.Get("/api/instance/127.0.0.1/25181", admin).status != 200; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(d.Get("/api/clusters", readonly).status, 200);
  auto refused = d.Get("/api/begin-maintenance/127.0.0.1/25181/x/y", readonly);
  EXPECT_EQ(refused.status, 500);
  EXPECT_EQ(refused.Json()["Message"], "Unauthorized");
  auto ok = d.Get("/api/begin-maintenance/127.0.0.1/25181/dba/test", admin);
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto again = d.Get("/api/begin-maintenance/127.0.0.1/25181/dba/test", admin);
  EXPECT_EQ(again.Json()["Code"], "ERROR");
  // /api/stream is behind the same authentication.
  EXPECT_EQ(d.Get("/api/stream").status, 401);
  EXPECT_EQ(d.Get("/api/stream?type=nonsense", admin).status, 400);
}

TEST_F(DaemonTest, ReadOnlyRefusesEveryChange) {
  Sandbox sb("m>r1", 25185);
  json config = BaseConfig(25185, 25199);
  config["ReadOnly"] = true;
  auto& d = StartDaemon("readonly", config);
  ASSERT_TRUE(d.WaitSettled());
  for (const std::string path : {"/api/discover/127.0.0.1/25186", "/api/forget/127.0.0.1/25186",
                                 "/api/begin-downtime/127.0.0.1/25185/a/b/1h", "/api/regroup-replicas/127.0.0.1/25185"}) {
    auto r = d.Get(path);
    EXPECT_EQ(r.status, 500) << path;
    EXPECT_EQ(r.Json()["Message"], "Unauthorized") << path;
  }
  EXPECT_EQ(d.Get("/api/instance/127.0.0.1/25186").status, 200);
}

}  // namespace
}  // namespace tidewatch::testing
