// HttpApi: the daemon's HTTP interface on ListenAddress, with orchestrator's
// paths and JSON (orchestrator_json.h) so that its users' scripts, its
// client and vttablet's self-registration (/api/discover) work unchanged:
//
//   reads   /api/instance/:host/:port  /api/cluster/:hint  /api/cluster/alias/:alias
//           /api/cluster-info/:hint  /api/clusters  /api/clusters-info  /api/problems[/:cluster]
//           /api/replication-analysis[/:cluster | /instance/:host/:port]  /api/maintenance
//           /api/in-maintenance/:host/:port  /api/downtimed[/:hint]  /api/topology/:hint
//           /api/topology/:host/:port  /api/health  /api/status  /api/lb-check  /api/_ping  /metrics
//           /api/dashboard-rights (Tidewatch's own: whether the user may change things)
//   page    / and /dashboard/<file>: the live dashboard (docs/dashboard.md)
//   changes /api/discover/:host/:port  /api/async-discover/:host/:port  /api/forget/:host/:port
//           /api/begin-maintenance/:host/:port/:owner/:reason  /api/end-maintenance/:host/:port
//           /api/begin-downtime/:host/:port/:owner/:reason[/:duration]  /api/end-downtime/:host/:port
//           /api/last-pseudo-gtid/:host/:port  /api/match-below/:host/:port/:belowHost/:belowPort
//           /api/match-up/:host/:port  /api/match-replicas/:host/:port/:belowHost/:belowPort
//           /api/regroup-replicas/:host/:port  (and the legacy -slaves names)
//           /api/rematch/:host/:port (Tidewatch's own)
//
// As orchestrator: GET (and HEAD); reads answer the bare object, changes and
// errors the {Code, Message, Details} envelope, an error with HTTP 500.
// Relocations answer from the live index (analyzer/live_index_source.h) and
// add "Move" (what moved, how) beside the envelope's fields.
//
// Authentication (every request, /api/stream too): AuthenticationMethod
// "basic" needs HTTPAuthUser:HTTPAuthPassword; "multi" also lets the user
// "readonly" in, with any password, to read; failures get 401 with
// WWW-Authenticate. Changes are refused ("Unauthorized", 500) under ReadOnly,
// to "multi"'s readonly user, and under "proxy" to a user (AuthUserHeader)
// not in PowerAuthUsers. Every change is published as an audit entry.
//
// The paths are one table (http_api.cc): a path that is not in it, or a
// method other than GET and HEAD, is answered 404 as orchestrator's router
// does. Handle and Authorize may be called from several threads at once;
// the monitor, the publisher and the pattern (not owned) outlive the HttpApi.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "analyzer/monitor.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "sinks/event_stream.h"
#include "sinks/kafka_sink.h"
#include "sinks/publisher.h"
#include "server/api_call.h"
#include "server/config.h"
#include "server/fleet_group.h"
#include "server/http_server.h"
#include "server/metadata_api.h"
#include "server/orchestrator_api.h"
#include "server/orchestrator_json.h"
#include "server/recovery.h"
#include "server/relocations.h"

namespace tidewatch::server {

class HttpApi {
 public:
  HttpApi(const Config& config, analyzer::Monitor* monitor, sinks::Publisher* publisher,
          const pgtid::PseudoGtidPattern* pattern);

  void set_kafka(const sinks::KafkaSink* k) { kafka_ = k; }
  void set_event_stream(const sinks::EventStream* s) { event_stream_ = s; }
  // The daemon's embedded recovery consumer (not owned); none: recoveries
  // are not automated here.
  void set_recovery(RecoveryConsumer* r) { recovery_ = r; }
  // The daemon's share of a fleet monitored by several (not owned): a
  // request about an instance or cluster another daemon of the group
  // monitors is forwarded to it and answered with its answer; discovery
  // goes through the group; /api/monitor-group lists its records.
  void set_fleet_group(FleetGroup* g) { group_ = g; }

  void Handle(const HttpRequest& request, HttpResponse* response);
  // Authentication, and for `write` the authorization to change things.
  // False, with the response filled in, when refused.
  bool Authorize(const HttpRequest& request, HttpResponse* response, bool write);

 private:
  using Call = ApiCall;
  // The table of paths (http_api.cc): each path's spellings, its arguments,
  // whether it changes things, and its handler below.
  struct Route;
  static const std::vector<Route>& Routes();
  void Dispatch(Call& c);
  // In a monitor group: forwards a request whose path names an instance or
  // a cluster (its first arguments) that another daemon monitors to that
  // daemon; false when it is this daemon's to answer.
  bool ForwardToOwner(const HttpRequest& request, const std::vector<std::string>& seg, HttpResponse* response);
  void MonitorGroup(HttpResponse* response);
  // `request` as this daemon received it, asked of the group's daemon at
  // `daemon` (host:port) with the caller's credentials, marked forwarded:
  // its answer's status, content type and body in *answer.
  Status AskDaemon(const HttpRequest& request, const std::string& daemon, std::chrono::seconds timeout,
                   HttpResponse* answer) const;
  // In a monitor group: a fleet-wide list (clusters, analysis, problems, …)
  // answered here is completed with the other daemons' lists.
  void GatherFromOwners(const HttpRequest& request, HttpResponse* response);

  // Reads.
  void Instance(Call& c);
  void Clusters(Call& c);
  void ClustersInfo(Call& c);
  void Cluster(Call& c);
  void Problems(Call& c);
  void ReplicationAnalysis(Call& c);
  void Maintenance(Call& c);
  void InMaintenance(Call& c);
  void Downtimed(Call& c);
  void Topology(Call& c);
  void Health(Call& c);
  void Ping(Call& c);
  void DashboardRights(Call& c);
  void AuditRecovery(Call& c);
  void ActiveClusterRecovery(Call& c);
  void BlockedRecoveries(Call& c);
  void CheckGlobalRecoveries(Call& c);
  // Changes; called once authorized.
  void Discover(Call& c);
  void AsyncDiscover(Call& c);
  void Forget(Call& c);
  void BeginMaintenance(Call& c);
  void EndMaintenance(Call& c);
  void BeginDowntime(Call& c);
  void EndDowntime(Call& c);
  void AckRecovery(Call& c);
  void Recover(Call& c);
  void MasterTakeover(Call& c);
  void RegisterCandidate(Call& c);
  template <bool kEnabled>
  void SetGlobalRecoveries(Call& c) {
    SetGlobalRecovery(c, kEnabled);
  }
  void SetGlobalRecovery(Call& c, bool enabled);
  template <RelocationCommand kCommand>
  void Relocation(Call& c) {
    Relocate(c, kCommand);
  }
  void Relocate(Call& c, RelocationCommand command);
  // Binary log lookups (binlog_lookup_api.cc).
  void FindBinlogEntry(Call& c);
  void CorrelateBinlogPos(Call& c);
  void CorrelateRelaylogPos(Call& c);

  // A cluster name, an alias, or an instance's host:port → the cluster's
  // name; false, with the error answered, when none has it.
  bool ResolveCluster(Call& c, const std::string& hint, std::string* cluster) const;
  // The instance's orchestrator JSON; false when it was never checked.
  bool InstanceJsonOf(const std::string& key, nlohmann::json* out) const;
  void Metrics(HttpResponse* response);
  // GET / and /dashboard/<file>: the embedded dashboard (dashboard_assets.h).
  void Dashboard(const HttpRequest& request, HttpResponse* response);
  void Audit(const std::string& action, const std::string& instance, const std::string& user,
             const std::string& message);
  // The user the request authenticated as ("" when there is none).
  std::string UserOf(const HttpRequest& request) const;

  const Config& config_;
  analyzer::Monitor* monitor_;
  sinks::Publisher* publisher_;
  const pgtid::PseudoGtidPattern* pattern_;
  const sinks::KafkaSink* kafka_ = nullptr;
  const sinks::EventStream* event_stream_ = nullptr;
  RecoveryConsumer* recovery_ = nullptr;
  FleetGroup* group_ = nullptr;
  JsonSettings json_;
  // The paths this table does not have (orchestrator_api.h, metadata_api.h).
  std::unique_ptr<OrchestratorApi> more_;
  std::unique_ptr<MetadataApi> metadata_;
};

}  // namespace tidewatch::server
