// The orchestrator baseline: how orchestrator places a replica below another
// server with Pseudo-GTID (match-below), rebuilt statement for statement over
// SQL so that bench/match_vs_orchestrator_bench.cc can run it against the same
// servers as Tidewatch's index. Each part names the orchestrator function it
// mirrors (github.com/openark/orchestrator, go/inst/instance_binlog_dao.go and
// go/inst/instance_topology.go).
//
// CorrelateBinlogCoordinates(instance, nil, destination), with the instance's
// replication already stopped:
//  1. FindLastPseudoGTIDEntry — the instance's last entry. When the instance
//     writes binary logs with log_slave_updates and the destination's binlog
//     format: its binlogs, newest file first (SHOW MASTER STATUS's file, then
//     the file number minus one, …); each file read forward from its start
//     (or from the coordinates history hint) to its end in chunks of
//     SHOW BINLOG EVENTS IN f FROM pos LIMIT BinlogEventsChunkSize, because
//     an entry found is only known to be the file's last one at the file's
//     end. Otherwise its relay logs the same way, paged with LIMIT offset, n.
//  2. SearchEntryInInstanceBinlogs — the same entry in the destination's
//     binlogs, newest file first, each read forward until the entry's Info
//     is found; with PseudoGTIDMonotonicHint in the entry, a file whose first
//     entry sorts after the one searched is left after that entry. Results
//     are cached per (server, entry) for 10 minutes. Before each file, a
//     replicating destination is polled and the search waits while its lag
//     exceeds ReasonableMaintenanceReplicationLagSeconds.
//  3. GetNextBinlogCoordinatesToMatch — from the two entries, one
//     BinlogEventCursor per server, event by event in lockstep: every
//     instance event must have the same normalized Info as the destination's
//     next one, until the instance's log ends; the answer is where the
//     destination's next event starts.
//
// Simplified, and why:
//  * servers are read with pgtid::ReadInstance (SHOW MASTER STATUS, SHOW
//    BINARY LOGS, SHOW SLAVE STATUS, variables) instead of orchestrator's
//    ReadTopologyInstance, which issues more statements for fields the
//    search does not use; the throttle in step 2 polls the same way;
//  * one connection per server for the whole correlation (orchestrator keeps
//    a pool per server; both reuse a connection);
//  * file names compare by their numeric extension (orchestrator compares the
//    strings; the same order for names of one width);
//  * the 5.6 → 5.7 anonymous-GTID filter (special56To57filterProcessing) is
//    left out: it applies to MySQL 5.6/5.7 pairs only, never to MariaDB;
//  * the coordinates history (GetHeuristiclyRecentCoordinatesForInstance) is
//    passed in by the caller instead of being read from orchestrator's
//    backend database, and its relay log coordinates also stand for the
//    relay-log hint orchestrator keeps apart (its recent relay log history);
//  * Info is normalized with RE2 behind a fixed-substring test instead of
//    Go's regexp on every row (see InfoNormalizer): the same texts, less CPU
//    per row — if anything in orchestrator's favour.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/binlog_event_cursor.h"
#include "bench/show_binlog_events.h"
#include "pgtid/instance.h"
#include "pgtid/pseudo_gtid_pattern.h"

namespace tidewatch::orchestrator {

// The configuration keys of orchestrator that steer the search.
struct BaselineConfig {
  std::string user, password;                   // MySQLTopologyUser / MySQLTopologyPassword
  uint64_t chunk_size = 10000;                  // BinlogEventsChunkSize
  std::vector<std::string> skip_containing;     // SkipBinlogEventsContaining
  int64_t reasonable_maintenance_lag_seconds = 20;  // ReasonableMaintenanceReplicationLagSeconds
  bool entry_cache = true;                      // instanceBinlogEntryCache (10 minutes)
};

// orchestrator's coordinates history of one server: its binlog and relay log
// coordinates as recorded PseudoGTIDCoordinatesHistoryHeuristicMinutes (2)
// or more minutes ago; a search starts there when it is in the file searched.
struct RecordedCoordinates {
  std::optional<BinlogCoordinates> self, relay;
};

// What one phase of the correlation cost.
struct Phase {
  double seconds = 0;
  ScanCounters scan;
};

struct Correlation {
  std::string route;                    // where the instance's entry was found: "binary-log", "relay-log"
  BinlogCoordinates instance_entry;     // in the instance's binary (or relay) log
  std::string entry_info;               // the entry's Info
  BinlogCoordinates destination_entry;  // in the destination's binary log
  BinlogCoordinates next;               // where the instance continues on the destination
  uint64_t matched = 0;                 // events compared in the walk (the entry included)
  Phase find_instance, find_destination, walk;
};

class Baseline {
 public:
  Baseline(BaselineConfig config, const pgtid::PseudoGtidPattern* pattern);

  // CorrelateBinlogCoordinates(instance, nil, destination). The instance's
  // replication must be stopped (MatchBelow stops it first).
  Status Correlate(const std::string& instance, const std::string& destination,
                   const RecordedCoordinates& instance_history, const RecordedCoordinates& destination_history,
                   Correlation* out);

  // Forgets every cached destination entry.
  void ForgetCache() { cache_.clear(); }

  // getLastPseudoGTIDEntryInBinlog: the last entry of one file read from
  // `min` (when in this file) to its end, or up to `max` (relay logs: the
  // SQL thread's position). `found` is false when the file has none.
  Status LastEntryInFile(pgtid::SqlConnection& c, LogType type, const std::string& file,
                         const std::optional<BinlogCoordinates>& min, const std::optional<BinlogCoordinates>& max,
                         bool* found, BinlogCoordinates* at, std::string* info, ScanCounters* counters);

 private:
  struct Server {
    std::unique_ptr<pgtid::SqlConnection> c;
    pgtid::Instance i;
  };
  Status Open(const std::string& name, Server* out);

  // FindLastPseudoGTIDEntry, and its search backwards through the binary or
  // the relay logs.
  Status FindLastEntry(Server& instance, const std::string& expected_format, const RecordedCoordinates& history,
                       Correlation* out);
  Status LastEntryBackwards(Server& s, LogType type, std::string file, std::optional<BinlogCoordinates> min,
                            const std::optional<BinlogCoordinates>& max, bool* found, BinlogCoordinates* at,
                            std::string* info, ScanCounters* counters);
  // SearchEntryInInstanceBinlogs and SearchEntryInBinlog.
  Status SearchInInstance(Server& s, const std::string& info, bool monotonic, std::optional<BinlogCoordinates> min,
                          BinlogCoordinates* at, ScanCounters* counters);
  Status SearchInFile(pgtid::SqlConnection& c, const std::string& file, const std::string& info, bool monotonic,
                      const std::optional<BinlogCoordinates>& min, bool* found, BinlogCoordinates* at,
                      ScanCounters* counters);
  // GetNextBinlogCoordinatesToMatch and getNextBinlogEventsChunk.
  Status Walk(Server& instance, const BinlogCoordinates& instance_entry, LogType instance_log,
              const BinlogCoordinates& recorded_relay, Server& destination, const BinlogCoordinates& destination_entry,
              BinlogCoordinates* next, uint64_t* matched, ScanCounters* counters);
  Status NextChunk(Server& s, LogType type, BinlogCoordinates from, int empty_files, std::vector<BinlogEventRow>* out,
                   ScanCounters* counters);

  BaselineConfig config_;
  const pgtid::PseudoGtidPattern* pattern_;
  InfoNormalizer normalizer_;
  struct Cached {
    BinlogCoordinates at;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Cached> cache_;  // "host:port;entry" → coordinates
};

}  // namespace tidewatch::orchestrator
