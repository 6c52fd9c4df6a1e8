#include "tools/tidewatch/topology_commands.h"

#include <ostream>
#include <thread>

#include "base/host_port.h"
#include "analyzer/monitor.h"
#include "pgtid/executor.h"
#include "server/api_client.h"
#include "server/ascii_topology.h"
#include "server/daemon.h"
#include "server/orchestrator_json.h"

namespace tidewatch::tools {

using nlohmann::json;

namespace {

// "host:port (cluster NAME): CODE[, WARNING…]" as orchestrator prints an analysis.
std::string AnalysisLine(const json& a) {
  std::string codes;
  if (a.value("Analysis", "") != "NoProblem") codes = a.value("Analysis", "");
  if (a["StructureAnalysis"].is_array()) {
    for (const auto& w : a["StructureAnalysis"]) codes += (codes.empty() ? "" : ", ") + w.get<std::string>();
  }
  const auto& k = a["AnalyzedInstanceKey"];
  std::string line = k.value("Hostname", "") + ":" + std::to_string(k.value("Port", 0)) + " (cluster " +
                     a["ClusterDetails"].value("ClusterName", "") + "): " + codes;
  if (a.value("IsDowntimed", false)) line += " (downtimed)";
  return line;
}

// What the commands print, from the API's answers (the daemon's or the
// one-shot discovery's): the same output either way.
int Print(const TopologyCommandOptions& o, int status, const json& body, std::ostream& out, std::ostream& err) {
  const bool envelope = body.is_object() && body.contains("Code") && body.contains("Message");
  if (status != 200 || (envelope && body["Code"] != "OK")) {
    err << "tidewatch " << o.command << ": " << (envelope ? body["Message"].get<std::string>() : body.dump()) << "\n";
    return 1;
  }
  if (o.command == "topology") {
    out << body["Details"].get<std::string>() << "\n";
  } else if (o.command == "clusters") {
    if (o.json) {
      out << body.dump() << "\n";
    } else {
      for (const auto& c : body) out << c["ClusterName"].get<std::string>() << "\n";
    }
  } else if (o.command == "replication-analysis") {
    if (o.json) {
      out << body["Details"].dump() << "\n";
    } else {
      for (const auto& a : body["Details"]) out << AnalysisLine(a) << "\n";
    }
  } else if (o.command == "instance") {
    out << body.dump(o.json ? -1 : 2) << "\n";
  } else {
    if (o.json) {
      out << body.dump() << "\n";
    } else {
      out << body["Message"].get<std::string>() << "\n";
    }
  }
  return 0;
}

std::string PathOf(const TopologyCommandOptions& o, const std::string& host, uint16_t port) {
  const std::string hp = host + "/" + std::to_string(port);
  if (o.command == "topology") return "/api/topology/" + hp;
  if (o.command == "clusters") return "/api/clusters-info";
  if (o.command == "replication-analysis") return "/api/replication-analysis";
  if (o.command == "instance") return "/api/instance/" + hp;
  if (o.command == "discover") return "/api/discover/" + hp;
  return "/api/forget/" + hp;
}

// Without a daemon: discover once (no streams) and answer as the API would.
int RunLocally(const server::Config& config, const TopologyCommandOptions& o, const std::string& key, std::ostream& out,
               std::ostream& err) {
  if (o.command == "forget") {
    err << "tidewatch forget: no daemon answers at " << (o.api.empty() ? config.listen_address : o.api)
        << ": there is nothing to forget without one\n";
    return 1;
  }
  analyzer::MonitorOptions mo = server::MonitorOptionsOf(config, nullptr);
  mo.follow_streams = false;
  mo.poll_interval = std::chrono::hours(1);
  mo.seeds = key.empty() ? config.discovery_seeds : std::vector<std::string>{key};
  if (mo.seeds.empty()) {
    err << "tidewatch " << o.command << ": no daemon answers, and neither -i nor DiscoverySeeds says where to look\n";
    return 2;
  }
  analyzer::Monitor monitor(mo, [](v1::Envelope&&) {});
  monitor.Start();
  // Settled: every server seen so far was checked, twice in a row.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int quiet = 0;
  while (quiet < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    bool done = false;
    monitor.Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      done = !t.instances().empty() && t.unchecked() == 0;
    });
    quiet = done ? quiet + 1 : 0;
  }
  server::JsonSettings js;
  js.poll_interval = std::chrono::seconds(config.instance_poll_seconds);
  js.reasonable_lag_seconds = config.reasonable_replication_lag_seconds;
  json body;
  int status = 200;
  const auto analysis = monitor.Analysis();
  monitor.Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    const analyzer::InstanceRecord* r = key.empty() ? nullptr : t.Find(key);
    if (!key.empty() && (r == nullptr || !r->reachable)) {
      status = 500;
      body = server::Envelope(false, r == nullptr ? "Cannot read instance: " + key : r->last_error);
      return;
    }
    if (o.command == "topology") {
      body = server::Envelope(true, "Topology for cluster " + r->cluster, server::AsciiTopology(t, r->cluster, js));
    } else if (o.command == "clusters") {
      body = json::array();
      for (const auto& [name, keys] : t.Clusters()) body.push_back(server::ClusterInfoJson(name, t, false, false));
    } else if (o.command == "replication-analysis") {
      json arr = json::array();
      for (const auto& a : analysis) arr.push_back(server::AnalysisJson(a, t));
      body = server::Envelope(true, "Analysis", arr);
    } else if (o.command == "instance") {
      body = server::InstanceJson(*r, t, js);
    } else {
      body = server::Envelope(true, "Instance discovered: " + key, server::InstanceJson(*r, t, js));
    }
  });
  monitor.Stop();
  return Print(o, status, body, out, err);
}

}  // namespace

int RunTopologyCommand(const server::Config& config, const TopologyCommandOptions& o, std::ostream& out, std::ostream& err) {
  std::string host, key;
  uint16_t port = 0;
  const bool needs_instance = o.command != "clusters" && o.command != "replication-analysis";
  if (needs_instance || !o.instance.empty()) {
    if (!SplitHostPort(o.instance, &host, &port)) {
      err << "tidewatch " << o.command << ": -i must be HOST:PORT, not \"" << o.instance << "\"\n";
      return 2;
    }
    key = host + ":" + std::to_string(port);
  }
  server::ApiClient api(config, o.api);
  if (!o.local && api.Available()) {
    int status = 0;
    json body;
    Status s = api.Get(PathOf(o, host, port), &status, &body);
    if (!s.ok()) {
      err << "tidewatch " << o.command << ": " << s.message() << "\n";
      return 1;
    }
    return Print(o, status, body, out, err);
  }
  return RunLocally(config, o, key, out, err);
}

}  // namespace tidewatch::tools
