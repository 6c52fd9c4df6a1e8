#include "server/orchestrator_json.h"

#include <algorithm>
#include <ctime>

#include "base/host_port.h"
#include "pgtid/host_names.h"
#include "pgtid/executor.h"

namespace tidewatch::server {

using nlohmann::json;
using analyzer::Clock;

namespace {

json NullInt(const std::optional<int64_t>& v) { return {{"Int64", v.value_or(0)}, {"Valid", v.has_value()}}; }

// orchestrator's backend datetime text: "YYYY-MM-DD hh:mm:ss" (local time).
std::string Timestamp(Clock::time_point t) {
  if (t == Clock::time_point{}) return "";
  const std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

json Keys(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end(), InstanceKeyLess);
  json out = json::array();
  for (const auto& k : keys) out.push_back(InstanceKeyJson(k));
  return out;
}

// The state of a replication thread: -1 no thread (not a replica), 0
// stopped, 1 running, 2 other (connecting).
int ThreadState(bool configured, const std::string& state) {
  if (!configured) return -1;
  if (state == "Yes") return 1;
  if (state == "No" || state.empty()) return 0;
  return 2;
}

}  // namespace

bool InstanceKeyLess(const std::string& a, const std::string& b) {
  std::string ha, hb;
  uint16_t pa = 0, pb = 0;
  if (!SplitHostPort(a, &ha, &pa)) ha = a;
  if (!SplitHostPort(b, &hb, &pb)) hb = b;
  return std::tie(ha, pa) < std::tie(hb, pb);
}

json CoordinatesJson(const pgtid::BinlogCoordinates& c, int type) {
  return {{"LogFile", c.file}, {"LogPos", c.pos}, {"Type", type}};
}

json InstanceKeyJson(const std::string& key) {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(key, &host, &port)) host = key;
  return {{"Hostname", host}, {"Port", port}};
}

json Envelope(bool ok, const std::string& message, json details) {
  json e = json::object();
  e["Code"] = ok ? "OK" : "ERROR";
  e["Message"] = message;
  e["Details"] = std::move(details);
  return e;
}

json ProblemsOf(const analyzer::InstanceRecord& r, const JsonSettings& s) {
  json p = json::array();
  const auto now = Clock::now();
  const auto& rs = r.probe.instance.replica;
  if (!r.reachable) {
    p.push_back("last_check_invalid");
  } else if (now - r.last_checked > 5 * s.poll_interval) {
    p.push_back("not_recently_checked");
  } else if (rs.configured && !(rs.io_running == "Yes" && rs.sql_running)) {
    p.push_back("not_replicating");
  } else if (rs.configured && rs.seconds_behind && *rs.seconds_behind > s.reasonable_lag_seconds) {
    p.push_back("replication_lag");
  }
  if (!r.errant_gtid.empty()) p.push_back("errant_gtid");
  return p;
}

json InstanceJson(const analyzer::InstanceRecord& r, const analyzer::Topology& t, const JsonSettings& s) {
  const auto& pr = r.probe;
  const auto& i = pr.instance;
  const auto& rs = i.replica;
  const auto now = Clock::now();
  const bool io = rs.io_running == "Yes";
  json replicas = Keys(t.ReplicasOf(r.key));
  std::optional<int64_t> lag = rs.configured ? rs.seconds_behind : std::optional<int64_t>(0);
  std::optional<int64_t> since_seen;
  if (r.last_seen != Clock::time_point{}) {
    since_seen = std::chrono::duration_cast<std::chrono::seconds>(now - r.last_seen).count();
  }
  const bool downtimed = r.downtime.ActiveAt(now);
  json j = json::object();
  j["Key"] = InstanceKeyJson(r.key);
  j["InstanceAlias"] = pr.instance_alias;
  j["Uptime"] = pr.uptime_seconds;
  j["ServerID"] = i.server_id;
  j["ServerUUID"] = pr.server_uuid;
  j["Version"] = i.version;
  j["VersionComment"] = pr.version_comment;
  j["FlavorName"] = r.probed ? (i.mariadb ? "MariaDB" : "MySQL") : "";
  j["ReadOnly"] = i.read_only;
  j["Binlog_format"] = i.binlog_format;
  j["BinlogRowImage"] = "";
  j["LogBinEnabled"] = i.log_bin;
  j["LogSlaveUpdatesEnabled"] = i.log_slave_updates;
  j["LogReplicationUpdatesEnabled"] = i.log_slave_updates;
  j["SelfBinlogCoordinates"] = CoordinatesJson(i.self);
  j["MasterKey"] = r.master_key.empty() ? json{{"Hostname", ""}, {"Port", 0}} : InstanceKeyJson(r.master_key);
  j["MasterUUID"] = "";
  j["AncestryUUID"] = "";
  j["IsDetachedMaster"] = false;
  j["Slave_SQL_Running"] = rs.sql_running;
  j["ReplicationSQLThreadRuning"] = rs.sql_running;
  j["Slave_IO_Running"] = io;
  j["ReplicationIOThreadRuning"] = io;
  j["ReplicationSQLThreadState"] = rs.configured ? (rs.sql_running ? 1 : 0) : -1;
  j["ReplicationIOThreadState"] = ThreadState(rs.configured, rs.io_running);
  j["HasReplicationFilters"] = rs.has_filters;
  j["GTIDMode"] = i.mariadb ? "" : i.gtid_mode;
  j["SupportsOracleGTID"] = !i.mariadb && i.gtid_mode == "ON";
  j["UsingOracleGTID"] = !i.mariadb && rs.UsesGtid();
  j["UsingMariaDBGTID"] = i.mariadb && rs.UsesGtid();
  j["UsingPseudoGTID"] = r.pseudo_gtid;
  j["ReadBinlogCoordinates"] = CoordinatesJson(rs.read_master);
  j["ExecBinlogCoordinates"] = CoordinatesJson(rs.exec_master);
  j["IsDetached"] = false;
  j["RelaylogCoordinates"] = CoordinatesJson({rs.relay_log_file, rs.relay_log_pos}, 1);
  j["LastSQLError"] = rs.last_sql_error;
  j["LastIOError"] = rs.last_io_error;
  j["SecondsBehindMaster"] = NullInt(rs.seconds_behind);
  j["SQLDelay"] = rs.sql_delay;
  j["ExecutedGtidSet"] = i.mariadb ? i.gtid_binlog_pos : i.gtid_executed;
  j["GtidPurged"] = "";
  j["GtidErrant"] = r.errant_gtid;
  j["SlaveLagSeconds"] = NullInt(lag);
  j["ReplicationLagSeconds"] = NullInt(lag);
  j["SlaveHosts"] = replicas;
  j["Replicas"] = replicas;
  j["ClusterName"] = r.cluster;
  j["SuggestedClusterAlias"] = pr.cluster_alias;
  j["DataCenter"] = pr.data_center;
  j["Region"] = pr.region;
  j["PhysicalEnvironment"] = pr.physical_environment;
  j["ReplicationDepth"] = r.replication_depth;
  j["IsCoMaster"] = r.is_co_master;
  j["HasReplicationCredentials"] = rs.configured;
  j["ReplicationCredentialsAvailable"] = false;
  j["SemiSyncAvailable"] = pr.semi_sync.master_enabled || pr.semi_sync.replica_enabled;
  j["SemiSyncEnforced"] = pr.semi_sync_enforced;
  j["SemiSyncMasterEnabled"] = pr.semi_sync.master_enabled;
  j["SemiSyncReplicaEnabled"] = pr.semi_sync.replica_enabled;
  j["SemiSyncMasterTimeout"] = pr.semi_sync.master_timeout_ms;
  j["SemiSyncMasterWaitForReplicaCount"] = pr.semi_sync.wait_for_replica_count;
  j["SemiSyncMasterStatus"] = pr.semi_sync.master_status;
  j["SemiSyncMasterClients"] = pr.semi_sync.master_clients;
  j["SemiSyncReplicaStatus"] = pr.semi_sync.replica_status;
  j["LastSeenTimestamp"] = Timestamp(r.last_seen);
  j["IsLastCheckValid"] = r.reachable;
  j["IsUpToDate"] = now - r.last_checked <= s.poll_interval;
  j["IsRecentlyChecked"] = now - r.last_checked <= 5 * s.poll_interval;
  j["SecondsSinceLastSeen"] = NullInt(since_seen);
  j["CountMySQLSnapshots"] = 0;
  const std::string& rule = r.PromotionRuleAt(Clock::now());
  j["IsCandidate"] = rule == "prefer" || rule == "must";
  j["PromotionRule"] = rule.empty() ? "neutral" : rule;
  j["IsDowntimed"] = downtimed;
  j["DowntimeReason"] = downtimed ? r.downtime.reason : "";
  j["DowntimeOwner"] = downtimed ? r.downtime.owner : "";
  j["DowntimeEndTimestamp"] = downtimed ? Timestamp(r.downtime.until) : "";
  j["ElapsedDowntime"] = 0;
  {
    // register-hostname-unresolve: the name replicas are given for this host.
    const std::string host = r.key.substr(0, r.key.rfind(':'));
    const std::string unresolved = pgtid::UnresolveHost(host);
    j["UnresolvedHostname"] = unresolved == host ? "" : unresolved;
  }
  j["AllowTLS"] = r.stream.tls;
  j["Problems"] = ProblemsOf(r, s);
  j["LastDiscoveryLatency"] = static_cast<int64_t>(pr.latency_ms * 1e6);
  // Tidewatch's own: the replication stream it follows the instance with.
  j["TidewatchStream"] = {{"State", r.stream.open || r.stream.state == binlog::StreamState::kFailed
                                        ? binlog::StreamStateName(r.stream.state)
                                        : "none"},
                          {"Reason", r.stream.reason},
                          {"Coordinates", CoordinatesJson({r.stream.file, r.stream.pos})},
                          {"Events", r.stream.events}};
  return j;
}

json AnalysisJson(const analyzer::ReplicationAnalysis& a, const analyzer::Topology& t) {
  const analyzer::InstanceRecord* r = t.Find(a.key);
  json j = json::object();
  j["AnalyzedInstanceKey"] = InstanceKeyJson(a.key);
  j["AnalyzedInstanceMasterKey"] = a.master_key.empty() ? json{{"Hostname", ""}, {"Port", 0}} : InstanceKeyJson(a.master_key);
  const analyzer::InstanceRecord* top = t.Find(t.MasterOf(a.cluster));
  j["ClusterDetails"] = {{"ClusterName", a.cluster},
                         {"ClusterAlias", top && !top->probe.cluster_alias.empty() ? top->probe.cluster_alias : a.cluster},
                         {"ClusterDomain", top ? top->probe.cluster_domain : ""},
                         {"CountInstances", 0},
                         {"HeuristicLag", 0},
                         {"HasAutomatedMasterRecovery", false},
                         {"HasAutomatedIntermediateMasterRecovery", false}};
  j["AnalyzedInstanceDataCenter"] = r ? r->probe.data_center : "";
  j["AnalyzedInstanceRegion"] = r ? r->probe.region : "";
  j["AnalyzedInstancePhysicalEnvironment"] = r ? r->probe.physical_environment : "";
  j["AnalyzedInstanceBinlogCoordinates"] = CoordinatesJson(r ? r->probe.instance.self : pgtid::BinlogCoordinates{});
  j["IsMaster"] = a.is_master;
  j["IsReplicationGroupMember"] = false;
  j["IsCoMaster"] = a.is_co_master;
  j["LastCheckValid"] = a.reachable;
  j["LastCheckPartialSuccess"] = r ? r->partial : false;
  j["CountReplicas"] = a.count_replicas;
  j["CountValidReplicas"] = a.count_valid_replicas;
  j["CountValidReplicatingReplicas"] = a.count_valid_replicating_replicas;
  j["CountReplicasFailingToConnectToMaster"] = a.count_replicas_failing_to_connect;
  uint32_t downtimed_replicas = 0;
  for (const auto& k : a.replicas) {
    const analyzer::InstanceRecord* rr = t.Find(k);
    if (rr && rr->downtime.ActiveAt(Clock::now())) ++downtimed_replicas;
  }
  j["CountDowntimedReplicas"] = downtimed_replicas;
  j["ReplicationDepth"] = a.replication_depth;
  json replicas = Keys(a.replicas);
  j["Replicas"] = replicas;
  j["SlaveHosts"] = replicas;
  j["IsFailingToConnectToMaster"] = false;
  j["Analysis"] = a.code;
  j["Description"] = a.code == "NoProblem" ? "" : a.description;
  j["StructureAnalysis"] = a.structure_warnings.empty() ? json(nullptr) : json(a.structure_warnings);
  j["IsDowntimed"] = a.downtimed;
  j["IsReplicasDowntimed"] = a.count_replicas > 0 && downtimed_replicas == a.count_replicas;
  j["DowntimeEndTimestamp"] = r && a.downtimed ? Timestamp(r->downtime.until) : "";
  j["DowntimeRemainingSeconds"] =
      r && a.downtimed && r->downtime.until != Clock::time_point{}
          ? std::chrono::duration_cast<std::chrono::seconds>(r->downtime.until - Clock::now()).count()
          : 0;
  j["IsBinlogServer"] = false;
  j["PseudoGTIDImmediateTopology"] = r ? r->pseudo_gtid : false;
  j["CountLaggingReplicas"] = a.count_lagging_replicas;
  j["CountDelayedReplicas"] = a.count_delayed_replicas;
  j["IsActionableRecovery"] = a.actionable;
  j["SkippableDueToDowntime"] = a.skippable_due_to_downtime;
  j["IsReadOnly"] = r ? r->probe.instance.read_only : false;
  return j;
}

json ClusterInfoJson(const std::string& cluster, const analyzer::Topology& t, bool automated_master,
                     bool automated_intermediate) {
  const analyzer::InstanceRecord* top = t.Find(t.MasterOf(cluster));
  size_t n = 0;
  for (const auto& [k, r] : t.instances()) n += r.cluster == cluster ? 1 : 0;
  return {{"ClusterName", cluster},
          {"ClusterAlias", top && !top->probe.cluster_alias.empty() ? top->probe.cluster_alias : cluster},
          {"ClusterDomain", top ? top->probe.cluster_domain : ""},
          {"CountInstances", n},
          {"HeuristicLag", 0},
          {"HasAutomatedMasterRecovery", automated_master},
          {"HasAutomatedIntermediateMasterRecovery", automated_intermediate}};
}

}  // namespace tidewatch::server
