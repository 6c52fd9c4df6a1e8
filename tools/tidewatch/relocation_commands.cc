#include "tools/tidewatch/relocation_commands.h"

#include <chrono>
#include <iomanip>
#include <ostream>

#include <nlohmann/json.hpp>

#include <thread>

#include "pgtid/index_source.h"
#include "pgtid/pseudo_gtid_injector.h"
#include "base/host_port.h"
#include "server/api_client.h"
#include "server/relocations.h"

namespace tidewatch::tools {

using namespace tidewatch::pgtid;
using nlohmann::json;
using server::RelocationCommand;
using server::RelocationResult;

namespace {

// The move made by the daemon at `api`, with its live indexes: the same
// request by orchestrator's API path, the same typed result back.
bool RunViaDaemon(server::ApiClient& api, const server::RelocationRequest& q, RelocationResult* r, std::ostream& err) {
  const HostPort i = *ParseHostPort(q.instance);
  std::string path = std::string("/api/") +
                     (q.command == RelocationCommand::kMultiMatch ? "match-replicas"
                                                                   : server::RelocationCommandName(q.command)) +
                     "/" + i.host + "/" + std::to_string(i.port);
  if (!q.destination.empty()) {
    const HostPort d = *ParseHostPort(q.destination);
    path += "/" + d.host + "/" + std::to_string(d.port);
  }
  err << "tidewatch: " << server::RelocationCommandName(q.command) << " by the daemon at " << api.address()
      << " (its live indexes)\n";
  int status = 0;
  json body;
  Status s = api.Get(path, &status, &body);
  if (!s.ok()) {
    err << "tidewatch: " << s.message() << "\n";
    return false;
  }
  if (body.is_object() && body.contains("Relocation") &&
      server::RelocationFromJson(body["Relocation"], q.command, r)) {
    return true;
  }
  err << "tidewatch: the daemon answered " << status << ": "
      << (body.is_object() && body.contains("Message") ? body["Message"].dump() : body.dump()) << "\n";
  return false;
}

int InjectPseudoGtid(const server::Config& config, const PseudoGtidPattern& pattern, const RelocationOptions& o,
                     std::ostream& out, std::ostream& err) {
  SqlEndpoint ep;
  ep.user = config.topology_user;
  ep.password = config.topology_password;
  if (!SplitHostPort(o.instance, &ep.host, &ep.port)) {
    err << "tidewatch: -i must be HOST:PORT, not " << o.instance << "\n";
    return 2;
  }
  std::unique_ptr<SqlConnection> c;
  Status s = SqlConnection::Connect(ep, &c);
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
    if (!pattern.Matches(statement)) {
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

}  // namespace

int RunRelocation(const server::Config& config, const RelocationOptions& o, std::ostream& out, std::ostream& err) {
  std::unique_ptr<PseudoGtidPattern> pattern;
  Status s = PseudoGtidPattern::Create(config.pseudo_gtid, &pattern);
  if (!s.ok()) {
    err << "tidewatch: " << s.message() << "\n";
    return 2;
  }
  if (o.command == "inject-pseudo-gtid") return InjectPseudoGtid(config, *pattern, o, out, err);

  server::RelocationRequest q;
  auto command = server::RelocationCommandNamed(o.command);
  if (!command) {
    err << "tidewatch: unknown command " << o.command << "\n";
    return 2;
  }
  q.command = *command;
  q.instance = o.instance;
  q.destination = o.destination;
  q.known = config.discovery_seeds;
  q.known.insert(q.known.end(), o.replicas.begin(), o.replicas.end());
  if (!ParseHostPort(q.instance)) {
    err << "tidewatch: -i must be HOST:PORT, not " << o.instance << "\n";
    return 2;
  }
  if ((server::RelocationTakesDestination(q.command) || !q.destination.empty()) && !ParseHostPort(q.destination)) {
    err << "tidewatch: -s must be HOST:PORT, not " << o.destination << "\n";
    return 2;
  }

  RelocationResult r;
  bool answered = false;
  if (!o.local && o.index_store.empty()) {
    server::ApiClient api(config, o.api);
    if (api.Available()) {
      if (!RunViaDaemon(api, q, &r, err)) return 1;
      answered = true;
    }
  }
  if (!answered) {
    ExecutorOptions eo = server::ExecutorOptionsOf(config);
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
    server::Relocations relocations(eo, pattern.get(), &indexes);
    if (q.command == RelocationCommand::kMakeCoMaster) {
      s = server::ReplicationCredentialsOf(config, q.instance, &q.replication_user, &q.replication_password);
      if (!s.ok()) {
        err << "tidewatch: " << s.message() << "\n";
        return 1;
      }
    }
    s = relocations.Run(q, &r);
    if (!indexes.discarded().empty()) err << "tidewatch: warning: " << indexes.discarded() << "\n";
    if (!s.ok()) {
      err << "tidewatch: " << s.message() << "\n";
      return 2;
    }
  }
  if (o.json) {
    out << server::RelocationJson(r).dump() << "\n";
  } else if (r.error.empty()) {
    server::PrintRelocation(out, r);
  }
  if (!r.error.empty()) err << "tidewatch: " << r.error << "\n";
  return r.succeeded() ? 0 : 1;
}

}  // namespace tidewatch::tools
