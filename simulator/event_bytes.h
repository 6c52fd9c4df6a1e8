// Binlog events byte by byte, the way a server writes them: little-endian
// fields, length-encoded integers, the 19-byte common header (timestamp,
// type, server_id, event size, next position, flags; binlog v4,
// sql/log_event.h LOG_EVENT_HEADER_LEN) and, when CRC32 is on, the checksum
// over everything before it. Used by the simulated servers and by tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "binlog/checksum.h"
#include "binlog/event_type.h"

namespace tidewatch::simulator {

class Bytes {
 public:
  Bytes& u8(uint64_t v) { return le(v, 1); }
  Bytes& u16(uint64_t v) { return le(v, 2); }
  Bytes& u32(uint64_t v) { return le(v, 4); }
  Bytes& u48(uint64_t v) { return le(v, 6); }
  Bytes& u64(uint64_t v) { return le(v, 8); }
  Bytes& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Bytes& be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) b_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Bytes& packed(uint64_t v) {
    if (v < 251) return u8(v);
    if (v < (1u << 16)) return u8(0xfc).u16(v);
    if (v < (1u << 24)) return u8(0xfd).le(v, 3);
    return u8(0xfe).u64(v);
  }
  // A variable-length integer of MySQL's serialization library (MySQL 8.3+,
  // libs/mysql/serialization/readme.md): trailing one bits of the first
  // byte, plus one, give the length; the value follows them and a zero bit.
  Bytes& var(uint64_t v) {
    int n = 1;
    while (n < 9 && (v >> (7 * n)) != 0) ++n;
    if (n == 9) return u8(0xff).u64(v);
    return le(v << n | ((uint64_t{1} << (n - 1)) - 1), n);
  }
  // Its signed form: sign in the lowest bit.
  Bytes& svar(int64_t v) {
    return var(v < 0 ? (static_cast<uint64_t>(-(v + 1)) << 1) | 1 : static_cast<uint64_t>(v) << 1);
  }
  Bytes& str(std::string_view s) {
    b_.insert(b_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& raw(const std::vector<uint8_t>& v) {
    b_.insert(b_.end(), v.begin(), v.end());
    return *this;
  }
  Bytes& zeros(size_t n) {
    b_.insert(b_.end(), n, 0);
    return *this;
  }
  const std::vector<uint8_t>& vec() const { return b_; }
  size_t size() const { return b_.size(); }

 private:
  std::vector<uint8_t> b_;
};

// One event at file offset `pos` with header fields filled as a server would.
inline std::vector<uint8_t> MakeEvent(uint8_t type, const std::vector<uint8_t>& body, uint64_t pos,
                                      bool crc, uint32_t server_id = 1, uint16_t flags = 0) {
  const uint32_t size = static_cast<uint32_t>(19 + body.size() + (crc ? 4 : 0));
  Bytes e;
  e.u32(1700000000).u8(type).u32(server_id).u32(size).u32(static_cast<uint32_t>(pos + size)).u16(flags);
  e.raw(body);
  std::vector<uint8_t> v = e.vec();
  if (crc) {
    uint32_t c = Crc32(v.data(), v.size());
    for (int i = 0; i < 4; ++i) v.push_back(static_cast<uint8_t>(c >> (8 * i)));
  }
  return v;
}

// The body of a FORMAT_DESCRIPTION event of a MariaDB 10.11 server (the
// post-header lengths it declares: sql/log_event.cc,
// Format_description_log_event).
inline std::vector<uint8_t> FormatDescriptionBody(bool crc, std::string_view version = "10.11.19-MariaDB-log") {
  std::vector<uint8_t> ph(171, 0);
  auto set = [&](uint8_t type, uint8_t len) { ph[type - 1] = len; };
  set(binlog::kQueryEvent, 13); set(binlog::kRotateEvent, 8); set(binlog::kFormatDescriptionEvent, 84);
  set(binlog::kBeginLoadQueryEvent, 4); set(binlog::kExecuteLoadQueryEvent, 26);
  set(binlog::kAppendBlockEvent, 4); set(binlog::kDeleteFileEvent, 4);
  set(binlog::kTableMapEvent, 8);
  for (uint8_t t = binlog::kWriteRowsEventV1; t <= binlog::kDeleteRowsEventV1; ++t) set(t, 8);
  for (uint8_t t = binlog::kWriteRowsEvent; t <= binlog::kDeleteRowsEvent; ++t) set(t, 10);
  set(binlog::kPartialUpdateRowsEvent, 10);
  set(binlog::kMariaGtidEvent, 19); set(binlog::kMariaGtidListEvent, 4);
  set(binlog::kBinlogCheckpointEvent, 4); set(binlog::kQueryCompressedEvent, 13);
  for (uint8_t t = binlog::kWriteRowsCompressedEventV1; t <= binlog::kDeleteRowsCompressedEventV1; ++t) set(t, 8);
  for (uint8_t t = binlog::kWriteRowsCompressedEvent; t <= binlog::kDeleteRowsCompressedEvent; ++t) set(t, 10);
  Bytes b;
  b.u16(4);
  std::string v(version);
  v.resize(50, '\0');
  b.str(v).u32(1700000000).u8(19).raw(ph).u8(crc ? 1 : 0);
  if (!crc) b.zeros(4);  // OFF still carries 4 checksum bytes; the builder adds them when on
  return b.vec();
}

}  // namespace tidewatch::simulator
