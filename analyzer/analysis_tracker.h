// AnalysisTracker: turns successive analysis passes into the lifecycle of
// each analysis, as published messages — OPENED when an (instance, code)
// first appears, UPDATED when what it says changes (replicas and their
// counts, actionability, downtime, structure warnings), CLOSED when a pass no
// longer finds it. Structure warnings are tracked the same way, each under its
// own code ("ErrantGTIDStructureWarning", …), so a warning opens and closes
// on its own. Every message carries the evidence that led to it.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/replication_analysis.h"
#include "analyzer/topology.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::analyzer {

class AnalysisTracker {
 public:
  using EvidenceFn = std::function<std::vector<std::string>(const std::string& key)>;

  // One pass over the clusters `scope` covers: `current` is AnalyzeTopology's
  // result for them. Open analyses of those clusters that `current` lacks
  // close. `out` receives the analysis bodies that opened, changed or closed
  // (the caller wraps them in envelopes about their instance).
  void Update(const std::vector<ReplicationAnalysis>& current, const ChangeScope& scope, const EvidenceFn& evidence,
              std::vector<v1::Analysis>* out);

  // The analyses open now.
  std::vector<v1::Analysis> Open() const;
  size_t OpenCount() const { return open_.size(); }

  // Another tracker's open analysis (a monitor taking over a cluster from a
  // daemon that published it) is open here too, as if this tracker had
  // opened it: the next pass updates or closes it, and opens it again never.
  void Adopt(const v1::Analysis& a);
  // The open analyses of `instance` are forgotten, nothing published (a
  // cluster handed to another monitor, whose tracker adopts them).
  void Drop(const std::string& instance);

 private:
  using Key = std::pair<std::string, std::string>;  // instance, code
  void Put(const Key& key, v1::Analysis b);
  std::map<Key, v1::Analysis>::iterator Erase(std::map<Key, v1::Analysis>::iterator it);

  std::map<Key, v1::Analysis> open_;
  // open_'s keys by the cluster their analysis names: a pass over some
  // clusters closes what it lacks among theirs, not among every open one (a
  // fleet whose streams all break at once makes a pass per server).
  std::map<std::string, std::set<Key>> by_cluster_;
};

}  // namespace tidewatch::analyzer
