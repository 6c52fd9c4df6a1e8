#include "server/config.h"

#include <re2/re2.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "base/host_port.h"
#include "pgtid/executor.h"

namespace tidewatch::server {

using nlohmann::json;

namespace {

// orchestrator's MySQLTopologyCredentialsConfigFile: an INI file whose
// [client] section has user= and password= (as a MySQL option file).
Status ReadCredentialsFile(const std::string& path, std::string* user, std::string* password) {
  std::ifstream in(path);
  if (!in) return Status::IOError("MySQLTopologyCredentialsConfigFile: cannot read " + path);
  std::string section;
  auto trim = [](std::string s) {
    const char* ws = " \t\r";
    s.erase(0, s.find_first_not_of(ws));
    s.erase(s.find_last_not_of(ws) + 1);
    return s;
  };
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    auto eq = line.find('=');
    if (section != "client" || eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "user") *user = value;
    if (key == "password") *password = value;
  }
  return Status::OK();
}

using Setter = std::function<std::string(const json&)>;  // returns what the value must be, or ""

Setter String(std::string* to) {
  return [to](const json& v) -> std::string {
    if (!v.is_string()) return "a string";
    *to = v.get<std::string>();
    return "";
  };
}
Setter Bool(bool* to) {
  return [to](const json& v) -> std::string {
    if (!v.is_boolean()) return "true or false";
    *to = v.get<bool>();
    return "";
  };
}
template <typename T>
Setter Unsigned(T* to, uint64_t min, uint64_t max) {
  return [to, min, max](const json& v) -> std::string {
    if (!v.is_number_unsigned() || v.get<uint64_t>() < min || v.get<uint64_t>() > max) {
      return "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    }
    *to = static_cast<T>(v.get<uint64_t>());
    return "";
  };
}
Setter Strings(std::vector<std::string>* to) {
  return [to](const json& v) -> std::string {
    if (!v.is_array()) return "a list of strings";
    to->clear();
    for (const auto& s : v) {
      if (!s.is_string()) return "a list of strings";
      to->push_back(s.get<std::string>());
    }
    return "";
  };
}
Setter OneOf(std::string* to, std::vector<std::string> allowed) {
  return [to, allowed](const json& v) -> std::string {
    std::string want = "one of";
    for (const auto& a : allowed) want += " \"" + a + "\"";
    if (!v.is_string()) return want;
    for (const auto& a : allowed) {
      if (v.get<std::string>() == a) {
        *to = a;
        return "";
      }
    }
    return want;
  };
}

}  // namespace

const std::vector<std::string>& HookKeys() {
  static const std::vector<std::string> k = {
      "OnFailureDetectionProcesses", "PreFailoverProcesses", "PostFailoverProcesses",
      "PostUnsuccessfulFailoverProcesses", "PostMasterFailoverProcesses", "PostIntermediateMasterFailoverProcesses",
      "PreGracefulTakeoverProcesses", "PostGracefulTakeoverProcesses"};
  return k;
}

std::map<std::string, std::string> Config::KafkaConsumerSecurity() const {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : kafka_properties) {
    if (k.rfind("security.", 0) == 0 || k.rfind("sasl.", 0) == 0 || k.rfind("ssl.", 0) == 0) out[k] = v;
  }
  return out;
}

std::string Config::Redacted() const {
  auto secret = [](const std::string& s) { return s.empty() ? std::string() : std::string("********"); };
  json j = {{"MySQLTopologyUser", topology_user},
            {"MySQLTopologyPassword", secret(topology_password)},
            {"MySQLTopologyCredentialsConfigFile", credentials_file},
            {"DefaultInstancePort", default_instance_port},
            {"DiscoverySeeds", discovery_seeds},
            {"InstancePollSeconds", instance_poll_seconds},
            {"DiscoverByShowSlaveHosts", discover_by_show_slave_hosts},
            {"ReasonableReplicationLagSeconds", reasonable_replication_lag_seconds},
            {"DataCenterPattern", data_center_pattern},
            {"DetectClusterAliasQuery", detect_cluster_alias_query},
            {"DetectInstanceAliasQuery", detect_instance_alias_query},
            {"DetectPromotionRuleQuery", detect_promotion_rule_query},
            {"DetectSemiSyncEnforcedQuery", detect_semi_sync_enforced_query},
            {"RegionPattern", region_pattern},
            {"PhysicalEnvironmentPattern", physical_environment_pattern},
            {"DetectDataCenterQuery", detect_data_center_query},
            {"DetectRegionQuery", detect_region_query},
            {"DetectPhysicalEnvironmentQuery", detect_physical_environment_query},
            {"DetectClusterDomainQuery", detect_cluster_domain_query},
            {"ReplicationLagQuery", replication_lag_query},
            {"PseudoGTIDPattern", pseudo_gtid.pattern},
            {"PseudoGTIDPatternIsFixedSubstring", pseudo_gtid.fixed_substring},
            {"PseudoGTIDMonotonicHint", pseudo_gtid.monotonic_hint},
            {"AutoPseudoGTID", auto_pseudo_gtid},
            {"DiscoveryIgnoreHostnameFilters", discovery_ignore_hostname_filters},
            {"DiscoveryIgnoreMasterHostnameFilters", discovery_ignore_master_hostname_filters},
            {"DiscoveryIgnoreReplicaHostnameFilters", discovery_ignore_replica_hostname_filters},
            {"UnseenInstanceForgetHours", unseen_instance_forget_hours},
            {"RecoveryPeriodBlockSeconds", recovery_period_block_seconds},
            {"RecoverMasterClusterFilters", recover_master_cluster_filters},
            {"RecoverIntermediateMasterClusterFilters", recover_intermediate_master_cluster_filters},
            {"RecoveryIgnoreHostnameFilters", recovery_ignore_hostname_filters},
            {"InstancePoolExpiryMinutes", instance_pool_expiry_minutes},
            {"ExpiryHostnameResolvesMinutes", expiry_hostname_resolves_minutes},
            {"KVClusterMasterPrefix", kv_cluster_master_prefix},
            {"OSCIgnoreHostnameFilters", osc_ignore_hostname_filters},
            {"FailureDetectionPeriodBlockMinutes", failure_detection_period_block_minutes},
            {"ApplyMySQLPromotionAfterMasterFailover", apply_mysql_promotion_after_master_failover},
            {"RecoveryConsumer", recovery_consumer},
            {"RecoveryConsumerGroup", recovery_consumer_group},
            {"MonitorGroup", monitor_group},
            {"MonitorGroupSessionTimeoutMs", monitor_group_session_timeout_ms},
            {"AdvertisedAddress", advertised_address},
            {"RecoveryHookTimeoutSeconds", recovery_hook_timeout_seconds},
            {"ReplicationCredentialsQuery", replication_credentials_query},
            {"PromotionIgnoreHostnameFilters", promotion_ignore_hostname_filters},
            {"PreventCrossDataCenterMasterFailover", prevent_cross_data_center_master_failover},
            {"CandidateInstanceExpireMinutes", candidate_instance_expire_minutes},
            {"ListenAddress", listen_address},
            {"AuthenticationMethod", authentication_method},
            {"HTTPAuthUser", http_auth_user},
            {"HTTPAuthPassword", secret(http_auth_password)},
            {"AuthUserHeader", auth_user_header},
            {"PowerAuthUsers", power_auth_users},
            {"ReadOnly", read_only},
            {"TidewatchServerId", replication_server_id},
            {"TidewatchRegisterAsReplica", register_as_replica},
            {"TidewatchReportHost", report_host},
            {"TidewatchReportPort", report_port},
            {"StreamHeartbeatMilliseconds", stream_heartbeat_ms},
            {"StreamReadTimeoutMilliseconds", stream_read_timeout_ms},
            {"ProbeWorkers", probe_workers},
            {"StreamThreads", stream_threads},
            {"IndexMaxEntries", index_max_entries},
            {"IndexWindowEvents", index_window_events},
            {"ProducerId", producer_id},
            {"MySQLTopologyUseMutualTLS", topology_use_mutual_tls},
            {"MySQLTopologySSLSkipVerify", topology_ssl_skip_verify},
            {"MySQLTopologyUseMixedTLS", topology_use_mixed_tls},
            {"MySQLTopologySSLCAFile", topology_ssl_ca_file},
            {"MySQLTopologySSLCertFile", topology_ssl_cert_file},
            {"MySQLTopologySSLPrivateKeyFile", topology_ssl_private_key_file},
            {"URLPrefix", url_prefix},
            {"StatusEndpoint", status_endpoint},
            {"StateDir", state_dir},
            {"IndexStoreFile", index_store_file},
            {"PseudoGTIDInjectionIntervalMilliseconds", pseudo_gtid_injection_interval_ms},
            {"KafkaBrokers", kafka_brokers},
            {"KafkaTopicPrefix", kafka_topic_prefix},
            {"KafkaTopicPartitions", kafka_topic_partitions},
            {"KafkaSchemaRegistryURL", kafka_schema_registry_url},
            {"SpoolDir", spool_dir},
            {"SpoolMaxBytes", spool_max_bytes},
            {"SpoolFullPolicy", spool_full_policy},
            {"JsonLinesFile", jsonl}};
  json props = json::object();
  for (const auto& [k, v] : kafka_properties) {
    const bool is_secret = k.find("password") != std::string::npos || k.find("secret") != std::string::npos ||
                           k.find("key") != std::string::npos;
    props[k] = is_secret ? secret(v) : v;
  }
  j["KafkaProperties"] = props;
  for (const auto& [k, v] : hooks) j[k] = v;
  return j.dump(2);
}

TlsSettings TopologyTlsOf(const Config& c) {
  TlsSettings t;
  t.ca = c.topology_ssl_ca_file;
  if (c.topology_use_mutual_tls) {
    t.mode = c.topology_ssl_skip_verify ? TlsMode::kRequired : TlsMode::kVerifyIdentity;
    if (!c.topology_ssl_skip_verify) {
      t.cert = c.topology_ssl_cert_file;
      t.key = c.topology_ssl_private_key_file;
    }
  }
  return t;
}

Status LoadConfig(const std::string& path, Config* out) {
  *out = Config();
  std::string p = path;
  if (p.empty()) {
    for (const char* candidate : {"/etc/tidewatch.conf.json", "tidewatch.conf.json"}) {
      if (std::filesystem::exists(candidate)) {
        p = candidate;
        break;
      }
    }
  }
  json j = json::object();
  if (!p.empty()) {
    out->path = p;
    std::ifstream in(p);
    if (!in) return Status::IOError("config " + p + ": cannot read");
    try {
      j = json::parse(in);
    } catch (const json::exception& e) {
      return Status::InvalidArgument("config " + p + ": not JSON: " + e.what());
    }
    if (!j.is_object()) return Status::InvalidArgument("config " + p + ": not a JSON object");
  }
  Config& c = *out;
  std::map<std::string, Setter> keys = {
      {"MySQLTopologyUser", String(&c.topology_user)},
      {"MySQLTopologyPassword", String(&c.topology_password)},
      {"MySQLTopologyCredentialsConfigFile", String(&c.credentials_file)},
      {"DefaultInstancePort", Unsigned(&c.default_instance_port, 1, 65535)},
      {"DiscoverySeeds", Strings(&c.discovery_seeds)},
      {"InstancePollSeconds", Unsigned(&c.instance_poll_seconds, 1, 86400)},
      {"DiscoverByShowSlaveHosts", Bool(&c.discover_by_show_slave_hosts)},
      {"ReasonableReplicationLagSeconds", Unsigned(&c.reasonable_replication_lag_seconds, 0, 86400 * 365)},
      {"DataCenterPattern", String(&c.data_center_pattern)},
      {"DetectClusterAliasQuery", String(&c.detect_cluster_alias_query)},
      {"DetectInstanceAliasQuery", String(&c.detect_instance_alias_query)},
      {"DetectPromotionRuleQuery", String(&c.detect_promotion_rule_query)},
      {"DetectSemiSyncEnforcedQuery", String(&c.detect_semi_sync_enforced_query)},
      {"RegionPattern", String(&c.region_pattern)},
      {"PhysicalEnvironmentPattern", String(&c.physical_environment_pattern)},
      {"DetectDataCenterQuery", String(&c.detect_data_center_query)},
      {"DetectRegionQuery", String(&c.detect_region_query)},
      {"DetectPhysicalEnvironmentQuery", String(&c.detect_physical_environment_query)},
      {"DetectClusterDomainQuery", String(&c.detect_cluster_domain_query)},
      {"ReplicationLagQuery", String(&c.replication_lag_query)},
      {"PseudoGTIDPattern", String(&c.pseudo_gtid.pattern)},
      {"PseudoGTIDPatternIsFixedSubstring", Bool(&c.pseudo_gtid.fixed_substring)},
      {"PseudoGTIDMonotonicHint", String(&c.pseudo_gtid.monotonic_hint)},
      {"AutoPseudoGTID", Bool(&c.auto_pseudo_gtid)},
      {"DiscoveryIgnoreHostnameFilters", Strings(&c.discovery_ignore_hostname_filters)},
      {"DiscoveryIgnoreMasterHostnameFilters", Strings(&c.discovery_ignore_master_hostname_filters)},
      {"DiscoveryIgnoreReplicaHostnameFilters", Strings(&c.discovery_ignore_replica_hostname_filters)},
      {"UnseenInstanceForgetHours", Unsigned(&c.unseen_instance_forget_hours, 0, 24 * 365 * 100)},
      {"RecoveryPeriodBlockSeconds", Unsigned(&c.recovery_period_block_seconds, 0, 86400 * 365)},
      {"RecoverMasterClusterFilters", Strings(&c.recover_master_cluster_filters)},
      {"RecoverIntermediateMasterClusterFilters", Strings(&c.recover_intermediate_master_cluster_filters)},
      {"RecoveryIgnoreHostnameFilters", Strings(&c.recovery_ignore_hostname_filters)},
      {"InstancePoolExpiryMinutes", Unsigned(&c.instance_pool_expiry_minutes, 1, 525600)},
      {"ExpiryHostnameResolvesMinutes", Unsigned(&c.expiry_hostname_resolves_minutes, 1, 525600)},
      {"KVClusterMasterPrefix", String(&c.kv_cluster_master_prefix)},
      {"OSCIgnoreHostnameFilters", Strings(&c.osc_ignore_hostname_filters)},
      {"FailureDetectionPeriodBlockMinutes", Unsigned(&c.failure_detection_period_block_minutes, 0, 86400)},
      {"ApplyMySQLPromotionAfterMasterFailover", Bool(&c.apply_mysql_promotion_after_master_failover)},
      {"RecoveryConsumer", OneOf(&c.recovery_consumer, {"", "embedded", "kafka", "external"})},
      {"RecoveryConsumerGroup", String(&c.recovery_consumer_group)},
      {"MonitorGroup", String(&c.monitor_group)},
      {"MonitorGroupSessionTimeoutMs", Unsigned(&c.monitor_group_session_timeout_ms, 1000, 300000)},
      {"AdvertisedAddress", String(&c.advertised_address)},
      {"RecoveryHookTimeoutSeconds", Unsigned(&c.recovery_hook_timeout_seconds, 1, 86400)},
      {"ReplicationCredentialsQuery", String(&c.replication_credentials_query)},
      {"PromotionIgnoreHostnameFilters", Strings(&c.promotion_ignore_hostname_filters)},
      {"PreventCrossDataCenterMasterFailover", Bool(&c.prevent_cross_data_center_master_failover)},
      {"CandidateInstanceExpireMinutes", Unsigned(&c.candidate_instance_expire_minutes, 1, 86400 * 365)},
      {"ListenAddress", String(&c.listen_address)},
      {"AuthenticationMethod", OneOf(&c.authentication_method, {"", "basic", "multi", "proxy"})},
      {"HTTPAuthUser", String(&c.http_auth_user)},
      {"HTTPAuthPassword", String(&c.http_auth_password)},
      {"AuthUserHeader", String(&c.auth_user_header)},
      {"PowerAuthUsers", Strings(&c.power_auth_users)},
      {"ReadOnly", Bool(&c.read_only)},
      {"TidewatchServerId", Unsigned(&c.replication_server_id, 1, 0xfffffffeu)},
      {"TidewatchRegisterAsReplica", Bool(&c.register_as_replica)},
      {"TidewatchReportHost", String(&c.report_host)},
      {"TidewatchReportPort", Unsigned(&c.report_port, 0, 65535)},
      {"StreamHeartbeatMilliseconds", Unsigned(&c.stream_heartbeat_ms, 10, 3600000)},
      {"IndexMaxEntries", Unsigned(&c.index_max_entries, 16, uint64_t{1} << 30)},
      {"IndexWindowEvents", Unsigned(&c.index_window_events, 1024, uint64_t{1} << 32)},
      {"StreamReadTimeoutMilliseconds", Unsigned(&c.stream_read_timeout_ms, 0, 3600000)},
      {"ProbeWorkers", Unsigned(&c.probe_workers, 1, 1024)},
      {"StreamThreads", Unsigned(&c.stream_threads, 0, 64)},
      {"ProducerId", String(&c.producer_id)},
      {"MySQLTopologyUseMutualTLS", Bool(&c.topology_use_mutual_tls)},
      {"MySQLTopologySSLSkipVerify", Bool(&c.topology_ssl_skip_verify)},
      {"MySQLTopologyUseMixedTLS", Bool(&c.topology_use_mixed_tls)},
      {"MySQLTopologySSLCAFile", String(&c.topology_ssl_ca_file)},
      {"MySQLTopologySSLCertFile", String(&c.topology_ssl_cert_file)},
      {"MySQLTopologySSLPrivateKeyFile", String(&c.topology_ssl_private_key_file)},
      {"URLPrefix", String(&c.url_prefix)},
      {"StatusEndpoint", String(&c.status_endpoint)},
      {"StateDir", String(&c.state_dir)},
      {"IndexStoreFile", String(&c.index_store_file)},
      {"PseudoGTIDInjectionIntervalMilliseconds", Unsigned(&c.pseudo_gtid_injection_interval_ms, 10, 3600000)},
      {"KafkaBrokers", String(&c.kafka_brokers)},
      {"KafkaTopicPrefix", String(&c.kafka_topic_prefix)},
      {"KafkaTopicPartitions", Unsigned(&c.kafka_topic_partitions, 1, 10000)},
      {"KafkaSchemaRegistryURL", String(&c.kafka_schema_registry_url)},
      {"SpoolDir", String(&c.spool_dir)},
      {"SpoolMaxBytes", Unsigned(&c.spool_max_bytes, 1 << 20, UINT64_MAX)},
      {"SpoolFullPolicy", OneOf(&c.spool_full_policy, {"refuse-new", "drop-oldest"})},
      {"JsonLinesFile", String(&c.jsonl)},
      {"KafkaProperties",
       [&c](const json& v) -> std::string {
         if (!v.is_object()) return "an object of librdkafka properties (string values)";
         for (auto it = v.begin(); it != v.end(); ++it) {
           if (!it.value().is_string()) return "an object of librdkafka properties (string values)";
           c.kafka_properties[it.key()] = it.value().get<std::string>();
         }
         return "";
       }},
  };
  for (const auto& hook : HookKeys()) keys[hook] = Strings(&c.hooks[hook]);
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto k = keys.find(it.key());
    if (k == keys.end()) {
      c.warnings.push_back("config " + p + ": unknown key " + it.key() + " (ignored)");
      continue;
    }
    if (std::string want = k->second(it.value()); !want.empty()) {
      return Status::InvalidArgument("config " + p + ": " + it.key() + " must be " + want);
    }
  }
  for (auto it = c.hooks.begin(); it != c.hooks.end();) {
    it = it->second.empty() ? c.hooks.erase(it) : std::next(it);
  }
  // Values that must also make sense.
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::InvalidArgument("config " + p + ": " + key + ": " + why);
  };
  for (const auto& s : c.discovery_seeds) {
    std::string host;
    uint16_t port;
    if (!SplitHostPort(s, &host, &port)) return bad("DiscoverySeeds", "\"" + s + "\" is not host:port");
  }
  if (!ParseListenAddress(c.listen_address, kDefaultListenPort)) {
    return bad("ListenAddress", "\"" + c.listen_address + "\" is not host:port or :port");
  }
  if (!c.advertised_address.empty() && !ParseHostPort(c.advertised_address, 0)) {
    return bad("AdvertisedAddress", "\"" + c.advertised_address + "\" is not host:port");
  }
  for (const auto& [key, pattern] :
       std::vector<std::pair<std::string, std::string>>{{"DataCenterPattern", c.data_center_pattern},
                                                        {"RegionPattern", c.region_pattern},
                                                        {"PhysicalEnvironmentPattern", c.physical_environment_pattern}}) {
    if (pattern.empty()) continue;
    RE2 re(pattern, RE2::Quiet);
    if (!re.ok()) return bad(key, re.error());
  }
  for (const auto& [key, list] : std::vector<std::pair<const char*, const std::vector<std::string>*>>{
           {"RecoverMasterClusterFilters", &c.recover_master_cluster_filters},
           {"RecoverIntermediateMasterClusterFilters", &c.recover_intermediate_master_cluster_filters},
           {"RecoveryIgnoreHostnameFilters", &c.recovery_ignore_hostname_filters},
           {"PromotionIgnoreHostnameFilters", &c.promotion_ignore_hostname_filters},
           {"OSCIgnoreHostnameFilters", &c.osc_ignore_hostname_filters},
           {"DiscoveryIgnoreHostnameFilters", &c.discovery_ignore_hostname_filters},
           {"DiscoveryIgnoreMasterHostnameFilters", &c.discovery_ignore_master_hostname_filters},
           {"DiscoveryIgnoreReplicaHostnameFilters", &c.discovery_ignore_replica_hostname_filters}}) {
    for (const auto& f : *list) {
      RE2 re(f, RE2::Quiet);
      if (!re.ok()) return bad(key, "\"" + f + "\": " + re.error());
    }
  }
  // orchestrator's normalization: no slash at either end, then one in front.
  while (!c.url_prefix.empty() && c.url_prefix.front() == '/') c.url_prefix.erase(0, 1);
  while (!c.url_prefix.empty() && c.url_prefix.back() == '/') c.url_prefix.pop_back();
  if (!c.url_prefix.empty()) c.url_prefix = "/" + c.url_prefix;
  if (c.url_prefix.find_first_of("?#% ") != std::string::npos) return bad("URLPrefix", "not a URL path");
  if (c.status_endpoint.empty() || c.status_endpoint.front() != '/') {
    return bad("StatusEndpoint", "\"" + c.status_endpoint + "\" is not a path starting with /");
  }
  for (const auto& [key, file] : std::vector<std::pair<const char*, const std::string*>>{
           {"MySQLTopologySSLCAFile", &c.topology_ssl_ca_file},
           {"MySQLTopologySSLCertFile", &c.topology_ssl_cert_file},
           {"MySQLTopologySSLPrivateKeyFile", &c.topology_ssl_private_key_file}}) {
    if (!file->empty() && !std::filesystem::is_regular_file(*file)) return bad(key, "no such file " + *file);
  }
  if (!c.pseudo_gtid.fixed_substring) {
    std::unique_ptr<pgtid::PseudoGtidPattern> pattern;
    Status s = pgtid::PseudoGtidPattern::Create(c.pseudo_gtid, &pattern);
    if (!s.ok()) return Status::InvalidArgument("config " + p + ": " + s.message());
  }
  if (c.recovery_consumer == "kafka" && c.kafka_brokers.empty()) {
    return bad("RecoveryConsumer", "\"kafka\" needs KafkaBrokers");
  }
  if ((c.authentication_method == "basic" || c.authentication_method == "multi") &&
      (c.http_auth_user.empty() || c.http_auth_password.empty())) {
    return bad("AuthenticationMethod", "\"" + c.authentication_method + "\" needs HTTPAuthUser and HTTPAuthPassword");
  }
  if (!c.credentials_file.empty()) {
    Status s = ReadCredentialsFile(c.credentials_file, &c.topology_user, &c.topology_password);
    if (!s.ok()) return s.WithContext("config " + p);
  }
  if (c.producer_id.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    c.producer_id = std::string("tidewatch@") + host;
  }
  if (c.report_host.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    c.report_host = host;
  }
  if (c.replication_server_id == 0) {
    c.replication_server_id = 0x7e000000u | (static_cast<uint32_t>(::getpid()) & 0xffffffu);
  }
  return Status::OK();
}

}  // namespace tidewatch::server
