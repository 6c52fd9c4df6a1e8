// Topology: Tidewatch's model of the servers it watches — instances, their
// replication edges and clusters — updated by both of its sources: the
// probes (instance_probe.h, every InstancePollSeconds and at once after a
// stream breaks) and the replication streams' states. Every change it sees
// comes back as the messages that publish it (instance discovered, changed,
// lost, forgotten, read_only flips, lag crossing ReasonableReplicationLagSeconds,
// edges added and removed, stream state changes).
//
// Clusters: an instance belongs to the cluster of the top of its chain of
// masters; a cycle of co-masters is named after its smallest key. The
// cluster's name is its master's host:port, as orchestrator's; the alias its
// master answers to DetectClusterAliasQuery stays beside it (the master's
// probe.cluster_alias) and names the cluster in every API that takes a hint.
//
// Not thread-safe; the Monitor serializes access.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analyzer/instance_probe.h"
#include "analyzer/replication_analysis.h"
#include "binlog/replica_stream.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::analyzer {

using Clock = std::chrono::system_clock;

// A period during which an instance is excluded from recovery (downtime) or
// from analysis altogether (maintenance), as orchestrator's.
struct Suspension {
  bool active = false;
  std::string owner, reason;
  Clock::time_point until{};
  bool ActiveAt(Clock::time_point now) const { return active && (until == Clock::time_point{} || now < until); }
};

struct StreamInfo {
  bool open = false;
  binlog::StreamState state = binlog::StreamState::kConnecting;
  std::string reason;
  int attempt = 0;
  bool tls = false;
  uint64_t events = 0;
  std::string file;
  uint64_t pos = 0;
  // What was last published: retries of a broken stream (connecting,
  // disconnected again for the same reason) are not news.
  bool published = false;
  binlog::StreamState published_state = binlog::StreamState::kConnecting;
  std::string published_reason;
};

struct InstanceRecord {
  std::string key;
  ProbeResult probe;                // the last complete probe
  bool probed = false;              // a complete probe exists
  bool reachable = false;           // the last check succeeded
  bool partial = false;
  std::string last_error;
  Clock::time_point last_checked{}, last_seen{};
  std::string master_key;           // host:port of its master, "" if none
  std::string cluster;
  uint32_t replication_depth = 0;
  bool is_co_master = false;
  std::string errant_gtid;
  bool pseudo_gtid = false;         // its index has Pseudo-GTID entries
  StreamInfo stream;
  Suspension maintenance, downtime;
  bool coordinates_stale = false;   // no progress between two probes while replicating
  // register-candidate: a promotion rule that, until it expires, stands
  // instead of the one DetectPromotionRuleQuery gives.
  std::string registered_rule;
  Clock::time_point registered_until{};

  // The promotion rule in force: the registered one, else the detected one
  // ("" when neither says).
  const std::string& PromotionRuleAt(Clock::time_point now) const {
    return !registered_rule.empty() && now < registered_until ? registered_rule : probe.promotion_rule;
  }
};

// The clusters a change may have changed the analysis of; `all` after a
// change of structure (an edge, a new or forgotten instance, an alias).
struct ChangeScope {
  bool all = false;
  std::set<std::string> clusters;
  void Merge(const ChangeScope& o) {
    all |= o.all;
    clusters.insert(o.clusters.begin(), o.clusters.end());
  }
  bool Covers(const std::string& cluster) const { return all || clusters.count(cluster) != 0; }
};

struct TopologyOptions {
  int64_t reasonable_replication_lag_seconds = 10;
  // A forgotten instance is not expected again through its master or
  // replicas for this long (orchestrator: three InstancePollSeconds).
  std::chrono::milliseconds forget_cooldown{15000};
  // A master not to be expected through its replicas
  // (DiscoveryIgnoreMasterHostnameFilters); unset: none.
  std::function<bool(const std::string& key)> ignore_master;
};

class Topology {
 public:
  explicit Topology(TopologyOptions options = {}) : options_(options) {}

  // A probe's result: a complete probe replaces the record; a failed one
  // marks it unreachable (keeping what was known). `out` receives the
  // messages the change produces.
  ChangeScope ApplyProbe(const ProbeResult& p, std::vector<v1::Envelope>* out);
  ChangeScope ApplyStream(const std::string& key, const binlog::StreamStatus& s, std::vector<v1::Envelope>* out);
  void StreamProgress(const std::string& key, const std::string& file, uint64_t pos, uint64_t events);
  void SetPseudoGtid(const std::string& key, bool has_entries);
  // Removes the instance; false if it was not known. It is not expected
  // again for the forget cooldown, unless Unforget lifts that.
  bool Forget(const std::string& key, std::vector<v1::Envelope>* out);
  bool Forgotten(const std::string& key) const;
  void Unforget(const std::string& key) { forgotten_until_.erase(key); }
  // A known instance (probed or not) that a master or replica pointed at.
  void Expect(const std::string& key);
  // An instance as a previous run last saw it (topology_store.h): known with
  // that probe, not yet checked by this run, nothing published.
  void Restore(const ProbeResult& p);

  bool SetMaintenance(const std::string& key, Suspension s);
  bool SetDowntime(const std::string& key, Suspension s);
  bool SetCandidate(const std::string& key, std::string rule, Clock::time_point until);

  const InstanceRecord* Find(const std::string& key) const;
  const std::map<std::string, InstanceRecord>& instances() const { return instances_; }
  std::vector<std::string> ReplicasOf(const std::string& key) const;
  // Cluster name → its instances' keys.
  std::map<std::string, std::vector<std::string>> Clusters() const;
  // The master (top) of a cluster.
  std::string MasterOf(const std::string& cluster) const;
  // A cluster's instances (none for an unknown cluster), at what its size costs.
  std::vector<std::string> MembersOf(const std::string& cluster) const;
  // Every instance of the cluster has been checked at least once.
  bool Checked(const std::string& cluster) const;

  // The analysis' view at `now` of every instance checked at least once, in
  // the clusters `scope` covers.
  std::vector<InstanceState> AnalysisInput(Clock::time_point now, const ChangeScope& scope) const;
  // Instances known but not yet checked once.
  size_t unchecked() const;
  // What the model knows that speaks for the analysis of `key`: its last
  // error, its stream, its replicas' replication threads.
  std::vector<std::string> Evidence(const std::string& key) const;

  // The instance as published.
  static void FillInstance(const InstanceRecord& r, v1::Instance* out);
  // A message about `key`, its source filled in.
  v1::Envelope MessageAbout(const std::string& key) const;

 private:
  // Clusters, depths, co-masters and errant GTIDs of `keys` and of every
  // instance below them (whose cluster follows theirs), from the records:
  // what one probe changes costs what its cluster costs. Returns the
  // clusters they left or joined.
  std::set<std::string> RecomputeAround(const std::vector<std::string>& keys);
  // Errant GTIDs of `key` and of its replicas against their masters.
  void UpdateErrant(const std::string& key);
  std::string RootOf(const std::string& key, uint32_t* depth, bool* cycle) const;

  // Sets r's master, keeping replicas_ in step.
  void SetMaster(InstanceRecord& r, std::string master);

  std::map<std::string, Clock::time_point> forgotten_until_;
  TopologyOptions options_;
  std::map<std::string, InstanceRecord> instances_;
  // Indexes over instances_, so that what one probe changes costs what its
  // cluster costs, not what the fleet does: master → its replicas (as their
  // records name it), and cluster → its members (rebuilt by Recompute).
  std::map<std::string, std::set<std::string>> replicas_;
  std::map<std::string, std::set<std::string>> members_;
};

}  // namespace tidewatch::analyzer
