// Relocator: orchestrator's "smart" relocation — relocate, relocate-replicas
// and take-siblings — choosing how to move as orchestrator does
// (go/inst/instance_topology.go, relocateBelowInternal): a replica already
// below the destination is repointed; with GTID on both sides it moves by
// GTID; with Pseudo-GTID entries in the destination's index, by Pseudo-GTID
// (only the moved replica stops); otherwise by file and position where the
// geometry allows it (below a sibling: move-below; to the grandparent:
// move-up); anything else is refused as too complex. The method used is the
// move's `method`.
//
// Blocking. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "pgtid/classic_moves.h"
#include "pgtid/executor.h"
#include "pgtid/index_source.h"

namespace tidewatch::pgtid {

class Relocator {
 public:
  // None owned; all must outlive the Relocator. `options` gives the
  // credentials the servers are read with.
  Relocator(const ExecutorOptions& options, Executor* matcher, ClassicMoves* classic, IndexSource* indexes)
      : options_(options), matcher_(matcher), classic_(classic), indexes_(indexes) {}

  Status Relocate(const std::string& instance, const std::string& destination, Move* out);
  // The replicas of `instance` (found as Executor::ReplicasOf finds them,
  // among `known`) below `destination`.
  Status RelocateReplicas(const std::string& instance, const std::string& destination,
                          const std::vector<std::string>& known, std::vector<Move>* out);
  // Every sibling of `instance` relocated below it.
  Status TakeSiblings(const std::string& instance, const std::vector<std::string>& known, std::vector<Move>* out);

 private:
  // The destination's binary logs carry Pseudo-GTID entries.
  bool HasPseudoGtid(const std::string& destination);

  const ExecutorOptions& options_;
  Executor* matcher_;
  ClassicMoves* classic_;
  IndexSource* indexes_;
};

}  // namespace tidewatch::pgtid
