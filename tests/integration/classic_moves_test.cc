// The file:pos moves (move-up, move-below, take-master, make-co-master,
// repoint, move-up-replicas) and relocate's choice among them, against real
// MariaDB topologies under a write load, driven through the `tidewatch`
// command. Afterwards every server replicates without error from whom it
// should, and the data agree everywhere (CHECKSUM TABLE).
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/integration/cli_topology.h"

namespace tidewatch::testing {
namespace {

using nlohmann::json;

std::string PortOf(const std::string& addr) { return addr.substr(addr.find(':') + 1); }

// A write load on the master for `seconds`, in the background.
void LoadInBackground(Topology& t, int seconds) {
  RunCommand("(python3 " + std::string(TIDEWATCH_SOURCE_DIR) + "/tools/sandbox/tidewatch-sandbox --dir " +
             t.sandbox().dir().string() + " load --seconds " + std::to_string(seconds) +
             " --rate 200 >/dev/null 2>&1 &)");
}

void ExpectReplicating(Topology& t, const std::string& server, const std::string& master) {
  EXPECT_EQ(Status(t, server, "Master_Port"), PortOf(t.Addr(master))) << server;
  EXPECT_EQ(Status(t, server, "Slave_IO_Running"), "Yes") << server;
  EXPECT_EQ(Status(t, server, "Slave_SQL_Running"), "Yes") << server;
  EXPECT_EQ(Status(t, server, "Last_SQL_Error"), "") << server;
}

void ExpectSameData(Topology& t, const std::vector<std::string>& servers) {
  const std::string sum = t.Checksum(servers.front());
  EXPECT_NE(sum.find("load_rows"), std::string::npos) << sum;
  for (const auto& s : servers) EXPECT_EQ(t.Checksum(s), sum) << s;
}

// By file and position (no GTID, no Pseudo-GTID): each move under load, each
// checked in MariaDB, and relocate choosing move-up or move-below by the
// geometry — or refusing what needs more than one step.
TEST(ClassicMovesTest, FilePosMovesUnderLoad) {
  Topology t("m>r1,r2;r1>r3", 30700, "--no-gtid --pseudo-gtid-interval 0");
  const std::string m = t.Addr("m"), r1 = t.Addr("r1"), r2 = t.Addr("r2"), r3 = t.Addr("r3");
  t.sandbox().Run("load --seconds 1 --rate 200");
  LoadInBackground(t, 12);
  int status = -1;

  json out = t.Tidewatch("move-up -i " + r3 + " --local", &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  EXPECT_EQ(out["method"], "file:pos");
  EXPECT_EQ(out["destination"], m);
  EXPECT_EQ(out["from_master"], r1);
  ExpectReplicating(t, "r3", "m");

  out = t.Tidewatch("move-below -i " + r3 + " -s " + r2 + " --local", &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  EXPECT_EQ(out["coordinates"]["file"].get<std::string>().rfind("r2-bin.", 0), 0u) << out.dump(2);
  ExpectReplicating(t, "r3", "r2");

  // r3 below r2, r1 its uncle: no single file:pos step gets there.
  out = t.Tidewatch("relocate -i " + r3 + " -d " + r1 + " --local", &status);
  EXPECT_EQ(status, 1) << out.dump(2);
  EXPECT_NE(out.value("refused", "").find("too complex"), std::string::npos) << out.dump(2);
  ExpectReplicating(t, "r3", "r2");

  out = t.Tidewatch("relocate -i " + r3 + " -d " + m + " --local", &status);  // the grandparent: move-up
  ASSERT_EQ(status, 0) << out.dump(2);
  ExpectReplicating(t, "r3", "m");
  out = t.Tidewatch("relocate -i " + r3 + " -d " + r1 + " --local", &status);  // a sibling: move-below
  ASSERT_EQ(status, 0) << out.dump(2);
  EXPECT_EQ(out["method"], "file:pos");
  ExpectReplicating(t, "r3", "r1");

  // r3 and r1 swap: r3 below m, r1 below r3.
  out = t.Tidewatch("take-master -i " + r3 + " --local", &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  ASSERT_EQ(out["moves"].size(), 2u);
  EXPECT_EQ(out["moves"][0]["destination"], m);
  EXPECT_EQ(out["moves"][1]["instance"], r1);
  ExpectReplicating(t, "r3", "m");
  ExpectReplicating(t, "r1", "r3");

  out = t.Tidewatch("move-up-replicas -i " + r3 + " --local", &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  ASSERT_EQ(out["moves"].size(), 1u) << out.dump(2);
  ExpectReplicating(t, "r1", "m");

  out = t.Tidewatch("repoint -i " + r2 + " --local", &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  ExpectReplicating(t, "r2", "m");

  sleep(12);
  t.sandbox().Run("load --seconds 1 --rate 100");
  t.WaitCaughtUp("m", {"r1", "r2", "r3"});
  for (const char* r : {"r1", "r2", "r3"}) ExpectReplicating(t, r, "m");
  ExpectSameData(t, {"m", "r1", "r2", "r3"});
}

// Replicas that replicate by GTID keep doing so through file:pos-shaped moves.
TEST(ClassicMovesTest, GtidReplicasStayOnGtid) {
  Topology t("m>r1,r2;r1>r3", 30710, "--pseudo-gtid-interval 0");
  const std::string m = t.Addr("m"), r1 = t.Addr("r1"), r3 = t.Addr("r3");
  LoadInBackground(t, 6);
  int status = -1;
  json out = t.Tidewatch("move-up -i " + r3 + " --local", &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  EXPECT_EQ(out["method"], "gtid");
  ExpectReplicating(t, "r3", "m");
  out = t.Tidewatch("move-below -i " + r3 + " -s " + r1 + " --local", &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  out = t.Tidewatch("take-master -i " + r3 + " --local", &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  ExpectReplicating(t, "r3", "m");
  ExpectReplicating(t, "r1", "r3");
  for (const char* r : {"r1", "r3"}) EXPECT_EQ(Status(t, r, "Using_Gtid"), "Slave_Pos") << r;
  out = t.Tidewatch("get-candidate-replica -i " + m + " --local", &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  EXPECT_FALSE(out["candidate"].get<std::string>().empty()) << out.dump(2);
  sleep(6);
  t.WaitCaughtUp("m", {"r1", "r2", "r3"});
  ExpectSameData(t, {"m", "r1", "r2", "r3"});
}

// make-co-master with its refusals; the other moves' refusals change nothing.
TEST(ClassicMovesTest, MakeCoMasterAndRefusals) {
  Topology t("m>r1,r2", 30720, "--no-gtid --pseudo-gtid-interval 0");
  const std::string m = t.Addr("m"), r1 = t.Addr("r1"), r2 = t.Addr("r2");
  t.sandbox().Run("load --seconds 1 --rate 200");
  int status = -1;
  json out = t.Tidewatch("make-co-master -i " + r1 + " --local", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.value("refused", "").find("not read-only"), std::string::npos) << out.dump(2);
  t.sandbox().Sql("r1", "SET GLOBAL read_only = 1");
  out = t.Tidewatch("make-co-master -i " + r1 + " --local", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.value("refused", "").find("ReplicationCredentialsQuery"), std::string::npos) << out.dump(2);
  EXPECT_EQ(Status(t, "m", "Master_Port"), "");

  out = t.Tidewatch("take-master -i " + r1 + " --local", &status);  // m is the cluster's master
  EXPECT_EQ(status, 1);
  EXPECT_NE(out["moves"][0].value("refused", "").find("graceful-master-takeover"), std::string::npos)
      << out.dump(2);
  out = t.Tidewatch("move-up -i " + r1 + " --local", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.value("refused", "").find("not a replica itself"), std::string::npos) << out.dump(2);
  out = t.Tidewatch("move-below -i " + r1 + " -s " + m + " --local", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.value("refused", "").find("not siblings"), std::string::npos) << out.dump(2);
  ExpectReplicating(t, "r1", "m");
  ExpectReplicating(t, "r2", "m");

  t.SetConfig({{"ReplicationCredentialsQuery", "SELECT 'repl', 'repl'"}});
  out = t.Tidewatch("make-co-master -i " + r1 + " --local", &status);
  ASSERT_EQ(status, 0) << out.dump(2);
  EXPECT_EQ(out["instance"], m);
  for (const auto& st : out["statements"]) {
    EXPECT_EQ(st.get<std::string>().find("PASSWORD='repl'"), std::string::npos) << st;
  }
  ExpectReplicating(t, "m", "r1");
  // Writes on m reach r1 and r2 and come back to m, which skips its own.
  t.sandbox().Run("load --seconds 2 --rate 200");
  t.WaitCaughtUp("m", {"r1", "r2"});
  ExpectReplicating(t, "m", "r1");
  ExpectSameData(t, {"m", "r1", "r2"});
}

}  // namespace
}  // namespace tidewatch::testing
