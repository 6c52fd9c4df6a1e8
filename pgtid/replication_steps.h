// The steps every change of replication is made of — stopping a replica
// (at once, or nicely: IO thread first and the relay log applied), running it
// up to a point of its master's binlog (START SLAVE UNTIL), checking that it
// replicates from whom it should after a change, and putting it back where it
// was — shared by the executor (match-below and its kin), the classic
// file:pos moves and the replication-control commands. Each step reports the
// statements it issued as "host:port: SQL" in `log`.
//
// Blocking; the connection is the caller's.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "pgtid/coordinates.h"
#include "pgtid/instance.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

// A server reached for a change: its connection and what was read of it.
struct ServerSession {
  std::string name;  // host:port
  std::unique_ptr<SqlConnection> c;
  Instance i;
};

// Connects to `name` (host:port) and reads it.
Status OpenSession(const std::string& name, const std::string& user, const std::string& password,
                   std::chrono::milliseconds read_timeout, ServerSession* out);

// Why `r` cannot replicate from `t` (orchestrator's CanReplicateFrom: server
// ids, binary logs and log_slave_updates, flavour, versions, binlog formats,
// replication filters); "" when it can. Changes nothing.
std::string CannotReplicate(const Instance& r, const Instance& t);

// Issues `sql` on `c`, logged first.
Status RunLogged(SqlConnection& c, const std::string& sql, std::vector<std::string>* log);

// STOP SLAVE; *i read again.
Status StopReplication(SqlConnection& c, Instance* i, std::vector<std::string>* log);

// orchestrator's StopReplicationNicely: the IO thread stopped first, the SQL
// thread then left until it has applied what was relayed (or `timeout`), then
// stopped; *i read again.
Status StopReplicationNicely(SqlConnection& c, Instance* i, std::chrono::milliseconds timeout,
                             std::vector<std::string>* log);

// START SLAVE UNTIL `until` (a position in the binlog of *i's master), waits
// for the SQL thread to have executed up to there (it never passes it:
// Relay_log_info::is_until_satisfied), then stops replication; *i read
// again. "" once *i has executed exactly up to `until`; otherwise why not
// (replication is then left stopped).
std::string StartReplicationUntil(SqlConnection& c, Instance* i, const BinlogCoordinates& until,
                                  std::chrono::milliseconds timeout, std::vector<std::string>* log);

// After a change: waits until both threads of `i` run against `master`
// (host:port) without error. "" when they do, or why not.
std::string AwaitReplicating(SqlConnection& c, const Instance& i, const std::string& master,
                             std::chrono::milliseconds timeout);

// The target that keeps `i` where it is while naming its master `host`:port:
// its GTID mode when it replicates by GTID, else its executed coordinates.
ChangeMasterTarget PositionOf(const Instance& i, const std::string& host, uint16_t port);

// The GTID position a replica has executed, as its replication uses it
// (MariaDB: gtid_current_pos with MASTER_USE_GTID=current_pos, else
// gtid_slave_pos; MySQL: gtid_executed).
std::string ExecutedGtid(const Instance& i);

// The replication threads that ran in `before` (the replica as read before
// they were stopped) started again, SQL thread first; none when it is no
// replica.
Status StartThreadsAsBefore(SqlConnection& c, const Instance& before, std::vector<std::string>* log);

// `before` (a replica as read while stopped) put back on its master at its
// position then, and started. "" when it was, or why not.
std::string RestoreReplication(SqlConnection& c, const Instance& before, std::vector<std::string>* log);

}  // namespace tidewatch::pgtid
