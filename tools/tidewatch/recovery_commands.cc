#include "tools/tidewatch/recovery_commands.h"

#include <ostream>

#include "base/host_port.h"
#include "server/api_client.h"

namespace tidewatch::tools {

using nlohmann::json;

namespace {

// A path segment: '/' and '%' would change the path.
std::string Segment(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '/' || c == '%' || c == '?' || c == '#' || c == ' ') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int RunRecoveryCommand(const server::Config& config, const RecoveryCommandOptions& o, std::ostream& out,
                       std::ostream& err) {
  std::string path;
  if (o.command == "recover") {
    auto hp = ParseHostPort(o.instance);
    if (!hp) {
      err << "tidewatch recover: -i must be HOST:PORT, not " << o.instance << "\n";
      return 2;
    }
    path = "/api/recover/" + Segment(hp->host) + "/" + std::to_string(hp->port);
  } else if (o.command == "register-candidate") {
    auto hp = ParseHostPort(o.instance);
    if (!hp || o.promotion_rule.empty()) {
      err << "tidewatch register-candidate: -i HOST:PORT and --promotion-rule RULE are required\n";
      return 2;
    }
    path = "/api/register-candidate/" + Segment(hp->host) + "/" + std::to_string(hp->port) + "/" +
           Segment(o.promotion_rule);
  } else if (o.command == "ack-cluster-recoveries") {
    if (o.cluster.empty()) {
      err << "tidewatch ack-cluster-recoveries: -a CLUSTER is required\n";
      return 2;
    }
    path = "/api/ack-recovery/cluster/" + Segment(o.cluster);
  } else if (o.command == "graceful-master-takeover" || o.command == "graceful-master-takeover-auto" ||
             o.command == "force-master-failover" || o.command == "force-master-takeover") {
    const std::string cluster = o.cluster.empty() ? o.instance : o.cluster;
    if (cluster.empty()) {
      err << "tidewatch " << o.command << ": -a CLUSTER (or -i an instance of it) is required\n";
      return 2;
    }
    path = "/api/" + o.command + "/" + Segment(cluster);
    if (!o.designated.empty()) {
      auto hp = ParseHostPort(o.designated);
      if (!hp) {
        err << "tidewatch " << o.command << ": -d must be HOST:PORT, not " << o.designated << "\n";
        return 2;
      }
      path += "/" + Segment(hp->host) + "/" + std::to_string(hp->port);
    } else if (o.command == "force-master-takeover") {
      err << "tidewatch force-master-takeover: -d DESIGNATED is required\n";
      return 2;
    }
  } else if (o.command == "audit-recovery" || o.command == "blocked-recoveries") {
    path = "/api/" + o.command + (o.cluster.empty() ? "" : (o.command == "blocked-recoveries" ? "/cluster/" : "/") +
                                                                Segment(o.cluster));
  } else {
    path = "/api/" + o.command;  // ack-all-recoveries, *-global-recoveries
  }
  server::ApiClient api(config, o.api);
  int status = 0;
  json body;
  Status s = api.Get(path, &status, &body, std::chrono::minutes(11));
  if (!s.ok()) {
    err << "tidewatch " << o.command << ": no daemon answers at " << api.address() << " (" << s.message()
        << "); recoveries run in `tidewatch run --recover`\n";
    return 1;
  }
  const bool envelope = body.is_object() && body.contains("Code");
  if (status != 200 || (envelope && body["Code"] != "OK")) {
    err << "tidewatch " << o.command << ": " << (envelope ? body["Message"].get<std::string>() : body.dump()) << "\n";
    if (o.json) out << body.dump() << "\n";
    return 1;
  }
  if (o.json || !envelope) {
    out << body.dump(o.json ? -1 : 2) << "\n";
  } else {
    out << body["Message"].get<std::string>() << "\n";
  }
  return 0;
}

}  // namespace tidewatch::tools
