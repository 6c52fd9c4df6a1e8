// The topology model and the analysis lifecycle, from synthetic probes.
#include <gtest/gtest.h>

#include "analyzer/analysis_tracker.h"
#include "analyzer/topology.h"

namespace tidewatch::analyzer {
namespace {

ProbeResult Probe(const std::string& key, const std::string& master = "", std::vector<std::string> replicas = {}) {
  ProbeResult p;
  p.key = key;
  p.reachable = true;
  p.at = Clock::now();
  auto& i = p.instance;
  i.name = key;
  i.version = "10.11.6-MariaDB-log";
  i.mariadb = true;
  i.major = 10;
  i.minor = 11;
  i.log_bin = i.log_slave_updates = true;
  i.binlog_format = "ROW";
  i.server_id = static_cast<uint32_t>(std::stoul(key.substr(key.rfind(':') + 1)));
  i.self = {"bin.000001", 1000};
  i.gtid_binlog_pos = "0-1-10";
  if (!master.empty()) {
    i.replica.configured = true;
    i.replica.master_host = master.substr(0, master.rfind(':'));
    i.replica.master_port = static_cast<uint16_t>(std::stoul(master.substr(master.rfind(':') + 1)));
    i.replica.io_running = "Yes";
    i.replica.sql_running = true;
    i.replica.seconds_behind = 0;
    i.replica.using_gtid = "Slave_Pos";
  }
  p.replica_keys = std::move(replicas);
  return p;
}

ProbeResult Unreachable(const std::string& key) {
  ProbeResult p;
  p.key = key;
  p.at = Clock::now();
  p.error = key + ": cannot connect: Connection refused";
  return p;
}

std::vector<std::string> Kinds(const std::vector<v1::Envelope>& msgs) {
  std::vector<std::string> k;
  for (const auto& m : msgs) {
    if (m.has_instance()) k.push_back(v1::InstanceChange::Kind_Name(m.instance().kind()));
    if (m.has_edge()) k.push_back("EDGE_" + v1::ReplicationEdge::Kind_Name(m.edge().kind()));
    if (m.has_stream()) k.push_back("STREAM_" + v1::StreamState::State_Name(m.stream().state()));
  }
  return k;
}

TEST(TopologyTest, DiscoveryEdgesAndClusterNames) {
  Topology t;
  std::vector<v1::Envelope> out;
  auto scope = t.ApplyProbe(Probe("h:1", "", {"h:2", "h:3"}), &out);
  // A new instance changes its own cluster, not the fleet's.
  EXPECT_FALSE(scope.all);
  EXPECT_TRUE(scope.Covers("h:1"));
  EXPECT_EQ(Kinds(out), (std::vector<std::string>{"DISCOVERED"}));
  EXPECT_EQ(t.unchecked(), 2u);  // the replicas it named, not yet checked
  out.clear();
  t.ApplyProbe(Probe("h:2", "h:1"), &out);
  EXPECT_EQ(Kinds(out), (std::vector<std::string>{"DISCOVERED", "EDGE_ADDED"}));
  EXPECT_EQ(out[0].source().cluster(), "h:1");
  EXPECT_EQ(out[1].edge().master(), "h:1");
  EXPECT_EQ(out[1].edge().replica(), "h:2");
  out.clear();
  t.ApplyProbe(Probe("h:3", "h:2"), &out);
  EXPECT_EQ(t.Find("h:3")->cluster, "h:1");
  EXPECT_EQ(t.Find("h:3")->replication_depth, 2u);
  EXPECT_EQ(t.unchecked(), 0u);
  EXPECT_EQ(t.MasterOf("h:1"), "h:1");
  EXPECT_EQ(t.ReplicasOf("h:1"), std::vector<std::string>{"h:2"});

  // A poll that changes nothing publishes nothing.
  out.clear();
  auto again = t.ApplyProbe(Probe("h:3", "h:2"), &out);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(again.all);
  EXPECT_TRUE(again.Covers("h:1"));

  // The replica moves: one edge removed, one added.
  out.clear();
  t.ApplyProbe(Probe("h:3", "h:1"), &out);
  EXPECT_EQ(Kinds(out), (std::vector<std::string>{"CHANGED", "EDGE_REMOVED", "EDGE_ADDED"}));
  EXPECT_EQ(out[0].instance().changed_fields(0), "master_key");

  // The cluster keeps its master's name; the alias is beside it (orchestrator's naming).
  auto alias = Probe("h:1", "", {"h:2", "h:3"});
  alias.cluster_alias = "orders";
  t.ApplyProbe(alias, &out);
  EXPECT_EQ(t.Find("h:3")->cluster, "h:1");
  EXPECT_EQ(t.Clusters().count("h:1"), 1u);
  EXPECT_EQ(t.Find(t.MasterOf("h:1"))->probe.cluster_alias, "orders");
}

TEST(TopologyTest, ReadOnlyFlipsLagAndReachability) {
  Topology t({.reasonable_replication_lag_seconds = 10});
  std::vector<v1::Envelope> out;
  t.ApplyProbe(Probe("h:1"), &out);
  t.ApplyProbe(Probe("h:2", "h:1"), &out);
  out.clear();
  auto ro = Probe("h:2", "h:1");
  ro.instance.read_only = true;
  t.ApplyProbe(ro, &out);
  EXPECT_EQ(Kinds(out), (std::vector<std::string>{"READ_ONLY_ON"}));
  out.clear();
  auto lag = ro;
  lag.instance.replica.seconds_behind = 5;  // still within the reasonable lag: no change
  t.ApplyProbe(lag, &out);
  EXPECT_TRUE(out.empty());
  lag.instance.replica.seconds_behind = 60;
  t.ApplyProbe(lag, &out);
  ASSERT_EQ(Kinds(out), (std::vector<std::string>{"CHANGED"}));
  EXPECT_EQ(out[0].instance().changed_fields(0), "seconds_behind_master");
  EXPECT_EQ(out[0].instance().instance().seconds_behind_master(), 60);

  out.clear();
  t.ApplyProbe(Unreachable("h:1"), &out);
  EXPECT_EQ(Kinds(out), (std::vector<std::string>{"LOST"}));
  EXPECT_FALSE(t.Find("h:1")->reachable);
  EXPECT_TRUE(t.Find("h:1")->probed);  // what was known is kept
  out.clear();
  t.ApplyProbe(Probe("h:1"), &out);
  ASSERT_EQ(Kinds(out), (std::vector<std::string>{"CHANGED"}));
  EXPECT_EQ(out[0].instance().changed_fields(0), "reachable");
}

TEST(TopologyTest, StreamRetriesAreNotNews) {
  Topology t;
  std::vector<v1::Envelope> out;
  t.ApplyProbe(Probe("h:1"), &out);
  out.clear();
  using binlog::StreamState;
  auto status = [](StreamState s, std::string reason = "") {
    binlog::StreamStatus st;
    st.state = s;
    st.reason = std::move(reason);
    return st;
  };
  t.ApplyStream("h:1", status(StreamState::kConnecting), &out);
  t.ApplyStream("h:1", status(StreamState::kStreaming), &out);
  t.ApplyStream("h:1", status(StreamState::kDisconnected, "closed"), &out);
  for (int i = 0; i < 5; ++i) {
    t.ApplyStream("h:1", status(StreamState::kConnecting), &out);
    t.ApplyStream("h:1", status(StreamState::kDisconnected, "refused"), &out);
  }
  t.ApplyStream("h:1", status(StreamState::kConnecting), &out);
  t.ApplyStream("h:1", status(StreamState::kStreaming), &out);
  EXPECT_EQ(Kinds(out), (std::vector<std::string>{"STREAM_CONNECTING", "STREAM_STREAMING", "STREAM_DISCONNECTED",
                                                  "STREAM_DISCONNECTED", "STREAM_STREAMING"}));
  EXPECT_EQ(out[3].stream().reason(), "refused");
  // A stream of an instance the model does not know is ignored.
  out.clear();
  t.ApplyStream("h:9", status(StreamState::kStreaming), &out);
  EXPECT_TRUE(out.empty());
}

TEST(TopologyTest, CoMastersFormOneClusterNamedAfterTheSmallestKey) {
  Topology t;
  std::vector<v1::Envelope> out;
  t.ApplyProbe(Probe("h:2", "h:1"), &out);
  t.ApplyProbe(Probe("h:1", "h:2"), &out);
  t.ApplyProbe(Probe("h:3", "h:2"), &out);
  EXPECT_EQ(t.Find("h:1")->cluster, "h:1");
  EXPECT_EQ(t.Find("h:2")->cluster, "h:1");
  EXPECT_EQ(t.Find("h:3")->cluster, "h:1");
  EXPECT_TRUE(t.Find("h:1")->is_co_master);
  EXPECT_TRUE(t.Find("h:2")->is_co_master);
  EXPECT_FALSE(t.Find("h:3")->is_co_master);
}

TEST(TopologyTest, ErrantGtidNeedsAMasterReadAfterTheReplica) {
  Topology t;
  std::vector<v1::Envelope> out;
  auto replica = Probe("h:2", "h:1");
  replica.instance.gtid_binlog_pos = "0-2-11";  // written by the replica itself (server_id 2)
  replica.at = Clock::now();
  auto master = Probe("h:1");
  master.instance.gtid_binlog_pos = "0-1-10";
  master.at = replica.at - std::chrono::seconds(1);  // read before the replica
  t.ApplyProbe(master, &out);
  t.ApplyProbe(replica, &out);
  EXPECT_EQ(t.Find("h:2")->errant_gtid, "");  // the master may since have caught up
  master.at = replica.at + std::chrono::seconds(1);
  t.ApplyProbe(master, &out);
  EXPECT_EQ(t.Find("h:2")->errant_gtid, "0-2-11");
  // Transactions the master wrote are never errant, however far the replica is.
  replica.instance.gtid_binlog_pos = "0-1-10";
  replica.at = master.at - std::chrono::milliseconds(1);
  t.ApplyProbe(replica, &out);
  EXPECT_EQ(t.Find("h:2")->errant_gtid, "");
}

TEST(TopologyTest, AnalysisInputSkipsWhatWasNeverChecked) {
  Topology t;
  std::vector<v1::Envelope> out;
  t.ApplyProbe(Probe("h:1", "", {"h:2"}), &out);
  ChangeScope all;
  all.all = true;
  auto in = t.AnalysisInput(Clock::now(), all);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].key, "h:1");
  t.ApplyProbe(Probe("h:2", "h:1"), &out);
  EXPECT_EQ(t.AnalysisInput(Clock::now(), all).size(), 2u);
  ChangeScope other;
  other.clusters.insert("elsewhere");
  EXPECT_TRUE(t.AnalysisInput(Clock::now(), other).empty());
}

TEST(AnalysisTrackerTest, OpensUpdatesAndClosesWithinItsScope) {
  AnalysisTracker tracker;
  auto evidence = [](const std::string& k) { return std::vector<std::string>{k + " is gone"}; };
  ReplicationAnalysis dead;
  dead.key = "h:1";
  dead.cluster = "c1";
  dead.code = "DeadMaster";
  dead.description = "dead";
  dead.count_replicas = 2;
  dead.actionable = true;
  ReplicationAnalysis other = dead;
  other.key = "h:9";
  other.cluster = "c2";
  ChangeScope all;
  all.all = true;
  std::vector<v1::Analysis> out;
  tracker.Update({dead, other}, all, evidence, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].phase(), v1::Analysis::OPENED);
  EXPECT_EQ(out[0].evidence(0), "h:1 is gone");
  EXPECT_TRUE(out[0].is_actionable());
  // The same facts again: nothing.
  out.clear();
  tracker.Update({dead, other}, all, evidence, &out);
  EXPECT_TRUE(out.empty());
  // A changed count: UPDATED.
  dead.count_valid_replicating_replicas = 1;
  tracker.Update({dead, other}, all, evidence, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].phase(), v1::Analysis::UPDATED);
  // A pass over cluster c1 alone closes c1's analysis, not c2's.
  out.clear();
  ChangeScope c1;
  c1.clusters.insert("c1");
  tracker.Update({}, c1, evidence, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].phase(), v1::Analysis::CLOSED);
  EXPECT_EQ(out[0].analyzed_instance(), "h:1");
  ASSERT_EQ(tracker.Open().size(), 1u);
  EXPECT_EQ(tracker.Open()[0].analyzed_instance(), "h:9");
}

// An open analysis whose cluster is renamed (a failover names it after
// its new master) is closed by a pass over the cluster it names now, and
// no longer by a pass over its old name.
TEST(AnalysisTrackerTest, AnAnalysisFollowsItsClusterWhenItIsRenamed) {
  AnalysisTracker tracker;
  auto none = [](const std::string&) { return std::vector<std::string>{}; };
  ReplicationAnalysis a;
  a.key = "h:2";
  a.cluster = "old";
  a.code = "UnreachableMaster";
  ChangeScope all;
  all.all = true;
  std::vector<v1::Analysis> out;
  tracker.Update({a}, all, none, &out);
  a.cluster = "new";
  a.count_replicas = 1;
  out.clear();
  tracker.Update({a}, all, none, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].phase(), v1::Analysis::UPDATED);
  ChangeScope old_name, new_name;
  old_name.clusters.insert("old");
  new_name.clusters.insert("new");
  out.clear();
  tracker.Update({}, old_name, none, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(tracker.OpenCount(), 1u);
  tracker.Update({}, new_name, none, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].phase(), v1::Analysis::CLOSED);
  EXPECT_EQ(out[0].cluster(), "new");
  EXPECT_EQ(tracker.OpenCount(), 0u);
}

TEST(AnalysisTrackerTest, StructureWarningsAreTrackedOnTheirOwn) {
  AnalysisTracker tracker;
  auto none = [](const std::string&) { return std::vector<std::string>{}; };
  ReplicationAnalysis a;
  a.key = "h:1";
  a.cluster = "c";
  a.structure_warnings = {"ErrantGTIDStructureWarning"};
  ChangeScope all;
  all.all = true;
  std::vector<v1::Analysis> out;
  tracker.Update({a}, all, none, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code(), "ErrantGTIDStructureWarning");
  EXPECT_EQ(out[0].phase(), v1::Analysis::OPENED);
  EXPECT_FALSE(out[0].is_actionable());
  out.clear();
  a.structure_warnings.clear();
  tracker.Update({a}, all, none, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].phase(), v1::Analysis::CLOSED);
}

// A cluster taken over from another monitor: the analysis it left open is
// open here, so the same facts publish nothing, changed ones an UPDATE, and
// their absence a CLOSE; dropped ones are forgotten without a message.
TEST(AnalysisTrackerTest, AnAdoptedAnalysisIsNeverOpenedTwice) {
  AnalysisTracker first, next;
  auto none = [](const std::string&) { return std::vector<std::string>{}; };
  ReplicationAnalysis dead;
  dead.key = "h:1";
  dead.cluster = "c";
  dead.code = "DeadMaster";
  dead.description = "dead";
  dead.count_replicas = 2;
  ChangeScope all;
  all.all = true;
  std::vector<v1::Analysis> out;
  first.Update({dead}, all, none, &out);
  ASSERT_EQ(out.size(), 1u);
  v1::Analysis published = out[0];
  out.clear();
  next.Adopt(published);
  next.Update({dead}, all, none, &out);
  EXPECT_TRUE(out.empty());
  dead.count_replicas = 1;
  next.Update({dead}, all, none, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].phase(), v1::Analysis::UPDATED);
  out.clear();
  next.Update({}, all, none, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].phase(), v1::Analysis::CLOSED);
  // Handed over again: dropped, nothing published, nothing left open.
  out.clear();
  next.Adopt(published);
  ReplicationAnalysis other = dead;
  other.key = "h:10";  // sorts right after h:1: only h:1's are dropped
  next.Update({dead, other}, all, none, &out);
  next.Drop("h:1");
  ASSERT_EQ(next.Open().size(), 1u);
  EXPECT_EQ(next.Open()[0].analyzed_instance(), "h:10");
}

// A master that moves takes everything below it into its new cluster, at
// any depth, and the probe's scope covers the cluster left and the one
// joined — nothing else is recomputed or analyzed.
TEST(TopologyTest, AMovedSubtreeFollowsItsMaster) {
  Topology t;
  std::vector<v1::Envelope> out;
  t.ApplyProbe(Probe("a:1", "", {"a:2"}), &out);
  t.ApplyProbe(Probe("a:2", "a:1", {"a:3"}), &out);
  t.ApplyProbe(Probe("a:3", "a:2", {"a:4"}), &out);
  t.ApplyProbe(Probe("a:4", "a:3"), &out);
  t.ApplyProbe(Probe("b:1", ""), &out);
  ASSERT_EQ(t.Find("a:4")->cluster, "a:1");
  EXPECT_EQ(t.Find("a:4")->replication_depth, 3u);

  auto scope = t.ApplyProbe(Probe("a:2", "b:1", {"a:3"}), &out);
  EXPECT_FALSE(scope.all);
  EXPECT_TRUE(scope.Covers("a:1"));
  EXPECT_TRUE(scope.Covers("b:1"));
  for (const char* k : {"a:2", "a:3", "a:4"}) EXPECT_EQ(t.Find(k)->cluster, "b:1") << k;
  EXPECT_EQ(t.Find("a:4")->replication_depth, 3u);
  EXPECT_EQ(t.Find("a:1")->cluster, "a:1");
  EXPECT_EQ(t.Clusters().at("b:1").size(), 4u);
  EXPECT_EQ(t.Clusters().at("a:1").size(), 1u);

  // Co-masters: a cycle is named after its smallest member, both flagged.
  t.ApplyProbe(Probe("b:1", "a:2"), &out);
  EXPECT_TRUE(t.Find("a:2")->is_co_master);
  EXPECT_TRUE(t.Find("b:1")->is_co_master);
  EXPECT_EQ(t.Find("a:4")->cluster, "a:2");
  // Broken again: neither is.
  t.ApplyProbe(Probe("b:1", ""), &out);
  EXPECT_FALSE(t.Find("a:2")->is_co_master);
  EXPECT_FALSE(t.Find("b:1")->is_co_master);
  EXPECT_EQ(t.Find("a:4")->cluster, "b:1");

  // Forgotten: what replicated below it is a cluster of its own.
  t.Forget("a:2", &out);
  EXPECT_EQ(t.Find("a:3")->cluster, "a:2");  // named after the master it still names
  EXPECT_EQ(t.Clusters().count("b:1"), 1u);
  EXPECT_EQ(t.Clusters().at("b:1").size(), 1u);
}

}  // namespace
}  // namespace tidewatch::analyzer
