#include "server/api_call.h"

#include <algorithm>
#include <charconv>

#include "base/percent_decode.h"
#include "server/orchestrator_json.h"

namespace tidewatch::server {

using nlohmann::json;

void ApiCall::Json(int status, const json& j) {
  response->status = status;
  response->content_type = "application/json; charset=UTF-8";
  // Paths and server messages are not always UTF-8: invalid bytes are replaced.
  response->body = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

void ApiCall::Ok(const std::string& message, json details) { Json(200, Envelope(true, message, std::move(details))); }

void ApiCall::Error(const std::string& message, json details) {
  Json(500, Envelope(false, message, std::move(details)));
}

const std::string& ApiCall::Arg(const std::string& name) const {
  static const std::string kNone;
  auto it = args.find(name);
  return it == args.end() ? kNone : it->second;
}

std::string ApiCall::Query(const std::string& name) const {
  const std::string& query = request.query;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    const std::string pair = query.substr(start, amp - start);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      std::string v = eq == std::string::npos ? "" : pair.substr(eq + 1);
      std::replace(v.begin(), v.end(), '+', ' ');
      return PercentDecode(v);
    }
    start = amp + 1;
  }
  return {};
}

const std::string& ApiCall::ClusterHint() const {
  if (!instance.empty()) return instance;
  return args.count("clusterAlias") ? Arg("clusterAlias") : Arg("clusterHint");
}

bool ApiCall::Key(size_t i, std::string* key) {
  uint16_t port = 0;
  const std::string& p = seg[i + 1];
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port == 0) {
    Error("Invalid port: " + p);
    return false;
  }
  *key = seg[i] + ":" + std::to_string(port);
  return true;
}

ApiPath::ApiPath(std::initializer_list<const char*> names, std::string_view p) : names_(names.begin(), names.end()) {
  for (size_t start = 0; start < p.size();) {
    const size_t slash = std::min(p.find('/', start), p.size());
    params_.emplace_back(p.substr(start, slash - start));
    start = slash + 1;
  }
}

bool ApiPath::Matches(ApiCall& c) const {
  if (c.seg.size() != params_.size() + 1 || std::find(names_.begin(), names_.end(), c.seg[0]) == names_.end()) {
    return false;
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i][0] != ':' && params_[i] != c.seg[i + 1]) return false;
  }
  c.args.clear();
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i][0] == ':') c.args[params_[i].substr(1)] = c.seg[i + 1];
  }
  return true;
}

bool ApiPath::Keys(ApiCall& c) const {
  for (size_t i = 0; i + 1 < params_.size(); ++i) {
    if (params_[i] == ":host" && params_[i + 1] == ":port" && !c.Key(i + 1, &c.instance)) return false;
    if (params_[i] == ":belowHost" && params_[i + 1] == ":belowPort" && !c.Key(i + 1, &c.below)) return false;
  }
  return true;
}

bool ResolveClusterHint(analyzer::Monitor* monitor, ApiCall& c, const std::string& hint, std::string* cluster) {
  bool found = false;
  monitor->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
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
}

void PublishAudit(analyzer::Monitor* monitor, sinks::Publisher* publisher, const std::string& action,
                  const std::string& instance, const std::string& user, const std::string& message) {
  v1::Envelope e;
  e.mutable_source()->set_server(instance);
  monitor->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    if (const auto* r = t.Find(instance)) e.mutable_source()->set_cluster(r->cluster);
  });
  auto* a = e.mutable_audit();
  a->set_action(action);
  a->set_instance(instance);
  a->set_user(user);
  a->set_message(message);
  (void)publisher->Publish(std::move(e));
}

}  // namespace tidewatch::server
