#include "pgtid/replication_steps.h"

#include <thread>

#include "base/host_port.h"
#include <tuple>

namespace tidewatch::pgtid {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPoll{20};

}  // namespace

Status OpenSession(const std::string& name, const std::string& user, const std::string& password,
                   std::chrono::milliseconds read_timeout, ServerSession* out) {
  SqlEndpoint ep;
  if (!SplitHostPort(name, &ep.host, &ep.port)) return Status::InvalidArgument("\"" + name + "\" is not host:port");
  ep.user = user;
  ep.password = password;
  ep.read_timeout = read_timeout;
  out->name = name;
  Status s = SqlConnection::Connect(ep, &out->c);
  if (!s.ok()) return s;
  return ReadInstance(*out->c, &out->i);
}

std::string CannotReplicate(const Instance& r, const Instance& t) {
  if (r.name == t.name) return "an instance cannot replicate from itself";
  if (r.server_id == t.server_id) {
    return r.name + " and " + t.name + " have the same server_id " + std::to_string(r.server_id);
  }
  if (!t.log_bin) return t.name + " does not write binary logs";
  if (t.replica.configured && !t.log_slave_updates) {
    return t.name + " is a replica without log_slave_updates: its binary logs lack what it replicates";
  }
  if (t.mariadb != r.mariadb) return r.name + " and " + t.name + " are not the same server flavour";
  if (std::tie(t.major, t.minor) > std::tie(r.major, r.minor)) {
    return t.name + " runs " + t.version + ", newer than " + r.version + " on " + r.name;
  }
  if (t.binlog_format != r.binlog_format) {
    return "binlog formats differ: " + r.name + " logs " + r.binlog_format + ", " + t.name + " logs " +
           t.binlog_format;
  }
  if (t.replica.configured && t.replica.has_filters != r.replica.has_filters) {
    return (r.replica.has_filters ? r.name : t.name) + " has replication filters and " +
           (r.replica.has_filters ? t.name : r.name) + " has none";
  }
  return {};
}

Status RunLogged(SqlConnection& c, const std::string& sql, std::vector<std::string>* log) {
  log->push_back(c.endpoint().Name() + ": " + sql);
  return c.Execute(sql);
}

Status StopReplication(SqlConnection& c, Instance* i, std::vector<std::string>* log) {
  Status s = RunLogged(c, StopReplicaSql(*i), log);
  if (!s.ok()) return s;
  return ReadInstance(c, i);
}

Status StopReplicationNicely(SqlConnection& c, Instance* i, std::chrono::milliseconds timeout,
                             std::vector<std::string>* log) {
  Status s = RunLogged(c, StopReplicaSql(*i, ReplicaThreads::kIo), log);
  if (!s.ok()) return s;
  // The relay log applied: executed up to what was read — or, when the IO
  // thread stopped inside a transaction, everything complete applied and
  // the SQL thread waiting for the rest (which CHANGE MASTER discards).
  const auto deadline = Clock::now() + timeout;
  ReplicaStatus r;
  while (true) {
    s = ReadReplicaStatus(c, *i, &r);
    if (!s.ok()) return s;
    if (!r.sql_running || r.exec_master == r.read_master || r.AppliedAllRelayLog() || Clock::now() > deadline) break;
    std::this_thread::sleep_for(kPoll);
  }
  return StopReplication(c, i, log);
}

std::string StartReplicationUntil(SqlConnection& c, Instance* i, const BinlogCoordinates& until,
                                  std::chrono::milliseconds timeout, std::vector<std::string>* log) {
  if (i->replica.exec_master == until) return "";
  if (i->replica.exec_master > until) {
    return i->name + " has executed " + i->replica.exec_master.ToString() + ", past " + until.ToString();
  }
  const bool source = i->ReplicaSpelling();
  const std::string k = source ? "SOURCE_" : "MASTER_";
  const std::string sql = std::string(source ? "START REPLICA" : "START SLAVE") + " UNTIL " + k +
                          "LOG_FILE=" + c.Literal(until.file) + ", " + k + "LOG_POS=" + std::to_string(until.pos);
  Status s = RunLogged(c, sql, log);
  if (!s.ok()) return s.message();
  const auto deadline = Clock::now() + timeout;
  std::string problem;
  ReplicaStatus r;
  while (true) {
    s = ReadReplicaStatus(c, *i, &r);
    if (!s.ok()) {
      problem = s.message();
      break;
    }
    if (!r.sql_running) {
      if (!r.last_sql_error.empty()) problem = i->name + ": SQL thread error: " + r.last_sql_error;
      break;
    }
    // The server tests the condition before it applies an event, so with
    // nothing after `until` relayed yet the SQL thread waits there instead of
    // stopping; it cannot pass `until` either way (sql/slave.cc,
    // exec_relay_log_event).
    if (r.exec_master >= until) break;
    if (Clock::now() > deadline) {
      problem = i->name + " did not reach " + until.ToString() + " within " + std::to_string(timeout.count()) +
                " ms (executed " + r.exec_master.ToString() + ")";
      break;
    }
    std::this_thread::sleep_for(kPoll);
  }
  s = StopReplication(c, i, log);
  if (problem.empty() && !s.ok()) problem = s.message();
  if (problem.empty() && i->replica.exec_master != until) {
    problem = i->name + " stopped at " + i->replica.exec_master.ToString() + ", not at " + until.ToString();
  }
  return problem;
}

std::string AwaitReplicating(SqlConnection& c, const Instance& i, const std::string& master,
                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  ReplicaStatus now;
  while (true) {
    Status s = ReadReplicaStatus(c, i, &now);
    if (!s.ok()) return s.message();
    if (now.Master() != master) return "replicates from " + now.Master() + " after the change";
    if (!now.last_sql_error.empty()) return "SQL thread error: " + now.last_sql_error;
    if (!now.last_io_error.empty() && now.io_running != "Yes") return "IO thread error: " + now.last_io_error;
    if (now.io_running == "Yes" && now.sql_running) return "";
    if (Clock::now() > deadline) {
      return "replication did not start within " + std::to_string(timeout.count()) + " ms (IO " + now.io_running +
             ", SQL " + (now.sql_running ? "Yes" : "No") + ")";
    }
    std::this_thread::sleep_for(kPoll);
  }
}

ChangeMasterTarget PositionOf(const Instance& i, const std::string& host, uint16_t port) {
  ChangeMasterTarget t;
  t.host = host;
  t.port = port;
  if (i.replica.UsesGtid()) {
    t.use_gtid = i.mariadb ? (i.replica.using_gtid == "Current_Pos" ? "current_pos" : "slave_pos") : "auto";
  } else {
    t.coordinates = i.replica.exec_master;
  }
  return t;
}

std::string ExecutedGtid(const Instance& i) {
  if (!i.mariadb) return i.gtid_executed;
  return i.replica.using_gtid == "Current_Pos" ? i.gtid_current_pos : i.gtid_slave_pos;
}

Status StartThreadsAsBefore(SqlConnection& c, const Instance& before, std::vector<std::string>* log) {
  if (!before.replica.configured) return Status::OK();
  Status s;
  if (before.replica.sql_running) s = RunLogged(c, StartReplicaSql(before, ReplicaThreads::kSql), log);
  if (s.ok() && before.replica.IoThreadRuns()) s = RunLogged(c, StartReplicaSql(before, ReplicaThreads::kIo), log);
  return s;
}

std::string RestoreReplication(SqlConnection& c, const Instance& before, std::vector<std::string>* log) {
  const ChangeMasterTarget back = PositionOf(before, before.replica.master_host, before.replica.master_port);
  (void)RunLogged(c, StopReplicaSql(before), log);
  Status s = RunLogged(c, ChangeMasterSql(c, before, back), log);
  if (s.ok()) s = RunLogged(c, StartReplicaSql(before), log);
  return s.ok() ? "" : s.message();
}

}  // namespace tidewatch::pgtid
