// RecoveryConsumer: turns a failure analysis into a healed topology, as
// orchestrator's automated recovery does, from the daemon's live view and
// indexes instead of a poll and log scans.
//
// It is offered every published analysis. An OPENED (or UPDATED) analysis of
// a dead master (DeadMaster, DeadMasterAndSomeReplicas, DeadMasterWithoutReplicas
// is left alone: nothing to promote) or a dead intermediate master
// (DeadIntermediateMaster, DeadIntermediateMasterAndSomeReplicas,
// DeadIntermediateMasterWithSingleReplicaFailingToConnect, …) is acted upon
// on the consumer's own thread, one recovery at a time:
//
//  1. re-checked against the daemon's current analysis: still that code,
//     still actionable (not downtimed, not in maintenance) — a replayed or
//     stale message never starts a recovery;
//  2. OnFailureDetectionProcesses, at most once per instance and code within
//     FailureDetectionPeriodBlockMinutes;
//  3. the cluster must match RecoverMasterClusterFilters (or
//     RecoverIntermediateMasterClusterFilters) and the failed host must not
//     match RecoveryIgnoreHostnameFilters; recoveries must be enabled
//     (disable-global-recoveries) and the cluster not blocked: a recovery of
//     the same cluster less than RecoveryPeriodBlockSeconds ago that was not
//     acknowledged blocks it — published as REFUSED with the reason;
//  4. PreFailoverProcesses: a non-zero exit aborts the recovery;
//  5. master: the replicas are regrouped below the most advanced one that can
//     serve them (pgtid::Executor::RegroupReplicas, from the dead master's
//     live index or by GTID), which is then promoted: replication stopped
//     and reset and, with ApplyMySQLPromotionAfterMasterFailover, made
//     writable. Intermediate master: its replicas are matched below its own
//     master;
//  6. PostMasterFailoverProcesses / PostIntermediateMasterFailoverProcesses,
//     then PostFailoverProcesses, or PostUnsuccessfulFailoverProcesses.
//
// Every step is published as a RecoveryStep (STARTED, SUCCEEDED, FAILED,
// REFUSED) on the recovery topic, JSON lines and /api/stream, with the
// statements it issued and its hooks' exit codes and output.
//
// Threads: Offer may be called from any thread (it queues and returns);
// recoveries run on the consumer's thread. The other calls are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "analyzer/monitor.h"
#include "base/status.h"
#include "pgtid/executor.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "server/config.h"
#include "server/hook_runner.h"
#include "server/recovery_journal.h"
#include "sinks/publisher.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::server {

// One recovery as the audit API reports it.
struct RecoveryRecord {
  std::string id;                    // recoveryUID
  std::string cluster, cluster_alias;
  std::string failed, code;          // the failed instance, the analysis code
  std::string successor;             // the promoted instance ("" when none)
  std::string successor_coordinates; // its binlog coordinates after promotion
  std::vector<std::string> lost_replicas, moved_replicas;
  bool successful = false;
  bool acknowledged = false;
  // Begun and not ended as far as the journal shows: its consumer may have
  // died in the middle of it (recovery_journal.h).
  bool open = false;
  std::string owner;                 // the producer id of the consumer that began it
  std::string refused;               // why nothing was done
  std::chrono::system_clock::time_point started, ended;
  std::vector<HookResult> hooks;

  // Whether `cluster` names this recovery's cluster: its name, its alias, or
  // the name it took after the promotion (its successor's host:port).
  bool Concerns(const std::string& cluster) const {
    return cluster == this->cluster || cluster == cluster_alias || (!successor.empty() && cluster == successor);
  }
};

class RecoveryConsumer {
 public:
  // `monitor`, `publisher` and `pattern` are not owned and must outlive the
  // consumer; its thread starts at once.
  RecoveryConsumer(const Config& config, analyzer::Monitor* monitor, sinks::Publisher* publisher,
                   const pgtid::PseudoGtidPattern* pattern);
  ~RecoveryConsumer();
  RecoveryConsumer(const RecoveryConsumer&) = delete;
  RecoveryConsumer& operator=(const RecoveryConsumer&) = delete;

  // A published message; analyses are queued, everything else is ignored.
  // `handled`, when given, is called (on the consumer's thread, in the order
  // messages were offered) once the message has been dealt with — acted on,
  // refused or ignored — never for what Stop() dropped: a Kafka consumer
  // commits its offset then, so a consumer killed in the middle of a
  // recovery leaves the message to the next owner of its partition, whose
  // re-check finishes the recovery or reports it done.
  void Offer(const v1::Envelope& message, std::function<void()> handled = {});
  // orchestrator's `recover -i` (/api/recover/:host/:port): recovers the
  // failure the current analysis has for `key` now, whatever the filters,
  // the global switch and the block say; waits for the outcome (up to
  // `timeout`). An error when the instance has no recoverable failure.
  Status RecoverNow(const std::string& key, std::chrono::milliseconds timeout, RecoveryRecord* out);
  // orchestrator's graceful-master-takeover: the master of `cluster` hands
  // over to `designated` (pgtid/master_takeover.h) — "" with `auto_pick`
  // (graceful-master-takeover-auto) chooses the most advanced replica that
  // can serve the others, and without it is allowed only when the master
  // has a single replica. The old master ends below the new one, read-only,
  // replicating unless `start_old_master` is false. PreGracefulTakeoverProcesses
  // (a non-zero exit aborts) and PostGracefulTakeoverProcesses run around it;
  // it is recorded, blocks and is acknowledged like a recovery (code
  // "GracefulMasterTakeover"). Waits for the outcome (up to `timeout`).
  Status GracefulTakeover(const std::string& cluster, const std::string& designated, bool auto_pick,
                          bool start_old_master, std::chrono::milliseconds timeout, RecoveryRecord* out);
  // orchestrator's force-master-failover (`designated` "") and
  // force-master-takeover: the master of `cluster` is treated as dead although
  // it answers — fenced first (read_only = 1, at best) — and a master recovery
  // runs, its replicas regrouped below the most advanced one or below
  // `designated`. Waits for the outcome (up to `timeout`).
  Status ForceMasterFailover(const std::string& cluster, const std::string& designated,
                             std::chrono::milliseconds timeout, RecoveryRecord* out);
  // Before the first Offer: recoveries are written to and read back from
  // `journal` (not owned; it must outlive the consumer). A recovery's intent
  // (its "recovery" STARTED step) is durable before its first statement
  // runs, and before acting the consumer reads what every consumer wrote: a
  // recovery begun by one that died is finished under its own id when its
  // failure is still in the analysis, and otherwise reported ended. The
  // journal also carries acknowledgements, and the block period across
  // consumers and restarts.
  void set_journal(RecoveryJournal* journal) { journal_ = journal; }
  // In a monitor group: whether the cluster of an instance is this daemon's
  // now (fleet_group.h). A failure of one that is not — kept watched while
  // the group cannot be reached — is refused, never recovered beside its
  // owner; a forced recovery is not asked.
  void set_owns(std::function<bool(const std::string& instance)> f) { owns_ = std::move(f); }
  // Before the first Offer: how long a failure published by another process
  // may take to appear in this consumer's own view before it is judged no
  // longer current. A consumer with a monitor of its own (`tidewatch
  // recovery-consumer`) sees a failure a moment after the daemon that
  // published it; 0 (the default) when the view is the publisher's. The wait
  // is counted from the analysis' detection time: an old message replayed
  // (a new group reads the topic from its start) is judged at once.
  void set_view_settle(std::chrono::milliseconds d) { view_settle_ = d; }
  // Reads what the journal holds now (at start: earlier runs' recoveries
  // and other consumers').
  Status ReadJournal();
  // Finishes the recovery in progress, drops what is queued, joins.
  void Stop();
  // Waits until nothing is queued or running (or `timeout`); true when idle.
  bool WaitIdle(std::chrono::milliseconds timeout);

  // orchestrator's disable-global-recoveries / enable-global-recoveries.
  void SetEnabled(bool enabled);
  bool enabled() const;
  // Lifts the block of a cluster's recoveries (ack-cluster-recoveries), or
  // of all ("" : ack-all-recoveries), and looks again at the failures the
  // block (or the global switch) held back. Returns how many were acknowledged.
  size_t Acknowledge(const std::string& cluster);
  // Recoveries, newest first; of one cluster when `cluster` is not empty.
  std::vector<RecoveryRecord> Recoveries(const std::string& cluster = "") const;

 private:
  struct Pending {
    enum Kind { kAnalysis, kRecoverNow, kGracefulTakeover, kForceFailover, kIgnored };
    Kind kind = kAnalysis;
    v1::Analysis analysis;
    std::string cluster;
    bool forced = false;  // recover -i, force-*: no filter, switch or block applies
    std::string designated;                 // takeovers: the chosen successor ("" : chosen here)
    bool auto_pick = false, start_old_master = true;  // graceful takeover
    std::shared_ptr<std::promise<RecoveryRecord>> done;  // forced: the outcome
    std::chrono::system_clock::time_point detected;       // the analysis' detection time (Offer's)
    std::function<void()> handled;                        // Offer's
  };
  void Run();
  void Act(const Pending& p);
  void ActGracefulTakeover(const Pending& p);  // server/graceful_takeover.cc
  // Queues `p` and waits for its outcome.
  Status Submit(Pending p, std::chrono::milliseconds timeout, RecoveryRecord* out);
  std::string NewId();
  // A new record of `p`'s recovery: its failure, cluster, start and id.
  RecoveryRecord RecordOf(const Pending& p);
  // The known master of `cluster`; an error when there is none.
  Status MasterOfCluster(const std::string& cluster, std::string* master) const;
  // Who may succeed the dead master `failed` among `replicas`: rules
  // registered or detected, PromotionIgnoreHostnameFilters,
  // PreventCrossDataCenterMasterFailover.
  pgtid::PromotionPolicy PolicyFor(const std::string& failed, const std::vector<std::string>& replicas) const;
  // The hooks' placeholders (orchestrator's) for a recovery of `a`.
  HookValues ValuesFor(const RecoveryRecord& r, const v1::Analysis& a, const std::vector<std::string>& replicas,
                       bool downtimed, const std::string& domain) const;
  void Record(const RecoveryRecord& r);  // adds or replaces, by id
  // A recovery step read back from the journal, into the records (the
  // steps of this process's own recoveries are already there).
  void Absorb(const v1::Envelope& e);
  // The open recovery of `failed` that another consumer (or an earlier run)
  // began; false when none.
  bool OpenElsewhere(const std::string& failed, RecoveryRecord* out) const;
  // Reports `open` ended: its failure is no longer in the analysis.
  void ReportInterrupted(RecoveryRecord open);
  std::string Blocked(const std::string& cluster) const;
  void Step(RecoveryRecord& r, const std::string& step, v1::RecoveryStep::Outcome outcome,
            const std::string& instance, const std::string& detail, double millis = 0,
            const std::vector<std::string>& statements = {});
  void Hooks(RecoveryRecord& r, const std::string& list, const HookValues& values, bool* all_ok = nullptr);
  bool Matches(const std::vector<std::string>& filters, const std::string& text) const;

  const Config& config_;
  analyzer::Monitor* monitor_;
  sinks::Publisher* publisher_;
  const pgtid::PseudoGtidPattern* pattern_;
  RecoveryJournal* journal_ = nullptr;
  std::function<bool(const std::string&)> owns_;
  std::chrono::milliseconds view_settle_{0};
  const std::string id_prefix_;  // of this process's recovery ids

  mutable std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<Pending> queue_;
  std::vector<Pending> deferred_;  // refused while blocked or disabled: offered again when lifted
  bool stopping_ = false, busy_ = false, enabled_ = true;
  std::deque<RecoveryRecord> records_;  // newest first, bounded
  std::map<std::string, std::chrono::steady_clock::time_point> detections_;  // key|code → last hook run
  uint64_t next_id_ = 1;
  std::thread thread_;
};

}  // namespace tidewatch::server
