// Config: Tidewatch's JSON configuration file. Keys are orchestrator's where
// the concept is the same (orchestrator's go/config/config.go), so an
// orchestrator configuration works as it is; unknown keys are reported as
// warnings, a bad value is an error naming its key. Secrets are never
// printed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "binlog/status.h"
#include "pgtid/pseudo_gtid_pattern.h"

namespace tidewatch::tools {

struct Config {
  std::string path;  // where it was read from ("" for the defaults)
  std::string topology_user;      // MySQLTopologyUser
  std::string topology_password;  // MySQLTopologyPassword, or from MySQLTopologyCredentialsConfigFile
  uint16_t default_instance_port = 3306;  // DefaultInstancePort
  std::vector<std::string> discovery_seeds;  // DiscoverySeeds
  pgtid::PseudoGtidConfig pseudo_gtid;       // PseudoGTIDPattern, …IsFixedSubstring, PseudoGTIDMonotonicHint
  // Tidewatch's own.
  uint32_t replication_server_id = 0;  // TidewatchServerId: server_id its streams register with
  std::vector<std::string> warnings;
};

// Reads `path`; with an empty path, the first of /etc/tidewatch.conf.json and
// ./tidewatch.conf.json that exists, else the defaults.
binlog::Status LoadConfig(const std::string& path, Config* out);

}  // namespace tidewatch::tools
