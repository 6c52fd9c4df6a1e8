// Relocations: the one place a move request becomes moves — orchestrator's
// last-pseudo-gtid, match-below, match-up, rematch, multi-match-replicas
// (match-replicas), match-up-replicas and regroup-replicas (-gtid, -pgtid) by
// Pseudo-GTID or GTID (pgtid/executor.h); move-gtid and move-replicas-gtid;
// the file:pos moves move-up, move-up-replicas, move-below, repoint,
// repoint-replicas, take-master and make-co-master (pgtid/classic_moves.h);
// relocate, relocate-replicas and take-siblings, which choose among those
// (pgtid/relocate.h); and get-candidate-replica. The HTTP API runs it inside the
// daemon on its live indexes (analyzer/live_index_source.h); the commands run
// it on indexes they stream themselves, or ask the daemon, which answers the
// same result as JSON (RelocationJson) that RelocationFromJson turns back
// into the same typed result: one request type, one result type, one
// printer, wherever the work was done.
//
// Not thread-safe: one Relocations serves one request at a time (the daemon
// makes one per request).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "pgtid/coordinates.h"
#include "pgtid/executor.h"
#include "pgtid/index_source.h"
#include "analyzer/live_index_source.h"
#include "analyzer/monitor.h"
#include "server/config.h"

namespace tidewatch::server {

enum class RelocationCommand {
  kLastPseudoGtid,
  kMatchBelow,
  kMatchUp,
  kRematch,
  kMultiMatch,
  kRegroup,
  kRegroupGtid,
  kRegroupPseudoGtid,
  kMatchUpReplicas,
  kMoveGtid,
  kMoveReplicasGtid,
  kMoveUp,
  kMoveUpReplicas,
  kMoveBelow,
  kRepoint,
  kRepointReplicas,
  kTakeMaster,
  kMakeCoMaster,
  kRelocate,
  kRelocateReplicas,
  kTakeSiblings,
  kGetCandidateReplica,
};

// The command of a name as orchestrator's CLI and API spell it ("match-below"
// and "match", "multi-match-replicas", "match-replicas" and "match-slaves",
// "regroup-replicas" and "regroup-slaves", …); nullopt when it is none.
std::optional<RelocationCommand> RelocationCommandNamed(const std::string& name);
// The CLI's name of a command ("match-below", "multi-match-replicas", …).
const char* RelocationCommandName(RelocationCommand c);
// Whether the command needs a destination (-s / -d, :belowHost/:belowPort).
bool RelocationTakesDestination(RelocationCommand c);
// Whether it may have one (repoint: another master than its own).
bool RelocationMayTakeDestination(RelocationCommand c);
// Whether the result is one move of the instance (match-below, move-up, …),
// not a list of moves (regroup-replicas, take-master, relocate-replicas, …).
bool RelocationIsSingleMove(RelocationCommand c);

struct RelocationRequest {
  RelocationCommand command = RelocationCommand::kMatchBelow;
  std::string instance;     // host:port
  std::string destination;  // host:port, for match-below and multi-match
  // Known servers besides what the instance's master reports (DiscoverySeeds,
  // --replicas, the daemon's model): replicas of a dead master are found here.
  std::vector<std::string> known;
  // regroup: which replicas may be promoted (a failover's promotion rules).
  std::optional<pgtid::PromotionPolicy> policy;
  // make-co-master: the master's replication credentials
  // (ReplicationCredentialsQuery; ReplicationCredentialsOf).
  std::string replication_user, replication_password;
};

// The last Pseudo-GTID entry in a server's binary logs.
struct LastPseudoGtid {
  pgtid::BinlogCoordinates at;  // where the entry's event starts
  uint64_t end_pos = 0;
  std::string entry, gtid;
  uint64_t timestamp = 0;
  uint64_t entries_indexed = 0, events_indexed = 0;
};

struct RelocationResult {
  RelocationCommand command = RelocationCommand::kMatchBelow;
  std::string instance, destination;
  std::string error;                 // nothing could be tried (the moves say why each was refused)
  std::optional<LastPseudoGtid> last;
  std::vector<pgtid::Move> moves;
  std::string candidate;             // regroup: the replica promoted ("" when none could be);
                                     // get-candidate-replica: the one that would be
  std::string preferred;             // regroup with a policy: the replica to hand over to (pgtid::Regroup)
  std::vector<std::string> replicas; // regroup: every replica considered, most advanced first
  std::string source;                // "daemon" when a daemon did the work
  double millis = 0;

  // Every move was made (and, for last-pseudo-gtid, an entry was found).
  bool succeeded() const;
};

class Relocations {
 public:
  // `indexes` (not owned) must outlive this object; `pattern` too.
  Relocations(pgtid::ExecutorOptions options, const pgtid::PseudoGtidPattern* pattern, pgtid::IndexSource* indexes);

  // Fills `out`; an error only for a request that cannot be understood.
  Status Run(const RelocationRequest& request, RelocationResult* out);

 private:
  pgtid::ExecutorOptions options_;
  const pgtid::PseudoGtidPattern* pattern_;
  pgtid::IndexSource* indexes_;
};

// The indexes a request answered inside the daemon reads: the monitor's
// live ones (analyzer/live_index_source.h), and a server's binlogs for one
// the monitor does not follow (`fallback`). `monitor` and `pattern` (not
// owned) must outlive it.
struct DaemonIndexes {
  DaemonIndexes(const Config& config, analyzer::Monitor* monitor, const pgtid::PseudoGtidPattern* pattern);

  pgtid::ExecutorOptions options;  // ExecutorOptionsInDaemon
  pgtid::StreamingIndexSource fallback;
  analyzer::LiveIndexSource live;
};

// Runs `request` inside the daemon: from the monitor's live indexes
// (analyzer/live_index_source.h; a server it does not follow is streamed),
// instances in maintenance refused, every instance of the model known, and
// each moved instance probed again at once so the model has its new edge.
// The result's source is "daemon".
Status RelocateInDaemon(const Config& config, analyzer::Monitor* monitor, const pgtid::PseudoGtidPattern* pattern,
                        RelocationRequest request, RelocationResult* out);

// ReplicationCredentialsQuery run on `instance`: its first row's first two
// columns are the user and the password. OK with both empty when the query
// is not configured.
Status ReplicationCredentialsOf(const Config& config, const std::string& instance, std::string* user,
                                std::string* password);

// A move's credentials and the replication connection of its short reads
// (TidewatchServerId + 1, TLS as configured), as the config gives them.
pgtid::ExecutorOptions ExecutorOptionsOf(const Config& config);

// The same, inside the daemon: instances in maintenance are refused
// (`monitor`, not owned, must outlive the options).
pgtid::ExecutorOptions ExecutorOptionsInDaemon(const Config& config, analyzer::Monitor* monitor);

// One move as the commands' --json and the HTTP API report it: what moved
// where, at which coordinates, by which method, from which source, how it was
// verified, every statement issued, or what was refused and why.
nlohmann::json MoveJson(const pgtid::Move& m);
bool MoveFromJson(const nlohmann::json& j, pgtid::Move* out);

// The commands' --json object of a result; RelocationFromJson reads it back
// (false when `j` is not one).
nlohmann::json RelocationJson(const RelocationResult& r);
bool RelocationFromJson(const nlohmann::json& j, RelocationCommand command, RelocationResult* out);

// What a person reads: one line per move (and its entry, its verification),
// or the entry found.
void PrintRelocation(std::ostream& out, const RelocationResult& r);

}  // namespace tidewatch::server
