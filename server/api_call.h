// ApiCall and ApiPath: one request to orchestrator's HTTP API as Tidewatch's
// two route tables see it (HttpApi's, http_api.h, and OrchestratorApi's,
// orchestrator_api.h), and the shape of one of orchestrator's paths
// (/api/<name>/<params>): every spelling of the name, and the rest of the
// path, where ":x" is the argument x and anything else a word that must be
// there. ":host/:port" (and ":belowHost/:belowPort") is an instance key,
// checked before anything else — a bad port is answered "Invalid port" even
// to one who may not change things.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyzer/monitor.h"
#include "server/http_server.h"
#include "sinks/publisher.h"

namespace tidewatch::server {

struct ApiCall {
  const HttpRequest& request;
  HttpResponse* response;
  const std::vector<std::string>& seg;  // path segments after "api", percent-decoded
  std::string user;
  // Filled by the route: its ":name" segments, and its instance keys as
  // host:port (":host/:port", ":belowHost/:belowPort").
  std::map<std::string, std::string> args;
  std::string instance, below;

  void Json(int status, const nlohmann::json& j);
  void Ok(const std::string& message, nlohmann::json details = nullptr);
  void Error(const std::string& message, nlohmann::json details = nullptr);
  void Bare(const nlohmann::json& j) { Json(200, j); }
  // The argument, "" when the route has none of that name.
  const std::string& Arg(const std::string& name) const;
  // The query string's value of `name`, percent-decoded ('+' is a space);
  // "" when it has none.
  std::string Query(const std::string& name) const;
  // What names the cluster: the instance, the alias or the hint; "" for none.
  const std::string& ClusterHint() const;
  // host:port from segments i, i+1; false (and an error answered) when the port is bad.
  bool Key(size_t i, std::string* key);
};

class ApiPath {
 public:
  ApiPath(std::initializer_list<const char*> names, std::string_view params);
  // Whether the call's path is this one; fills c.args (not the keys).
  bool Matches(ApiCall& c) const;
  // Parses the instance keys; false with the error answered.
  bool Keys(ApiCall& c) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::string> params_;
};

// One path of a table of orchestrator's paths served by an object of type
// Api: the path, whether it changes things, the member that answers it.
template <typename Api>
struct ApiRoute {
  ApiRoute(std::initializer_list<const char*> names, std::string_view params, bool changes,
           void (Api::*answer)(ApiCall&))
      : path(names, params), change(changes), handler(answer) {}

  ApiPath path;
  bool change;
  void (Api::*handler)(ApiCall&);
};

// The first of `routes` whose path the call's is, answered by `api` (after
// `authorize_change` for a change). False when none is the call's path.
template <typename Api>
bool AnswerRoute(Api* api, const std::vector<ApiRoute<Api>>& routes, ApiCall& c,
                 const std::function<bool()>& authorize_change) {
  if (c.seg.empty()) return false;
  for (const auto& route : routes) {
    if (!route.path.Matches(c)) continue;
    if (!route.path.Keys(c)) return true;
    if (route.change && !authorize_change()) return true;
    (api->*route.handler)(c);
    return true;
  }
  return false;
}

// The cluster a hint names — a cluster's name, an instance of it, or its
// alias; false with orchestrator's error answered when none.
bool ResolveClusterHint(analyzer::Monitor* monitor, ApiCall& c, const std::string& hint, std::string* cluster);

// An audit entry for a change made through the API, on the audit topic.
void PublishAudit(analyzer::Monitor* monitor, sinks::Publisher* publisher, const std::string& action,
                  const std::string& instance, const std::string& user, const std::string& message);

}  // namespace tidewatch::server
