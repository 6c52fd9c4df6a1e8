#include "tools/tidewatch/relocation_commands.h"

#include <chrono>
#include <iomanip>
#include <ostream>

#include <nlohmann/json.hpp>

#include <thread>

#include "pgtid/index_source.h"
#include "pgtid/pseudo_gtid_injector.h"
#include "tools/tidewatch/api_client.h"

namespace tidewatch::tools {

using namespace tidewatch::pgtid;
using nlohmann::json;

ExecutorOptions ExecutorOptionsOf(const Config& config) {
  ExecutorOptions eo;
  eo.user = config.topology_user;
  eo.password = config.topology_password;
  eo.stream.user = config.topology_user;
  eo.stream.password = config.topology_password;
  eo.stream.server_id = config.short_read_server_id();
  eo.stream.tls_mode = binlog::TlsMode::kPreferred;
  return eo;
}

json MoveJson(const Move& m) {
  json j = {{"instance", m.instance},
            {"from_master", m.from_master},
            {"destination", m.destination},
            {"moved", m.moved},
            {"method", m.method},
            {"millis", m.millis}};
  if (!m.previous.empty()) j["previous_coordinates"] = m.previous.ToString();
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

namespace {

void PrintMove(std::ostream& out, const Move& m) {
  if (m.moved) {
    out << m.instance << " moved below " << m.destination << " by " << m.method;
    if (!m.coordinates.empty()) out << " at " << m.coordinates.ToString();
    out << " (was " << m.from_master << " " << m.previous.ToString() << "; " << std::fixed
        << std::setprecision(1) << m.millis << " ms)\n";
    if (!m.entry.empty()) out << "  entry " << m.entry << " + " << m.k << " events, from " << m.route << "\n";
    if (!m.verified.empty()) out << "  verified: " << m.verified << "\n";
  } else {
    out << m.instance << " not moved" << (m.destination.empty() ? "" : " below " + m.destination) << ": "
        << m.refused << (m.rolled_back ? " (rolled back to its previous master)" : "") << "\n";
  }
}

// The move made by the daemon: its API's path for the command, and the same
// output as a local run.
int RunViaDaemon(ApiClient& api, const RelocationOptions& o, std::ostream& out, std::ostream& err) {
  std::string host, dhost;
  uint16_t port = 0, dport = 0;
  if (!SplitHostPort(o.instance, &host, &port)) {
    err << "tidewatch: -i must be HOST:PORT, not " << o.instance << "\n";
    return 2;
  }
  const bool with_destination = o.command == "match-below" || o.command == "multi-match-replicas";
  if (with_destination && !SplitHostPort(o.destination, &dhost, &dport)) {
    err << "tidewatch: -s must be HOST:PORT, not " << o.destination << "\n";
    return 2;
  }
  const std::string hp = host + "/" + std::to_string(port);
  const std::string dhp = dhost + "/" + std::to_string(dport);
  std::string path;
  if (o.command == "last-pseudo-gtid") path = "/api/last-pseudo-gtid/" + hp;
  if (o.command == "match-below") path = "/api/match-below/" + hp + "/" + dhp;
  if (o.command == "match-up") path = "/api/match-up/" + hp;
  if (o.command == "rematch") path = "/api/rematch/" + hp;
  if (o.command == "multi-match-replicas") path = "/api/match-replicas/" + hp + "/" + dhp;
  if (o.command == "regroup-replicas") path = "/api/regroup-replicas/" + hp;
  err << "tidewatch: " << o.command << " by the daemon at " << api.address() << " (its live indexes)\n";
  int status = 0;
  json body;
  binlog::Status s = api.Get(path, &status, &body);
  if (!s.ok()) {
    err << "tidewatch: " << s.message() << "\n";
    return 1;
  }
  if (!body.is_object() || !body.contains("Code")) {
    err << "tidewatch: the daemon answered " << status << ": " << body.dump() << "\n";
    return 1;
  }
  const bool ok = body["Code"] == "OK";
  if (o.command == "last-pseudo-gtid") {
    if (!ok) {
      if (o.json) out << json{{"instance", o.instance}, {"error", body["Message"]}}.dump() << "\n";
      err << "tidewatch: " << body["Message"].get<std::string>() << "\n";
      return 1;
    }
    const std::string at = body["Message"];
    const auto colon = at.rfind(':');
    if (o.json) {
      out << json{{"instance", o.instance},
                  {"file", at.substr(0, colon)},
                  {"pos", std::stoull(at.substr(colon + 1))},
                  {"entry", body["Details"]},
                  {"source", "daemon"}}
                 .dump()
          << "\n";
    } else {
      out << at << "\t" << body["Details"].get<std::string>() << "\n";
    }
    return 0;
  }
  if (body.contains("Move")) {
    const json& m = body["Move"];
    if (o.json) {
      out << m.dump() << "\n";
    } else {
      out << body["Message"].get<std::string>() << "\n";
    }
    return m.value("moved", false) ? 0 : 1;
  }
  if (body.contains("Moves")) {
    bool all = ok;
    for (const auto& m : body["Moves"]) all = all && m.value("moved", false);
    if (o.json) {
      json j = {{"master", o.instance}, {"moves", body["Moves"]}};
      if (with_destination) j["destination"] = o.destination;
      if (o.command == "regroup-replicas" && ok) {
        const auto& k = body["Details"];
        j["candidate"] = k.value("Hostname", "") + ":" + std::to_string(k.value("Port", 0));
      }
      out << j.dump() << "\n";
    } else {
      out << body["Message"].get<std::string>() << "\n";
    }
    return all ? 0 : 1;
  }
  err << "tidewatch: " << body["Message"].get<std::string>() << "\n";
  return 1;
}

}  // namespace

int RunRelocation(const Config& config, const RelocationOptions& o, std::ostream& out, std::ostream& err) {
  if (o.command != "inject-pseudo-gtid" && !o.local && o.index_store.empty()) {
    ApiClient api(config, o.api);
    if (api.Available()) return RunViaDaemon(api, o, out, err);
  }
  std::unique_ptr<PseudoGtidPattern> pattern;
  binlog::Status s = PseudoGtidPattern::Create(config.pseudo_gtid, &pattern);
  if (!s.ok()) {
    err << "tidewatch: " << s.message() << "\n";
    return 2;
  }
  ExecutorOptions eo = ExecutorOptionsOf(config);
  eo.method = o.method;
  eo.relay_log = o.relay_log;
  StreamingIndexSource indexes(eo.stream, pattern.get());
  std::unique_ptr<IndexStore> store;
  if (!o.index_store.empty()) {
    s = IndexStore::Open(o.index_store, &store);
    if (!s.ok()) {
      err << "tidewatch: " << s.message() << "\n";
      return 2;
    }
    indexes.set_store(store.get());
  }
  struct ReportDiscarded {
    const StreamingIndexSource& i;
    std::ostream& err;
    ~ReportDiscarded() {
      if (!i.discarded().empty()) err << "tidewatch: warning: " << i.discarded() << "\n";
    }
  } report_discarded{indexes, err};
  const auto started = std::chrono::steady_clock::now();
  if (o.progress) {
    indexes.set_progress([&err, started](const IndexProgress& p) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      err << "\rindexing " << p.server << ": " << (p.bytes >> 20) << " MiB";
      if (p.total_bytes) err << " of " << (p.total_bytes >> 20) << " MiB";
      err << ", " << p.events << " events";
      if (p.total_bytes > p.bytes && p.bytes > 0 && secs > 0) {
        err << ", ETA " << std::fixed << std::setprecision(1) << secs * (p.total_bytes - p.bytes) / p.bytes << " s";
      }
      err << (p.done ? "\n" : "   ") << std::flush;
    });
  }
  Executor executor(eo, pattern.get(), &indexes);
  std::vector<std::string> known = config.discovery_seeds;
  known.insert(known.end(), o.replicas.begin(), o.replicas.end());

  if (o.command == "inject-pseudo-gtid") {
    SqlEndpoint ep;
    ep.user = config.topology_user;
    ep.password = config.topology_password;
    if (!SplitHostPort(o.instance, &ep.host, &ep.port)) {
      err << "tidewatch: -i must be HOST:PORT, not " << o.instance << "\n";
      return 2;
    }
    std::unique_ptr<SqlConnection> c;
    s = SqlConnection::Connect(ep, &c);
    PseudoGtidInjector injector;
    for (int n = 0; s.ok() && (o.count == 0 || n < o.count); ++n) {
      if (n > 0) {
        for (int slept = 0; slept < o.interval_ms && !(o.stop && *o.stop); slept += 10) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      if (o.stop && *o.stop) break;
      std::string statement;
      s = injector.Inject(*c, &statement);
      if (!s.ok()) break;
      if (!pattern->Matches(statement)) {
        err << "tidewatch: warning: PseudoGTIDPattern does not match the injected entries\n";
      }
      if (o.json) {
        out << json{{"instance", o.instance}, {"injected", statement}}.dump() << "\n" << std::flush;
      } else {
        out << statement << "\n" << std::flush;
      }
    }
    if (!s.ok()) {
      err << "tidewatch: " << s.message() << "\n";
      return 1;
    }
    return 0;
  }

  if (o.command == "last-pseudo-gtid") {
    std::string host;
    uint16_t port = 0;
    if (!SplitHostPort(o.instance, &host, &port)) {
      err << "tidewatch: -i must be HOST:PORT, not " << o.instance << "\n";
      return 2;
    }
    const ServerIndex* index = nullptr;
    s = indexes.CaughtUp(host, port, &index);
    const double millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    if (!s.ok()) {
      if (o.json) out << json{{"instance", o.instance}, {"error", s.message()}}.dump() << "\n";
      err << "tidewatch: " << s.message() << "\n";
      return 1;
    }
    const PseudoGtidEntry* e = index->LastEntry();
    if (e == nullptr) {
      if (o.json) {
        out << json{{"instance", o.instance}, {"error", "no Pseudo-GTID entry in the binary logs"}}.dump() << "\n";
      }
      err << "tidewatch: " << o.instance << ": no Pseudo-GTID entry in the binary logs\n";
      return 1;
    }
    const auto at = index->CoordinatesOf(*e);
    if (o.json) {
      out << json{{"instance", o.instance},
                  {"file", at.file},
                  {"pos", at.pos},
                  {"end_pos", e->end_pos},
                  {"entry", e->text},
                  {"gtid", e->gtid},
                  {"timestamp", e->timestamp},
                  {"entries_indexed", index->entry_count()},
                  {"events_indexed", index->events_indexed()},
                  {"millis", millis}}
                 .dump()
          << "\n";
    } else {
      out << at.ToString() << "\t" << e->text << "\n";
    }
    return 0;
  }

  if (o.command == "regroup-replicas") {
    Regroup g;
    s = executor.RegroupReplicas(o.instance, known, &g);
    if (!s.ok()) {
      if (o.json) out << json{{"master", o.instance}, {"error", s.message()}}.dump() << "\n";
      err << "tidewatch: " << s.message() << "\n";
      return 1;
    }
    bool all = true;
    json moves = json::array();
    for (const auto& m : g.moves) {
      all = all && m.moved;
      moves.push_back(MoveJson(m));
    }
    if (o.json) {
      out << json{{"master", g.master}, {"candidate", g.candidate}, {"replicas", g.replicas}, {"moves", moves}}.dump()
          << "\n";
    } else {
      out << "regrouped the replicas of " << g.master << " below " << g.candidate << "\n";
      for (const auto& m : g.moves) PrintMove(out, m);
    }
    return all ? 0 : 1;
  }

  if (o.command == "multi-match-replicas") {
    std::vector<Move> moves;
    s = executor.MultiMatch(o.instance, o.destination, known, &moves);
    if (!s.ok()) {
      if (o.json) out << json{{"master", o.instance}, {"error", s.message()}}.dump() << "\n";
      err << "tidewatch: " << s.message() << "\n";
      return 1;
    }
    bool all = true;
    json j = json::array();
    for (const auto& m : moves) {
      all = all && m.moved;
      j.push_back(MoveJson(m));
      if (!o.json) PrintMove(out, m);
    }
    if (o.json) out << json{{"master", o.instance}, {"destination", o.destination}, {"moves", j}}.dump() << "\n";
    return all ? 0 : 1;
  }

  Move m;
  if (o.command == "match-below") {
    s = executor.MatchBelow(o.instance, o.destination, &m);
  } else if (o.command == "match-up") {
    s = executor.MatchUp(o.instance, known, &m);
  } else if (o.command == "rematch") {
    s = executor.Rematch(o.instance, &m);
  } else {
    err << "tidewatch: unknown command " << o.command << "\n";
    return 2;
  }
  if (!s.ok()) {
    err << "tidewatch: " << s.message() << "\n";
    return 2;
  }
  if (o.json) {
    out << MoveJson(m).dump() << "\n";
  } else {
    PrintMove(out, m);
  }
  return m.moved ? 0 : 1;
}

}  // namespace tidewatch::tools
