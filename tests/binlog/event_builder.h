// Builds binlog events and files byte by byte for tests, the way a server
// writes them: common header, body, and (when CRC32 is on) the checksum. The
// encoding of one event is simulator/event_bytes.h's, which the fleet
// simulator serves.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "binlog/checksum.h"
#include "binlog/event_header.h"
#include "binlog/event_type.h"
#include "simulator/event_bytes.h"

namespace tidewatch::testing {

using simulator::Bytes;
using simulator::FormatDescriptionBody;
using simulator::MakeEvent;

// The body of a FORMAT_DESCRIPTION event of server `version` declaring
// `post_header` (one length per type, type 1 first). `checksum_alg`: whether
// the server writes the checksum-algorithm byte (MySQL 5.6.1+, MariaDB 5.3+);
// then `crc` says CRC32 or OFF.
inline std::vector<uint8_t> FormatDescriptionBody(std::string_view version, const std::vector<uint8_t>& post_header,
                                                  bool checksum_alg, bool crc) {
  Bytes b;
  std::string v(version);
  v.resize(50, '\0');
  b.u16(4).str(v).u32(1700000000).u8(19).raw(post_header);
  if (checksum_alg) {
    b.u8(crc ? 1 : 0);
    if (!crc) b.zeros(4);
  }
  return b.vec();
}

// The post-header lengths a MySQL 8.4 server declares (42 types; the v1 row
// events' are 0 since 8.4, TRANSACTION_PAYLOAD's is its type code, 40).
inline std::vector<uint8_t> MySql84PostHeaderLengths() {
  return {0, 13, 0, 8, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 99, 0, 4, 26, 8, 0, 0,
          0, 0, 0, 0, 2, 0, 0, 0, 10, 10, 10, 42, 42, 0, 18, 52, 0, 10, 40, 0, 0};
}

// Assembles a binlog file: magic, FORMAT_DESCRIPTION, then the given events
// (type, body) at consecutive positions.
class FileBuilder {
 public:
  explicit FileBuilder(bool crc = true) : crc_(crc) {
    data_.assign(binlog::kBinlogMagic, binlog::kBinlogMagic + 4);
    Add(binlog::kFormatDescriptionEvent, FormatDescriptionBody(crc));
  }
  // A file opened by the given FORMAT_DESCRIPTION body; `crc` must match it.
  FileBuilder(bool crc, const std::vector<uint8_t>& format_description) : crc_(crc) {
    data_.assign(binlog::kBinlogMagic, binlog::kBinlogMagic + 4);
    Add(binlog::kFormatDescriptionEvent, format_description);
  }
  // Returns the position of the added event.
  uint64_t Add(uint8_t type, const std::vector<uint8_t>& body, uint32_t server_id = 1) {
    uint64_t pos = data_.size();
    auto e = MakeEvent(type, body, pos, crc_, server_id);
    ++events_;
    data_.insert(data_.end(), e.begin(), e.end());
    return pos;
  }
  std::vector<uint8_t>& data() { return data_; }
  size_t event_count() const { return events_; }
  std::string Write(const std::string& path) const {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data_.data()),
                                               static_cast<std::streamsize>(data_.size()));
    return path;
  }

 private:
  bool crc_;
  std::vector<uint8_t> data_;
  size_t events_ = 0;  // the FORMAT_DESCRIPTION included
};

}  // namespace tidewatch::testing
