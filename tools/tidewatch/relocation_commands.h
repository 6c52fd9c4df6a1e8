// The orchestrator-named commands that read the Pseudo-GTID index and move
// replicas: last-pseudo-gtid, match-below, match-up, rematch,
// multi-match-replicas, regroup-replicas, and inject-pseudo-gtid. With a
// daemon answering at ListenAddress the move is made by the daemon, from the
// indexes it already holds; without one each command builds the indexes it
// needs by streaming the servers' binlogs first (progress on a terminal,
// quiet when piped). Output: a readable summary, or with --json one JSON
// object, the same either way.
#pragma once

#include <atomic>
#include <iosfwd>
#include <string>
#include <vector>

#include "pgtid/executor.h"
#include "server/config.h"

namespace tidewatch::tools {

struct RelocationOptions {
  std::string command;      // "last-pseudo-gtid", "match-below", …
  std::string instance;     // -i
  std::string destination;  // -s / -d
  std::vector<std::string> replicas;  // --replicas: known replicas (besides DiscoverySeeds)
  pgtid::MatchMethod method = pgtid::MatchMethod::kAuto;
  pgtid::RelayLogRoute relay_log = pgtid::RelayLogRoute::kAuto;
  bool json = false;
  bool progress = false;    // progress lines on standard error
  // inject-pseudo-gtid: entries to write (0: until stopped) and the pause between them.
  int count = 1;
  int interval_ms = 1000;
  const std::atomic<bool>* stop = nullptr;
  // Indexes persisted here between runs (SQLite); empty: none.
  std::string index_store;
  // A daemon answering at `api` (default ListenAddress) does the work with
  // its live indexes; `local` never asks one.
  std::string api;
  bool local = false;
};

int RunRelocation(const server::Config& config, const RelocationOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tidewatch::tools
