// ReplicationControl: orchestrator's single-instance replication commands —
// start-replica, stop-replica, stop-replica-nice, restart-replica,
// reset-replica, detach-replica (-master-host), reattach-replica, skip-query,
// set-read-only, set-writeable, flush-binary-logs, delay-replication,
// enable-gtid, disable-gtid, the four semi-sync switches,
// restart-replica-statements, purge-binary-logs, master-pos-wait — with orchestrator's
// refusals (go/inst/instance_topology_dao.go, instance_topology.go) and the
// statements in the server's spelling (instance.h). Each call opens its own
// connection, says every statement it issued, and changes nothing when it
// refuses.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "pgtid/coordinates.h"
#include "pgtid/instance.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

enum class ControlCommand {
  kStartReplica,
  kStopReplica,
  kStopReplicaNice,
  kRestartReplica,
  kResetReplica,
  kDetachReplica,
  kReattachReplica,
  kSkipQuery,
  kSetReadOnly,
  kSetWriteable,
  kFlushBinaryLogs,
  kDelayReplication,
  kEnableGtid,
  kDisableGtid,
  kEnableSemiSyncMaster,
  kDisableSemiSyncMaster,
  kEnableSemiSyncReplica,
  kDisableSemiSyncReplica,
  kRestartReplicaStatements,
  kPurgeBinaryLogs,
  kMasterPosWait,
};

// The command of a name as orchestrator's CLI and API spell it (the legacy
// -slave names and the -master-host variants too); false when it is none.
bool ControlCommandNamed(const std::string& name, ControlCommand* out);
// The CLI's name ("start-replica", …).
const char* ControlCommandName(ControlCommand c);

// orchestrator's detach hint: a detached replica's master host is prefixed
// with it (go/inst/instance_key.go), which no resolver resolves.
inline constexpr const char* kDetachedHostPrefix = "//";

// What some commands are given besides the instance.
struct ControlArgs {
  int64_t seconds = 0;            // delay-replication: MASTER_DELAY
  std::string query;              // restart-replica-statements: the statement to wrap
  std::string log_file;           // purge-binary-logs: purge up to it ("latest": the current one)
  bool force = false;             // purge-binary-logs: even what a replica has not applied
  BinlogCoordinates until;        // master-pos-wait: coordinates of the instance's master
  std::chrono::milliseconds wait{std::chrono::seconds(60)};  // master-pos-wait's limit
};

struct ControlOptions {
  std::string user, password;                     // MySQLTopologyUser / MySQLTopologyPassword
  std::chrono::milliseconds start_wait{1000};     // both threads to run after START SLAVE
  std::chrono::milliseconds nice_stop_timeout{10000};  // the relay log to be applied
  // Returns a reason when host:port is under maintenance.
  std::function<std::string(const std::string&)> maintenance;
  // purge-binary-logs: the instance's replicas (host:port); unset, SHOW SLAVE
  // HOSTS answers.
  std::function<std::vector<std::string>(const std::string&)> replicas;
};

struct ControlResult {
  std::string instance;
  std::vector<std::string> statements;  // "host:port: SQL", in order
  // restart-replica-statements: the statements that would apply the query
  // and put replication back as it is (none is issued).
  std::vector<std::string> planned;
};

class ReplicationControl {
 public:
  explicit ReplicationControl(ControlOptions options) : options_(std::move(options)) {}

  // OK once done; otherwise the message orchestrator gives (nothing changed
  // when the refusal came before the first statement).
  Status Run(ControlCommand command, const std::string& instance, const ControlArgs& args, ControlResult* out);
  Status Run(ControlCommand command, const std::string& instance, ControlResult* out) {
    return Run(command, instance, ControlArgs{}, out);
  }

 private:
  Status SwitchGtid(SqlConnection& c, Instance* i, bool enable, ControlResult* out);
  Status PurgeBinaryLogs(SqlConnection& c, const Instance& i, const ControlArgs& args, ControlResult* out);

  ControlOptions options_;
};

}  // namespace tidewatch::pgtid
