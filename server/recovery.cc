#include "server/recovery.h"

#include <re2/re2.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <thread>

#include "base/host_port.h"
#include "pgtid/instance.h"
#include "pgtid/master_takeover.h"
#include "pgtid/sql_connection.h"
#include "server/relocations.h"

namespace tidewatch::server {

namespace {

using Steady = std::chrono::steady_clock;
using v1::RecoveryStep;

constexpr size_t kMaxRecords = 1000;

bool IsMasterFailure(const std::string& code) {
  return code == "DeadMaster" || code == "DeadMasterAndSomeReplicas" || code == "DeadCoMaster" ||
         code == "DeadCoMasterAndSomeReplicas";
}

bool IsIntermediateMasterFailure(const std::string& code) {
  return code == "DeadIntermediateMaster" || code == "DeadIntermediateMasterWithSingleReplica" ||
         code == "DeadIntermediateMasterWithSingleReplicaFailingToConnect" ||
         code == "DeadIntermediateMasterAndSomeReplicas" || code == "AllIntermediateMasterReplicasFailingToConnectOrDead";
}

double MillisSince(Steady::time_point t) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t).count();
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::chrono::system_clock::time_point TimeOf(const google::protobuf::Timestamp& t) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(t.seconds()) +
                                                                       std::chrono::nanoseconds(t.nanos())));
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

}  // namespace

RecoveryConsumer::RecoveryConsumer(const Config& config, analyzer::Monitor* monitor, sinks::Publisher* publisher,
                                   const pgtid::PseudoGtidPattern* pattern)
    : config_(config),
      monitor_(monitor),
      publisher_(publisher),
      pattern_(pattern),
      id_prefix_(HostName() + "-" + std::to_string(::getpid()) + "-") {
  thread_ = std::thread([this] { Run(); });
}

RecoveryConsumer::~RecoveryConsumer() { Stop(); }

void RecoveryConsumer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RecoveryConsumer::Offer(const v1::Envelope& message, std::function<void()> handled) {
  const auto& a = message.analysis();
  const bool wanted = message.has_analysis() &&
                      (a.phase() == v1::Analysis::OPENED || a.phase() == v1::Analysis::UPDATED) &&
                      (IsMasterFailure(a.code()) || IsIntermediateMasterFailure(a.code()));
  if (!wanted && !handled) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    Pending p;
    // Ignored, but after what is queued: its `handled` keeps the order.
    p.kind = wanted ? Pending::kAnalysis : Pending::kIgnored;
    p.analysis = a;
    p.cluster = a.cluster().empty() ? message.source().cluster() : a.cluster();
    p.detected = TimeOf(message.detection_time());
    p.handled = std::move(handled);
    queue_.push_back(std::move(p));
  }
  wake_.notify_one();
}

Status RecoveryConsumer::RecoverNow(const std::string& key, std::chrono::milliseconds timeout, RecoveryRecord* out) {
  Pending p;
  p.forced = true;
  bool found = false;
  for (const auto& a : monitor_->Analysis()) {
    if (a.key != key || (!IsMasterFailure(a.code) && !IsIntermediateMasterFailure(a.code))) continue;
    p.analysis.set_phase(v1::Analysis::OPENED);
    p.analysis.set_code(a.code);
    p.analysis.set_analyzed_instance(a.key);
    p.analysis.set_cluster(a.cluster);
    p.analysis.set_description(a.description);
    p.cluster = a.cluster;
    found = true;
  }
  if (!found) return Status::NotSupported(key + ": no recoverable failure in the current analysis");
  p.kind = Pending::kRecoverNow;
  return Submit(std::move(p), timeout, out);
}

Status RecoveryConsumer::ForceMasterFailover(const std::string& cluster, const std::string& designated,
                                             std::chrono::milliseconds timeout, RecoveryRecord* out) {
  std::string master;
  if (Status s = MasterOfCluster(cluster, &master); !s.ok()) return s;
  Pending p;
  p.kind = Pending::kForceFailover;
  p.forced = true;
  p.designated = designated;
  p.analysis.set_phase(v1::Analysis::OPENED);
  p.analysis.set_code("DeadMaster");
  p.analysis.set_analyzed_instance(master);
  p.analysis.set_cluster(cluster);
  p.analysis.set_description(designated.empty() ? "force-master-failover" : "force-master-takeover to " + designated);
  p.cluster = cluster;
  return Submit(std::move(p), timeout, out);
}

Status RecoveryConsumer::GracefulTakeover(const std::string& cluster, const std::string& designated, bool auto_pick,
                                          bool start_old_master, std::chrono::milliseconds timeout,
                                          RecoveryRecord* out) {
  std::string master;
  if (Status s = MasterOfCluster(cluster, &master); !s.ok()) return s;
  Pending p;
  p.kind = Pending::kGracefulTakeover;
  p.forced = true;
  p.designated = designated;
  p.auto_pick = auto_pick;
  p.start_old_master = start_old_master;
  p.analysis.set_code("GracefulMasterTakeover");
  p.analysis.set_analyzed_instance(master);
  p.analysis.set_cluster(cluster);
  p.analysis.set_description(std::string(auto_pick ? "graceful-master-takeover-auto" : "graceful-master-takeover") +
                             (designated.empty() ? "" : " to " + designated));
  p.cluster = cluster;
  return Submit(std::move(p), timeout, out);
}

Status RecoveryConsumer::Submit(Pending p, std::chrono::milliseconds timeout, RecoveryRecord* out) {
  const std::string what = p.analysis.code() + " of " + p.analysis.analyzed_instance();
  p.done = std::make_shared<std::promise<RecoveryRecord>>();
  auto result = p.done->get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::IOError("the recovery consumer is stopping");
    queue_.push_back(std::move(p));
  }
  wake_.notify_one();
  if (result.wait_for(timeout) != std::future_status::ready) {
    return Status::IOError(what + ": did not end within " +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s");
  }
  *out = result.get();
  return Status::OK();
}

RecoveryRecord RecoveryConsumer::RecordOf(const Pending& p) {
  RecoveryRecord r;
  r.failed = p.analysis.analyzed_instance();
  r.code = p.analysis.code();
  r.cluster = p.cluster;
  r.started = std::chrono::system_clock::now();
  r.id = NewId();
  return r;
}

Status RecoveryConsumer::MasterOfCluster(const std::string& cluster, std::string* master) const {
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) { *master = t.MasterOf(cluster); });
  if (master->empty()) return Status::NotSupported("cluster " + cluster + " has no known master");
  return Status::OK();
}

std::string RecoveryConsumer::NewId() {
  std::lock_guard<std::mutex> lock(mu_);
  return id_prefix_ + std::to_string(next_id_++) + "-" +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count());
}

void RecoveryConsumer::Record(const RecoveryRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& rec : records_) {
    if (rec.id == r.id) {
      const bool acknowledged = rec.acknowledged;
      rec = r;
      rec.acknowledged = acknowledged;
      return;
    }
  }
  records_.push_front(r);
  if (records_.size() > kMaxRecords) records_.pop_back();
}

bool RecoveryConsumer::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_; });
}

void RecoveryConsumer::SetEnabled(bool enabled) {
  std::lock_guard<std::mutex> lock(mu_);
  enabled_ = enabled;
  if (!enabled) return;
  for (auto& p : deferred_) queue_.push_back(std::move(p));
  deferred_.clear();
  if (!queue_.empty()) wake_.notify_one();
}

bool RecoveryConsumer::enabled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return enabled_;
}

size_t RecoveryConsumer::Acknowledge(const std::string& cluster) {
  std::vector<RecoveryRecord> acknowledged;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& r : records_) {
      if (!r.acknowledged && (cluster.empty() || r.Concerns(cluster))) {
        r.acknowledged = true;
        acknowledged.push_back(r);
      }
    }
    // What the block held back is looked at again (and re-checked first).
    for (auto& p : deferred_) queue_.push_back(std::move(p));
    deferred_.clear();
    if (!queue_.empty()) wake_.notify_one();
  }
  // In the journal too: the block is lifted for every consumer.
  for (auto& r : acknowledged) Step(r, "acknowledge", RecoveryStep::SUCCEEDED, r.failed, "acknowledged");
  return acknowledged.size();
}

Status RecoveryConsumer::ReadJournal() {
  if (journal_ == nullptr) return Status::OK();
  std::vector<v1::Envelope> steps;
  Status s = journal_->ReadNew(std::chrono::seconds(5), &steps);
  for (const auto& e : steps) Absorb(e);
  return s;
}

void RecoveryConsumer::Absorb(const v1::Envelope& e) {
  const RecoveryStep& step = e.recovery();
  // This process's own recoveries are recorded as they run.
  if (step.recovery_id().rfind(id_prefix_, 0) == 0) return;
  const auto when = TimeOf(e.detection_time());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(records_.begin(), records_.end(),
                         [&](const RecoveryRecord& r) { return r.id == step.recovery_id(); });
  if (it == records_.end()) {
    if (step.step() != "recovery") return;  // a step of a recovery whose start the journal no longer has
    RecoveryRecord r;
    r.id = step.recovery_id();
    r.failed = e.source().server();
    r.cluster = r.cluster_alias = e.source().cluster();
    r.code = step.detail().substr(0, step.detail().find(':'));
    r.started = when;
    r.owner = e.producer_id();
    r.open = true;
    records_.push_front(std::move(r));
    if (records_.size() > kMaxRecords) records_.pop_back();
    it = records_.begin();
  }
  RecoveryRecord& r = *it;
  if (step.step() == "recovery") {
    if (step.outcome() == RecoveryStep::STARTED) {
      if (step.detail().find("resumed") != std::string::npos) r.owner = e.producer_id();
      return;
    }
    r.open = false;
    r.ended = when;
    if (step.outcome() == RecoveryStep::REFUSED) {
      r.refused = step.detail();
    } else {
      r.successful = step.outcome() == RecoveryStep::SUCCEEDED;
      if (r.successful && !step.instance().empty()) r.successor = step.instance();
    }
  } else if (step.step() == "promote" && step.outcome() == RecoveryStep::SUCCEEDED) {
    r.successor = step.instance();
  } else if (step.step() == "regroup-replicas" || step.step() == "match-below") {
    auto& list = step.outcome() == RecoveryStep::SUCCEEDED ? r.moved_replicas : r.lost_replicas;
    if (std::find(list.begin(), list.end(), step.instance()) == list.end()) list.push_back(step.instance());
  } else if (step.step() == "acknowledge") {
    r.acknowledged = true;
  }
}

bool RecoveryConsumer::OpenElsewhere(const std::string& failed, RecoveryRecord* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : records_) {
    if (r.open && r.failed == failed && r.id.rfind(id_prefix_, 0) != 0) {
      *out = r;
      return true;
    }
  }
  return false;
}

void RecoveryConsumer::ReportInterrupted(RecoveryRecord r) {
  // Healed when the successor it promoted answers writable.
  bool healed = false;
  if (!r.successor.empty()) {
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      const auto* rec = t.Find(r.successor);
      healed = rec != nullptr && rec->reachable && rec->probed && !rec->probe.instance.read_only &&
               rec->master_key.empty();
    });
  }
  r.open = false;
  r.successful = healed;
  r.ended = std::chrono::system_clock::now();
  const std::string why = "begun by " + r.owner + ", which stopped before reporting its outcome; " + r.code + " of " +
                          r.failed + " is no longer in the analysis" +
                          (healed ? ", and its successor " + r.successor + " is a writable master"
                                  : (r.successor.empty() ? ", and it promoted no successor" : ", and its successor " +
                                                                                                  r.successor +
                                                                                                  " is not a writable master"));
  Step(r, "recovery", healed ? RecoveryStep::SUCCEEDED : RecoveryStep::FAILED, r.successor, why);
  spdlog::warn("recovery {}: {}", r.id, why);
  Record(r);
}

pgtid::PromotionPolicy RecoveryConsumer::PolicyFor(const std::string& failed,
                                                   const std::vector<std::string>& replicas) const {
  pgtid::PromotionPolicy policy;
  std::map<std::string, std::string> rules, data_center;
  std::string failed_dc;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    if (const auto* rec = t.Find(failed)) failed_dc = rec->probe.data_center;
    for (const auto& k : replicas) {
      if (const auto* rec = t.Find(k)) {
        rules[k] = rec->PromotionRuleAt(analyzer::Clock::now());
        data_center[k] = rec->probe.data_center;
      }
    }
  });
  for (const auto& k : replicas) {
    if (!rules[k].empty()) policy.rules[k] = rules[k];
    const std::string host = ParseHostPort(k).value_or(HostPort{k, 0}).host;
    if (Matches(config_.promotion_ignore_hostname_filters, host)) {
      policy.excluded[k] = "matches PromotionIgnoreHostnameFilters";
    } else if (config_.prevent_cross_data_center_master_failover && data_center[k] != failed_dc) {
      policy.excluded[k] = "in data center \"" + data_center[k] + "\", not the failed master's \"" + failed_dc +
                           "\" (PreventCrossDataCenterMasterFailover)";
    }
  }
  return policy;
}

std::vector<RecoveryRecord> RecoveryConsumer::Recoveries(const std::string& cluster) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RecoveryRecord> out;
  for (const auto& r : records_) {
    if (cluster.empty() || r.Concerns(cluster)) out.push_back(r);
  }
  return out;
}

void RecoveryConsumer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    if (p.kind == Pending::kGracefulTakeover) {
      ActGracefulTakeover(p);
    } else if (p.kind != Pending::kIgnored) {
      Act(p);
    }
    if (p.handled) p.handled();
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
  busy_ = false;
  idle_.notify_all();
}

bool RecoveryConsumer::Matches(const std::vector<std::string>& filters, const std::string& text) const {
  for (const auto& f : filters) {
    if (f == "*" || RE2::PartialMatch(text, RE2(f, RE2::Quiet))) return true;
  }
  return false;
}

// A recovery of `cluster` within RecoveryPeriodBlockSeconds that was not
// acknowledged (orchestrator's AttemptRecoveryRegistration); "" when none.
std::string RecoveryConsumer::Blocked(const std::string& cluster) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::system_clock::now();
  for (const auto& r : records_) {
    if (!r.Concerns(cluster) || r.acknowledged || !r.refused.empty()) continue;
    if (now - r.started < std::chrono::seconds(config_.recovery_period_block_seconds)) {
      return "blocked by recovery " + r.id + " of " + r.failed + " less than " +
             std::to_string(config_.recovery_period_block_seconds) +
             " s ago (RecoveryPeriodBlockSeconds); acknowledge it to lift the block";
    }
  }
  return "";
}

void RecoveryConsumer::Step(RecoveryRecord& r, const std::string& step, RecoveryStep::Outcome outcome,
                            const std::string& instance, const std::string& detail, double millis,
                            const std::vector<std::string>& statements) {
  v1::Envelope e;
  e.mutable_source()->set_server(r.failed);
  e.mutable_source()->set_cluster(r.cluster);
  auto* s = e.mutable_recovery();
  s->set_recovery_id(r.id);
  s->set_step(step);
  s->set_outcome(outcome);
  s->set_instance(instance);
  s->set_detail(detail);
  s->set_millis(millis);
  for (const auto& st : statements) s->add_statements(st);
  (void)publisher_->Publish(std::move(e));
}

void RecoveryConsumer::Hooks(RecoveryRecord& r, const std::string& list, const HookValues& values, bool* all_ok) {
  auto it = config_.hooks.find(list);
  if (it == config_.hooks.end()) return;
  for (const auto& command : it->second) {
    HookResult h = RunHook(command, values, std::chrono::seconds(config_.recovery_hook_timeout_seconds));
    const bool ok = h.exit_code == 0 && !h.timed_out;
    if (!ok && all_ok != nullptr) *all_ok = false;
    std::string detail = "exit " + std::to_string(h.exit_code) + (h.timed_out ? " (timed out)" : "") +
                         (h.background ? " (background)" : "");
    if (!h.output.empty()) detail += ": " + h.output;
    Step(r, list, ok ? RecoveryStep::SUCCEEDED : RecoveryStep::FAILED, r.failed, detail, h.millis, {h.command});
    r.hooks.push_back(std::move(h));
    if (!ok && all_ok != nullptr) return;  // PreFailoverProcesses: the first failure aborts
  }
}

HookValues RecoveryConsumer::ValuesFor(const RecoveryRecord& r, const v1::Analysis& a,
                                       const std::vector<std::string>& replicas, bool downtimed,
                                       const std::string& domain) const {
  const bool master = !IsIntermediateMasterFailure(a.code());
  const HostPort failed = ParseHostPort(r.failed).value_or(HostPort{r.failed, 0});
  return {
      {"failureType", a.code()},
      {"instanceType", master ? (a.code().find("CoMaster") != std::string::npos ? "co-master" : "master")
                              : "intermediate-master"},
      {"isMaster", master ? "true" : "false"},
      {"isCoMaster", a.code().find("CoMaster") != std::string::npos ? "true" : "false"},
      {"failureDescription", a.description()},
      {"command", ""},
      {"failedHost", failed.host},
      {"failedPort", std::to_string(failed.port)},
      {"failureCluster", r.cluster},
      {"failureClusterAlias", r.cluster_alias},
      {"failureClusterDomain", domain},
      {"countReplicas", std::to_string(replicas.size())},
      {"countSlaves", std::to_string(replicas.size())},
      {"isDowntimed", downtimed ? "true" : "false"},
      {"autoMasterRecovery", Matches(config_.recover_master_cluster_filters, r.cluster) ? "true" : "false"},
      {"autoIntermediateMasterRecovery",
       Matches(config_.recover_intermediate_master_cluster_filters, r.cluster) ? "true" : "false"},
      {"orchestratorHost", HostName()},
      {"recoveryUID", r.id},
      {"replicaHosts", Join(replicas)},
      {"slaveHosts", Join(replicas)},
      {"isSuccessful", "false"},
      {"lostReplicas", ""},
      {"lostSlaves", ""},
      {"countLostReplicas", "0"},
  };
}

void RecoveryConsumer::Act(const Pending& p) {
  const auto started = Steady::now();
  const v1::Analysis& a = p.analysis;
  const bool master = IsMasterFailure(a.code());
  RecoveryRecord r = RecordOf(p);
  const bool force = p.kind == Pending::kForceFailover;

  // 1. Re-checked against the current view.
  bool current = false, downtimed = false;
  std::vector<std::string> replicas;
  if (force) {
    // force-master-*: the master answers; nothing in the analysis says it failed.
    current = true;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) { replicas = t.ReplicasOf(r.failed); });
  }
  // What other consumers (and earlier runs) recorded, before anything is decided.
  if (journal_ != nullptr) {
    if (Status s = ReadJournal(); !s.ok()) spdlog::warn("recovery journal: {}", s.message());
  }
  auto recheck = [&] {
    for (const auto& now : monitor_->Analysis()) {
      if (!force && now.key == r.failed && now.code == a.code()) {
        current = now.actionable || p.forced;
        downtimed = now.downtimed;
        replicas = now.replicas;
        r.cluster = now.cluster;
      }
    }
  };
  recheck();
  if (!current && !force && view_settle_.count() > 0) {
    // A view of its own sees the failure a moment after its publisher; the
    // instances the analysis names that the view does not know are discovered.
    std::vector<std::string> unknown;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      if (t.Find(r.failed) == nullptr) unknown.push_back(r.failed);
      for (const auto& k : a.replicas()) {
        if (t.Find(k) == nullptr) unknown.push_back(k);
      }
    });
    for (const auto& k : unknown) monitor_->Discover(k);
    const auto until =
        Steady::now() + std::chrono::duration_cast<Steady::duration>(p.detected + view_settle_ -
                                                                     std::chrono::system_clock::now());
    while (!current && Steady::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      recheck();
    }
  }
  std::string alias, domain;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    if (const auto* rec = t.Find(r.failed)) alias = rec->probe.cluster_alias;
  });
  r.cluster_alias = alias.empty() ? r.cluster : alias;
  const HostPort failed = ParseHostPort(r.failed).value_or(HostPort{r.failed, 0});
  HookValues values = ValuesFor(r, a, replicas, downtimed, domain);
  auto refuse = [&](const std::string& why, bool defer = false) {
    if (defer) {
      std::lock_guard<std::mutex> lock(mu_);
      deferred_.push_back(p);
    }
    r.refused = why;
    r.ended = std::chrono::system_clock::now();
    Step(r, "recovery", RecoveryStep::REFUSED, r.failed, a.code() + ": " + why, MillisSince(started));
    spdlog::info("recovery of {} ({}) refused: {}", r.failed, a.code(), why);
    if (p.done) p.done->set_value(r);
    Record(r);
  };
  RecoveryRecord open;
  const bool resuming = !force && OpenElsewhere(r.failed, &open);
  if (!current) {
    if (resuming && !p.forced) {
      ReportInterrupted(open);
      return;
    }
    return refuse("no longer " + a.code() + " (or not actionable) in the current analysis");
  }
  if (!p.forced && owns_ && !owns_(r.failed)) {
    return refuse("its cluster is not this daemon's now: the monitor group has not confirmed it (Kafka cannot be "
                  "reached), and another daemon may own it");
  }
  if (resuming) {
    // Begun by a consumer that stopped before it ended: finished under its
    // id, past the filters and the block it already passed.
    r.id = open.id;
    r.started = open.started;
    r.owner = publisher_->producer_id();
  }
  if (!p.forced && !resuming) {
    // The same failure again (an UPDATED analysis, a replayed message): the
    // recovery that took it on answers for it.
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& rec : records_) {
      if (rec.failed == r.failed && rec.refused.empty() &&
          std::chrono::system_clock::now() - rec.started <
              std::chrono::seconds(config_.recovery_period_block_seconds)) {
        spdlog::debug("{} ({}): already taken on by recovery {}", r.failed, a.code(), rec.id);
        return;
      }
    }
  }

  // 2. Detection hooks, once per instance and code per FailureDetectionPeriodBlockMinutes.
  {
    bool run = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& last = detections_[r.failed + "|" + a.code()];
      if (last == Steady::time_point{} ||
          Steady::now() - last >= std::chrono::minutes(config_.failure_detection_period_block_minutes)) {
        last = Steady::now();
        run = true;
      }
    }
    if (run) Hooks(r, "OnFailureDetectionProcesses", values);
  }

  // 3. Filters, the global switch, the block.
  const auto& filters = master ? config_.recover_master_cluster_filters
                               : config_.recover_intermediate_master_cluster_filters;
  if (!p.forced && !resuming) {
    if (!Matches(filters, r.cluster) && !Matches(filters, r.cluster_alias)) {
      return refuse("cluster " + r.cluster + " matches no " +
                    (master ? "RecoverMasterClusterFilters" : "RecoverIntermediateMasterClusterFilters"));
    }
    if (Matches(config_.recovery_ignore_hostname_filters, failed.host)) {
      return refuse(failed.host + " matches RecoveryIgnoreHostnameFilters");
    }
    if (!enabled()) return refuse("recoveries are disabled (disable-global-recoveries)", true);
    if (std::string why = Blocked(r.cluster); !why.empty()) return refuse(why, true);
  } else {
    values["command"] = force ? (p.designated.empty() ? "force-master-failover" : "force-master-takeover") : "recover";
  }
  // Registered before the first statement: a second analysis of the same
  // failure is blocked from here on.
  r.open = true;
  if (r.owner.empty()) r.owner = publisher_->producer_id();
  Record(r);
  auto save = [&] { Record(r); };
  Step(r, "recovery", RecoveryStep::STARTED, r.failed,
       a.code() + ": " + a.description() +
           (resuming ? " (resumed: begun by " + open.owner + ", which stopped before it ended)" : ""));
  spdlog::warn("recovery {}: {} of {} in cluster {}{}", r.id, a.code(), r.failed, r.cluster,
               resuming ? " (resumed from " + open.owner + ")" : "");
  // The intent is durable before the first statement: a consumer that dies
  // from here on leaves it to the next owner of the cluster.
  if (journal_ != nullptr) {
    const auto sync_started = Steady::now();
    Status s = journal_->Sync(std::chrono::seconds(5));
    if (!s.ok()) spdlog::warn("recovery {}: the intent is not confirmed durable ({}); acting anyway", r.id, s.message());
    spdlog::debug("recovery {}: intent durable in {:.1f} ms", r.id, MillisSince(sync_started));
  }

  // 4. PreFailoverProcesses.
  bool pre_ok = true;
  Hooks(r, "PreFailoverProcesses", values, &pre_ok);
  bool ok = pre_ok;
  std::string failure = pre_ok ? "" : "PreFailoverProcesses failed: recovery aborted";

  // A forced failover of a master that answers: fenced first, so that what
  // it still accepts cannot diverge from its successor (at best: it may not
  // answer).
  if (ok && force) {
    const auto fence_started = Steady::now();
    const HostPort hp = ParseHostPort(r.failed).value_or(HostPort{});
    pgtid::SqlEndpoint ep{hp.host, hp.port, config_.topology_user, config_.topology_password};
    std::unique_ptr<pgtid::SqlConnection> c;
    Status s = pgtid::SqlConnection::Connect(ep, &c);
    if (s.ok()) s = c->Execute("SET GLOBAL read_only = 1");
    Step(r, "fence", s.ok() ? RecoveryStep::SUCCEEDED : RecoveryStep::FAILED, r.failed,
         s.ok() ? "read_only=1 on the discarded master" : "not fenced: " + s.message(), MillisSince(fence_started),
         {"SET GLOBAL read_only = 1"});
  }

  // 5. The moves.
  if (ok) {
    RelocationRequest q;
    q.instance = r.failed;
    q.known = replicas;
    RelocationResult result;
    Status s;
    if (master && !p.designated.empty()) {
      // force-master-takeover: the designated replica is the successor.
      q.command = RelocationCommand::kMultiMatch;
      q.destination = p.designated;
      s = RelocateInDaemon(config_, monitor_, pattern_, q, &result);
      result.candidate = p.designated;
    } else if (master) {
      q.command = RelocationCommand::kRegroup;
      q.policy = PolicyFor(r.failed, replicas);
      s = RelocateInDaemon(config_, monitor_, pattern_, q, &result);
    } else {
      std::string grandparent;
      monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
        if (const auto* rec = t.Find(r.failed)) grandparent = rec->master_key;
      });
      if (grandparent.empty()) {
        s = Status::NotSupported("the intermediate master's own master is not known");
      } else {
        q.command = RelocationCommand::kMultiMatch;
        q.destination = grandparent;
        s = RelocateInDaemon(config_, monitor_, pattern_, q, &result);
        r.successor = grandparent;
      }
    }
    if (s.ok() && !result.error.empty()) s = Status::NotSupported(result.error);
    for (const auto& m : result.moves) {
      Step(r, master ? "regroup-replicas" : "match-below", m.moved ? RecoveryStep::SUCCEEDED : RecoveryStep::FAILED,
           m.instance, m.moved ? "below " + m.destination + " by " + m.method : m.refused, m.millis, m.statements);
      (m.moved ? r.moved_replicas : r.lost_replicas).push_back(m.instance);
    }
    if (!s.ok()) {
      ok = false;
      failure = s.message();
    } else if (master) {
      r.successor = result.candidate;
      if (r.successor.empty()) {
        ok = false;
        failure = "no replica could be promoted";
      }
    }
    if (ok && master && !result.preferred.empty()) {
      // Two-phase promotion: the most advanced replica serves the others
      // until the one the rules prefer has everything, then hands over.
      pgtid::TakeoverRequest h;
      h.master = result.candidate;
      h.designated = result.preferred;
      for (const auto& m : result.moves) {
        if (m.moved && m.destination == result.candidate && m.instance != result.preferred) h.siblings.push_back(m.instance);
      }
      h.make_writable = false;  // the promotion below decides
      h.catch_up_timeout = std::chrono::seconds(std::max<uint32_t>(10, config_.reasonable_replication_lag_seconds));
      pgtid::TakeoverResult hr;
      Status hs = pgtid::TakeOverMaster(ExecutorOptionsInDaemon(config_, monitor_), h, &hr);
      for (const auto& st : hr.steps) {
        Step(r, "handover:" + st.step, st.ok ? RecoveryStep::SUCCEEDED : RecoveryStep::FAILED, st.instance, st.detail,
             st.millis, st.statements);
      }
      if (hs.ok() && hr.promoted) {
        r.successor = result.preferred;
        const bool demoted = std::any_of(hr.steps.begin(), hr.steps.end(),
                                         [](const pgtid::TakeoverStep& st) { return st.step == "demote" && st.ok; });
        if (demoted) {
          r.moved_replicas.push_back(result.candidate);
        } else {
          // The interim master, and what stayed below it, no longer follow the successor.
          r.lost_replicas.push_back(result.candidate);
          for (const auto& k : hr.left) r.lost_replicas.push_back(k);
        }
      } else {
        // The interim master stays: the topology is healed, the rule not honoured.
        Step(r, "handover", RecoveryStep::FAILED, result.preferred,
             "stays below " + result.candidate + ": " + (hs.ok() ? hr.refused : hs.message()));
      }
    }
  }

  // Promotion: the successor stops replicating from the dead master and, with
  // ApplyMySQLPromotionAfterMasterFailover, accepts writes.
  if (ok && master) {
    const auto promote_started = Steady::now();
    std::vector<std::string> statements;
    const HostPort hp = ParseHostPort(r.successor).value_or(HostPort{});
    pgtid::SqlEndpoint ep{hp.host, hp.port, config_.topology_user, config_.topology_password};
    std::unique_ptr<pgtid::SqlConnection> c;
    Status s = pgtid::SqlConnection::Connect(ep, &c);
    pgtid::Instance i;
    if (s.ok()) s = pgtid::ReadInstance(*c, &i);
    auto run = [&](const std::string& sql) {
      if (!s.ok()) return;
      statements.push_back(sql);
      s = c->Execute(sql);
    };
    run(pgtid::StopReplicaSql(i));
    run(i.ReplicaSpelling() ? "RESET REPLICA ALL" : "RESET SLAVE ALL");
    if (config_.apply_mysql_promotion_after_master_failover) run("SET GLOBAL read_only = 0");
    if (s.ok()) {
      pgtid::SqlResult st;
      if (c->Query(i.ReplicaSpelling() ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS", &st).ok() &&
          !st.rows.empty()) {
        r.successor_coordinates = st.GetOr(0, "File") + ":" + st.GetOr(0, "Position");
      }
    }
    Step(r, "promote", s.ok() ? RecoveryStep::SUCCEEDED : RecoveryStep::FAILED, r.successor,
         s.ok() ? "promoted: replication reset" +
                      std::string(config_.apply_mysql_promotion_after_master_failover ? ", read_only=0" : "")
                : s.message(),
         MillisSince(promote_started), statements);
    if (!s.ok()) {
      ok = false;
      failure = "promotion of " + r.successor + ": " + s.message();
    }
    monitor_->Discover(r.successor);
  }

  // 6. Post hooks.
  r.successful = ok;
  values["isSuccessful"] = ok ? "true" : "false";
  values["lostReplicas"] = values["lostSlaves"] = Join(r.lost_replicas);
  values["countLostReplicas"] = std::to_string(r.lost_replicas.size());
  if (ok) {
    const HostPort s = ParseHostPort(r.successor).value_or(HostPort{});
    values["successorHost"] = s.host;
    values["successorPort"] = std::to_string(s.port);
    values["successorBinlogCoordinates"] = r.successor_coordinates;
    std::string successor_alias;
    monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
      if (const auto* rec = t.Find(r.successor)) successor_alias = rec->probe.instance_alias;
    });
    values["successorAlias"] = successor_alias;
    Hooks(r, master ? "PostMasterFailoverProcesses" : "PostIntermediateMasterFailoverProcesses", values);
    Hooks(r, "PostFailoverProcesses", values);
  } else {
    Hooks(r, "PostUnsuccessfulFailoverProcesses", values);
  }
  r.ended = std::chrono::system_clock::now();
  r.open = false;
  Step(r, "recovery", ok ? RecoveryStep::SUCCEEDED : RecoveryStep::FAILED, r.successor,
       ok ? a.code() + " recovered: " + (master ? "promoted " : "replicas moved below ") + r.successor +
                (r.lost_replicas.empty() ? "" : "; lost: " + Join(r.lost_replicas))
          : failure,
       MillisSince(started));
  if (ok) {
    spdlog::warn("recovery {}: {} recovered, successor {}", r.id, r.failed, r.successor);
  } else {
    spdlog::error("recovery {}: {} not recovered: {}", r.id, r.failed, failure);
  }
  save();
  if (p.done) p.done->set_value(r);
}

}  // namespace tidewatch::server
