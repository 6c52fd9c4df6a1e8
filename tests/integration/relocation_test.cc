// The relocation commands against real MariaDB topologies (sandbox):
// regroup after the master is killed, match-up in a chain whose middle
// server died, and the refusals. Each test drives the `tidewatch` command as
// a user would and checks the servers afterwards.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "pgtid/mariadb_gtid_position.h"
#include "tests/integration/cli_topology.h"

namespace tidewatch::testing {
namespace {

using nlohmann::json;

// Master and three replicas under load with Pseudo-GTID; the replicas stop
// receiving at different points; the master is killed mid-load; regroup
// makes the most advanced replica the master of the others, through the
// replica's own binlog (r2) and through the relay log (r3: no
// log_slave_updates); the new master takes the load; all agree.
TEST(RelocationTest, RegroupAfterMasterKilled) {
  Topology t("m>r1,r2,r3[nolsu]", 24800, "--no-gtid --pseudo-gtid-interval 1");
  auto& sb = t.sandbox();
  sb.Run("load --seconds 2 --rate 200");
  sb.Sql("r2", "STOP SLAVE IO_THREAD");
  sb.Run("load --seconds 2 --rate 200");
  sb.Sql("r3", "STOP SLAVE IO_THREAD");
  sb.Run("load --seconds 2 --rate 200");
  // The kill lands while the load writes and while a transaction is open.
  sb.Sql("m", "CREATE TABLE tidewatch_load.open_trx (id INT PRIMARY KEY)");
  RunCommand("(" + std::string("python3 ") + TIDEWATCH_SOURCE_DIR + "/tools/sandbox/tidewatch-sandbox --dir " +
             sb.dir().string() +
             " sql m 'BEGIN; INSERT INTO tidewatch_load.open_trx VALUES (1); SELECT SLEEP(60); COMMIT'"
             " >/dev/null 2>&1 &)");
  RunCommand("(" + std::string("python3 ") + TIDEWATCH_SOURCE_DIR + "/tools/sandbox/tidewatch-sandbox --dir " +
             sb.dir().string() + " load --seconds 3 --rate 300 >/dev/null 2>&1 &)");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  sb.Run("kill m");
  const std::string m = t.Addr("m"), r1 = t.Addr("r1"), r2 = t.Addr("r2"), r3 = t.Addr("r3");
  int status = -1;
  json out = t.Tidewatch("regroup-replicas -i " + m + " --replicas " + r1 + "," + r2 + "," + r3, &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  EXPECT_EQ(out["candidate"], r1) << out.dump(2);
  ASSERT_EQ(out["moves"].size(), 2u) << out.dump(2);
  std::map<std::string, json> moves;
  for (const auto& mv : out["moves"]) moves[mv["instance"]] = mv;
  for (const auto& r : {r2, r3}) {
    const json& mv = moves[r];
    EXPECT_TRUE(mv["moved"].get<bool>()) << mv.dump(2);
    EXPECT_EQ(mv["method"], "pseudo-gtid");
    EXPECT_EQ(mv["destination"], r1);
    EXPECT_EQ(mv["events_compared"], mv["events_after_entry"]) << mv.dump(2);
  }
  EXPECT_EQ(moves[r2]["position_from"], "own-binlog");
  EXPECT_EQ(moves[r3]["position_from"], "relay-log");
  // The replicas were at different points: r2 stopped receiving first.
  auto pos = [](const json& mv) {
    const json& c = mv["previous_coordinates"];
    return std::make_pair(c["file"].get<std::string>(), c["pos"].get<uint64_t>());
  };
  EXPECT_LT(pos(moves[r2]), pos(moves[r3]));
  for (const char* r : {"r2", "r3"}) {
    EXPECT_EQ(Status(t, r, "Master_Port"), r1.substr(r1.find(':') + 1)) << r;
  }

  // Promote r1; the load resumes on it.
  sb.Sql("r1", "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=0");
  sb.Run("load --target r1 --seconds 2 --rate 200");
  t.WaitCaughtUp("r1", {"r2", "r3"});
  for (const char* r : {"r2", "r3"}) {
    EXPECT_EQ(Status(t, r, "Slave_SQL_Running"), "Yes") << r;
    EXPECT_EQ(Status(t, r, "Last_SQL_Error"), "") << r;
  }
  const std::string sum = t.Checksum("r1");
  EXPECT_NE(sum.find("load_rows"), std::string::npos);
  EXPECT_EQ(t.Checksum("r2"), sum);
  EXPECT_EQ(t.Checksum("r3"), sum);
  // The transaction open at the kill was never committed: nowhere.
  for (const char* r : {"r1", "r2", "r3"}) {
    EXPECT_EQ(t.Value(r, "SELECT COUNT(*) FROM tidewatch_load.open_trx"), "0") << r;
  }
}

// The replica that does not log its updates, placed from its relay log read
// over SQL (SHOW RELAYLOG EVENTS) — what works when Tidewatch does not run on
// the replica's host — after the master died: the destination's events are
// counted, MariaDB's GTIDs check the match, and the data agree afterwards.
TEST(RelocationTest, RelayLogOverSqlPlacesAReplicaWhenTheMasterIsDead) {
  Topology t("m>r1,r2[nolsu]", 24880, "--no-gtid --pseudo-gtid-interval 1");
  auto& sb = t.sandbox();
  sb.Run("load --seconds 2 --rate 200");
  sb.Sql("r2", "STOP SLAVE IO_THREAD");
  sb.Run("load --seconds 2 --rate 200");
  t.WaitCaughtUp("m", {"r1"});
  sb.Run("kill m");
  const std::string r1 = t.Addr("r1"), r2 = t.Addr("r2");
  int status = -1;
  json mv = t.Tidewatch("match-below --local --relay-log events -i " + r2 + " -s " + r1, &status);
  ASSERT_EQ(status, 0) << mv.dump(2);
  EXPECT_TRUE(mv["moved"].get<bool>()) << mv.dump(2);
  EXPECT_EQ(mv["position_from"], "relay-log-events") << mv.dump(2);
  EXPECT_EQ(mv["events_compared"], 0) << mv.dump(2);
  EXPECT_GT(mv["events_after_entry"].get<int>(), 0) << mv.dump(2);
  EXPECT_NE(mv["verified"].get<std::string>().find("is the instance's last"), std::string::npos) << mv.dump(2);
  sb.Sql("r1", "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=0");
  sb.Run("load --target r1 --seconds 1 --rate 200");
  t.WaitCaughtUp("r1", {"r2"});
  EXPECT_EQ(Status(t, "r2", "Last_SQL_Error"), "");
  EXPECT_EQ(t.Checksum("r2"), t.Checksum("r1"));
}

// A chain a>b>c: b dies; c moves up below a, found as the server that wrote
// c's last transactions; it then replicates a's new writes.
TEST(RelocationTest, MatchUpWhenIntermediateMasterDied) {
  Topology t("a>b>c", 24820, "--no-gtid --pseudo-gtid-interval 1");
  auto& sb = t.sandbox();
  sb.Run("load --seconds 3 --rate 200");
  t.WaitCaughtUp("a", {"b", "c"});
  sb.Run("kill b");
  const std::string a = t.Addr("a"), c = t.Addr("c");
  int status = -1;
  json mv = t.Tidewatch("match-up -i " + c + " --replicas " + a, &status);
  ASSERT_EQ(status, 0) << mv.dump(2);
  EXPECT_TRUE(mv["moved"].get<bool>());
  EXPECT_EQ(mv["destination"], a);
  EXPECT_EQ(mv["method"], "pseudo-gtid");
  sb.Run("load --seconds 1 --rate 200");
  t.WaitCaughtUp("a", {"c"});
  EXPECT_EQ(t.Checksum("c"), t.Checksum("a"));
}

// Refusals change nothing: the replica keeps replicating from its master.
TEST(RelocationTest, Refusals) {
  Topology t("m>r1,r2[format=STATEMENT],r3", 24840, "--pseudo-gtid-interval 1");
  auto& sb = t.sandbox();
  const std::string r1 = t.Addr("r1"), r2 = t.Addr("r2"), r3 = t.Addr("r3"), m = t.Addr("m");
  sb.Run("load --seconds 2 --rate 200");
  t.WaitCaughtUp("m", {"r1", "r2", "r3"});
  int status = -1;

  json mv = t.Tidewatch("match-below -i " + r2 + " -s " + r1, &status);
  EXPECT_EQ(status, 1);
  EXPECT_FALSE(mv["moved"].get<bool>());
  EXPECT_NE(mv["refused"].get<std::string>().find("binlog formats differ"), std::string::npos) << mv.dump(2);

  // r1 stops; r3 goes on: r1 is behind r3, by GTID and by Pseudo-GTID.
  sb.Sql("r1", "STOP SLAVE");
  sb.Run("load --seconds 2 --rate 200");
  t.WaitCaughtUp("m", {"r3"});
  for (const char* method : {"pseudo-gtid", "gtid"}) {
    mv = t.Tidewatch(std::string("match-below --method ") + method + " -i " + r3 + " -s " + r1, &status);
    EXPECT_EQ(status, 1) << method;
    EXPECT_FALSE(mv["moved"].get<bool>()) << method;
    EXPECT_NE(mv["refused"].get<std::string>().find("behind"), std::string::npos) << mv.dump(2);
    EXPECT_EQ(Status(t, "r3", "Master_Port"), m.substr(m.find(':') + 1));
    EXPECT_EQ(Status(t, "r3", "Slave_SQL_Running"), "Yes");
    EXPECT_EQ(Status(t, "r3", "Slave_IO_Running"), "Yes");
  }

  // Once r1 has caught up, the same move is made (GTID: r3 uses it).
  sb.Sql("r1", "START SLAVE");
  t.WaitCaughtUp("m", {"r1"});
  mv = t.Tidewatch("match-below -i " + r3 + " -s " + r1, &status);
  EXPECT_EQ(status, 0) << mv.dump(2);
  EXPECT_EQ(mv["method"], "gtid");
  EXPECT_EQ(Status(t, "r3", "Master_Port"), r1.substr(r1.find(':') + 1));
}

// multi-match-replicas: the replicas of m, stopped at different points,
// placed below r1 by one read of r1's binlog.
TEST(RelocationTest, MultiMatchReplicas) {
  Topology t("m>r1,r2,r3", 24880, "--no-gtid --pseudo-gtid-interval 1");
  auto& sb = t.sandbox();
  sb.Run("load --seconds 2 --rate 200");
  sb.Sql("r2", "STOP SLAVE");
  sb.Run("load --seconds 2 --rate 200");
  sb.Sql("r3", "STOP SLAVE");
  sb.Run("load --seconds 1 --rate 200");
  t.WaitCaughtUp("m", {"r1"});
  const std::string m = t.Addr("m"), r1 = t.Addr("r1"), r2 = t.Addr("r2"), r3 = t.Addr("r3");
  int status = -1;
  // Stopped replicas are not in the master's SHOW SLAVE HOSTS: they are named.
  json out = t.Tidewatch("multi-match-replicas -i " + m + " -s " + r1 + " --replicas " + r2 + "," + r3, &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  ASSERT_EQ(out["moves"].size(), 2u) << out.dump(2);
  std::set<std::string> moved;
  for (const auto& mv : out["moves"]) {
    EXPECT_TRUE(mv["moved"].get<bool>()) << mv.dump(2);
    EXPECT_EQ(mv["method"], "pseudo-gtid");
    EXPECT_EQ(mv["events_compared"], mv["events_after_entry"]);
    moved.insert(mv["instance"].get<std::string>());
  }
  EXPECT_EQ(moved, (std::set<std::string>{r2, r3}));
  sb.Run("load --seconds 1 --rate 200");
  t.WaitCaughtUp("m", {"r1", "r2", "r3"});
  const std::string sum = t.Checksum("m");
  for (const char* r : {"r1", "r2", "r3"}) EXPECT_EQ(t.Checksum(r), sum) << r;
  for (const char* r : {"r2", "r3"}) EXPECT_EQ(Status(t, r, "Master_Port"), r1.substr(r1.find(':') + 1)) << r;
}

// An index kept in the store outlives its server: after the master is
// killed, the replica without log_slave_updates is placed from the master's
// stored index (not from its relay log).
TEST(RelocationTest, StoredIndexOfADeadMaster) {
  Topology t("m>r1,r2[nolsu]", 24900, "--no-gtid --pseudo-gtid-interval 1");
  auto& sb = t.sandbox();
  const std::string store = (sb.dir() / "index.db").string();
  sb.Run("load --seconds 2 --rate 200");
  sb.Sql("r2", "STOP SLAVE IO_THREAD");
  sb.Run("load --seconds 2 --rate 200");
  int status = -1;
  json last = t.Tidewatch("last-pseudo-gtid -i " + t.Addr("m") + " --index-store " + store, &status);
  ASSERT_EQ(status, 0) << last.dump(2);
  // A second run resumes from the store (verified against the live server).
  json again = t.Tidewatch("last-pseudo-gtid -i " + t.Addr("m") + " --index-store " + store, &status);
  ASSERT_EQ(status, 0);
  EXPECT_GE(again["events_indexed"].get<uint64_t>(), last["events_indexed"].get<uint64_t>());
  EXPECT_GE(again["entries_indexed"].get<uint64_t>(), last["entries_indexed"].get<uint64_t>());
  t.WaitCaughtUp("m", {"r1"});
  (void)t.Tidewatch("last-pseudo-gtid -i " + t.Addr("m") + " --index-store " + store, &status);
  sb.Run("kill m");
  json out = t.Tidewatch("regroup-replicas -i " + t.Addr("m") + " --replicas " + t.Addr("r1") + "," + t.Addr("r2") +
                             " --index-store " + store,
                         &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  ASSERT_EQ(out["moves"].size(), 1u) << out.dump(2);
  EXPECT_EQ(out["moves"][0]["instance"], t.Addr("r2"));
  EXPECT_EQ(out["moves"][0]["position_from"], "master-index") << out.dump(2);
  EXPECT_EQ(out["moves"][0]["events_compared"], out["moves"][0]["events_after_entry"]);
  sb.Sql("r1", "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=0");
  sb.Run("load --target r1 --seconds 1 --rate 200");
  t.WaitCaughtUp("r1", {"r2"});
  EXPECT_EQ(t.Checksum("r2"), t.Checksum("r1"));
}

// No Pseudo-GTID entry at or before the replica's position: refused, with
// every source that was tried.
TEST(RelocationTest, RefusedWithoutPseudoGtid) {
  Topology t("m>r1,r2", 24860, "--no-gtid --pseudo-gtid-interval 0");
  auto& sb = t.sandbox();
  sb.Run("load --seconds 1 --rate 100");
  t.WaitCaughtUp("m", {"r1", "r2"});
  int status = -1;
  json mv = t.Tidewatch("match-below -i " + t.Addr("r2") + " -s " + t.Addr("r1"), &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(mv["method"], "pseudo-gtid");
  EXPECT_NE(mv["refused"].get<std::string>().find("no Pseudo-GTID entry"), std::string::npos) << mv.dump(2);
  EXPECT_EQ(Status(t, "r2", "Slave_SQL_Running"), "Yes");

  // Tidewatch's own injection provides the entry; then the move is made.
  json injected = t.Tidewatch("inject-pseudo-gtid -i " + t.Addr("m"), &status);
  ASSERT_EQ(status, 0);
  sb.Run("load --seconds 1 --rate 100");
  t.WaitCaughtUp("m", {"r1", "r2"});
  mv = t.Tidewatch("match-below -i " + t.Addr("r2") + " -s " + t.Addr("r1"), &status);
  EXPECT_EQ(status, 0) << mv.dump(2);
  EXPECT_EQ(mv["pseudo_gtid_entry"], injected["injected"]) << mv.dump(2);
  EXPECT_GT(mv["events_after_entry"].get<uint64_t>(), 0u);

  // Never into a read-only server.
  sb.Sql("r1", "SET GLOBAL read_only=1");
  const std::string before = t.Value("r1", "SELECT @@gtid_binlog_pos");
  t.Tidewatch("inject-pseudo-gtid -i " + t.Addr("r1"), &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(t.Value("r1", "SELECT @@gtid_binlog_pos"), before);
}

}  // namespace
}  // namespace tidewatch::testing
