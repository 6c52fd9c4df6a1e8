#include "server/relocations.h"

#include <chrono>
#include <iomanip>
#include <ostream>

#include "analyzer/live_index_source.h"
#include "base/host_port.h"
#include "pgtid/classic_moves.h"
#include "pgtid/master_takeover.h"
#include "pgtid/relocate.h"
#include "pgtid/replication_steps.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::server {

using nlohmann::json;

namespace {

struct CommandName {
  const char* name;
  RelocationCommand command;
};
// The CLI's name first; then orchestrator's other spellings.
constexpr CommandName kCommandNames[] = {
    {"last-pseudo-gtid", RelocationCommand::kLastPseudoGtid},
    {"match-below", RelocationCommand::kMatchBelow},
    {"match-up", RelocationCommand::kMatchUp},
    {"rematch", RelocationCommand::kRematch},
    {"multi-match-replicas", RelocationCommand::kMultiMatch},
    {"regroup-replicas", RelocationCommand::kRegroup},
    {"regroup-replicas-gtid", RelocationCommand::kRegroupGtid},
    {"regroup-replicas-pgtid", RelocationCommand::kRegroupPseudoGtid},
    {"match-up-replicas", RelocationCommand::kMatchUpReplicas},
    {"move-gtid", RelocationCommand::kMoveGtid},
    {"move-replicas-gtid", RelocationCommand::kMoveReplicasGtid},
    {"move-up", RelocationCommand::kMoveUp},
    {"move-up-replicas", RelocationCommand::kMoveUpReplicas},
    {"move-below", RelocationCommand::kMoveBelow},
    {"repoint", RelocationCommand::kRepoint},
    {"repoint-replicas", RelocationCommand::kRepointReplicas},
    {"take-master", RelocationCommand::kTakeMaster},
    {"make-co-master", RelocationCommand::kMakeCoMaster},
    {"relocate", RelocationCommand::kRelocate},
    {"relocate-replicas", RelocationCommand::kRelocateReplicas},
    {"take-siblings", RelocationCommand::kTakeSiblings},
    {"get-candidate-replica", RelocationCommand::kGetCandidateReplica},
    {"match", RelocationCommand::kMatchBelow},
    // orchestrator's move-equivalent places a replica by coordinates it saw
    // equal earlier; the index gives them exactly, so relocate's choice serves.
    {"move-equivalent", RelocationCommand::kRelocate},
    {"multi-match-slaves", RelocationCommand::kMultiMatch},
    {"match-replicas", RelocationCommand::kMultiMatch},
    {"match-slaves", RelocationCommand::kMultiMatch},
    {"regroup-slaves", RelocationCommand::kRegroup},
    {"regroup-slaves-gtid", RelocationCommand::kRegroupGtid},
    {"regroup-slaves-pgtid", RelocationCommand::kRegroupPseudoGtid},
    {"match-up-slaves", RelocationCommand::kMatchUpReplicas},
    {"move-below-gtid", RelocationCommand::kMoveGtid},
    {"move-slaves-gtid", RelocationCommand::kMoveReplicasGtid},
    {"move-up-slaves", RelocationCommand::kMoveUpReplicas},
    {"repoint-slaves", RelocationCommand::kRepointReplicas},
    {"relocate-slaves", RelocationCommand::kRelocateReplicas},
    {"get-candidate-slave", RelocationCommand::kGetCandidateReplica},
};

bool IsRegroup(RelocationCommand c) {
  return c == RelocationCommand::kRegroup || c == RelocationCommand::kRegroupGtid ||
         c == RelocationCommand::kRegroupPseudoGtid;
}

// The key a result's JSON names its instance by.
const char* InstanceField(RelocationCommand c) {
  return c == RelocationCommand::kMultiMatch || IsRegroup(c) || c == RelocationCommand::kGetCandidateReplica
             ? "master"
             : "instance";
}

}  // namespace

std::optional<RelocationCommand> RelocationCommandNamed(const std::string& name) {
  for (const auto& n : kCommandNames) {
    if (name == n.name) return n.command;
  }
  return std::nullopt;
}

const char* RelocationCommandName(RelocationCommand c) {
  for (const auto& n : kCommandNames) {
    if (n.command == c) return n.name;
  }
  return "";
}

bool RelocationTakesDestination(RelocationCommand c) {
  using R = RelocationCommand;
  return c == R::kMatchBelow || c == R::kMultiMatch || c == R::kMoveGtid || c == R::kMoveReplicasGtid ||
         c == R::kMoveBelow || c == R::kRelocate || c == R::kRelocateReplicas;
}

bool RelocationMayTakeDestination(RelocationCommand c) {
  return RelocationTakesDestination(c) || c == RelocationCommand::kRepoint;
}

bool RelocationIsSingleMove(RelocationCommand c) {
  using R = RelocationCommand;
  return c == R::kMatchBelow || c == R::kMatchUp || c == R::kRematch || c == R::kMoveGtid || c == R::kMoveUp ||
         c == R::kMoveBelow || c == R::kRepoint || c == R::kMakeCoMaster || c == R::kRelocate;
}

bool RelocationResult::succeeded() const {
  if (!error.empty()) return false;
  if (command == RelocationCommand::kLastPseudoGtid) return last.has_value();
  if (command == RelocationCommand::kGetCandidateReplica) return !candidate.empty();
  if (IsRegroup(command) && candidate.empty()) return false;
  if (moves.empty()) return !RelocationIsSingleMove(command) && command != RelocationCommand::kTakeMaster;
  for (const auto& m : moves) {
    if (!m.moved) return false;
  }
  return true;
}

pgtid::ExecutorOptions ExecutorOptionsOf(const Config& config) {
  pgtid::ExecutorOptions eo;
  eo.user = config.topology_user;
  eo.password = config.topology_password;
  eo.stream.user = config.topology_user;
  eo.stream.password = config.topology_password;
  eo.stream.server_id = config.short_read_server_id();
  const TlsSettings tls = TopologyTlsOf(config);
  eo.stream.tls_mode = tls.mode;
  eo.stream.tls_ca = tls.ca;
  eo.stream.tls_cert = tls.cert;
  eo.stream.tls_key = tls.key;
  return eo;
}

Relocations::Relocations(pgtid::ExecutorOptions options, const pgtid::PseudoGtidPattern* pattern,
                         pgtid::IndexSource* indexes)
    : options_(std::move(options)), pattern_(pattern), indexes_(indexes) {}

namespace {

// The master `instance` replicates from.
Status MasterOf(const pgtid::ExecutorOptions& o, const std::string& instance, std::string* master) {
  pgtid::ServerSession r;
  Status s = pgtid::OpenSession(instance, o.user, o.password, std::chrono::milliseconds(30000), &r);
  if (!s.ok()) return s;
  if (!r.i.replica.configured) return Status::NotSupported(instance + " is not a replica");
  *master = r.i.replica.Master();
  return Status::OK();
}

}  // namespace

Status ReplicationCredentialsOf(const Config& config, const std::string& instance, std::string* user,
                                std::string* password) {
  if (config.replication_credentials_query.empty()) return Status::OK();
  const HostPort hp = ParseHostPort(instance).value_or(HostPort{});
  pgtid::SqlEndpoint ep{hp.host, hp.port, config.topology_user, config.topology_password};
  std::unique_ptr<pgtid::SqlConnection> c;
  Status s = pgtid::SqlConnection::Connect(ep, &c);
  pgtid::SqlResult r;
  if (s.ok()) s = c->Query(config.replication_credentials_query, &r);
  if (!s.ok()) return s;
  if (r.rows.empty() || r.rows[0].size() < 2 || !r.rows[0][0]) {
    return Status::NotSupported(instance + ": ReplicationCredentialsQuery returned no user and password");
  }
  *user = *r.rows[0][0];
  *password = r.rows[0][1].value_or("");
  return Status::OK();
}

Status Relocations::Run(const RelocationRequest& q, RelocationResult* out) {
  const auto started = std::chrono::steady_clock::now();
  *out = RelocationResult{};
  out->command = q.command;
  out->instance = q.instance;
  out->destination = q.destination;
  if (!ParseHostPort(q.instance)) return Status::InvalidArgument("the instance must be HOST:PORT, not " + q.instance);
  if ((RelocationTakesDestination(q.command) || !q.destination.empty()) && !ParseHostPort(q.destination)) {
    return Status::InvalidArgument("the destination must be HOST:PORT, not " + q.destination);
  }
  auto finish = [&](Status s) {
    if (!s.ok()) out->error = s.message();
    out->millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return Status::OK();
  };

  if (q.command == RelocationCommand::kLastPseudoGtid) {
    const HostPort hp = *ParseHostPort(q.instance);
    const pgtid::ServerIndex* index = nullptr;
    Status s = indexes_->CaughtUp(hp.host, hp.port, &index);
    if (!s.ok()) return finish(s);
    const pgtid::PseudoGtidEntry* e = index->LastEntry();
    if (e == nullptr) return finish(Status::NotSupported(q.instance + ": no Pseudo-GTID entry in the binary logs"));
    LastPseudoGtid l;
    l.at = index->CoordinatesOf(*e);
    l.end_pos = e->end_pos;
    l.entry = e->text;
    l.gtid = e->gtid;
    l.timestamp = e->timestamp;
    l.entries_indexed = index->entry_count();
    l.events_indexed = index->events_indexed();
    out->last = std::move(l);
    return finish(Status::OK());
  }

  pgtid::ExecutorOptions options = options_;
  switch (q.command) {
    case RelocationCommand::kRegroupGtid:
    case RelocationCommand::kMoveGtid:
    case RelocationCommand::kMoveReplicasGtid:
      options.method = pgtid::MatchMethod::kGtid;
      break;
    case RelocationCommand::kRegroupPseudoGtid:
      options.method = pgtid::MatchMethod::kPseudoGtid;
      break;
    default:
      break;
  }
  pgtid::Executor executor(options, pattern_, indexes_);
  pgtid::ClassicMoves classic(options);
  pgtid::Relocator relocator(options, &executor, &classic, indexes_);
  Status s;
  switch (q.command) {
    case RelocationCommand::kMatchBelow:
    case RelocationCommand::kMoveGtid:
      s = executor.MatchBelow(q.instance, q.destination, &out->moves.emplace_back());
      break;
    case RelocationCommand::kMatchUp:
      s = executor.MatchUp(q.instance, q.known, &out->moves.emplace_back());
      break;
    case RelocationCommand::kRematch:
      s = executor.Rematch(q.instance, &out->moves.emplace_back());
      break;
    case RelocationCommand::kMultiMatch:
    case RelocationCommand::kMoveReplicasGtid:
      s = executor.MultiMatch(q.instance, q.destination, q.known, &out->moves);
      break;
    case RelocationCommand::kMatchUpReplicas: {
      // Below the instance's master: its replicas become its siblings.
      std::vector<std::string> replicas;
      s = executor.ReplicasOf(q.instance, q.known, &replicas);
      std::string master;
      if (s.ok()) s = MasterOf(options, q.instance, &master);
      if (s.ok()) s = executor.MatchManyBelow(replicas, master, &out->moves);
      out->destination = master;
      break;
    }
    case RelocationCommand::kRegroup:
    case RelocationCommand::kRegroupGtid:
    case RelocationCommand::kRegroupPseudoGtid: {
      pgtid::Regroup g;
      s = executor.RegroupReplicas(q.instance, q.known, &g, q.policy ? &*q.policy : nullptr);
      out->preferred = g.preferred;
      out->moves = std::move(g.moves);
      out->candidate = std::move(g.candidate);
      out->replicas = std::move(g.replicas);
      break;
    }
    case RelocationCommand::kMoveUp:
      s = classic.MoveUp(q.instance, &out->moves.emplace_back());
      break;
    case RelocationCommand::kMoveUpReplicas: {
      std::vector<std::string> replicas;
      s = executor.ReplicasOf(q.instance, q.known, &replicas);
      if (s.ok()) s = classic.MoveUpReplicas(q.instance, replicas, &out->moves);
      break;
    }
    case RelocationCommand::kMoveBelow:
      s = classic.MoveBelow(q.instance, q.destination, &out->moves.emplace_back());
      break;
    case RelocationCommand::kRepoint:
      s = classic.Repoint(q.instance, q.destination, &out->moves.emplace_back());
      break;
    case RelocationCommand::kRepointReplicas: {
      std::vector<std::string> replicas;
      s = executor.ReplicasOf(q.instance, q.known, &replicas);
      if (s.ok()) s = classic.RepointReplicas(q.instance, replicas, &out->moves);
      break;
    }
    case RelocationCommand::kTakeMaster:
      s = classic.TakeMaster(q.instance, &out->moves);
      break;
    case RelocationCommand::kMakeCoMaster:
      s = classic.MakeCoMaster(q.instance, q.replication_user, q.replication_password, &out->moves.emplace_back());
      break;
    case RelocationCommand::kRelocate:
      s = relocator.Relocate(q.instance, q.destination, &out->moves.emplace_back());
      break;
    case RelocationCommand::kRelocateReplicas:
      s = relocator.RelocateReplicas(q.instance, q.destination, q.known, &out->moves);
      break;
    case RelocationCommand::kTakeSiblings:
      s = relocator.TakeSiblings(q.instance, q.known, &out->moves);
      break;
    case RelocationCommand::kGetCandidateReplica: {
      std::vector<std::string> replicas, excluded;
      s = executor.ReplicasOf(q.instance, q.known, &replicas);
      if (q.policy) {
        for (const auto& r : replicas) {
          if (q.policy->Rank(r) >= 4) excluded.push_back(r);
        }
      }
      std::string why;
      if (s.ok()) out->candidate = pgtid::ChooseTakeoverCandidate(options, q.instance, replicas, excluded, &why);
      out->replicas = std::move(replicas);
      if (s.ok() && out->candidate.empty()) s = Status::NotSupported(why);
      break;
    }
    case RelocationCommand::kLastPseudoGtid:
      break;
  }
  if (!s.ok()) out->moves.clear();
  return finish(s);
}

pgtid::ExecutorOptions ExecutorOptionsInDaemon(const Config& config, analyzer::Monitor* monitor) {
  pgtid::ExecutorOptions eo = ExecutorOptionsOf(config);
  eo.maintenance = [monitor](const std::string& k) {
    std::string why;
    monitor->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      const auto* r = t.Find(k);
      if (r != nullptr && r->maintenance.ActiveAt(analyzer::Clock::now())) {
        why = "in maintenance: " + r->maintenance.reason;
      }
    });
    return why;
  };
  return eo;
}

DaemonIndexes::DaemonIndexes(const Config& config, analyzer::Monitor* monitor, const pgtid::PseudoGtidPattern* pattern)
    : options(ExecutorOptionsInDaemon(config, monitor)),
      fallback(options.stream, pattern),
      live(monitor, &fallback, [&config] {
        pgtid::SqlEndpoint credentials;
        credentials.user = config.topology_user;
        credentials.password = config.topology_password;
        return credentials;
      }()) {}

Status RelocateInDaemon(const Config& config, analyzer::Monitor* monitor, const pgtid::PseudoGtidPattern* pattern,
                        RelocationRequest request, RelocationResult* out) {
  monitor->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    for (const auto& [k, r] : t.instances()) request.known.push_back(k);
  });
  DaemonIndexes indexes(config, monitor, pattern);
  Relocations relocations(indexes.options, pattern, &indexes.live);
  if (request.command == RelocationCommand::kMakeCoMaster) {
    Status s = ReplicationCredentialsOf(config, request.instance, &request.replication_user,
                                        &request.replication_password);
    if (!s.ok()) return s;
  }
  Status s = relocations.Run(request, out);
  if (!s.ok()) return s;
  out->source = "daemon";
  // Each server whose master changed is probed again at once, so the model
  // (and the answer built from it) has its new edge.
  bool any = false;
  for (const auto& m : out->moves) {
    if (!m.moved) continue;
    monitor->Discover(m.instance);
    any = true;
  }
  if (any) monitor->Discover(request.instance);
  return Status::OK();
}

json MoveJson(const pgtid::Move& m) {
  json j = {{"instance", m.instance},
            {"from_master", m.from_master},
            {"destination", m.destination},
            {"moved", m.moved},
            {"method", m.method},
            {"millis", m.millis}};
  if (!m.previous.empty()) j["previous_coordinates"] = {{"file", m.previous.file}, {"pos", m.previous.pos}};
  if (!m.previous_gtid.empty()) j["previous_gtid"] = m.previous_gtid;
  if (!m.coordinates.empty()) j["coordinates"] = {{"file", m.coordinates.file}, {"pos", m.coordinates.pos}};
  if (!m.route.empty()) j["position_from"] = m.route;
  if (!m.entry.empty()) j["pseudo_gtid_entry"] = m.entry;
  if (m.method == "pseudo-gtid") {
    j["events_after_entry"] = m.k;
    j["events_compared"] = m.compared;
  }
  if (!m.verified.empty()) j["verified"] = m.verified;
  if (!m.refused.empty()) j["refused"] = m.refused;
  if (m.rolled_back) j["rolled_back"] = true;
  j["statements"] = m.statements;
  return j;
}

bool MoveFromJson(const json& j, pgtid::Move* m) {
  if (!j.is_object() || !j.contains("instance") || !j.contains("moved")) return false;
  try {
    auto coordinates = [&](const char* key, pgtid::BinlogCoordinates* c) {
      if (j.contains(key)) *c = {j[key].at("file").get<std::string>(), j[key].at("pos").get<uint64_t>()};
    };
    m->instance = j.at("instance").get<std::string>();
    m->from_master = j.value("from_master", "");
    m->destination = j.value("destination", "");
    m->moved = j.at("moved").get<bool>();
    m->method = j.value("method", "");
    m->millis = j.value("millis", 0.0);
    coordinates("previous_coordinates", &m->previous);
    coordinates("coordinates", &m->coordinates);
    m->previous_gtid = j.value("previous_gtid", "");
    m->route = j.value("position_from", "");
    m->entry = j.value("pseudo_gtid_entry", "");
    m->k = j.value("events_after_entry", uint64_t{0});
    m->compared = j.value("events_compared", uint64_t{0});
    m->verified = j.value("verified", "");
    m->refused = j.value("refused", "");
    m->rolled_back = j.value("rolled_back", false);
    m->statements = j.value("statements", std::vector<std::string>{});
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

json RelocationJson(const RelocationResult& r) {
  const char* who = InstanceField(r.command);
  if (!r.error.empty()) return json{{who, r.instance}, {"error", r.error}};
  json j;
  if (r.command == RelocationCommand::kLastPseudoGtid) {
    j = {{"instance", r.instance},
         {"file", r.last->at.file},
         {"pos", r.last->at.pos},
         {"end_pos", r.last->end_pos},
         {"entry", r.last->entry},
         {"gtid", r.last->gtid},
         {"timestamp", r.last->timestamp},
         {"entries_indexed", r.last->entries_indexed},
         {"events_indexed", r.last->events_indexed},
         {"millis", r.millis}};
  } else if (RelocationIsSingleMove(r.command)) {
    j = MoveJson(r.moves.at(0));
  } else {
    json moves = json::array();
    for (const auto& m : r.moves) moves.push_back(MoveJson(m));
    j = {{who, r.instance}, {"moves", moves}};
    if (!r.destination.empty()) j["destination"] = r.destination;
    if (IsRegroup(r.command) || r.command == RelocationCommand::kGetCandidateReplica) {
      j["candidate"] = r.candidate;
      j["replicas"] = r.replicas;
      if (!r.preferred.empty()) j["preferred"] = r.preferred;
    }
    j["millis"] = r.millis;
  }
  if (!r.source.empty()) j["source"] = r.source;
  return j;
}

bool RelocationFromJson(const json& j, RelocationCommand command, RelocationResult* out) {
  if (!j.is_object()) return false;
  *out = RelocationResult{};
  out->command = command;
  out->source = j.value("source", "");
  try {
    if (j.contains("error")) {
      out->instance = j.at(InstanceField(command)).get<std::string>();
      out->error = j.at("error").get<std::string>();
      return true;
    }
    if (command == RelocationCommand::kLastPseudoGtid) {
      LastPseudoGtid l;
      out->instance = j.at("instance").get<std::string>();
      l.at = {j.at("file").get<std::string>(), j.at("pos").get<uint64_t>()};
      l.end_pos = j.value("end_pos", uint64_t{0});
      l.entry = j.at("entry").get<std::string>();
      l.gtid = j.value("gtid", "");
      l.timestamp = j.value("timestamp", uint64_t{0});
      l.entries_indexed = j.value("entries_indexed", uint64_t{0});
      l.events_indexed = j.value("events_indexed", uint64_t{0});
      out->millis = j.value("millis", 0.0);
      out->last = std::move(l);
      return true;
    }
    if (RelocationIsSingleMove(command)) {
      if (!MoveFromJson(j, &out->moves.emplace_back())) return false;
      out->instance = out->moves[0].instance;
      out->destination = out->moves[0].destination;
      out->millis = out->moves[0].millis;
      return true;
    }
    out->instance = j.at(InstanceField(command)).get<std::string>();
    out->destination = j.value("destination", "");
    out->candidate = j.value("candidate", "");
    out->preferred = j.value("preferred", "");
    out->replicas = j.value("replicas", std::vector<std::string>{});
    out->millis = j.value("millis", 0.0);
    for (const auto& m : j.at("moves")) {
      if (!MoveFromJson(m, &out->moves.emplace_back())) return false;
    }
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

void PrintRelocation(std::ostream& out, const RelocationResult& r) {
  if (!r.error.empty()) {
    out << r.instance << ": " << r.error << "\n";
    return;
  }
  if (r.last) {
    out << r.last->at.ToString() << "\t" << r.last->entry << "\n";
    return;
  }
  if (r.command == RelocationCommand::kGetCandidateReplica) {
    out << r.candidate << "\n";
    return;
  }
  if (IsRegroup(r.command)) {
    if (r.candidate.empty()) {
      out << "no replica of " << r.instance << " could be promoted\n";
    } else {
      out << "regrouped the replicas of " << r.instance << " below " << r.candidate << "\n";
    }
  }
  for (const auto& m : r.moves) {
    if (m.moved) {
      out << m.instance << " moved below " << m.destination << " by " << m.method;
      if (!m.coordinates.empty()) out << " at " << m.coordinates.ToString();
      out << " (was " << m.from_master << " " << m.previous.ToString() << "; " << std::fixed << std::setprecision(1)
          << m.millis << " ms)\n";
      if (!m.entry.empty()) out << "  entry " << m.entry << " + " << m.k << " events, from " << m.route << "\n";
      if (!m.verified.empty()) out << "  verified: " << m.verified << "\n";
    } else {
      out << m.instance << " not moved" << (m.destination.empty() ? "" : " below " + m.destination) << ": "
          << m.refused << (m.rolled_back ? " (rolled back to its previous master)" : "") << "\n";
    }
  }
}

}  // namespace tidewatch::server
