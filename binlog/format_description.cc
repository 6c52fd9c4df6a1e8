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

// The pre-release trees that numbered event types differently; the test the
// 5.1 server applies to the version string (see format_description.h).
bool IsRenumberingTree(std::string_view v) {
  if (v.size() < 13 || v[0] != '5' || v[1] != '.' || v[3] != '.' || v.substr(5, 7) != "-a_drop") {
    return false;
  }
  const char minor = v[2], patch = v[4], drop = v[12];
  return (minor == '1' && patch >= '1' && patch <= '5' && drop == '5') ||
         (minor == '1' && patch == '4' && drop == '6') ||
         (minor == '2' && patch >= '0' && patch <= '2' && drop == '6');
}

// File type code → today's code for those trees, codes 16–22; the rest are
// the same in both numberings.
constexpr uint8_t kRenumbered[7] = {kTableMapEvent,         kPreGaWriteRowsEvent, kPreGaUpdateRowsEvent,
                                    kPreGaDeleteRowsEvent,  kXidEvent,            kBeginLoadQueryEvent,
                                    kExecuteLoadQueryEvent};

// binlog_version 2 · server_version 50 · create_timestamp 4: how a
// FORMAT_DESCRIPTION and a START_EVENT_V3 both open. False when `r` runs out.
bool ReadOpening(ByteReader& r, FormatDescription* fd) {
  fd->binlog_version = r.U16();
  auto version = r.Bytes(kServerVersionLength);
  fd->create_timestamp = r.U32();
  if (!r.ok()) return false;
  std::memcpy(fd->server_version.data(), version.data(), kServerVersionLength);
  fd->server_version[kServerVersionLength] = '\0';
  ParseVersion(fd);
  return true;
}

}  // namespace

uint8_t FormatDescription::RenumberedType(uint8_t file_type) {
  return file_type >= 16 && file_type <= 22 ? kRenumbered[file_type - 16] : file_type;
}

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
  const bool opened = ReadOpening(r, &fd);
  fd.header_length = r.U8();
  if (!opened || !r.ok()) return Status::Corruption("FORMAT_DESCRIPTION event shorter than its fixed part");
  if (fd.binlog_version != 4) {
    return Status::NotSupported("binlog version " + std::to_string(fd.binlog_version) +
                                " (only v4, MySQL >= 5.0 / MariaDB, is supported)");
  }
  if (fd.header_length < 19) {
    return Status::Corruption("FORMAT_DESCRIPTION announces a header length of " +
                              std::to_string(fd.header_length) + " < 19");
  }

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
  if (IsRenumberingTree(std::string_view(fd.server_version.data()))) {
    if (fd.event_type_count != 22) {
      return Status::Corruption("FORMAT_DESCRIPTION of " + fd.ServerVersion() + " announces " +
                                std::to_string(fd.event_type_count) +
                                " event types; that pre-release tree wrote 22");
    }
    fd.renumbered_types = true;
    std::array<uint8_t, 22> declared;
    std::memcpy(declared.data(), fd.post_header_length.data(), declared.size());
    for (uint8_t t = 1; t <= 22; ++t) {
      fd.post_header_length[FormatDescription::RenumberedType(t) - 1] = declared[t - 1];
    }
  }
  *out = fd;
  return Status::OK();
}

Status ParseStartEventV3(std::span<const uint8_t> event, FormatDescription* out) {
  // v1's header is 13 bytes, so its START_EVENT_V3 is shorter than 19 + 56:
  // mysqlbinlog tells the two apart by that length (client/mysqlbinlog.cc,
  // check_header), and reads v2 (4.0.0–4.0.1) as v3.
  constexpr size_t kStartV3Body = 2 + kServerVersionLength + 4;
  if (event.size() < kEventHeaderSize + kStartV3Body) {
    return Status::NotSupported("a START_EVENT_V3 of " + std::to_string(event.size()) +
                                " bytes: binlog version 1 (MySQL 3.23, 13-byte event headers) is not supported");
  }
  ByteReader r(event.subspan(kEventHeaderSize));
  FormatDescription fd;
  (void)ReadOpening(r, &fd);  // the length was checked above
  if (fd.binlog_version != 2 && fd.binlog_version != 3) {
    return Status::NotSupported("binlog version " + std::to_string(fd.binlog_version) +
                                " in START_EVENT_V3 (v2 and v3, MySQL 4.x, and v4 are supported)");
  }
  fd.header_length = kEventHeaderSize;
  fd.checksum_alg = ChecksumAlg::kOff;
  fd.event_type_count = kFormatDescriptionEvent - 1;
  auto set = [&fd](uint8_t type, uint8_t len) { fd.post_header_length[type - 1] = len; };
  set(kStartEventV3, kStartV3Body);
  set(kQueryEvent, 11);
  set(kRotateEvent, 8);
  set(kLoadEvent, 18);
  set(kNewLoadEvent, 18);
  for (uint8_t t : {kCreateFileEvent, kAppendBlockEvent, kExecLoadEvent, kDeleteFileEvent}) set(t, 4);
  *out = fd;
  return Status::OK();
}

}  // namespace tidewatch::binlog
