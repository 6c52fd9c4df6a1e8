// MySQL GTID sets as text ("uuid:1-5:11,uuid2:7", the form of
// @@gtid_executed) and in the binary form COM_BINLOG_DUMP_GTID and
// PREVIOUS_GTIDS carry:
//   n_sids 8 · { sid 16 · n_intervals 8 · { start 8 · end 8 (exclusive) }* }*
// (sql/rpl_gtid_set.cc Gtid_set::encode). Tagged GTIDs (8.4) are refused.
// Set arithmetic lives in pgtid/; this is the format only.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "binlog/event.h"
#include "binlog/status.h"

namespace tidewatch::binlog {

struct SidIntervals {
  Uuid sid{};
  std::vector<GtidInterval> intervals;  // [start, end), as written
};

// Parses the text form; intervals are kept as written (not merged or sorted).
Status ParseMysqlGtidSet(std::string_view text, std::vector<SidIntervals>* out);

std::vector<uint8_t> EncodeMysqlGtidSet(const std::vector<SidIntervals>& set);
Status EncodeMysqlGtidSet(std::string_view text, std::vector<uint8_t>* wire);

}  // namespace tidewatch::binlog
