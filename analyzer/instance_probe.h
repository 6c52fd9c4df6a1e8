// InstanceProbe: one check of one server over SQL — what orchestrator's
// ReadTopologyInstance reads (go/inst/instance_dao.go): the server's
// variables, SHOW MASTER STATUS, SHOW SLAVE STATUS, the replicas it knows
// (SHOW SLAVE HOSTS, with report_host / report_port), semi-synchronous
// replication state, and the configured detection queries (cluster alias,
// instance alias, promotion rule, semi-sync enforcement) and data center
// pattern. Blocking: runs on a worker, never on the event loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "pgtid/instance.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::analyzer {


struct ProbeOptions {
  std::string user, password;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds read_timeout{5000};
  uint16_t default_port = 3306;               // DefaultInstancePort, for replicas reported without one
  std::string data_center_pattern;            // DataCenterPattern (RE2, first group, on the host name)
  std::string region_pattern;                 // RegionPattern
  std::string physical_environment_pattern;   // PhysicalEnvironmentPattern
  // A query, when set, wins over its pattern (orchestrator: DetectDataCenterQuery, …).
  std::string detect_data_center_query;       // DetectDataCenterQuery
  std::string detect_region_query;            // DetectRegionQuery
  std::string detect_physical_environment_query;  // DetectPhysicalEnvironmentQuery
  std::string detect_cluster_domain_query;    // DetectClusterDomainQuery
  // ReplicationLagQuery: one number, the replica's lag in seconds (e.g. from
  // a heartbeat table), used instead of Seconds_Behind_Master.
  std::string replication_lag_query;
  std::string detect_cluster_alias_query;     // DetectClusterAliasQuery
  std::string detect_instance_alias_query;    // DetectInstanceAliasQuery
  std::string detect_promotion_rule_query;    // DetectPromotionRuleQuery
  std::string detect_semi_sync_enforced_query;  // DetectSemiSyncEnforcedQuery
  // DiscoverByShowSlaveHosts off: replicas are also looked for in the
  // processlist (their Binlog Dump threads), at DefaultInstancePort, where
  // SHOW SLAVE HOSTS does not already name their host.
  bool discover_by_processlist = false;
  // server_ids Tidewatch's own streams register with: not replicas.
  std::set<uint32_t> own_server_ids;
};

struct SemiSync {
  bool master_enabled = false, master_status = false;
  bool replica_enabled = false, replica_status = false;
  uint32_t wait_for_replica_count = 1;  // MariaDB waits for one
  uint32_t master_clients = 0;
  uint64_t master_timeout_ms = 0;
};

struct ProbeResult {
  std::string key;  // host:port probed
  bool reachable = false;
  // Reachable, but a statement after the connection failed (orchestrator's
  // partial success: the instance is alive, its record incomplete).
  bool partial = false;
  std::string error;  // why it is unreachable or partial
  std::chrono::system_clock::time_point at;
  double latency_ms = 0;
  bool connected = false;  // opened a connection (none was kept, or the kept one had closed)

  pgtid::Instance instance;
  std::string server_uuid, version_comment;
  uint64_t uptime_seconds = 0;
  std::vector<std::string> replica_keys;  // SHOW SLAVE HOSTS, host:port, without Tidewatch's own streams
  SemiSync semi_sync;
  bool semi_sync_enforced = false;
  std::string data_center, promotion_rule, cluster_alias, instance_alias;
  std::string region, physical_environment, cluster_domain;
};

ProbeResult ProbeInstance(const ProbeOptions& options, const std::string& host, uint16_t port);

// The same over `*connection`, kept by the caller between probes of one
// server (orchestrator keeps a pool too): an open one is used, and when it
// turns out to be closed (the server restarted, wait_timeout, a reset) the
// probe connects afresh once, so a stale connection never passes for a
// dead server. Afterwards *connection holds the connection used, or nothing
// when the server did not answer fully. Saves the connect, handshake and
// authentication of every poll. The probe's statements (the instance's, its
// registered replicas, semi-synchronous replication's variables) go in one
// round trip where the server allows several statements a query
// (CLIENT_MULTI_STATEMENTS; the statements are fixed text), each with the
// answer it would have had alone; the operator's Detect* queries go alone.
//
// `session`, kept beside the connection: what a server answers the same for
// as long as a connection lasts — @@version_comment and @@server_uuid are
// read-only, and the uptime advances with the clock — read on a fresh
// connection and reused while that connection is (a restart closes it).
// Semi-synchronous replication's status counters are read only when its
// variables enable it: disabled, they are off by definition.
struct ProbeSession {
  bool known = false;
  std::string version_comment, server_uuid;
  uint64_t uptime_seconds = 0;
  std::chrono::steady_clock::time_point uptime_at{};
};
ProbeResult ProbeInstance(const ProbeOptions& options, const std::string& host, uint16_t port,
                          std::unique_ptr<pgtid::SqlConnection>* connection, ProbeSession* session = nullptr);

// host:port of the master `p` replicates from, as SHOW SLAVE STATUS names
// it; empty when it is no replica (or could not be read).
std::string MasterKeyOf(const ProbeResult& p);

// The data center of `host` by DataCenterPattern (its first capture group);
// empty when the pattern is empty or does not match.
std::string DataCenterOf(const std::string& pattern, const std::string& host);

}  // namespace tidewatch::analyzer
