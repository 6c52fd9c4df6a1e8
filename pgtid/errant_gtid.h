// Errant GTIDs — transactions a replica has that its master never wrote —
// found and removed as orchestrator's locate-gtid-errant,
// gtid-errant-reset-master and gtid-errant-inject-empty do
// (go/inst/instance_topology.go), for MySQL's GTID sets and, where
// orchestrator has nothing, for MariaDB's positions.
//
// The errant text is what the topology computed (analyzer/topology.h):
// a MySQL GTID set ("uuid:5-7"), or MariaDB GTIDs "domain-server-seq", comma
// separated, each the last of its domain on the replica that its master does
// not have, written by the replica itself.
//
// Blocking; connections are the caller's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "pgtid/instance.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

// The binary logs of `i` that hold errant transactions, oldest first. On
// MySQL, from each file's Previous_gtids (orchestrator's way); on MariaDB,
// from each file's Gtid_list: a file holds the replica's own transactions of
// a domain between its list's and the next file's list, and those after the
// master's position in that domain (`master_gtid_binlog_pos`) are errant.
Status LocateErrantGtid(SqlConnection& c, const Instance& i, const std::string& errant,
                        const std::string& master_gtid_binlog_pos, std::vector<std::string>* binlogs);

// The errant transactions forgotten by RESET MASTER, as orchestrator's
// gtid-errant-reset-master: refused when none are errant or the instance
// has replicas; replication stopped around it and started again as it ran.
// MySQL: gtid_purged set to what was executed minus the errant set, after
// checking that nothing was executed meanwhile. MariaDB: gtid_binlog_state
// set to the state without the errant (domain, server) entries, each
// domain's latest remaining GTID last, so that gtid_binlog_pos is the
// master's again. `*i` is read again after.
Status ResetMasterErrant(SqlConnection& c, Instance* i, const std::string& errant, size_t replicas,
                         std::vector<std::string>* log);

// orchestrator's gtid-errant-inject-empty: one empty transaction per errant
// GTID on the cluster's master (`master`), so that every server has them.
// MySQL GTID sets only: MariaDB cannot write an empty transaction under a
// chosen GTID (an empty transaction is not binlogged), and is refused as
// orchestrator refuses it.
Status InjectEmptyErrant(SqlConnection& master, const Instance& m, const Instance& replica, const std::string& errant,
                         int64_t* injected, std::vector<std::string>* log);

}  // namespace tidewatch::pgtid
