// orchestrator's recovery commands, answered by the daemon that runs the
// recovery consumer (`tidewatch run --recover`) through its API: recover -i,
// ack-cluster-recoveries -a, ack-all-recoveries, disable-global-recoveries,
// enable-global-recoveries, check-global-recoveries, audit-recovery [-a],
// blocked-recoveries, graceful-master-takeover[-auto] -a [-d],
// force-master-failover -a, force-master-takeover -a -d,
// register-candidate -i --promotion-rule.
#pragma once

#include <iosfwd>
#include <string>

#include "server/config.h"

namespace tidewatch::tools {

struct RecoveryCommandOptions {
  std::string command;
  std::string instance;  // -i (recover)
  std::string cluster;   // -a (ack-cluster-recoveries, audit-recovery, blocked-recoveries, takeovers)
  std::string designated;  // -d (takeovers): the successor, HOST:PORT
  std::string promotion_rule;  // --promotion-rule (register-candidate)
  std::string api;       // daemon address; empty: ListenAddress
  bool json = false;
};

int RunRecoveryCommand(const server::Config& config, const RecoveryCommandOptions& options, std::ostream& out,
                       std::ostream& err);

}  // namespace tidewatch::tools
