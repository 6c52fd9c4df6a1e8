// The JSON-lines form of a decoded binlog event, shared by `tidewatch binlog
// dump` (files) and `tidewatch binlog stream` (live): one object per event with
// file, pos, next_pos, size, type, type_name, server_id, timestamp, and the
// fields of its body that apply (gtid, query, rotate, xid, table, rows, …).
//
// Lines are written straight into the caller's buffer (server/json_writer.h),
// keys sorted at every level as a nlohmann::json object prints them: the
// format the first releases printed, byte for byte.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "binlog/event.h"
#include "binlog/event_decoder.h"
#include "binlog/raw_event.h"

namespace tidewatch::server {

// Lines accumulate in the writer's own buffer (text()) until the caller
// takes them and calls Clear(): no allocation per line once it has grown.
class EventJsonWriter {
 public:
  EventJsonWriter() = default;
  EventJsonWriter(const EventJsonWriter&) = delete;
  EventJsonWriter& operator=(const EventJsonWriter&) = delete;

  // Appends the JSON line of `event` (with its '\n').
  void Append(std::string_view file, const binlog::Event& event);

  // Decodes `raw` into `event` and appends its JSON line, then those of the
  // events nested in it when it is a TRANSACTION_PAYLOAD_EVENT. Errors name
  // `file` and the byte offset; the lines of the events before the error stay
  // in text().
  Status AppendLines(const std::string& file, const binlog::RawEvent& raw,
                     const binlog::FormatDescription& fd, binlog::EventDecoder& decoder,
                     binlog::Event* event);

  std::string_view text() const { return {buf_.get(), size_}; }
  void Clear() { size_ = 0; }

  // One field of an event's body: its key, the JSON text of its value,
  // body_[begin, end), and how many of the header's keys sort before it. A
  // body writes its fields in key order; Append merges them with the
  // header's.
  struct Field {
    std::string_view key;
    uint32_t begin = 0, end = 0;
    uint8_t rank = 0;
  };
  // The last table written, kept as JSON text: row events repeat it.
  struct TableText {
    uint64_t id = ~uint64_t{0};
    std::string db, name, json;
  };

 private:
  // Room for `n` more bytes at buf_ + size_.
  char* Reserve(size_t n);

  std::unique_ptr<char[]> buf_;
  size_t size_ = 0, capacity_ = 0;
  std::string body_;
  std::vector<Field> fields_;
  TableText table_;
  std::string file_;       // the file of the last line …
  std::string file_json_;  // … as a JSON string
  // Digits of the last timestamp and server id: consecutive events share them.
  uint32_t timestamp_ = 0, server_id_ = 0;
  char timestamp_text_[12] = {'0'}, server_id_text_[12] = {'0'};
  uint8_t timestamp_len_ = 1, server_id_len_ = 1;
  // The end of the last top-level event: the next one's pos.
  uint64_t next_pos_ = ~uint64_t{0};
  char next_pos_text_[24] = {};
  uint8_t next_pos_len_ = 0;
};

}  // namespace tidewatch::server
