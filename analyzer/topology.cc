#include "analyzer/topology.h"

#include <algorithm>
#include <set>

#include <google/protobuf/util/time_util.h>

#include "pgtid/mariadb_gtid_position.h"
#include "pgtid/mysql_gtid_set.h"

namespace tidewatch::analyzer {

namespace {

using google::protobuf::util::TimeUtil;

std::string ToLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Lag as the messages report it: whether it is known and whether it is
// within ReasonableReplicationLagSeconds. A change of class is a change.
std::string LagClass(const ProbeResult& p, int64_t reasonable) {
  const auto& rs = p.instance.replica;
  if (!rs.configured) return "none";
  if (!rs.seconds_behind) return "unknown";
  return *rs.seconds_behind > reasonable ? "lagging" : "ok";
}

// The fields whose change is published as CHANGED. Coordinates and GTID
// positions move with every write and are not changes of the instance.
std::vector<std::string> ChangedFields(const ProbeResult& a, const ProbeResult& b, int64_t reasonable) {
  std::vector<std::string> f;
  const auto &x = a.instance, &y = b.instance;
  auto check = [&](bool differ, const char* name) {
    if (differ) f.emplace_back(name);
  };
  check(x.version != y.version, "version");
  check(x.server_id != y.server_id, "server_id");
  check(a.server_uuid != b.server_uuid, "server_uuid");
  check(x.log_bin != y.log_bin, "log_bin");
  check(x.log_slave_updates != y.log_slave_updates, "log_replica_updates");
  check(x.binlog_format != y.binlog_format, "binlog_format");
  check(MasterKeyOf(a) != MasterKeyOf(b), "master_key");
  check(x.replica.io_running != y.replica.io_running, "replica_io_running");
  check(x.replica.sql_running != y.replica.sql_running, "replica_sql_running");
  check(x.replica.using_gtid != y.replica.using_gtid, "using_gtid");
  check(LagClass(a, reasonable) != LagClass(b, reasonable), "seconds_behind_master");
  check(x.gtid_mode != y.gtid_mode, "gtid_mode");
  check(a.data_center != b.data_center, "data_center");
  check(a.region != b.region || a.physical_environment != b.physical_environment || a.cluster_domain != b.cluster_domain,
        "region");
  check(a.promotion_rule != b.promotion_rule, "promotion_rule");
  check(a.semi_sync_enforced != b.semi_sync_enforced, "semi_sync_enforced");
  check(a.semi_sync.master_enabled != b.semi_sync.master_enabled ||
            a.semi_sync.master_status != b.semi_sync.master_status ||
            a.semi_sync.replica_enabled != b.semi_sync.replica_enabled,
        "semi_sync");
  return f;
}

google::protobuf::Timestamp Stamp(Clock::time_point t) {
  return TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

v1::StreamState::State StreamStateOf(binlog::StreamState s) {
  switch (s) {
    case binlog::StreamState::kConnecting: return v1::StreamState::CONNECTING;
    case binlog::StreamState::kStreaming: return v1::StreamState::STREAMING;
    case binlog::StreamState::kLagging: return v1::StreamState::LAGGING;
    case binlog::StreamState::kDisconnected: return v1::StreamState::DISCONNECTED;
    case binlog::StreamState::kEnded: return v1::StreamState::ENDED;
    case binlog::StreamState::kFailed: return v1::StreamState::FAILED;
  }
  return v1::StreamState::STATE_UNSPECIFIED;
}

// The IO thread's error when it cannot reach its master (MariaDB and MySQL
// both say "error connecting to master" / "error reconnecting to master";
// orchestrator's FirstTierReplicaFailingToConnectToMaster tests the same).
bool FailingToConnect(const pgtid::ReplicaStatus& rs) {
  const std::string e = ToLower(rs.last_io_error);
  return e.find("error connecting to master") != std::string::npos ||
         e.find("error reconnecting to master") != std::string::npos ||
         e.find("error connecting to source") != std::string::npos ||
         e.find("error reconnecting to source") != std::string::npos;
}

// Errant transactions of a replica against its master. Only meaningful when
// the master was read after the replica: a replica read later may already
// hold transactions its master wrote after its own read.
std::string ErrantOf(const InstanceRecord& replica, const InstanceRecord& master) {
  const auto &r = replica.probe.instance, &m = master.probe.instance;
  if (r.mariadb != m.mariadb) return {};
  if (!r.mariadb) {
    if (r.gtid_mode != "ON" || m.gtid_mode != "ON") return {};
    pgtid::MysqlGtidSet rs, ms;
    if (!pgtid::MysqlGtidSet::Parse(r.gtid_executed, &rs).ok() || !pgtid::MysqlGtidSet::Parse(m.gtid_executed, &ms).ok()) {
      return {};
    }
    return pgtid::ErrantGtids(rs, ms).ToString();
  }
  // MariaDB: the replica's own binlog position against what its master has
  // written; only GTIDs the replica wrote itself (its own server_id) count,
  // transactions replicated from elsewhere being the master's concern.
  pgtid::MariadbGtidPosition rp, mp;
  if (!pgtid::MariadbGtidPosition::Parse(r.gtid_binlog_pos, &rp).ok() ||
      !pgtid::MariadbGtidPosition::Parse(m.gtid_binlog_pos, &mp).ok()) {
    return {};
  }
  std::string out;
  for (const auto& g : pgtid::ErrantGtids(rp, mp)) {
    if (g.server_id != r.server_id) continue;
    if (!out.empty()) out += ",";
    out += std::to_string(g.domain_id) + "-" + std::to_string(g.server_id) + "-" + std::to_string(g.seq_no);
  }
  return out;
}

}  // namespace

const InstanceRecord* Topology::Find(const std::string& key) const {
  auto it = instances_.find(key);
  return it == instances_.end() ? nullptr : &it->second;
}

void Topology::Expect(const std::string& key) {
  if (Forgotten(key)) return;
  auto [it, added] = instances_.try_emplace(key);
  if (added) it->second.key = key;
}

void Topology::Restore(const ProbeResult& p) {
  Expect(p.key);
  InstanceRecord& r = instances_[p.key];
  if (r.probed) return;  // this run knows better
  r.probe = p;
  r.probed = true;
  r.reachable = true;
  r.last_seen = p.at;
  SetMaster(r, MasterKeyOf(p));
  std::vector<std::string> moved{p.key};
  if (!r.master_key.empty()) {
    Expect(r.master_key);
    moved.push_back(r.master_key);
  }
  for (const auto& k : p.replica_keys) {
    Expect(k);
    moved.push_back(k);
  }
  RecomputeAround(moved);
}

v1::Envelope Topology::MessageAbout(const std::string& key) const {
  v1::Envelope e;
  auto* src = e.mutable_source();
  src->set_server(key);
  if (const InstanceRecord* r = Find(key)) {
    src->set_cluster(r->cluster);
    if (r->probed && !r->probe.instance.self.empty()) {
      src->mutable_coordinates()->set_file(r->probe.instance.self.file);
      src->mutable_coordinates()->set_pos(r->probe.instance.self.pos);
    }
    if (r->probed) {
      const auto& i = r->probe.instance;
      const std::string& gtid = i.mariadb ? i.gtid_binlog_pos : std::string();
      // A single-domain MariaDB position is the GTID of the last transaction.
      if (!gtid.empty() && gtid.find(',') == std::string::npos) src->mutable_coordinates()->set_gtid(gtid);
    }
  }
  *e.mutable_event_time() = Stamp(Clock::now());
  return e;
}

void Topology::FillInstance(const InstanceRecord& r, v1::Instance* out) {
  const auto& p = r.probe;
  const auto& i = p.instance;
  out->set_key(r.key);
  out->set_version(i.version);
  out->set_server_id(i.server_id);
  out->set_server_uuid(p.server_uuid);
  out->set_read_only(i.read_only);
  out->set_log_bin(i.log_bin);
  out->set_log_replica_updates(i.log_slave_updates);
  out->set_binlog_format(i.binlog_format);
  out->set_master_key(r.master_key);
  out->set_replica_io_running(i.replica.io_running == "Yes");
  out->set_replica_sql_running(i.replica.sql_running);
  out->set_seconds_behind_master(i.replica.seconds_behind ? *i.replica.seconds_behind : -1);
  out->set_gtid_executed(i.mariadb ? i.gtid_binlog_pos : i.gtid_executed);
  out->set_data_center(p.data_center);
  out->set_promotion_rule(p.promotion_rule);
  out->set_semi_sync_enforced(p.semi_sync_enforced);
  if (!i.self.empty()) {
    out->mutable_self_coordinates()->set_file(i.self.file);
    out->mutable_self_coordinates()->set_pos(i.self.pos);
  }
  if (i.replica.configured) {
    out->mutable_exec_master_coordinates()->set_file(i.replica.exec_master.file);
    out->mutable_exec_master_coordinates()->set_pos(i.replica.exec_master.pos);
  }
}

ChangeScope Topology::ApplyProbe(const ProbeResult& p, std::vector<v1::Envelope>* out) {
  const bool known = instances_.count(p.key) != 0;
  Expect(p.key);
  InstanceRecord& r = instances_[p.key];
  ChangeScope scope;
  // Instances added, or whose master changed: their clusters are recomputed,
  // with everything below them, and the clusters they left or joined analyzed.
  std::vector<std::string> moved;
  if (!known) moved.push_back(p.key);
  scope.clusters.insert(r.cluster);
  const std::string old_alias = r.probe.cluster_alias;
  const bool was_reachable = r.reachable;
  const bool had_probe = r.probed;
  const std::string old_master = r.master_key;
  r.last_checked = p.at;
  r.last_error = p.error;
  r.reachable = p.reachable;
  r.partial = p.partial;
  std::vector<v1::Envelope> changes;
  if (p.reachable) r.last_seen = p.at;
  if (p.reachable && !p.partial) {
    std::vector<std::string> changed;
    bool ro_flip = false;
    if (had_probe) {
      changed = ChangedFields(r.probe, p, options_.reasonable_replication_lag_seconds);
      ro_flip = r.probe.instance.read_only != p.instance.read_only;
      const auto& before = r.probe.instance;
      r.coordinates_stale = before.self == p.instance.self &&
                            (!p.instance.replica.configured || before.replica.exec_master == p.instance.replica.exec_master);
    }
    r.probe = p;
    r.probed = true;
    SetMaster(r, MasterKeyOf(p));
    for (const auto& k : p.replica_keys) {
      if (instances_.count(k) == 0) {
        Expect(k);
        moved.push_back(k);
      }
    }
    if (!r.master_key.empty() && instances_.count(r.master_key) == 0 &&
        !(options_.ignore_master && options_.ignore_master(r.master_key))) {
      Expect(r.master_key);
      moved.push_back(r.master_key);
    }
    if (!had_probe || old_master != r.master_key) {
      moved.push_back(p.key);
      if (!old_master.empty()) moved.push_back(old_master);  // its co-master flag
      if (!r.master_key.empty()) moved.push_back(r.master_key);
    }
    if (!had_probe) {
      v1::Envelope e;
      auto* ic = e.mutable_instance();
      ic->set_kind(v1::InstanceChange::DISCOVERED);
      FillInstance(r, ic->mutable_instance());
      changes.push_back(std::move(e));
    } else {
      if (!changed.empty()) {
        v1::Envelope e;
        auto* ic = e.mutable_instance();
        ic->set_kind(v1::InstanceChange::CHANGED);
        FillInstance(r, ic->mutable_instance());
        for (auto& f : changed) ic->add_changed_fields(f);
        changes.push_back(std::move(e));
      }
      if (ro_flip) {
        v1::Envelope e;
        auto* ic = e.mutable_instance();
        ic->set_kind(p.instance.read_only ? v1::InstanceChange::READ_ONLY_ON : v1::InstanceChange::READ_ONLY_OFF);
        FillInstance(r, ic->mutable_instance());
        ic->add_changed_fields("read_only");
        changes.push_back(std::move(e));
      }
    }
    if (had_probe && !was_reachable) {
      v1::Envelope e;
      auto* ic = e.mutable_instance();
      ic->set_kind(v1::InstanceChange::CHANGED);
      FillInstance(r, ic->mutable_instance());
      ic->add_changed_fields("reachable");
      changes.push_back(std::move(e));
    }
    if (old_master != r.master_key) {
      if (!old_master.empty()) {
        v1::Envelope e;
        e.mutable_edge()->set_kind(v1::ReplicationEdge::REMOVED);
        e.mutable_edge()->set_master(old_master);
        e.mutable_edge()->set_replica(p.key);
        changes.push_back(std::move(e));
      }
      if (!r.master_key.empty()) {
        v1::Envelope e;
        e.mutable_edge()->set_kind(v1::ReplicationEdge::ADDED);
        e.mutable_edge()->set_master(r.master_key);
        e.mutable_edge()->set_replica(p.key);
        changes.push_back(std::move(e));
      }
    }
  } else if (!p.reachable && was_reachable && had_probe) {
    v1::Envelope e;
    auto* ic = e.mutable_instance();
    ic->set_kind(v1::InstanceChange::LOST);
    FillInstance(r, ic->mutable_instance());
    changes.push_back(std::move(e));
  }
  if (!moved.empty()) {
    for (auto& c : RecomputeAround(moved)) scope.clusters.insert(std::move(c));
  } else {
    UpdateErrant(p.key);
  }
  scope.clusters.insert(r.cluster);
  for (auto& c : changes) {
    v1::Envelope e = MessageAbout(p.key);
    e.MergeFrom(c);
    out->push_back(std::move(e));
  }
  return scope;
}

ChangeScope Topology::ApplyStream(const std::string& key, const binlog::StreamStatus& s,
                                  std::vector<v1::Envelope>* out) {
  ChangeScope scope;
  auto it = instances_.find(key);
  if (it == instances_.end()) return scope;
  InstanceRecord& r = it->second;
  scope.clusters.insert(r.cluster);
  using binlog::StreamState;
  r.stream.open = s.state != StreamState::kEnded && s.state != StreamState::kFailed;
  r.stream.state = s.state;
  r.stream.reason = s.reason;
  r.stream.attempt = s.attempt;
  r.stream.tls = s.tls;
  const bool retry = r.stream.published && r.stream.published_state == StreamState::kDisconnected &&
                     (s.state == StreamState::kConnecting ||
                      (s.state == StreamState::kDisconnected && s.reason == r.stream.published_reason));
  const bool same = r.stream.published && r.stream.published_state == s.state && r.stream.published_reason == s.reason;
  if (retry || same) return scope;
  r.stream.published = true;
  r.stream.published_state = s.state;
  r.stream.published_reason = s.reason;
  v1::Envelope e = MessageAbout(key);
  auto* st = e.mutable_stream();
  st->set_state(StreamStateOf(s.state));
  st->set_reason(s.reason);
  st->set_attempt(static_cast<uint32_t>(s.attempt));
  st->set_tls(s.tls);
  if (!s.file.empty()) {
    e.mutable_source()->mutable_coordinates()->set_file(s.file);
    e.mutable_source()->mutable_coordinates()->set_pos(s.pos);
  }
  out->push_back(std::move(e));
  return scope;
}

void Topology::StreamProgress(const std::string& key, const std::string& file, uint64_t pos, uint64_t events) {
  auto it = instances_.find(key);
  if (it == instances_.end()) return;
  it->second.stream.file = file;
  it->second.stream.pos = pos;
  it->second.stream.events = events;
}

void Topology::SetPseudoGtid(const std::string& key, bool has_entries) {
  auto it = instances_.find(key);
  if (it != instances_.end()) it->second.pseudo_gtid = has_entries;
}

bool Topology::Forgotten(const std::string& key) const {
  auto it = forgotten_until_.find(key);
  return it != forgotten_until_.end() && Clock::now() < it->second;
}

bool Topology::Forget(const std::string& key, std::vector<v1::Envelope>* out) {
  std::erase_if(forgotten_until_, [](const auto& f) { return f.second <= Clock::now(); });
  forgotten_until_[key] = Clock::now() + options_.forget_cooldown;
  auto it = instances_.find(key);
  if (it == instances_.end()) return false;
  v1::Envelope e = MessageAbout(key);
  auto* ic = e.mutable_instance();
  ic->set_kind(v1::InstanceChange::FORGOTTEN);
  FillInstance(it->second, ic->mutable_instance());
  const std::string master = it->second.master_key;
  SetMaster(it->second, "");
  if (auto m = members_.find(it->second.cluster); m != members_.end()) {
    m->second.erase(key);
    if (m->second.empty()) members_.erase(m);
  }
  instances_.erase(it);
  out->push_back(std::move(e));
  if (!master.empty()) {
    v1::Envelope edge = MessageAbout(key);
    edge.mutable_edge()->set_kind(v1::ReplicationEdge::REMOVED);
    edge.mutable_edge()->set_master(master);
    edge.mutable_edge()->set_replica(key);
    out->push_back(std::move(edge));
  }
  std::vector<std::string> moved{key};  // what replicated below it
  if (!master.empty()) moved.push_back(master);
  RecomputeAround(moved);
  return true;
}

bool Topology::SetMaintenance(const std::string& key, Suspension s) {
  auto it = instances_.find(key);
  if (it == instances_.end()) return false;
  it->second.maintenance = std::move(s);
  return true;
}

bool Topology::SetDowntime(const std::string& key, Suspension s) {
  auto it = instances_.find(key);
  if (it == instances_.end()) return false;
  it->second.downtime = std::move(s);
  return true;
}

bool Topology::SetCandidate(const std::string& key, std::string rule, Clock::time_point until) {
  auto it = instances_.find(key);
  if (it == instances_.end()) return false;
  it->second.registered_rule = std::move(rule);
  it->second.registered_until = until;
  return true;
}

void Topology::SetMaster(InstanceRecord& r, std::string master) {
  if (r.master_key == master) return;
  if (!r.master_key.empty()) {
    auto it = replicas_.find(r.master_key);
    if (it != replicas_.end()) {
      it->second.erase(r.key);
      if (it->second.empty()) replicas_.erase(it);
    }
  }
  r.master_key = std::move(master);
  if (!r.master_key.empty()) replicas_[r.master_key].insert(r.key);
}

std::vector<std::string> Topology::ReplicasOf(const std::string& key) const {
  auto it = replicas_.find(key);
  if (it == replicas_.end()) return {};
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

std::string Topology::RootOf(const std::string& key, uint32_t* depth, bool* cycle) const {
  std::vector<std::string> chain{key};
  std::set<std::string> seen{key};
  *depth = 0;
  *cycle = false;
  std::string at = key;
  while (true) {
    const InstanceRecord* r = Find(at);
    if (r == nullptr || r->master_key.empty()) return at;
    if (!seen.insert(r->master_key).second) {
      // A cycle (co-masters): named after its smallest member.
      *cycle = true;
      auto begin = std::find(chain.begin(), chain.end(), r->master_key);
      return *std::min_element(begin, chain.end());
    }
    ++*depth;
    at = r->master_key;
    chain.push_back(at);
  }
}

std::set<std::string> Topology::RecomputeAround(const std::vector<std::string>& keys) {
  // The keys and everything that replicates below them, however deep.
  std::vector<std::string> affected;
  std::set<std::string> seen;
  std::vector<std::string> stack(keys.begin(), keys.end());
  while (!stack.empty()) {
    std::string k = std::move(stack.back());
    stack.pop_back();
    if (!seen.insert(k).second) continue;
    if (auto rs = replicas_.find(k); rs != replicas_.end()) stack.insert(stack.end(), rs->second.begin(), rs->second.end());
    affected.push_back(std::move(k));
  }
  std::set<std::string> touched;
  for (const auto& k : affected) {
    auto it = instances_.find(k);
    if (it == instances_.end()) continue;
    InstanceRecord& r = it->second;
    if (auto m = members_.find(r.cluster); m != members_.end()) {
      touched.insert(r.cluster);
      m->second.erase(k);
      if (m->second.empty()) members_.erase(m);
    }
    uint32_t depth = 0;
    bool cycle = false;
    // As orchestrator's: the cluster is named after its master's host:port;
    // the alias (DetectClusterAliasQuery) is kept beside it, on the master's probe.
    r.cluster = RootOf(k, &depth, &cycle);
    r.replication_depth = depth;
    members_[r.cluster].insert(k);
    touched.insert(r.cluster);
    r.is_co_master = false;
    if (!r.master_key.empty()) {
      const InstanceRecord* m = Find(r.master_key);
      r.is_co_master = m != nullptr && m->master_key == k;
    }
  }
  for (const auto& k : affected) UpdateErrant(k);
  return touched;
}

void Topology::UpdateErrant(const std::string& key) {
  auto update = [this](InstanceRecord& r) {
    if (!r.probed || r.master_key.empty()) return;
    const InstanceRecord* m = Find(r.master_key);
    if (m == nullptr || !m->probed || !m->reachable) return;
    if (m->probe.at >= r.probe.at) r.errant_gtid = ErrantOf(r, *m);
  };
  auto it = instances_.find(key);
  if (it == instances_.end()) return;
  update(it->second);
  if (auto rs = replicas_.find(key); rs != replicas_.end()) {
    for (const auto& k : rs->second) {
      if (auto r = instances_.find(k); r != instances_.end()) update(r->second);
    }
  }
}

size_t Topology::unchecked() const {
  size_t n = 0;
  for (const auto& [k, r] : instances_) n += r.last_checked == Clock::time_point{} ? 1 : 0;
  return n;
}

std::map<std::string, std::vector<std::string>> Topology::Clusters() const {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [k, r] : instances_) out[r.cluster].push_back(k);
  return out;
}

std::vector<std::string> Topology::MembersOf(const std::string& cluster) const {
  auto m = members_.find(cluster);
  if (m == members_.end()) return {};
  return {m->second.begin(), m->second.end()};
}

bool Topology::Checked(const std::string& cluster) const {
  auto m = members_.find(cluster);
  if (m == members_.end()) return true;
  for (const auto& k : m->second) {
    const InstanceRecord* r = Find(k);
    if (r != nullptr && r->last_checked == Clock::time_point{}) return false;
  }
  return true;
}

std::string Topology::MasterOf(const std::string& cluster) const {
  std::string best;
  auto m = members_.find(cluster);
  if (m == members_.end()) return best;
  for (const auto& k : m->second) {
    const InstanceRecord* rec = Find(k);
    if (rec == nullptr) continue;
    const InstanceRecord& r = *rec;
    if (r.master_key.empty()) return k;
    if (r.is_co_master && (best.empty() || k < best)) best = k;
  }
  return best;
}

std::vector<InstanceState> Topology::AnalysisInput(Clock::time_point now, const ChangeScope& scope) const {
  std::vector<InstanceState> out;
  // The instances of the clusters in scope: every one, or those clusters'
  // members only.
  std::vector<const InstanceRecord*> in_scope;
  if (scope.all) {
    for (const auto& [k, r] : instances_) in_scope.push_back(&r);
  } else {
    for (const auto& c : scope.clusters) {
      auto m = members_.find(c);
      if (m == members_.end()) continue;
      for (const auto& k : m->second) {
        if (const InstanceRecord* r = Find(k)) in_scope.push_back(r);
      }
    }
  }
  for (const InstanceRecord* rec : in_scope) {
    const InstanceRecord& r = *rec;
    const std::string& k = r.key;
    if (!scope.Covers(r.cluster) || r.last_checked == Clock::time_point{}) continue;
    // An instance never reached that nothing replicates from is not part of
    // any topology yet.
    if (!r.probed && replicas_.count(k) == 0) continue;
    InstanceState s;
    const auto& i = r.probe.instance;
    s.key = k;
    s.master_key = r.master_key;
    s.cluster = r.cluster;
    s.reachable = r.reachable;
    s.partial_success = r.partial;
    s.in_maintenance = r.maintenance.ActiveAt(now);
    s.downtimed = r.downtime.ActiveAt(now);
    s.io_running = i.replica.io_running == "Yes";
    s.sql_running = i.replica.sql_running;
    s.failing_to_connect_to_master = FailingToConnect(i.replica);
    s.seconds_behind_master = i.replica.seconds_behind ? *i.replica.seconds_behind : -1;
    s.sql_delay = i.replica.sql_delay;
    s.log_bin = i.log_bin;
    s.log_replica_updates = i.log_slave_updates;
    s.binlog_format = i.binlog_format;
    s.major_version = i.major * 100 + i.minor;
    s.read_only = i.read_only;
    s.gtid_mode = i.mariadb ? "MariaDB" : i.gtid_mode;
    s.oracle_gtid = !i.mariadb && i.replica.UsesGtid();
    s.mariadb_gtid = i.mariadb && i.replica.UsesGtid();
    s.pseudo_gtid = r.pseudo_gtid;
    s.errant_gtid = r.errant_gtid;
    s.semi_sync_master_enabled = r.probe.semi_sync.master_enabled;
    s.semi_sync_master_status = r.probe.semi_sync.master_status;
    s.semi_sync_wait_for_replica_count = r.probe.semi_sync.wait_for_replica_count;
    s.semi_sync_master_clients = r.probe.semi_sync.master_clients;
    s.semi_sync_enforced = r.probe.semi_sync_enforced;
    s.semi_sync_replica_enabled = r.probe.semi_sync.replica_enabled;
    s.binlog_coordinates_stale = r.coordinates_stale;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> Topology::Evidence(const std::string& key) const {
  std::vector<std::string> ev;
  const InstanceRecord* r = Find(key);
  if (r == nullptr) return ev;
  const size_t replicas = ReplicasOf(key).size();
  if (!r->reachable) {
    ev.push_back(key + ": unreachable: " + (r->last_error.empty() ? "never reached" : r->last_error));
  } else if (r->partial) {
    ev.push_back(key + ": reachable, check incomplete: " + r->last_error);
  } else {
    std::string s = key + ": reachable, " + std::to_string(replicas) + " replica(s)";
    const auto& rs = r->probe.instance.replica;
    if (rs.configured) {
      s += ", replicating from " + r->master_key + " (IO thread " + (rs.io_running.empty() ? "No" : rs.io_running) +
           ", SQL thread " + (rs.sql_running ? "Yes" : "No") + ")";
    }
    ev.push_back(std::move(s));
  }
  if (r->stream.open || r->stream.state == binlog::StreamState::kFailed) {
    std::string s = key + ": replication stream " + binlog::StreamStateName(r->stream.state);
    if (!r->stream.reason.empty()) s += ": " + r->stream.reason;
    if (r->stream.attempt > 0) s += " (attempt " + std::to_string(r->stream.attempt) + ")";
    ev.push_back(std::move(s));
  }
  for (const auto& rk : ReplicasOf(key)) {
    const InstanceRecord* rep = Find(rk);
    if (rep == nullptr) continue;
    if (!rep->reachable) {
      ev.push_back("replica " + rk + ": unreachable: " + rep->last_error);
      continue;
    }
    const auto& rs = rep->probe.instance.replica;
    std::string s = "replica " + rk + ": IO thread " + (rs.io_running.empty() ? "No" : rs.io_running) +
                    ", SQL thread " + (rs.sql_running ? "Yes" : "No");
    if (!rs.last_io_error.empty()) s += ", last IO error: " + rs.last_io_error;
    if (!rs.last_sql_error.empty()) s += ", last SQL error: " + rs.last_sql_error;
    ev.push_back(std::move(s));
  }
  return ev;
}

}  // namespace tidewatch::analyzer
