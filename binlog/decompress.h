// Decompression of the two compressed-event formats.
//
// MariaDB (QUERY_COMPRESSED_EVENT, *_ROWS_COMPRESSED_EVENT*; sql/log_event.cc
// binlog_buf_compress/binlog_buf_uncompress): one header byte 0x80 | (alg << 4)
// | lenlen, where alg 0 is zlib and lenlen (1..4) is the count of big-endian
// bytes of the uncompressed length that follow; then the zlib stream.
//
// MySQL (TRANSACTION_PAYLOAD_EVENT, libbinlogevents compression/): a zstd frame.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"

namespace tidewatch::binlog {

// Upper bound on any decompressed size we accept: the server's own limit on a
// binlog event (max_allowed_packet, at most 1 GiB).
inline constexpr uint64_t kMaxDecompressedSize = 1ull << 30;

// Decompresses a MariaDB compressed block into `out` (resized to fit).
Status MariaDbUncompress(std::span<const uint8_t> in, std::vector<uint8_t>* out);

// Decompresses a zstd payload of the announced size into `out`.
Status ZstdUncompress(std::span<const uint8_t> in, uint64_t expected_size,
                      std::vector<uint8_t>* out);

}  // namespace tidewatch::binlog
