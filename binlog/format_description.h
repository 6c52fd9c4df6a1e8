// FORMAT_DESCRIPTION_EVENT (type 15): the first event of every binlog v4 file
// and of every relay log written by a replica, describing how to read the rest:
//   binlog_version 2 · server_version 50 (NUL padded) · create_timestamp 4 ·
//   header_length 1 · post_header_length[one per event type] ·
//   checksum_alg 1 · checksum 4
// The checksum_alg byte and the 4 checksum bytes are present only for servers
// that know checksums (MySQL >= 5.6.1, MariaDB >= 5.3); they are always 5 bytes
// even when the algorithm is OFF (libbinlogevents Format_description_event,
// sql/log_event.cc Format_description_log_event).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "binlog/checksum.h"
#include "binlog/status.h"

namespace tidewatch::binlog {

struct FormatDescription {
  uint16_t binlog_version = 4;
  std::array<char, 51> server_version{};  // NUL terminated
  uint32_t create_timestamp = 0;
  uint8_t header_length = 19;
  // post_header_length[type - 1] as announced; entries past the announced count are 0.
  std::array<uint8_t, 256> post_header_length{};
  uint16_t event_type_count = 0;
  ChecksumAlg checksum_alg = ChecksumAlg::kUndefined;
  bool is_mariadb = false;
  int version_major = 0, version_minor = 0, version_patch = 0;

  uint8_t PostHeaderLength(uint8_t type) const {
    return type == 0 ? 0 : post_header_length[type - 1];
  }
  bool HasChecksum() const { return checksum_alg == ChecksumAlg::kCrc32; }
  std::string ServerVersion() const { return std::string(server_version.data()); }

  // A description for reading events of a v4 binlog before its own
  // FORMAT_DESCRIPTION has been seen (e.g. the ROTATE a server sends first).
  static FormatDescription DefaultV4();
};

// Parses the body (after the common header) of a FORMAT_DESCRIPTION event.
// `body` includes the trailing checksum bytes, if any.
Status ParseFormatDescription(std::span<const uint8_t> body, FormatDescription* out);

}  // namespace tidewatch::binlog
