#include "server/fleet_group.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/host_port.h"

namespace tidewatch::server {

namespace {

// A seed's chain of masters is walked at most this far up.
constexpr int kMaxChain = 16;

}  // namespace

Status FleetGroup::Open(FleetGroupOptions options, analyzer::Monitor* monitor, sinks::Publisher* publisher,
                        std::unique_ptr<FleetGroup>* out) {
  if (options.brokers.empty()) return Status::InvalidArgument("MonitorGroup needs KafkaBrokers");
  if (options.group.empty()) return Status::InvalidArgument("MonitorGroup: no group name");
  std::unique_ptr<FleetGroup> g(new FleetGroup(std::move(options), monitor, publisher));
  const FleetGroupOptions& o = g->options_;
  const std::string clusters = o.topic_prefix + ".clusters";
  sinks::KafkaConsumerOptions member;
  member.brokers = o.brokers;
  member.topics = {clusters};
  member.group = o.group;
  member.properties = o.properties;
  // The topic is created by the Kafka sink; until it exists, the
  // subscription looks for it every second rather than every five minutes.
  member.properties.emplace("topic.metadata.refresh.interval.ms", "1000");
  member.session_timeout = o.session_timeout;
  member.cooperative = true;
  // Records are read by the directory reader; the member's offsets are
  // never committed, so that a partition given again is read whole.
  member.commit = false;
  member.from_beginning = true;
  FleetGroup* self = g.get();
  member.on_assigned = [self](const std::vector<std::pair<std::string, int32_t>>& parts) {
    std::set<int32_t> elsewhere;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      for (const auto& [topic, partition] : parts) {
        self->assigned_.insert(partition);
        self->lost_.erase(partition);
      }
      // Back in the group: what it lost and was not given again is another's now.
      elsewhere.swap(self->lost_);
    }
    if (!elsewhere.empty()) self->ReleasePartitions(elsewhere);
  };
  member.on_revoked = [self](const std::vector<std::pair<std::string, int32_t>>& parts, bool lost) {
    std::set<int32_t> gone;
    for (const auto& [topic, partition] : parts) gone.insert(partition);
    if (!lost) return self->ReleasePartitions(gone);
    // Out of touch with the group (Kafka cannot be reached): its clusters
    // stay watched — a monitor does not go blind because its broker did —
    // but are not recovered (Owns) until the group confirms them again.
    spdlog::warn("monitor group: the group cannot be reached; its {} partition(s) are kept watched, not recovered",
                 gone.size());
    std::lock_guard<std::mutex> lock(self->mu_);
    for (int32_t p : gone) {
      self->assigned_.erase(p);
      self->lost_.insert(p);
    }
  };
  Status s = sinks::KafkaEnvelopeConsumer::Open(member, &g->member_);
  if (!s.ok()) return s;
  sinks::KafkaConsumerOptions reader;
  reader.brokers = o.brokers;
  reader.properties = o.properties;
  reader.topics = {clusters};
  s = sinks::KafkaEnvelopeConsumer::Open(reader, &g->directory_reader_);
  if (!s.ok()) return s;
  reader.topics = {o.topic_prefix + ".analysis"};
  s = sinks::KafkaEnvelopeConsumer::Open(reader, &g->analysis_reader_);
  if (!s.ok()) return s;
  *out = std::move(g);
  return Status::OK();
}

FleetGroup::~FleetGroup() { Stop(); }

void FleetGroup::Start() {
  thread_ = std::thread([this] { Run(); });
}

void FleetGroup::Stop() {
  if (stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
}

void FleetGroup::Run() {
  // The directory first, so that seeds already claimed are not probed.
  ReadDirectory();
  ReadAnalyses();
  for (const auto& seed : options_.seeds) {
    if (stop_) break;
    bool claimed = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      claimed = ClaimOf(seed) != nullptr || records_.count(seed) != 0;
    }
    if (!claimed) (void)Discover(seed);
  }
  auto last_read = std::chrono::steady_clock::now() - std::chrono::hours(1);
  auto last_refresh = last_read;
  sinks::ConsumedMessage m;
  while (!stop_) {
    // Rebalances are served here; the records themselves come from the
    // directory reader.
    while (!stop_ && member_->Poll(std::chrono::milliseconds(100), &m)) {
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_read >= std::chrono::milliseconds(250)) {
      last_read = now;
      ReadDirectory();
      AdoptAssigned();
    }
    if (now - last_refresh >= options_.record_refresh) {
      last_refresh = now;
      RefreshOwned();
    }
  }
  // Leaving: the partitions go to the others, released here first.
  member_->Close();
  std::set<int32_t> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all = assigned_;
    all.insert(lost_.begin(), lost_.end());
  }
  ReleasePartitions(all);
}

void FleetGroup::ReadDirectory() {
  Status s = directory_reader_->ReadToEnd(std::chrono::seconds(5), [this](const sinks::ConsumedMessage& m) {
    if (!m.problem.empty()) {
      spdlog::warn("monitor group: {} [{}] offset {}: {}", m.topic, m.partition, m.offset, m.problem);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto it = records_.find(m.key);
    if (it != records_.end()) {
      for (const auto& k : it->second.record.seeds()) {
        if (auto c = claims_.find(k); c != claims_.end() && c->second == m.key) claims_.erase(c);
      }
    }
    if (!m.envelope.has_cluster_record()) {  // a tombstone
      if (it != records_.end()) records_.erase(it);
      return;
    }
    Entry& e = records_[m.key];
    e.record = m.envelope.cluster_record();
    e.partition = m.partition;
    if (e.record.merged_into().empty()) {
      // Of two records that claim a server, the smaller key's claim stands.
      for (const auto& k : e.record.seeds()) {
        auto [c, added] = claims_.try_emplace(k, m.key);
        if (!added && m.key < c->second) c->second = m.key;
      }
    }
  });
  if (!s.ok()) spdlog::warn("monitor group: reading {}.clusters: {}", options_.topic_prefix, s.message());
}

void FleetGroup::ReadAnalyses() {
  Status s = analysis_reader_->ReadToEnd(std::chrono::seconds(5), [this](const sinks::ConsumedMessage& m) {
    if (!m.problem.empty() || !m.envelope.has_analysis()) return;
    const v1::Analysis& a = m.envelope.analysis();
    const auto key = std::make_pair(a.analyzed_instance(), a.code());
    if (a.phase() == v1::Analysis::CLOSED) {
      open_analyses_.erase(key);
    } else {
      open_analyses_[key] = a;
    }
  });
  if (!s.ok()) spdlog::warn("monitor group: reading {}.analysis: {}", options_.topic_prefix, s.message());
}

const FleetGroup::Entry* FleetGroup::ClaimOf(const std::string& key) const {
  auto c = claims_.find(key);
  if (c == claims_.end()) return nullptr;
  auto r = records_.find(c->second);
  return r == records_.end() ? nullptr : &r->second;
}

void FleetGroup::AdoptAssigned() {
  // What to adopt: records of given partitions not adopted yet, and seeds
  // added to adopted ones.
  std::vector<std::pair<std::string, std::vector<std::string>>> todo;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, e] : records_) {
      if (!e.record.merged_into().empty() || assigned_.count(e.partition) == 0) continue;
      if (auto w = written_.find(key); w != written_.end() && !w->second.merged_into().empty()) continue;
      const auto have = adopted_.find(key);
      std::vector<std::string> fresh;
      for (const auto& k : e.record.seeds()) {
        // A server claimed by another record belongs to that one.
        auto c = claims_.find(k);
        if (c != claims_.end() && c->second == key && (have == adopted_.end() || have->second.count(k) == 0)) {
          fresh.push_back(k);
        }
      }
      if (!fresh.empty()) todo.emplace_back(key, std::move(fresh));
    }
  }
  if (todo.empty()) return;
  ReadAnalyses();
  for (auto& [key, fresh] : todo) {
    const bool first = adopted_.count(key) == 0;
    auto& have = adopted_[key];
    std::vector<v1::Analysis> open;
    if (first) {
      for (const auto& [k, a] : open_analyses_) {
        if (std::find(fresh.begin(), fresh.end(), k.first) != fresh.end()) open.push_back(a);
      }
    }
    monitor_->Adopt(fresh, open);
    have.insert(fresh.begin(), fresh.end());
    if (first) {
      std::string from;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.adopted;
        stats_.owned = adopted_.size();
        from = records_.at(key).record.owner();
      }
      spdlog::info("monitor group: cluster {} is monitored here now ({} server(s), {} open analysis(es){})", key,
                   fresh.size(), open.size(), from.empty() || from == options_.producer_id ? "" : ", from " + from);
      if (on_adopted_ && !open.empty()) on_adopted_(open);
    }
  }
  RefreshOwned();
}

void FleetGroup::ReleasePartitions(const std::set<int32_t>& partitions) {
  std::vector<std::string> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int32_t p : partitions) {
      assigned_.erase(p);
      lost_.erase(p);
    }
    for (const auto& [key, servers] : adopted_) {
      auto r = records_.find(key);
      if (r != records_.end() && partitions.count(r->second.partition) != 0) gone.push_back(key);
    }
  }
  for (const auto& key : gone) {
    std::string name;
    std::set<std::string> servers = MembersOf(key, &name);
    servers.insert(adopted_[key].begin(), adopted_[key].end());
    monitor_->Release({servers.begin(), servers.end()});
    adopted_.erase(key);
    written_.erase(key);
    spdlog::info("monitor group: cluster {} is handed over ({} server(s))", key, servers.size());
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.released;
    stats_.owned = adopted_.size();
  }
}

std::set<std::string> FleetGroup::MembersOf(const std::string& record_key, std::string* name,
                                            std::string* alias) const {
  auto a = adopted_.find(record_key);
  if (a == adopted_.end()) return {};
  std::set<std::string> out;
  std::map<std::string, size_t> clusters;
  std::map<std::string, std::string> aliases;  // the alias each cluster's master answers
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    for (const auto& k : a->second) {
      const analyzer::InstanceRecord* r = t.Find(k);
      if (r != nullptr && !r->cluster.empty()) clusters.emplace(r->cluster, 0);
    }
    for (auto& [c, n] : clusters) {
      auto members = t.MembersOf(c);
      n = members.size();
      out.insert(members.begin(), members.end());
      if (const analyzer::InstanceRecord* m = t.Find(c); m != nullptr && m->probed) aliases[c] = m->probe.cluster_alias;
    }
  });
  size_t best = 0;
  for (const auto& [c, n] : clusters) {
    if (n > best) best = n, *name = c;
  }
  if (alias != nullptr && best > 0) alias->assign(aliases[*name]);
  if (out.empty()) out = a->second;
  return out;
}

void FleetGroup::RefreshOwned() {
  std::vector<std::pair<std::string, v1::ClusterRecord>> writes;
  std::vector<std::string> retired;
  for (auto& [key, servers] : adopted_) {
    std::string name, alias;
    std::set<std::string> members = MembersOf(key, &name, &alias);
    servers.insert(members.begin(), members.end());
    std::lock_guard<std::mutex> lock(mu_);
    auto it = records_.find(key);
    if (it == records_.end()) continue;
    const v1::ClusterRecord& now = it->second.record;
    // Covered by a record with a smaller key: this one retires into it.
    std::string into;
    for (const auto& k : members) {
      if (auto c = claims_.find(k); c != claims_.end() && records_.count(c->second) != 0) {
        if (c->second < key && (into.empty() || c->second < into)) into = c->second;
      }
    }
    v1::ClusterRecord r;
    r.set_name(name.empty() ? now.name() : name);
    for (const auto& k : members) r.add_seeds(k);
    r.set_owner(options_.producer_id);
    r.set_owner_api(options_.api_address);
    r.set_merged_into(into);
    r.set_alias(name.empty() ? now.alias() : alias);
    // Compared with what this daemon wrote last (it may not be back from
    // the broker yet), else with the record as it is.
    auto last = written_.find(key);
    if (r.SerializeAsString() != (last != written_.end() ? last->second : now).SerializeAsString()) {
      writes.emplace_back(key, r);
    }
    if (!into.empty()) retired.push_back(key);
  }
  for (const auto& [key, r] : writes) {
    if (Write(key, r)) written_[key] = r;
  }
  for (const auto& key : retired) {
    std::set<std::string> servers = adopted_[key];
    spdlog::info("monitor group: record {} is retired into {}", key, written_[key].merged_into());
    monitor_->Release({servers.begin(), servers.end()});
    adopted_.erase(key);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.owned = adopted_.size();
  }
}

bool FleetGroup::Write(const std::string& key, const v1::ClusterRecord& r) {
  v1::Envelope e;
  e.mutable_source()->set_cluster(key);
  if (!r.seeds().empty()) e.mutable_source()->set_server(r.seeds(0));
  *e.mutable_cluster_record() = r;
  Status s = publisher_->Publish(std::move(e));
  if (!s.ok()) {
    spdlog::warn("monitor group: writing the record of {}: {}", key, s.message());
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.written;
  return true;
}

bool FleetGroup::Follows(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = ClaimOf(key);
  return e == nullptr || assigned_.count(e->partition) != 0 || lost_.count(e->partition) != 0;
}

bool FleetGroup::Owns(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = ClaimOf(key);
  if (e == nullptr) return lost_.empty();
  return assigned_.count(e->partition) != 0;
}

analyzer::ProbeResult FleetGroup::Discover(const std::string& key) {
  std::string record_key;
  bool mine = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (const Entry* e = ClaimOf(key)) {
      record_key = claims_.at(key);
      mine = assigned_.count(e->partition) != 0;
    }
  }
  if (mine) return monitor_->Discover(key);
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(key, &host, &port)) {
    host = key;
    port = options_.probe.default_port;
  }
  analyzer::ProbeResult first = analyzer::ProbeInstance(options_.probe, host, port);
  if (!record_key.empty()) return first;  // its owner follows it
  // Up the chain of masters to the top, or to a server a record claims.
  std::string top = first.key;
  std::set<std::string> seen{top};
  std::string master = analyzer::MasterKeyOf(first);
  for (int hop = 0; hop < kMaxChain && !master.empty() && seen.insert(master).second; ++hop) {
    top = master;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (ClaimOf(top) != nullptr) {
        record_key = claims_.at(top);
        break;
      }
    }
    std::string h;
    uint16_t p = 0;
    if (!SplitHostPort(top, &h, &p)) break;
    // A master that does not answer still names the cluster.
    master = analyzer::MasterKeyOf(analyzer::ProbeInstance(options_.probe, h, p));
  }
  v1::ClusterRecord r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!record_key.empty()) {
      // Its cluster's record takes the seed in; the owner follows it from there.
      r = records_.at(record_key).record;
    } else {
      record_key = top;
      r.set_name(top);
      r.add_seeds(top);
    }
  }
  if (std::find(r.seeds().begin(), r.seeds().end(), first.key) == r.seeds().end()) r.add_seeds(first.key);
  spdlog::info("monitor group: seed {} is written to the record of {}", first.key, record_key);
  (void)Write(record_key, r);
  return first;
}

std::string FleetGroup::OwnerApi(const std::string& instance_or_cluster) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = ClaimOf(instance_or_cluster);
  if (e == nullptr) {
    if (auto r = records_.find(instance_or_cluster); r != records_.end()) e = &r->second;
  }
  if (e == nullptr) {
    for (const auto& [k, r] : records_) {
      if ((r.record.name() == instance_or_cluster || r.record.alias() == instance_or_cluster) &&
          r.record.merged_into().empty()) {
        e = &r;
      }
    }
  }
  if (e == nullptr || assigned_.count(e->partition) != 0 || lost_.count(e->partition) != 0 ||
      e->record.owner() == options_.producer_id) {
    return {};
  }
  return e->record.owner_api();
}

std::vector<FleetRecordView> FleetGroup::Records() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FleetRecordView> out;
  for (const auto& [k, e] : records_) {
    FleetRecordView v;
    v.key = k;
    v.name = e.record.name();
    v.alias = e.record.alias();
    v.owner = e.record.owner();
    v.owner_api = e.record.owner_api();
    v.merged_into = e.record.merged_into();
    v.seeds.assign(e.record.seeds().begin(), e.record.seeds().end());
    v.partition = e.partition;
    v.mine = assigned_.count(e.partition) != 0;
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<std::string> FleetGroup::OtherOwners() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> out;
  for (const auto& [k, e] : records_) {
    if (assigned_.count(e.partition) != 0 || lost_.count(e.partition) != 0 || !e.record.merged_into().empty()) continue;
    if (e.record.owner() == options_.producer_id || e.record.owner_api().empty()) continue;
    if (e.record.owner_api() != options_.api_address) out.insert(e.record.owner_api());
  }
  return {out.begin(), out.end()};
}

FleetGroupStats FleetGroup::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  FleetGroupStats st = stats_;
  st.records = records_.size();
  st.partitions = assigned_.size();
  return st;
}

}  // namespace tidewatch::server
