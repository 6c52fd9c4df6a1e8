#include "pgtid/master_takeover.h"

#include <algorithm>
#include <future>
#include <memory>
#include <thread>

#include "base/host_port.h"
#include "pgtid/instance.h"
#include "pgtid/replication_steps.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

using Node = ServerSession;

Status Open(const ExecutorOptions& o, const std::string& name, std::chrono::milliseconds read_timeout, Node* n) {
  return OpenSession(name, o.user, o.password, read_timeout, n);
}

// MASTER_POS_WAIT was renamed SOURCE_POS_WAIT in MySQL 8.0.26.
std::string PositionWaitSql(const SqlConnection& c, const Instance& i, const BinlogCoordinates& at,
                            std::chrono::milliseconds timeout) {
  const bool source = !i.mariadb && (i.major > 8 || (i.major == 8 && (i.minor > 0 || i.patch >= 26)));
  const double seconds = std::max<double>(0.001, timeout.count() / 1000.0);
  return std::string("SELECT ") + (source ? "SOURCE_POS_WAIT(" : "MASTER_POS_WAIT(") + c.Literal(at.file) + ", " +
         std::to_string(at.pos) + ", " + std::to_string(seconds) + ")";
}

// Waits until `n`'s SQL thread has executed `at` of its master's binlog;
// "" when it has, or why not.
std::string WaitFor(Node& n, const BinlogCoordinates& at, std::chrono::milliseconds timeout,
                    std::vector<std::string>* log) {
  const std::string sql = PositionWaitSql(*n.c, n.i, at, timeout);
  log->push_back(n.name + ": " + sql);
  SqlResult r;
  Status s = n.c->Query(sql, &r);
  if (!s.ok()) return s.message();
  if (r.rows.empty() || r.rows[0].empty() || !r.rows[0][0]) {
    return n.name + " cannot reach " + at.ToString() + ": its replication SQL thread is not running";
  }
  if (*r.rows[0][0] == "-1") {
    return n.name + " did not reach " + at.ToString() + " within " + std::to_string(timeout.count()) + " ms";
  }
  return "";
}

Status Exec(Node& n, const std::string& sql, std::vector<std::string>* log, const std::string& shown = "") {
  log->push_back(n.name + ": " + (shown.empty() ? sql : shown));
  return n.c->Execute(sql);
}

bool IsReplicaOf(const Instance& r, const Node& master) {
  if (!r.replica.configured) return false;
  if (r.replica.Master() == master.name) return true;
  // The master may be named differently from how the replica reaches it:
  // localhost and 127.0.0.1 are the same host when the ports agree.
  std::string host;
  uint16_t port = 0;
  return SplitHostPort(master.name, &host, &port) && port == r.replica.master_port &&
         (r.replica.master_host == "localhost" || r.replica.master_host == "127.0.0.1") &&
         (host == "localhost" || host == "127.0.0.1");
}

}  // namespace

std::string ChooseTakeoverCandidate(const ExecutorOptions& options, const std::string& master,
                                    const std::vector<std::string>& replicas,
                                    const std::vector<std::string>& excluded, std::string* why) {
  Node m;
  if (Status s = Open(options, master, std::chrono::milliseconds(10000), &m); !s.ok()) {
    *why = s.message();
    return "";
  }
  std::string best;
  BinlogCoordinates best_at;
  std::vector<std::string> reasons;
  for (const auto& name : replicas) {
    if (std::find(excluded.begin(), excluded.end(), name) != excluded.end()) {
      reasons.push_back(name + " is excluded from promotion");
      continue;
    }
    Node n;
    if (Status s = Open(options, name, std::chrono::milliseconds(10000), &n); !s.ok()) {
      reasons.push_back(s.message());
      continue;
    }
    const ReplicaStatus& rs = n.i.replica;
    std::string no;
    if (!IsReplicaOf(n.i, m)) no = name + " does not replicate from " + master;
    else if (rs.io_running != "Yes" || !rs.sql_running) no = name + ": replication is not running";
    else if (!n.i.log_bin || !n.i.log_slave_updates) no = name + " lacks log_bin or log_slave_updates";
    else if (n.i.mariadb != m.i.mariadb) no = name + " is not the master's server flavour";
    else if (std::string m = options.maintenance ? options.maintenance(name) : ""; !m.empty()) {
      no = name + " is under maintenance: " + m;
    }
    if (!no.empty()) {
      reasons.push_back(no);
      continue;
    }
    const auto key = [](const BinlogCoordinates& c) {
      return std::make_pair(BinlogCoordinates::FileNumber(c.file), c.pos);
    };
    if (best.empty() || key(rs.exec_master) > key(best_at)) {
      best = name;
      best_at = rs.exec_master;
    }
  }
  if (best.empty()) {
    *why = "no replica of " + master + " can take over";
    for (const auto& r : reasons) *why += "; " + r;
  }
  return best;
}

Status TakeOverMaster(const ExecutorOptions& options, const TakeoverRequest& q, TakeoverResult* out) {
  *out = TakeoverResult();
  if (q.master.empty() || q.designated.empty()) return Status::InvalidArgument("a takeover needs a master and a designated replica");
  if (q.master == q.designated) return Status::InvalidArgument("the designated replica is the master itself");
  const auto read_timeout = q.catch_up_timeout + std::chrono::seconds(10);

  auto step = [&](const std::string& instance, const std::string& what) -> TakeoverStep& {
    TakeoverStep st;
    st.instance = instance;
    st.step = what;
    out->steps.push_back(std::move(st));
    return out->steps.back();
  };
  auto refuse = [&](std::string why) {
    out->refused = std::move(why);
    return Status::OK();
  };

  // Everything read and checked before anything changes.
  Node m, d;
  std::vector<Node> sibs(q.siblings.size());
  {
    auto& st = step(q.master, "check");
    const auto t0 = Clock::now();
    Status s = Open(options, q.master, read_timeout, &m);
    if (s.ok()) s = Open(options, q.designated, read_timeout, &d);
    // A replica just started (a regroup's interim master) may still be connecting.
    for (int k = 0; s.ok() && k < 30 && d.i.replica.io_running == "Connecting"; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      s = ReadReplicaStatus(*d.c, d.i, &d.i.replica);
    }
    for (size_t k = 0; s.ok() && k < q.siblings.size(); ++k) s = Open(options, q.siblings[k], read_timeout, &sibs[k]);
    st.millis = MillisSince(t0);
    if (!s.ok()) return refuse(st.detail = s.message());
    std::string why;
    if (!m.i.log_bin) why = q.master + " does not write binary logs";
    else if (!IsReplicaOf(d.i, m)) why = q.designated + " is not a replica of " + q.master;
    else if (d.i.replica.io_running != "Yes" || !d.i.replica.sql_running) {
      why = q.designated + ": replication is not running (IO " + d.i.replica.io_running + ", SQL " +
            (d.i.replica.sql_running ? "Yes" : "No") + ")";
    } else if (!d.i.log_bin || !d.i.log_slave_updates) {
      why = q.designated + " lacks log_bin or log_slave_updates: its replicas could not follow it";
    } else if (d.i.mariadb != m.i.mariadb) {
      why = q.designated + " and " + q.master + " are not the same server flavour";
    } else if (d.i.server_id == m.i.server_id) {
      why = q.designated + " and " + q.master + " have the same server_id";
    } else if (options.maintenance) {
      for (const auto* name : {&q.master, &q.designated}) {
        if (std::string w = options.maintenance(*name); !w.empty()) why = *name + " is under maintenance: " + w;
      }
    }
    for (size_t k = 0; why.empty() && k < sibs.size(); ++k) {
      if (!IsReplicaOf(sibs[k].i, m)) why = q.siblings[k] + " is not a replica of " + q.master;
    }
    if (!why.empty()) return refuse(st.detail = why);
    st.ok = true;
    st.detail = q.designated + " can take over from " + q.master;
  }

  // 1. The master read-only; T its coordinates then.
  const bool was_read_only = m.i.read_only;
  auto restore_master = [&](const std::string& why) {
    auto& st = step(q.master, "rollback");
    const auto t0 = Clock::now();
    Status s = was_read_only ? Status::OK() : Exec(m, "SET GLOBAL read_only = 0", &st.statements);
    st.ok = s.ok();
    st.millis = MillisSince(t0);
    st.detail = s.ok() ? "read_only restored to " + std::string(was_read_only ? "1" : "0") : s.message();
    out->rolled_back = true;
    out->refused = why + (s.ok() ? "; rolled back" : "; rollback failed: " + s.message());
    return Status::OK();
  };
  {
    auto& st = step(q.master, "read-only");
    const auto t0 = Clock::now();
    Status s = Exec(m, "SET GLOBAL read_only = 1", &st.statements);
    if (s.ok()) s = ReadInstance(*m.c, &m.i);
    st.millis = MillisSince(t0);
    if (!s.ok()) {
      st.detail = s.message();
      return restore_master(q.master + ": " + s.message());
    }
    out->takeover_point = m.i.self;
    st.ok = true;
    st.detail = "read_only=1 at " + m.i.self.ToString();
  }

  // 2. Every direct replica applies up to T, then stops there. A write that
  // slips past read_only (SUPER) moves the master: the replicas start again
  // and wait for the new point, until the deadline.
  const auto deadline = Clock::now() + q.catch_up_timeout;
  std::vector<Node*> all = {&d};
  for (auto& n : sibs) all.push_back(&n);
  std::vector<bool> reached(all.size(), false);
  while (true) {
    const BinlogCoordinates t = out->takeover_point;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    std::vector<std::future<std::string>> waits;
    std::vector<std::vector<std::string>> logs(all.size());
    const auto t0 = Clock::now();
    for (size_t k = 0; k < all.size(); ++k) {
      waits.push_back(std::async(std::launch::async, [&, k] {
        return WaitFor(*all[k], t, std::max(left, std::chrono::milliseconds(1)), &logs[k]);
      }));
    }
    std::string designated_why;
    for (size_t k = 0; k < all.size(); ++k) {
      const std::string why = waits[k].get();
      auto& st = step(all[k]->name, "catch-up");
      st.statements = logs[k];
      st.millis = MillisSince(t0);
      st.ok = why.empty();
      st.detail = why.empty() ? "executed up to " + t.ToString() : why;
      reached[k] = why.empty();
      if (k == 0) designated_why = why;
    }
    if (!reached[0]) return restore_master(designated_why);
    // Stopped where they are, then compared with the master once more.
    auto& st = step(q.designated, "stop");
    const auto t1 = Clock::now();
    Status s;
    for (size_t k = 0; s.ok() && k < all.size(); ++k) {
      if (!reached[k]) continue;
      s = Exec(*all[k], StopReplicaSql(all[k]->i), &st.statements);
      if (s.ok()) s = ReadReplicaStatus(*all[k]->c, all[k]->i, &all[k]->i.replica);
    }
    Instance now;
    if (s.ok()) s = ReadInstance(*m.c, &now);
    st.millis = MillisSince(t1);
    if (!s.ok()) {
      st.detail = s.message();
      for (size_t k = 0; k < all.size(); ++k) (void)Exec(*all[k], StartReplicaSql(all[k]->i), &st.statements);
      return restore_master(s.message());
    }
    if (now.self == t && d.i.replica.exec_master == t) {
      st.ok = true;
      st.detail = "replicas stopped at " + t.ToString();
      for (size_t k = 1; k < all.size(); ++k) {
        if (reached[k] && all[k]->i.replica.exec_master != t) {
          // Stopped elsewhere than T: it stays below the old master.
          (void)Exec(*all[k], StartReplicaSql(all[k]->i), &st.statements);
          reached[k] = false;
        }
      }
      break;
    }
    for (size_t k = 0; k < all.size(); ++k) {
      if (reached[k]) (void)Exec(*all[k], StartReplicaSql(all[k]->i), &st.statements);
    }
    st.detail = "the master moved from " + t.ToString() + " to " + now.self.ToString() +
                " after read_only=1 (a writer with SUPER?); waiting again";
    if (Clock::now() >= deadline) {
      return restore_master("writes continued on " + q.master + " after read_only=1: moved from " + t.ToString() +
                            " to " + now.self.ToString());
    }
    out->takeover_point = now.self;
  }
  // Siblings that did not reach T were never stopped: they keep replicating
  // from the old master, which is about to follow the new one.

  // 3. The designated replica becomes the master: the point of no return.
  {
    auto& st = step(q.designated, "promote");
    const auto t0 = Clock::now();
    Status s = Exec(d, d.i.ReplicaSpelling() ? "RESET REPLICA ALL" : "RESET SLAVE ALL", &st.statements);
    if (s.ok() && q.make_writable) s = Exec(d, "SET GLOBAL read_only = 0", &st.statements);
    if (s.ok()) s = ReadInstance(*d.c, &d.i);
    st.millis = MillisSince(t0);
    if (!s.ok()) {
      // RESET may have happened: put its replication back as it was.
      ChangeMasterTarget back;
      SplitHostPort(q.master, &back.host, &back.port);
      back.coordinates = out->takeover_point;
      st.detail = s.message();
      (void)Exec(d, ChangeMasterSql(*d.c, d.i, back), &st.statements);
      for (auto* n : all) (void)Exec(*n, StartReplicaSql(n->i), &st.statements);
      return restore_master(q.designated + ": " + s.message());
    }
    out->promoted = true;
    out->successor_at = d.i.self;
    st.ok = true;
    st.detail = std::string("replication reset") + (q.make_writable ? ", read_only=0" : "") + ", binlog at " +
                d.i.self.ToString();
  }

  // 4. The siblings below the new master.
  ChangeMasterTarget to;
  SplitHostPort(q.designated, &to.host, &to.port);
  to.coordinates = out->successor_at;
  std::string after;  // what went wrong after the promotion
  for (size_t k = 1; k < all.size(); ++k) {
    Node& n = *all[k];
    if (!reached[k]) {
      out->left.push_back(n.name);
      continue;
    }
    auto& st = step(n.name, "repoint");
    const auto t0 = Clock::now();
    ChangeMasterTarget t = to;
    if (n.i.replica.UsesGtid()) {
      t.coordinates = {};
      t.use_gtid = n.i.mariadb ? (n.i.replica.using_gtid == "Current_Pos" ? "current_pos" : "slave_pos") : "auto";
    }
    Status s = Exec(n, ChangeMasterSql(*n.c, n.i, t), &st.statements);
    if (s.ok()) s = Exec(n, StartReplicaSql(n.i), &st.statements);
    st.millis = MillisSince(t0);
    st.ok = s.ok();
    if (s.ok()) {
      st.detail = "below " + q.designated + (t.use_gtid.empty() ? " at " + to.coordinates.ToString() : " by GTID");
      out->moved.push_back(n.name);
    } else {
      st.detail = s.message();
      after += (after.empty() ? "" : "; ") + n.name + ": " + s.message();
      // Still at T of the old master: replicating from it again loses nothing.
      (void)Exec(n, StartReplicaSql(n.i), &st.statements);
      out->left.push_back(n.name);
    }
  }

  // 5. The old master below the new one; read-only it stays.
  {
    auto& st = step(q.master, "demote");
    const auto t0 = Clock::now();
    std::string sql = ChangeMasterSql(*m.c, m.i, to), shown = sql;
    if (!q.replication_user.empty()) {
      const std::string k = m.i.ReplicaSpelling() ? "SOURCE_" : "MASTER_";
      sql += ", " + k + "USER=" + m.c->Literal(q.replication_user) + ", " + k + "PASSWORD=" +
             m.c->Literal(q.replication_password);
      shown += ", " + k + "USER=" + m.c->Literal(q.replication_user) + ", " + k + "PASSWORD='********'";
    }
    // A master that was a replica once (a regroup's interim master) still has
    // its replication threads: CHANGE MASTER wants them stopped.
    Status s = m.i.replica.configured ? Exec(m, StopReplicaSql(m.i), &st.statements) : Status::OK();
    if (s.ok()) s = Exec(m, sql, &st.statements, shown);
    if (s.ok() && q.start_old_master) s = Exec(m, StartReplicaSql(m.i), &st.statements);
    st.millis = MillisSince(t0);
    st.ok = s.ok();
    if (s.ok()) {
      st.detail = "below " + q.designated + " at " + to.coordinates.ToString() +
                  (q.start_old_master ? ", replicating" : ", replication not started") +
                  (q.replication_user.empty() ? " (no replication credentials: ReplicationCredentialsQuery)" : "");
    } else {
      st.detail = s.message();
      after += (after.empty() ? "" : "; ") + q.master + ": " + s.message();
    }
  }
  if (!after.empty()) out->refused = "promoted " + q.designated + ", but: " + after;
  return Status::OK();
}

}  // namespace tidewatch::pgtid
