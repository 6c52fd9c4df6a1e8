// Matching: where a replica stands, in another server's binlog coordinates
// (docs/DESIGN.md, "matching without the dead server").
//
//  1. LocateInstance: the replica's executed position as "Pseudo-GTID entry P
//     plus k replicated events", from the first source that knows it —
//       a. the index of its master (built from the master's stream; works
//          when the master is dead, as long as the index covers the position),
//       b. the replica's own binlog (log_slave_updates): it holds the same
//          events, and with replication stopped it ends at the position,
//       c. the replica's relay log files (read where Tidewatch runs on the
//          replica's host): their events carry the master's end positions,
//       d. as a last resort, the same relay logs over SQL (SHOW RELAYLOG
//          EVENTS, relay_log_events.h): counted, not compared.
//  2. MatchOnDestination: P looked up in the destination's index, then k
//     replicated events walked forward by re-reading the destination's binlog
//     from P over the replication protocol, each compared with the
//     replica's event where its signature is known. The result is the
//     destination's coordinates after the k-th event, the GTID of the
//     transaction that ends there and the event that follows.
#pragma once

#include <string>
#include <vector>

#include "binlog/replica_stream.h"
#include "pgtid/index_source.h"
#include "pgtid/instance_point.h"
#include "pgtid/sql_connection.h"
#include "pgtid/instance.h"

namespace tidewatch::pgtid {

// Where the relay log is read from (route c or d): files when readable here,
// else SHOW RELAYLOG EVENTS (auto); files only; SHOW RELAYLOG EVENTS only.
enum class RelayLogRoute { kAuto, kFiles, kEvents };

struct LocateOptions {
  SqlConnection* instance_sql = nullptr;  // a connection to the instance, for route d
  RelayLogRoute relay_log = RelayLogRoute::kAuto;
  IndexOptions relay_index;  // bounds of the index built from the relay log files (route c)
};

Status LocateInstance(const Instance& instance, IndexSource& indexes, const PseudoGtidPattern& pattern,
                      InstancePoint* out, const LocateOptions& options = {});

struct DestinationPoint {
  BinlogCoordinates entry;        // P on the destination
  BinlogCoordinates coordinates;  // after the k-th event: where the replica continues
  uint64_t compared = 0;          // events whose signatures were compared
  std::string last_gtid;          // GTID of the transaction the k-th event is in
  bool has_next = false;          // the destination has an event after the match
  EventSignature next = 0;
  std::string next_gtid;          // the next transaction's GTID, when it starts with one
};

// `stream` carries the credentials and TLS settings for reading the
// destination; host and port are the destination's.
Status MatchOnDestination(const binlog::ReplicaStreamOptions& stream, const ServerIndex& destination,
                          const InstancePoint& point, DestinationPoint* out);

// Several instances against one destination in one read of its binlog, from
// the earliest of their entries (multi-match). `results[i]` says whether
// point i matched; the return value is an error of the read itself.
Status MatchManyOnDestination(const binlog::ReplicaStreamOptions& stream, const ServerIndex& destination,
                              const std::vector<const InstancePoint*>& points, std::vector<DestinationPoint>* outs,
                              std::vector<Status>* results);

// orchestrator's correlate-binlog-pos: `at` (the end of an event in the
// binlog of `source`) as "entry P plus k" from source's index, and where the
// same point is in the binlog of `destination` (its server is read from P).
Status CorrelateCoordinates(const binlog::ReplicaStreamOptions& stream, const ServerIndex& source,
                            const BinlogCoordinates& at, const ServerIndex& destination, InstancePoint* point,
                            DestinationPoint* out);

// Reads the relay log files of `instance` (its @@relay_log_index, relative to
// @@datadir) into an index of its master's coordinates.
Status IndexRelayLog(const Instance& instance, const PseudoGtidPattern& pattern, ServerIndex* out);

}  // namespace tidewatch::pgtid
