// MasterTakeover: a planned change of master while the master is alive —
// orchestrator's graceful-master-takeover — done so that no transaction is
// lost and nothing needs Pseudo-GTID or GTID:
//
//  1. the master is made read-only (SET GLOBAL read_only = 1 waits for
//     transactions that are committing); its binlog coordinates then are the
//     takeover point T;
//  2. the designated replica and its siblings (every other direct replica)
//     apply up to T (MASTER_POS_WAIT / SOURCE_POS_WAIT, in parallel); the
//     master is read again and must still be at T — a write after read_only
//     (a user with SUPER, or read_only lifted by someone) undoes the takeover;
//  3. the designated replica stops at T, is reset (RESET SLAVE ALL) and made
//     writable; its own binlog coordinates S then hold everything up to T
//     (log_slave_updates) and nothing after;
//  4. each sibling that reached T is pointed at the new master at S, by file
//     and position (or, when it replicates by GTID, by GTID);
//  5. the old master is pointed at the new master at S (credentials from
//     ReplicationCredentialsQuery) and, unless told not to, started. It stays
//     read-only.
//
// Until step 3 every failure is rolled back: the master's read_only as it
// was, replication running as it was. A sibling that cannot reach T in time
// stays below the old master, which ends below the new one: nothing is lost.
//
// Blocking; each instance is reached on connections of its own.
#pragma once

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "base/status.h"
#include "pgtid/coordinates.h"
#include "pgtid/executor.h"

namespace tidewatch::pgtid {

struct TakeoverRequest {
  std::string master;                // host:port, alive and writable
  std::string designated;            // host:port, a direct replica of master
  std::vector<std::string> siblings; // the master's other direct replicas
  std::string replication_user, replication_password;  // for the old master; empty: not set
  bool start_old_master = true;      // START SLAVE on the demoted master
  bool make_writable = true;         // read_only = 0 on the new master
  std::chrono::milliseconds catch_up_timeout{10000};
};

struct TakeoverStep {
  std::string instance, step;  // e.g. "read-only", "catch-up", "promote", "repoint", "demote"
  bool ok = false;
  std::string detail;
  std::vector<std::string> statements;  // passwords replaced by '********'
  double millis = 0;
};

struct TakeoverResult {
  BinlogCoordinates takeover_point;  // T, on the old master
  BinlogCoordinates successor_at;    // S, on the new master
  std::deque<TakeoverStep> steps;  // a deque: a step stays where it is while later ones are added
  std::vector<std::string> moved;     // siblings now below the new master
  std::vector<std::string> left;      // siblings left below the old master (which replicates from the new)
  bool promoted = false;              // the point of no return was passed
  bool rolled_back = false;
  std::string refused;                // why the takeover did not happen (or what went wrong after promotion)
};

// The most suitable replica to take over from `master` among `replicas`:
// running replication, log_bin and log_slave_updates, same flavour, the
// furthest executed position; `excluded` names instances never chosen (e.g.
// a `must_not` promotion rule). "" with `why` set when none qualifies.
std::string ChooseTakeoverCandidate(const ExecutorOptions& options, const std::string& master,
                                    const std::vector<std::string>& replicas,
                                    const std::vector<std::string>& excluded, std::string* why);

// Runs the takeover. OK with out->refused empty when it completed; OK with
// out->refused set when it was refused or rolled back (or failed after the
// promotion: then out->promoted is true); an error for a bad request.
Status TakeOverMaster(const ExecutorOptions& options, const TakeoverRequest& request, TakeoverResult* out);

}  // namespace tidewatch::pgtid
