// FleetGroup: this daemon's share of a fleet that several daemons monitor
// together (MonitorGroup), through Kafka alone.
//
// The fleet is a set of cluster records (ClusterRecord in tidewatch.proto)
// on <prefix>.clusters, a log-compacted topic keyed by record. Every daemon
// of the group:
//  - is a member of the Kafka consumer group MonitorGroup over that topic,
//    with cooperative-sticky assignment, so that a rebalance moves only the
//    partitions that change owner. The records of the partitions it is given
//    are its clusters: it adopts their servers into its monitor
//    (Monitor::Adopt) together with the analyses their previous owner left
//    open on <prefix>.analysis, and releases them (Monitor::Release) when a
//    partition is taken from it, before the group gives it to the next owner.
//  - reads every partition of the topic (a group-less reader) into a
//    directory of records: which record claims which server, which daemon
//    owns it and where its HTTP API answers. A server that another daemon's
//    record claims is not followed here (MonitorOptions::follows), and the
//    HTTP API forwards a request about it to its owner (OwnerApi).
//  - writes records: a seed (DiscoverySeeds, /api/discover) that no record
//    claims becomes a record keyed by the top of its replication chain (its
//    cluster's name then); the owner of a record rewrites it when the
//    cluster's members, name or owner change. Of two records that claim one
//    server, the one with the larger key is retired into the other by its
//    owner.
//
// Handover: a daemon that dies stops sending heartbeats; once the group's
// session timeout has passed, its partitions go to the others, which adopt
// its records — each server probed and followed, its index loaded from the
// index store or read again from the server — and resume detection. What
// the dead daemon published open is adopted, not opened again; what it had
// not published yet (its spool) is published by it when it returns.
//
// Threads: one of its own polls the group and reads the topics; the rest
// may be called from any thread. Lock order: the monitor's model lock may be
// held when Follows is called, never the other way round.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "analyzer/instance_probe.h"
#include "analyzer/monitor.h"
#include "base/status.h"
#include "sinks/kafka_envelope_consumer.h"
#include "sinks/publisher.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::server {

struct FleetGroupOptions {
  std::string brokers, topic_prefix = "tidewatch", group;
  std::map<std::string, std::string> properties;  // librdkafka security settings, as for every consumer
  std::chrono::milliseconds session_timeout{6000};
  std::string producer_id;  // this daemon, as records name their owner
  std::string api_address;  // host:port where this daemon's HTTP API answers the others
  analyzer::ProbeOptions probe;  // to walk a new seed up to its cluster's top
  std::vector<std::string> seeds;  // DiscoverySeeds, written as records once the directory is read
  std::chrono::milliseconds record_refresh{2000};  // how often owned records are compared with the model
};

// One record of the directory, as the HTTP API shows it.
struct FleetRecordView {
  std::string key, name, alias, owner, owner_api, merged_into;
  std::vector<std::string> seeds;
  int32_t partition = -1;
  bool mine = false;  // in a partition this daemon is given
};

struct FleetGroupStats {
  size_t records = 0, owned = 0, partitions = 0;
  uint64_t adopted = 0, released = 0, written = 0;
};

class FleetGroup {
 public:
  static Status Open(FleetGroupOptions options, analyzer::Monitor* monitor, sinks::Publisher* publisher,
                     std::unique_ptr<FleetGroup>* out);
  ~FleetGroup();
  FleetGroup(const FleetGroup&) = delete;
  FleetGroup& operator=(const FleetGroup&) = delete;

  void Start();
  // Leaves the group: its partitions go to the others at once.
  void Stop();

  // Whether this daemon follows `key` when a neighbour names it: not when
  // another daemon's record claims it.
  bool Follows(const std::string& key) const;
  // Whether the group has confirmed this daemon the owner of `key`'s cluster
  // now (the recovery consumer acts only then): not while the group cannot
  // be reached, when its clusters are kept watched but may be another's.
  bool Owns(const std::string& key) const;
  // /api/discover: probes `key`; a server no record claims becomes a record
  // (or joins the record that claims its cluster's top); one this daemon
  // owns is followed at once (Monitor::Discover).
  analyzer::ProbeResult Discover(const std::string& key);
  // The HTTP API of the daemon that monitors `instance_or_cluster` (an
  // instance key, a cluster name or alias, or a record key); empty when it is
  // this daemon, or no record names it.
  std::string OwnerApi(const std::string& instance_or_cluster) const;
  std::vector<FleetRecordView> Records() const;
  // The HTTP APIs of the other daemons that monitor clusters now.
  std::vector<std::string> OtherOwners() const;
  FleetGroupStats Stats() const;
  const std::string& api_address() const { return options_.api_address; }

  // Called (on the group's thread) with the analyses left open by the
  // previous owner of each cluster taken over.
  void set_on_adopted(std::function<void(const std::vector<v1::Analysis>&)> f) { on_adopted_ = std::move(f); }

 private:
  struct Entry {
    v1::ClusterRecord record;
    int32_t partition = -1;
  };

  FleetGroup(FleetGroupOptions options, analyzer::Monitor* monitor, sinks::Publisher* publisher)
      : options_(std::move(options)), monitor_(monitor), publisher_(publisher) {}
  void Run();
  // The records written since the last call, into the directory.
  void ReadDirectory();
  // The analyses published since the last call, into open_analyses_.
  void ReadAnalyses();
  // Adopts the records of the partitions given and not adopted yet, and
  // takes in seeds added to adopted ones.
  void AdoptAssigned();
  // Releases the adopted records of `partitions`.
  void ReleasePartitions(const std::set<int32_t>& partitions);
  // Rewrites the adopted records whose members, name or owner changed, and
  // retires those another record covers.
  void RefreshOwned();
  // Servers of an adopted record in the model now: its cluster's members
  // (for each of its seeds, the cluster it is in), or its seeds when none is
  // known yet. `*name`: the cluster that has most of them.
  std::set<std::string> MembersOf(const std::string& record_key, std::string* name, std::string* alias = nullptr) const;
  // Publishes the record (any thread); false when the publisher refused it.
  bool Write(const std::string& key, const v1::ClusterRecord& r);
  // Under mu_: the record claiming `key` (an instance), or nullptr.
  const Entry* ClaimOf(const std::string& key) const;

  FleetGroupOptions options_;
  analyzer::Monitor* monitor_;
  sinks::Publisher* publisher_;
  std::function<void(const std::vector<v1::Analysis>&)> on_adopted_;
  std::unique_ptr<sinks::KafkaEnvelopeConsumer> member_, directory_reader_, analysis_reader_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  mutable std::mutex mu_;  // guards what follows
  std::map<std::string, Entry> records_;          // record key → newest record
  std::map<std::string, std::string> claims_;     // server → record key
  std::set<int32_t> assigned_;                     // partitions given to this daemon
  std::set<int32_t> lost_;  // given, then lost with the group's session: watched until the group answers
  FleetGroupStats stats_;  // its counters, and `owned` (adopted_.size(), for other threads)

  // The group's thread only.
  std::map<std::string, std::set<std::string>> adopted_;  // record key → servers adopted under it
  std::map<std::pair<std::string, std::string>, v1::Analysis> open_analyses_;  // (instance, code)
  std::map<std::string, v1::ClusterRecord> written_;  // record key → what this daemon wrote last
};

}  // namespace tidewatch::server
