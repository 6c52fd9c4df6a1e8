// Executor: moves replicas, as orchestrator's match-below, match-up, rematch,
// multi-match-replicas and regroup-replicas do, but placing them from the
// index (matcher.h) instead of scanning binary logs.
//
// Every move: pre-checks that change nothing (the destination logs binary
// logs and, if it is a replica itself, the updates it replicates; versions;
// binlog formats; replication filters; server ids; maintenance) → replication
// on the instance stopped nicely (IO thread first, the relay log applied) →
// the destination coordinates computed (GTID or Pseudo-GTID, saying which) →
// CHANGE MASTER TO → START SLAVE → a post-check that the instance replicates
// from the destination; on any failure after the change, the instance is put
// back on its previous master at its previous coordinates.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "binlog/replica_stream.h"
#include "pgtid/index_source.h"
#include "pgtid/instance.h"
#include "pgtid/matcher.h"

namespace tidewatch::pgtid {

enum class MatchMethod { kAuto, kGtid, kPseudoGtid };

struct ExecutorOptions {
  std::string user, password;            // MySQLTopologyUser / MySQLTopologyPassword
  binlog::ReplicaStreamOptions stream;   // for reading binlogs (credentials, TLS, server_id)
  MatchMethod method = MatchMethod::kAuto;
  RelayLogRoute relay_log = RelayLogRoute::kAuto;  // where a replica's relay log is read
  IndexOptions relay_index;                         // bounds of an index built from relay log files
  std::chrono::milliseconds stop_timeout{10000};   // relay log to be applied
  std::chrono::milliseconds start_timeout{10000};  // replication to run after the change
  // Returns a reason when host:port is under maintenance or downtimed.
  std::function<std::string(const std::string&)> maintenance;
};

struct Move {
  std::string instance, from_master, destination;
  std::string method;                // "gtid" or "pseudo-gtid"
  BinlogCoordinates previous;        // executed coordinates on the previous master
  std::string previous_gtid;         // the instance's GTID position before the move
  BinlogCoordinates coordinates;     // on the destination (Pseudo-GTID)
  std::string route;                 // where the instance's position was found
  std::string entry;                 // the Pseudo-GTID entry matched
  uint64_t k = 0, compared = 0;
  std::string verified;              // how the match was checked
  bool moved = false, rolled_back = false;
  std::string refused;               // why nothing was changed, or why it was rolled back
  std::vector<std::string> statements;
  double millis = 0;
};

// Which replicas a failover may promote: orchestrator's promotion rules
// (DetectPromotionRuleQuery, register-candidate) and exclusions
// (PromotionIgnoreHostnameFilters, PreventCrossDataCenterMasterFailover).
struct PromotionPolicy {
  // host:port → "must", "prefer", "neutral" (the default), "prefer_not", "must_not".
  std::map<std::string, std::string> rules;
  // host:port → why it is never promoted.
  std::map<std::string, std::string> excluded;

  // 0 (must) … 3 (prefer_not); 4: never (must_not or excluded).
  int Rank(const std::string& instance) const;
};

struct Regroup {
  std::string master;
  std::string candidate;
  // When the replica the policy prefers is behind the candidate (the most
  // advanced replica that can serve the others): that preferred replica. The
  // others are regrouped below the candidate first, which then hands over to
  // it (orchestrator's two-phase promotion): no transaction is lost.
  std::string preferred;
  std::vector<Move> moves;
  std::vector<std::string> replicas;  // all replicas considered, most advanced first
};

// Not thread-safe: one move at a time per Executor (the daemon makes one per
// request). Each move opens its own connections and closes them.
class Executor {
 public:
  // `pattern` and `indexes` are not owned and must outlive the Executor;
  // `indexes` is asked for the indexes a move needs (and keeps them).
  Executor(ExecutorOptions options, const PseudoGtidPattern* pattern, IndexSource* indexes);

  // Each returns OK with out->refused set when the move was refused or rolled
  // back; an error only when nothing could be tried (bad arguments).
  Status MatchBelow(const std::string& instance, const std::string& destination, Move* out);
  // Several instances below one destination: each stopped and located, then
  // one read of the destination's binlog places them all (multi-match).
  Status MatchManyBelow(const std::vector<std::string>& instances, const std::string& destination,
                        std::vector<Move>* out);
  // Below the master's master. When the master is unreachable, the known
  // server that wrote the instance's last transactions (MariaDB GTIDs carry
  // its server_id).
  Status MatchUp(const std::string& instance, const std::vector<std::string>& known, Move* out);
  Status Rematch(const std::string& instance, Move* out);
  // Every replica of `master` (other than `destination`) below `destination`.
  Status MultiMatch(const std::string& master, const std::string& destination,
                    const std::vector<std::string>& known_replicas, std::vector<Move>* out);
  // The replicas of `master`: the most advanced one that can serve the others
  // becomes their master. With a `policy`, out->preferred names the replica
  // it prefers when that one is behind (see Regroup); a policy that allows
  // none is refused before anything moves.
  Status RegroupReplicas(const std::string& master, const std::vector<std::string>& known_replicas,
                         Regroup* out, const PromotionPolicy* policy = nullptr);

  // The replicas of `master`: from its SHOW SLAVE HOSTS when it answers, and
  // those of `known` that replicate from it.
  Status ReplicasOf(const std::string& master, const std::vector<std::string>& known,
                    std::vector<std::string>* out);

 private:
  struct Plan;
  bool Prepare(const std::string& instance, const std::string& destination, const Instance& t, Plan* p);
  bool CheckGtid(Plan* p, const Instance& t);
  bool Locate(Plan* p);
  bool Accept(Plan* p, const DestinationPoint& dp, const Status& result);
  void Apply(Plan* p);
  void Refuse(Plan* p, std::string why, bool restart_replication);
  Status ReadDestination(const std::string& destination, Instance* t, std::string* why);
  // *out begun afresh as a move of `instance`, and *r the instance as read
  // over a connection of its own (closed on return). False, with
  // out->refused saying why, when it cannot be read or is not a replica.
  bool StartMove(const std::string& instance, Instance* r, Move* out);
  Status Connect(const std::string& name, std::unique_ptr<SqlConnection>* out);
  std::string PreCheck(const Instance& r, const Instance& t);
  void Rollback(SqlConnection& c, const Instance& before, Move* m);

  ExecutorOptions options_;
  const PseudoGtidPattern* pattern_;
  IndexSource* indexes_;
};

}  // namespace tidewatch::pgtid
