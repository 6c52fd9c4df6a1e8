#include "tools/tidewatch/http_api.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>

#include "analyzer/live_index_source.h"
#include "pgtid/executor.h"
#include "sinks/percent_decode.h"
#include "tools/tidewatch/ascii_topology.h"
#include "tools/tidewatch/prometheus_text.h"
#include "tools/tidewatch/relocation_commands.h"

namespace tidewatch::tools {

using nlohmann::json;
using analyzer::Clock;

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(sinks::PercentDecode(std::string_view(path).substr(start, slash - start)));
    start = slash + 1;
  }
  return out;
}

// "user:password" of an Authorization: Basic header; false when there is none.
bool BasicCredentials(const sinks::HttpRequest& r, std::string* user, std::string* password) {
  auto it = r.headers.find("authorization");
  if (it == r.headers.end()) return false;
  const std::string& v = it->second;
  if (v.size() < 6 || Lower(v.substr(0, 6)) != "basic ") return false;
  std::string b64 = v.substr(6);
  b64.erase(0, b64.find_first_not_of(' '));
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > 4096) return false;
  std::string decoded(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return false;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as output bytes.
  if (b64.size() >= 1 && b64.back() == '=') --len;
  if (b64.size() >= 2 && b64[b64.size() - 2] == '=') --len;
  decoded.resize(len);
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

// orchestrator's "simple time": <int>s|m|h|d|w.
bool ParseDuration(const std::string& s, std::chrono::seconds* out) {
  if (s.size() < 2) return false;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size() - 1, n);
  if (ec != std::errc() || p != s.data() + s.size() - 1 || n < 0) return false;
  static const std::map<char, int64_t> unit = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
  auto u = unit.find(s.back());
  if (u == unit.end()) return false;
  *out = std::chrono::seconds(n * u->second);
  return true;
}

}  // namespace

struct HttpApi::Call {
  const sinks::HttpRequest& request;
  sinks::HttpResponse* response;
  std::vector<std::string> seg;  // path segments after "api"
  std::string user;

  void Json(int status, const json& j) {
    response->status = status;
    response->content_type = "application/json; charset=UTF-8";
    // Paths and server messages are not always UTF-8: invalid bytes are replaced.
    response->body = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  void Ok(const std::string& message, json details = nullptr) { Json(200, Envelope(true, message, std::move(details))); }
  void Error(const std::string& message, json details = nullptr) {
    Json(500, Envelope(false, message, std::move(details)));
  }
  void Bare(const json& j) { Json(200, j); }
  bool Is(std::initializer_list<const char*> names, size_t args) const {
    if (seg.empty() || seg.size() != args + 1) return false;
    for (const char* n : names) {
      if (seg[0] == n) return true;
    }
    return false;
  }
  // host:port from segments i, i+1; false (and an error answered) when the port is bad.
  bool Key(size_t i, std::string* key) {
    uint16_t port = 0;
    auto [p, ec] = std::from_chars(seg[i + 1].data(), seg[i + 1].data() + seg[i + 1].size(), port);
    if (ec != std::errc() || p != seg[i + 1].data() + seg[i + 1].size() || port == 0) {
      Error("Invalid port: " + seg[i + 1]);
      return false;
    }
    *key = seg[i] + ":" + std::to_string(port);
    return true;
  }
};

HttpApi::HttpApi(const Config& config, analyzer::Monitor* monitor, sinks::Publisher* publisher,
                 const pgtid::PseudoGtidPattern* pattern)
    : config_(config), monitor_(monitor), publisher_(publisher), pattern_(pattern) {
  json_.poll_interval = std::chrono::seconds(config.instance_poll_seconds);
  json_.reasonable_lag_seconds = config.reasonable_replication_lag_seconds;
}

std::string HttpApi::UserOf(const sinks::HttpRequest& r) const {
  const std::string method = Lower(config_.authentication_method);
  if (method == "basic" || method == "multi") {
    std::string user, password;
    if (BasicCredentials(r, &user, &password)) return user;
    return {};
  }
  if (method == "proxy") {
    auto it = r.headers.find(Lower(config_.auth_user_header));
    if (it == r.headers.end()) return {};
    // The first value of the header.
    return it->second.substr(0, it->second.find(','));
  }
  return {};
}

bool HttpApi::Authorize(const sinks::HttpRequest& r, sinks::HttpResponse* out, bool write) {
  const std::string method = Lower(config_.authentication_method);
  std::string user, password;
  if (method == "basic" || method == "multi") {
    const bool have = BasicCredentials(r, &user, &password);
    const bool admin = have && user == config_.http_auth_user && password == config_.http_auth_password;
    const bool readonly = have && method == "multi" && user == "readonly";
    if (!admin && !readonly) {
      out->status = 401;
      out->content_type = "text/plain; charset=utf-8";
      out->headers = {{"WWW-Authenticate", "Basic realm=\"Authorization Required\""}};
      out->body = "Not Authorized\n";
      return false;
    }
  }
  if (!write) return true;
  bool allowed = true;
  if (config_.read_only) {
    allowed = false;
  } else if (method == "multi") {
    allowed = user != "readonly";
  } else if (method == "proxy") {
    const std::string who = UserOf(r);
    allowed = std::any_of(config_.power_auth_users.begin(), config_.power_auth_users.end(),
                          [&](const std::string& u) { return u == "*" || (!who.empty() && u == who); });
  }
  if (!allowed) {
    out->status = 500;
    out->content_type = "application/json; charset=UTF-8";
    out->body = Envelope(false, "Unauthorized").dump() + "\n";
  }
  return allowed;
}

void HttpApi::Audit(const std::string& action, const std::string& instance, const std::string& user,
                    const std::string& message) {
  v1::Envelope e;
  e.mutable_source()->set_server(instance);
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    if (const auto* r = t.Find(instance)) e.mutable_source()->set_cluster(r->cluster);
  });
  auto* a = e.mutable_audit();
  a->set_action(action);
  a->set_instance(instance);
  a->set_user(user);
  a->set_message(message);
  (void)publisher_->Publish(std::move(e));
}

void HttpApi::Handle(const sinks::HttpRequest& request, sinks::HttpResponse* response) {
  if (request.method != "GET" && request.method != "HEAD") {
    response->status = 404;
    response->content_type = "text/plain; charset=utf-8";
    response->body = "404 page not found\n";
    return;
  }
  if (!Authorize(request, response, false)) return;
  if (request.path == "/metrics") return Metrics(response);
  auto seg = Segments(request.path);
  if (seg.size() < 2 || seg[0] != "api") {
    response->status = 404;
    response->content_type = "text/plain; charset=utf-8";
    response->body = "404 page not found\n";
    return;
  }
  seg.erase(seg.begin());
  Call c{request, response, std::move(seg), UserOf(request)};
  Route(c);
}

void HttpApi::Route(Call& c) {
  std::string key, below;
  auto write = [&]() { return Authorize(c.request, c.response, true); };
  auto known_keys = [&]() {
    std::vector<std::string> keys;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      for (const auto& [k, r] : t.instances()) keys.push_back(k);
    });
    return keys;
  };
  // A cluster name, an alias, or an instance's host:port → the cluster's name.
  auto resolve = [&](const std::string& hint, std::string* cluster) {
    bool found = false;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      for (const auto& [k, r] : t.instances()) {
        if (r.cluster == hint || k == hint || (r.probed && r.probe.cluster_alias == hint)) {
          *cluster = r.cluster;
          found = true;
          return;
        }
      }
    });
    if (!found) c.Error("Unable to determine cluster name. clusterHint=" + hint);
    return found;
  };
  auto cluster_instances = [&](const std::string& cluster) {
    json arr = json::array();
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      std::vector<std::string> keys;
      for (const auto& [k, r] : t.instances()) {
        if (r.cluster == cluster) keys.push_back(k);
      }
      std::sort(keys.begin(), keys.end(), InstanceKeyLess);
      for (const auto& j : keys) arr.push_back(InstanceJson(*t.Find(j), t, json_));
    });
    return arr;
  };
  auto instance_json = [&](const std::string& k, json* out) {
    bool found = false;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      const auto* r = t.Find(k);
      if (r != nullptr && (r->probed || r->last_checked != Clock::time_point{})) {
        *out = InstanceJson(*r, t, json_);
        found = true;
      }
    });
    return found;
  };
  auto automated = [&](const std::vector<std::string>& filters, const std::string& cluster) {
    for (const auto& f : filters) {
      if (f == "*" || RE2::PartialMatch(cluster, RE2(f, RE2::Quiet))) return true;
    }
    return false;
  };

  // --- Reads. ---
  if (c.Is({"instance"}, 2)) {
    if (!c.Key(1, &key)) return;
    json j;
    if (!instance_json(key, &j)) return c.Error("Cannot read instance: " + key);
    return c.Bare(j);
  }
  if (c.Is({"clusters"}, 0)) {
    json arr = json::array();
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      for (const auto& [name, keys] : t.Clusters()) {
        if (!name.empty()) arr.push_back(name);
      }
    });
    return c.Bare(arr.empty() ? json(nullptr) : arr);
  }
  if (c.Is({"clusters-info"}, 0) || c.Is({"cluster-info"}, 1) || (c.seg.size() == 3 && c.seg[0] == "cluster-info" && c.seg[1] == "alias")) {
    std::string only;
    if (c.seg.size() > 1 && !resolve(c.seg.back(), &only)) return;
    json arr = json::array();
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      for (const auto& [name, keys] : t.Clusters()) {
        if (name.empty() || (!only.empty() && name != only)) continue;
        arr.push_back(ClusterInfoJson(name, t, automated(config_.recover_master_cluster_filters, name),
                                      automated(config_.recover_intermediate_master_cluster_filters, name)));
      }
    });
    return c.Bare(only.empty() ? arr : arr.at(0));
  }
  if (c.Is({"cluster"}, 1) || (c.seg.size() == 3 && c.seg[0] == "cluster" && c.seg[1] == "alias") ||
      (c.seg.size() == 4 && c.seg[0] == "cluster" && c.seg[1] == "instance")) {
    std::string cluster, hint = c.seg.back();
    if (c.seg.size() == 4) {
      if (!c.Key(2, &key)) return;
      hint = key;
    }
    if (!resolve(hint, &cluster)) return;
    return c.Bare(cluster_instances(cluster));
  }
  if (c.Is({"problems"}, 0) || c.Is({"problems"}, 1)) {
    std::string only;
    if (c.seg.size() == 2 && !resolve(c.seg[1], &only)) return;
    json arr = json::array();
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      for (const auto& [k, r] : t.instances()) {
        if (!only.empty() && r.cluster != only) continue;
        if (r.downtime.ActiveAt(Clock::now()) || ProblemsOf(r, json_).empty()) continue;
        arr.push_back(InstanceJson(r, t, json_));
      }
    });
    return c.Bare(arr.empty() ? json(nullptr) : arr);
  }
  if ((!c.seg.empty() && c.seg[0] == "replication-analysis") &&
      (c.seg.size() == 1 || c.seg.size() == 2 || (c.seg.size() == 4 && c.seg[1] == "instance"))) {
    std::string only_cluster, only_key;
    if (c.seg.size() == 2 && !resolve(c.seg[1], &only_cluster)) return;
    if (c.seg.size() == 4 && !c.Key(2, &only_key)) return;
    auto analysis = monitor_->Analysis();
    json arr = json::array();
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      for (const auto& a : analysis) {
        if (!only_cluster.empty() && a.cluster != only_cluster) continue;
        if (!only_key.empty() && a.key != only_key) continue;
        arr.push_back(AnalysisJson(a, t));
      }
    });
    return c.Ok("Analysis", arr);
  }
  if (c.Is({"maintenance"}, 0)) {
    json arr = json::array();
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      for (const auto& [k, r] : t.instances()) {
        if (!r.maintenance.ActiveAt(Clock::now())) continue;
        arr.push_back({{"Key", InstanceKeyJson(k)},
                       {"IsActive", true},
                       {"Owner", r.maintenance.owner},
                       {"Reason", r.maintenance.reason}});
      }
    });
    return c.Bare(arr);
  }
  if (c.Is({"in-maintenance"}, 2)) {
    if (!c.Key(1, &key)) return;
    bool in = false;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      const auto* r = t.Find(key);
      in = r != nullptr && r->maintenance.ActiveAt(Clock::now());
    });
    return c.Ok(in ? "true" : "false", in ? key : "");
  }
  if (c.Is({"downtimed"}, 0) || c.Is({"downtimed"}, 1)) {
    std::string only;
    if (c.seg.size() == 2 && !resolve(c.seg[1], &only)) return;
    json arr = json::array();
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      for (const auto& [k, r] : t.instances()) {
        if ((only.empty() || r.cluster == only) && r.downtime.ActiveAt(Clock::now())) {
          arr.push_back(InstanceJson(r, t, json_));
        }
      }
    });
    return c.Bare(arr);
  }
  if (c.Is({"topology"}, 1) || c.Is({"topology"}, 2)) {
    std::string cluster, hint = c.seg[1];
    if (c.seg.size() == 3) {
      if (!c.Key(1, &key)) return;
      hint = key;
    }
    if (!resolve(hint, &cluster)) return;
    std::string tree;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      tree = AsciiTopology(t, cluster, json_);
    });
    return c.Ok("Topology for cluster " + cluster, tree);
  }
  if (c.Is({"health", "status"}, 0)) {
    const bool settled = monitor_->Settled();
    json details = {{"Healthy", true},
                    {"Hostname", config_.producer_id},
                    {"Token", ""},
                    {"IsActiveNode", true},
                    {"Settled", settled}};
    return c.Ok("Application node is healthy", details);
  }
  if (c.Is({"lb-check", "_ping"}, 0)) return c.Bare("OK");

  // --- Changes. ---
  if (c.Is({"discover", "async-discover"}, 2)) {
    if (!c.Key(1, &key) || !write()) return;
    if (c.seg[0] == "async-discover") {
      std::thread([m = monitor_, key] { m->Discover(key); }).detach();
      Audit("async-discover", key, c.user, "discovery initiated");
      return c.Ok("Asynchronous discovery initiated for Instance: " + key);
    }
    analyzer::ProbeResult p = monitor_->Discover(key);
    Audit("discover", key, c.user, p.reachable ? "discovered" : "not reachable: " + p.error);
    if (!p.reachable) return c.Error(p.error);
    json j;
    instance_json(key, &j);
    return c.Ok("Instance discovered: " + key, j);
  }
  if (c.Is({"forget"}, 2)) {
    if (!c.Key(1, &key) || !write()) return;
    monitor_->Forget(key);
    Audit("forget", key, c.user, "forgotten");
    return c.Ok("Instance forgotten: " + key, InstanceKeyJson(key));
  }
  if (c.Is({"begin-maintenance"}, 4)) {
    if (!c.Key(1, &key) || !write()) return;
    std::string current;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      const auto* r = t.Find(key);
      if (r != nullptr && r->maintenance.ActiveAt(Clock::now())) current = r->maintenance.reason;
    });
    if (!current.empty()) {
      return c.Error("Cannot begin maintenance for instance: " + key + "; maintenance reason: " + current, 0);
    }
    analyzer::Suspension s{true, c.seg[3], c.seg[4], Clock::now() + std::chrono::minutes(10)};
    if (!monitor_->SetMaintenance(key, s)) return c.Error("Cannot read instance: " + key);
    Audit("begin-maintenance", key, c.user, c.seg[3] + ": " + c.seg[4]);
    return c.Ok("Maintenance begun: " + key, InstanceKeyJson(key));
  }
  if (c.Is({"end-maintenance"}, 2)) {
    if (!c.Key(1, &key) || !write()) return;
    monitor_->SetMaintenance(key, {});
    Audit("end-maintenance", key, c.user, "");
    return c.Ok("Maintenance ended: " + key, InstanceKeyJson(key));
  }
  if (c.Is({"begin-downtime"}, 4) || c.Is({"begin-downtime"}, 5)) {
    if (!c.Key(1, &key) || !write()) return;
    std::chrono::seconds duration(600);
    if (c.seg.size() == 6 && !ParseDuration(c.seg[5], &duration)) return c.Error("Cannot parse simple time: " + c.seg[5]);
    if (duration.count() == 0) duration = std::chrono::seconds(600);
    analyzer::Suspension s{true, c.seg[3], c.seg[4], Clock::now() + duration};
    if (!monitor_->SetDowntime(key, s)) return c.Error("Cannot read instance: " + key);
    Audit("begin-downtime", key, c.user, c.seg[3] + ": " + c.seg[4] + " for " + std::to_string(duration.count()) + "s");
    return c.Ok("Downtime begun: " + key, InstanceKeyJson(key));
  }
  if (c.Is({"end-downtime"}, 2)) {
    if (!c.Key(1, &key) || !write()) return;
    monitor_->SetDowntime(key, {});
    Audit("end-downtime", key, c.user, "");
    return c.Ok("Downtime ended: " + key, InstanceKeyJson(key));
  }
  if (c.Is({"last-pseudo-gtid"}, 2)) {
    if (!c.Key(1, &key) || !write()) return;
    auto index = monitor_->IndexSnapshot(key);
    const pgtid::PseudoGtidEntry* e = index ? index->LastEntry() : nullptr;
    if (e == nullptr) {
      return c.Error(index ? "No Pseudo-GTID entry in the binary logs of " + key
                           : "Instance not found: " + key + " (no live index)");
    }
    return c.Ok(index->CoordinatesOf(*e).ToString(), e->text);
  }

  const bool match_below = c.Is({"match-below", "match"}, 4);
  const bool match_up = c.Is({"match-up"}, 2);
  const bool rematch = c.Is({"rematch"}, 2);
  const bool match_replicas = c.Is({"match-replicas", "match-slaves"}, 4);
  const bool regroup = c.Is({"regroup-replicas", "regroup-slaves"}, 2);
  if (match_below || match_up || rematch || match_replicas || regroup) {
    if (!c.Key(1, &key)) return;
    if ((match_below || match_replicas) && !c.Key(3, &below)) return;
    if (!write()) return;
    pgtid::ExecutorOptions eo = ExecutorOptionsOf(config_);
    eo.maintenance = [this](const std::string& k) {
      std::string why;
      monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
        const auto* r = t.Find(k);
        if (r != nullptr && r->maintenance.ActiveAt(Clock::now())) why = "in maintenance: " + r->maintenance.reason;
      });
      return why;
    };
    pgtid::StreamingIndexSource fallback(eo.stream, pattern_);
    pgtid::SqlEndpoint credentials;
    credentials.user = config_.topology_user;
    credentials.password = config_.topology_password;
    analyzer::LiveIndexSource live(monitor_, &fallback, credentials);
    pgtid::Executor executor(eo, pattern_, &live);
    const std::vector<std::string> known = known_keys();
    std::vector<pgtid::Move> moves;
    std::string promoted;
    binlog::Status s;
    if (match_below) {
      s = executor.MatchBelow(key, below, &moves.emplace_back());
    } else if (match_up) {
      s = executor.MatchUp(key, known, &moves.emplace_back());
    } else if (rematch) {
      s = executor.Rematch(key, &moves.emplace_back());
    } else if (match_replicas) {
      s = executor.MultiMatch(key, below, known, &moves);
    } else {
      pgtid::Regroup g;
      s = executor.RegroupReplicas(key, known, &g);
      moves = g.moves;
      promoted = g.candidate;
    }
    if (!s.ok()) return c.Error(s.message());
    json move_json = json::array();
    size_t moved = 0;
    std::vector<std::string> errors;
    for (const auto& m : moves) {
      move_json.push_back(MoveJson(m));
      if (m.moved) {
        ++moved;
        monitor_->Discover(m.instance);  // the model sees the new edge at once
      } else {
        errors.push_back(m.instance + ": " + m.refused);
      }
    }
    Audit(c.seg[0], key, c.user, std::to_string(moved) + " moved" + (errors.empty() ? "" : "; refused: " + errors.front()));
    json envelope;
    if (match_below || match_up || rematch) {
      const pgtid::Move& m = moves.front();
      if (!m.moved) {
        envelope = Envelope(false, m.refused);
      } else {
        json details;
        instance_json(m.instance, &details);
        envelope = Envelope(true,
                            "Instance " + m.instance +
                                (match_below ? " matched below " + m.destination : match_up ? " matched up" : " rematched") +
                                " at " + (m.coordinates.empty() ? std::string("its GTID position") : m.coordinates.ToString()),
                            details);
      }
      envelope["Move"] = move_json.at(0);
    } else if (match_replicas) {
      std::string msg = "Matched " + std::to_string(moved) + " replicas of " + key + " below " + below + "; " +
                        std::to_string(errors.size()) + " errors: [";
      for (size_t i = 0; i < errors.size(); ++i) msg += (i ? ", " : "") + errors[i];
      envelope = Envelope(true, msg + "]", InstanceKeyJson(below));
      envelope["Moves"] = move_json;
    } else {
      if (promoted.empty()) {
        envelope = Envelope(false, "regroup-replicas " + key + ": no replica could be promoted" +
                                       (errors.empty() ? "" : ": " + errors.front()));
      } else {
        envelope = Envelope(true, "promoted replica: " + promoted + ", lost: " + std::to_string(errors.size()) +
                                      ", moved: " + std::to_string(moved),
                            InstanceKeyJson(promoted));
      }
      envelope["Moves"] = move_json;
    }
    return c.Json(envelope["Code"] == "OK" ? 200 : 500, envelope);
  }

  c.response->status = 404;
  c.response->content_type = "text/plain; charset=utf-8";
  c.response->body = "404 page not found\n";
}

void HttpApi::Metrics(sinks::HttpResponse* response) {
  const analyzer::MonitorMetrics m = monitor_->Metrics();
  PrometheusText p;
  p.Gauge("tidewatch_instances", "Instances in the topology model", static_cast<double>(m.instances));
  p.Gauge("tidewatch_clusters", "Clusters in the topology model", static_cast<double>(m.clusters));
  p.Counter("tidewatch_probes_total", "Instance checks over SQL", static_cast<double>(m.probes));
  p.Counter("tidewatch_probe_failures_total", "Instance checks that did not reach the server",
            static_cast<double>(m.probe_failures));
  for (const char* st : {"connecting", "streaming", "lagging", "disconnected", "ended", "failed"}) {
    auto it = m.streams_by_state.find(st);
    p.Gauge("tidewatch_streams", "Replication streams by state",
            static_cast<double>(it == m.streams_by_state.end() ? 0 : it->second), {{"state", st}});
  }
  p.Counter("tidewatch_stream_events_total", "Binlog events received over every stream",
            static_cast<double>(m.stream_events));
  p.Counter("tidewatch_stream_bytes_total", "Binlog bytes received over every stream", static_cast<double>(m.stream_bytes));
  p.Counter("tidewatch_pseudo_gtid_entries_total", "Pseudo-GTID entries indexed", static_cast<double>(m.pseudo_gtid_entries));
  for (const auto& [k, bytes] : m.index_bytes) {
    p.Gauge("tidewatch_index_bytes", "Memory of a server's Pseudo-GTID index", static_cast<double>(bytes), {{"instance", k}});
  }
  for (const auto& [k, lag] : m.replica_lag_seconds) {
    p.Gauge("tidewatch_replica_lag_seconds", "Seconds_Behind_Master at the last check (-1: NULL)",
            static_cast<double>(lag), {{"instance", k}});
  }
  p.Gauge("tidewatch_open_analyses", "Failure analyses and structure warnings open now",
          static_cast<double>(m.open_analyses));
  p.Counter("tidewatch_published_total", "Messages published", static_cast<double>(publisher_->published()));
  p.Counter("tidewatch_publish_failures_total", "Messages an outlet refused", static_cast<double>(publisher_->sink_failures()));
  if (kafka_ != nullptr) {
    const sinks::KafkaStats k = kafka_->stats();
    p.Counter("tidewatch_kafka_produced_total", "Messages handed to the Kafka producer", static_cast<double>(k.produced));
    p.Counter("tidewatch_kafka_delivered_total", "Messages the broker confirmed", static_cast<double>(k.delivered));
    p.Counter("tidewatch_kafka_delivery_errors_total", "Delivery reports with an error", static_cast<double>(k.delivery_errors));
    p.Gauge("tidewatch_spool_pending", "Messages in the spool not yet confirmed", static_cast<double>(k.spool_pending));
    p.Gauge("tidewatch_spool_bytes", "Bytes of the spool on disk", static_cast<double>(k.spool_bytes));
    p.Counter("tidewatch_spool_dropped_total", "Messages lost to a full spool (drop-oldest)",
              static_cast<double>(k.spool_dropped));
  }
  if (event_stream_ != nullptr) {
    p.Gauge("tidewatch_event_stream_clients", "Clients of /api/stream", static_cast<double>(event_stream_->clients()));
    p.Counter("tidewatch_event_stream_slow_clients_dropped_total", "Clients of /api/stream dropped for reading too slowly",
              static_cast<double>(event_stream_->slow_clients_dropped()));
  }
  response->status = 200;
  response->content_type = PrometheusText::kContentType;
  response->body = p.text();
}

}  // namespace tidewatch::tools
