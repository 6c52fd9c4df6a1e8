// CRC-32 with the zlib/gzip polynomial (0x04C11DB7 reflected; initial value
// and final xor 0xffffffff): what binlog event checksums, the spool's
// records and zlib use. Computed with ISA-L's crc32_gzip_refl.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tidewatch {

uint32_t Crc32(const uint8_t* data, size_t size);
// Continues a CRC-32 over more bytes: Crc32Extend(Crc32(a), b) == Crc32(a + b).
uint32_t Crc32Extend(uint32_t crc, const uint8_t* data, size_t size);

}  // namespace tidewatch
