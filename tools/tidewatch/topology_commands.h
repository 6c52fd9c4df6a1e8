// The commands that show what the daemon knows — `topology -i` (orchestrator's
// ASCII tree), `clusters`, `replication-analysis`, `instance -i`, `discover -i`,
// `forget -i` — talking to the daemon's API when one answers at ListenAddress
// (or --api). Without a daemon, the read commands discover the topology
// themselves, once, from -i or DiscoverySeeds; `forget` needs the daemon.
#pragma once

#include <iosfwd>
#include <string>

#include "server/config.h"

namespace tidewatch::tools {

struct TopologyCommandOptions {
  std::string command;   // "topology", "clusters", "replication-analysis", "instance", "discover", "forget"
  std::string instance;  // -i
  std::string api;       // daemon address; empty: ListenAddress
  bool local = false;    // never ask a daemon
  bool json = false;
};

int RunTopologyCommand(const server::Config& config, const TopologyCommandOptions& options, std::ostream& out,
                       std::ostream& err);

}  // namespace tidewatch::tools
