#include <gtest/gtest.h>

#include <map>

#include "analyzer/replication_analysis.h"

namespace tidewatch::analyzer {
namespace {

// A healthy master with replicas, each logging ROW with log_replica_updates.
std::vector<InstanceState> Healthy(const std::string& master, std::vector<std::string> replicas) {
  std::vector<InstanceState> v;
  InstanceState m;
  m.key = master;
  m.log_bin = m.log_replica_updates = true;
  m.binlog_format = "ROW";
  m.mariadb_gtid = true;
  m.gtid_mode = "MariaDB";
  m.major_version = 1011;
  v.push_back(m);
  for (const auto& r : replicas) {
    InstanceState s = m;
    s.key = r;
    s.master_key = master;
    s.io_running = s.sql_running = true;
    s.seconds_behind_master = 0;
    v.push_back(s);
  }
  return v;
}

InstanceState& At(std::vector<InstanceState>& v, const std::string& key) {
  for (auto& i : v) {
    if (i.key == key) return i;
  }
  throw std::runtime_error("no " + key);
}

std::map<std::string, ReplicationAnalysis> Analyze(const std::vector<InstanceState>& v, AnalysisOptions o = {}) {
  std::map<std::string, ReplicationAnalysis> out;
  for (auto& a : AnalyzeTopology(v, o)) out[a.key] = a;
  return out;
}

// The replica lost its master: IO thread retrying, SQL thread idle.
void LostMaster(InstanceState& r) {
  r.io_running = false;
  r.failing_to_connect_to_master = true;
}

TEST(ReplicationAnalysisTest, HealthyTopologyHasNoProblem) {
  EXPECT_TRUE(AnalyzeTopology(Healthy("m", {"r1", "r2"})).empty());
}

TEST(ReplicationAnalysisTest, DeadMasterNeedsEveryReplicaToAgree) {
  auto v = Healthy("m", {"r1", "r2", "r3"});
  At(v, "m").reachable = false;
  // Replicas still replicating: only Tidewatch lost the master.
  EXPECT_EQ(Analyze(v)["m"].code, "UnreachableMaster");
  EXPECT_FALSE(Analyze(v)["m"].actionable);
  for (const char* r : {"r1", "r2", "r3"}) LostMaster(At(v, r));
  auto a = Analyze(v)["m"];
  EXPECT_EQ(a.code, "DeadMaster");
  EXPECT_TRUE(a.actionable);
  EXPECT_EQ(a.count_replicas, 3u);
  EXPECT_EQ(a.count_valid_replicating_replicas, 0u);
  At(v, "r3").reachable = false;
  EXPECT_EQ(Analyze(v)["m"].code, "DeadMasterAndSomeReplicas");
  At(v, "r1").reachable = At(v, "r2").reachable = false;
  EXPECT_EQ(Analyze(v)["m"].code, "DeadMasterAndReplicas");
  auto alone = Healthy("m", {});
  At(alone, "m").reachable = false;
  EXPECT_EQ(Analyze(alone)["m"].code, "DeadMasterWithoutReplicas");
}

TEST(ReplicationAnalysisTest, UnreachableMasterWithLaggingReplicas) {
  auto v = Healthy("m", {"r1", "r2"});
  At(v, "m").reachable = false;
  At(v, "r1").seconds_behind_master = At(v, "r2").seconds_behind_master = 600;
  EXPECT_EQ(Analyze(v)["m"].code, "UnreachableMasterWithLaggingReplicas");
}

TEST(ReplicationAnalysisTest, ReachableMasterWithReplicasNotReplicating) {
  auto v = Healthy("m", {"r1"});
  At(v, "r1").io_running = false;
  EXPECT_EQ(Analyze(v)["m"].code, "MasterSingleReplicaNotReplicating");
  At(v, "r1").reachable = false;
  EXPECT_EQ(Analyze(v)["m"].code, "MasterSingleReplicaDead");
  auto w = Healthy("m", {"r1", "r2"});
  At(w, "r1").sql_running = At(w, "r2").sql_running = false;
  EXPECT_EQ(Analyze(w)["m"].code, "AllMasterReplicasNotReplicating");
  At(w, "r2").reachable = false;
  EXPECT_EQ(Analyze(w)["m"].code, "AllMasterReplicasNotReplicatingOrDead");
  auto alone = Healthy("m", {});
  EXPECT_EQ(Analyze(alone)["m"].code, "MasterWithoutReplicas");
}

TEST(ReplicationAnalysisTest, IntermediateMasters) {
  auto v = Healthy("a", {"b"});
  auto c = At(v, "b");
  c.key = "c";
  c.master_key = "b";
  v.push_back(c);
  At(v, "b").reachable = false;
  LostMaster(At(v, "c"));
  auto r = Analyze(v);
  EXPECT_EQ(r["b"].code, "DeadIntermediateMasterWithSingleReplicaFailingToConnect");
  EXPECT_TRUE(r["b"].actionable);
  EXPECT_EQ(r["b"].replication_depth, 1u);
  At(v, "c").failing_to_connect_to_master = false;
  EXPECT_EQ(Analyze(v)["b"].code, "DeadIntermediateMasterWithSingleReplica");
  At(v, "c").reachable = false;
  EXPECT_EQ(Analyze(v)["b"].code, "DeadIntermediateMasterAndReplicas");
  auto d = At(v, "c");
  d.key = "d";
  d.reachable = true;
  v.push_back(d);
  EXPECT_EQ(Analyze(v)["b"].code, "DeadIntermediateMasterAndSomeReplicas");
  At(v, "c").reachable = true;
  EXPECT_EQ(Analyze(v)["b"].code, "DeadIntermediateMaster");
  At(v, "c").io_running = At(v, "d").io_running = true;
  EXPECT_EQ(Analyze(v)["b"].code, "UnreachableIntermediateMaster");
  At(v, "b").reachable = true;
  LostMaster(At(v, "c"));
  LostMaster(At(v, "d"));
  EXPECT_EQ(Analyze(v)["b"].code, "AllIntermediateMasterReplicasFailingToConnectOrDead");
}

TEST(ReplicationAnalysisTest, FirstTierReplicaFailingToConnect) {
  auto v = Healthy("m", {"r1", "r2"});
  LostMaster(At(v, "r1"));
  auto r = Analyze(v);
  EXPECT_EQ(r["r1"].code, "FirstTierReplicaFailingToConnectToMaster");
  EXPECT_EQ(r.count("m"), 0u);  // r2 still replicates
}

TEST(ReplicationAnalysisTest, CoMasters) {
  auto v = Healthy("a", {"b"});
  At(v, "a").master_key = "b";
  At(v, "a").io_running = At(v, "a").sql_running = true;
  At(v, "b").reachable = false;
  LostMaster(At(v, "a"));
  auto r = Analyze(v);
  EXPECT_TRUE(r["b"].is_co_master);
  EXPECT_EQ(r["b"].code, "DeadCoMaster");
}

TEST(ReplicationAnalysisTest, LockedSemiSyncMaster) {
  auto v = Healthy("m", {"r1"});
  auto& m = At(v, "m");
  m.semi_sync_master_enabled = m.semi_sync_master_status = true;
  m.semi_sync_wait_for_replica_count = 2;
  m.semi_sync_master_clients = 1;
  EXPECT_EQ(Analyze(v)["m"].code, "LockedSemiSyncMasterHypothesis");
  m.binlog_coordinates_stale = true;
  EXPECT_EQ(Analyze(v)["m"].code, "LockedSemiSyncMaster");
}

TEST(ReplicationAnalysisTest, DowntimeAndMaintenanceSuppress) {
  auto v = Healthy("m", {"r1", "r2"});
  At(v, "m").reachable = false;
  for (const char* r : {"r1", "r2"}) LostMaster(At(v, r));
  At(v, "m").downtimed = true;
  EXPECT_EQ(Analyze(v).count("m"), 0u);
  AnalysisOptions o;
  o.include_downtimed = true;
  auto a = Analyze(v, o)["m"];
  EXPECT_EQ(a.code, "DeadMaster");
  EXPECT_TRUE(a.skippable_due_to_downtime);
  EXPECT_FALSE(a.actionable);
  At(v, "m").downtimed = false;
  At(v, "m").in_maintenance = true;
  EXPECT_EQ(Analyze(v, o).count("m"), 0u);
}

TEST(ReplicationAnalysisTest, StructureWarnings) {
  auto v = Healthy("m", {"r1", "r2", "r3"});
  // Failover support is the replicas' (orchestrator's
  // MariaDBGTIDImmediateTopology): a master that replicates from nobody
  // never uses GTID itself.
  At(v, "m").mariadb_gtid = false;
  EXPECT_TRUE(Analyze(v, {.include_no_problem = true})["m"].structure_warnings.empty());
  for (const char* r : {"r1", "r2", "r3"}) At(v, r).mariadb_gtid = false;
  At(v, "m").read_only = true;
  At(v, "r1").binlog_format = "STATEMENT";
  At(v, "r2").binlog_format = "MIXED";
  At(v, "r3").major_version = 1106;
  At(v, "r3").errant_gtid = "0-9-1";
  auto w = Analyze(v)["m"].structure_warnings;
  for (const char* expect :
       {"NoFailoverSupportStructureWarning", "StatementAndMixedLoggingReplicasStructureWarning",
        "StatementAndRowLoggingReplicasStructureWarning", "MixedAndRowLoggingReplicasStructureWarning",
        "MultipleMajorVersionsLoggingReplicasStructureWarning", "ErrantGTIDStructureWarning",
        "NoWriteableMasterStructureWarning"}) {
    EXPECT_NE(std::find(w.begin(), w.end(), expect), w.end()) << expect;
  }
  for (auto& i : v) i.log_replica_updates = false;
  w = Analyze(v)["m"].structure_warnings;
  EXPECT_NE(std::find(w.begin(), w.end(), "NoLoggingReplicasStructureWarning"), w.end());
}

// Replicas that die with their master still count as the logging replicas
// they were last seen as (orchestrator sums count_logging_replicas over
// every known replica): a whole cluster going dark is a
// DeadMasterAndReplicas, not also a master without logging replicas.
TEST(ReplicationAnalysisTest, ReplicasThatDiedWithTheirMasterStillLog) {
  auto v = Healthy("m", {"r1", "r2"});
  for (auto& i : v) i.reachable = false;
  const auto a = Analyze(v)["m"];
  EXPECT_EQ(a.code, "DeadMasterAndReplicas");
  EXPECT_EQ(std::find(a.structure_warnings.begin(), a.structure_warnings.end(), "NoLoggingReplicasStructureWarning"),
            a.structure_warnings.end());
}

}  // namespace
}  // namespace tidewatch::analyzer
