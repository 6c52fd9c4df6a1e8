// Which binlog events belong to the replicated stream, and a short signature
// that is equal for the same event in two servers' binlogs.
//
// Counting events between Pseudo-GTID entries only works if both servers'
// logs hold the same events. Server-local events differ between a master and
// the replica that re-logs its events (log_slave_updates) and are not
// counted: ROTATE, FORMAT_DESCRIPTION, STOP, heartbeats, PREVIOUS_GTIDS,
// GTID_LIST, BINLOG_CHECKPOINT, START_ENCRYPTION, INCIDENT. Nor are the
// informational ANNOTATE_ROWS and ROWS_QUERY events: a replica re-logs them
// only when configured to (MariaDB replicate_annotate_row_events, MySQL
// binlog_rows_query_log_events on the replica).
//
// A signature is 8 bits of event class (row events of every version and
// compression, GTID/anonymous GTID, compressed and plain queries fold into one
// class each) and 16 bits of content hash over what a replica preserves:
// the query text, the GTID, the table name of a table map, the row images.
// A hash of 0 means "not compared" (XID numbers, compressed row bodies).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "binlog/event_decoder.h"
#include "binlog/raw_event.h"

namespace tidewatch::pgtid {

bool IsReplicatedEvent(uint8_t type);
// The same, by the Event_type that SHOW BINLOG EVENTS and SHOW RELAYLOG
// EVENTS print ("Query", "Format_desc", …; sql/log_event.cc,
// Log_event::get_type_str).
bool IsReplicatedEventName(std::string_view event_type);

using EventSignature = uint32_t;  // 24 bits used

inline uint8_t SignatureClass(EventSignature s) { return static_cast<uint8_t>(s >> 16); }
inline bool SignaturesAgree(EventSignature a, EventSignature b) {
  if (SignatureClass(a) != SignatureClass(b)) return false;
  const uint16_t ha = a & 0xffff, hb = b & 0xffff;
  return ha == 0 || hb == 0 || ha == hb;
}
// Whether `s` is a GTID event's (anonymous and tagged ones included): the
// first event of a transaction where the server writes GTIDs.
bool IsGtidSignature(EventSignature s);
// "QUERY", "ROWS_WRITE", "GTID", … for messages.
std::string SignatureName(EventSignature s);

// The signature of a replicated event. `decoded` is the event already decoded
// (QUERY, TABLE_MAP and GTID events are read from it); other types are hashed
// from their raw body.
EventSignature SignatureOf(const binlog::RawEvent& raw, const binlog::FormatDescription& fd,
                           const binlog::Event* decoded);

// Whether the events of this type are decoded to compute their signature or
// to recognize Pseudo-GTID entries.
bool NeedsDecoding(uint8_t type);

}  // namespace tidewatch::pgtid
