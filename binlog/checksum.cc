#include "binlog/checksum.h"

#include "binlog/event_header.h"
#include "binlog/event_type.h"

namespace tidewatch::binlog {

uint32_t EventCrc32(const uint8_t* data, size_t size) {
  const size_t n = size - kChecksumSize;
  constexpr size_t kFlagsOffset = 17;
  if (n < kEventHeaderSize || data[4] != kFormatDescriptionEvent ||
      (data[kFlagsOffset] & kLogEventBinlogInUseFlag) == 0) {
    return Crc32(data, n);
  }
  const uint8_t flags_low = static_cast<uint8_t>(data[kFlagsOffset] & ~kLogEventBinlogInUseFlag);
  uint32_t crc = Crc32(data, kFlagsOffset);
  crc = Crc32Extend(crc, &flags_low, 1);
  return Crc32Extend(crc, data + kFlagsOffset + 1, n - kFlagsOffset - 1);
}

bool VerifyCrc32(const uint8_t* data, size_t size) {
  if (size < kChecksumSize) return false;
  return EventCrc32(data, size) == StoredCrc32(data, size);
}

}  // namespace tidewatch::binlog
