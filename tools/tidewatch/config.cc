#include "tools/tidewatch/config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

namespace tidewatch::tools {

using binlog::Status;

namespace {

// orchestrator's MySQLTopologyCredentialsConfigFile: an INI file whose
// [client] section has user= and password= (as a MySQL option file).
Status ReadCredentialsFile(const std::string& path, std::string* user, std::string* password) {
  std::ifstream in(path);
  if (!in) return Status::IOError("MySQLTopologyCredentialsConfigFile: cannot read " + path);
  std::string section;
  for (std::string line; std::getline(in, line);) {
    auto trim = [](std::string s) {
      const char* ws = " \t\r";
      s.erase(0, s.find_first_not_of(ws));
      s.erase(s.find_last_not_of(ws) + 1);
      return s;
    };
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

}  // namespace

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
    if (p.empty()) return Status::OK();
  }
  out->path = p;
  std::ifstream in(p);
  if (!in) return Status::IOError("config " + p + ": cannot read");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument("config " + p + ": not JSON: " + e.what());
  }
  if (!j.is_object()) return Status::InvalidArgument("config " + p + ": not a JSON object");

  // Keys this command understands, and orchestrator keys other Tidewatch parts
  // read (the daemon's), which are not warned about.
  static const std::set<std::string> kOther = {
      "InstancePollSeconds", "DiscoverByShowSlaveHosts", "ReasonableReplicationLagSeconds",
      "DataCenterPattern", "DetectClusterAliasQuery", "DetectInstanceAliasQuery", "DetectPromotionRuleQuery",
      "DetectSemiSyncEnforcedQuery", "RecoveryPeriodBlockSeconds", "RecoverMasterClusterFilters",
      "RecoverIntermediateMasterClusterFilters", "PostMasterFailoverProcesses", "ListenAddress",
      "AuthenticationMethod", "HTTPAuthUser", "HTTPAuthPassword", "ReadOnly", "AutoPseudoGTID",
      "MySQLReplicaUser", "MySQLReplicaPassword", "BinlogEventsChunkSize"};
  std::string credentials_file;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    auto bad = [&](const char* want) {
      return Status::InvalidArgument("config " + p + ": " + key + " must be " + want);
    };
    if (key == "MySQLTopologyUser") {
      if (!v.is_string()) return bad("a string");
      out->topology_user = v.get<std::string>();
    } else if (key == "MySQLTopologyPassword") {
      if (!v.is_string()) return bad("a string");
      out->topology_password = v.get<std::string>();
    } else if (key == "MySQLTopologyCredentialsConfigFile") {
      if (!v.is_string()) return bad("a string");
      credentials_file = v.get<std::string>();
    } else if (key == "DefaultInstancePort") {
      if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 || v.get<uint64_t>() > 65535) {
        return bad("a port number");
      }
      out->default_instance_port = static_cast<uint16_t>(v.get<uint64_t>());
    } else if (key == "DiscoverySeeds") {
      if (!v.is_array()) return bad("a list of \"host:port\"");
      for (const auto& s : v) {
        if (!s.is_string()) return bad("a list of \"host:port\"");
        out->discovery_seeds.push_back(s.get<std::string>());
      }
    } else if (key == "PseudoGTIDPattern") {
      if (!v.is_string()) return bad("a string");
      out->pseudo_gtid.pattern = v.get<std::string>();
    } else if (key == "PseudoGTIDPatternIsFixedSubstring") {
      if (!v.is_boolean()) return bad("true or false");
      out->pseudo_gtid.fixed_substring = v.get<bool>();
    } else if (key == "PseudoGTIDMonotonicHint") {
      if (!v.is_string()) return bad("a string");
      out->pseudo_gtid.monotonic_hint = v.get<std::string>();
    } else if (key == "TidewatchServerId") {
      if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 || v.get<uint64_t>() > 0xffffffffu) {
        return bad("a server_id (1 to 4294967295)");
      }
      out->replication_server_id = static_cast<uint32_t>(v.get<uint64_t>());
    } else if (kOther.count(key) == 0) {
      out->warnings.push_back("config " + p + ": unknown key " + key + " (ignored)");
    }
  }
  if (!credentials_file.empty()) {
    Status s = ReadCredentialsFile(credentials_file, &out->topology_user, &out->topology_password);
    if (!s.ok()) return s.WithContext("config " + p);
  }
  if (out->replication_server_id == 0) {
    out->replication_server_id = 0x7e000000u | (static_cast<uint32_t>(::getpid()) & 0xffffffu);
  }
  return Status::OK();
}

}  // namespace tidewatch::tools
