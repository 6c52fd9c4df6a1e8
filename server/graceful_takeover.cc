// RecoveryConsumer's graceful-master-takeover: the statements are
// pgtid/master_takeover.h's; here the choice of the successor, the hooks, the
// record and the RecoveryStep messages, as for a recovery.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/host_port.h"
#include "pgtid/master_takeover.h"
#include "pgtid/sql_connection.h"
#include "server/recovery.h"
#include "server/relocations.h"

namespace tidewatch::server {

namespace {

using Steady = std::chrono::steady_clock;
using v1::RecoveryStep;

double MillisSince(Steady::time_point t) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t).count();
}

}  // namespace

void RecoveryConsumer::ActGracefulTakeover(const Pending& p) {
  const auto started = Steady::now();
  const v1::Analysis& a = p.analysis;
  RecoveryRecord r = RecordOf(p);

  std::vector<std::string> replicas, must_not;
  std::string alias;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    replicas = t.ReplicasOf(r.failed);
    if (const auto* rec = t.Find(r.failed)) alias = rec->probe.cluster_alias;
    for (const auto& k : replicas) {
      const auto* rec = t.Find(k);
      if (rec != nullptr && rec->probe.promotion_rule == "must_not") must_not.push_back(k);
    }
  });
  r.cluster_alias = alias.empty() ? r.cluster : alias;
  HookValues values = ValuesFor(r, a, replicas, false, "");
  values["command"] = p.auto_pick ? "graceful-master-takeover-auto" : "graceful-master-takeover";

  auto end = [&](bool ok, const std::string& detail) {
    r.successful = ok;
    r.ended = std::chrono::system_clock::now();
    Step(r, "graceful-master-takeover", ok ? RecoveryStep::SUCCEEDED : r.refused.empty() ? RecoveryStep::FAILED
                                                                                      : RecoveryStep::REFUSED,
         ok ? r.successor : r.failed, detail, MillisSince(started));
    if (ok) {
      spdlog::warn("graceful takeover {}: {} handed over to {}", r.id, r.failed, r.successor);
    } else {
      spdlog::error("graceful takeover {} of {}: {}", r.id, r.failed, detail);
    }
    Record(r);
    if (p.done) p.done->set_value(r);
  };
  auto refuse = [&](const std::string& why) {
    r.refused = why;
    end(false, why);
  };

  // The successor.
  pgtid::ExecutorOptions eo = ExecutorOptionsInDaemon(config_, monitor_);
  std::string designated = p.designated;
  if (!designated.empty()) {
    if (std::find(replicas.begin(), replicas.end(), designated) == replicas.end()) {
      return refuse(designated + " is not a direct replica of the master " + r.failed);
    }
  } else if (p.auto_pick) {
    std::string why;
    designated = pgtid::ChooseTakeoverCandidate(eo, r.failed, replicas, must_not, &why);
    if (designated.empty()) return refuse(why);
  } else if (replicas.size() == 1) {
    designated = replicas[0];
  } else {
    return refuse(r.failed + " has " + std::to_string(replicas.size()) +
                  " replicas: name the designated one (-d), or use graceful-master-takeover-auto");
  }
  if (std::find(must_not.begin(), must_not.end(), designated) != must_not.end()) {
    return refuse(designated + " has the promotion rule must_not");
  }
  std::vector<std::string> siblings;
  for (const auto& k : replicas) {
    if (k != designated) siblings.push_back(k);
  }
  values["successorHost"] = ParseHostPort(designated).value_or(HostPort{}).host;
  values["successorPort"] = std::to_string(ParseHostPort(designated).value_or(HostPort{}).port);

  Record(r);
  Step(r, "graceful-master-takeover", RecoveryStep::STARTED, r.failed,
       "from " + r.failed + " to " + designated + (siblings.empty() ? "" : ", siblings: " + std::to_string(siblings.size())));

  bool pre_ok = true;
  Hooks(r, "PreGracefulTakeoverProcesses", values, &pre_ok);
  if (!pre_ok) return refuse("PreGracefulTakeoverProcesses failed: takeover aborted");

  pgtid::TakeoverRequest q;
  q.master = r.failed;
  q.designated = designated;
  q.siblings = siblings;
  q.start_old_master = p.start_old_master;
  q.catch_up_timeout = std::chrono::seconds(std::max<uint32_t>(10, config_.reasonable_replication_lag_seconds));
  if (Status s = ReplicationCredentialsOf(config_, r.failed, &q.replication_user, &q.replication_password); !s.ok()) {
    return refuse(s.message());
  }
  pgtid::TakeoverResult res;
  Status s = pgtid::TakeOverMaster(eo, q, &res);
  for (const auto& st : res.steps) {
    Step(r, st.step, st.ok ? RecoveryStep::SUCCEEDED : RecoveryStep::FAILED, st.instance, st.detail, st.millis,
         st.statements);
  }
  for (const auto& k : {r.failed, designated}) monitor_->Discover(k);
  for (const auto& k : siblings) monitor_->Discover(k);
  if (!s.ok()) return refuse(s.message());
  if (!res.promoted) return refuse(res.refused);

  r.successor = designated;
  r.successor_coordinates = res.successor_at.ToString();
  r.moved_replicas = res.moved;
  r.moved_replicas.push_back(r.failed);  // the old master, now below its successor
  values["isSuccessful"] = "true";
  values["successorBinlogCoordinates"] = r.successor_coordinates;
  monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
    if (const auto* rec = t.Find(designated)) values["successorAlias"] = rec->probe.instance_alias;
  });
  Hooks(r, "PostGracefulTakeoverProcesses", values);
  std::string detail = r.failed + " handed over to " + designated + " at " + r.successor_coordinates;
  if (!res.left.empty()) {
    std::string left;
    for (const auto& k : res.left) left += (left.empty() ? "" : ", ") + k;
    detail += "; still below " + r.failed + ": " + left;
  }
  if (!res.refused.empty()) detail += "; " + res.refused;
  end(true, detail);
}

}  // namespace tidewatch::server
