// What orchestrator sees of a binary or relay log: the rows of SHOW BINLOG
// EVENTS and SHOW RELAYLOG EVENTS, read in chunks over SQL, and the Info text
// normalized the way orchestrator compares events across servers
// (orchestrator go/inst/instance_binlog.go: BinlogEvent, NormalizeInfo;
// go/inst/instance_binlog_dao.go: readBinlogEventsChunk). Part of the
// orchestrator baseline of bench/match_vs_orchestrator_bench.cc.
//
// Protocol facts (MariaDB sql/sql_repl.cc, show_binlog_events):
//  * one row per event: Log_name, Pos, Event_type, Server_id, End_log_pos,
//    Info; Info is the event formatted as text ("use `db`; <query>",
//    "table_id: N (db.t)", "BEGIN GTID d-s-n", "COMMIT /* xid=N */", …);
//  * FROM pos must be an event boundary, and positions below 4 are read as 4
//    (the first event);
//  * LIMIT offset, n: the server reads and decodes the `offset` events from
//    pos and drops them before it sends n rows — on every statement, so a
//    file paged that way costs O(events²) reads;
//  * in a relay log End_log_pos is the end position in the *master's*
//    binlog, not in the relay log, so a relay log cannot be continued FROM
//    End_log_pos: orchestrator pages relay logs with LIMIT offset, n.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pgtid/coordinates.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::orchestrator {

using pgtid::BinlogCoordinates;

enum class LogType { kBinary, kRelay };

// One row of SHOW BINLOG/RELAYLOG EVENTS.
struct BinlogEventRow {
  BinlogCoordinates at;      // Log_name : Pos
  uint64_t end_log_pos = 0;  // End_log_pos (relay logs: in the master's binlog)
  std::string type;          // Event_type: "Query", "Gtid", "Table_map", "Xid", …
  std::string info;          // Info

  // orchestrator's NextBinlogCoordinates: the same file at End_log_pos.
  BinlogCoordinates Next() const { return {at.file, end_log_pos}; }
};

// What a scan cost: statements issued, rows the server formatted and sent.
struct ScanCounters {
  uint64_t statements = 0;
  uint64_t rows = 0;
  void Add(const ScanCounters& o) {
    statements += o.statements;
    rows += o.rows;
  }
};

// SHOW {BINLOG|RELAYLOG} EVENTS IN 'file' FROM from LIMIT [offset,] limit;
// `offset` < 0 leaves the offset out. Rows replace `out`'s contents.
Status ShowEvents(pgtid::SqlConnection& c, LogType type, const std::string& file, uint64_t from,
                  int64_t offset, uint64_t limit, std::vector<BinlogEventRow>* out,
                  ScanCounters* counters);

// orchestrator's NormalizeInfo: removes what legitimately differs between two
// servers' copies of the same event — comments (the XID of a COMMIT), table
// ids, the spelling of binary collation literals, MariaDB's "cid=" commit
// ids — so that Info texts compare equal. The same six rewrites with the
// same (RE2 = Go regexp) syntax; each runs only when its fixed part occurs
// in the text, which changes no result and spares most events the regex.
class InfoNormalizer {
 public:
  InfoNormalizer();
  ~InfoNormalizer();
  InfoNormalizer(const InfoNormalizer&) = delete;
  InfoNormalizer& operator=(const InfoNormalizer&) = delete;

  void Normalize(std::string* info) const;

 private:
  struct Rule;
  std::vector<std::unique_ptr<Rule>> rules_;
};

// orchestrator's BinlogCoordinates.PreviousFileCoordinates and
// NextFileCoordinates: the numeric extension minus or plus one, zero-padded
// to the same width. A file numbered 0 has no previous one.
Status PreviousFile(const std::string& file, std::string* out);
std::string NextFile(const std::string& file);

}  // namespace tidewatch::orchestrator
