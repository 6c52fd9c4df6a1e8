#include "server/http_api.h"

#include <openssl/evp.h>
#include <re2/re2.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "base/percent_decode.h"
#include "server/api_client.h"
#include "server/ascii_topology.h"
#include "server/dashboard_assets.h"
#include "server/prometheus_text.h"
#include "server/relocations.h"

namespace tidewatch::server {

using nlohmann::json;
using analyzer::Clock;

namespace {

// Marks a request one daemon of a monitor group sends another for a client
// (its value: the sender's address): answered where it arrives, never sent on.
constexpr const char* kForwardedHeader = "X-Tidewatch-Forwarded";

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
    if (slash > start) out.push_back(PercentDecode(std::string_view(path).substr(start, slash - start)));
    start = slash + 1;
  }
  return out;
}

// "user:password" of an Authorization: Basic header; false when there is none.
bool BasicCredentials(const HttpRequest& r, std::string* user, std::string* password) {
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

// Whether a cluster is named by a RecoverMasterClusterFilters-like list
// ("*", or a regular expression found in the name).
bool Automated(const std::vector<std::string>& filters, const std::string& cluster) {
  for (const auto& f : filters) {
    if (f == "*" || RE2::PartialMatch(cluster, RE2(f, RE2::Quiet))) return true;
  }
  return false;
}

}  // namespace

// One of orchestrator's paths (api_call.h), whether it changes things, its handler.
struct HttpApi::Route {
  enum Access { kRead, kChange };  // kChange: Authorize(…, write = true) before the handler

  Route(std::initializer_list<const char*> n, std::string_view p, Access a, void (HttpApi::*h)(Call&))
      : path(n, p), access(a), handler(h) {}

  ApiPath path;
  Access access;
  void (HttpApi::*handler)(Call&);
};

const std::vector<HttpApi::Route>& HttpApi::Routes() {
  using R = RelocationCommand;
  constexpr auto kRead = Route::kRead, kChange = Route::kChange;
  static const std::vector<Route> routes = {
      // Reads.
      {{"instance"}, ":host/:port", kRead, &HttpApi::Instance},
      {{"clusters"}, "", kRead, &HttpApi::Clusters},
      {{"clusters-info"}, "", kRead, &HttpApi::ClustersInfo},
      {{"cluster-info"}, ":clusterHint", kRead, &HttpApi::ClustersInfo},
      {{"cluster-info"}, "alias/:clusterAlias", kRead, &HttpApi::ClustersInfo},
      {{"cluster"}, ":clusterHint", kRead, &HttpApi::Cluster},
      {{"cluster"}, "alias/:clusterAlias", kRead, &HttpApi::Cluster},
      {{"cluster"}, "instance/:host/:port", kRead, &HttpApi::Cluster},
      {{"problems"}, "", kRead, &HttpApi::Problems},
      {{"problems"}, ":clusterHint", kRead, &HttpApi::Problems},
      {{"replication-analysis"}, "", kRead, &HttpApi::ReplicationAnalysis},
      {{"replication-analysis"}, ":clusterHint", kRead, &HttpApi::ReplicationAnalysis},
      {{"replication-analysis"}, "instance/:host/:port", kRead, &HttpApi::ReplicationAnalysis},
      {{"maintenance"}, "", kRead, &HttpApi::Maintenance},
      {{"in-maintenance"}, ":host/:port", kRead, &HttpApi::InMaintenance},
      {{"downtimed"}, "", kRead, &HttpApi::Downtimed},
      {{"downtimed"}, ":clusterHint", kRead, &HttpApi::Downtimed},
      {{"topology"}, ":clusterHint", kRead, &HttpApi::Topology},
      {{"topology"}, ":host/:port", kRead, &HttpApi::Topology},
      {{"audit-recovery"}, "", kRead, &HttpApi::AuditRecovery},
      {{"audit-recovery"}, ":clusterHint", kRead, &HttpApi::AuditRecovery},
      {{"audit-recovery"}, "alias/:clusterAlias", kRead, &HttpApi::AuditRecovery},
      {{"active-cluster-recovery"}, ":clusterHint", kRead, &HttpApi::ActiveClusterRecovery},
      {{"blocked-recoveries"}, "", kRead, &HttpApi::BlockedRecoveries},
      {{"blocked-recoveries"}, "cluster/:clusterHint", kRead, &HttpApi::BlockedRecoveries},
      {{"check-global-recoveries"}, "", kRead, &HttpApi::CheckGlobalRecoveries},
      {{"health", "status"}, "", kRead, &HttpApi::Health},
      {{"lb-check", "_ping"}, "", kRead, &HttpApi::Ping},
      {{"dashboard-rights"}, "", kRead, &HttpApi::DashboardRights},
      // Changes.
      {{"discover"}, ":host/:port", kChange, &HttpApi::Discover},
      {{"async-discover"}, ":host/:port", kChange, &HttpApi::AsyncDiscover},
      {{"forget"}, ":host/:port", kChange, &HttpApi::Forget},
      {{"begin-maintenance"}, ":host/:port/:owner/:reason", kChange, &HttpApi::BeginMaintenance},
      {{"end-maintenance"}, ":host/:port", kChange, &HttpApi::EndMaintenance},
      {{"begin-downtime"}, ":host/:port/:owner/:reason", kChange, &HttpApi::BeginDowntime},
      {{"begin-downtime"}, ":host/:port/:owner/:reason/:duration", kChange, &HttpApi::BeginDowntime},
      {{"end-downtime"}, ":host/:port", kChange, &HttpApi::EndDowntime},
      {{"ack-recovery"}, "cluster/:clusterHint", kChange, &HttpApi::AckRecovery},
      {{"ack-recovery"}, "cluster/alias/:clusterAlias", kChange, &HttpApi::AckRecovery},
      {{"ack-all-recoveries"}, "", kChange, &HttpApi::AckRecovery},
      {{"recover"}, ":host/:port", kChange, &HttpApi::Recover},
      {{"graceful-master-takeover", "graceful-master-takeover-auto", "force-master-failover"}, ":clusterHint",
       kChange, &HttpApi::MasterTakeover},
      {{"graceful-master-takeover", "graceful-master-takeover-auto", "force-master-failover"}, ":host/:port",
       kChange, &HttpApi::MasterTakeover},
      {{"graceful-master-takeover", "graceful-master-takeover-auto", "force-master-takeover"},
       ":clusterHint/:belowHost/:belowPort", kChange, &HttpApi::MasterTakeover},
      {{"graceful-master-takeover", "graceful-master-takeover-auto", "force-master-takeover"},
       ":host/:port/:belowHost/:belowPort", kChange, &HttpApi::MasterTakeover},
      {{"register-candidate"}, ":host/:port/:promotionRule", kChange, &HttpApi::RegisterCandidate},
      {{"disable-global-recoveries"}, "", kChange, &HttpApi::SetGlobalRecoveries<false>},
      {{"enable-global-recoveries"}, "", kChange, &HttpApi::SetGlobalRecoveries<true>},
      // Relocations (server/relocations.h), every spelling RelocationCommandNamed knows.
      {{"last-pseudo-gtid"}, ":host/:port", kChange, &HttpApi::Relocation<R::kLastPseudoGtid>},
      {{"match-below", "match"}, ":host/:port/:belowHost/:belowPort", kChange, &HttpApi::Relocation<R::kMatchBelow>},
      {{"match-up"}, ":host/:port", kChange, &HttpApi::Relocation<R::kMatchUp>},
      {{"rematch"}, ":host/:port", kChange, &HttpApi::Relocation<R::kRematch>},
      {{"multi-match-replicas", "multi-match-slaves", "match-replicas", "match-slaves"},
       ":host/:port/:belowHost/:belowPort", kChange, &HttpApi::Relocation<R::kMultiMatch>},
      {{"regroup-replicas", "regroup-slaves"}, ":host/:port", kChange, &HttpApi::Relocation<R::kRegroup>},
      {{"regroup-replicas-gtid", "regroup-slaves-gtid"}, ":host/:port", kChange,
       &HttpApi::Relocation<R::kRegroupGtid>},
      {{"regroup-replicas-pgtid", "regroup-slaves-pgtid"}, ":host/:port", kChange,
       &HttpApi::Relocation<R::kRegroupPseudoGtid>},
      {{"match-up-replicas", "match-up-slaves"}, ":host/:port", kChange, &HttpApi::Relocation<R::kMatchUpReplicas>},
      {{"move-gtid", "move-below-gtid"}, ":host/:port/:belowHost/:belowPort", kChange,
       &HttpApi::Relocation<R::kMoveGtid>},
      {{"move-replicas-gtid", "move-slaves-gtid"}, ":host/:port/:belowHost/:belowPort", kChange,
       &HttpApi::Relocation<R::kMoveReplicasGtid>},
      {{"move-up"}, ":host/:port", kChange, &HttpApi::Relocation<R::kMoveUp>},
      {{"move-up-replicas", "move-up-slaves"}, ":host/:port", kChange, &HttpApi::Relocation<R::kMoveUpReplicas>},
      {{"move-below"}, ":host/:port/:belowHost/:belowPort", kChange, &HttpApi::Relocation<R::kMoveBelow>},
      {{"repoint"}, ":host/:port", kChange, &HttpApi::Relocation<R::kRepoint>},
      {{"repoint"}, ":host/:port/:belowHost/:belowPort", kChange, &HttpApi::Relocation<R::kRepoint>},
      {{"repoint-replicas", "repoint-slaves"}, ":host/:port", kChange, &HttpApi::Relocation<R::kRepointReplicas>},
      {{"take-master"}, ":host/:port", kChange, &HttpApi::Relocation<R::kTakeMaster>},
      {{"make-co-master"}, ":host/:port", kChange, &HttpApi::Relocation<R::kMakeCoMaster>},
      {{"relocate", "move-equivalent"}, ":host/:port/:belowHost/:belowPort", kChange,
       &HttpApi::Relocation<R::kRelocate>},
      {{"relocate-replicas", "relocate-slaves"}, ":host/:port/:belowHost/:belowPort", kChange,
       &HttpApi::Relocation<R::kRelocateReplicas>},
      {{"take-siblings"}, ":host/:port", kChange, &HttpApi::Relocation<R::kTakeSiblings>},
      {{"get-candidate-replica", "get-candidate-slave"}, ":host/:port", kRead,
       &HttpApi::Relocation<R::kGetCandidateReplica>},
      // orchestrator's binary log commands (its CLI's; these paths are Tidewatch's): binlog_lookup_api.cc.
      {{"find-binlog-entry"}, ":host/:port", kRead, &HttpApi::FindBinlogEntry},
      {{"correlate-binlog-pos"}, ":host/:port/:belowHost/:belowPort", kRead, &HttpApi::CorrelateBinlogPos},
      {{"correlate-relaylog-pos"}, ":host/:port/:belowHost/:belowPort", kRead, &HttpApi::CorrelateRelaylogPos},
  };
  return routes;
}

HttpApi::HttpApi(const Config& config, analyzer::Monitor* monitor, sinks::Publisher* publisher,
                 const pgtid::PseudoGtidPattern* pattern)
    : config_(config), monitor_(monitor), publisher_(publisher), pattern_(pattern) {
  json_.poll_interval = std::chrono::seconds(config.instance_poll_seconds);
  json_.reasonable_lag_seconds = config.reasonable_replication_lag_seconds;
  more_ = std::make_unique<OrchestratorApi>(config, monitor, publisher, json_);
  metadata_ = std::make_unique<MetadataApi>(config, monitor, publisher, json_);
}

std::string HttpApi::UserOf(const HttpRequest& r) const {
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

bool HttpApi::Authorize(const HttpRequest& r, HttpResponse* out, bool write) {
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
  PublishAudit(monitor_, publisher_, action, instance, user, message);
}

void HttpApi::Handle(const HttpRequest& request, HttpResponse* response) {
  if (request.method != "GET" && request.method != "HEAD") {
    response->status = 404;
    response->content_type = "text/plain; charset=utf-8";
    response->body = "404 page not found\n";
    return;
  }
  if (!Authorize(request, response, false)) return;
  if (request.path == "/metrics") return Metrics(response);
  if (config_.status_endpoint != "/api/status" &&
      (request.path == config_.status_endpoint || request.path == "/api/status")) {
    // A custom StatusEndpoint replaces /api/status, as orchestrator's does.
    if (request.path == "/api/status") {
      response->status = 404;
      response->content_type = "text/plain; charset=utf-8";
      response->body = "404 page not found\n";
      return;
    }
    static const std::vector<std::string> kNone;
    Call c{request, response, kNone, UserOf(request), {}, {}, {}};
    return Health(c);
  }
  if (request.path == "/" || request.path.rfind("/dashboard/", 0) == 0) return Dashboard(request, response);
  auto seg = Segments(request.path);
  if (seg.size() < 2 || seg[0] != "api") {
    response->status = 404;
    response->content_type = "text/plain; charset=utf-8";
    response->body = "404 page not found\n";
    return;
  }
  seg.erase(seg.begin());
  if (group_ != nullptr) {
    if (seg.size() == 1 && seg[0] == "monitor-group") return MonitorGroup(response);
    if (ForwardToOwner(request, seg, response)) return;
  }
  Call c{request, response, seg, UserOf(request), {}, {}, {}};
  Dispatch(c);
  static const std::set<std::string> kFleetWide = {"clusters",    "clusters-info", "replication-analysis",
                                                   "problems",    "maintenance",   "downtimed"};
  if (group_ != nullptr && seg.size() == 1 && kFleetWide.count(seg[0]) != 0 && response->status == 200 &&
      request.headers.count(Lower(kForwardedHeader)) == 0) {
    GatherFromOwners(request, response);
  }
}

void HttpApi::GatherFromOwners(const HttpRequest& request, HttpResponse* response) {
  json mine = json::parse(response->body, nullptr, false);
  if (mine.is_discarded()) return;
  // A list is a bare array (null when empty) or orchestrator's {"Code": "OK", "Details": [...]}.
  json* list = mine.is_object() && mine.contains("Details") ? &mine["Details"] : &mine;
  if (list->is_null()) *list = json::array();
  if (!list->is_array()) return;
  std::set<std::string> seen;
  for (const auto& x : *list) seen.insert(x.dump());
  for (const auto& owner : group_->OtherOwners()) {
    HttpResponse answer;
    Status s = AskDaemon(request, owner, std::chrono::seconds(10), &answer);
    json theirs = s.ok() && answer.status == 200 ? json::parse(answer.body, nullptr, false) : json();
    const json* items = theirs.is_object() && theirs.contains("Details") ? &theirs["Details"] : &theirs;
    if (!items->is_array()) {
      spdlog::warn("monitor group: {} of {}: {}", request.path, owner,
                   s.ok() ? "answered " + std::to_string(answer.status) : s.message());
      continue;
    }
    for (const auto& x : *items) {
      if (seen.insert(x.dump()).second) list->push_back(x);
    }
  }
  response->body = list->empty() && mine.is_array() ? json(nullptr).dump() : mine.dump();
}

bool HttpApi::ForwardToOwner(const HttpRequest& request, const std::vector<std::string>& seg,
                             HttpResponse* response) {
  // A forwarded request is answered where it arrives: never forwarded twice.
  if (seg.size() < 2 || request.headers.count(Lower(kForwardedHeader)) != 0) return false;
  std::vector<std::string> named;  // what the path may name, most precise first
  if (seg.size() >= 3 && seg[1] == "alias") {
    named.push_back(seg[2]);  // …/alias/:clusterAlias
  } else {
    if (seg.size() >= 3) named.push_back(seg[1] + ":" + seg[2]);
    named.push_back(seg[1]);
  }
  std::string owner;
  for (const auto& n : named) {
    bool here = false;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      here = t.Find(n) != nullptr || !t.MembersOf(n).empty();
    });
    if (here) return false;
    owner = group_->OwnerApi(n);
    if (!owner.empty()) break;
  }
  if (owner.empty()) return false;
  Status s = AskDaemon(request, owner, std::chrono::seconds(60), response);
  response->headers.emplace_back("X-Tidewatch-Owner", owner);
  if (!s.ok()) {
    response->status = 502;
    response->content_type = "application/json";
    response->body = json{{"Code", "ERROR"}, {"Message", "the daemon that monitors " + named.front() + " (" + owner +
                                                            ") did not answer: " + s.message()}}
                         .dump();
  }
  return true;
}

Status HttpApi::AskDaemon(const HttpRequest& request, const std::string& daemon, std::chrono::seconds timeout,
                          HttpResponse* answer) const {
  ApiClient client(config_, daemon);
  auto auth = request.headers.find("authorization");
  const std::string target = config_.url_prefix + request.path + (request.query.empty() ? "" : "?" + request.query);
  std::string content_type;
  Status s = client.Forward(target, auth == request.headers.end() ? "" : auth->second,
                            {{kForwardedHeader, group_->api_address()}}, &answer->status, &content_type, &answer->body,
                            timeout);
  if (s.ok()) answer->content_type = content_type.empty() ? "application/json" : content_type;
  return s;
}

void HttpApi::MonitorGroup(HttpResponse* response) {
  json records = json::array();
  for (const auto& r : group_->Records()) {
    records.push_back({{"Key", r.key},
                       {"ClusterName", r.name},
                       {"ClusterAlias", r.alias},
                       {"Seeds", r.seeds},
                       {"Owner", r.owner},
                       {"OwnerAPI", r.owner_api},
                       {"MergedInto", r.merged_into},
                       {"Partition", r.partition},
                       {"MonitoredHere", r.mine}});
  }
  const FleetGroupStats st = group_->Stats();
  response->body = json{{"Group", config_.monitor_group},
                        {"Member", config_.producer_id},
                        {"API", group_->api_address()},
                        {"Partitions", st.partitions},
                        {"ClustersMonitoredHere", st.owned},
                        {"Records", std::move(records)}}
                       .dump();
}

void HttpApi::Dispatch(Call& c) {
  for (const Route& route : Routes()) {
    if (!route.path.Matches(c)) continue;
    if (!route.path.Keys(c)) return;
    if (route.access == Route::kChange && !Authorize(c.request, c.response, true)) return;
    return (this->*route.handler)(c);
  }
  const auto authorize_change = [&] { return Authorize(c.request, c.response, true); };
  if (more_->Handle(c.seg, c.request, c.user, authorize_change, c.response)) return;
  if (metadata_->Handle(c.seg, c.request, c.user, authorize_change, c.response)) return;
  c.response->status = 404;
  c.response->content_type = "text/plain; charset=utf-8";
  c.response->body = "404 page not found\n";
}

void HttpApi::Dashboard(const HttpRequest& request, HttpResponse* response) {
  const std::string name = request.path == "/" ? "index.html" : request.path.substr(strlen("/dashboard/"));
  const DashboardAsset* asset = FindDashboardAsset(name);
  if (asset == nullptr) {
    response->status = 404;
    response->content_type = "text/plain; charset=utf-8";
    response->body = "404 page not found\n";
    return;
  }
  response->content_type = std::string(asset->content_type);
  response->body = std::string(asset->body);
  response->headers.emplace_back("Cache-Control", "no-cache");
}

// What the dashboard may offer: its controls are hidden unless CanChange.
void HttpApi::DashboardRights(Call& c) {
  HttpResponse refused;
  const bool can_change = Authorize(c.request, &refused, true);
  c.Bare({{"User", c.user},
          {"CanChange", can_change},
          {"ReadOnly", config_.read_only},
          {"AuthenticationMethod", config_.authentication_method},
          {"RecoveryConsumer", recovery_ != nullptr},
          {"GracefulTakeover", recovery_ != nullptr}});
}

bool HttpApi::ResolveCluster(Call& c, const std::string& hint, std::string* cluster) const {
  return ResolveClusterHint(monitor_, c, hint, cluster);
}

// --- Reads. ---

void HttpApi::Instance(Call& c) {
  json j;
  if (!InstanceJsonOf(c.instance, &j)) return c.Error("Cannot read instance: " + c.instance);
  c.Bare(j);
}

void HttpApi::Clusters(Call& c) {
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    for (const auto& [name, keys] : t.Clusters()) {
      if (!name.empty()) arr.push_back(name);
    }
  });
  c.Bare(arr.empty() ? json(nullptr) : arr);
}

void HttpApi::ClustersInfo(Call& c) {
  std::string only;
  if (!c.ClusterHint().empty() && !ResolveCluster(c, c.ClusterHint(), &only)) return;
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    for (const auto& [name, keys] : t.Clusters()) {
      if (name.empty() || (!only.empty() && name != only)) continue;
      // Automated only where a recovery consumer runs in this daemon.
      // A recovery consumer runs here, or as a process of its own ("external").
      const bool recovers = recovery_ != nullptr || config_.recovery_consumer == "external";
      arr.push_back(ClusterInfoJson(name, t, recovers && Automated(config_.recover_master_cluster_filters, name),
                                    recovers && Automated(config_.recover_intermediate_master_cluster_filters, name)));
    }
  });
  c.Bare(only.empty() ? arr : arr.at(0));
}

void HttpApi::Cluster(Call& c) {
  std::string cluster;
  if (!ResolveCluster(c, c.ClusterHint(), &cluster)) return;
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    std::vector<std::string> keys;
    for (const auto& [k, r] : t.instances()) {
      if (r.cluster == cluster) keys.push_back(k);
    }
    std::sort(keys.begin(), keys.end(), InstanceKeyLess);
    for (const auto& k : keys) arr.push_back(InstanceJson(*t.Find(k), t, json_));
  });
  c.Bare(arr);
}

void HttpApi::Problems(Call& c) {
  std::string only;
  if (!c.ClusterHint().empty() && !ResolveCluster(c, c.ClusterHint(), &only)) return;
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    for (const auto& [k, r] : t.instances()) {
      if (!only.empty() && r.cluster != only) continue;
      if (r.downtime.ActiveAt(Clock::now()) || ProblemsOf(r, json_).empty()) continue;
      arr.push_back(InstanceJson(r, t, json_));
    }
  });
  c.Bare(arr.empty() ? json(nullptr) : arr);
}

void HttpApi::ReplicationAnalysis(Call& c) {
  std::string only_cluster;
  if (!c.Arg("clusterHint").empty() && !ResolveCluster(c, c.Arg("clusterHint"), &only_cluster)) return;
  auto analysis = monitor_->Analysis();
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    for (const auto& a : analysis) {
      if (!only_cluster.empty() && a.cluster != only_cluster) continue;
      if (!c.instance.empty() && a.key != c.instance) continue;
      arr.push_back(AnalysisJson(a, t));
    }
  });
  c.Ok("Analysis", arr);
}

void HttpApi::Maintenance(Call& c) {
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
  c.Bare(arr);
}

void HttpApi::InMaintenance(Call& c) {
  bool in = false;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    const auto* r = t.Find(c.instance);
    in = r != nullptr && r->maintenance.ActiveAt(Clock::now());
  });
  c.Ok(in ? "true" : "false", in ? c.instance : "");
}

void HttpApi::Downtimed(Call& c) {
  std::string only;
  if (!c.ClusterHint().empty() && !ResolveCluster(c, c.ClusterHint(), &only)) return;
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    for (const auto& [k, r] : t.instances()) {
      if ((only.empty() || r.cluster == only) && r.downtime.ActiveAt(Clock::now())) {
        arr.push_back(InstanceJson(r, t, json_));
      }
    }
  });
  c.Bare(arr);
}

void HttpApi::Topology(Call& c) {
  std::string cluster;
  if (!ResolveCluster(c, c.ClusterHint(), &cluster)) return;
  std::string tree;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    tree = AsciiTopology(t, cluster, json_);
  });
  c.Ok("Topology for cluster " + cluster, tree);
}

void HttpApi::Health(Call& c) {
  const bool settled = monitor_->Settled();
  json details = {{"Healthy", true},
                  {"Hostname", config_.producer_id},
                  {"Token", ""},
                  {"IsActiveNode", true},
                  {"Settled", settled}};
  c.Ok("Application node is healthy", details);
}

void HttpApi::Ping(Call& c) { c.Bare("OK"); }

// --- Recoveries (server/recovery.h), in orchestrator's TopologyRecovery JSON. ---

namespace {

std::string Timestamp(std::chrono::system_clock::time_point t) {
  if (t == std::chrono::system_clock::time_point{}) return "";
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json RecoveryJson(const RecoveryRecord& r, size_t id) {
  json lost = json::array(), participating = json::array();
  for (const auto& k : r.lost_replicas) lost.push_back(InstanceKeyJson(k));
  for (const auto& k : r.moved_replicas) participating.push_back(InstanceKeyJson(k));
  const bool active = r.refused.empty() && r.ended == std::chrono::system_clock::time_point{};
  const bool master = r.code.find("Intermediate") == std::string::npos;
  return {{"Id", id},
          {"UID", r.id},
          {"AnalysisEntry",
           {{"AnalyzedInstanceKey", InstanceKeyJson(r.failed)},
            {"Analysis", r.code},
            {"ClusterDetails", {{"ClusterName", r.cluster}, {"ClusterAlias", r.cluster_alias}}}}},
          {"SuccessorKey", r.successor.empty() ? json(nullptr) : InstanceKeyJson(r.successor)},
          {"SuccessorAlias", ""},
          {"IsActive", active},
          {"IsSuccessful", r.successful},
          {"LostReplicas", lost},
          {"ParticipatingInstanceKeys", participating},
          {"AllErrors", r.refused.empty() ? json::array() : json::array({r.refused})},
          {"RecoveryStartTimestamp", Timestamp(r.started)},
          {"RecoveryEndTimestamp", Timestamp(r.ended)},
          {"ProcessingNodeHostname", ""},
          {"Acknowledged", r.acknowledged},
          {"LastDetectionId", 0},
          {"RelatedRecoveryId", 0},
          {"Type", master ? "MasterRecovery" : "IntermediateMasterRecovery"}};
}

}  // namespace

// The cluster's recoveries by name or alias as recorded — the cluster may no
// longer be in the model (its master died): no match is an empty list, which
// vttablet reads as "no recovery".
void HttpApi::AuditRecovery(Call& c) {
  json arr = json::array();
  if (recovery_ != nullptr) {
    std::string cluster = c.ClusterHint();
    if (!cluster.empty()) {
      monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
        for (const auto& [k, r] : t.instances()) {
          if (k == cluster) cluster = r.cluster;
        }
      });
    }
    const auto records = recovery_->Recoveries(cluster);
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i].refused.empty()) arr.push_back(RecoveryJson(records[i], records.size() - i));
    }
  }
  c.Bare(arr);
}

void HttpApi::ActiveClusterRecovery(Call& c) {
  json arr = json::array();
  if (recovery_ != nullptr) {
    const auto records = recovery_->Recoveries(c.ClusterHint());
    for (size_t i = 0; i < records.size(); ++i) {
      json j = RecoveryJson(records[i], records.size() - i);
      if (j["IsActive"].get<bool>()) arr.push_back(std::move(j));
    }
  }
  c.Bare(arr);
}

// Recoveries that block their cluster's next one: successful or failed,
// not acknowledged, within RecoveryPeriodBlockSeconds.
void HttpApi::BlockedRecoveries(Call& c) {
  json arr = json::array();
  if (recovery_ != nullptr) {
    const auto now = std::chrono::system_clock::now();
    const auto records = recovery_->Recoveries(c.ClusterHint());
    for (size_t i = 0; i < records.size(); ++i) {
      const auto& r = records[i];
      if (!r.refused.empty() || r.acknowledged ||
          now - r.started >= std::chrono::seconds(config_.recovery_period_block_seconds)) {
        continue;
      }
      arr.push_back({{"FailedInstanceKey", InstanceKeyJson(r.failed)},
                     {"ClusterName", r.cluster},
                     {"Analysis", r.code},
                     {"LastBlockedTimestamp", Timestamp(r.started)},
                     {"BlockingRecoveryId", records.size() - i}});
    }
  }
  c.Bare(arr);
}

void HttpApi::CheckGlobalRecoveries(Call& c) {
  const bool enabled = recovery_ != nullptr && recovery_->enabled();
  c.Ok(enabled ? "Global recoveries enabled" : "Global recoveries disabled", enabled ? "enabled" : "disabled");
}

// orchestrator's manual recovery: now, whatever the filters and the block;
// answers when it has ended, with the promoted instance's key.
void HttpApi::Recover(Call& c) {
  if (recovery_ == nullptr) return c.Error("no recovery consumer runs in this daemon (tidewatch run --recover; a tidewatch recovery-consumer answers on its --listen address)");
  RecoveryRecord r;
  Status s = recovery_->RecoverNow(c.instance, std::chrono::minutes(10), &r);
  if (!s.ok()) return c.Error(s.message());
  Audit("recover", c.instance, c.user, r.successful ? "recovered, successor " + r.successor : "failed");
  if (!r.refused.empty()) return c.Error(r.refused);
  if (!r.successful) return c.Error("Recovery of " + c.instance + " failed (recovery " + r.id + ")");
  c.Ok("Recovered: " + c.instance + " (recovery " + r.id + ")",
       r.successor.empty() ? json(nullptr) : InstanceKeyJson(r.successor));
}

// graceful-master-takeover[-auto], force-master-failover and
// force-master-takeover: the designated successor is :belowHost/:belowPort.
// Answered with the recovery, whose SuccessorKey orchestrator-client prints.
void HttpApi::MasterTakeover(Call& c) {
  const std::string& command = c.seg[0];
  if (recovery_ == nullptr) return c.Error(command + ": no recovery consumer runs in this daemon (tidewatch run --recover; a tidewatch recovery-consumer answers on its --listen address)");
  std::string cluster;
  if (!ResolveCluster(c, c.ClusterHint(), &cluster)) return;
  RecoveryRecord r;
  Status s = command.rfind("graceful-master-takeover", 0) == 0
                 ? recovery_->GracefulTakeover(cluster, c.below, command == "graceful-master-takeover-auto",
                                               /*start_old_master=*/true, std::chrono::minutes(10), &r)
                 : recovery_->ForceMasterFailover(cluster, c.below, std::chrono::minutes(10), &r);
  if (!s.ok()) return c.Error(command + ": " + s.message());
  Audit(command, r.failed, c.user, r.successful ? "successor " + r.successor : "failed: " + r.refused);
  const json details = RecoveryJson(r, 0);
  if (!r.successful) return c.Error(command + ": " + (r.refused.empty() ? "failed (recovery " + r.id + ")" : r.refused), details);
  c.Ok(command + ": successor: " + r.successor, details);
}

void HttpApi::RegisterCandidate(Call& c) {
  // orchestrator's register-candidate: the rule stands for the instance, in
  // a failover's candidate choice and in its JSON, over
  // DetectPromotionRuleQuery's answer, for CandidateInstanceExpireMinutes —
  // kept in the model, so that whichever consumer recovers sees it.
  static const std::set<std::string> kRules = {"must", "prefer", "neutral", "prefer_not", "must_not"};
  const std::string& rule = c.Arg("promotionRule");
  if (kRules.count(rule) == 0) {
    return c.Error("unknown promotion rule \"" + rule + "\" (must, prefer, neutral, prefer_not, must_not)");
  }
  const auto until = analyzer::Clock::now() + std::chrono::minutes(config_.candidate_instance_expire_minutes);
  if (!monitor_->SetCandidate(c.instance, rule, until)) return c.Error("Cannot read instance: " + c.instance);
  Audit("register-candidate", c.instance, c.user, rule);
  c.Ok("Registered candidate " + c.instance + ": " + rule, InstanceKeyJson(c.instance));
}

void HttpApi::AckRecovery(Call& c) {
  if (recovery_ == nullptr) return c.Error("no recovery consumer runs in this daemon");
  const std::string cluster = c.ClusterHint();
  const size_t n = recovery_->Acknowledge(cluster);
  Audit(cluster.empty() ? "ack-all-recoveries" : "ack-recovery", cluster, c.user,
        std::to_string(n) + " acknowledged");
  c.Ok("Acknowledged " + (cluster.empty() ? std::string("all") : cluster) + " recoveries", n);
}

void HttpApi::SetGlobalRecovery(Call& c, bool enabled) {
  if (recovery_ == nullptr) return c.Error("no recovery consumer runs in this daemon");
  recovery_->SetEnabled(enabled);
  Audit(enabled ? "enable-global-recoveries" : "disable-global-recoveries", "", c.user, "");
  c.Ok(enabled ? "Global recoveries enabled" : "Global recoveries disabled");
}

// --- Changes. ---

void HttpApi::Discover(Call& c) {
  const std::string& key = c.instance;
  analyzer::ProbeResult p = group_ != nullptr ? group_->Discover(key) : monitor_->Discover(key);
  Audit("discover", key, c.user, p.reachable ? "discovered" : "not reachable: " + p.error);
  if (!p.reachable) return c.Error(p.error);
  json j;
  // In a monitor group another daemon may be the one that follows it.
  if (!InstanceJsonOf(key, &j)) j = json{{"Key", InstanceKeyJson(key)}};
  c.Ok("Instance discovered: " + key, j);
}

void HttpApi::AsyncDiscover(Call& c) {
  std::thread([m = monitor_, g = group_, key = c.instance] { g != nullptr ? (void)g->Discover(key) : (void)m->Discover(key); }).detach();
  Audit("async-discover", c.instance, c.user, "discovery initiated");
  c.Ok("Asynchronous discovery initiated for Instance: " + c.instance);
}

void HttpApi::Forget(Call& c) {
  monitor_->Forget(c.instance);
  Audit("forget", c.instance, c.user, "forgotten");
  c.Ok("Instance forgotten: " + c.instance, InstanceKeyJson(c.instance));
}

void HttpApi::BeginMaintenance(Call& c) {
  const std::string& key = c.instance;
  std::string current;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    const auto* r = t.Find(key);
    if (r != nullptr && r->maintenance.ActiveAt(Clock::now())) current = r->maintenance.reason;
  });
  if (!current.empty()) {
    return c.Error("Cannot begin maintenance for instance: " + key + "; maintenance reason: " + current, 0);
  }
  const std::string& owner = c.Arg("owner");
  const std::string& reason = c.Arg("reason");
  analyzer::Suspension s{true, owner, reason, Clock::now() + std::chrono::minutes(10)};
  if (!monitor_->SetMaintenance(key, s)) return c.Error("Cannot read instance: " + key);
  Audit("begin-maintenance", key, c.user, owner + ": " + reason);
  c.Ok("Maintenance begun: " + key, InstanceKeyJson(key));
}

void HttpApi::EndMaintenance(Call& c) {
  monitor_->SetMaintenance(c.instance, {});
  Audit("end-maintenance", c.instance, c.user, "");
  c.Ok("Maintenance ended: " + c.instance, InstanceKeyJson(c.instance));
}

void HttpApi::BeginDowntime(Call& c) {
  const std::string& key = c.instance;
  std::chrono::seconds duration(600);
  if (c.args.count("duration") && !ParseDuration(c.Arg("duration"), &duration)) {
    return c.Error("Cannot parse simple time: " + c.Arg("duration"));
  }
  if (duration.count() == 0) duration = std::chrono::seconds(600);
  const std::string& owner = c.Arg("owner");
  const std::string& reason = c.Arg("reason");
  analyzer::Suspension s{true, owner, reason, Clock::now() + duration};
  if (!monitor_->SetDowntime(key, s)) return c.Error("Cannot read instance: " + key);
  Audit("begin-downtime", key, c.user, owner + ": " + reason + " for " + std::to_string(duration.count()) + "s");
  c.Ok("Downtime begun: " + key, InstanceKeyJson(key));
}

void HttpApi::EndDowntime(Call& c) {
  monitor_->SetDowntime(c.instance, {});
  Audit("end-downtime", c.instance, c.user, "");
  c.Ok("Downtime ended: " + c.instance, InstanceKeyJson(c.instance));
}

bool HttpApi::InstanceJsonOf(const std::string& key, json* out) const {
  bool found = false;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    const auto* r = t.Find(key);
    if (r != nullptr && (r->probed || r->last_checked != Clock::time_point{})) {
      *out = InstanceJson(*r, t, json_);
      found = true;
    }
  });
  return found;
}

void HttpApi::Relocate(Call& c, RelocationCommand command) {
  RelocationRequest q;
  q.command = command;
  q.instance = c.instance;
  q.destination = c.below;
  RelocationResult r;
  Status s = RelocateInDaemon(config_, monitor_, pattern_, q, &r);
  if (!s.ok()) return c.Error(s.message());

  size_t moved = 0;
  std::vector<std::string> errors;
  json move_json = json::array();
  for (const auto& m : r.moves) {
    move_json.push_back(MoveJson(m));
    if (m.moved) {
      ++moved;
    } else {
      errors.push_back(m.instance + ": " + m.refused);
    }
  }
  if (command != RelocationCommand::kLastPseudoGtid && command != RelocationCommand::kGetCandidateReplica) {
    Audit(c.seg[0], q.instance, c.user,
          r.error.empty() ? std::to_string(moved) + " moved" + (errors.empty() ? "" : "; refused: " + errors.front())
                          : r.error);
  }
  // orchestrator's answers: the instance as Details for a move of one
  // instance (orchestrator-client prints its Key and MasterKey), the moved
  // replicas for a move of several.
  auto instance_details = [&](const std::string& key) {
    json details;
    if (!InstanceJsonOf(key, &details)) details = InstanceKeyJson(key);
    return details;
  };
  auto moved_details = [&] {
    json list = json::array();
    for (const auto& m : r.moves) {
      if (m.moved) list.push_back(instance_details(m.instance));
    }
    return list;
  };
  auto error_list = [&] {
    std::string list;
    for (size_t i = 0; i < errors.size(); ++i) list += (i ? ", " : "") + errors[i];
    return list;
  };
  json envelope;
  if (!r.error.empty()) {
    envelope = Envelope(false, r.error);
  } else if (command == RelocationCommand::kLastPseudoGtid) {
    // orchestrator answers the coordinates as Message and the entry as Details.
    envelope = Envelope(true, r.last->at.ToString(), r.last->entry);
  } else if (command == RelocationCommand::kGetCandidateReplica) {
    envelope = Envelope(true, "candidate replica of " + q.instance + ": " + r.candidate,
                        instance_details(r.candidate));
  } else if (command == RelocationCommand::kMultiMatch) {
    envelope = Envelope(true,
                        "Matched " + std::to_string(moved) + " replicas of " + q.instance + " below " +
                            q.destination + "; " + std::to_string(errors.size()) + " errors: [" + error_list() + "]",
                        InstanceKeyJson(q.destination));
    envelope["Moves"] = move_json;
  } else if (command == RelocationCommand::kRegroup || command == RelocationCommand::kRegroupGtid ||
             command == RelocationCommand::kRegroupPseudoGtid) {
    if (r.candidate.empty()) {
      envelope = Envelope(false, std::string(c.seg[0]) + " " + q.instance + ": no replica could be promoted" +
                                     (errors.empty() ? "" : ": " + errors.front()));
    } else {
      envelope = Envelope(true, "promoted replica: " + r.candidate + ", lost: " + std::to_string(errors.size()) +
                                    ", moved: " + std::to_string(moved),
                          InstanceKeyJson(r.candidate));
    }
    envelope["Moves"] = move_json;
  } else if (!RelocationIsSingleMove(command) && command != RelocationCommand::kTakeMaster &&
             command != RelocationCommand::kTakeSiblings) {
    // Several replicas: orchestrator answers the moved ones, and fails only
    // when none could be moved.
    if (!errors.empty() && moved == 0) {
      envelope = Envelope(false, std::string(c.seg[0]) + " " + q.instance + ": " + error_list());
    } else {
      envelope = Envelope(true,
                          std::string(c.seg[0]) + ": moved " + std::to_string(moved) + " replicas of " + q.instance +
                              "; " + std::to_string(errors.size()) + " errors: [" + error_list() + "]",
                          moved_details());
    }
    envelope["Moves"] = move_json;
  } else if (!errors.empty() || r.moves.empty()) {
    envelope = Envelope(false, errors.empty() ? std::string(c.seg[0]) + " " + q.instance + ": nothing to move"
                                              : error_list());
    envelope["Moves"] = move_json;
  } else {
    const pgtid::Move& m = r.moves.front();
    std::string message;
    if (command == RelocationCommand::kTakeMaster) {
      message = q.instance + " took its master " + r.moves.back().instance;
    } else if (command == RelocationCommand::kTakeSiblings) {
      message = q.instance + " took " + std::to_string(moved) + " siblings";
    } else {
      const char* how = command == RelocationCommand::kMatchBelow ? " matched below "
                        : command == RelocationCommand::kMatchUp  ? " matched up to "
                        : command == RelocationCommand::kRematch  ? " rematched below "
                                                                  : " moved below ";
      message = "Instance " + m.instance + how + m.destination + " by " + m.method + " at " +
                (m.coordinates.empty() ? std::string("its GTID position") : m.coordinates.ToString());
    }
    envelope = Envelope(true, message, instance_details(q.instance));
    if (RelocationIsSingleMove(command)) {
      envelope["Move"] = move_json.at(0);
    } else {
      envelope["Moves"] = move_json;
    }
  }
  // The typed result the commands read back (server/relocations.h).
  envelope["Relocation"] = RelocationJson(r);
  c.Json(envelope["Code"] == "OK" ? 200 : 500, envelope);
}

void HttpApi::Metrics(HttpResponse* response) {
  const analyzer::MonitorMetrics m = monitor_->Metrics();
  PrometheusText p;
  p.Gauge("tidewatch_instances", "Instances in the topology model", static_cast<double>(m.instances));
  p.Gauge("tidewatch_clusters", "Clusters in the topology model", static_cast<double>(m.clusters));
  p.Counter("tidewatch_probes_total", "Instance checks over SQL", static_cast<double>(m.probes));
  p.Counter("tidewatch_probe_failures_total", "Instance checks that did not reach the server",
            static_cast<double>(m.probe_failures));
  p.Counter("tidewatch_probe_connects_total", "Instance checks that opened a connection (none kept, or it had closed)",
            static_cast<double>(m.probe_connects));
  p.Gauge("tidewatch_probe_connections", "Probe connections kept open between polls",
          static_cast<double>(m.probe_connections_kept));
  for (const char* st : {"connecting", "streaming", "lagging", "disconnected", "ended", "failed"}) {
    auto it = m.streams_by_state.find(st);
    p.Gauge("tidewatch_streams", "Replication streams by state",
            static_cast<double>(it == m.streams_by_state.end() ? 0 : it->second), {{"state", st}});
  }
  p.Counter("tidewatch_stream_events_total", "Binlog events received over every stream",
            static_cast<double>(m.stream_events));
  p.Counter("tidewatch_stream_bytes_total", "Binlog bytes received over every stream", static_cast<double>(m.stream_bytes));
  p.Counter("tidewatch_stream_undecoded_events_total", "Binlog events whose body could not be decoded (delivered all the same)",
            static_cast<double>(m.stream_undecoded_events));
  p.Counter("tidewatch_pseudo_gtid_entries_total", "Pseudo-GTID entries indexed", static_cast<double>(m.pseudo_gtid_entries));
  p.Gauge("tidewatch_stream_buffer_bytes", "Memory of every stream's receive buffers",
          static_cast<double>(m.stream_buffer_bytes));
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
  if (group_ != nullptr) {
    const FleetGroupStats g = group_->Stats();
    p.Gauge("tidewatch_group_clusters", "Cluster records of the monitor group, and those monitored here",
            static_cast<double>(g.records), {{"scope", "group"}});
    p.Gauge("tidewatch_group_clusters", "Cluster records of the monitor group, and those monitored here",
            static_cast<double>(g.owned), {{"scope", "here"}});
    p.Gauge("tidewatch_group_partitions", "Partitions of <prefix>.clusters given to this daemon",
            static_cast<double>(g.partitions));
    p.Counter("tidewatch_group_adopted_total", "Clusters taken over", static_cast<double>(g.adopted));
    p.Counter("tidewatch_group_released_total", "Clusters handed over", static_cast<double>(g.released));
  }
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

}  // namespace tidewatch::server
