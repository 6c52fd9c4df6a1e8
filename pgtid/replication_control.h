// ReplicationControl: orchestrator's single-instance replication commands —
// start-replica, stop-replica, stop-replica-nice, restart-replica,
// reset-replica, detach-replica (-master-host), reattach-replica, skip-query,
// set-read-only, set-writeable, flush-binary-logs — with orchestrator's
// refusals (go/inst/instance_topology_dao.go, instance_topology.go) and the
// statements in the server's spelling (instance.h). Each call opens its own
// connection, says every statement it issued, and changes nothing when it
// refuses.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "pgtid/instance.h"

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
};

// The command of a name as orchestrator's CLI and API spell it (the legacy
// -slave names and the -master-host variants too); false when it is none.
bool ControlCommandNamed(const std::string& name, ControlCommand* out);
// The CLI's name ("start-replica", …).
const char* ControlCommandName(ControlCommand c);

// orchestrator's detach hint: a detached replica's master host is prefixed
// with it (go/inst/instance_key.go), which no resolver resolves.
inline constexpr const char* kDetachedHostPrefix = "//";

struct ControlOptions {
  std::string user, password;                     // MySQLTopologyUser / MySQLTopologyPassword
  std::chrono::milliseconds start_wait{1000};     // both threads to run after START SLAVE
  std::chrono::milliseconds nice_stop_timeout{10000};  // the relay log to be applied
  // Returns a reason when host:port is under maintenance.
  std::function<std::string(const std::string&)> maintenance;
};

struct ControlResult {
  std::string instance;
  std::vector<std::string> statements;  // "host:port: SQL", in order
};

class ReplicationControl {
 public:
  explicit ReplicationControl(ControlOptions options) : options_(std::move(options)) {}

  // OK once done; otherwise the message orchestrator gives (nothing changed
  // when the refusal came before the first statement).
  Status Run(ControlCommand command, const std::string& instance, ControlResult* out);

 private:
  ControlOptions options_;
};

}  // namespace tidewatch::pgtid
