#include "analyzer/replication_analysis.h"

#include <algorithm>
#include <map>
#include <set>

namespace tidewatch::analyzer {

namespace {

struct Code {
  const char* code;
  const char* description;
};

bool IsRecoverable(const std::string& code) {
  static const std::set<std::string> k = {
      "DeadMaster", "DeadMasterAndSomeReplicas", "DeadCoMaster", "DeadCoMasterAndSomeReplicas",
      "DeadIntermediateMaster", "DeadIntermediateMasterWithSingleReplica",
      "DeadIntermediateMasterWithSingleReplicaFailingToConnect", "DeadIntermediateMasterAndSomeReplicas",
      "DeadIntermediateMasterAndReplicas", "AllIntermediateMasterReplicasFailingToConnectOrDead",
      "LockedSemiSyncMaster", "MasterWithTooManySemiSyncReplicas"};
  return k.count(code) != 0;
}

// Codes whose recovery acts on the replicas: skipped when every replica is
// downtimed (orchestrator's appendAnalysis).
bool AboutReplicas(const std::string& code) {
  static const std::set<std::string> k = {
      "AllMasterReplicasNotReplicating", "AllMasterReplicasNotReplicatingOrDead", "MasterSingleReplicaDead",
      "AllCoMasterReplicasNotReplicating", "DeadIntermediateMasterWithSingleReplica",
      "DeadIntermediateMasterWithSingleReplicaFailingToConnect", "DeadIntermediateMasterAndReplicas",
      "DeadIntermediateMasterAndSomeReplicas", "AllIntermediateMasterReplicasFailingToConnectOrDead",
      "AllIntermediateMasterReplicasNotReplicating"};
  return k.count(code) != 0;
}

}  // namespace

std::vector<ReplicationAnalysis> AnalyzeTopology(const std::vector<InstanceState>& instances,
                                                 const AnalysisOptions& options) {
  std::map<std::string, const InstanceState*> by_key;
  std::map<std::string, std::vector<const InstanceState*>> replicas_of;
  for (const auto& i : instances) by_key[i.key] = &i;
  for (const auto& i : instances) {
    if (!i.master_key.empty()) replicas_of[i.master_key].push_back(&i);
  }
  auto depth = [&](const InstanceState& i) {
    uint32_t d = 0;
    std::set<std::string> seen{i.key};
    for (const InstanceState* p = &i; !p->master_key.empty();) {
      auto it = by_key.find(p->master_key);
      ++d;
      if (it == by_key.end() || !seen.insert(it->first).second) break;
      p = it->second;
    }
    return d;
  };

  std::vector<ReplicationAnalysis> out;
  for (const auto& i : instances) {
    if (i.in_maintenance) continue;
    ReplicationAnalysis a;
    a.key = i.key;
    a.master_key = i.master_key;
    a.cluster = i.cluster;
    a.reachable = i.reachable;
    a.downtimed = i.downtimed;
    a.is_master = i.master_key.empty();
    const auto& reps = replicas_of[i.key];
    // Co-masters replicate from each other.
    if (!a.is_master) {
      for (const auto* r : reps) {
        if (r->key == i.master_key) a.is_co_master = true;
      }
    }
    a.replication_depth = depth(i);
    uint32_t logging = 0, stmt = 0, mixed = 0, row = 0, downtimed_replicas = 0, semi_sync_replicas = 0;
    uint32_t oracle_gtid_replicas = 0, mariadb_gtid_replicas = 0;
    std::set<int> majors;
    std::set<std::string> gtid_modes;
    bool errant = false;
    for (const auto* r : reps) {
      a.replicas.push_back(r->key);
      ++a.count_replicas;
      if (r->downtimed) ++downtimed_replicas;
      if (r->sql_delay > 0) ++a.count_delayed_replicas;
      if (r->seconds_behind_master > options.reasonable_replication_lag_seconds) ++a.count_lagging_replicas;
      gtid_modes.insert(r->gtid_mode);
      if (!r->errant_gtid.empty()) errant = true;
      if (r->semi_sync_replica_enabled) ++semi_sync_replicas;
      // Logging replicas and their formats as last seen, reachable or not
      // (orchestrator's count_logging_replicas and the per-format counts sum
      // over every known replica): replicas that die with their master do
      // not make it a master without logging replicas.
      if (r->log_bin && r->log_replica_updates) {
        ++logging;
        majors.insert(r->major_version);
        if (r->binlog_format == "STATEMENT") ++stmt;
        if (r->binlog_format == "MIXED") ++mixed;
        if (r->binlog_format == "ROW") ++row;
      }
      if (!r->reachable) continue;
      ++a.count_valid_replicas;
      if (r->oracle_gtid) ++oracle_gtid_replicas;
      if (r->mariadb_gtid) ++mariadb_gtid_replicas;
      if (r->io_running && r->sql_running) ++a.count_valid_replicating_replicas;
      if (r->failing_to_connect_to_master && !r->io_running && r->sql_running) ++a.count_replicas_failing_to_connect;
    }
    const bool valid = i.reachable;
    const uint32_t n = a.count_replicas, nv = a.count_valid_replicas, nr = a.count_valid_replicating_replicas;
    const uint32_t nf = a.count_replicas_failing_to_connect;
    const bool m = a.is_master, co = a.is_co_master;
    const bool i_failing = i.failing_to_connect_to_master && !i.io_running && i.sql_running;
    Code c{"NoProblem", ""};
    // The conditions and their order are orchestrator's.
    if (m && !valid && n == 0) {
      c = {"DeadMasterWithoutReplicas", "Master cannot be reached and has no replica"};
    } else if (m && !valid && nv == n && nr == 0) {
      c = {"DeadMaster", "Master cannot be reached and none of its replicas is replicating"};
    } else if (m && !valid && n > 0 && nv == 0 && nr == 0) {
      c = {"DeadMasterAndReplicas", "Master cannot be reached and none of its replicas is reachable"};
    } else if (m && !valid && nv < n && nv > 0 && nr == 0) {
      c = {"DeadMasterAndSomeReplicas",
           "Master cannot be reached; some of its replicas are unreachable and none of the others is replicating"};
    } else if (m && !valid && a.count_lagging_replicas == n && a.count_delayed_replicas < n && nr > 0) {
      c = {"UnreachableMasterWithLaggingReplicas", "Master cannot be reached and all of its replicas are lagging"};
    } else if (m && !valid && !i.partial_success && nv > 0 && nr > 0) {
      c = {"UnreachableMaster", "Master cannot be reached but it has replicating replicas; possibly a network issue"};
    } else if (m && !valid && i.partial_success && nf > 0 && nv > 0 && nr > 0) {
      c = {"UnreachableMaster", "Master cannot be reached but it has replicating replicas; possibly a network issue"};
    } else if (m && i.semi_sync_master_enabled && i.semi_sync_master_status && i.semi_sync_wait_for_replica_count > 0 &&
               i.semi_sync_master_clients < i.semi_sync_wait_for_replica_count) {
      c = i.binlog_coordinates_stale
              ? Code{"LockedSemiSyncMaster", "Semi-sync master is locked: not enough replica acknowledgements"}
              : Code{"LockedSemiSyncMasterHypothesis", "Semi-sync master seems locked; more samples needed"};
    } else if (m && valid && i.semi_sync_enforced && i.semi_sync_wait_for_replica_count > 0 &&
               semi_sync_replicas > i.semi_sync_wait_for_replica_count) {
      c = {"MasterWithTooManySemiSyncReplicas", "Master has more semi-sync replicas than it waits for"};
    } else if (m && valid && n == 1 && nv == n && nr == 0) {
      c = {"MasterSingleReplicaNotReplicating", "Master is reachable but its single replica is not replicating"};
    } else if (m && valid && n == 1 && nv == 0) {
      c = {"MasterSingleReplicaDead", "Master is reachable but its single replica is dead"};
    } else if (m && valid && n > 1 && nv == n && nr == 0) {
      c = {"AllMasterReplicasNotReplicating", "Master is reachable but none of its replicas is replicating"};
    } else if (m && valid && n > 1 && nv < n && nv > 0 && nr == 0) {
      c = {"AllMasterReplicasNotReplicatingOrDead", "Master is reachable but none of its replicas is replicating"};
    } else if (co && !valid && n > 0 && nv == n && nr == 0) {
      c = {"DeadCoMaster", "Co-master cannot be reached and none of its replicas is replicating"};
    } else if (co && !valid && n > 0 && nv < n && nv > 0 && nr == 0) {
      c = {"DeadCoMasterAndSomeReplicas",
           "Co-master cannot be reached; some of its replicas are unreachable and none of the others is replicating"};
    } else if (co && !valid && !i.partial_success && nv > 0 && nr > 0) {
      c = {"UnreachableCoMaster", "Co-master cannot be reached but it has replicating replicas; possibly a network issue"};
    } else if (co && valid && n > 0 && nr == 0) {
      c = {"AllCoMasterReplicasNotReplicating", "Co-master is reachable but none of its replicas is replicating"};
    } else if (!m && !valid && n == 1 && nv == n && nf == n && nr == 0) {
      c = {"DeadIntermediateMasterWithSingleReplicaFailingToConnect",
           "Intermediate master cannot be reached and its single replica is failing to connect"};
    } else if (!m && !valid && n == 1 && nv == n && nr == 0) {
      c = {"DeadIntermediateMasterWithSingleReplica",
           "Intermediate master cannot be reached and its single replica is not replicating"};
    } else if (!m && !valid && n > 1 && nv == n && nr == 0) {
      c = {"DeadIntermediateMaster", "Intermediate master cannot be reached and none of its replicas is replicating"};
    } else if (!m && !valid && nv < n && nv > 0 && nr == 0) {
      c = {"DeadIntermediateMasterAndSomeReplicas",
           "Intermediate master cannot be reached; some of its replicas are unreachable and none of the others is "
           "replicating"};
    } else if (!m && !valid && n > 0 && nv == 0) {
      c = {"DeadIntermediateMasterAndReplicas",
           "Intermediate master cannot be reached and none of its replicas is reachable"};
    } else if (!m && !valid && n > 0 && a.count_lagging_replicas == n && a.count_delayed_replicas < n && nr > 0) {
      c = {"UnreachableIntermediateMasterWithLaggingReplicas",
           "Intermediate master cannot be reached and all of its replicas are lagging"};
    } else if (!m && !valid && !i.partial_success && nv > 0 && nr > 0) {
      c = {"UnreachableIntermediateMaster",
           "Intermediate master cannot be reached but it has replicating replicas; possibly a network issue"};
    } else if (!m && valid && n > 1 && nr == 0 && nf > 0 && nf == nv) {
      c = {"AllIntermediateMasterReplicasFailingToConnectOrDead",
           "Intermediate master is reachable but all of its replicas are failing to connect or dead"};
    } else if (!m && valid && n > 0 && nr == 0) {
      c = {"AllIntermediateMasterReplicasNotReplicating",
           "Intermediate master is reachable but none of its replicas is replicating"};
    } else if (a.replication_depth == 1 && i_failing) {
      c = {"FirstTierReplicaFailingToConnectToMaster", "First-tier replica cannot connect to its master"};
    } else if (m && valid && n == 0) {
      c = {"MasterWithoutReplicas", "Master has no replicas"};
    }
    a.code = c.code;
    a.description = c.description;

    // Structure warnings: dangers for a future promotion.
    auto warn = [&](const char* w) { a.structure_warnings.emplace_back(w); };
    // Failover support is a property of the immediate topology: every valid
    // replica replicates by GTID (orchestrator's OracleGTIDImmediateTopology,
    // MariaDBGTIDImmediateTopology), or the master writes Pseudo-GTID.
    const bool oracle_gtid_topology = oracle_gtid_replicas == nv && nv > 0;
    const bool mariadb_gtid_topology = mariadb_gtid_replicas == nv && nv > 0;
    if (m && logging == 0 && n > 1) warn("NoLoggingReplicasStructureWarning");
    if (m && n > 1 && !oracle_gtid_topology && !mariadb_gtid_topology && !i.pseudo_gtid) {
      warn("NoFailoverSupportStructureWarning");
    }
    if (m && stmt > 0 && mixed > 0) warn("StatementAndMixedLoggingReplicasStructureWarning");
    if (m && stmt > 0 && row > 0) warn("StatementAndRowLoggingReplicasStructureWarning");
    if (m && mixed > 0 && row > 0) warn("MixedAndRowLoggingReplicasStructureWarning");
    if (m && majors.size() > 1) warn("MultipleMajorVersionsLoggingReplicasStructureWarning");
    if (n > 0 && (gtid_modes.size() > 1 || (!gtid_modes.empty() && *gtid_modes.begin() != i.gtid_mode))) {
      warn("DifferentGTIDModesStructureWarning");
    }
    if (errant) warn("ErrantGTIDStructureWarning");
    if (m && i.read_only) warn("NoWriteableMasterStructureWarning");
    if (m && i.semi_sync_master_enabled && !i.semi_sync_master_status && i.semi_sync_wait_for_replica_count > 0 &&
        i.semi_sync_master_clients < i.semi_sync_wait_for_replica_count) {
      warn("NotEnoughValidSemiSyncReplicasStructureWarning");
    }

    a.skippable_due_to_downtime = i.downtimed || (n > 0 && downtimed_replicas == n && AboutReplicas(a.code));
    a.actionable = IsRecoverable(a.code) && !a.skippable_due_to_downtime;
    if (a.code == "NoProblem" && a.structure_warnings.empty() && !options.include_no_problem) continue;
    if (a.skippable_due_to_downtime && !options.include_downtimed) continue;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace tidewatch::analyzer
