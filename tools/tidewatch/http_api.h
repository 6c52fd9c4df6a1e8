// HttpApi: the daemon's HTTP interface on ListenAddress, with orchestrator's
// paths and JSON (orchestrator_json.h) so that its users' scripts, its
// client and vttablet's self-registration (/api/discover) work unchanged:
//
//   reads   /api/instance/:host/:port  /api/cluster/:hint  /api/cluster/alias/:alias
//           /api/cluster-info/:hint  /api/clusters  /api/clusters-info  /api/problems[/:cluster]
//           /api/replication-analysis[/:cluster | /instance/:host/:port]  /api/maintenance
//           /api/in-maintenance/:host/:port  /api/downtimed[/:hint]  /api/topology/:hint
//           /api/topology/:host/:port  /api/health  /api/status  /api/lb-check  /api/_ping  /metrics
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
#pragma once

#include <string>

#include "analyzer/monitor.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "sinks/event_stream_server.h"
#include "sinks/kafka_sink.h"
#include "sinks/publisher.h"
#include "tools/tidewatch/config.h"
#include "tools/tidewatch/orchestrator_json.h"

namespace tidewatch::tools {

class HttpApi {
 public:
  HttpApi(const Config& config, analyzer::Monitor* monitor, sinks::Publisher* publisher,
          const pgtid::PseudoGtidPattern* pattern);

  void set_kafka(const sinks::KafkaSink* k) { kafka_ = k; }
  void set_event_stream(const sinks::EventStreamServer* s) { event_stream_ = s; }

  void Handle(const sinks::HttpRequest& request, sinks::HttpResponse* response);
  // Authentication, and for `write` the authorization to change things.
  // False, with the response filled in, when refused.
  bool Authorize(const sinks::HttpRequest& request, sinks::HttpResponse* response, bool write);

 private:
  struct Call;
  void Route(Call& c);
  void Metrics(sinks::HttpResponse* response);
  void Audit(const std::string& action, const std::string& instance, const std::string& user,
             const std::string& message);
  // The user the request authenticated as ("" when there is none).
  std::string UserOf(const sinks::HttpRequest& request) const;

  const Config& config_;
  analyzer::Monitor* monitor_;
  sinks::Publisher* publisher_;
  const pgtid::PseudoGtidPattern* pattern_;
  const sinks::KafkaSink* kafka_ = nullptr;
  const sinks::EventStreamServer* event_stream_ = nullptr;
  JsonSettings json_;
};

}  // namespace tidewatch::tools
