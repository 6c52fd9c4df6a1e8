// orchestrator's information and replication-control commands on the
// command line — which-master, which-replicas, which-cluster, all-instances,
// search, topology-tabulated, can-replicate-from, is-replicating,
// stop-replica, start-replica, detach-replica, set-read-only, … — asked of
// the daemon at ListenAddress (or --api) through its orchestrator API
// (server/orchestrator_api.h), printed as orchestrator-client prints them:
// host:port lines, a name, or the tree; --json prints the API's answer.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "server/config.h"

namespace tidewatch::tools {

struct OrchestratorCommandSpec {
  const char* name;
  const char* help;
  char takes;  // 'i': -i, 'd': -i and -d, 'a': -i or -a (a cluster hint), 's': -i as a search string, 0: none
  // A further option the command needs: "seconds" (--seconds), "query" (-q),
  // "binlog" (--binlog), "relaylog" (--binlog, optional), "pattern"
  // (--pattern); nullptr for none.
  const char* extra = nullptr;
};

// Every command, in the order `tidewatch --help` lists them.
const std::vector<OrchestratorCommandSpec>& OrchestratorCommands();

struct OrchestratorCommandOptions {
  std::string command;      // a name of OrchestratorCommands()
  std::string instance;     // -i HOST:PORT (or the search string)
  std::string destination;  // -d HOST:PORT
  std::string alias;        // -a: a cluster name, alias or instance
  std::string api;          // daemon address; empty: ListenAddress
  std::string seconds;      // --seconds (delay-replication)
  std::string query;        // -q (restart-replica-statements)
  std::string binlog;       // --binlog: a file (purge-binary-logs) or file:pos (master-pos-wait)
  bool force = false;       // --force (purge-binary-logs)
  std::string pattern;      // --pattern (find-binlog-entry)
  bool json = false;
};

int RunOrchestratorCommand(const server::Config& config, const OrchestratorCommandOptions& options,
                           std::ostream& out, std::ostream& err);

}  // namespace tidewatch::tools
