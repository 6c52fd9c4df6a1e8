#include "binlog/raw_event.h"

#include <cstdio>
#include <string>

#include "binlog/checksum.h"
#include "binlog/event_type.h"

namespace tidewatch::binlog {
namespace {

std::string At(uint64_t pos) { return "at byte offset " + std::to_string(pos); }

// The checksum algorithm a FORMAT_DESCRIPTION event names for itself: the byte
// before its last 4, when the server writes one (see format_description.h).
ChecksumAlg SelfDescribedAlg(std::span<const uint8_t> event, uint8_t header_length) {
  FormatDescription fd;
  if (event.size() <= header_length) return ChecksumAlg::kOff;
  if (!ParseFormatDescription(event.subspan(header_length), &fd).ok()) return ChecksumAlg::kOff;
  return fd.checksum_alg;
}

}  // namespace

Status LocateEvent(std::span<const uint8_t> buffer, size_t offset, uint64_t base,
                   const FormatDescription& fd, bool verify_checksum, RawEvent* out) {
  const uint64_t pos = base + offset;
  const size_t left = buffer.size() - offset;
  if (left < kEventHeaderSize) {
    return Status::Truncated("truncated event header " + At(pos) + ": " + std::to_string(left) +
                              " of 19 bytes present");
  }
  EventHeader h = ParseEventHeader(buffer.data() + offset);
  const uint32_t min_size = fd.header_length > kEventHeaderSize ? fd.header_length : kEventHeaderSize;
  if (h.event_size < min_size) {
    return Status::Corruption("event " + At(pos) + " declares a length of " +
                              std::to_string(h.event_size) + " bytes, shorter than its header");
  }
  if (h.event_size > left) {
    return Status::Truncated("truncated event " + At(pos) + " (" +
                              std::string(EventTypeName(h.type)) + "): declares " +
                              std::to_string(h.event_size) + " bytes, " + std::to_string(left) +
                              " present");
  }
  auto bytes = buffer.subspan(offset, h.event_size);
  bool crc = fd.HasChecksum();
  if (h.type == kFormatDescriptionEvent) {
    crc = SelfDescribedAlg(bytes, h.event_size > fd.header_length ? fd.header_length : 19) ==
          ChecksumAlg::kCrc32;
  }
  if (crc && h.event_size < min_size + kChecksumSize) {
    return Status::Corruption("event " + At(pos) + " too short for its checksum");
  }
  if (crc && verify_checksum && !VerifyCrc32(bytes.data(), bytes.size())) {
    char buf[96];
    std::snprintf(buf, sizeof buf, ": stored CRC32 %08x, computed %08x",
                  StoredCrc32(bytes.data(), bytes.size()), EventCrc32(bytes.data(), bytes.size()));
    return Status::Corruption("checksum mismatch in event " + At(pos) + " (" +
                              std::string(EventTypeName(h.type)) + ")" + buf);
  }
  out->pos = pos;
  out->header = h;
  out->bytes = bytes;
  out->has_checksum = crc;
  return Status::OK();
}

}  // namespace tidewatch::binlog
