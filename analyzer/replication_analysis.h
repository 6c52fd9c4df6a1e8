// ReplicationAnalysis: orchestrator's failure analysis (go/inst/analysis_dao.go,
// GetReplicationAnalysis) over Tidewatch's topology model: for every instance,
// what its own state and its replicas' states say — DeadMaster,
// UnreachableMaster, DeadIntermediateMaster, … — with the same codes, the
// same conditions in the same order of precedence, and the same structure
// warnings, so that orchestrator users read them as they always have.
//
// "Reachable" is orchestrator's LastCheckValid. Tidewatch decides it from a
// broken or silent replication stream confirmed by a direct check; "dead" then
// needs the holistic evidence of the replicas (none replicating), exactly as
// the codes below require.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tidewatch::analyzer {

// One instance as the analysis sees it.
struct InstanceState {
  std::string key;          // host:port
  std::string master_key;   // empty: not a replica
  std::string cluster;
  bool reachable = true;    // the last check succeeded
  bool partial_success = false;  // reachable, but the last check did not complete
  bool in_maintenance = false;   // excluded from analysis
  bool downtimed = false;
  // Replication threads of a replica.
  bool io_running = false, sql_running = false;
  // IO thread down with "error connecting/reconnecting to master" while the
  // SQL thread runs.
  bool failing_to_connect_to_master = false;
  int64_t seconds_behind_master = -1;  // -1: NULL
  int64_t sql_delay = 0;
  // What the instance logs.
  bool log_bin = false, log_replica_updates = false;
  std::string binlog_format;  // ROW, STATEMENT, MIXED
  int major_version = 0;      // e.g. 1011 for 10.11, 804 for 8.4
  bool read_only = false;
  std::string gtid_mode;      // MySQL gtid_mode; "MariaDB" for MariaDB GTID
  bool oracle_gtid = false, mariadb_gtid = false, pseudo_gtid = false;
  std::string errant_gtid;    // errant GTIDs against its master, if any
  // Semi-synchronous replication of a master.
  bool semi_sync_master_enabled = false, semi_sync_master_status = false;
  uint32_t semi_sync_wait_for_replica_count = 0, semi_sync_master_clients = 0;
  bool semi_sync_enforced = false;     // DetectSemiSyncEnforcedQuery
  bool semi_sync_replica_enabled = false;
  bool binlog_coordinates_stale = false;  // no progress between two samples
};

struct AnalysisOptions {
  int64_t reasonable_replication_lag_seconds = 10;  // ReasonableReplicationLagSeconds
  bool include_downtimed = false;
  bool include_no_problem = false;
};

struct ReplicationAnalysis {
  std::string key, master_key, cluster;
  std::string code = "NoProblem";
  std::string description;
  std::vector<std::string> replicas;
  std::vector<std::string> structure_warnings;
  bool is_master = false, is_co_master = false, reachable = true;
  uint32_t count_replicas = 0, count_valid_replicas = 0, count_valid_replicating_replicas = 0;
  uint32_t count_replicas_failing_to_connect = 0, count_lagging_replicas = 0, count_delayed_replicas = 0;
  uint32_t replication_depth = 0;
  bool downtimed = false, skippable_due_to_downtime = false;
  // A code orchestrator recovers from (dead masters and intermediate masters,
  // locked semi-sync masters), and not downtimed.
  bool actionable = false;
};

std::vector<ReplicationAnalysis> AnalyzeTopology(const std::vector<InstanceState>& instances,
                                                 const AnalysisOptions& options = {});

}  // namespace tidewatch::analyzer
