// Monitor: the engine of `tidewatch run`. It discovers servers from seeds
// (and from every probed server's master and replicas), probes each every
// poll interval on a worker pool, follows every server that has binary logs
// with a replication stream (on a few io threads, shared) feeding that
// server's Pseudo-GTID index, keeps the topology model, and analyzes it after
// every change, publishing what changed.
//
// Event-driven detection: when a stream breaks or falls silent (no event and
// no heartbeat for its read timeout), the server and its replicas are probed
// at once and again on a short schedule — the direct check says whether the
// server answers, the replicas' IO threads give the holistic evidence — so a
// dead master is analyzed within the time the replicas take to notice, not
// at the next poll.
//
// Threads: servers are spread over `stream_threads` shards by their key;
// each shard's io thread owns its servers' streams, indexes and schedule;
// probes (and loading a stored index, which reads the server) run on the
// workers; the model, the analysis and publishing are serialized by one
// mutex, so messages leave in the order the model changed. Syncing an index
// to the store is a local SQLite transaction of what changed, on its shard's
// thread.
// Until every known server has been checked once, nothing is analyzed: a
// half-discovered topology would open analyses that are not true.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "analyzer/analysis_tracker.h"
#include "analyzer/instance_probe.h"
#include "analyzer/replication_analysis.h"
#include "analyzer/topology.h"
#include "binlog/replica_stream.h"
#include "pgtid/index_store.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "pgtid/server_index.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::analyzer {

struct MonitorOptions {
  ProbeOptions probe;
  // Credentials, the server_id to register with, heartbeat period, read
  // timeout, TLS; host, port and start are set per server.
  binlog::ReplicaStreamOptions stream;
  bool follow_streams = true;
  const pgtid::PseudoGtidPattern* pattern = nullptr;  // nullptr: no Pseudo-GTID index
  pgtid::IndexOptions index;
  // Indexes persisted here (not owned), so that a restart reads only what is
  // new: a stored index is verified against its server before its stream
  // resumes from it, and indexes are synced every store_sync_interval and at
  // Stop().
  pgtid::IndexStore* store = nullptr;
  std::chrono::milliseconds store_sync_interval{10000};
  // At most this many indexes synced a second (each a SQLite transaction
  // that rewrites the last chunk of its window): above it, as in a fleet of
  // thousands, each index is synced every servers / max_syncs_per_second
  // seconds instead.
  double max_syncs_per_second = 200;
  // The topology kept here (topology_store.h): loaded at Start — every
  // instance a previous run knew is probed and followed again, a dead one
  // analyzed as such — and written every store_sync_interval and at Stop.
  // Empty: not kept.
  std::string topology_file;
  std::chrono::milliseconds poll_interval{5000};      // InstancePollSeconds
  size_t workers = 4;
  // Io threads for the streams (StreamThreads): each decodes and indexes the
  // streams of its share of the servers. One suffices for a few hundred
  // servers; thousands need a core's worth each.
  size_t stream_threads = 1;
  AnalysisOptions analysis;
  TopologyOptions topology;
  std::vector<std::string> seeds;                     // DiscoverySeeds
  // orchestrator's DiscoveryIgnoreHostnameFilters,
  // DiscoveryIgnoreMasterHostnameFilters and
  // DiscoveryIgnoreReplicaHostnameFilters: RE2 patterns on host:port. A
  // match is not discovered through a neighbour — any neighbour, its
  // replica, its master — and an ignored replica is not listed among its
  // master's. Seeds and Discover() are not filtered.
  std::vector<std::string> ignore_hostname_filters, ignore_master_filters, ignore_replica_filters;
  // Whether a server found through a neighbour is this monitor's to follow
  // (empty: every one is). In a fleet shared by several monitors, one that
  // another monitor's cluster claims is not — as if a discovery filter
  // matched it. Called under the model's lock.
  std::function<bool(const std::string& key)> follows;
  // UnseenInstanceForgetHours: an instance not seen for this long is
  // forgotten (0: never); looked for every minute, or every half of it.
  std::chrono::seconds forget_unseen{std::chrono::hours(240)};
  // After a stream breaks, the server and its replicas are re-checked at
  // these delays (the first at once).
  std::vector<std::chrono::milliseconds> recheck_after{
      std::chrono::milliseconds(0),   std::chrono::milliseconds(100),  std::chrono::milliseconds(300),
      std::chrono::milliseconds(700), std::chrono::milliseconds(1500), std::chrono::milliseconds(3000)};
};

struct MonitorMetrics {
  uint64_t probes = 0, probe_failures = 0;
  uint64_t probe_connects = 0;          // probes that had to connect (no kept connection, or it had closed)
  uint64_t probe_connections_kept = 0;  // open between polls now
  uint64_t stream_events = 0, stream_bytes = 0;
  uint64_t stream_undecoded_events = 0;  // events whose body could not be decoded (StreamStatus)
  uint64_t stream_buffer_bytes = 0;      // every stream's receive buffers
  uint64_t pseudo_gtid_entries = 0;
  std::map<std::string, uint64_t> streams_by_state;  // "streaming", "disconnected", …
  size_t instances = 0, clusters = 0, open_analyses = 0;
  std::map<std::string, int64_t> replica_lag_seconds;  // key → Seconds_Behind_Master (-1: NULL)
  std::map<std::string, uint64_t> index_bytes;         // key → its index' memory
};

class Monitor {
 public:
  using Publish = std::function<void(v1::Envelope&&)>;

  Monitor(MonitorOptions options, Publish publish);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  void Start();
  void Stop();

  // Probes host:port now, on the caller's thread, adds it to the model and
  // follows it from then on (/api/discover). The probe's result is returned
  // whether or not the server answered.
  ProbeResult Discover(const std::string& key);
  // Removes the instance and stops following it; false if unknown.
  bool Forget(const std::string& key);
  // A fleet shared by several monitors (server/fleet_group.h). Adopt: the
  // servers of a cluster taken over are probed and followed from now on,
  // and `open` — the analyses its previous monitor published open — are open
  // here too, so that what is still true is not opened twice and what is
  // not is closed. Release: the servers of a cluster handed over are no
  // longer followed, and removed without a message (their analyses too):
  // their next monitor speaks for them. Their stored indexes are kept.
  void Adopt(const std::vector<std::string>& keys, const std::vector<v1::Analysis>& open);
  void Release(const std::vector<std::string>& keys);
  bool SetMaintenance(const std::string& key, Suspension s);
  bool SetDowntime(const std::string& key, Suspension s);
  // register-candidate (InstanceRecord::PromotionRuleAt); false if unknown.
  bool SetCandidate(const std::string& key, std::string rule, Clock::time_point until);

  // Runs `f` with the model and the open analyses, under the model's lock.
  void Read(const std::function<void(const Topology&, const AnalysisTracker&)>& f) const;
  // The current analysis (downtimed instances included, marked).
  std::vector<ReplicationAnalysis> Analysis() const;
  // A copy of the server's live index, or nullptr when it has none. With
  // `through` non-empty, waits (up to `timeout`) until the index has read
  // at least that far.
  std::unique_ptr<pgtid::ServerIndex> IndexSnapshot(const std::string& key, const std::string& through_file = "",
                                                    uint64_t through_pos = 0,
                                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  MonitorMetrics Metrics() const;
  // Every known server has been checked at least once.
  bool Settled() const;

 private:
  struct Server;
  struct Shard;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidewatch::analyzer
