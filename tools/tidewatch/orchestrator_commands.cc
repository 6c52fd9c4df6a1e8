#include "tools/tidewatch/orchestrator_commands.h"

#include <map>
#include <ostream>

#include "base/host_port.h"
#include "base/percent_decode.h"
#include "server/api_client.h"
#include "server/binlog_stream.h"

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
                            "(unless --force)", 'i', "b"},
      {"delay-replication", "MASTER_DELAY=--seconds, the replication threads left as they were", 'i', "S"},
      {"restart-replica-statements", "The statements that apply -q with the replication threads stopped and "
                                     "put them back (printed, not run)", 'i', "q"},
      {"master-pos-wait", "Wait until the replica has executed up to --binlog=file:pos of its master", 'i',
       "b"},
      {"enable-gtid", "Replicate by GTID (MariaDB: slave_pos, taken from the master at the executed position)", 'i'},
      {"disable-gtid", "Replicate by file and position again, from the executed position", 'i'},
      {"enable-semi-sync-master", "rpl_semi_sync_master_enabled = 1", 'i'},
      {"disable-semi-sync-master", "rpl_semi_sync_master_enabled = 0", 'i'},
      {"enable-semi-sync-replica", "rpl_semi_sync_slave_enabled = 1, the IO thread restarted", 'i'},
      {"disable-semi-sync-replica", "rpl_semi_sync_slave_enabled = 0, the IO thread restarted", 'i'},
      {"can-replicate-from-gtid", "Whether -i could replicate from -d by GTID", 'd'},
      {"find-binlog-entry", "Where the Pseudo-GTID entry --pattern (the whole statement) is in the instance's "
                            "binary logs", 'i', "P"},
      {"correlate-binlog-pos", "The coordinates of -d that match --binlog=file:pos of -i (by Pseudo-GTID)", 'd',
       "b"},
      {"correlate-relaylog-pos", "The relay log coordinates of sibling -d that match -i's (--binlog=file:pos, or "
                                 "the last executed)", 'd', "r"},
      {"which-gtid-errant", "The instance's errant GTIDs (empty when none)", 'i'},
      {"locate-gtid-errant", "The binary logs of the instance that hold its errant GTIDs", 'i'},
      {"gtid-errant-reset-master", "Forget the errant GTIDs by RESET MASTER (an instance without replicas)", 'i'},
      {"gtid-errant-inject-empty", "An empty transaction per errant GTID on the cluster's master (MySQL)", 'i'},
      {"which-cluster-domain", "The domain of the instance's cluster (DetectClusterDomainQuery)", 'a'},
      {"which-cluster-osc-replicas", "Replicas of a cluster fit to control a pt-online-schema-change", 'a'},
      {"dominant-dc", "The data center where most writable masters are", 0},
      {"tags", "The instance's tags, name=value", 'i'},
      {"tag-value", "The value of the instance's tag --tag NAME", 'i', "t"},
      {"tag", "Tag the instance: --tag NAME or --tag NAME=VALUE", 'i', "t"},
      {"untag", "Remove the tag --tag NAME[=VALUE] from the instance", 'i', "t"},
      {"untag-all", "Remove the tag --tag NAME=VALUE from every instance", 0, "t"},
      {"tagged", "The instances a tag string selects: --tag 'a,b=1,!c' (every part must hold)", 0, "t"},
      {"topology-tags", "A cluster's tree with each instance's tags", 'a'},
      {"submit-pool-instances", "Set the instances of --pool: -i HOST:PORT,HOST:PORT,…", 's', "l"},
      {"cluster-pool-instances", "A cluster's pools and their instances (--pool: that pool)", 'a', "p"},
      {"which-heuristic-cluster-pool-instances",
       "A cluster's pooled instances (in --pool, or any pool) whose last check was valid", 'a', "p"},
      {"register-hostname-unresolve", "The virtual name (--hostname) replicas use for the instance's host", 'i',
       "n"},
      {"deregister-hostname-unresolve", "Remove the instance host's virtual name", 'i'},
      {"forget-cluster", "Forget every instance of a cluster", 'a'},
      {"snapshot-topologies", "Record every instance's master (<StateDir>/topology-snapshots/)", 0},
      {"submit-masters-to-kv-stores",
       "The key-value pairs orchestrator writes for the masters (Tidewatch has no KV store to write them to)", 'o'},
      {"raft-leader", "The raft leader (Tidewatch runs no raft: an error)", 0},
      {"raft-health", "Whether the raft group is healthy (Tidewatch runs no raft: an error)", 0},
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
  const std::string more = spec->more;
  if (more.find('t') != std::string::npos && o.tag.empty()) return fail("give --tag");
  if (more.find('l') != std::string::npos && o.pool.empty()) return fail("give --pool");
  if (more.find('n') != std::string::npos && o.hostname.empty()) return fail("give --hostname");
  if (c == "submit-pool-instances" && o.instance.empty()) return fail("give -i HOST:PORT,HOST:PORT,…");
  const std::string tag_query = "?tag=" + Encode(o.tag);
  const std::string pool_path = o.pool.empty() ? "" : "/" + Encode(o.pool);

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
    std::string file;
    uint64_t pos = 0;
    if (!server::ParseFilePos(o.binlog, &file, &pos)) return fail("--binlog must be file:pos");
    path = "/api/master-pos-wait/" + key + "/" + Encode(file) + "/" + std::to_string(pos);
  } else if (c == "which-cluster-domain") {
    path = "/api/cluster-info/" + Encode(hint);
  } else if (c == "which-cluster-osc-replicas") {
    path = "/api/cluster-osc-replicas/" + Encode(hint);
  } else if (c == "dominant-dc") {
    path = "/api/masters";
  } else if (c == "tags") {
    path = "/api/tags/" + key;
  } else if (c == "tag-value" || c == "tag" || c == "untag") {
    path = "/api/" + c + "/" + key + tag_query;
  } else if (c == "untag-all" || c == "tagged") {
    path = "/api/" + c + tag_query;
  } else if (c == "topology-tags" || c == "forget-cluster") {
    path = "/api/" + c + "/" + Encode(hint);
  } else if (c == "submit-pool-instances") {
    path = "/api/submit-pool-instances/" + Encode(o.pool) + "?instances=" + Encode(o.instance);
  } else if (c == "cluster-pool-instances") {
    path = "/api/cluster-pool-instances/" + Encode(hint) + pool_path;
  } else if (c == "which-heuristic-cluster-pool-instances") {
    path = "/api/heuristic-cluster-pool-instances/" + Encode(hint) + pool_path;
  } else if (c == "register-hostname-unresolve") {
    path = "/api/register-hostname-unresolve/" + key + "/" + Encode(o.hostname);
  } else if (c == "snapshot-topologies") {
    path = "/api/snapshot-topologies";
  } else if (c == "submit-masters-to-kv-stores") {
    path = "/api/submit-masters-to-kv-stores" + (hint.empty() ? "" : "/" + Encode(hint));
  } else if (c == "raft-leader") {
    // orchestrator-client asks raft-state first, and raft-leader only of a raft member.
    path = "/api/raft-state";
  } else if (c == "raft-health") {
    path = "/api/raft-health";
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
  } else if (c == "which-cluster-domain") {
    out << body.value("ClusterDomain", "") << "\n";
  } else if (c == "which-cluster-osc-replicas") {
    for (const auto& i : body) out << KeyText(i["Key"]) << "\n";
  } else if (c == "dominant-dc") {
    // orchestrator-client's `sort | uniq -c | sort -nr | head -n 1`: the most
    // frequent, the greatest name among equals.
    std::map<std::string, int> count;
    for (const auto& i : body) ++count[i.value("DataCenter", "")];
    std::string best;
    int most = 0;
    for (const auto& [dc, n] : count) {
      if (n >= most) best = dc, most = n;
    }
    if (most > 0) out << best << "\n";
  } else if (c == "tags") {
    for (const auto& t : body) out << t.get<std::string>() << "\n";
  } else if (c == "tag-value") {
    out << body.get<std::string>() << "\n";
  } else if (c == "tag" || c == "register-hostname-unresolve" || c == "deregister-hostname-unresolve") {
    out << KeyText(body["Details"]) << "\n";
  } else if (c == "untag" || c == "untag-all") {
    for (const auto& k : body["Details"]) out << KeyText(k) << "\n";
  } else if (c == "tagged") {
    for (const auto& k : body) out << KeyText(k) << "\n";
  } else if (c == "topology-tags") {
    out << body["Details"].get<std::string>() << "\n";
  } else if (c == "submit-pool-instances") {
    out << body["Details"].get<std::string>() << "\n";
  } else if (c == "cluster-pool-instances") {
    // orchestrator's columns: cluster, alias, pool, instance.
    const std::string message = body.value("Message", "");
    const std::string cluster = message.substr(message.rfind(' ') + 1);
    std::string alias = cluster;
    int st = 0;
    json info;
    if (api.Get("/api/cluster-info/" + Encode(cluster), &st, &info).ok() && st == 200) {
      alias = info.value("ClusterAlias", cluster);
    }
    for (const auto& [pool, keys] : body["Details"].items()) {
      for (const auto& k : keys) out << cluster << "\t" << alias << "\t" << pool << "\t" << KeyText(k) << "\n";
    }
  } else if (c == "which-heuristic-cluster-pool-instances") {
    for (const auto& i : body["Details"]) out << KeyText(i["Key"]) << "\n";
  } else if (c == "snapshot-topologies") {
    out << body["Details"].get<std::string>() << "\n";
  } else if (c == "submit-masters-to-kv-stores") {
    for (const auto& p : body["Details"]) {
      out << p.value("Key", "") << ":" << p.value("Value", "") << "\n";
    }
  } else if (c == "forget-cluster") {
    // orchestrator-client prints nothing.
  } else if (c == "raft-leader" || c == "raft-health") {
    out << body.dump() << "\n";
  } else {
    out << KeyText(body["Details"]["Key"]) << "\n";
  }
  return 0;
}

}  // namespace tidewatch::tools
