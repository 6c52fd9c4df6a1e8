// MySQL GTID sets as text and in the binary form that COM_BINLOG_DUMP_GTID
// and PREVIOUS_GTIDS carry. Set arithmetic lives in pgtid/; this is the
// format only.
//
// Text, as @@gtid_executed prints it (MySQL 8.3+ with tags):
//   uuid[:interval…][:tag:interval[:interval…]]…[,uuid…]
// An interval is "n" or "n-m" (1 <= n <= m < 2^63); a tag applies to the
// intervals after it until the next tag. Tags (libs/mysql/gtid/tag.cpp) are
// 1–32 characters, letters, digits and '_', not starting with a digit, and
// compare case-insensitively: they are kept in lowercase.
//
// Binary (sql/rpl_gtid_set.cc Gtid_set::encode; libs/mysql/gtid):
//   header 8 · { uuid 16 · [tag] · n_intervals 8 · { start 8 · end 8 (exclusive) }* }*
// Format 0 (untagged): the header is the source count, little-endian, its
// top byte 0. Format 1 (tagged): header byte 0 and byte 7 are 1 and bytes
// 1–6 the source count; each tag is a length as a serialization-library
// variable-length integer (byte_reader.h VarUint) and its characters, empty
// for untagged GTIDs. A server writes format 1 only for a set with a tag.
// (MySQL 9.x defines a format 2 that its servers do not write.)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "binlog/event.h"

namespace tidewatch::binlog {

inline constexpr size_t kMaxGtidTagLength = 32;

struct SidIntervals {
  Uuid sid{};
  std::string tag;                      // lowercase; empty: untagged
  std::vector<GtidInterval> intervals;  // [start, end), as written
};

// Whether `tag` is a tag as it appears in a binary set or event (lowercase
// not required).
bool IsValidGtidTag(std::string_view tag);

// Parses the text form. One entry per uuid and tag as written, in order;
// intervals are kept as written (not merged or sorted).
Status ParseMysqlGtidSet(std::string_view text, std::vector<SidIntervals>* out);

// The binary form: format 0 when no entry has a tag, else format 1.
std::vector<uint8_t> EncodeMysqlGtidSet(const std::vector<SidIntervals>& set);
Status EncodeMysqlGtidSet(std::string_view text, std::vector<uint8_t>* wire);

// Decodes the binary form at the start of `in` into `sids` and `intervals`
// (whose storage is reused; spans point into them), the format into
// *format, and the bytes it took into *used.
Status DecodeMysqlGtidSet(std::span<const uint8_t> in, uint8_t* format, std::vector<PreviousGtidsSid>* sids,
                          std::vector<GtidInterval>* intervals, size_t* used);

}  // namespace tidewatch::binlog
