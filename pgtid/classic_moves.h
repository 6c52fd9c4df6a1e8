// ClassicMoves: orchestrator's refactoring by binlog file and position
// (go/inst/instance_topology.go: MoveUp, MoveUpReplicas, MoveBelow, Repoint,
// TakeMaster, MakeCoMaster), needing neither GTID nor Pseudo-GTID. It works
// because of one fact: a replica stopped at its master's own binlog
// coordinates (SHOW MASTER STATUS of a stopped master) has executed exactly
// what its master executed up to the master's executed coordinates on *its*
// master. So the servers involved are stopped, the one behind is run up to
// the other (START SLAVE UNTIL), and the coordinates of the one are the
// coordinates of the other.
//
// Every move: the checks first (orchestrator's CanReplicateFrom, maintenance,
// the geometry each move needs) and nothing changed when one fails; the
// servers whose replication was stopped for the move are started again
// whatever happens; after the change, a post-check that the moved server
// replicates from its new master; a failed change is undone (the moved server
// back on its previous master at its position then). A replica that
// replicates by GTID keeps doing so (MASTER_USE_GTID / auto-position), and
// the move is reported as "gtid"; otherwise "file:pos".
//
// Blocking; each call opens its own connections. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "pgtid/executor.h"
#include "pgtid/replication_steps.h"

namespace tidewatch::pgtid {

class ClassicMoves {
 public:
  explicit ClassicMoves(ExecutorOptions options) : options_(std::move(options)) {}

  // The replica becomes a sibling of its master: below its master's master,
  // at the master's executed coordinates, after catching up with the
  // master's own coordinates (the master's replication stopped meanwhile).
  Status MoveUp(const std::string& instance, Move* out);
  // `replicas` (those of `instance`: Executor::ReplicasOf) up beside it, the
  // same way; `instance` is stopped once for all of them. One Move each.
  Status MoveUpReplicas(const std::string& instance, const std::vector<std::string>& replicas,
                        std::vector<Move>* out);
  // The replica below its sibling (both replicate from one master): both
  // stopped, the one behind run up to the other, then the replica pointed at
  // the sibling's own coordinates.
  Status MoveBelow(const std::string& instance, const std::string& sibling, Move* out);
  // The replica pointed at `master` ("": its own master, e.g. after a relay
  // log corruption or a change of host name) at its own executed coordinates.
  // Another server is trusted to have the same binlog at those coordinates
  // (orchestrator: "use with care"); refused when its binlog is not that far.
  Status Repoint(const std::string& instance, const std::string& master, Move* out);
  // `replicas` (those of `instance`) repointed to `instance` itself.
  Status RepointReplicas(const std::string& instance, const std::vector<std::string>& replicas,
                         std::vector<Move>* out);
  // The replica and its master swap places: the replica catches up with its
  // master, goes below its grandparent at the master's executed coordinates,
  // and the master goes below the replica at the replica's own coordinates.
  // The master must itself be a replica (for a cluster's master:
  // graceful-master-takeover). out[0] is the replica's move, out[1] the
  // master's.
  Status TakeMaster(const std::string& instance, std::vector<Move>* out);
  // The replica's master — a master, replicating from no one — also
  // replicates from the replica, at the replica's own current coordinates:
  // master-master. The replica must be read-only. `user`/`password` are the
  // master's replication credentials (ReplicationCredentialsQuery); without
  // them, refused unless the master keeps some from an earlier replication.
  Status MakeCoMaster(const std::string& instance, const std::string& user, const std::string& password, Move* out);

 private:
  // A move of `instance` begun in *out, the replica read over a session of
  // its own; *why says why not (it cannot be read, it is no replica). An
  // error only for a bad argument.
  Status OpenReplica(const std::string& instance, Move* out, ServerSession* r, std::string* why) const;
  std::string Maintenance(const std::string& name) const;

  ExecutorOptions options_;
};

}  // namespace tidewatch::pgtid
