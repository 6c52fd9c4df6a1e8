// `tidewatch run --recover` against real MariaDB topologies: kill -9 of a
// master under a write load heals the topology — one writable master, every
// other replica replicating from it, the data equal everywhere — with the
// hooks run once, their placeholders filled; a second failure inside
// RecoveryPeriodBlockSeconds is refused as blocked until acknowledged; a
// dead intermediate master's replicas end below its master.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "tests/integration/daemon_fixture.h"
#include "tests/integration/sandbox.h"

namespace tidewatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class RecoveryTest : public DaemonFixture {
 protected:
  json Config(int base_port, uint16_t api_port) {
    return {{"MySQLTopologyUser", "tidewatch"},
            {"MySQLTopologyPassword", "tidewatch"},
            {"DiscoverySeeds", {"127.0.0.1:" + std::to_string(base_port)}},
            {"InstancePollSeconds", 1},
            {"ListenAddress", "127.0.0.1:" + std::to_string(api_port)},
            {"RecoverMasterClusterFilters", {".*"}},
            {"RecoverIntermediateMasterClusterFilters", {".*"}},
            {"RecoveryPeriodBlockSeconds", 3600}};
  }
  // Appends a line per hook run to hooks.log in the test's directory.
  void AddHooks(json* config) {
    const std::string log = (dir_ / "hooks.log").string();
    (*config)["OnFailureDetectionProcesses"] = {"echo detected {failureType} {failedHost}:{failedPort} >> " + log};
    (*config)["PreFailoverProcesses"] = {"echo pre $ORC_FAILURE_TYPE $ORC_FAILED_PORT >> " + log};
    (*config)["PostMasterFailoverProcesses"] = {
        "echo post {failureType} {failedHost} {failedPort} {failureCluster} {successorHost} {successorPort} "
        "{successorBinlogCoordinates} {countReplicas} {isSuccessful} {recoveryUID} lost=[{lostReplicas}] "
        "$ORC_SUCCESSOR_PORT >> " +
        log};
    (*config)["PostUnsuccessfulFailoverProcesses"] = {"echo unsuccessful {failureType} >> " + log};
  }
  std::vector<std::string> HookLines() const {
    std::ifstream in(dir_ / "hooks.log");
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }

};

bool IsRecovery(const json& m, const std::string& step, const std::string& outcome) {
  return m.contains("recovery") && m["recovery"].value("step", "") == step &&
         m["recovery"].value("outcome", "") == outcome;
}

std::string Value(const Sandbox& sb, const std::string& server, const std::string& sql) {
  return Trimmed(sb.Run("sql -N " + server + " \"" + sql + "\""));
}

std::string SlaveField(const Sandbox& sb, const std::string& server, const std::string& field) {
  return sb.SlaveStatus(server, field);
}

// The replicas of the dead master replicate from the promoted one, which is
// writable; once they have applied everything, the data is equal.
void ExpectHealed(const Sandbox& sb, const std::string& successor_name, int successor_port,
                  const std::vector<std::string>& replicas) {
  EXPECT_EQ(Value(sb, successor_name, "SELECT @@read_only"), "0");
  EXPECT_EQ(SlaveField(sb, successor_name, "Slave_IO_Running"), "");  // replication reset
  for (const auto& r : replicas) {
    if (r == successor_name) continue;
    EXPECT_EQ(SlaveField(sb, r, "Master_Port"), std::to_string(successor_port)) << r;
    EXPECT_EQ(SlaveField(sb, r, "Slave_IO_Running"), "Yes") << r;
    EXPECT_EQ(SlaveField(sb, r, "Slave_SQL_Running"), "Yes") << r;
  }
  // Everything the successor has is applied everywhere, then compared.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  const std::string want = Value(sb, successor_name, "CHECKSUM TABLE tidewatch_load.load_rows");
  for (const auto& r : replicas) {
    if (r == successor_name) continue;
    std::string have;
    while (std::chrono::steady_clock::now() < deadline) {
      have = Value(sb, r, "CHECKSUM TABLE tidewatch_load.load_rows");
      if (have == want) break;
      std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(have, want) << r << " differs from " << successor_name;
  }
}

TEST_F(RecoveryTest, KillNineOfTheMasterPromotesTheMostAdvancedReplicaAndRunsTheHooksOnce) {
  // File and position replication with Pseudo-GTID; r3 stops receiving
  // before the last writes, so it is behind the others.
  Sandbox sb("m>r1,r2,r3", 25400, "--no-gtid");
  PrepareDir("recovery-kill");
  json config = Config(25400, 25480);
  AddHooks(&config);
  DaemonProcess& d = StartDaemon("recovery-kill", config, {"--recover"});
  ASSERT_TRUE(d.WaitSettled());
  sb.Run("load --seconds 2 --rate 300");
  sb.Sql("r3", "STOP SLAVE IO_THREAD");
  sb.Run("load --seconds 1 --rate 300");
  std::this_thread::sleep_for(1500ms);  // a Pseudo-GTID entry after the last write

  const auto killed = std::chrono::steady_clock::now();
  sb.Run("kill m");
  json done = d.WaitFor([](const json& m) { return IsRecovery(m, "recovery", "SUCCEEDED"); }, 60s);
  ASSERT_FALSE(done.is_null()) << "no successful recovery";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::cerr << "kill -9 to recovery SUCCEEDED (as read back here): " << seconds << " s\n";

  // The promoted replica is the most advanced one: r1 or r2, never r3.
  const std::string successor = done["recovery"]["instance"];
  ASSERT_TRUE(successor == "127.0.0.1:25401" || successor == "127.0.0.1:25402") << done.dump();
  const int successor_port = std::stoi(successor.substr(successor.rfind(':') + 1));
  const std::string successor_name = successor_port == 25401 ? "r1" : "r2";
  ExpectHealed(sb, successor_name, successor_port, {"r1", "r2", "r3"});

  // Every step was published under one recovery id.
  const std::string id = done["recovery"]["recovery_id"];
  size_t promote = 0, regroup = 0;
  for (const auto& m : d.Messages()) {
    if (!m.contains("recovery") || m["recovery"].value("recovery_id", "") != id) continue;
    promote += IsRecovery(m, "promote", "SUCCEEDED");
    regroup += IsRecovery(m, "regroup-replicas", "SUCCEEDED");
  }
  EXPECT_EQ(promote, 1u);
  EXPECT_EQ(regroup, 2u);

  // Each hook ran once, placeholders and environment filled.
  const auto hooks = HookLines();
  size_t detected = 0, pre = 0, post = 0;
  for (const auto& l : hooks) {
    detected += l.rfind("detected DeadMaster 127.0.0.1:25400", 0) == 0;
    pre += l == "pre DeadMaster 25400";
    if (l.rfind("post ", 0) == 0) {
      ++post;
      EXPECT_NE(l.find("post DeadMaster 127.0.0.1 25400 127.0.0.1:25400 127.0.0.1 " + std::to_string(successor_port)),
                std::string::npos)
          << l;
      EXPECT_NE(l.find(" true " + id + " lost=[] " + std::to_string(successor_port)), std::string::npos) << l;
      EXPECT_EQ(l.find('{'), std::string::npos) << "a placeholder left: " << l;
    }
  }
  EXPECT_EQ(detected, 1u);
  EXPECT_EQ(pre, 1u);
  EXPECT_EQ(post, 1u);

  // orchestrator's audit API shows it, not active, successful.
  auto audit = d.Get("/api/audit-recovery").Json();
  ASSERT_TRUE(audit.is_array() && !audit.empty()) << audit.dump();
  EXPECT_EQ(audit[0]["UID"], id);
  EXPECT_EQ(audit[0]["IsActive"], false);
  EXPECT_EQ(audit[0]["IsSuccessful"], true);
  EXPECT_EQ(audit[0]["SuccessorKey"]["Port"], successor_port);
  EXPECT_TRUE(d.Get("/api/audit-recovery/alias/no-such-alias").Json().empty());

  // The new master dies too, inside RecoveryPeriodBlockSeconds: blocked.
  sb.Run("kill " + successor_name);
  json blocked = d.WaitFor(
      [&](const json& m) {
        return IsRecovery(m, "recovery", "REFUSED") && m["source"].value("server", "") == successor &&
               m["recovery"].value("detail", "").find("blocked by recovery") != std::string::npos;
      },
      60s);
  ASSERT_FALSE(blocked.is_null()) << "the second failure was not refused as blocked";
  auto listed = d.Get("/api/blocked-recoveries").Json();
  EXPECT_FALSE(listed.empty()) << listed.dump();
  // Acknowledged: the next analysis of it is recovered.
  ASSERT_EQ(d.Get("/api/ack-all-recoveries").Json()["Code"], "OK");
  json second = d.WaitFor(
      [&](const json& m) {
        return IsRecovery(m, "recovery", "SUCCEEDED") && m["recovery"].value("recovery_id", "") != id;
      },
      60s);
  EXPECT_FALSE(second.is_null()) << "not recovered after the acknowledgement";
}

TEST_F(RecoveryTest, GtidReplicationIsRecoveredByGtidWithAKillInsideATransaction) {
  // MariaDB GTID replication (the sandbox's default); the master dies while
  // a multi-statement transaction is open on it.
  Sandbox sb("m>r1,r2,r3", 25440);
  auto& d = StartDaemon("gtid", Config(25440, 25484), {"--recover"});
  ASSERT_TRUE(d.WaitSettled());
  sb.Run("load --seconds 2 --rate 300");
  sb.Sql("r2", "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=1; START SLAVE");
  sb.Run("load --seconds 1 --rate 300");
  // An open transaction: its statements are not in the binlog until COMMIT.
  std::thread open_txn([&] {
    try {
      sb.Sql("m", "BEGIN; INSERT INTO tidewatch_load.load_rows (k, v) VALUES (0, 'open'); SELECT SLEEP(30); COMMIT");
    } catch (const std::exception&) {
      // the server is killed under it
    }
  });
  std::this_thread::sleep_for(1s);
  sb.Run("kill m");
  json done = d.WaitFor([](const json& m) { return IsRecovery(m, "recovery", "SUCCEEDED"); }, 60s);
  open_txn.join();
  ASSERT_FALSE(done.is_null()) << "no successful recovery";
  const std::string successor = done["recovery"]["instance"];
  const int port = std::stoi(successor.substr(successor.rfind(':') + 1));
  EXPECT_NE(port, 25442) << "the delayed replica was promoted";
  const std::string name = port == 25441 ? "r1" : port == 25442 ? "r2" : "r3";
  for (const auto& m : d.Messages()) {
    if (IsRecovery(m, "regroup-replicas", "SUCCEEDED")) EXPECT_EQ(m["recovery"]["detail"].get<std::string>().find("gtid") != std::string::npos, true) << m.dump();
  }
  sb.Sql("r2", "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE");
  ExpectHealed(sb, name, port, {"r1", "r2", "r3"});
  EXPECT_EQ(Value(sb, name, "SELECT COUNT(*) FROM tidewatch_load.load_rows WHERE v = 'open'"), "0");
}

TEST_F(RecoveryTest, DeadIntermediateMastersReplicasEndBelowItsMaster) {
  Sandbox sb("a>b;b>c,d", 25410, "--no-gtid");
  json config = Config(25410, 25481);
  auto& d = StartDaemon("intermediate", config, {"--recover"});
  ASSERT_TRUE(d.WaitSettled());
  sb.Run("load --seconds 1 --rate 200");
  std::this_thread::sleep_for(1500ms);
  sb.Run("kill b");
  json done = d.WaitFor([](const json& m) { return IsRecovery(m, "recovery", "SUCCEEDED"); }, 60s);
  ASSERT_FALSE(done.is_null()) << "no successful recovery";
  EXPECT_EQ(done["recovery"]["instance"], "127.0.0.1:25410");
  for (const char* r : {"c", "d"}) {
    EXPECT_EQ(SlaveField(sb, r, "Master_Port"), "25410") << r;
    EXPECT_EQ(SlaveField(sb, r, "Slave_SQL_Running"), "Yes") << r;
  }
  sb.Run("load --seconds 1 --rate 200");
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  const std::string want = Value(sb, "a", "CHECKSUM TABLE tidewatch_load.load_rows");
  for (const char* r : {"c", "d"}) {
    std::string have;
    while (std::chrono::steady_clock::now() < deadline) {
      have = Value(sb, r, "CHECKSUM TABLE tidewatch_load.load_rows");
      if (have == want) break;
      std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(have, want) << r;
  }
}

TEST_F(RecoveryTest, ADaemonRestartedWhileTheMasterIsDeadKnowsItAndRecovers) {
  Sandbox sb("m>r1,r2", 25430, "--no-gtid");
  auto& d = StartDaemon("restart", Config(25430, 25483), {"--recover"});
  ASSERT_TRUE(d.WaitSettled());
  sb.Run("load --seconds 1 --rate 200");
  // The model and the indexes are written every 10 s.
  std::this_thread::sleep_for(11s);
  d.Kill();
  sb.Run("kill m");
  const size_t before = d.Messages().size();
  // Only what the restarted daemon wrote.
  auto after = [&](const std::function<bool(const json&)>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto all = d.Messages();
      for (size_t i = before; i < all.size(); ++i) {
        if (pred(all[i])) return all[i];
      }
      std::this_thread::sleep_for(50ms);
    }
    return json();
  };
  const auto restarted = std::chrono::steady_clock::now();
  d.Start();
  json dead = after([](const json& m) { return IsAnalysis(m, "OPENED", "DeadMaster", "127.0.0.1:25430"); }, 30s);
  ASSERT_FALSE(dead.is_null()) << "no DeadMaster after the restart";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count();
  std::cerr << "restart to DeadMaster (as read back here): " << seconds << " s\n";
  EXPECT_LT(seconds, 10.0);
  json done = after([](const json& m) { return IsRecovery(m, "recovery", "SUCCEEDED"); }, 60s);
  ASSERT_FALSE(done.is_null()) << "not recovered after the restart";
  const std::string successor = done["recovery"]["instance"];
  const int port = std::stoi(successor.substr(successor.rfind(':') + 1));
  ExpectHealed(sb, port == 25431 ? "r1" : "r2", port, {"r1", "r2"});
  // Both survivors are streamed again.
  for (const char* k : {"127.0.0.1:25431", "127.0.0.1:25432"}) {
    EXPECT_FALSE(after(
                     [&](const json& m) {
                       return m.contains("stream") && m["source"].value("server", "") == k &&
                              m["stream"].value("state", "") == "STREAMING";
                     },
                     20s)
                     .is_null())
        << k;
  }
}

// An application writing as a user without SUPER (read_only stops it), one
// row per statement, each acknowledged row remembered.
class AppWriter {
 public:
  AppWriter(int port) : port_(port) {
    thread_ = std::thread([this] {
      for (int i = 1; !stop_; ++i) {
        const auto r = RunCommand("mariadb -h127.0.0.1 -P" + std::to_string(port_) +
                                  " -uapp -papp -e \"INSERT INTO tidewatch_load.load_rows (k, v) VALUES (" +
                                  std::to_string(i) + ", 'app')\" 2>&1");
        (r.status == 0 ? acknowledged_ : refused_)++;
        if (r.status != 0) {
          std::lock_guard<std::mutex> lock(mu_);
          last_error_ = r.out;
        }
      }
    });
  }
  ~AppWriter() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int acknowledged() const { return acknowledged_; }
  int refused() const { return refused_; }
  std::string last_error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_error_;
  }
  // Waits until `n` writes were acknowledged (false after `timeout`).
  bool WaitAcknowledged(int n, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (acknowledged_ < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return acknowledged_ >= n;
  }

 private:
  int port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acknowledged_{0}, refused_{0};
  mutable std::mutex mu_;
  std::string last_error_;
  std::thread thread_;
};

TEST_F(RecoveryTest, GracefulMasterTakeoverUnderLoadLosesNothingAndTheOldMasterFollows) {
  Sandbox sb("m>r1,r2,r3", 25450, "--no-gtid");
  PrepareDir("takeover");
  json config = Config(25450, 25485);
  config["ReplicationCredentialsQuery"] = "SELECT 'repl', 'repl'";
  const std::string log = (dir_ / "hooks.log").string();
  config["PreGracefulTakeoverProcesses"] = {"echo pre {failureType} {failedPort} {successorPort} >> " + log};
  config["PostGracefulTakeoverProcesses"] = {
      "echo post {command} {failedPort} {successorPort} {successorBinlogCoordinates} {isSuccessful} >> " + log};
  auto& d = StartDaemon("takeover", config, {"--recover"});
  sb.Run("load --seconds 1 --rate 200");
  sb.Sql("m", "CREATE USER app@'127.0.0.1' IDENTIFIED BY 'app'; "
              "GRANT SELECT, INSERT, UPDATE, DELETE ON tidewatch_load.* TO app@'127.0.0.1'");
  ASSERT_TRUE(d.WaitSettled());
  const std::string api = " --api 127.0.0.1:25485";
  const std::string tw = std::string(TIDEWATCH_BINARY) + " ";

  // Three replicas and no designated one: refused, nothing changed.
  auto refused = RunCommand(tw + "graceful-master-takeover -a 127.0.0.1:25450" + api + " 2>&1");
  EXPECT_NE(refused.status, 0) << refused.out;
  EXPECT_NE(refused.out.find("name the designated one"), std::string::npos) << refused.out;
  EXPECT_EQ(Value(sb, "m", "SELECT @@read_only"), "0");

  AppWriter writer(25450);
  // The takeover happens under load: the application is writing already.
  ASSERT_TRUE(writer.WaitAcknowledged(10, 20s)) << writer.acknowledged() << " acknowledged, " << writer.refused()
                                                 << " refused, the last: " << writer.last_error();
  const auto begun = std::chrono::steady_clock::now();
  auto r = RunCommand(tw + "graceful-master-takeover -a 127.0.0.1:25450 -d 127.0.0.1:25451 --json" + api + " 2>&1");
  std::cerr << "graceful-master-takeover under load, as the command saw it: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - begun).count() << " s\n";
  std::this_thread::sleep_for(500ms);
  writer.Stop();
  ASSERT_EQ(r.status, 0) << r.out;
  const json answer = json::parse(r.out);
  EXPECT_EQ(answer["Details"]["SuccessorKey"]["Port"], 25451) << r.out;
  EXPECT_GE(writer.acknowledged(), 10);
  EXPECT_GT(writer.refused(), 0) << "the writer never met the read-only old master";

  // r1 is the master; r2, r3 and the old master replicate from it; the old
  // master stays read-only.
  EXPECT_EQ(Value(sb, "r1", "SELECT @@read_only"), "0");
  EXPECT_EQ(SlaveField(sb, "r1", "Slave_IO_Running"), "");
  EXPECT_EQ(Value(sb, "m", "SELECT @@read_only"), "1");
  for (const char* k : {"r2", "r3", "m"}) {
    EXPECT_EQ(SlaveField(sb, k, "Master_Port"), "25451") << k;
    EXPECT_EQ(SlaveField(sb, k, "Slave_IO_Running"), "Yes") << k;
    EXPECT_EQ(SlaveField(sb, k, "Slave_SQL_Running"), "Yes") << k;
  }
  // Every acknowledged row is on the new master; writes there reach everyone.
  EXPECT_EQ(Value(sb, "r1", "SELECT COUNT(*) FROM tidewatch_load.load_rows WHERE v = 'app'"),
            std::to_string(writer.acknowledged()));
  sb.Run("load --seconds 1 --rate 200 --target r1");
  ExpectHealed(sb, "r1", 25451, {"r1", "r2", "r3", "m"});

  // The hooks ran once each, around it.
  std::vector<std::string> hooks;
  {
    std::ifstream in(log);
    for (std::string l; std::getline(in, l);) hooks.push_back(l);
  }
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[0], "pre GracefulMasterTakeover 25450 25451");
  EXPECT_EQ(hooks[1].rfind("post graceful-master-takeover 25450 25451 ", 0), 0u) << hooks[1];
  EXPECT_NE(hooks[1].find(" true"), std::string::npos) << hooks[1];

  // Back to m, chosen by graceful-master-takeover-auto among r2, r3 and m
  // (all caught up; any may be chosen): one writable master, everyone below it.
  ASSERT_EQ(d.Get("/api/ack-all-recoveries").Json()["Code"], "OK");
  auto back = RunCommand(tw + "graceful-master-takeover-auto -i 127.0.0.1:25451 --json" + api + " 2>&1");
  ASSERT_EQ(back.status, 0) << back.out;
  const int port = json::parse(back.out)["Details"]["SuccessorKey"]["Port"];
  ASSERT_TRUE(port == 25450 || port == 25452 || port == 25453) << back.out;
  const std::string name = port == 25450 ? "m" : port == 25452 ? "r2" : "r3";
  sb.Run("load --seconds 1 --rate 200 --target " + name);
  ExpectHealed(sb, name, port, {"m", "r1", "r2", "r3"});
}

TEST_F(RecoveryTest, ForceMasterTakeoverFencesTheAnsweringMasterAndPromotesTheDesignatedReplica) {
  // GTID replication: the replicas are moved by GTID.
  Sandbox sb("m>r1,r2", 25460);
  auto& d = StartDaemon("force", Config(25460, 25486), {"--recover"});
  sb.Run("load --seconds 1 --rate 200");
  ASSERT_TRUE(d.WaitSettled());
  auto r = RunCommand(std::string(TIDEWATCH_BINARY) +
                      " force-master-takeover -a 127.0.0.1:25460 -d 127.0.0.1:25462 --json --api 127.0.0.1:25486 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(json::parse(r.out)["Details"]["SuccessorKey"]["Port"], 25462) << r.out;
  EXPECT_EQ(Value(sb, "m", "SELECT @@read_only"), "1");  // fenced, left alone otherwise
  sb.Run("load --seconds 1 --rate 200 --target r2");
  ExpectHealed(sb, "r2", 25462, {"r1", "r2"});
}

TEST_F(RecoveryTest, MustNotOnTheMostAdvancedReplicaPromotesAnotherWithEveryTransaction) {
  // r1 is the most advanced and registered must_not: it serves the others
  // until r2 or r3 has all it has, then hands over (two-phase promotion).
  Sandbox sb("m>r1,r2,r3", 25470, "--no-gtid");
  auto& d = StartDaemon("rules", Config(25470, 25487), {"--recover"});
  ASSERT_TRUE(d.WaitSettled());
  auto reg = RunCommand(std::string(TIDEWATCH_BINARY) +
                        " register-candidate -i 127.0.0.1:25471 --promotion-rule must_not --api 127.0.0.1:25487 2>&1");
  ASSERT_EQ(reg.status, 0) << reg.out;
  auto bad = RunCommand(std::string(TIDEWATCH_BINARY) +
                        " register-candidate -i 127.0.0.1:25472 --promotion-rule maybe --api 127.0.0.1:25487 2>&1");
  EXPECT_NE(bad.status, 0) << bad.out;
  sb.Run("load --seconds 1 --rate 300");
  sb.Sql("r2", "STOP SLAVE IO_THREAD");
  sb.Sql("r3", "STOP SLAVE IO_THREAD");
  sb.Run("load --seconds 1 --rate 300");
  std::this_thread::sleep_for(1500ms);  // a Pseudo-GTID entry after the last write
  const std::string most = Value(sb, "r1", "CHECKSUM TABLE tidewatch_load.load_rows");
  ASSERT_NE(most, Value(sb, "r2", "CHECKSUM TABLE tidewatch_load.load_rows"));
  sb.Run("kill m");
  json done = d.WaitFor([](const json& m) { return IsRecovery(m, "recovery", "SUCCEEDED"); }, 90s);
  ASSERT_FALSE(done.is_null()) << "no successful recovery";
  const std::string successor = done["recovery"]["instance"];
  ASSERT_TRUE(successor == "127.0.0.1:25472" || successor == "127.0.0.1:25473") << done.dump();
  const int port = std::stoi(successor.substr(successor.rfind(':') + 1));
  const std::string name = port == 25472 ? "r2" : "r3";
  size_t handover = 0;
  for (const auto& m : d.Messages()) {
    handover += IsRecovery(m, "handover:promote", "SUCCEEDED");
  }
  EXPECT_EQ(handover, 1u);
  EXPECT_EQ(done["recovery"]["detail"].get<std::string>().find("lost"), std::string::npos) << done.dump();
  // Nothing r1 had is lost: the successor has it, r1 replicates from it.
  EXPECT_EQ(Value(sb, name, "CHECKSUM TABLE tidewatch_load.load_rows"), most);
  ExpectHealed(sb, name, port, {"r1", "r2", "r3"});
}

TEST_F(RecoveryTest, PreventCrossDataCenterMasterFailoverKeepsTheMasterInItsDataCenter) {
  // r1, the most advanced, is in another data center (DetectDataCenterQuery):
  // r2 is promoted after r1 handed everything over to it.
  Sandbox sb("m>r1,r2", 25476, "--no-gtid");
  json config = Config(25476, 25488);
  config["DetectDataCenterQuery"] = "SELECT IF(@@port = 25477, 'dc2', 'dc1')";
  config["DetectClusterDomainQuery"] = "SELECT 'db.example.com'";
  config["PreventCrossDataCenterMasterFailover"] = true;
  auto& d = StartDaemon("datacenter", config, {"--recover"});
  ASSERT_TRUE(d.WaitSettled());
  const json r1 = d.Get("/api/instance/127.0.0.1/25477").Json();
  EXPECT_EQ(r1["DataCenter"], "dc2") << r1.dump();
  const json info = d.Get("/api/cluster-info/127.0.0.1:25476").Json();
  EXPECT_EQ(info["ClusterDomain"], "db.example.com") << info.dump();
  sb.Run("load --seconds 1 --rate 300");
  sb.Sql("r2", "STOP SLAVE IO_THREAD");
  sb.Run("load --seconds 1 --rate 300");
  std::this_thread::sleep_for(1500ms);
  const std::string most = Value(sb, "r1", "CHECKSUM TABLE tidewatch_load.load_rows");
  sb.Run("kill m");
  json done = d.WaitFor([](const json& m) { return IsRecovery(m, "recovery", "SUCCEEDED"); }, 90s);
  ASSERT_FALSE(done.is_null()) << "no successful recovery";
  EXPECT_EQ(done["recovery"]["instance"], "127.0.0.1:25478") << done.dump();
  EXPECT_EQ(Value(sb, "r2", "CHECKSUM TABLE tidewatch_load.load_rows"), most);
  ExpectHealed(sb, "r2", 25478, {"r1", "r2"});
}

TEST_F(RecoveryTest, AClusterOutsideTheFiltersIsRefusedWithTheReason) {
  Sandbox sb("m>r1", 25420, "--no-gtid");
  json config = Config(25420, 25482);
  config["RecoverMasterClusterFilters"] = {"^no-such-cluster$"};
  auto& d = StartDaemon("filtered", config, {"--recover"});
  ASSERT_TRUE(d.WaitSettled());
  sb.Run("kill m");
  json refused = d.WaitFor([](const json& m) { return IsRecovery(m, "recovery", "REFUSED"); }, 60s);
  ASSERT_FALSE(refused.is_null());
  EXPECT_NE(refused["recovery"]["detail"].get<std::string>().find("RecoverMasterClusterFilters"), std::string::npos);
  EXPECT_EQ(SlaveField(sb, "r1", "Master_Port"), "25420");  // untouched
  auto info = d.Get("/api/clusters-info").Json();
  ASSERT_TRUE(info.is_array() && !info.empty()) << info.dump();
  EXPECT_EQ(info[0]["HasAutomatedMasterRecovery"], false);

  // orchestrator's manual `recover -i`: done whatever the filters say.
  const std::string cli = std::string(TIDEWATCH_BINARY) + " recover -i 127.0.0.1:25420 --api 127.0.0.1:25482";
  auto r = RunCommand(cli + " 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Recovered: 127.0.0.1:25420"), std::string::npos) << r.out;
  EXPECT_EQ(Value(sb, "r1", "SELECT @@read_only"), "0");
  EXPECT_EQ(SlaveField(sb, "r1", "Slave_IO_Running"), "");
  auto audit = RunCommand(std::string(TIDEWATCH_BINARY) + " audit-recovery --json --api 127.0.0.1:25482");
  ASSERT_EQ(audit.status, 0) << audit.out;
  auto records = json::parse(audit.out);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records[0]["IsSuccessful"], true);
  EXPECT_EQ(records[0]["SuccessorKey"]["Port"], 25421);
  // The global switch.
  EXPECT_EQ(RunCommand(std::string(TIDEWATCH_BINARY) + " disable-global-recoveries --api 127.0.0.1:25482").status, 0);
  auto check = RunCommand(std::string(TIDEWATCH_BINARY) + " check-global-recoveries --api 127.0.0.1:25482");
  EXPECT_NE(check.out.find("disabled"), std::string::npos) << check.out;
}

// `tidewatch recovery-consumer --api`: no Kafka anywhere. The daemon only
// detects; the consumer follows its /api/stream, re-checks each analysis
// against a view of its own, and heals the topology.
TEST_F(RecoveryTest, ARecoveryConsumerFollowingTheDaemonsStreamHealsTheTopology) {
  Sandbox sb("m>r1,r2", 25530, "--no-gtid");
  json config = Config(25530, 25535);
  config["RecoveryConsumer"] = "external";  // recovered by a consumer process
  auto& d = StartDaemon("consumer-api", config);
  const auto consumer_dir = dir_ / "consumer";
  json consumer_config = Config(25530, 25536);
  consumer_config["TidewatchServerId"] = 990100;
  DaemonProcess consumer(consumer_dir, consumer_config,
                         {"--api", "127.0.0.1:25535", "--listen", "127.0.0.1:25536", "--jsonl",
                          (consumer_dir / "messages.jsonl").string()},
                         "recovery-consumer");
  ASSERT_TRUE(d.WaitSettled()) << d.Log();
  ASSERT_TRUE(consumer.WaitSettled()) << consumer.Log();
  std::this_thread::sleep_for(1s);  // the consumer follows the daemon's stream
  // The daemon says truthfully that its clusters are recovered, although not by itself.
  auto info = d.Get("/api/clusters-info").Json();
  ASSERT_TRUE(info.is_array() && !info.empty()) << info.dump();
  EXPECT_EQ(info[0]["HasAutomatedMasterRecovery"], true);
  sb.Run("load --seconds 1 --rate 200");
  sb.Run("kill m");
  json done = consumer.WaitFor([](const json& m) { return IsRecovery(m, "recovery", "SUCCEEDED"); }, 60s);
  ASSERT_FALSE(done.is_null()) << consumer.Log();
  const std::string successor = done["recovery"]["instance"];
  const std::string name = successor == "127.0.0.1:25531" ? "r1" : "r2";
  ExpectHealed(sb, name, std::stoi(successor.substr(successor.rfind(':') + 1)), {"r1", "r2"});
  // The daemon published the analysis and did nothing else.
  EXPECT_TRUE(d.WaitFor([](const json& m) { return m.contains("recovery"); }, 1s).is_null());
  EXPECT_FALSE(d.WaitFor([](const json& m) {
                  return m.contains("analysis") && m["analysis"].value("code", "") == "DeadMaster";
                }, 1s).is_null());
  // The consumer's own messages are its recovery steps only.
  for (const auto& m : consumer.Messages()) EXPECT_TRUE(m.contains("recovery")) << m.dump();
  if (HasFailure()) std::cerr << "consumer log:\n" << consumer.Log() << "\n";
}

}  // namespace
}  // namespace tidewatch::testing
