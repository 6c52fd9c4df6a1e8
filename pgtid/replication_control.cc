#include "pgtid/replication_control.h"

#include <cstring>
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
  };
  return names;
}

Status Exec(SqlConnection& c, const std::string& sql, ControlResult* out) {
  return RunLogged(c, sql, &out->statements);
}

// orchestrator's ReplicationThreadsStopped: both threads strictly stopped.
bool ThreadsStopped(const ReplicaStatus& r) { return r.io_running == "No" && !r.sql_running; }

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
  }
  return "?";
}

Status ReplicationControl::Run(ControlCommand command, const std::string& instance, ControlResult* out) {
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
      s = Exec(*c, StopReplicaSql(i, /*io_thread_only=*/true), out);
      if (s.ok()) s = Exec(*c, (i.ReplicaSpelling() ? "START REPLICA" : "START SLAVE") + std::string(" SQL_THREAD"), out);
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
  }
  return Status::InvalidArgument("unknown command");
}

}  // namespace tidewatch::pgtid
