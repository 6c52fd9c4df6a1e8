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

#include <functional>
#include <string>

#include "pgtid/coordinates.h"
#include "pgtid/instance.h"
#include "pgtid/instance_point.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

// One row of SHOW RELAYLOG EVENTS: where the event starts in the relay log,
// where it ends in the master's binlog (empty for events that are not the
// master's: its Rotate, what the replica writes itself, End_log_pos 0).
struct RelayLogRow {
  BinlogCoordinates relay;
  BinlogCoordinates master;
  std::string type, info;
  uint32_t server_id = 0;
};

// Every row of the relay logs the server still has, oldest first, until
// `visit` returns false.
Status WalkRelayLogEvents(SqlConnection& c, const Instance& instance,
                          const std::function<bool(const RelayLogRow&)>& visit);

Status LocateInRelayLogEvents(SqlConnection& c, const Instance& instance, const PseudoGtidPattern& pattern,
                              InstancePoint* out);

// orchestrator's correlate-relaylog-pos: the event at relay log coordinates
// `at` of `instance` (empty: the last event it executed) found in the relay
// logs of `other`, a sibling (the same master), by the master's coordinates
// that both relay logs carry.
struct RelayLogCorrelation {
  BinlogCoordinates instance;    // the instance's relay log coordinates looked up
  BinlogCoordinates master;      // the event's end in the master's binlog
  BinlogCoordinates correlated;  // where the event starts in other's relay log
  BinlogCoordinates next;        // where the event after it starts there
};
Status CorrelateRelayLogPosition(SqlConnection& instance_sql, const Instance& instance, const BinlogCoordinates& at,
                                 SqlConnection& other_sql, const Instance& other, RelayLogCorrelation* out);

}  // namespace tidewatch::pgtid
