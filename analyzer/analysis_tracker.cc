#include "analyzer/analysis_tracker.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

namespace tidewatch::analyzer {

namespace {

v1::Analysis BodyOf(const ReplicationAnalysis& a, const std::string& code, const std::string& description) {
  v1::Analysis b;
  b.set_code(code);
  b.set_analyzed_instance(a.key);
  b.set_cluster(a.cluster);
  b.set_description(description);
  for (const auto& r : a.replicas) b.add_replicas(r);
  b.set_count_replicas(a.count_replicas);
  b.set_count_valid_replicas(a.count_valid_replicas);
  b.set_count_replicating_replicas(a.count_valid_replicating_replicas);
  b.set_downtimed(a.downtimed);
  return b;
}

// What an UPDATED message is for: the facts of the analysis, not its
// evidence text (which carries error messages that change by the second).
bool SameFacts(const v1::Analysis& a, const v1::Analysis& b) {
  v1::Analysis x = a, y = b;
  x.clear_evidence();
  y.clear_evidence();
  x.clear_phase();
  y.clear_phase();
  return google::protobuf::util::MessageDifferencer::Equals(x, y);
}

}  // namespace

void AnalysisTracker::Put(const Key& key, v1::Analysis b) {
  auto it = open_.find(key);
  if (it != open_.end() && it->second.cluster() != b.cluster()) {
    auto c = by_cluster_.find(it->second.cluster());
    if (c != by_cluster_.end() && c->second.erase(key) != 0 && c->second.empty()) by_cluster_.erase(c);
  }
  by_cluster_[b.cluster()].insert(key);
  open_.insert_or_assign(key, std::move(b));
}

std::map<AnalysisTracker::Key, v1::Analysis>::iterator AnalysisTracker::Erase(
    std::map<Key, v1::Analysis>::iterator it) {
  auto c = by_cluster_.find(it->second.cluster());
  if (c != by_cluster_.end() && c->second.erase(it->first) != 0 && c->second.empty()) by_cluster_.erase(c);
  return open_.erase(it);
}

void AnalysisTracker::Update(const std::vector<ReplicationAnalysis>& current, const ChangeScope& scope,
                             const EvidenceFn& evidence, std::vector<v1::Analysis>* out) {
  std::map<Key, v1::Analysis> now;
  for (const auto& a : current) {
    if (a.code != "NoProblem") {
      v1::Analysis b = BodyOf(a, a.code, a.description);
      b.set_is_actionable(a.actionable);
      for (const auto& w : a.structure_warnings) b.add_structure_warnings(w);
      now[{a.key, a.code}] = std::move(b);
    }
    for (const auto& w : a.structure_warnings) {
      v1::Analysis b = BodyOf(a, w, "Structure warning: a future promotion in this cluster is at risk");
      now[{a.key, w}] = std::move(b);
    }
  }
  for (auto& [key, b] : now) {
    auto it = open_.find(key);
    if (it == open_.end()) {
      for (auto& e : evidence(key.first)) b.add_evidence(e);
      b.set_phase(v1::Analysis::OPENED);
      out->push_back(b);
      Put(key, b);
    } else if (!SameFacts(it->second, b)) {
      for (auto& e : evidence(key.first)) b.add_evidence(e);
      b.set_phase(v1::Analysis::UPDATED);
      out->push_back(b);
      Put(key, b);
    }
  }
  // The open analyses of the clusters the pass covered, that it lacks.
  std::vector<Key> lacking;
  auto consider = [&](const std::set<Key>& keys) {
    for (const Key& k : keys) {
      if (now.count(k) == 0) lacking.push_back(k);
    }
  };
  if (scope.all) {
    for (const auto& [cluster, keys] : by_cluster_) consider(keys);
  } else {
    for (const auto& cluster : scope.clusters) {
      if (auto c = by_cluster_.find(cluster); c != by_cluster_.end()) consider(c->second);
    }
  }
  std::sort(lacking.begin(), lacking.end());  // published in key order, as open_ holds them
  for (const Key& k : lacking) {
    auto it = open_.find(k);
    v1::Analysis b = it->second;
    b.clear_evidence();
    for (auto& e : evidence(k.first)) b.add_evidence(e);
    b.set_phase(v1::Analysis::CLOSED);
    out->push_back(std::move(b));
    Erase(it);
  }
}

std::vector<v1::Analysis> AnalysisTracker::Open() const {
  std::vector<v1::Analysis> out;
  out.reserve(open_.size());
  for (const auto& [k, b] : open_) out.push_back(b);
  return out;
}

void AnalysisTracker::Adopt(const v1::Analysis& a) {
  v1::Analysis b = a;
  b.set_phase(v1::Analysis::OPENED);
  const Key key{b.analyzed_instance(), b.code()};
  Put(key, std::move(b));
}

void AnalysisTracker::Drop(const std::string& instance) {
  for (auto it = open_.lower_bound(Key{instance, ""}); it != open_.end() && it->first.first == instance;) {
    it = Erase(it);
  }
}

}  // namespace tidewatch::analyzer
