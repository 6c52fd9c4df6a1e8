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

  // Another tracker's open analysis (a monitor taking over a cluster from a
  // daemon that published it) is open here too, as if this tracker had
  // opened it: the next pass updates or closes it, and opens it again never.
  void Adopt(const v1::Analysis& a);
  // The open analyses of `instance` are forgotten, nothing published (a
  // cluster handed to another monitor, whose tracker adopts them).
  void Drop(const std::string& instance);

 private:
  using Key = std::pair<std::string, std::string>;  // instance, code
  std::map<Key, v1::Analysis> open_;
};

}  // namespace tidewatch::analyzer
