#include "server/metadata_api.h"

#include <netdb.h>
#include <arpa/inet.h>
#include <re2/re2.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "base/host_port.h"
#include "server/ascii_topology.h"
#include "server/state_file.h"

namespace tidewatch::server {

using nlohmann::json;

namespace {

std::string StatePath(const Config& config, const char* name) {
  return config.state_dir.empty() ? std::string() : config.state_dir + "/" + name;
}

// Go's time.Duration text for what a request takes: "812µs", "3.5ms", "1.2s".
std::string GoDuration(std::chrono::nanoseconds d) {
  const double ns = static_cast<double>(d.count());
  auto fixed = [](double v, const char* unit) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
    return s + unit;
  };
  if (ns < 1e3) return fixed(ns, "ns");
  if (ns < 1e6) return fixed(ns / 1e3, "µs");
  if (ns < 1e9) return fixed(ns / 1e6, "ms");
  return fixed(ns / 1e9, "s");
}

// orchestrator's FiltersMatchInstanceKey: a filter equal to the host or the
// key, or a regular expression found in the host name.
bool FiltersMatch(const std::vector<std::string>& filters, const std::string& key) {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(key, &host, &port)) host = key;
  for (const auto& f : filters) {
    if (f == host || f == key || RE2::PartialMatch(host, RE2(f, RE2::Quiet))) return true;
  }
  return false;
}

// The first IPv4 and IPv6 address of a host name; false when it resolves to none.
bool HostIps(const std::string& host, std::string* ipv4, std::string* ipv6) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return false;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET && ipv4->empty()) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, buf, sizeof buf);
      *ipv4 = buf;
    } else if (a->ai_family == AF_INET6 && ipv6->empty()) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, buf, sizeof buf);
      *ipv6 = buf;
    }
  }
  ::freeaddrinfo(res);
  return true;
}

json KeysJson(const std::vector<std::string>& keys) {
  json arr = json::array();
  for (const auto& k : keys) arr.push_back(InstanceKeyJson(k));
  return arr;
}

}  // namespace

const std::vector<MetadataApi::Route>& MetadataApi::Routes() {
  using A = MetadataApi;
  static const std::vector<Route> routes = {
      // Tags (go/http/api.go: Tags, TagValue, Tagged, Tag, Untag, UntagAll, AsciiTopologyTags).
      {{"tags"}, ":host/:port", false, &A::Tags},
      {{"tag-value"}, ":host/:port", false, &A::TagValue},
      {{"tag-value"}, ":host/:port/:tagName", false, &A::TagValue},
      {{"tagged"}, "", false, &A::Tagged},
      {{"tag"}, ":host/:port", true, &A::PutTag},
      {{"tag"}, ":host/:port/:tagName/:tagValue", true, &A::PutTag},
      {{"untag"}, ":host/:port", true, &A::Untag},
      {{"untag"}, ":host/:port/:tagName", true, &A::Untag},
      {{"untag-all"}, "", true, &A::Untag},
      {{"untag-all"}, ":tagName/:tagValue", true, &A::Untag},
      {{"topology-tags"}, ":clusterHint", false, &A::TopologyTags},
      {{"topology-tags"}, ":host/:port", false, &A::TopologyTags},
      // Pools; orchestrator authorizes its pool reads as changes.
      {{"submit-pool-instances"}, ":pool", true, &A::SubmitPool},
      {{"cluster-pool-instances"}, ":clusterName", true, &A::ClusterPools},
      {{"cluster-pool-instances"}, ":clusterName/:pool", true, &A::ClusterPools},
      {{"heuristic-cluster-pool-instances"}, ":clusterName", true, &A::HeuristicPoolInstances},
      {{"heuristic-cluster-pool-instances"}, ":clusterName/:pool", true, &A::HeuristicPoolInstances},
      // Hostname unresolve.
      {{"register-hostname-unresolve"}, ":host/:port/:virtualname", true, &A::RegisterUnresolve},
      {{"deregister-hostname-unresolve"}, ":host/:port", true, &A::RegisterUnresolve},
      // Clusters.
      {{"forget-cluster"}, ":clusterHint", true, &A::ForgetCluster},
      {{"snapshot-topologies"}, "", false, &A::SnapshotTopologies},
      {{"submit-masters-to-kv-stores"}, "", false, &A::SubmitMastersToKv},
      {{"submit-masters-to-kv-stores"}, ":clusterHint", false, &A::SubmitMastersToKv},
      {{"cluster-osc-replicas", "cluster-osc-slaves"}, ":clusterHint", false, &A::OscReplicas},
      // Raft: orchestrator checks authorization before raft for these…
      {{"raft-yield"}, ":node", true, &A::Raft},
      {{"raft-yield-hint"}, ":hint", true, &A::Raft},
      {{"raft-add-peer"}, ":addr", true, &A::Raft},
      {{"raft-remove-peer"}, ":addr", true, &A::Raft},
      // … and not for these.
      {{"raft-state", "raft-leader", "raft-health", "raft-status", "raft-peers", "raft-snapshot"}, "", false,
       &A::Raft},
      {{"raft-follower-health-report"}, ":authenticationToken/:raftBind/:raftAdvertise", false, &A::Raft},
  };
  return routes;
}

MetadataApi::~MetadataApi() { pgtid::RemoveHostNames(&unresolve_); }

MetadataApi::MetadataApi(const Config& config, analyzer::Monitor* monitor, sinks::Publisher* publisher,
                         JsonSettings json)
    : config_(config),
      monitor_(monitor),
      publisher_(publisher),
      json_(json),
      tags_(StatePath(config, "tags.json")),
      pools_(StatePath(config, "pools.json"), std::chrono::minutes(config.instance_pool_expiry_minutes),
             config.default_instance_port),
      unresolve_(StatePath(config, "hostname-unresolve.json"),
                 std::chrono::minutes(config.expiry_hostname_resolves_minutes)) {
  pgtid::SetHostNames(&unresolve_);
  for (const Status* s : {&tags_.load_status(), &pools_.load_status(), &unresolve_.load_status()}) {
    if (!s->ok()) spdlog::warn("instance metadata not loaded: {}", s->message());
  }
}

bool MetadataApi::Handle(const std::vector<std::string>& seg, const HttpRequest& request, const std::string& user,
                          const std::function<bool()>& authorize_change, HttpResponse* response) {
  Call c{request, response, seg, user, {}, {}, {}};
  return AnswerRoute(this, Routes(), c, authorize_change);
}

void MetadataApi::Audit(const std::string& action, const std::string& instance, const std::string& user,
                        const std::string& message) {
  PublishAudit(monitor_, publisher_, action, instance, user, message);
}

bool MetadataApi::TagOf(Call& c, Tag* tag) const {
  const std::string text = c.Query("tag");
  Status s = !text.empty() ? ParseTag(text, tag) : NewTag(c.Arg("tagName"), c.Arg("tagValue"), tag);
  if (!s.ok()) c.Error(s.message());
  return s.ok();
}

// --- Tags. ---

void MetadataApi::Tags(Call& c) {
  json arr = json::array();
  for (const auto& [name, value] : tags_.TagsOf(c.instance)) arr.push_back(name + "=" + value);
  c.Bare(arr);
}

void MetadataApi::TagValue(Call& c) {
  Tag tag;
  if (!TagOf(c, &tag)) return;
  std::string value;
  if (!tags_.Value(c.instance, tag.name, &value)) {
    return c.Error("tag " + tag.name + " not found for " + c.instance);
  }
  c.Bare(value);
}

void MetadataApi::Tagged(Call& c) {
  std::vector<Tag> tags;
  if (Status s = ParseIntersectTags(c.Query("tag"), &tags); !s.ok()) return c.Error(s.message());
  c.Bare(KeysJson(tags_.Tagged(tags)));
}

void MetadataApi::PutTag(Call& c) {
  Tag tag;
  if (!TagOf(c, &tag)) return;
  if (Status s = tags_.Put(c.instance, tag.name, tag.value); !s.ok()) return c.Error(s.message());
  Audit("put-instance-tag", c.instance, c.user, TagString(tag));
  c.Ok(c.instance + " tagged with " + TagString(tag), InstanceKeyJson(c.instance));
}

// untag (one instance) and untag-all (every instance: only a tag with a value).
void MetadataApi::Untag(Call& c) {
  Tag tag;
  if (!TagOf(c, &tag)) return;
  std::vector<std::string> removed;
  if (Status s = tags_.Untag(c.instance, tag, &removed); !s.ok()) return c.Error(s.message());
  for (const auto& k : removed) Audit("delete-instance-tag", k, c.user, TagString(tag));
  c.Ok(tag.name + " removed from " + std::to_string(removed.size()) + " instances", KeysJson(removed));
}

void MetadataApi::TopologyTags(Call& c) {
  std::string cluster;
  if (!ResolveClusterHint(monitor_, c, c.ClusterHint(), &cluster)) return;
  std::string tree;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    tree = AsciiTopology(t, cluster, json_, [this](const std::string& key) {
      std::string list;
      for (const auto& [name, value] : tags_.TagsOf(key)) list += (list.empty() ? "" : ",") + TagDisplay(name, value);
      return list;
    });
  });
  c.Ok("Topology for cluster " + cluster, tree);
}

// --- Pools. ---

void MetadataApi::SubmitPool(Call& c) {
  const std::string& pool = c.Arg("pool");
  const std::string instances = c.Query("instances");
  if (Status s = pools_.Submit(pool, instances); !s.ok()) return c.Error(s.message());
  Audit("submit-pool-instances", "", c.user, pool + ": " + instances);
  c.Ok("Applied " + pool + " pool instances", pool);
}

// orchestrator's ReadClusterPoolInstancesMap: the cluster's instances in
// each pool, by the cluster's name as given (here an alias or an instance
// naming it is accepted too); a cluster that has none is an empty object.
void MetadataApi::ClusterPools(Call& c) {
  std::string cluster = c.Arg("clusterName");
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    for (const auto& [k, r] : t.instances()) {
      if (r.cluster == cluster) return;
    }
    for (const auto& [k, r] : t.instances()) {
      if (k == cluster || (r.probed && r.probe.cluster_alias == cluster)) cluster = r.cluster;
    }
  });
  const auto pools = pools_.Pools(c.Arg("pool"));
  json details = json::object();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    for (const auto& [pool, keys] : pools) {
      std::vector<std::string> in;
      for (const auto& k : keys) {
        const auto* r = t.Find(k);
        if (r != nullptr && r->cluster == cluster) in.push_back(k);
      }
      std::sort(in.begin(), in.end(), InstanceKeyLess);
      if (!in.empty()) details[pool] = KeysJson(in);
    }
  });
  c.Ok("Read pool instances for cluster " + cluster, details);
}

// orchestrator's GetHeuristicClusterPoolInstances: the cluster's instances
// that are in the pool (any pool without one) and whose last check was valid.
void MetadataApi::HeuristicPoolInstances(Call& c) {
  std::string cluster;
  if (!ResolveClusterHint(monitor_, c, c.Arg("clusterName"), &cluster)) return;
  std::set<std::string> pooled;
  for (const auto& [pool, keys] : pools_.Pools(c.Arg("pool"))) pooled.insert(keys.begin(), keys.end());
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    std::vector<std::string> keys;
    for (const auto& [k, r] : t.instances()) {
      if (r.cluster == cluster && r.probed && r.reachable && pooled.count(k) != 0) keys.push_back(k);
    }
    std::sort(keys.begin(), keys.end(), InstanceKeyLess);
    for (const auto& k : keys) arr.push_back(InstanceJson(*t.Find(k), t, json_));
  });
  c.Ok("Heuristic pool instances for cluster " + cluster, arr);
}

// --- Hostname unresolve. ---

void MetadataApi::RegisterUnresolve(Call& c) {
  const bool registering = c.seg[0] == "register-hostname-unresolve";
  std::string host;
  uint16_t port = 0;
  SplitHostPort(c.instance, &host, &port);
  if (Status s = unresolve_.Register(host, registering ? c.Arg("virtualname") : ""); !s.ok()) {
    return c.Error(s.message());
  }
  Audit(c.seg[0], c.instance, c.user, registering ? c.Arg("virtualname") : "");
  c.Ok(registering ? "Hostname register unresolve completed" : "Hostname deregister unresolve completed",
       InstanceKeyJson(c.instance));
}

// --- Clusters. ---

void MetadataApi::ForgetCluster(Call& c) {
  std::string cluster;
  if (!ResolveClusterHint(monitor_, c, c.Arg("clusterHint"), &cluster)) return;
  std::vector<std::string> keys;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    for (const auto& [k, r] : t.instances()) {
      if (r.cluster == cluster) keys.push_back(k);
    }
  });
  for (const auto& k : keys) {
    monitor_->Forget(k);
    Audit("forget", k, c.user, "forget-cluster " + cluster);
  }
  c.Ok("Cluster forgotten: " + cluster);
}

// orchestrator records every instance's master (database_instance_topology_history).
void MetadataApi::SnapshotTopologies(Call& c) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  json instances = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    std::vector<std::string> keys;
    for (const auto& [k, r] : t.instances()) keys.push_back(k);
    std::sort(keys.begin(), keys.end(), InstanceKeyLess);
    for (const auto& k : keys) {
      const auto& r = *t.Find(k);
      const json key = InstanceKeyJson(k);
      const json master = r.master_key.empty() ? json{{"Hostname", ""}, {"Port", 0}} : InstanceKeyJson(r.master_key);
      instances.push_back({{"Hostname", key["Hostname"]},
                           {"Port", key["Port"]},
                           {"MasterHost", master["Hostname"]},
                           {"MasterPort", master["Port"]},
                           {"ClusterName", r.cluster},
                           {"Version", r.probe.instance.version}});
    }
  });
  if (!config_.state_dir.empty()) {
    const std::string dir = config_.state_dir + "/topology-snapshots";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    Status s = ec ? Status::IOError(dir + ": " + ec.message())
                  : WriteStateFile(dir + "/" + std::to_string(now) + ".json",
                                   {{"snapshot_unix_timestamp", now}, {"instances", instances}});
    if (!s.ok()) {
      return c.Error(s.message(), "Took " + GoDuration(std::chrono::steady_clock::now() - start));
    }
  }
  c.Ok("Topology Snapshot completed", "Took " + GoDuration(std::chrono::steady_clock::now() - start));
}

// orchestrator's GetMastersKVPairs: for each writable master whose cluster
// has an alias (its alias, else its name; with a hint, only that cluster),
// <KVClusterMasterPrefix>/<alias> = host:port, and /hostname, /port,
// /ipv4, /ipv6 below it (the addresses when the host name resolves).
void MetadataApi::SubmitMastersToKv(Call& c) {
  std::string only;
  if (!c.Arg("clusterHint").empty() && !ResolveClusterHint(monitor_, c, c.Arg("clusterHint"), &only)) return;
  std::vector<std::pair<std::string, std::string>> masters;  // alias, key
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    std::vector<std::string> keys;
    for (const auto& [k, r] : t.instances()) {
      if (r.probed && (r.master_key.empty() || r.is_co_master) && !r.probe.instance.read_only &&
          (only.empty() || r.cluster == only)) {
        keys.push_back(k);
      }
    }
    std::sort(keys.begin(), keys.end(), InstanceKeyLess);
    for (const auto& k : keys) {
      const auto& r = *t.Find(k);
      const auto* top = t.Find(t.MasterOf(r.cluster));
      const std::string alias = top != nullptr && !top->probe.cluster_alias.empty() ? top->probe.cluster_alias : r.cluster;
      masters.emplace_back(alias, k);
    }
  });
  json pairs = json::array();
  for (const auto& [alias, key] : masters) {
    const std::string base = config_.kv_cluster_master_prefix + "/" + alias;
    std::string host;
    uint16_t port = 0;
    SplitHostPort(key, &host, &port);
    pairs.push_back({{"Key", base}, {"Value", key}});
    pairs.push_back({{"Key", base + "/hostname"}, {"Value", host}});
    pairs.push_back({{"Key", base + "/port"}, {"Value", std::to_string(port)}});
    std::string ipv4, ipv6;
    if (HostIps(host, &ipv4, &ipv6)) {
      pairs.push_back({{"Key", base + "/ipv4"}, {"Value", ipv4}});
      pairs.push_back({{"Key", base + "/ipv6"}, {"Value", ipv6}});
    }
  }
  // orchestrator answers "Submitted N masters" with N the pairs its stores took.
  c.Ok("Submitted 0 masters: Tidewatch keeps no KV store; the pairs orchestrator would write are the Details",
       pairs);
}

// orchestrator's GetClusterOSCReplicas: up to two of the busiest replicas at
// depth one that have replicas ("intermediate masters"); then two replicas
// of the only one, or one of each of two; up to two at depth three; up to two
// leaf replicas at depth one — each list without the OSCIgnoreHostnameFilters
// hosts and those whose last check failed.
void MetadataApi::OscReplicas(Call& c) {
  std::string cluster;
  if (!ResolveClusterHint(monitor_, c, c.Arg("clusterHint"), &cluster)) return;
  json arr = json::array();
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    auto replicas = [&](const std::string& k) { return t.ReplicasOf(k).size(); };
    auto select = [&](auto pred) {
      std::vector<std::string> keys;
      for (const auto& [k, r] : t.instances()) {
        if (r.cluster == cluster && pred(k, r)) keys.push_back(k);
      }
      std::sort(keys.begin(), keys.end(), InstanceKeyLess);
      return keys;
    };
    auto busiest_first = [&](std::vector<std::string> keys) {
      std::stable_sort(keys.begin(), keys.end(),
                       [&](const std::string& a, const std::string& b) { return replicas(a) > replicas(b); });
      return keys;
    };
    auto usable = [&](const std::vector<std::string>& keys, size_t at_most) {
      std::vector<std::string> out;
      for (const auto& k : keys) {
        const auto* r = t.Find(k);
        if (out.size() < at_most && r->probed && r->reachable && !FiltersMatch(config_.osc_ignore_hostname_filters, k)) {
          out.push_back(k);
        }
      }
      return out;
    };
    std::vector<std::string> result;
    const auto ims = usable(busiest_first(select([&](const std::string& k, const analyzer::InstanceRecord& r) {
                              return r.replication_depth == 1 && replicas(k) > 0;
                            })),
                            2);
    result.insert(result.end(), ims.begin(), ims.end());
    for (const auto& im : ims) {
      auto below = t.ReplicasOf(im);
      std::sort(below.begin(), below.end(), InstanceKeyLess);
      const auto chosen = usable(busiest_first(below), ims.size() == 1 ? 2 : 1);
      result.insert(result.end(), chosen.begin(), chosen.end());
    }
    const auto third = usable(busiest_first(select([](const std::string&, const analyzer::InstanceRecord& r) {
                                return r.replication_depth == 3;
                              })),
                              2);
    result.insert(result.end(), third.begin(), third.end());
    const auto leaves = usable(select([&](const std::string& k, const analyzer::InstanceRecord& r) {
                                 return r.replication_depth == 1 && replicas(k) == 0;
                               }),
                               2);
    result.insert(result.end(), leaves.begin(), leaves.end());
    for (const auto& k : result) arr.push_back(InstanceJson(*t.Find(k), t, json_));
  });
  c.Bare(arr);
}

// orchestrator's answers without raft (go/http/api.go), including its
// choice of name in each message.
void MetadataApi::Raft(Call& c) {
  static const std::map<std::string, std::string> kMessages = {
      {"raft-state", "raft-state"},   {"raft-leader", "raft-leader"},     {"raft-health", "raft-state"},
      {"raft-status", "raft-state"},  {"raft-peers", "raft-nodes"},       {"raft-snapshot", "raft-leader"},
      {"raft-yield", "raft-yield"},   {"raft-yield-hint", "raft-yield-hint"},
      {"raft-add-peer", "raft-add-peer"}, {"raft-remove-peer", "raft-remove-peer"},
      {"raft-follower-health-report", "raft-state"},
  };
  c.Error(kMessages.at(c.seg[0]) + ": not running with raft setup");
}

}  // namespace tidewatch::server
