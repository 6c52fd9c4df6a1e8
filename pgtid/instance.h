// Instance: what the executor needs to know of a server, read over SQL —
// SHOW SLAVE STATUS (MySQL 8.0.22+: SHOW REPLICA STATUS, whose columns say
// Source/Replica where the older ones say Master/Slave), SHOW MASTER STATUS,
// SHOW BINARY LOGS and the replication variables — and the statements that
// change replication, in the spelling the server wants: MariaDB and MySQL
// before 8.0.23 know STOP/START SLAVE and CHANGE MASTER TO; MySQL 8.0.23+
// knows STOP/START REPLICA and CHANGE REPLICATION SOURCE TO, and MySQL 8.4
// knows only those.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pgtid/coordinates.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

struct ReplicaStatus {
  bool configured = false;  // SHOW SLAVE STATUS returned a row
  std::string master_host;
  uint16_t master_port = 0;
  BinlogCoordinates read_master;  // Master_Log_File : Read_Master_Log_Pos
  BinlogCoordinates exec_master;  // Relay_Master_Log_File : Exec_Master_Log_Pos
  std::string relay_log_file;
  uint64_t relay_log_pos = 0;
  std::string io_running;         // "Yes", "No", "Connecting"
  bool sql_running = false;
  std::string sql_state;          // Slave_SQL_Running_State (what the SQL thread is doing)
  std::string last_io_error, last_sql_error;
  std::string using_gtid;         // MariaDB: "No", "Slave_Pos", "Current_Pos"; MySQL: "Auto_Position" or "No"
  bool has_filters = false;       // any Replicate_* filter
  std::optional<int64_t> seconds_behind;
  int64_t sql_delay = 0;

  std::string Master() const { return master_host + ":" + std::to_string(master_port); }
  bool UsesGtid() const { return !using_gtid.empty() && using_gtid != "No"; }
  // An IO thread that is connecting counts as running: CHANGE MASTER refuses
  // it as it refuses a running one (ER_SLAVE_MUST_STOP).
  bool IoThreadRuns() const { return io_running == "Yes" || io_running == "Connecting"; }
  // The SQL thread has applied everything complete in the relay log and
  // waits for more (MariaDB and MySQL: "Slave has read all relay log;
  // waiting for more updates", 8.0.26+ "Replica has read all relay log; …").
  bool AppliedAllRelayLog() const { return sql_state.find("has read all relay log") != std::string::npos; }
};

struct Instance {
  std::string name;  // host:port as reached
  std::string version;
  bool mariadb = false;
  int major = 0, minor = 0, patch = 0;
  uint32_t server_id = 0;
  bool log_bin = false, log_slave_updates = false, read_only = false;
  std::string binlog_format;
  std::string gtid_binlog_pos, gtid_slave_pos, gtid_current_pos;  // MariaDB
  std::string gtid_mode, gtid_executed;                            // MySQL
  BinlogCoordinates self;          // SHOW MASTER STATUS
  std::vector<std::string> binary_logs;
  std::string datadir, relay_log_index;
  ReplicaStatus replica;

  // MySQL 8.0.23+: REPLICA / SOURCE spelling.
  bool ReplicaSpelling() const {
    return !mariadb && (major > 8 || (major == 8 && (minor > 0 || patch >= 23)));
  }
  // MySQL 8.4+: SHOW REPLICAS and SHOW BINARY LOG STATUS only.
  bool OnlyNewSpelling() const { return !mariadb && (major > 8 || (major == 8 && minor >= 4)); }
  bool HasGtid() const { return mariadb || gtid_mode == "ON"; }
};

// What the handshake of `c` says: the name reached, the version and its
// numbers, MariaDB or not; nothing read yet.
Instance Announced(const SqlConnection& c);

Status ReadInstance(SqlConnection& c, Instance* out);
// Only SHOW SLAVE STATUS, for polling a replica.
Status ReadReplicaStatus(SqlConnection& c, const Instance& spelling, ReplicaStatus* out);

// ReadInstance in two halves, for a caller that sends more statements of its
// own in the same round trip (SqlConnection::QueryEach): the statements, in
// the spelling of the server `c` is connected to (its version is known from
// the handshake), and the Instance read from their answers, which come
// first in `results` and `statuses`. Without binary logging SHOW BINARY
// LOGS fails (ER_NO_BINARY_LOGGING) and is not needed.
std::vector<std::string> InstanceStatements(const SqlConnection& c);
Status InstanceFromAnswers(const SqlConnection& c, const std::vector<SqlResult>& results,
                           const std::vector<Status>& statuses, Instance* out);

// Which replication threads a STOP or START names.
enum class ReplicaThreads { kBoth, kIo, kSql };

// Statements in the instance's spelling. Strings are quoted literals.
std::string StopReplicaSql(const Instance& i, ReplicaThreads threads = ReplicaThreads::kBoth);
std::string StartReplicaSql(const Instance& i, ReplicaThreads threads = ReplicaThreads::kBoth);

struct ChangeMasterTarget {
  std::string host;
  uint16_t port = 0;
  BinlogCoordinates coordinates;  // empty with use_gtid
  // MariaDB MASTER_USE_GTID value ("slave_pos", "current_pos") or MySQL
  // auto-position ("auto"); empty for file and position.
  std::string use_gtid;
};
std::string ChangeMasterSql(const SqlConnection& c, const Instance& i, const ChangeMasterTarget& t);

}  // namespace tidewatch::pgtid
