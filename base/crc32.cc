#include "base/crc32.h"

#include <isa-l/crc.h>

namespace tidewatch {

uint32_t Crc32(const uint8_t* data, size_t size) { return crc32_gzip_refl(0, data, static_cast<uint64_t>(size)); }

uint32_t Crc32Extend(uint32_t crc, const uint8_t* data, size_t size) {
  return crc32_gzip_refl(crc, data, static_cast<uint64_t>(size));
}

}  // namespace tidewatch
