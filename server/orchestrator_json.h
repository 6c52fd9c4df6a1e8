// orchestrator's JSON for what Tidewatch knows (go/inst/instance.go,
// analysis.go, cluster.go of orchestrator 3.2): the Instance,
// ReplicationAnalysis and ClusterInfo objects and the {Code, Message,
// Details} envelope, with the field names scripts and vttablet parse. Both
// the legacy names (SlaveHosts, Slave_IO_Running, SlaveLagSeconds,
// LogSlaveUpdatesEnabled) and the 3.2.2+ ones (Replicas,
// ReplicationIOThreadRuning, ReplicationLagSeconds,
// LogReplicationUpdatesEnabled) are written, with equal values, as
// orchestrator itself does.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "analyzer/replication_analysis.h"
#include "analyzer/topology.h"

namespace tidewatch::server {

// What the JSON needs of the configuration.
struct JsonSettings {
  std::chrono::seconds poll_interval{5};   // InstancePollSeconds (IsUpToDate, IsRecentlyChecked)
  int64_t reasonable_lag_seconds = 10;     // ReasonableReplicationLagSeconds (replication_lag)
};

// orchestrator's order of instance keys: by host name, then by port as a
// number ("h:9" before "h:10").
bool InstanceKeyLess(const std::string& a, const std::string& b);

// {"Hostname": host, "Port": port} of "host:port".
nlohmann::json InstanceKeyJson(const std::string& key);
// orchestrator's BinlogCoordinates: LogFile, LogPos, Type (0 a binary log, 1 a relay log).
nlohmann::json CoordinatesJson(const pgtid::BinlogCoordinates& c, int type = 0);
nlohmann::json InstanceJson(const analyzer::InstanceRecord& r, const analyzer::Topology& t, const JsonSettings& s);
nlohmann::json AnalysisJson(const analyzer::ReplicationAnalysis& a, const analyzer::Topology& t);
nlohmann::json ClusterInfoJson(const std::string& cluster, const analyzer::Topology& t, bool automated_master,
                               bool automated_intermediate);
// orchestrator's Problems of an instance: last_check_invalid,
// not_recently_checked, not_replicating, replication_lag (at most one), errant_gtid.
nlohmann::json ProblemsOf(const analyzer::InstanceRecord& r, const JsonSettings& s);
// The envelope: {"Code": "OK"|"ERROR", "Message": …, "Details": …}.
nlohmann::json Envelope(bool ok, const std::string& message, nlohmann::json details = nullptr);

}  // namespace tidewatch::server
