#include "pgtid/replication_control.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <map>
#include <thread>

#include "base/host_port.h"
#include "pgtid/replication_steps.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

namespace {

using Clock = std::chrono::steady_clock;

const std::map<std::string, ControlCommand>& Names() {
  static const std::map<std::string, ControlCommand> names = {
      {"start-replica", ControlCommand::kStartReplica},
      {"start-slave", ControlCommand::kStartReplica},
      {"stop-replica", ControlCommand::kStopReplica},
      {"stop-slave", ControlCommand::kStopReplica},
      {"stop-replica-nice", ControlCommand::kStopReplicaNice},
      {"stop-slave-nice", ControlCommand::kStopReplicaNice},
      {"restart-replica", ControlCommand::kRestartReplica},
      {"restart-slave", ControlCommand::kRestartReplica},
      {"reset-replica", ControlCommand::kResetReplica},
      {"reset-slave", ControlCommand::kResetReplica},
      {"detach-replica", ControlCommand::kDetachReplica},
      {"detach-slave", ControlCommand::kDetachReplica},
      {"detach-replica-master-host", ControlCommand::kDetachReplica},
      {"detach-slave-master-host", ControlCommand::kDetachReplica},
      {"reattach-replica", ControlCommand::kReattachReplica},
      {"reattach-slave", ControlCommand::kReattachReplica},
      {"reattach-replica-master-host", ControlCommand::kReattachReplica},
      {"reattach-slave-master-host", ControlCommand::kReattachReplica},
      {"skip-query", ControlCommand::kSkipQuery},
      {"set-read-only", ControlCommand::kSetReadOnly},
      {"set-writeable", ControlCommand::kSetWriteable},
      {"flush-binary-logs", ControlCommand::kFlushBinaryLogs},
      {"delay-replication", ControlCommand::kDelayReplication},
      {"enable-gtid", ControlCommand::kEnableGtid},
      {"disable-gtid", ControlCommand::kDisableGtid},
      {"enable-semi-sync-master", ControlCommand::kEnableSemiSyncMaster},
      {"disable-semi-sync-master", ControlCommand::kDisableSemiSyncMaster},
      {"enable-semi-sync-replica", ControlCommand::kEnableSemiSyncReplica},
      {"disable-semi-sync-replica", ControlCommand::kDisableSemiSyncReplica},
      {"restart-replica-statements", ControlCommand::kRestartReplicaStatements},
      {"restart-slave-statements", ControlCommand::kRestartReplicaStatements},
      {"purge-binary-logs", ControlCommand::kPurgeBinaryLogs},
      {"master-pos-wait", ControlCommand::kMasterPosWait},
  };
  return names;
}

Status Exec(SqlConnection& c, const std::string& sql, ControlResult* out) {
  return RunLogged(c, sql, &out->statements);
}

// orchestrator's ReplicationThreadsStopped: both threads strictly stopped.
bool ThreadsStopped(const ReplicaStatus& r) { return r.io_running == "No" && !r.sql_running; }

// orchestrator's GetReplicationRestartPreserveStatements: the running
// threads stopped (IO first), `sql`, and the same threads started again
// (SQL first), so replication ends as it was.
std::vector<std::string> RestartPreserving(const Instance& i, const std::string& sql) {
  const bool io = i.replica.configured && i.replica.IoThreadRuns();
  const bool sql_thread = i.replica.configured && i.replica.sql_running;
  std::vector<std::string> out;
  if (io) out.push_back(StopReplicaSql(i, ReplicaThreads::kIo));
  if (sql_thread) out.push_back(StopReplicaSql(i, ReplicaThreads::kSql));
  if (!sql.empty()) out.push_back(sql);
  if (sql_thread) out.push_back(StartReplicaSql(i, ReplicaThreads::kSql));
  if (io) out.push_back(StartReplicaSql(i, ReplicaThreads::kIo));
  return out;
}

// The global variable that switches semi-sync on a side, by the names the
// server knows (MySQL 8.0.26+ plugins: _source_ / _replica_; MariaDB and
// older MySQL: _master_ / _slave_); "" when the server has neither.
Status SemiSyncVariable(SqlConnection& c, bool master_side, std::string* name, bool* enabled) {
  SqlResult r;
  Status s = c.Query("SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync_%_enabled'", &r);
  if (!s.ok()) return s;
  name->clear();
  static const char* const kMaster[] = {"rpl_semi_sync_master_enabled", "rpl_semi_sync_source_enabled"};
  static const char* const kReplica[] = {"rpl_semi_sync_slave_enabled", "rpl_semi_sync_replica_enabled"};
  for (const char* want : master_side ? kMaster : kReplica) {
    for (size_t row = 0; row < r.rows.size(); ++row) {
      if (r.GetOr(row, "Variable_name") == want) {
        *name = want;
        *enabled = r.GetOr(row, "Value") == "ON";
        return Status::OK();
      }
    }
  }
  return Status::OK();
}

}  // namespace

bool ControlCommandNamed(const std::string& name, ControlCommand* out) {
  auto it = Names().find(name);
  if (it == Names().end()) return false;
  *out = it->second;
  return true;
}

const char* ControlCommandName(ControlCommand c) {
  switch (c) {
    case ControlCommand::kStartReplica: return "start-replica";
    case ControlCommand::kStopReplica: return "stop-replica";
    case ControlCommand::kStopReplicaNice: return "stop-replica-nice";
    case ControlCommand::kRestartReplica: return "restart-replica";
    case ControlCommand::kResetReplica: return "reset-replica";
    case ControlCommand::kDetachReplica: return "detach-replica";
    case ControlCommand::kReattachReplica: return "reattach-replica";
    case ControlCommand::kSkipQuery: return "skip-query";
    case ControlCommand::kSetReadOnly: return "set-read-only";
    case ControlCommand::kSetWriteable: return "set-writeable";
    case ControlCommand::kFlushBinaryLogs: return "flush-binary-logs";
    case ControlCommand::kDelayReplication: return "delay-replication";
    case ControlCommand::kEnableGtid: return "enable-gtid";
    case ControlCommand::kDisableGtid: return "disable-gtid";
    case ControlCommand::kEnableSemiSyncMaster: return "enable-semi-sync-master";
    case ControlCommand::kDisableSemiSyncMaster: return "disable-semi-sync-master";
    case ControlCommand::kEnableSemiSyncReplica: return "enable-semi-sync-replica";
    case ControlCommand::kDisableSemiSyncReplica: return "disable-semi-sync-replica";
    case ControlCommand::kRestartReplicaStatements: return "restart-replica-statements";
    case ControlCommand::kPurgeBinaryLogs: return "purge-binary-logs";
    case ControlCommand::kMasterPosWait: return "master-pos-wait";
  }
  return "?";
}

Status ReplicationControl::Run(ControlCommand command, const std::string& instance, const ControlArgs& args,
                               ControlResult* out) {
  *out = ControlResult{};
  out->instance = instance;
  SqlEndpoint ep;
  if (!SplitHostPort(instance, &ep.host, &ep.port)) {
    return Status::InvalidArgument("the instance must be HOST:PORT, not " + instance);
  }
  ep.user = options_.user;
  ep.password = options_.password;
  std::unique_ptr<SqlConnection> c;
  Status s = SqlConnection::Connect(ep, &c);
  Instance i;
  if (s.ok()) s = ReadInstance(*c, &i);
  if (!s.ok()) return s.WithContext(ControlCommandName(command));
  const std::string not_replica = "instance is not a replica: " + instance;

  // orchestrator's StopReplication / StartReplication (instance_topology_dao.go).
  auto stop = [&]() -> Status {
    if (!i.replica.configured) return Status::InvalidArgument(not_replica);
    return Exec(*c, StopReplicaSql(i), out);
  };
  auto start = [&]() -> Status {
    if (!i.replica.configured) return Status::InvalidArgument(not_replica);
    Status st = Exec(*c, StartReplicaSql(i), out);
    if (!st.ok()) return st;
    const auto deadline = Clock::now() + options_.start_wait;
    ReplicaStatus r;
    while (true) {
      st = ReadReplicaStatus(*c, i, &r);
      if (!st.ok()) return st;
      if (r.io_running == "Yes" && r.sql_running) return Status::OK();
      if (Clock::now() > deadline) return Status::InvalidArgument("Replication not running");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  auto maintenance = [&](const char* what) -> Status {
    if (!options_.maintenance) return Status::OK();
    std::string why = options_.maintenance(instance);
    if (why.empty()) return Status::OK();
    return Status::InvalidArgument(std::string("Cannot begin maintenance on ") + instance + " for " + what + ": " + why);
  };

  switch (command) {
    case ControlCommand::kStartReplica:
      return start();
    case ControlCommand::kStopReplica:
      return stop();
    case ControlCommand::kRestartReplica:
      s = stop();
      return s.ok() ? start() : s;
    case ControlCommand::kStopReplicaNice: {
      // IO thread stopped, SQL thread started to apply what was relayed, then
      // both stopped (orchestrator's StopReplicationNicely: it starts the SQL
      // thread even of a stopped replica).
      if (!i.replica.configured) return Status::InvalidArgument(not_replica);
      s = Exec(*c, StopReplicaSql(i, ReplicaThreads::kIo), out);
      if (s.ok()) s = Exec(*c, StartReplicaSql(i, ReplicaThreads::kSql), out);
      if (!s.ok()) return s;
      if (i.replica.sql_delay == 0) {
        const auto deadline = Clock::now() + options_.nice_stop_timeout;
        ReplicaStatus r;
        while (true) {
          s = ReadReplicaStatus(*c, i, &r);
          if (!s.ok()) return s;
          if (r.exec_master == r.read_master || r.AppliedAllRelayLog() || !r.last_sql_error.empty()) break;
          if (Clock::now() > deadline) {
            return Status::InvalidArgument("WaitForSQLThreadUpToDate timeout on " + instance);
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
      return Exec(*c, StopReplicaSql(i), out);
    }
    case ControlCommand::kResetReplica:
      if (i.replica.configured && !ThreadsStopped(i.replica)) {
        return Status::InvalidArgument("Cannot reset replication on: " + instance +
                               " because replication threads are not stopped");
      }
      return Exec(*c, i.ReplicaSpelling() ? "RESET REPLICA ALL" : "RESET SLAVE ALL", out);
    case ControlCommand::kDetachReplica:
    case ControlCommand::kReattachReplica: {
      // orchestrator's DetachReplicaMasterHost / ReattachReplicaMasterHost
      // (instance_topology.go): the master host gets or loses the "//"
      // prefix, the position kept, replication started again either way.
      const bool detach = command == ControlCommand::kDetachReplica;
      if (!i.replica.configured) return Status::InvalidArgument(not_replica);
      const std::string& host = i.replica.master_host;
      const bool detached = host.rfind(kDetachedHostPrefix, 0) == 0;
      if (detach && detached) return Status::InvalidArgument("instance already detached: " + instance);
      if (!detach && !detached) return Status::InvalidArgument("instance does not seem to be detached: " + instance);
      s = maintenance(detach ? "detach-replica-master-host" : "reattach-replica-master-host");
      if (!s.ok()) return s;
      s = Exec(*c, StopReplicaSql(i), out);
      if (s.ok()) s = ReadInstance(*c, &i);
      if (s.ok()) {
        const std::string to = detach ? kDetachedHostPrefix + host : host.substr(strlen(kDetachedHostPrefix));
        s = Exec(*c, ChangeMasterSql(*c, i, PositionOf(i, to, i.replica.master_port)), out);
      }
      // Started again whatever happened; a detached replica's IO thread
      // cannot connect, so only the reattached one must run.
      Status started = start();
      if (!s.ok()) return s;
      return detach ? Status::OK() : started;
    }
    case ControlCommand::kSkipQuery:
      // orchestrator's SkipQuery.
      if (!i.replica.configured) return Status::InvalidArgument(not_replica);
      if (i.replica.sql_running) return Status::InvalidArgument("Replication SQL thread is running on " + instance);
      if (i.replica.last_sql_error.empty()) return Status::InvalidArgument("No SQL error on " + instance);
      if (i.mariadb && i.replica.UsesGtid()) {
        return Status::NotSupported(instance + " is replicating with MariaDB GTID. To skip a query first disable "
                                    "GTID, then skip, then enable GTID again");
      }
      if (!i.mariadb && i.replica.UsesGtid()) {
        return Status::NotSupported(instance + " replicates with GTID auto-positioning: skip-query by an empty "
                                    "transaction is not available in Tidewatch");
      }
      s = Exec(*c, i.ReplicaSpelling() ? "SET GLOBAL sql_replica_skip_counter = 1" : "SET GLOBAL sql_slave_skip_counter = 1", out);
      return s.ok() ? start() : s;
    case ControlCommand::kSetReadOnly:
      return Exec(*c, "SET GLOBAL read_only = 1", out);
    case ControlCommand::kSetWriteable:
      return Exec(*c, "SET GLOBAL read_only = 0", out);
    case ControlCommand::kFlushBinaryLogs:
      if (!i.log_bin) return Status::NotSupported(instance + " does not write binary logs");
      return Exec(*c, "FLUSH BINARY LOGS", out);
    case ControlCommand::kRestartReplicaStatements:
      // orchestrator's SemicolonTerminated: trimmed, one ';'.
      for (std::string st : RestartPreserving(i, args.query)) {
        st.erase(st.find_last_not_of(" \t\r\n;") + 1);
        st.erase(0, st.find_first_not_of(" \t\r\n"));
        out->planned.push_back(st + ";");
      }
      return Status::OK();
    case ControlCommand::kDelayReplication: {
      // orchestrator's DelayReplication.
      if (args.seconds < 0) {
        return Status::InvalidArgument("invalid seconds: " + std::to_string(args.seconds) +
                                       ", it should be greater or equal to 0");
      }
      if (!i.replica.configured) return Status::InvalidArgument(not_replica);
      const std::string sql = std::string(i.ReplicaSpelling() ? "CHANGE REPLICATION SOURCE TO SOURCE_DELAY="
                                                              : "CHANGE MASTER TO MASTER_DELAY=") +
                              std::to_string(args.seconds);
      for (const auto& st : RestartPreserving(i, sql)) {
        s = Exec(*c, st, out);
        if (!s.ok()) return s;
      }
      ReplicaStatus r;
      s = ReadReplicaStatus(*c, i, &r);
      if (!s.ok()) return s;
      if (r.sql_delay != args.seconds) {
        return Status::InvalidArgument("delay-replication: " + instance + " reports SQL_Delay " +
                                       std::to_string(r.sql_delay) + " after the change");
      }
      return Status::OK();
    }
    case ControlCommand::kEnableGtid:
    case ControlCommand::kDisableGtid:
      return SwitchGtid(*c, &i, command == ControlCommand::kEnableGtid, out);
    case ControlCommand::kEnableSemiSyncMaster:
    case ControlCommand::kDisableSemiSyncMaster:
    case ControlCommand::kEnableSemiSyncReplica:
    case ControlCommand::kDisableSemiSyncReplica: {
      // orchestrator's SetSemiSyncMaster / SetSemiSyncReplica: a replica's
      // IO thread is restarted for the change to take effect (the replica
      // announces semi-sync when it connects).
      const bool master_side = command == ControlCommand::kEnableSemiSyncMaster ||
                               command == ControlCommand::kDisableSemiSyncMaster;
      const bool enable = command == ControlCommand::kEnableSemiSyncMaster ||
                          command == ControlCommand::kEnableSemiSyncReplica;
      std::string var;
      bool enabled = false;
      s = SemiSyncVariable(*c, master_side, &var, &enabled);
      if (!s.ok()) return s;
      if (var.empty()) {
        return Status::NotSupported(instance + " has no semi-sync " + (master_side ? "master" : "replica") +
                                    " variable (the semi-sync plugin is not installed)");
      }
      if (!master_side && enabled == enable) return Status::OK();
      s = Exec(*c, "SET GLOBAL " + var + " = " + (enable ? "1" : "0"), out);
      if (!s.ok() || master_side || !i.replica.configured || !i.replica.IoThreadRuns()) return s;
      s = Exec(*c, StopReplicaSql(i, ReplicaThreads::kIo), out);
      return s.ok() ? Exec(*c, StartReplicaSql(i, ReplicaThreads::kIo), out) : s;
    }
    case ControlCommand::kPurgeBinaryLogs:
      return PurgeBinaryLogs(*c, i, args, out);
    case ControlCommand::kMasterPosWait: {
      // orchestrator's MasterPosWait: MASTER_POS_WAIT (SOURCE_POS_WAIT on
      // MySQL 8.0.26+, where MASTER_POS_WAIT is deprecated and 8.4 drops it).
      if (!i.replica.configured) return Status::InvalidArgument(not_replica);
      if (args.until.empty()) return Status::InvalidArgument("master-pos-wait needs coordinates, file:pos");
      const bool source = !i.mariadb && (i.major > 8 || (i.major == 8 && (i.minor > 0 || i.patch >= 26)));
      const int64_t limit = std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(args.wait).count());
      const std::string sql = std::string("SELECT ") + (source ? "SOURCE_POS_WAIT(" : "MASTER_POS_WAIT(") +
                              c->Literal(args.until.file) + ", " + std::to_string(args.until.pos) + ", " +
                              std::to_string(limit) + ")";
      out->statements.push_back(instance + ": " + sql);
      SqlResult r;
      s = c->Query(sql, &r);
      if (!s.ok()) return s;
      const std::optional<std::string> v = r.rows.empty() || r.rows[0].empty() ? std::nullopt : r.rows[0][0];
      if (!v) {
        return Status::InvalidArgument("master-pos-wait: the SQL thread of " + instance +
                                       " is not running, or the coordinates " + args.until.ToString() +
                                       " are not in its master's binary logs");
      }
      if (*v == "-1") {
        return Status::InvalidArgument("master-pos-wait: " + instance + " did not reach " + args.until.ToString() +
                                       " within " + std::to_string(limit) + "s");
      }
      return Status::OK();
    }
  }
  return Status::InvalidArgument("unknown command");
}

// orchestrator's EnableGTID / DisableGTID (a repoint to the same master with
// GTID forced or denied), with one safety orchestrator lacks: MariaDB's
// replica resumes from gtid_slave_pos, which a replica set up by file and
// position may not have right, so the position is taken from the master's
// own binlog at the replica's executed coordinates (BINLOG_GTID_POS) and set
// first when it differs. Threads that ran are started again.
Status ReplicationControl::SwitchGtid(SqlConnection& c, Instance* i, bool enable, ControlResult* out) {
  const std::string& instance = out->instance;
  if (!i->replica.configured) return Status::InvalidArgument("instance is not a replica: " + instance);
  if (enable && i->replica.UsesGtid()) return Status::InvalidArgument(instance + " already uses GTID");
  if (!enable && !i->replica.UsesGtid()) return Status::InvalidArgument(instance + " is not using GTID");
  if (enable && !i->mariadb && i->gtid_mode != "ON") {
    return Status::InvalidArgument("Cannot enable GTID on " + instance + ": gtid_mode is " +
                                   (i->gtid_mode.empty() ? std::string("OFF") : i->gtid_mode));
  }
  const Instance before = *i;
  const std::string master = i->replica.Master();
  Status s = StopReplication(c, i, &out->statements);
  if (!s.ok()) return s;
  auto restart = [&] { return StartThreadsAsBefore(c, before, &out->statements); };
  ChangeMasterTarget t;
  t.host = i->replica.master_host;
  t.port = i->replica.master_port;
  if (!enable) {
    t.coordinates = i->replica.exec_master;
  } else if (!i->mariadb) {
    t.use_gtid = "auto";
  } else {
    t.use_gtid = "slave_pos";
    ServerSession m;
    s = OpenSession(master, options_.user, options_.password, std::chrono::seconds(10), &m);
    SqlResult r;
    if (s.ok()) {
      s = m.c->Query("SELECT BINLOG_GTID_POS(" + m.c->Literal(i->replica.exec_master.file) + ", " +
                         std::to_string(i->replica.exec_master.pos) + ")",
                     &r);
    }
    const std::optional<std::string> pos = s.ok() && !r.rows.empty() && !r.rows[0].empty() ? r.rows[0][0] : std::nullopt;
    if (!pos) {
      (void)restart();
      return Status::InvalidArgument("Cannot enable GTID on " + instance + ": the GTID position at its executed " +
                                     "coordinates " + i->replica.exec_master.ToString() + " could not be read from " +
                                     master + (s.ok() ? "" : ": " + s.message()));
    }
    if (*pos != i->gtid_slave_pos) {
      s = RunLogged(c, "SET GLOBAL gtid_slave_pos = " + c.Literal(*pos), &out->statements);
      if (!s.ok()) return s;
    }
  }
  s = RunLogged(c, ChangeMasterSql(c, *i, t), &out->statements);
  if (s.ok()) s = ReadInstance(c, i);
  if (!s.ok()) return s;
  s = restart();
  if (!s.ok()) return s;
  if (before.replica.IoThreadRuns() && before.replica.sql_running) {
    if (std::string why = AwaitReplicating(c, *i, master, options_.start_wait * 5); !why.empty()) {
      return Status::InvalidArgument(std::string("Cannot ") + (enable ? "enable" : "disable") + " GTID on " +
                                     instance + ": " + why);
    }
  }
  s = ReadInstance(c, i);
  if (!s.ok()) return s;
  if (i->replica.UsesGtid() != enable) {
    return Status::InvalidArgument(std::string("Cannot ") + (enable ? "enable" : "disable") + " GTID on " + instance);
  }
  return Status::OK();
}

// orchestrator's PurgeBinaryLogsTo: refused, unless forced, while a replica
// has not executed past the files to be purged.
Status ReplicationControl::PurgeBinaryLogs(SqlConnection& c, const Instance& i, const ControlArgs& args,
                                           ControlResult* out) {
  const std::string& instance = out->instance;
  if (args.log_file.empty()) return Status::InvalidArgument("purge-binary-logs: expected log file name or 'latest'");
  if (!i.log_bin) return Status::NotSupported(instance + " does not write binary logs");
  const std::string file = args.log_file == "latest" ? i.self.file : args.log_file;
  if (std::find(i.binary_logs.begin(), i.binary_logs.end(), file) == i.binary_logs.end()) {
    return Status::InvalidArgument("purge-binary-logs: " + instance + " has no binary log " + file);
  }
  if (!args.force) {
    std::vector<std::string> replicas;
    if (options_.replicas) {
      replicas = options_.replicas(instance);
    } else {
      SqlResult r;
      Status s = c.Query("SHOW SLAVE HOSTS", &r);
      if (!s.ok()) return s;
      for (size_t row = 0; row < r.rows.size(); ++row) {
        replicas.push_back(r.GetOr(row, "Host") + ":" + r.GetOr(row, "Port"));
      }
    }
    const BinlogCoordinates purge{file, 0};
    for (const auto& key : replicas) {
      ServerSession rs;
      Status s = OpenSession(key, options_.user, options_.password, std::chrono::seconds(10), &rs);
      if (!s.ok()) {
        return Status::InvalidArgument("Unsafe to purge binary logs on " + instance + " up to " + file +
                                       " because replica " + key + " cannot be read: " + s.message());
      }
      if (!rs.i.replica.configured) continue;
      if (!(purge < rs.i.replica.exec_master)) {
        return Status::InvalidArgument("Unsafe to purge binary logs on " + instance + " up to " + file +
                                       " because replica " + key + " has only applied up to " +
                                       rs.i.replica.exec_master.ToString());
      }
    }
  }
  return RunLogged(c, "PURGE BINARY LOGS TO " + c.Literal(file), &out->statements);
}

}  // namespace tidewatch::pgtid
