// orchestrator's information and replication-control commands on the
// command line — which-master, which-replicas, which-cluster, all-instances,
// search, topology-tabulated, can-replicate-from, is-replicating,
// stop-replica, start-replica, detach-replica, set-read-only, tags, pools,
// forget-cluster, submit-masters-to-kv-stores, raft-*, … — asked of
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
  char takes;  // 'i': -i, 'd': -i and -d, 'a': -i or -a (a cluster hint), 'o': -i or -a optional,
               // 's': -i as a string (a search, a list of instances), 0: none
  // More options: 't' --tag required, 'l' --pool required, 'p' --pool optional, 'n' --hostname required,
  // 'S' --seconds, 'q' -q (a statement), 'b' --binlog (a file, or file:pos), 'r' --binlog optional
  // (relay log file:pos), 'P' --pattern.
  const char* more = "";
};

// Every command, in the order `tidewatch --help` lists them.
const std::vector<OrchestratorCommandSpec>& OrchestratorCommands();

struct OrchestratorCommandOptions {
  std::string command;      // a name of OrchestratorCommands()
  std::string instance;     // -i HOST:PORT (or the search string)
  std::string destination;  // -d HOST:PORT
  std::string alias;        // -a: a cluster name, alias or instance
  std::string tag;          // --tag: name[=value], or a tag string for tagged
  std::string pool;         // --pool
  std::string hostname;     // --hostname: the virtual name of register-hostname-unresolve
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
