// MetadataApi: orchestrator's paths for what it keeps about instances and
// clusters beside their probes (go/http/api.go), with its paths and JSON:
//
//   tags    /api/tags/:host/:port  /api/tag-value/:host/:port[/:tagName]  /api/tagged?tag=a,b=1,!c
//           /api/tag/:host/:port[/:tagName/:tagValue]  /api/untag/:host/:port[/:tagName]
//           /api/untag-all[/:tagName/:tagValue]  /api/topology-tags/:clusterHint | :host/:port
//           (?tag=name[=value] where the path has no :tagName)
//   pools   /api/submit-pool-instances/:pool?instances=h:p,…  /api/cluster-pool-instances/:clusterName[/:pool]
//           /api/heuristic-cluster-pool-instances/:clusterName[/:pool]
//   names   /api/register-hostname-unresolve/:host/:port/:virtualname
//           /api/deregister-hostname-unresolve/:host/:port
//   clusters /api/forget-cluster/:clusterHint  /api/snapshot-topologies
//           /api/submit-masters-to-kv-stores[/:clusterHint]  /api/cluster-osc-replicas/:clusterHint
//   raft    /api/raft-state, raft-leader, raft-health, raft-status, raft-peers, raft-snapshot,
//           raft-yield/:node, raft-yield-hint/:hint, raft-add-peer/:addr, raft-remove-peer/:addr,
//           raft-follower-health-report/…: Tidewatch runs no raft, so each answers the error
//           orchestrator answers when raft is not enabled.
//
// Tags, pools and unresolve registrations are kept under StateDir
// (tags.json, pools.json, hostname-unresolve.json; in memory without one),
// so they survive a restart; snapshot-topologies writes
// <StateDir>/topology-snapshots/<unix time>.json. There is no KV store:
// submit-masters-to-kv-stores answers the pairs orchestrator would write,
// and writes none. Authorization as orchestrator's handlers check it (the
// change paths, and the pool reads, which orchestrator guards as well).
// Thread-safe as HttpApi.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "analyzer/monitor.h"
#include "server/api_call.h"
#include "server/config.h"
#include "server/hostname_unresolve.h"
#include "server/http_server.h"
#include "server/orchestrator_json.h"
#include "server/pool_store.h"
#include "server/tag_store.h"
#include "sinks/publisher.h"

namespace tidewatch::server {

class MetadataApi {
 public:
  MetadataApi(const Config& config, analyzer::Monitor* monitor, sinks::Publisher* publisher, JsonSettings json);
  ~MetadataApi();

  // As OrchestratorApi::Handle.
  bool Handle(const std::vector<std::string>& seg, const HttpRequest& request, const std::string& user,
              const std::function<bool()>& authorize_change, HttpResponse* response);

 private:
  using Call = ApiCall;
  using Route = ApiRoute<MetadataApi>;
  static const std::vector<Route>& Routes();

  void Tags(Call& c);
  void TagValue(Call& c);
  void Tagged(Call& c);
  void PutTag(Call& c);
  void Untag(Call& c);
  void TopologyTags(Call& c);
  void SubmitPool(Call& c);
  void ClusterPools(Call& c);
  void HeuristicPoolInstances(Call& c);
  void RegisterUnresolve(Call& c);
  void ForgetCluster(Call& c);
  void SnapshotTopologies(Call& c);
  void SubmitMastersToKv(Call& c);
  void OscReplicas(Call& c);
  void Raft(Call& c);

  // orchestrator's getTag: ?tag= parsed as ParseTag, else the path's
  // :tagName and :tagValue; false with the error answered.
  bool TagOf(Call& c, Tag* tag) const;
  void Audit(const std::string& action, const std::string& instance, const std::string& user,
             const std::string& message);

  const Config& config_;
  analyzer::Monitor* monitor_;
  sinks::Publisher* publisher_;
  JsonSettings json_;
  TagStore tags_;
  PoolStore pools_;
  HostnameUnresolveStore unresolve_;
};

}  // namespace tidewatch::server
