// libFuzzer target: MySQL GTID sets, tagged ones included. Any bytes are
// read twice: as the text form (binlog/mysql_gtid_set.h) and as the binary
// form of PREVIOUS_GTIDS and COM_BINLOG_DUMP_GTID. Never a crash; and what
// parses holds its shape through every conversion:
//   text → binary → decoded: the same sources, tags and intervals;
//   text → normalized set → text → set: the same set.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "binlog/mysql_gtid_set.h"
#include "pgtid/mysql_gtid_set.h"

using namespace tidewatch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  uint8_t format = 0;
  std::vector<binlog::PreviousGtidsSid> sids;
  std::vector<binlog::GtidInterval> intervals;
  size_t used = 0;
  (void)binlog::DecodeMysqlGtidSet(std::span<const uint8_t>(data, size), &format, &sids, &intervals, &used);

  std::vector<binlog::SidIntervals> parsed;
  if (!binlog::ParseMysqlGtidSet(text, &parsed).ok()) return 0;
  const std::vector<uint8_t> wire = binlog::EncodeMysqlGtidSet(parsed);
  if (!binlog::DecodeMysqlGtidSet(wire, &format, &sids, &intervals, &used).ok()) std::abort();
  if (used != wire.size() || sids.size() != parsed.size()) std::abort();
  bool tagged = false;
  for (size_t i = 0; i < parsed.size(); ++i) {
    tagged |= !parsed[i].tag.empty();
    if (sids[i].sid != parsed[i].sid || sids[i].tag != parsed[i].tag) std::abort();
    if (!std::equal(sids[i].intervals.begin(), sids[i].intervals.end(), parsed[i].intervals.begin(),
                    parsed[i].intervals.end())) {
      std::abort();
    }
  }
  if (format != (tagged ? 1 : 0)) std::abort();

  pgtid::MysqlGtidSet set;
  if (!pgtid::MysqlGtidSet::Parse(text, &set).ok()) std::abort();
  pgtid::MysqlGtidSet again;
  if (!pgtid::MysqlGtidSet::Parse(set.ToString(), &again).ok() || !(again == set)) std::abort();
  if (!set.Contains(again) || !set.Subtract(again).empty()) std::abort();
  return 0;
}
