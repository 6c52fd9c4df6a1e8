// Locating a replica's executed position in its relay log over SQL, with
// SHOW RELAYLOG EVENTS: the last resort when Tidewatch does not run where
// the relay log files are. Relay log files are paged as orchestrator pages
// them (`SHOW RELAYLOG EVENTS IN 'f' LIMIT offset, n`: FROM needs a relay-log
// position, and the rows carry only the master's End_log_pos), from the
// oldest relay log the server still has to the one being applied.
//
// The rows give each event's type, server_id, End_log_pos in the master's
// binlog and text (Info), not its bytes: the point found has no event
// signatures, so the destination's events are counted, not compared (a
// MariaDB GTID still checks the match exactly).
#pragma once

#include "pgtid/instance.h"
#include "pgtid/instance_point.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

Status LocateInRelayLogEvents(SqlConnection& c, const Instance& instance, const PseudoGtidPattern& pattern,
                              InstancePoint* out);

}  // namespace tidewatch::pgtid
