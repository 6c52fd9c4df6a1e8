#include "tools/tidewatch/orchestrator_commands.h"

#include <ostream>

#include "base/host_port.h"
#include "base/percent_decode.h"
#include "server/api_client.h"

namespace tidewatch::tools {

using nlohmann::json;

namespace {

std::string KeyText(const json& k) {
  return k.value("Hostname", "") + ":" + std::to_string(k.value("Port", 0));
}

// "host/port" of "host:port"; "" when it is not one.
std::string PathKey(const std::string& key) {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(key, &host, &port)) return {};
  return host + "/" + std::to_string(port);
}

std::string Encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == ':') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

bool Broken(const json& i) {
  return (!i.value("ReplicationSQLThreadRuning", true) || !i.value("ReplicationIOThreadRuning", true)) &&
         (!i.value("LastSQLError", "").empty() || !i.value("LastIOError", "").empty());
}

}  // namespace

const std::vector<OrchestratorCommandSpec>& OrchestratorCommands() {
  static const std::vector<OrchestratorCommandSpec> specs = {
      {"which-instance", "The instance's host:port, or an error when it is unknown", 'i'},
      {"which-master", "The instance's master", 'i'},
      {"which-replicas", "The instance's replicas (which-slaves)", 'i'},
      {"which-broken-replicas", "The instance's replicas whose replication failed with an error", 'i'},
      {"instance-replicas", "The instance's replicas as orchestrator's Instance JSON", 'i'},
      {"which-cluster", "The name of the instance's cluster (its master's host:port)", 'a'},
      {"which-cluster-alias", "The alias of the instance's cluster", 'a'},
      {"which-cluster-master", "The writable master of a cluster", 'a'},
      {"which-cluster-instances", "The instances of a cluster", 'a'},
      {"all-clusters-masters", "The writable master of every cluster", 0},
      {"all-instances", "Every instance known", 0},
      {"search", "The instances whose host, port, cluster, alias or version has -i's string", 's'},
      {"topology-tabulated", "A cluster's tree, its fields in aligned columns", 'a'},
      {"can-replicate-from", "Whether -i could replicate from -d (binlogs, versions, formats, server ids)", 'd'},
      {"is-replicating", "Prints the instance when both replication threads run", 'i'},
      {"is-replication-stopped", "Prints the instance when both replication threads are stopped", 'i'},
      {"refresh", "Have the daemon check the instance again now", 'i'},
      {"start-replica", "START SLAVE; fails unless both threads run after it (start-slave)", 'i'},
      {"stop-replica", "STOP SLAVE (stop-slave)", 'i'},
      {"stop-replica-nice", "Stop the IO thread, let the SQL thread apply the relay log, then stop", 'i'},
      {"restart-replica", "STOP SLAVE then START SLAVE", 'i'},
      {"reset-replica", "RESET SLAVE ALL on a replica whose threads are stopped", 'i'},
      {"detach-replica", "Point replication at \"//\"+master host, keeping the position (reversible)", 'i'},
      {"reattach-replica", "Undo detach-replica", 'i'},
      {"skip-query", "Skip the statement the SQL thread failed on (file:pos replication) and start", 'i'},
      {"set-read-only", "SET GLOBAL read_only = 1", 'i'},
      {"set-writeable", "SET GLOBAL read_only = 0", 'i'},
      {"flush-binary-logs", "FLUSH BINARY LOGS", 'i'},
      {"purge-binary-logs", "PURGE BINARY LOGS TO --binlog (a file, or latest), refused while a replica needs them "
                            "(unless --force)", 'i', "binlog"},
      {"delay-replication", "MASTER_DELAY=--seconds, the replication threads left as they were", 'i', "seconds"},
      {"restart-replica-statements", "The statements that apply -q with the replication threads stopped and "
                                     "put them back (printed, not run)", 'i', "query"},
      {"master-pos-wait", "Wait until the replica has executed up to --binlog=file:pos of its master", 'i',
       "binlog"},
      {"enable-gtid", "Replicate by GTID (MariaDB: slave_pos, taken from the master at the executed position)", 'i'},
      {"disable-gtid", "Replicate by file and position again, from the executed position", 'i'},
      {"enable-semi-sync-master", "rpl_semi_sync_master_enabled = 1", 'i'},
      {"disable-semi-sync-master", "rpl_semi_sync_master_enabled = 0", 'i'},
      {"enable-semi-sync-replica", "rpl_semi_sync_slave_enabled = 1, the IO thread restarted", 'i'},
      {"disable-semi-sync-replica", "rpl_semi_sync_slave_enabled = 0, the IO thread restarted", 'i'},
      {"can-replicate-from-gtid", "Whether -i could replicate from -d by GTID", 'd'},
      {"find-binlog-entry", "Where the Pseudo-GTID entry --pattern (the whole statement) is in the instance's "
                            "binary logs", 'i', "pattern"},
      {"correlate-binlog-pos", "The coordinates of -d that match --binlog=file:pos of -i (by Pseudo-GTID)", 'd',
       "binlog"},
      {"correlate-relaylog-pos", "The relay log coordinates of sibling -d that match -i's (--binlog=file:pos, or "
                                 "the last executed)", 'd', "relaylog"},
      {"which-gtid-errant", "The instance's errant GTIDs (empty when none)", 'i'},
      {"locate-gtid-errant", "The binary logs of the instance that hold its errant GTIDs", 'i'},
      {"gtid-errant-reset-master", "Forget the errant GTIDs by RESET MASTER (an instance without replicas)", 'i'},
      {"gtid-errant-inject-empty", "An empty transaction per errant GTID on the cluster's master (MySQL)", 'i'},
  };
  return specs;
}

int RunOrchestratorCommand(const server::Config& config, const OrchestratorCommandOptions& o, std::ostream& out,
                           std::ostream& err) {
  const std::string& c = o.command;
  auto fail = [&](const std::string& why) {
    err << "tidewatch " << c << ": " << why << "\n";
    return 2;
  };
  const OrchestratorCommandSpec* spec = nullptr;
  for (const auto& s : OrchestratorCommands()) {
    if (c == s.name) spec = &s;
  }
  if (spec == nullptr) return fail("unknown command");
  const std::string hint = o.alias.empty() ? o.instance : o.alias;
  const std::string key = PathKey(o.instance), dest = PathKey(o.destination);
  if ((spec->takes == 'i' || spec->takes == 'd') && key.empty()) return fail("-i must be HOST:PORT");
  if (spec->takes == 'd' && dest.empty()) return fail("-d must be HOST:PORT");
  if (spec->takes == 'a' && hint.empty()) return fail("give -i HOST:PORT or -a CLUSTER");

  std::string path;
  if (c == "which-instance" || c == "which-master" || c == "is-replicating" || c == "is-replication-stopped" ||
      c == "which-gtid-errant") {
    path = "/api/instance/" + key;
  } else if (c == "which-replicas" || c == "which-broken-replicas" || c == "instance-replicas") {
    path = "/api/instance-replicas/" + key;
  } else if (c == "which-cluster" || c == "which-cluster-alias") {
    path = "/api/cluster-info/" + Encode(hint);
  } else if (c == "which-cluster-master") {
    path = "/api/master/" + Encode(hint);
  } else if (c == "which-cluster-instances") {
    path = "/api/cluster/" + Encode(hint);
  } else if (c == "all-clusters-masters") {
    path = "/api/masters";
  } else if (c == "all-instances") {
    path = "/api/all-instances";
  } else if (c == "search") {
    path = "/api/search?s=" + Encode(o.instance);
  } else if (c == "topology-tabulated") {
    path = "/api/topology-tabulated/" + Encode(hint);
  } else if (c == "can-replicate-from" || c == "can-replicate-from-gtid") {
    path = "/api/" + c + "/" + key + "/" + dest;
  } else if (c == "find-binlog-entry") {
    if (o.pattern.empty()) return fail("No pattern given");
    path = "/api/find-binlog-entry/" + key + "?pattern=" + Encode(o.pattern);
  } else if (c == "correlate-binlog-pos" || c == "correlate-relaylog-pos") {
    path = "/api/" + c + "/" + key + "/" + dest + (o.binlog.empty() ? "" : "?binlog=" + Encode(o.binlog));
  } else if (c == "purge-binary-logs") {
    if (o.binlog.empty()) return fail("--binlog must name a binary log, or latest");
    path = "/api/purge-binary-logs/" + key + "/" + Encode(o.binlog) + (o.force ? "?force=true" : "");
  } else if (c == "delay-replication") {
    path = "/api/delay-replication/" + key + "/" + Encode(o.seconds);
  } else if (c == "restart-replica-statements") {
    if (o.query.empty()) return fail("-q must give the statement");
    path = "/api/restart-replica-statements/" + key + "?q=" + Encode(o.query);
  } else if (c == "master-pos-wait") {
    const size_t colon = o.binlog.rfind(':');
    if (colon == std::string::npos) return fail("--binlog must be file:pos");
    path = "/api/master-pos-wait/" + key + "/" + Encode(o.binlog.substr(0, colon)) + "/" +
           Encode(o.binlog.substr(colon + 1));
  } else {
    path = "/api/" + c + "/" + key;
  }

  server::ApiClient api(config, o.api);
  int status = 0;
  json body;
  Status s = api.Get(path, &status, &body);
  if (!s.ok()) return fail("no daemon answers at " + api.address() + ": " + s.message());
  const bool envelope = body.is_object() && body.contains("Code") && body.contains("Message");
  if (status != 200 || (envelope && body["Code"] != "OK")) {
    err << "tidewatch " << c << ": " << (envelope ? body["Message"].get<std::string>() : body.dump()) << "\n";
    return 1;
  }
  if (o.json) {
    out << body.dump() << "\n";
    return 0;
  }
  // What orchestrator-client prints for each.
  if (c == "which-instance") {
    out << KeyText(body["Key"]) << "\n";
  } else if (c == "which-master") {
    if (body["MasterKey"].value("Hostname", "") != "") out << KeyText(body["MasterKey"]) << "\n";
  } else if (c == "is-replicating" || c == "is-replication-stopped") {
    const int want = c == "is-replicating" ? 1 : 0;
    if (body.value("ReplicationSQLThreadState", -1) == want && body.value("ReplicationIOThreadState", -1) == want) {
      out << KeyText(body["Key"]) << "\n";
    }
  } else if (c == "which-replicas" || c == "which-cluster-instances" || c == "all-clusters-masters" ||
             c == "all-instances" || c == "search" || c == "which-broken-replicas") {
    for (const auto& i : body) {
      if (c != "which-broken-replicas" || Broken(i)) out << KeyText(i["Key"]) << "\n";
    }
  } else if (c == "instance-replicas") {
    out << body.dump(2) << "\n";
  } else if (c == "which-cluster" || c == "which-cluster-master") {
    out << body.value("ClusterName", "") << "\n";
  } else if (c == "which-cluster-alias") {
    out << body.value("ClusterAlias", "") << "\n";
  } else if (c == "topology-tabulated") {
    out << body["Details"].get<std::string>() << "\n";
  } else if (c == "can-replicate-from" || c == "can-replicate-from-gtid") {
    if (body.value("Message", "") == "true") out << KeyText(body["Details"]) << "\n";
  } else if (c == "find-binlog-entry") {
    out << body["Details"].value("LogFile", "") << ":" << body["Details"].value("LogPos", 0) << "\n";
  } else if (c == "correlate-binlog-pos") {
    const json& at = body["Details"]["Coordinates"];
    out << at.value("LogFile", "") << ":" << at.value("LogPos", 0) << "\n";
  } else if (c == "correlate-relaylog-pos") {
    // orchestrator prints instance;correlated;next.
    const json& d = body["Details"];
    auto text = [](const json& at) { return at.value("LogFile", "") + ":" + std::to_string(at.value("LogPos", 0)); };
    out << text(d["InstanceCoordinates"]) << ";" << text(d["CorrelatedCoordinates"]) << ";"
        << text(d["NextCoordinates"]) << "\n";
  } else if (c == "which-gtid-errant") {
    out << body.value("GtidErrant", "") << "\n";
  } else if (c == "locate-gtid-errant") {
    for (const auto& f : body["Details"]) out << f.get<std::string>() << "\n";
  } else if (c == "which-gtid-errant") {
    out << body.value("GtidErrant", "") << "\n";
  } else if (c == "locate-gtid-errant") {
    for (const auto& f : body["Details"]) out << f.get<std::string>() << "\n";
  } else if (c == "restart-replica-statements") {
    for (const auto& st : body["Details"]) out << st.get<std::string>() << "\n";
  } else if (c == "delay-replication") {
    out << o.instance << "\n";
  } else if (c == "refresh") {
    out << KeyText(body["Details"]) << "\n";
  } else {
    out << KeyText(body["Details"]["Key"]) << "\n";
  }
  return 0;
}

}  // namespace tidewatch::tools
