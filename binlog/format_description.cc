#include "binlog/format_description.h"

#include <cstdio>
#include <cstring>
#include <string_view>

#include "binlog/byte_reader.h"
#include "binlog/event_header.h"
#include "binlog/event_type.h"

namespace tidewatch::binlog {
namespace {

constexpr size_t kServerVersionLength = 50;
// binlog_version + server_version + create_timestamp + header_length
constexpr size_t kFixedPart = 2 + kServerVersionLength + 4 + 1;
constexpr size_t kChecksumAlgAndValue = 1 + kChecksumSize;

void ParseVersion(FormatDescription* fd) {
  std::string_view v(fd->server_version.data());
  fd->is_mariadb = v.find("MariaDB") != std::string_view::npos;
  int major = 0, minor = 0, patch = 0;
  std::sscanf(fd->server_version.data(), "%d.%d.%d", &major, &minor, &patch);
  fd->version_major = major;
  fd->version_minor = minor;
  fd->version_patch = patch;
}

// Server versions that write the checksum_alg byte (MySQL 5.6.1, MariaDB 5.3.0).
bool VersionHasChecksumAlg(const FormatDescription& fd) {
  long product = fd.version_major * 10000L + fd.version_minor * 100L + fd.version_patch;
  return product >= (fd.is_mariadb ? 50300 : 50601);
}

}  // namespace

FormatDescription FormatDescription::DefaultV4() {
  FormatDescription fd;
  fd.checksum_alg = ChecksumAlg::kOff;
  // MySQL 5.7 defaults; only ROTATE's (8) matters before a real description arrives.
  fd.post_header_length[kRotateEvent - 1] = 8;
  fd.post_header_length[kQueryEvent - 1] = 13;
  fd.post_header_length[kFormatDescriptionEvent - 1] = 84;
  return fd;
}

Status ParseFormatDescription(std::span<const uint8_t> body, FormatDescription* out) {
  FormatDescription fd;
  ByteReader r(body);
  fd.binlog_version = r.U16();
  auto version = r.Bytes(kServerVersionLength);
  fd.create_timestamp = r.U32();
  fd.header_length = r.U8();
  if (!r.ok()) return Status::Corruption("FORMAT_DESCRIPTION event shorter than its fixed part");
  if (fd.binlog_version != 4) {
    return Status::NotSupported("binlog version " + std::to_string(fd.binlog_version) +
                                " (only v4, MySQL >= 5.0 / MariaDB, is supported)");
  }
  if (fd.header_length < 19) {
    return Status::Corruption("FORMAT_DESCRIPTION announces a header length of " +
                              std::to_string(fd.header_length) + " < 19");
  }
  std::memcpy(fd.server_version.data(), version.data(), kServerVersionLength);
  fd.server_version[kServerVersionLength] = '\0';
  ParseVersion(&fd);

  size_t rest = r.remaining();
  if (VersionHasChecksumAlg(fd)) {
    if (rest < kChecksumAlgAndValue) {
      return Status::Corruption("FORMAT_DESCRIPTION too short for its checksum algorithm byte");
    }
    fd.event_type_count = static_cast<uint16_t>(rest - kChecksumAlgAndValue);
    uint8_t alg = body[kFixedPart + fd.event_type_count];
    if (alg != 0 && alg != 1) {
      return Status::Corruption("FORMAT_DESCRIPTION names unknown checksum algorithm " +
                                std::to_string(alg));
    }
    fd.checksum_alg = static_cast<ChecksumAlg>(alg);
  } else {
    fd.event_type_count = static_cast<uint16_t>(rest);
    fd.checksum_alg = ChecksumAlg::kOff;
  }
  if (fd.event_type_count > fd.post_header_length.size()) {
    return Status::Corruption("FORMAT_DESCRIPTION announces " +
                              std::to_string(fd.event_type_count) + " event types");
  }
  std::memcpy(fd.post_header_length.data(), body.data() + kFixedPart, fd.event_type_count);
  *out = fd;
  return Status::OK();
}

}  // namespace tidewatch::binlog
