// EventDecoder: turns a located RawEvent into an Event.
//
// It keeps the state that decoding needs across events: the table maps of the
// current statement (to walk row images) and the buffers that hold
// decompressed bodies. One decoder per file or stream; not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "binlog/event.h"
#include "binlog/format_description.h"
#include "binlog/raw_event.h"
#include "binlog/row_image.h"
#include "binlog/status.h"

namespace tidewatch::binlog {

class EventDecoder {
 public:
  // Decodes `raw` read under `fd`. An unknown type decodes to UnknownBody; a
  // malformed body is an error naming the event's type and offset. A
  // FORMAT_DESCRIPTION event decodes to its description.
  Status Decode(const RawEvent& raw, const FormatDescription& fd, Event* out);

  // After a TRANSACTION_PAYLOAD_EVENT was decoded: locates the next event
  // nested in its payload. `*offset` starts at 0; returns EndOfFile at the end.
  // Nested events carry no checksum; their pos is the payload event's.
  Status NextPayloadEvent(const FormatDescription& fd, uint64_t payload_pos, size_t* offset,
                          RawEvent* out) const;

 private:
  Status DecodeBody(const RawEvent& raw, const FormatDescription& fd, Event* out);
  Status DecodeRows(uint8_t type, std::span<const uint8_t> post_header,
                    std::span<const uint8_t> body, RowsBody* out);
  Status DecodeTableMap(std::span<const uint8_t> post_header, std::span<const uint8_t> body,
                        TableMapBody* out);
  Status DecodeTransactionPayload(std::span<const uint8_t> body, TransactionPayloadBody* out);

  const TableColumns* FindTable(uint64_t id);
  TableColumns& FindOrAddTable(uint64_t id);
  void ForgetTable(uint64_t id);

  static constexpr size_t kMaxCachedTables = 4096;
  std::unordered_map<uint64_t, TableColumns> tables_;
  uint64_t last_table_id_ = 0;
  TableColumns* last_table_ = nullptr;
  std::vector<uint8_t> uncompressed_;  // MariaDB compressed query / rows
  std::vector<uint8_t> payload_;       // MySQL transaction payload
  // Storage behind the spans of the last decoded body.
  std::vector<MariaGtid> gtid_list_;
  std::vector<PreviousGtidsSid> previous_sids_;
  std::vector<GtidInterval> previous_intervals_;
  std::vector<std::string_view> column_names_;
};

}  // namespace tidewatch::binlog
