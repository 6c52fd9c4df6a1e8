// MySQL GTID sets as text ("uuid:1-5:11,uuid2:7", the form of
// @@gtid_executed) and in the binary form COM_BINLOG_DUMP_GTID carries:
//   n_sids 8 · { sid 16 · n_intervals 8 · { start 8 · end 8 (exclusive) }* }*
// (sql/rpl_gtid_set.cc Gtid_set::encode). Tagged GTIDs (8.4) are refused.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "binlog/status.h"

namespace tidewatch::binlog {

Status EncodeMysqlGtidSet(std::string_view text, std::vector<uint8_t>* wire);

}  // namespace tidewatch::binlog
