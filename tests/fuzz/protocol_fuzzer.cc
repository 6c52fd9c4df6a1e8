// libFuzzer target for what the replica stream parses from a server before
// the events: the initial handshake, error packets, text result rows, and
// MySQL GTID set text. Any bytes: a result or a clean error, never a crash.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "binlog/mysql_gtid_set.h"
#include "binlog/mysql_protocol.h"

using namespace tidewatch::binlog;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  protocol::Handshake hs;
  (void)protocol::ParseHandshake(in, &hs);
  (void)protocol::ErrorMessage(in);
  protocol::Row row;
  (void)protocol::ParseTextRow(in, size % 17, &row);
  std::vector<uint8_t> wire;
  (void)EncodeMysqlGtidSet(std::string_view(reinterpret_cast<const char*>(data), size), &wire);
  return 0;
}
