#include "analyzer/topology_store.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/atomic_file.h"

namespace tidewatch::analyzer {

namespace {

using nlohmann::json;

constexpr int kVersion = 1;

json CoordinatesJson(const pgtid::BinlogCoordinates& c) { return {c.file, c.pos}; }
pgtid::BinlogCoordinates CoordinatesOf(const json& j) { return {j.at(0).get<std::string>(), j.at(1).get<uint64_t>()}; }

json ProbeJson(const ProbeResult& p) {
  const pgtid::Instance& i = p.instance;
  const pgtid::ReplicaStatus& r = i.replica;
  json replica = {{"configured", r.configured},
                  {"master_host", r.master_host},
                  {"master_port", r.master_port},
                  {"read_master", CoordinatesJson(r.read_master)},
                  {"exec_master", CoordinatesJson(r.exec_master)},
                  {"relay_log_file", r.relay_log_file},
                  {"relay_log_pos", r.relay_log_pos},
                  {"io_running", r.io_running},
                  {"sql_running", r.sql_running},
                  {"using_gtid", r.using_gtid},
                  {"has_filters", r.has_filters},
                  {"sql_delay", r.sql_delay}};
  if (r.seconds_behind) replica["seconds_behind"] = *r.seconds_behind;
  return {{"key", p.key},
          {"at", std::chrono::duration_cast<std::chrono::milliseconds>(p.at.time_since_epoch()).count()},
          {"name", i.name},
          {"version", i.version},
          {"mariadb", i.mariadb},
          {"major", i.major},
          {"minor", i.minor},
          {"patch", i.patch},
          {"server_id", i.server_id},
          {"log_bin", i.log_bin},
          {"log_slave_updates", i.log_slave_updates},
          {"read_only", i.read_only},
          {"binlog_format", i.binlog_format},
          {"gtid_binlog_pos", i.gtid_binlog_pos},
          {"gtid_slave_pos", i.gtid_slave_pos},
          {"gtid_current_pos", i.gtid_current_pos},
          {"gtid_mode", i.gtid_mode},
          {"gtid_executed", i.gtid_executed},
          {"self", CoordinatesJson(i.self)},
          {"binary_logs", i.binary_logs},
          {"replica", replica},
          {"server_uuid", p.server_uuid},
          {"version_comment", p.version_comment},
          {"replica_keys", p.replica_keys},
          {"semi_sync",
           {{"master_enabled", p.semi_sync.master_enabled},
            {"master_status", p.semi_sync.master_status},
            {"replica_enabled", p.semi_sync.replica_enabled},
            {"replica_status", p.semi_sync.replica_status},
            {"wait_for_replica_count", p.semi_sync.wait_for_replica_count},
            {"master_clients", p.semi_sync.master_clients},
            {"master_timeout_ms", p.semi_sync.master_timeout_ms}}},
          {"semi_sync_enforced", p.semi_sync_enforced},
          {"data_center", p.data_center},
          {"region", p.region},
          {"physical_environment", p.physical_environment},
          {"cluster_domain", p.cluster_domain},
          {"promotion_rule", p.promotion_rule},
          {"cluster_alias", p.cluster_alias},
          {"instance_alias", p.instance_alias}};
}

ProbeResult ProbeOf(const json& j) {
  ProbeResult p;
  p.key = j.at("key").get<std::string>();
  p.reachable = true;
  p.at = std::chrono::system_clock::time_point(std::chrono::milliseconds(j.at("at").get<int64_t>()));
  pgtid::Instance& i = p.instance;
  i.name = j.at("name").get<std::string>();
  i.version = j.at("version").get<std::string>();
  i.mariadb = j.at("mariadb").get<bool>();
  i.major = j.at("major").get<int>();
  i.minor = j.at("minor").get<int>();
  i.patch = j.at("patch").get<int>();
  i.server_id = j.at("server_id").get<uint32_t>();
  i.log_bin = j.at("log_bin").get<bool>();
  i.log_slave_updates = j.at("log_slave_updates").get<bool>();
  i.read_only = j.at("read_only").get<bool>();
  i.binlog_format = j.at("binlog_format").get<std::string>();
  i.gtid_binlog_pos = j.at("gtid_binlog_pos").get<std::string>();
  i.gtid_slave_pos = j.at("gtid_slave_pos").get<std::string>();
  i.gtid_current_pos = j.at("gtid_current_pos").get<std::string>();
  i.gtid_mode = j.at("gtid_mode").get<std::string>();
  i.gtid_executed = j.at("gtid_executed").get<std::string>();
  i.self = CoordinatesOf(j.at("self"));
  i.binary_logs = j.at("binary_logs").get<std::vector<std::string>>();
  const json& r = j.at("replica");
  i.replica.configured = r.at("configured").get<bool>();
  i.replica.master_host = r.at("master_host").get<std::string>();
  i.replica.master_port = r.at("master_port").get<uint16_t>();
  i.replica.read_master = CoordinatesOf(r.at("read_master"));
  i.replica.exec_master = CoordinatesOf(r.at("exec_master"));
  i.replica.relay_log_file = r.at("relay_log_file").get<std::string>();
  i.replica.relay_log_pos = r.at("relay_log_pos").get<uint64_t>();
  i.replica.io_running = r.at("io_running").get<std::string>();
  i.replica.sql_running = r.at("sql_running").get<bool>();
  i.replica.using_gtid = r.at("using_gtid").get<std::string>();
  i.replica.has_filters = r.at("has_filters").get<bool>();
  i.replica.sql_delay = r.at("sql_delay").get<int64_t>();
  if (r.contains("seconds_behind")) i.replica.seconds_behind = r.at("seconds_behind").get<int64_t>();
  p.server_uuid = j.at("server_uuid").get<std::string>();
  p.version_comment = j.at("version_comment").get<std::string>();
  p.replica_keys = j.at("replica_keys").get<std::vector<std::string>>();
  const json& s = j.at("semi_sync");
  p.semi_sync.master_enabled = s.at("master_enabled").get<bool>();
  p.semi_sync.master_status = s.at("master_status").get<bool>();
  p.semi_sync.replica_enabled = s.at("replica_enabled").get<bool>();
  p.semi_sync.replica_status = s.at("replica_status").get<bool>();
  p.semi_sync.wait_for_replica_count = s.at("wait_for_replica_count").get<uint32_t>();
  p.semi_sync.master_clients = s.at("master_clients").get<uint32_t>();
  p.semi_sync.master_timeout_ms = s.at("master_timeout_ms").get<uint64_t>();
  p.semi_sync_enforced = j.at("semi_sync_enforced").get<bool>();
  p.data_center = j.at("data_center").get<std::string>();
  // Written by later versions only: absent from older files.
  p.region = j.value("region", "");
  p.physical_environment = j.value("physical_environment", "");
  p.cluster_domain = j.value("cluster_domain", "");
  p.promotion_rule = j.at("promotion_rule").get<std::string>();
  p.cluster_alias = j.at("cluster_alias").get<std::string>();
  p.instance_alias = j.at("instance_alias").get<std::string>();
  return p;
}

}  // namespace

Status SaveTopology(const std::string& path, const Topology& topology) {
  json instances = json::array();
  for (const auto& [k, r] : topology.instances()) {
    if (r.probed) instances.push_back(ProbeJson(r.probe));
  }
  const std::string text = json{{"version", kVersion}, {"instances", instances}}.dump() + "\n";
  return ReplaceFile(path, text);
}

Status LoadTopology(const std::string& path, std::vector<ProbeResult>* out) {
  out->clear();
  std::ifstream in(path);
  if (!in) return Status::OK();
  try {
    const json j = json::parse(in);
    if (j.at("version").get<int>() != kVersion) {
      return Status::NotSupported(path + ": topology file version " + j.at("version").dump());
    }
    for (const auto& i : j.at("instances")) out->push_back(ProbeOf(i));
  } catch (const json::exception& e) {
    out->clear();
    return Status::Corruption(path + ": " + e.what());
  }
  return Status::OK();
}

}  // namespace tidewatch::analyzer
