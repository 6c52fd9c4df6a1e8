// The common header every binlog event starts with (binlog format v4):
//   timestamp 4 · type 1 · server_id 4 · event_size 4 · log_pos 4 · flags 2
// log_pos is the position of the *next* event in the server's own binlog
// (0 in artificial events and in events nested in a transaction payload).
// A FORMAT_DESCRIPTION event may announce a longer header; the extra bytes are
// skipped (libbinlogevents Log_event_header; MySQL Internals, "Binlog Event Header").
#pragma once

#include <cstdint>

namespace tidewatch::binlog {

inline constexpr uint32_t kEventHeaderSize = 19;
inline constexpr uint32_t kChecksumSize = 4;
inline constexpr uint32_t kBinlogMagicSize = 4;
inline constexpr uint8_t kBinlogMagic[kBinlogMagicSize] = {0xfe, 'b', 'i', 'n'};

// Header flags (sql/log_event.h).
inline constexpr uint16_t kLogEventBinlogInUseFlag = 0x0001;
inline constexpr uint16_t kLogEventArtificialFlag = 0x0020;
inline constexpr uint16_t kLogEventRelayLogFlag = 0x0040;

struct EventHeader {
  uint32_t timestamp = 0;
  uint8_t type = 0;
  uint32_t server_id = 0;
  uint32_t event_size = 0;
  uint32_t log_pos = 0;
  uint16_t flags = 0;
};

// Parses the 19 fixed header bytes, which the caller guarantees are present,
// field by field into `h`. (Building a header on the stack and copying it
// whole makes the CPU reload fields it has just stored with one wide load,
// which stalls store forwarding on every event of a walk.)
inline void ParseEventHeader(const uint8_t* p, EventHeader* h) {
  auto u32 = [](const uint8_t* q) {
    return static_cast<uint32_t>(q[0]) | static_cast<uint32_t>(q[1]) << 8 |
           static_cast<uint32_t>(q[2]) << 16 | static_cast<uint32_t>(q[3]) << 24;
  };
  h->timestamp = u32(p);
  h->type = p[4];
  h->server_id = u32(p + 5);
  h->event_size = u32(p + 9);
  h->log_pos = u32(p + 13);
  h->flags = static_cast<uint16_t>(p[17] | p[18] << 8);
}

inline EventHeader ParseEventHeader(const uint8_t* p) {
  EventHeader h;
  ParseEventHeader(p, &h);
  return h;
}

}  // namespace tidewatch::binlog
