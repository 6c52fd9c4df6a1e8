#include "binlog/checksum.h"

#include <isa-l/crc.h>

#include "binlog/event_header.h"
#include "binlog/event_type.h"

namespace tidewatch::binlog {

uint32_t Crc32(const uint8_t* data, size_t size) {
  return crc32_gzip_refl(0, data, static_cast<uint64_t>(size));
}

uint32_t EventCrc32(const uint8_t* data, size_t size) {
  const size_t n = size - kChecksumSize;
  constexpr size_t kFlagsOffset = 17;
  if (n < kEventHeaderSize || data[4] != kFormatDescriptionEvent ||
      (data[kFlagsOffset] & kLogEventBinlogInUseFlag) == 0) {
    return Crc32(data, n);
  }
  const uint8_t flags_low = static_cast<uint8_t>(data[kFlagsOffset] & ~kLogEventBinlogInUseFlag);
  uint32_t crc = crc32_gzip_refl(0, data, kFlagsOffset);
  crc = crc32_gzip_refl(crc, &flags_low, 1);
  return crc32_gzip_refl(crc, data + kFlagsOffset + 1, n - kFlagsOffset - 1);
}

bool VerifyCrc32(const uint8_t* data, size_t size) {
  if (size < kChecksumSize) return false;
  return EventCrc32(data, size) == StoredCrc32(data, size);
}

}  // namespace tidewatch::binlog
