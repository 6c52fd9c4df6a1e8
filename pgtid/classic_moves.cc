#include "pgtid/classic_moves.h"

#include "base/host_port.h"
#include "pgtid/replication_steps.h"

namespace tidewatch::pgtid {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kReadTimeout{30000};

double MillisSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string NameOf(const ChangeMasterTarget& t) { return t.host + ":" + std::to_string(t.port); }

// A move of `r` begun: where it replicates from now, and how.
void Begin(const ServerSession& r, Move* m) {
  m->instance = r.name;
  m->from_master = r.i.replica.Master();
  m->previous = r.i.replica.exec_master;
  m->previous_gtid = ExecutedGtid(r.i);
  m->method = r.i.replica.UsesGtid() ? "gtid" : "file:pos";
}

// The target that puts `r` below host:port: by GTID when `r` replicates by
// GTID, else at `at`.
ChangeMasterTarget Below(const Instance& r, const std::string& host, uint16_t port, const BinlogCoordinates& at) {
  ChangeMasterTarget t = PositionOf(r, host, port);
  if (t.use_gtid.empty()) t.coordinates = at;
  return t;
}

// `r` (stopped) pointed at `t`, started and checked; on failure put back as
// `before`. m->moved tells which.
void ChangeAndVerify(ServerSession& r, const Instance& before, const ChangeMasterTarget& t,
                     std::chrono::milliseconds timeout, Move* m) {
  const std::string dest = NameOf(t);
  m->destination = dest;
  m->coordinates = t.coordinates;
  Status s = RunLogged(*r.c, ChangeMasterSql(*r.c, r.i, t), &m->statements);
  if (s.ok()) s = RunLogged(*r.c, StartReplicaSql(r.i), &m->statements);
  const std::string problem = s.ok() ? AwaitReplicating(*r.c, r.i, dest, timeout) : s.message();
  if (problem.empty()) {
    m->moved = true;
    return;
  }
  m->refused = r.name + " below " + dest + ": " + problem;
  const std::string why = RestoreReplication(*r.c, before, &m->statements);
  m->rolled_back = why.empty();
  if (!why.empty()) m->refused += "; rollback failed: " + why;
}

void Restart(ServerSession& n, std::vector<std::string>* log) { (void)RunLogged(*n.c, StartReplicaSql(n.i), log); }

// The end of one move: why it was refused ("" when it was not), and how long
// it took.
class Outcome {
 public:
  explicit Outcome(Move* m) : m_(m) {}
  Status operator()(std::string why) {
    if (!why.empty()) m_->refused = std::move(why);
    m_->millis = MillisSince(started_);
    return Status::OK();
  }

 private:
  Move* m_;
  Clock::time_point started_ = Clock::now();
};

}  // namespace

Status ClassicMoves::OpenReplica(const std::string& instance, Move* out, ServerSession* r, std::string* why) const {
  *out = Move{};
  out->instance = instance;
  if (!ParseHostPort(instance)) return Status::InvalidArgument("\"" + instance + "\" is not host:port");
  Status s = OpenSession(instance, options_.user, options_.password, kReadTimeout, r);
  if (!s.ok()) {
    *why = s.message();
  } else if (!r->i.replica.configured) {
    *why = instance + " is not a replica";
  } else {
    Begin(*r, out);
  }
  return Status::OK();
}

std::string ClassicMoves::Maintenance(const std::string& name) const {
  if (!options_.maintenance) return {};
  std::string why = options_.maintenance(name);
  return why.empty() ? why : name + " is under maintenance: " + why;
}

Status ClassicMoves::MoveUp(const std::string& instance, Move* out) {
  Outcome done(out);
  ServerSession r, m;
  std::string why;
  Status s = OpenReplica(instance, out, &r, &why);
  if (!s.ok() || !why.empty()) return s.ok() ? done(why) : s;
  s = OpenSession(r.i.replica.Master(), options_.user, options_.password, kReadTimeout, &m);
  if (!s.ok()) return done("cannot read its master: " + s.message());
  if (!m.i.replica.configured) return done("its master " + m.name + " is not a replica itself");
  const std::string grandparent = m.i.replica.Master();
  if (grandparent == instance) return done(instance + " and " + m.name + " are co-masters");
  if (std::string why = CannotReplicate(r.i, m.i); !why.empty()) return done(why);
  ServerSession g;
  if (OpenSession(grandparent, options_.user, options_.password, kReadTimeout, &g).ok()) {
    if (std::string why = CannotReplicate(r.i, g.i); !why.empty()) return done(why);
  }
  for (const std::string& n : {instance, m.name}) {
    if (std::string why = Maintenance(n); !why.empty()) return done(why);
  }

  // By GTID the replica's position holds on any server of the chain; by
  // file and position it must equal its master's, so both stop there.
  const bool gtid = r.i.replica.UsesGtid();
  if (!gtid) {
    s = StopReplication(*m.c, &m.i, &out->statements);
    if (!s.ok()) {
      Restart(m, &out->statements);
      return done(s.message());
    }
  }
  s = StopReplication(*r.c, &r.i, &out->statements);
  std::string problem = s.ok() ? "" : s.message();
  if (problem.empty() && !gtid) {
    problem = StartReplicationUntil(*r.c, &r.i, m.i.self, options_.stop_timeout, &out->statements);
  }
  if (problem.empty()) {
    if (!gtid) out->verified = "caught up with " + m.name + " at " + m.i.self.ToString();
    ChangeAndVerify(r, r.i, Below(r.i, m.i.replica.master_host, m.i.replica.master_port, m.i.replica.exec_master),
                    options_.start_timeout, out);
  } else {
    out->refused = problem;
    Restart(r, &out->statements);
  }
  if (!gtid) Restart(m, &out->statements);
  return done("");
}

Status ClassicMoves::MoveUpReplicas(const std::string& instance, const std::vector<std::string>& replicas,
                                    std::vector<Move>* out) {
  out->clear();
  ServerSession m;
  Status s = OpenSession(instance, options_.user, options_.password, kReadTimeout, &m);
  if (!s.ok()) return s;
  if (!m.i.replica.configured) return Status::NotSupported(instance + " is not a replica");
  if (replicas.empty()) return Status::OK();
  if (std::string why = Maintenance(instance); !why.empty()) return Status::NotSupported(why);

  std::vector<std::string> log;
  s = StopReplication(*m.c, &m.i, &log);
  if (!s.ok()) {
    Restart(m, &log);
    return s;
  }
  for (const auto& name : replicas) {
    Move& mv = out->emplace_back();
    const auto started = Clock::now();
    mv.instance = name;
    ServerSession r;
    s = OpenSession(name, options_.user, options_.password, kReadTimeout, &r);
    std::string problem = s.ok() ? "" : s.message();
    if (problem.empty()) {
      Begin(r, &mv);
      if (!r.i.replica.configured || r.i.replica.Master() != instance) {
        problem = name + " does not replicate from " + instance;
      } else if (std::string why = CannotReplicate(r.i, m.i); !why.empty()) {
        problem = why;
      } else if (std::string busy = Maintenance(name); !busy.empty()) {
        problem = busy;
      }
    }
    if (problem.empty()) {
      s = StopReplication(*r.c, &r.i, &mv.statements);
      problem = s.ok() ? "" : s.message();
      if (problem.empty() && !r.i.replica.UsesGtid()) {
        problem = StartReplicationUntil(*r.c, &r.i, m.i.self, options_.stop_timeout, &mv.statements);
      }
      if (problem.empty()) {
        ChangeAndVerify(r, r.i, Below(r.i, m.i.replica.master_host, m.i.replica.master_port, m.i.replica.exec_master),
                        options_.start_timeout, &mv);
      } else {
        Restart(r, &mv.statements);
      }
    }
    if (!problem.empty()) mv.refused = problem;
    mv.millis = MillisSince(started);
  }
  Restart(m, &log);
  if (!out->empty()) out->front().statements.insert(out->front().statements.begin(), log.begin(), log.end());
  return Status::OK();
}

Status ClassicMoves::MoveBelow(const std::string& instance, const std::string& sibling, Move* out) {
  std::string sibling_host;
  uint16_t sibling_port = 0;
  if (!SplitHostPort(sibling, &sibling_host, &sibling_port)) {
    return Status::InvalidArgument("\"" + sibling + "\" is not host:port");
  }
  Outcome done(out);
  ServerSession r, t;
  std::string why;
  Status s = OpenReplica(instance, out, &r, &why);
  out->destination = sibling;
  if (!s.ok() || !why.empty()) return s.ok() ? done(why) : s;
  out->destination = sibling;
  s = OpenSession(sibling, options_.user, options_.password, kReadTimeout, &t);
  if (!s.ok()) return done(s.message());
  if (!t.i.replica.configured || t.i.replica.Master() != r.i.replica.Master() || instance == sibling) {
    return done("instances are not siblings: " + instance + " replicates from " + r.i.replica.Master() + ", " +
                sibling + (t.i.replica.configured ? " from " + t.i.replica.Master() : " from no one"));
  }
  if (std::string why = CannotReplicate(r.i, t.i); !why.empty()) return done(why);
  for (const std::string& n : {instance, sibling}) {
    if (std::string why = Maintenance(n); !why.empty()) return done(why);
  }

  s = StopReplication(*r.c, &r.i, &out->statements);
  if (s.ok()) s = StopReplication(*t.c, &t.i, &out->statements);
  std::string problem = s.ok() ? "" : s.message();
  // Both stopped; the one behind runs up to the other, after which the
  // sibling's own coordinates stand for the instance's position.
  if (problem.empty() && r.i.replica.exec_master < t.i.replica.exec_master) {
    problem = StartReplicationUntil(*r.c, &r.i, t.i.replica.exec_master, options_.stop_timeout, &out->statements);
  } else if (problem.empty() && t.i.replica.exec_master < r.i.replica.exec_master) {
    problem = StartReplicationUntil(*t.c, &t.i, r.i.replica.exec_master, options_.stop_timeout, &out->statements);
  }
  if (problem.empty()) {
    out->verified = "both at " + r.i.replica.exec_master.ToString() + " of " + r.i.replica.Master();
    ChangeAndVerify(r, r.i, Below(r.i, sibling_host, sibling_port, t.i.self), options_.start_timeout, out);
  } else {
    out->refused = problem;
    Restart(r, &out->statements);
  }
  Restart(t, &out->statements);
  return done("");
}

Status ClassicMoves::Repoint(const std::string& instance, const std::string& master, Move* out) {
  Outcome done(out);
  ServerSession r, t;
  std::string why;
  Status s = OpenReplica(instance, out, &r, &why);
  if (!s.ok() || !why.empty()) return s.ok() ? done(why) : s;
  const std::string to = master.empty() ? r.i.replica.Master() : master;
  out->destination = to;
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(to, &host, &port)) return Status::InvalidArgument("\"" + to + "\" is not host:port");
  const bool same = to == r.i.replica.Master();
  s = OpenSession(to, options_.user, options_.password, kReadTimeout, &t);
  const bool reachable = s.ok();
  // The own master may be dead (a relay log corruption is repaired all the
  // same); another server must be read to be trusted.
  if (!reachable && !same) return done("cannot read " + to + ": " + s.message());
  if (reachable) {
    if (std::string why = CannotReplicate(r.i, t.i); !why.empty()) return done(why);
  }
  if (std::string why = Maintenance(instance); !why.empty()) return done(why);

  s = StopReplication(*r.c, &r.i, &out->statements);
  if (!s.ok()) {
    Restart(r, &out->statements);
    return done(s.message());
  }
  const ChangeMasterTarget target = PositionOf(r.i, host, port);
  if (reachable && !same && target.use_gtid.empty() && t.i.self < target.coordinates) {
    Restart(r, &out->statements);
    return done(to + " has written only up to " + t.i.self.ToString() + ", before " + instance + "'s position " +
                target.coordinates.ToString());
  }
  if (reachable) {
    ChangeAndVerify(r, r.i, target, options_.start_timeout, out);
    return done("");
  }
  out->destination = to;
  out->coordinates = target.coordinates;
  s = RunLogged(*r.c, ChangeMasterSql(*r.c, r.i, target), &out->statements);
  if (s.ok()) s = RunLogged(*r.c, StartReplicaSql(r.i), &out->statements);
  out->moved = s.ok();
  out->verified = "not verified: " + to + " cannot be read";
  return done(s.ok() ? "" : s.message());
}

Status ClassicMoves::RepointReplicas(const std::string& instance, const std::vector<std::string>& replicas,
                                     std::vector<Move>* out) {
  out->clear();
  for (const auto& r : replicas) {
    Status s = Repoint(r, instance, &out->emplace_back());
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status ClassicMoves::TakeMaster(const std::string& instance, std::vector<Move>* out) {
  out->assign(2, Move{});
  Move& up = (*out)[0];
  Move& down = (*out)[1];
  Outcome up_done(&up), down_done(&down);
  auto done = [&](std::string why) {
    (void)down_done(down.refused.empty() && !down.moved ? why : "");
    return up_done(up.refused.empty() ? why : "");
  };
  ServerSession r, m;
  std::string why;
  Status s = OpenReplica(instance, &up, &r, &why);
  if (!s.ok() || !why.empty()) return s.ok() ? done(why) : s;
  s = OpenSession(r.i.replica.Master(), options_.user, options_.password, kReadTimeout, &m);
  if (!s.ok()) return done("cannot read its master: " + s.message());
  down.instance = m.name;
  down.destination = instance;
  if (!m.i.replica.configured) {
    return done(m.name + " is a master, not a replica itself: take-master swaps a replica with an intermediate "
                "master (for a cluster's master: graceful-master-takeover)");
  }
  Begin(m, &down);
  down.destination = instance;
  const std::string grandparent = m.i.replica.Master();
  if (grandparent == instance) return done(m.name + " is co-master with " + instance + ": nothing to take");
  ServerSession g;
  if (OpenSession(grandparent, options_.user, options_.password, kReadTimeout, &g).ok() &&
      g.i.replica.configured && g.i.replica.Master() == m.name) {
    return done(m.name + " is co-master with " + grandparent + ": cannot take it");
  }
  if (std::string why = CannotReplicate(m.i, r.i); !why.empty()) return done(why);
  for (const std::string& n : {instance, m.name}) {
    if (std::string why = Maintenance(n); !why.empty()) return done(why);
  }

  std::vector<std::string>& log = up.statements;
  s = StopReplication(*m.c, &m.i, &log);
  if (s.ok()) s = StopReplication(*r.c, &r.i, &log);
  std::string problem = s.ok() ? "" : s.message();
  // The replica runs up to its master's own coordinates: the two are then
  // equal, and each one's coordinates stand for the other's position.
  if (problem.empty()) problem = StartReplicationUntil(*r.c, &r.i, m.i.self, options_.stop_timeout, &log);
  if (!problem.empty()) {
    Restart(r, &log);
    Restart(m, &log);
    return done(problem);
  }
  up.verified = "caught up with " + m.name + " at " + m.i.self.ToString();
  const Instance r_before = r.i, m_before = m.i;
  const ChangeMasterTarget r_to = Below(r.i, m.i.replica.master_host, m.i.replica.master_port, m.i.replica.exec_master);
  std::string host;
  uint16_t port = 0;
  SplitHostPort(instance, &host, &port);
  const ChangeMasterTarget m_to = Below(m.i, host, port, r.i.self);
  up.destination = NameOf(r_to);
  up.coordinates = r_to.coordinates;
  down.coordinates = m_to.coordinates;
  // Both changed before either starts: a failure leaves both where they
  // were, stopped at equal positions.
  s = RunLogged(*r.c, ChangeMasterSql(*r.c, r.i, r_to), &up.statements);
  if (s.ok()) {
    s = RunLogged(*m.c, ChangeMasterSql(*m.c, m.i, m_to), &down.statements);
    if (!s.ok()) (void)RestoreReplication(*r.c, r_before, &up.statements);
  }
  if (!s.ok()) {
    Restart(m, &down.statements);
    Restart(r, &up.statements);
    return done(s.message());
  }
  s = RunLogged(*r.c, StartReplicaSql(r.i), &up.statements);
  problem = s.ok() ? AwaitReplicating(*r.c, r.i, NameOf(r_to), options_.start_timeout) : s.message();
  if (problem.empty()) {
    s = RunLogged(*m.c, StartReplicaSql(m.i), &down.statements);
    problem = s.ok() ? AwaitReplicating(*m.c, m.i, instance, options_.start_timeout) : s.message();
    if (!problem.empty()) problem = m.name + " below " + instance + ": " + problem;
  } else {
    problem = instance + " below " + NameOf(r_to) + ": " + problem;
  }
  if (problem.empty()) {
    up.moved = down.moved = true;
    return done("");
  }
  // Undone: the master back below the grandparent, the replica below the master.
  std::string failed = RestoreReplication(*m.c, m_before, &down.statements);
  const std::string failed_r = RestoreReplication(*r.c, r_before, &up.statements);
  if (failed.empty()) failed = failed_r;
  up.rolled_back = down.rolled_back = failed.empty();
  return done(problem + (failed.empty() ? "" : "; rollback failed: " + failed));
}

Status ClassicMoves::MakeCoMaster(const std::string& instance, const std::string& user, const std::string& password,
                                  Move* out) {
  Outcome done(out);
  ServerSession r, m;
  std::string why;
  Status s = OpenReplica(instance, out, &r, &why);
  // The move is the master's: it will replicate from the instance.
  *out = Move{};
  out->destination = instance;
  if (!s.ok() || !why.empty()) return s.ok() ? done(why) : s;
  s = OpenSession(r.i.replica.Master(), options_.user, options_.password, kReadTimeout, &m);
  out->instance = r.i.replica.Master();
  if (!s.ok()) return done("cannot read its master: " + s.message());
  out->from_master = m.i.replica.configured ? m.i.replica.Master() : "";
  out->method = "file:pos";
  if (m.i.replica.configured && m.i.replica.Master() == instance) {
    return done(instance + " is already co-master of " + m.name);
  }
  if (m.i.replica.configured) return done(m.name + " is not a real master; it replicates from " + m.i.replica.Master());
  if (!r.i.read_only) {
    return done(instance + " is not read-only; first make it read-only before making it co-master");
  }
  if (std::string why = CannotReplicate(m.i, r.i); !why.empty()) return done(why);
  if (user.empty()) return done(m.name + " has no replication credentials to reach " + instance +
                                " (ReplicationCredentialsQuery)");
  for (const std::string& n : {instance, m.name}) {
    if (std::string why = Maintenance(n); !why.empty()) return done(why);
  }
  // What the replica logged from now on is the master's own (it is
  // read-only), which the master skips by server_id.
  s = ReadInstance(*r.c, &r.i);
  if (!s.ok()) return done(s.message());
  std::string host;
  uint16_t port = 0;
  SplitHostPort(instance, &host, &port);
  ChangeMasterTarget t;
  t.host = host;
  t.port = port;
  t.coordinates = r.i.self;
  out->coordinates = t.coordinates;
  const std::string k = m.i.ReplicaSpelling() ? "SOURCE_" : "MASTER_";
  const std::string change = ChangeMasterSql(*m.c, m.i, t) + ", " + k + "USER=" + m.c->Literal(user);
  out->statements.push_back(m.name + ": " + change + ", " + k + "PASSWORD='********'");
  s = m.c->Execute(change + ", " + k + "PASSWORD=" + m.c->Literal(password));
  if (s.ok()) s = RunLogged(*m.c, StartReplicaSql(m.i), &out->statements);
  const std::string problem = s.ok() ? AwaitReplicating(*m.c, m.i, instance, options_.start_timeout) : s.message();
  if (problem.empty()) {
    out->moved = true;
    out->verified = m.name + " replicates from " + instance;
    return done("");
  }
  // Undone: the master replicates from no one again.
  (void)RunLogged(*m.c, StopReplicaSql(m.i), &out->statements);
  s = RunLogged(*m.c, m.i.ReplicaSpelling() ? "RESET REPLICA ALL" : "RESET SLAVE ALL", &out->statements);
  out->rolled_back = s.ok();
  return done(m.name + " below " + instance + ": " + problem);
}

}  // namespace tidewatch::pgtid
