#include "pgtid/executor.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <thread>

#include "base/host_port.h"
#include "pgtid/mariadb_gtid_position.h"
#include "pgtid/mysql_gtid_set.h"
#include "pgtid/replication_steps.h"

namespace tidewatch::pgtid {

namespace {

using Clock = std::chrono::steady_clock;

std::string NameOf(const std::string& host, uint16_t port) { return host + ":" + std::to_string(port); }

// The transaction `gtid` ("domain-server-seq") is the last one of its domain
// in the MariaDB position `pos`.
bool IsLastOfDomain(const std::string& pos, const std::string& gtid, std::string* have) {
  MariadbGtidPosition p, g;
  if (!MariadbGtidPosition::Parse(pos, &p).ok() || !MariadbGtidPosition::Parse(gtid, &g).ok() ||
      g.domains().size() != 1) {
    return true;  // not comparable: no claim
  }
  const auto& want = g.domains().begin()->second;
  auto it = p.domains().find(want.domain_id);
  if (it == p.domains().end()) {
    *have = "nothing in domain " + std::to_string(want.domain_id);
    return false;
  }
  const auto& h = it->second;
  *have = std::to_string(h.domain_id) + "-" + std::to_string(h.server_id) + "-" + std::to_string(h.seq_no);
  return h == want;
}

}  // namespace

Executor::Executor(ExecutorOptions options, const PseudoGtidPattern* pattern, IndexSource* indexes)
    : options_(std::move(options)), pattern_(pattern), indexes_(indexes) {}

Status Executor::Connect(const std::string& name, std::unique_ptr<SqlConnection>* out) {
  SqlEndpoint ep;
  if (!SplitHostPort(name, &ep.host, &ep.port)) {
    return Status::InvalidArgument("\"" + name + "\" is not host:port");
  }
  ep.user = options_.user;
  ep.password = options_.password;
  return SqlConnection::Connect(ep, out);
}

std::string Executor::PreCheck(const Instance& r, const Instance& t) {
  if (!r.replica.configured) return r.name + " is not a replica";
  if (std::string why = CannotReplicate(r, t); !why.empty()) return why;
  if (options_.maintenance) {
    for (const auto* i : {&r, &t}) {
      std::string why = options_.maintenance(i->name);
      if (!why.empty()) return i->name + " is under maintenance: " + why;
    }
  }
  return {};
}

void Executor::Rollback(SqlConnection& c, const Instance& before, Move* m) {
  const std::string why = RestoreReplication(c, before, &m->statements);
  m->rolled_back = why.empty();
  if (!why.empty()) m->refused += "; rollback failed: " + why;
}

struct Executor::Plan {
  Move* move = nullptr;
  Clock::time_point started;
  std::unique_ptr<SqlConnection> rc;
  Instance r, before;
  ChangeMasterTarget target;
  bool use_gtid = false;
  bool open = true;  // not refused
  InstancePoint point;
};

void Executor::Refuse(Plan* p, std::string why, bool restart) {
  p->move->refused = std::move(why);
  p->open = false;
  if (restart && p->rc) (void)RunLogged(*p->rc, StartReplicaSql(p->r), &p->move->statements);
  p->move->millis = std::chrono::duration<double, std::milli>(Clock::now() - p->started).count();
}

bool Executor::Prepare(const std::string& instance, const std::string& destination, const Instance& t, Plan* p) {
  Move* out = p->move;
  p->started = Clock::now();
  out->instance = instance;
  out->destination = destination;
  Status s = Connect(instance, &p->rc);
  if (s.ok()) s = ReadInstance(*p->rc, &p->r);
  if (!s.ok()) {
    Refuse(p, s.message(), false);
    return false;
  }
  Instance& r = p->r;
  out->from_master = r.replica.Master();
  if (std::string why = PreCheck(r, t); !why.empty()) {
    Refuse(p, why, false);
    return false;
  }
  const bool gtid_possible = r.HasGtid() && t.HasGtid() && t.log_bin;
  switch (options_.method) {
    case MatchMethod::kGtid:
      if (!gtid_possible) {
        Refuse(p, "GTID relocation asked for, but " + (r.HasGtid() ? t.name : r.name) + " has no GTIDs", false);
        return false;
      }
      p->use_gtid = true;
      break;
    case MatchMethod::kPseudoGtid: p->use_gtid = false; break;
    case MatchMethod::kAuto: p->use_gtid = gtid_possible && r.replica.UsesGtid(); break;
  }
  out->method = p->use_gtid ? "gtid" : "pseudo-gtid";
  s = StopReplicationNicely(*p->rc, &r, options_.stop_timeout, &out->statements);
  if (!s.ok()) {
    Refuse(p, s.message(), true);
    return false;
  }
  p->before = r;
  out->previous = r.replica.exec_master;
  out->previous_gtid = ExecutedGtid(r);
  SplitHostPort(destination, &p->target.host, &p->target.port);
  return true;
}

// GTID relocation: the destination must hold every transaction the instance has.
bool Executor::CheckGtid(Plan* p, const Instance& t) {
  Move* out = p->move;
  const Instance& r = p->r;
  if (r.mariadb) {
    MariadbGtidPosition have, dest;
    if (MariadbGtidPosition::Parse(out->previous_gtid, &have).ok() &&
        MariadbGtidPosition::Parse(t.gtid_binlog_pos, &dest).ok() && !dest.Contains(have)) {
      Refuse(p, t.name + " is behind " + r.name + " (GTID " + t.gtid_binlog_pos + " does not contain " +
                    out->previous_gtid + ")", true);
      return false;
    }
    p->target.use_gtid = "slave_pos";
    out->verified = "destination GTID position " + t.gtid_binlog_pos + " contains " + out->previous_gtid;
  } else {
    MysqlGtidSet have, dest;
    if (MysqlGtidSet::Parse(r.gtid_executed, &have).ok() && MysqlGtidSet::Parse(t.gtid_executed, &dest).ok() &&
        !dest.Contains(have)) {
      Refuse(p, t.name + " is behind " + r.name + " or " + r.name + " has errant GTIDs", true);
      return false;
    }
    p->target.use_gtid = "auto";
    out->verified = "destination gtid_executed contains the instance's";
  }
  return true;
}

bool Executor::Locate(Plan* p) {
  LocateOptions lo;
  lo.instance_sql = p->rc.get();
  lo.relay_log = options_.relay_log;
  lo.relay_index = options_.relay_index;
  Status s = LocateInstance(p->r, *indexes_, *pattern_, &p->point, lo);
  if (!s.ok()) {
    Refuse(p, s.message(), true);
    return false;
  }
  p->move->route = p->point.route;
  p->move->entry = p->point.entry_text;
  p->move->k = p->point.k;
  return true;
}

bool Executor::Accept(Plan* p, const DestinationPoint& dp, const Status& result) {
  Move* out = p->move;
  if (!result.ok()) {
    Refuse(p, result.message(), true);
    return false;
  }
  out->compared = dp.compared;
  p->target.coordinates = dp.coordinates;
  out->coordinates = dp.coordinates;
  out->verified = std::to_string(dp.compared) + " of " + std::to_string(p->point.k) + " events compared";
  // With GTIDs in the logs the match is checked exactly: the destination's
  // transaction that ends at the match is the instance's last one.
  if (p->r.mariadb && !dp.last_gtid.empty()) {
    std::string have;
    if (!IsLastOfDomain(out->previous_gtid, dp.last_gtid, &have)) {
      Refuse(p, "the match is wrong: the destination's transaction before " + dp.coordinates.ToString() + " is " +
                    dp.last_gtid + " but the instance last executed " + have, true);
      return false;
    }
    out->verified += "; last transaction " + dp.last_gtid + " is the instance's last";
  }
  if (dp.has_next) {
    out->verified += "; next event " + SignatureName(dp.next) + (dp.next_gtid.empty() ? "" : " " + dp.next_gtid);
  }
  return true;
}

void Executor::Apply(Plan* p) {
  Move* out = p->move;
  SqlConnection& rc = *p->rc;
  const Instance& r = p->r;
  Status s = RunLogged(rc, ChangeMasterSql(rc, r, p->target), &out->statements);
  if (!s.ok()) {
    Refuse(p, s.message(), true);
    return;
  }
  s = RunLogged(rc, StartReplicaSql(r), &out->statements);
  // Post-check: both threads run against the destination, no error.
  const std::string dest = NameOf(p->target.host, p->target.port);
  const std::string problem = s.ok() ? AwaitReplicating(rc, r, dest, options_.start_timeout) : s.message();
  if (!problem.empty()) {
    out->refused = r.name + " below " + dest + ": " + problem;
    Rollback(rc, p->before, out);
  } else {
    out->moved = true;
  }
  out->millis = std::chrono::duration<double, std::milli>(Clock::now() - p->started).count();
}

Status Executor::ReadDestination(const std::string& destination, Instance* t, std::string* why) {
  std::unique_ptr<SqlConnection> tc;
  Status s = Connect(destination, &tc);
  if (s.ok()) s = ReadInstance(*tc, t);
  if (!s.ok()) *why = s.message();
  return s;
}

Status Executor::MatchBelow(const std::string& instance, const std::string& destination, Move* out) {
  std::vector<Move> moves;
  Status s = MatchManyBelow({instance}, destination, &moves);
  if (s.ok()) *out = std::move(moves[0]);
  return s;
}

Status Executor::MatchManyBelow(const std::vector<std::string>& instances, const std::string& destination,
                                std::vector<Move>* out) {
  out->assign(instances.size(), Move());
  std::vector<Plan> plans(instances.size());
  for (size_t i = 0; i < plans.size(); ++i) plans[i].move = &(*out)[i];
  Instance t;
  std::string why;
  if (!ReadDestination(destination, &t, &why).ok()) {
    for (size_t i = 0; i < plans.size(); ++i) {
      plans[i].started = Clock::now();
      (*out)[i].instance = instances[i];
      (*out)[i].destination = destination;
      Refuse(&plans[i], why, false);
    }
    return Status::OK();
  }
  for (size_t i = 0; i < plans.size(); ++i) Prepare(instances[i], destination, t, &plans[i]);
  // GTID moves need the destination's position after the instances stopped.
  if (std::any_of(plans.begin(), plans.end(), [](const Plan& p) { return p.open && p.use_gtid; })) {
    if (!ReadDestination(destination, &t, &why).ok()) {
      for (auto& p : plans) {
        if (p.open) Refuse(&p, why, true);
      }
    }
  }
  std::vector<Plan*> walking;
  for (auto& p : plans) {
    if (!p.open) continue;
    if (p.use_gtid) {
      CheckGtid(&p, t);
    } else if (Locate(&p)) {
      walking.push_back(&p);
    }
  }
  if (!walking.empty()) {
    const ServerIndex* dest_index = nullptr;
    Status s = indexes_->CaughtUp(walking[0]->target.host, walking[0]->target.port, &dest_index);
    std::vector<const InstancePoint*> points;
    for (auto* p : walking) points.push_back(&p->point);
    std::vector<DestinationPoint> dps;
    std::vector<Status> results;
    if (s.ok()) {
      binlog::ReplicaStreamOptions so = options_.stream;
      so.host = walking[0]->target.host;
      so.port = walking[0]->target.port;
      // One read of the destination for every instance.
      s = MatchManyOnDestination(so, *dest_index, points, &dps, &results);
    }
    for (size_t i = 0; i < walking.size(); ++i) {
      if (!s.ok()) {
        Refuse(walking[i], s.message(), true);
      } else {
        Accept(walking[i], dps[i], results[i]);
      }
    }
  }
  for (auto& p : plans) {
    if (p.open) Apply(&p);
  }
  return Status::OK();
}

bool Executor::StartMove(const std::string& instance, Instance* r, Move* out) {
  *out = Move();
  out->instance = instance;
  std::unique_ptr<SqlConnection> rc;
  Status s = Connect(instance, &rc);
  if (s.ok()) s = ReadInstance(*rc, r);
  if (s.ok() && !r->replica.configured) s = Status::InvalidArgument(instance + " is not a replica");
  if (!s.ok()) out->refused = s.message();
  return s.ok();
}

Status Executor::MatchUp(const std::string& instance, const std::vector<std::string>& known, Move* out) {
  Instance r, m;
  if (!StartMove(instance, &r, out)) return Status::OK();
  std::unique_ptr<SqlConnection> mc;
  Status s = Connect(r.replica.Master(), &mc);
  if (s.ok()) s = ReadInstance(*mc, &m);
  if (s.ok()) {
    if (!m.replica.configured) {
      out->refused = m.name + ", the master of " + instance + ", is not a replica: nothing above it";
      return Status::OK();
    }
    return MatchBelow(instance, m.replica.Master(), out);
  }
  // The master is unreachable. On MariaDB a GTID names the server that
  // wrote the transaction: the known server with that server_id, other than
  // the master, is the one the master replicated from.
  const std::string unreachable = s.message();
  MariadbGtidPosition pos;
  if (r.mariadb && MariadbGtidPosition::Parse(r.gtid_slave_pos, &pos).ok() && !pos.empty()) {
    std::set<uint32_t> origins;
    for (const auto& [domain, g] : pos.domains()) origins.insert(g.server_id);
    for (const auto& k : known) {
      if (k == instance || k == r.replica.Master()) continue;
      std::unique_ptr<SqlConnection> c;
      Instance i;
      if (!Connect(k, &c).ok() || !ReadInstance(*c, &i).ok()) continue;
      if (origins.count(i.server_id) != 0 && i.log_bin) return MatchBelow(instance, k, out);
    }
  }
  out->refused = "cannot find the master's master: " + unreachable +
                 "; no known server wrote the instance's last transactions";
  return Status::OK();
}

Status Executor::Rematch(const std::string& instance, Move* out) {
  Instance r;
  if (!StartMove(instance, &r, out)) return Status::OK();
  return MatchBelow(instance, r.replica.Master(), out);
}

Status Executor::ReplicasOf(const std::string& master, const std::vector<std::string>& known,
                            std::vector<std::string>* out) {
  out->clear();
  std::set<std::string> seen;
  std::unique_ptr<SqlConnection> mc;
  if (Connect(master, &mc).ok()) {
    SqlResult hosts;
    if (mc->Query("SHOW SLAVE HOSTS", &hosts).ok()) {
      for (size_t i = 0; i < hosts.rows.size(); ++i) {
        std::string n = hosts.GetOr(i, "Host") + ":" + hosts.GetOr(i, "Port");
        if (seen.insert(n).second) out->push_back(n);
      }
    }
  }
  for (const auto& k : known) {
    if (seen.count(k) != 0 || k == master) continue;
    std::unique_ptr<SqlConnection> c;
    Instance i;
    if (!Connect(k, &c).ok() || !ReadReplicaStatus(*c, i, &i.replica).ok()) continue;
    if (i.replica.configured && i.replica.Master() == master && seen.insert(k).second) out->push_back(k);
  }
  if (out->empty()) {
    return Status::NotSupported(master + ": no replicas found (the master does not answer SHOW SLAVE HOSTS "
                                "and no known server replicates from it)");
  }
  return Status::OK();
}

Status Executor::MultiMatch(const std::string& master, const std::string& destination,
                            const std::vector<std::string>& known_replicas, std::vector<Move>* out) {
  out->clear();
  std::vector<std::string> replicas;
  Status s = ReplicasOf(master, known_replicas, &replicas);
  if (!s.ok()) return s;
  replicas.erase(std::remove(replicas.begin(), replicas.end(), destination), replicas.end());
  if (replicas.empty()) return Status::NotSupported(master + ": no replica to move besides " + destination);
  return MatchManyBelow(replicas, destination, out);
}

int PromotionPolicy::Rank(const std::string& instance) const {
  if (excluded.count(instance) != 0) return 4;
  auto it = rules.find(instance);
  if (it == rules.end()) return 2;
  const std::string& r = it->second;
  return r == "must" ? 0 : r == "prefer" ? 1 : r == "prefer_not" ? 3 : r == "must_not" ? 4 : 2;
}

Status Executor::RegroupReplicas(const std::string& master, const std::vector<std::string>& known_replicas,
                                 Regroup* out, const PromotionPolicy* policy) {
  *out = Regroup();
  out->master = master;
  std::vector<std::string> names;
  Status s = ReplicasOf(master, known_replicas, &names);
  if (!s.ok()) return s;
  struct Replica {
    std::unique_ptr<SqlConnection> c;
    Instance i;
  };
  std::vector<Replica> replicas;
  std::vector<std::string> ignored_log;
  for (const auto& n : names) {
    Replica r;
    s = Connect(n, &r.c);
    if (s.ok()) s = ReadInstance(*r.c, &r.i);
    if (s.ok() && r.i.replica.Master() == master) {
      s = StopReplicationNicely(*r.c, &r.i, options_.stop_timeout, &ignored_log);
    }
    if (!s.ok()) {
      Move m;
      m.instance = n;
      m.refused = "unreachable: " + s.message();
      out->moves.push_back(std::move(m));
      continue;
    }
    if (r.i.replica.Master() == master) replicas.push_back(std::move(r));
  }
  if (replicas.empty()) return Status::NotSupported(master + ": no reachable replica");
  // Most advanced first (all are in the master's coordinates).
  std::stable_sort(replicas.begin(), replicas.end(), [](const Replica& a, const Replica& b) {
    return a.i.replica.exec_master > b.i.replica.exec_master;
  });
  for (const auto& r : replicas) out->replicas.push_back(r.i.name + " at " + r.i.replica.exec_master.ToString());
  const auto serves = [](const Replica& r) {
    return r.i.log_bin && r.i.log_slave_updates && r.i.replica.sql_delay == 0;
  };
  const Replica* candidate = nullptr;
  for (const auto& r : replicas) {
    if (serves(r)) {
      candidate = &r;
      break;
    }
  }
  if (candidate == nullptr) {
    for (auto& r : replicas) (void)RunLogged(*r.c, StartReplicaSql(r.i), &ignored_log);
    return Status::NotSupported(master + ": no replica can serve the others (none writes binary logs with "
                                "log_slave_updates)");
  }
  if (policy != nullptr) {
    // The best rule wins; among equals, the most advanced.
    const Replica* preferred = nullptr;
    std::string why;
    for (const auto& r : replicas) {
      const int rank = policy->Rank(r.i.name);
      if (!serves(r) || rank >= 4) {
        auto ex = policy->excluded.find(r.i.name);
        why += "; " + r.i.name + ": " +
               (ex != policy->excluded.end() ? ex->second
                                             : rank >= 4 ? std::string("promotion rule must_not")
                                                         : std::string("cannot serve the others"));
        continue;
      }
      if (preferred == nullptr || rank < policy->Rank(preferred->i.name)) preferred = &r;
    }
    if (preferred == nullptr) {
      for (auto& r : replicas) (void)RunLogged(*r.c, StartReplicaSql(r.i), &ignored_log);
      return Status::NotSupported(master + ": no replica may be promoted" + why);
    }
    if (preferred->i.replica.exec_master == candidate->i.replica.exec_master) {
      candidate = preferred;  // as advanced: promoted directly
    } else if (preferred != candidate) {
      out->preferred = preferred->i.name;
    }
  }
  out->candidate = candidate->i.name;
  std::vector<std::string> to_move;
  for (auto& r : replicas) {
    if (&r == candidate) continue;
    if (r.i.replica.exec_master > candidate->i.replica.exec_master) {
      Move m;
      m.instance = r.i.name;
      m.destination = candidate->i.name;
      m.refused = r.i.name + " is ahead of the candidate " + candidate->i.name + " (" +
                  r.i.replica.exec_master.ToString() + " > " + candidate->i.replica.exec_master.ToString() + ")";
      (void)RunLogged(*r.c, StartReplicaSql(r.i), &m.statements);
      out->moves.push_back(std::move(m));
      continue;
    }
    to_move.push_back(r.i.name);
  }
  std::vector<Move> moved;
  s = MatchManyBelow(to_move, candidate->i.name, &moved);
  if (!s.ok()) return s;
  for (auto& m : moved) out->moves.push_back(std::move(m));
  (void)RunLogged(*candidate->c, StartReplicaSql(candidate->i), &ignored_log);
  return Status::OK();
}

}  // namespace tidewatch::pgtid
