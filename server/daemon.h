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
  const std::atomic<bool>* stop = nullptr;
};

int RunDaemon(const Config& config, const DaemonOptions& options, std::ostream& err);

// The monitor as the config describes it (probe credentials and detection
// queries, streams, polling, analysis thresholds, seeds).
analyzer::MonitorOptions MonitorOptionsOf(const Config& c, const pgtid::PseudoGtidPattern* pattern);

}  // namespace tidewatch::server
