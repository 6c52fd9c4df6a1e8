#include "server/orchestrator_api.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>

#include "base/host_port.h"
#include "pgtid/errant_gtid.h"
#include "pgtid/replication_control.h"
#include "pgtid/replication_steps.h"
#include "server/ascii_topology.h"

namespace tidewatch::server {

using nlohmann::json;
using analyzer::Clock;

namespace {

// orchestrator's binlog format order (IsSmallerBinlogFormat): STATEMENT < MIXED < ROW.
int FormatRank(const std::string& f) {
  if (f == "STATEMENT") return 0;
  if (f == "MIXED") return 1;
  return 2;
}

std::vector<std::string> Columns(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t bar = line.find('|', start);
    out.push_back(line.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) return out;
    start = bar + 1;
  }
}

}  // namespace

std::string TabulateTopology(const std::string& tree) {
  std::vector<std::vector<std::string>> rows;
  size_t start = 0;
  while (start < tree.size()) {
    size_t nl = tree.find('\n', start);
    if (nl == std::string::npos) nl = tree.size();
    std::string line = tree.substr(start, nl - start);
    start = nl + 1;
    // "  + host:port    [a,b,c]" → "  + host:port", "a", "b", "c"
    std::vector<std::string> row;
    const size_t open = line.find(" [");
    if (open != std::string::npos && line.back() == ']') {
      std::string head = line.substr(0, open);
      head.erase(head.find_last_not_of(' ') + 1);
      row.push_back(head);
      const std::string fields = line.substr(open + 2, line.size() - open - 3);
      std::string joined = fields;
      std::replace(joined.begin(), joined.end(), ',', '|');
      for (auto& f : Columns(joined)) row.push_back(f);
    } else {
      row.push_back(line);
    }
    rows.push_back(std::move(row));
  }
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (r) out += "\n";
    for (size_t i = 0; i < rows[r].size(); ++i) {
      const std::string& cell = rows[r][i];
      const std::string pad(width[i] - cell.size(), ' ');
      // The first column to the left, the others to the right (orchestrator's TabulateLeft, TabulateRight).
      out += i == 0 ? cell + pad : "|" + pad + cell;
    }
  }
  return out;
}

const std::vector<OrchestratorApi::Route>& OrchestratorApi::Routes() {
  using A = OrchestratorApi;
  static const std::vector<Route> routes = {
      // Reads (go/http/api.go: InstanceReplicas, Masters, ClusterMaster, AllInstances, Search,
      // AsciiTopologyTabulated, CanReplicateFrom).
      {{"instance-replicas"}, ":host/:port", false, &A::InstanceReplicas},
      {{"masters"}, "", false, &A::Masters},
      {{"master"}, ":clusterHint", false, &A::ClusterMaster},
      {{"all-instances"}, "", false, &A::AllInstances},
      {{"search"}, ":searchString", false, &A::Search},
      {{"search"}, "", false, &A::Search},
      {{"topology-tabulated"}, ":clusterHint", false, &A::TopologyTabulated},
      {{"topology-tabulated"}, ":host/:port", false, &A::TopologyTabulated},
      {{"can-replicate-from"}, ":host/:port/:belowHost/:belowPort", false, &A::CanReplicateFrom},
      {{"can-replicate-from-gtid"}, ":host/:port/:belowHost/:belowPort", false, &A::CanReplicateFromGtid},
      // Changes.
      {{"refresh"}, ":host/:port", true, &A::Refresh},
      {{"start-replica", "start-slave", "stop-replica", "stop-slave", "stop-replica-nice", "stop-slave-nice",
        "restart-replica", "restart-slave", "reset-replica", "reset-slave", "detach-replica", "detach-slave",
        "detach-replica-master-host", "detach-slave-master-host", "reattach-replica", "reattach-slave",
        "reattach-replica-master-host", "reattach-slave-master-host", "skip-query", "set-read-only",
        "set-writeable", "flush-binary-logs", "enable-gtid", "disable-gtid", "enable-semi-sync-master",
        "disable-semi-sync-master", "enable-semi-sync-replica", "disable-semi-sync-replica",
        "restart-replica-statements", "restart-slave-statements"},
       ":host/:port",
       true,
       &A::Control},
      {{"locate-gtid-errant"}, ":host/:port", false, &A::ErrantGtid},
      {{"gtid-errant-reset-master", "gtid-errant-inject-empty"}, ":host/:port", true, &A::ErrantGtid},
      {{"delay-replication"}, ":host/:port/:seconds", true, &A::Control},
      {{"purge-binary-logs"}, ":host/:port/:logFile", true, &A::Control},
      // Tidewatch's own path for orchestrator's CLI command master-pos-wait.
      {{"master-pos-wait"}, ":host/:port/:logFile/:logPos", true, &A::Control},
  };
  return routes;
}

OrchestratorApi::OrchestratorApi(const Config& config, analyzer::Monitor* monitor, sinks::Publisher* publisher,
                                 JsonSettings json)
    : config_(config), monitor_(monitor), publisher_(publisher), json_(json) {}

bool OrchestratorApi::Handle(const std::vector<std::string>& seg, const HttpRequest& request, const std::string& user,
                              const std::function<bool()>& authorize_change, HttpResponse* response) {
  Call c{request, response, seg, user, {}, {}, {}};
  return AnswerRoute(this, Routes(), c, authorize_change);
}

bool OrchestratorApi::ResolveCluster(Call& c, const std::string& hint, std::string* cluster) const {
  return ResolveClusterHint(monitor_, c, hint, cluster);
}

void OrchestratorApi::Audit(const std::string& action, const std::string& instance, const std::string& user,
                            const std::string& message) {
  PublishAudit(monitor_, publisher_, action, instance, user, message);
}

// --- Reads. ---

void OrchestratorApi::InstanceReplicas(Call& c) {
  bool known = false;
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    known = t.Find(c.instance) != nullptr;
    auto keys = t.ReplicasOf(c.instance);
    std::sort(keys.begin(), keys.end(), InstanceKeyLess);
    for (const auto& k : keys) {
      if (const auto* r = t.Find(k)) arr.push_back(InstanceJson(*r, t, json_));
    }
  });
  if (!known) return c.Error("Cannot read instance: " + c.instance);
  c.Bare(arr);
}

// orchestrator's ReadWriteableClustersMasters: per cluster, the instance at
// its top (depth 0, or a co-master) that is writable.
void OrchestratorApi::Masters(Call& c) {
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    std::vector<std::string> keys;
    for (const auto& [k, r] : t.instances()) {
      if (r.probed && (r.master_key.empty() || r.is_co_master) && !r.probe.instance.read_only) keys.push_back(k);
    }
    std::sort(keys.begin(), keys.end(), InstanceKeyLess);
    for (const auto& k : keys) arr.push_back(InstanceJson(*t.Find(k), t, json_));
  });
  c.Bare(arr);
}

void OrchestratorApi::ClusterMaster(Call& c) {
  std::string cluster;
  if (!ResolveCluster(c, c.Arg("clusterHint"), &cluster)) return;
  json master;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    std::vector<std::string> keys;
    for (const auto& [k, r] : t.instances()) {
      if (r.cluster == cluster && r.probed && (r.master_key.empty() || r.is_co_master) &&
          !r.probe.instance.read_only) {
        keys.push_back(k);
      }
    }
    std::sort(keys.begin(), keys.end(), InstanceKeyLess);
    if (!keys.empty()) master = InstanceJson(*t.Find(keys.front()), t, json_);
  });
  if (master.is_null()) return c.Error("No masters found for " + cluster);
  c.Bare(master);
}

void OrchestratorApi::AllInstances(Call& c) {
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    std::vector<std::string> keys;
    for (const auto& [k, r] : t.instances()) keys.push_back(k);
    std::sort(keys.begin(), keys.end(), InstanceKeyLess);
    for (const auto& k : keys) arr.push_back(InstanceJson(*t.Find(k), t, json_));
  });
  c.Bare(arr);
}

// orchestrator's SearchInstances (go/inst/instance_dao.go): the trimmed
// string in the host name, host:port, cluster name, version, version comment
// or suggested cluster alias, or equal to the server_id or the port; ordered
// by depth, then most replicas first, then cluster and key. "" finds all.
void OrchestratorApi::Search(Call& c) {
  std::string s = c.Arg("searchString");
  if (s.empty()) s = c.Query("s");
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    struct Found {
      uint32_t depth;
      size_t replicas;
      std::string cluster, key;
    };
    std::vector<Found> found;
    for (const auto& [k, r] : t.instances()) {
      std::string host;
      uint16_t port = 0;
      if (!SplitHostPort(k, &host, &port)) host = k;
      bool hit = std::to_string(r.probe.instance.server_id) == s || std::to_string(port) == s;
      for (const std::string& field : {host, k, r.cluster, r.probe.instance.version, r.probe.version_comment,
                                       r.probe.cluster_alias}) {
        hit = hit || field.find(s) != std::string::npos;
      }
      if (hit) found.push_back({r.replication_depth, t.ReplicasOf(k).size(), r.cluster, k});
    }
    std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
      if (a.depth != b.depth) return a.depth < b.depth;
      if (a.replicas != b.replicas) return a.replicas > b.replicas;
      if (a.cluster != b.cluster) return a.cluster < b.cluster;
      return InstanceKeyLess(a.key, b.key);
    });
    for (const auto& f : found) arr.push_back(InstanceJson(*t.Find(f.key), t, json_));
  });
  c.Bare(arr);
}

void OrchestratorApi::TopologyTabulated(Call& c) {
  std::string cluster;
  if (!ResolveCluster(c, c.instance.empty() ? c.Arg("clusterHint") : c.instance, &cluster)) return;
  std::string tree;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    tree = TabulateTopology(AsciiTopology(t, cluster, json_));
  });
  c.Ok("Topology for cluster " + cluster, tree);
}

std::string OrchestratorApi::CannotReplicateFrom(const analyzer::InstanceRecord& r,
                                                 const analyzer::InstanceRecord& s) {
  // The order of orchestrator's Instance.CanReplicateFrom checks.
  const auto& i = r.probe.instance;
  const auto& o = s.probe.instance;
  if (r.key == s.key) return "instance cannot replicate from itself: " + r.key;
  if (!o.log_bin) return "instance does not have binary logs enabled: " + s.key;
  if (o.replica.configured && !o.log_slave_updates) {
    return "instance does not have log_slave_updates enabled: " + s.key;
  }
  if (std::tie(i.major, i.minor) < std::tie(o.major, o.minor)) {
    return "instance " + r.key + " has version " + i.version + ", which is lower than " + o.version + " on " + s.key;
  }
  if (i.log_bin && o.log_bin && FormatRank(i.binlog_format) < FormatRank(o.binlog_format)) {
    return "Cannot replicate from " + o.binlog_format + " binlog format on " + s.key + " to " + i.binlog_format +
           " on " + r.key;
  }
  if (i.server_id == o.server_id) {
    return "Identical server id: " + s.key + ", " + r.key + " both have " + std::to_string(i.server_id);
  }
  if (!r.probe.server_uuid.empty() && r.probe.server_uuid == s.probe.server_uuid) {
    return "Identical server UUID: " + s.key + ", " + r.key + " both have " + r.probe.server_uuid;
  }
  if (i.replica.sql_delay < o.replica.sql_delay) {
    return s.key + " has higher SQL_Delay (" + std::to_string(o.replica.sql_delay) + " seconds) than " + r.key +
           " does (" + std::to_string(i.replica.sql_delay) + " seconds)";
  }
  return {};
}

// orchestrator's CanReplicateFrom (go/inst/instance.go) over what the model
// last read of both; with `gtid`, CanReplicateFromGTID: then also
// CheckMoveViaGTID (go/inst/instance_topology.go) — the instance replicates
// by Oracle GTID and the other supports it, or by MariaDB GTID and the other
// is a MariaDB server. A refusal is an error; "true" comes with the source's key.
void OrchestratorApi::CanReplicate(Call& c, bool gtid) {
  std::string error, why;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    const auto* r = t.Find(c.instance);
    const auto* s = t.Find(c.below);
    if (r == nullptr || !r->probed) {
      error = "Cannot read instance: " + c.instance;
    } else if (s == nullptr || !s->probed) {
      error = "Cannot read instance: " + c.below;
    } else if (why = CannotReplicateFrom(*r, *s); why.empty() && gtid) {
      const auto &ri = r->probe.instance, &si = s->probe.instance;
      const bool oracle = !ri.mariadb && ri.replica.UsesGtid() && !si.mariadb && si.gtid_mode == "ON";
      const bool mariadb = ri.mariadb && ri.replica.UsesGtid() && si.mariadb;
      if (!oracle && !mariadb) {
        error = "Instances " + c.instance + ", " + c.below + " not GTID compatible or not using GTID";
      }
    }
  });
  if (!error.empty()) return c.Error(error);
  if (!why.empty()) return c.Error(why);
  c.Ok("true", InstanceKeyJson(c.below));
}

// --- Changes. ---

void OrchestratorApi::Refresh(Call& c) {
  const analyzer::ProbeResult p = monitor_->Discover(c.instance);
  if (!p.reachable) return c.Error(p.error.empty() ? "Cannot read instance: " + c.instance : p.error);
  Audit("refresh", c.instance, c.user, "refreshed");
  c.Ok("Instance refreshed: " + c.instance, InstanceKeyJson(c.instance));
}

void OrchestratorApi::Control(Call& c) {
  pgtid::ControlCommand command;
  if (!pgtid::ControlCommandNamed(c.seg[0], &command)) return c.Error("unknown command " + c.seg[0]);
  pgtid::ControlOptions o;
  o.user = config_.topology_user;
  o.password = config_.topology_password;
  o.maintenance = [this](const std::string& k) {
    std::string why;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      const auto* r = t.Find(k);
      if (r != nullptr && r->maintenance.ActiveAt(Clock::now())) why = "in maintenance: " + r->maintenance.reason;
    });
    return why;
  };
  o.replicas = [this](const std::string& k) {
    std::vector<std::string> keys;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) { keys = t.ReplicasOf(k); });
    return keys;
  };
  pgtid::ControlArgs args;
  if (command == pgtid::ControlCommand::kDelayReplication) {
    const std::string& v = c.Arg("seconds");
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), args.seconds);
    if (ec != std::errc() || end != v.data() + v.size()) return c.Error("Invalid value provided for seconds");
  } else if (command == pgtid::ControlCommand::kPurgeBinaryLogs) {
    args.log_file = c.Arg("logFile");
    args.force = c.Query("force") == "true";
  } else if (command == pgtid::ControlCommand::kRestartReplicaStatements) {
    args.query = c.Query("q");
  } else if (command == pgtid::ControlCommand::kMasterPosWait) {
    args.until.file = c.Arg("logFile");
    const std::string& v = c.Arg("logPos");
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), args.until.pos);
    if (ec != std::errc() || end != v.data() + v.size()) return c.Error("Expecting coordinates as file:pos");
    if (const std::string t = c.Query("timeout"); !t.empty()) {
      args.wait = std::chrono::seconds(std::strtoll(t.c_str(), nullptr, 10));
    }
  }
  pgtid::ReplicationControl control(o);
  pgtid::ControlResult result;
  const Status s = control.Run(command, c.instance, args, &result);
  if (command == pgtid::ControlCommand::kRestartReplicaStatements) {
    // Nothing was issued: nothing to audit or to probe again.
    if (!s.ok()) return c.Error(s.message());
    return c.Ok("statements for: " + c.instance, result.planned);
  }
  // orchestrator's messages (go/http/api.go).
  static const std::map<pgtid::ControlCommand, std::string> kMessages = {
      {pgtid::ControlCommand::kStartReplica, "Replica started: "},
      {pgtid::ControlCommand::kStopReplica, "Replica stopped: "},
      {pgtid::ControlCommand::kStopReplicaNice, "Replica stopped nicely: "},
      {pgtid::ControlCommand::kRestartReplica, "Replica restarted: "},
      {pgtid::ControlCommand::kResetReplica, "Replica reset on "},
      {pgtid::ControlCommand::kDetachReplica, "Replica detached: "},
      {pgtid::ControlCommand::kReattachReplica, "Replica reattached: "},
      {pgtid::ControlCommand::kSkipQuery, "Query skipped on "},
      {pgtid::ControlCommand::kFlushBinaryLogs, "Binary logs flushed on: "},
  };
  std::string message;
  std::optional<json> details;
  if (command == pgtid::ControlCommand::kDelayReplication) {
    // orchestrator answers the seconds.
    message = "Replication delayed: " + c.instance;
    details = args.seconds;
  } else if (command == pgtid::ControlCommand::kEnableSemiSyncMaster ||
             command == pgtid::ControlCommand::kDisableSemiSyncMaster) {
    message = std::string("master semi-sync set to ") +
              (command == pgtid::ControlCommand::kEnableSemiSyncMaster ? "true" : "false");
  } else if (command == pgtid::ControlCommand::kEnableSemiSyncReplica ||
             command == pgtid::ControlCommand::kDisableSemiSyncReplica) {
    message = std::string("replica semi-sync set to ") +
              (command == pgtid::ControlCommand::kEnableSemiSyncReplica ? "true" : "false");
  } else if (command == pgtid::ControlCommand::kEnableGtid) {
    message = "Enabled GTID on " + c.instance;
  } else if (command == pgtid::ControlCommand::kDisableGtid) {
    message = "Disabled GTID on " + c.instance;
  } else if (command == pgtid::ControlCommand::kPurgeBinaryLogs) {
    message = "Binary logs purged on: " + c.instance;
  } else if (command == pgtid::ControlCommand::kMasterPosWait) {
    message = "Instance " + c.instance + " has reached coordinates: " + args.until.ToString();
  } else if (command == pgtid::ControlCommand::kSetReadOnly) {
    message = "Server set as read-only";
  } else if (command == pgtid::ControlCommand::kSetWriteable) {
    message = "Server set as writeable";
  } else {
    message = kMessages.at(command) + c.instance;
  }
  AnswerChange(c, pgtid::ControlCommandName(command), s, result.statements, message, std::move(details));
}

void OrchestratorApi::AnswerChange(Call& c, const std::string& action, const Status& s,
                                   const std::vector<std::string>& statements, const std::string& message,
                                   std::optional<json> details) {
  std::string issued;
  for (const auto& st : statements) issued += (issued.empty() ? "" : "; ") + st;
  Audit(action, c.instance, c.user,
        s.ok() ? issued : "refused: " + s.message() + (issued.empty() ? "" : " (after " + issued + ")"));
  // The model sees the change at once, whatever happened.
  monitor_->Discover(c.instance);
  if (!s.ok()) return c.Error(s.message());
  if (details) return c.Ok(message, *details);
  json instance;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    if (const auto* r = t.Find(c.instance)) instance = InstanceJson(*r, t, json_);
  });
  instance["Statements"] = statements;  // Tidewatch's own: what was issued
  c.Ok(message, instance);
}

// orchestrator's locate-gtid-errant, gtid-errant-reset-master and
// gtid-errant-inject-empty (pgtid/errant_gtid.h), on the errant set the
// topology computes from a fresh read of the instance and its master.
void OrchestratorApi::ErrantGtid(Call& c) {
  const std::string& command = c.seg[0];
  const analyzer::ProbeResult p = monitor_->Discover(c.instance);
  if (!p.reachable) return c.Error(p.error.empty() ? "Cannot read instance: " + c.instance : p.error);
  std::string master, top;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    if (const auto* r = t.Find(c.instance)) master = r->master_key;
  });
  if (!master.empty()) monitor_->Discover(master);
  std::string errant, master_position;
  size_t replicas = 0;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    const auto* r = t.Find(c.instance);
    if (r == nullptr) return;
    errant = r->errant_gtid;
    replicas = t.ReplicasOf(c.instance).size();
    if (const auto* m = t.Find(master)) master_position = m->probe.instance.gtid_binlog_pos;
    // The cluster's master: up the chain to one without a master, or a co-master.
    top = c.instance;
    for (size_t hops = 0; hops < 64; ++hops) {
      const auto* x = t.Find(top);
      if (x == nullptr || x->master_key.empty() || x->is_co_master) break;
      top = x->master_key;
    }
  });
  pgtid::ServerSession session;
  Status s = pgtid::OpenSession(c.instance, config_.topology_user, config_.topology_password,
                                std::chrono::seconds(30), &session);
  if (!s.ok()) return c.Error(s.message());
  if (command == "locate-gtid-errant") {
    std::vector<std::string> binlogs;
    s = pgtid::LocateErrantGtid(*session.c, session.i, errant, master_position, &binlogs);
    if (!s.ok()) return c.Error(s.message());
    return c.Ok("located errant GTID", binlogs);
  }
  std::vector<std::string> statements;
  std::string message;
  if (command == "gtid-errant-reset-master") {
    s = pgtid::ResetMasterErrant(*session.c, &session.i, errant, replicas, &statements);
    message = "Removed errant GTID on " + c.instance + " and issued a RESET MASTER";
  } else {
    pgtid::ServerSession m;
    s = top == c.instance ? Status::InvalidArgument("gtid-errant-inject-empty: " + c.instance + " is its cluster's master")
                          : pgtid::OpenSession(top, config_.topology_user, config_.topology_password,
                                               std::chrono::seconds(30), &m);
    int64_t injected = 0;
    if (s.ok()) s = pgtid::InjectEmptyErrant(*m.c, m.i, session.i, errant, &injected, &statements);
    message = "Have injected " + std::to_string(injected) + " transactions on cluster master " + top;
  }
  AnswerChange(c, command, s, statements, message);
}

}  // namespace tidewatch::server
