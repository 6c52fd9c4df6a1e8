// Binlog event checksums. CRC32 is the zlib/gzip polynomial (reflected,
// init and final xor 0xffffffff), stored little-endian in the last 4 bytes of
// the event (sql/log_event.cc, Log_event::write_footer); base/crc32.h computes it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/crc32.h"

namespace tidewatch::binlog {

// binlog_checksum algorithms as written in FORMAT_DESCRIPTION (enum_binlog_checksum_alg).
enum class ChecksumAlg : uint8_t { kOff = 0, kCrc32 = 1, kUndefined = 255 };

// True when the last 4 bytes of the event [data, data+size) are the CRC32 of
// the rest. A FORMAT_DESCRIPTION event's checksum is computed with the
// LOG_EVENT_BINLOG_IN_USE_F header flag clear, since the server clears that
// flag in place when it closes the file (sql/log_event.cc,
// event_checksum_test); the flag is masked for it here.
bool VerifyCrc32(const uint8_t* data, size_t size);
// The CRC32 stored little-endian in the last 4 bytes of [data, data+size).
inline uint32_t StoredCrc32(const uint8_t* data, size_t size) {
  const uint8_t* c = data + size - 4;
  return static_cast<uint32_t>(c[0]) | static_cast<uint32_t>(c[1]) << 8 |
         static_cast<uint32_t>(c[2]) << 16 | static_cast<uint32_t>(c[3]) << 24;
}
uint32_t EventCrc32(const uint8_t* data, size_t size);

}  // namespace tidewatch::binlog
