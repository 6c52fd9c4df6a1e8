// `tidewatch run`: the long-running monitor. Discovers the topology from
// DiscoverySeeds (and /api/discover), probes every instance each
// InstancePollSeconds, follows every server that has binary logs as a
// replica, analyzes after every change, and publishes to every configured
// outlet — Kafka (KafkaBrokers, through the spool), JSON lines
// (JsonLinesFile or --jsonl) and the HTTP API with /api/stream on
// ListenAddress. With AutoPseudoGTID it injects Pseudo-GTID into each
// cluster's writable master. Indexes are kept in IndexStoreFile (default
// <StateDir>/indexes.sqlite): a restart reads only the binlog written since.
#pragma once

#include <atomic>
#include <iosfwd>
#include <string>

#include "analyzer/monitor.h"
#include "server/config.h"

namespace tidewatch::server {

struct DaemonOptions {
  std::string jsonl;           // overrides JsonLinesFile ("-": standard output)
  bool http = true;            // serve ListenAddress
  bool recover = false;        // run the recovery consumer in the daemon (RecoveryConsumer: "embedded")
  // `tidewatch recovery-consumer`: the recovery consumer as a process of its
  // own. It follows the servers with a monitor of its own — its view, and
  // the live indexes a recovery matches with — and publishes nothing but its
  // recovery steps; it acts on the analyses of a daemon, read from Kafka in
  // a consumer group (<prefix>.analysis, RecoveryConsumerGroup, default
  // <prefix>.recovery) or, with `follow_api`, from that daemon's
  // /api/stream. Its state (indexes, topology, spool, sequence) is kept in
  // <StateDir>/recovery-consumer, its producer id is ProducerId +
  // "/recovery-consumer", and it serves the HTTP API (the recovery commands
  // and audit) only when ListenAddress is given to it (`--listen`).
  bool recovery_consumer = false;
  std::string follow_api;      // recovery consumer: the daemon's HOST:PORT
  const std::atomic<bool>* stop = nullptr;
};

int RunDaemon(const Config& config, const DaemonOptions& options, std::ostream& err);

// What `tidewatch recovery-consumer` runs with: `config` with the state,
// spool, JSON lines, producer id and listen address of its own, and no
// Pseudo-GTID injection (that is the daemon's). `listen` is the HTTP API's
// address ("" : none).
Config RecoveryConsumerConfigOf(const Config& config, const std::string& listen);

// Where the other daemons of a monitor group reach this one's HTTP API:
// AdvertisedAddress, else ListenAddress (this machine's host name for one
// that names every interface).
std::string AdvertisedAddressOf(const Config& c);

// The monitor as the config describes it (probe credentials and detection
// queries, streams, polling, analysis thresholds, seeds).
analyzer::MonitorOptions MonitorOptionsOf(const Config& c, const pgtid::PseudoGtidPattern* pattern);

}  // namespace tidewatch::server
