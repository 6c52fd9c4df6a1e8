// RawEvent: one event's bytes as found in a binlog, relay log or stream,
// located but not yet decoded. Views only; valid while the source buffer is.
#pragma once

#include <cstdint>
#include <span>

#include "binlog/event_header.h"
#include "binlog/format_description.h"
#include "base/status.h"

namespace tidewatch::binlog {

struct RawEvent {
  uint64_t pos = 0;                  // offset of the event's first byte in its file
  EventHeader header;
  std::span<const uint8_t> bytes;    // the whole event: header, body, checksum
  bool has_checksum = false;         // the last 4 bytes of `bytes` are a CRC32

  uint64_t next_pos() const { return pos + header.event_size; }
  // The event body: after the (possibly extended) header, before the checksum.
  std::span<const uint8_t> body(const FormatDescription& fd) const {
    size_t end = bytes.size() - (has_checksum ? kChecksumSize : 0);
    size_t start = fd.header_length < end ? fd.header_length : end;
    return bytes.subspan(start, end - start);
  }
};

// Locates the event that starts at `offset` in `buffer` (of which `base` is the
// file offset of buffer[0]) and checks its length and, when `fd` says CRC32,
// its checksum. A FORMAT_DESCRIPTION event is checked with the algorithm it
// names itself. Allocates nothing unless it fails.
Status LocateEvent(std::span<const uint8_t> buffer, size_t offset, uint64_t base,
                   const FormatDescription& fd, bool verify_checksum, RawEvent* out);

}  // namespace tidewatch::binlog
