#include "binlog/decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <string>

namespace tidewatch::binlog {

Status MariaDbUncompress(std::span<const uint8_t> in, std::vector<uint8_t>* out) {
  if (in.empty() || (in[0] & 0x80) == 0) {
    return Status::Corruption("compressed block lacks its 0x80 header byte");
  }
  const unsigned alg = (in[0] >> 4) & 0x07;
  const unsigned lenlen = in[0] & 0x07;
  if (alg != 0) return Status::NotSupported("compression algorithm " + std::to_string(alg));
  if (lenlen < 1 || lenlen > 4 || in.size() < 1 + lenlen) {
    return Status::Corruption("compressed block has a bad length-of-length " +
                              std::to_string(lenlen));
  }
  uint64_t len = 0;
  for (unsigned i = 0; i < lenlen; ++i) len = (len << 8) | in[1 + i];
  // Deflate expands at most 1032:1 (zlib FAQ, "maximum compression ratio").
  const uint64_t zlib_bound = (in.size() - 1 - lenlen) * 1032ull + 64;
  if (len > kMaxDecompressedSize || len > zlib_bound) {
    return Status::Corruption("compressed block of " + std::to_string(in.size()) +
                              " bytes announces " + std::to_string(len) + " bytes");
  }
  out->resize(len);
  uLongf dest_len = static_cast<uLongf>(len);
  int rc = ::uncompress(out->data(), &dest_len, in.data() + 1 + lenlen,
                        static_cast<uLong>(in.size() - 1 - lenlen));
  if (rc != Z_OK) return Status::Corruption("zlib error " + std::to_string(rc));
  if (dest_len != len) {
    return Status::Corruption("compressed block announced " + std::to_string(len) +
                              " bytes but held " + std::to_string(dest_len));
  }
  return Status::OK();
}

Status ZstdUncompress(std::span<const uint8_t> in, uint64_t expected_size,
                      std::vector<uint8_t>* out) {
  // A zstd block of at most 128 KiB takes at least 4 bytes (an RLE block:
  // 3-byte header and the byte), which bounds what a frame can expand to
  // (RFC 8878, 3.1.1.2).
  const uint64_t zstd_bound = (in.size() / 4 + 1) * (128ull << 10);
  if (expected_size > kMaxDecompressedSize || expected_size > zstd_bound) {
    return Status::Corruption("payload of " + std::to_string(in.size()) + " bytes announces " +
                              std::to_string(expected_size) + " bytes");
  }
  out->resize(expected_size);
  size_t n = ZSTD_decompress(out->data(), out->size(), in.data(), in.size());
  if (ZSTD_isError(n)) return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != expected_size) {
    return Status::Corruption("payload announced " + std::to_string(expected_size) +
                              " uncompressed bytes but held " + std::to_string(n));
  }
  return Status::OK();
}

}  // namespace tidewatch::binlog
