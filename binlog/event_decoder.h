// EventDecoder: turns a located RawEvent into an Event.
//
// It keeps the state that decoding needs across events: the table maps of the
// current statement (to walk row images) and the buffers that hold
// decompressed bodies. One decoder per file or stream; not thread-safe.
//
// Decoding never ends a walk: an event's framing and checksum were checked
// when it was located, so whatever its body holds it is delivered — decoded,
// or as UndecodedBody with the reason (a type no server defines, a body that
// contradicts its lengths or its format description). Only framing errors
// (lengths that do not chain, a checksum mismatch, truncation) stop a file,
// and those are the reader's (file_reader.h, raw_event.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "binlog/event.h"
#include "binlog/format_description.h"
#include "binlog/raw_event.h"
#include "binlog/row_image.h"
#include "binlog/table_map_metadata.h"
#include "base/status.h"

namespace tidewatch::binlog {

class EventDecoder {
 public:
  // Decodes `raw` read under `fd`; always OK. A body it cannot decode comes
  // out as UndecodedBody with the reason (the event keeps its position and
  // header). A FORMAT_DESCRIPTION event decodes to its description.
  Status Decode(const RawEvent& raw, const FormatDescription& fd, Event* out);

  // After a TRANSACTION_PAYLOAD_EVENT at `payload_pos` was decoded (not
  // undecoded): locates the next event nested in its payload. `*offset`
  // starts at 0; returns EndOfFile at the end (at once for a payload that was
  // not decoded). The nested events' lengths were checked when the payload
  // was decoded. Nested events carry no checksum; their pos is the payload
  // event's.
  Status NextPayloadEvent(const FormatDescription& fd, uint64_t payload_pos, size_t* offset,
                          RawEvent* out) const;

  // Whether row images are walked while decoding (the default): the walk
  // checks every value's framing against the table map and counts the images
  // (RowsBody::images and rows, images_walked). Off, a rows event whose
  // images can be read still carries its row part, bitmaps and columns, with
  // images_walked false and the counts 0: for a caller that reads every value
  // itself (row_values.h), which checks the same framing as it reads.
  void set_walk_row_images(bool walk) { walk_row_images_ = walk; }

  // Events delivered as UndecodedBody since the decoder was made.
  uint64_t undecoded_events() const { return undecoded_events_; }

 private:
  Status DecodeBody(uint8_t type, const RawEvent& raw, const FormatDescription& fd, Event* out);
  Status DecodeRows(uint8_t type, std::span<const uint8_t> post_header,
                    std::span<const uint8_t> body, RowsBody* out);
  Status DecodeTableMap(std::span<const uint8_t> post_header, std::span<const uint8_t> body, bool mariadb,
                        TableMapBody* out);
  Status DecodeTransactionPayload(const FormatDescription& fd, std::span<const uint8_t> body,
                                  TransactionPayloadBody* out);

  const TableColumns* FindTable(uint64_t id);
  TableColumns& FindOrAddTable(uint64_t id);
  void ForgetTable(uint64_t id);

  static constexpr size_t kMaxCachedTables = 4096;
  std::unordered_map<uint64_t, TableColumns> tables_;
  uint64_t last_table_id_ = 0;
  TableColumns* last_table_ = nullptr;
  std::vector<uint8_t> uncompressed_;  // MariaDB compressed query / rows
  std::vector<uint8_t> payload_;       // MySQL transaction payload
  bool payload_ready_ = false;         // payload_ holds the decoded payload at payload_pos_
  uint64_t payload_pos_ = 0;
  uint64_t undecoded_events_ = 0;
  bool walk_row_images_ = true;
  std::string undecoded_reason_;       // behind UndecodedBody::reason
  // Storage behind the spans of the last decoded body.
  std::vector<MariaGtid> gtid_list_;
  std::vector<PreviousGtidsSid> previous_sids_;
  std::vector<GtidInterval> previous_intervals_;
  TableMapMetadataStorage table_metadata_;
  // The table map `table_metadata_` was decoded from: its id, the server's
  // flavour and its whole body, copied (the decoded names and ENUM/SET
  // strings point into the copy). A server announces the same map before
  // every statement that uses the table; the same map again is not decoded
  // twice.
  std::vector<uint8_t> metadata_source_;
  uint64_t metadata_table_id_ = 0;
  uint32_t metadata_fields_ = 0;
  bool metadata_mariadb_ = false, metadata_valid_ = false;
};

}  // namespace tidewatch::binlog
