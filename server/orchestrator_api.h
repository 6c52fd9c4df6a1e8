// OrchestratorApi: the rest of orchestrator's HTTP API beside HttpApi's
// table (http_api.h), with orchestrator's paths and JSON (go/http/api.go):
//
//   reads   /api/instance-replicas/:host/:port  /api/masters  /api/master/:clusterHint
//           /api/all-instances  /api/search[/:searchString | ?s=]
//           /api/topology-tabulated/:clusterHint | :host/:port
//           /api/can-replicate-from/:host/:port/:belowHost/:belowPort
//   changes /api/refresh/:host/:port and the replication commands of
//           pgtid/replication_control.h: start-replica, stop-replica,
//           stop-replica-nice, restart-replica, reset-replica, detach-replica,
//           reattach-replica (-master-host too), skip-query, set-read-only,
//           set-writeable, flush-binary-logs — every -slave spelling too
//
// HttpApi asks it for a path its own table does not have. A change answers
// {Code, Message, Details: the instance as checked again afterwards} and is
// published as an audit entry; a refusal answers orchestrator's message as
// {"Code": "ERROR", …} with HTTP 500. Thread-safe as HttpApi.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyzer/monitor.h"
#include "server/api_call.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/orchestrator_json.h"
#include "sinks/publisher.h"

namespace tidewatch::server {

class OrchestratorApi {
 public:
  OrchestratorApi(const Config& config, analyzer::Monitor* monitor, sinks::Publisher* publisher,
                  JsonSettings json);

  // Answers `seg` (the path's segments after "api", percent-decoded) when it
  // is one of this table's paths; false, nothing answered, otherwise.
  // `authorize_change` is asked before a change; false means it answered the
  // refusal itself.
  bool Handle(const std::vector<std::string>& seg, const HttpRequest& request, const std::string& user,
              const std::function<bool()>& authorize_change, HttpResponse* response);

  // orchestrator's CanReplicateFrom (go/inst/instance.go) over what the
  // model knows of both: "" when `instance` can replicate from `source`,
  // else why not.
  static std::string CannotReplicateFrom(const analyzer::InstanceRecord& instance,
                                         const analyzer::InstanceRecord& source);

 private:
  using Call = ApiCall;
  using Route = ApiRoute<OrchestratorApi>;
  static const std::vector<Route>& Routes();

  void InstanceReplicas(Call& c);
  void Masters(Call& c);
  void ClusterMaster(Call& c);
  void AllInstances(Call& c);
  void Search(Call& c);
  void TopologyTabulated(Call& c);
  void CanReplicateFrom(Call& c) { CanReplicate(c, false); }
  void CanReplicateFromGtid(Call& c) { CanReplicate(c, true); }
  void CanReplicate(Call& c, bool gtid);
  void Refresh(Call& c);
  void Control(Call& c);
  void ErrantGtid(Call& c);
  // After a change: audited (what was issued, or why it was refused), the
  // instance probed again so that the model has it whatever happened, and
  // answered — the error, or `message` with `details`, by default the
  // instance's JSON and the statements issued.
  void AnswerChange(Call& c, const std::string& action, const Status& s, const std::vector<std::string>& statements,
                    const std::string& message, std::optional<nlohmann::json> details = std::nullopt);

  bool ResolveCluster(Call& c, const std::string& hint, std::string* cluster) const;
  void Audit(const std::string& action, const std::string& instance, const std::string& user,
             const std::string& message);

  const Config& config_;
  analyzer::Monitor* monitor_;
  sinks::Publisher* publisher_;
  JsonSettings json_;
};

// orchestrator's tabulated topology: the ASCII tree (ascii_topology.h) with
// each line's bracketed fields as "|"-separated columns, padded to line up.
std::string TabulateTopology(const std::string& ascii_tree);

}  // namespace tidewatch::server
