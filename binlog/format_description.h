// FORMAT_DESCRIPTION_EVENT (type 15): the first event of every binlog v4 file
// and of every relay log written by a replica, describing how to read the rest:
//   binlog_version 2 · server_version 50 (NUL padded) · create_timestamp 4 ·
//   header_length 1 · post_header_length[one per event type] ·
//   checksum_alg 1 · checksum 4
// The checksum_alg byte and the 4 checksum bytes are present only for servers
// that know checksums (MySQL >= 5.6.1, MariaDB >= 5.3); they are always 5 bytes
// even when the algorithm is OFF (libbinlogevents Format_description_event,
// sql/log_event.cc Format_description_log_event).
//
// Every event's post-header length is the one its governing description
// declares, whatever today's servers write: decoders split post-header and
// body there.
//
// Servers of the 5.1/5.2 "-a_drop5"/"-a_drop6" pre-release trees (version
// strings 5.1.[1-5]-a_drop5…, 5.1.4-a_drop6…, 5.2.[0-2]-a_drop6…) numbered
// the types after FORMAT_DESCRIPTION differently: 16 TABLE_MAP, 17–19 the
// pre-GA row events, 20 XID, 21 BEGIN_LOAD_QUERY, 22 EXECUTE_LOAD_QUERY, and
// announce exactly 22 types. MySQL 5.1–5.7 read them through a permutation
// (sql/log_event.cc, Format_description_log_event, event_type_permutation);
// so does CurrentType(), and post_header_length is kept in today's numbering.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "binlog/checksum.h"
#include "base/status.h"

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
  bool renumbered_types = false;  // a 5.1/5.2 pre-release tree (see above)

  // `type` in today's numbering.
  uint8_t PostHeaderLength(uint8_t type) const {
    return type == 0 ? 0 : post_header_length[type - 1];
  }
  // The type, in today's numbering, of an event whose header says `file_type`.
  uint8_t CurrentType(uint8_t file_type) const {
    return renumbered_types ? RenumberedType(file_type) : file_type;
  }
  static uint8_t RenumberedType(uint8_t file_type);
  bool HasChecksum() const { return checksum_alg == ChecksumAlg::kCrc32; }
  std::string ServerVersion() const { return std::string(server_version.data()); }

  // A description for reading events of a v4 binlog before its own
  // FORMAT_DESCRIPTION has been seen (e.g. the ROTATE a server sends first).
  static FormatDescription DefaultV4();
};

// Parses the body (after the common header) of a FORMAT_DESCRIPTION event.
// `body` includes the trailing checksum bytes, if any.
Status ParseFormatDescription(std::span<const uint8_t> body, FormatDescription* out);

// START_EVENT_V3 (type 1) opens a binlog of the formats before v4: v3 (MySQL
// 4.0.2 to 4.1), v2 (4.0.0–4.0.1) and v1 (3.23, 13-byte headers) — `event` is
// the whole event. It declares no lengths, so a v2 or v3 file is read with
// the layout MySQL's own reader assumes for v3 (sql/log_event.cc,
// Format_description_log_event for binlog_ver 3): 19-byte headers, no
// checksums, and post-headers of 56 bytes (START_EVENT_V3), 11 (QUERY: no
// status variables), 8 (ROTATE), 18 (LOAD, NEW_LOAD) and 4 (CREATE_FILE,
// APPEND_BLOCK, EXEC_LOAD, DELETE_FILE). Its body: binlog_version 2 ·
// server_version 50 · create_timestamp 4. v1 is refused with NotSupported.
Status ParseStartEventV3(std::span<const uint8_t> event, FormatDescription* out);

}  // namespace tidewatch::binlog
