#include "analyzer/analysis_tracker.h"

#include <google/protobuf/util/message_differencer.h>

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
      open_.emplace(key, b);
    } else if (!SameFacts(it->second, b)) {
      for (auto& e : evidence(key.first)) b.add_evidence(e);
      b.set_phase(v1::Analysis::UPDATED);
      out->push_back(b);
      it->second = b;
    }
  }
  for (auto it = open_.begin(); it != open_.end();) {
    if (now.count(it->first) != 0 || !scope.Covers(it->second.cluster())) {
      ++it;
      continue;
    }
    v1::Analysis b = it->second;
    b.clear_evidence();
    for (auto& e : evidence(it->first.first)) b.add_evidence(e);
    b.set_phase(v1::Analysis::CLOSED);
    out->push_back(std::move(b));
    it = open_.erase(it);
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
  open_.insert_or_assign(Key{b.analyzed_instance(), b.code()}, std::move(b));
}

void AnalysisTracker::Drop(const std::string& instance) {
  for (auto it = open_.lower_bound(Key{instance, ""}); it != open_.end() && it->first.first == instance;) {
    it = open_.erase(it);
  }
}

}  // namespace tidewatch::analyzer
