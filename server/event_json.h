// The JSON-lines form of a decoded binlog event, shared by `tidewatch binlog
// dump` (files) and `tidewatch binlog stream` (live): one object per event with
// file, pos, next_pos, size, type, type_name, server_id, timestamp, and the
// fields of its body that apply (gtid, query, rotate, xid, table, rows, …).
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "binlog/event.h"
#include "binlog/event_decoder.h"
#include "binlog/raw_event.h"

namespace tidewatch::server {

nlohmann::json EventToJson(std::string_view file, const binlog::Event& event);

// Decodes `raw` into `event` and writes its JSON line, then those of the
// events nested in it when it is a TRANSACTION_PAYLOAD_EVENT. Errors name
// `file` and the byte offset.
Status WriteEventJsonLines(std::ostream& out, const std::string& file,
                                   const binlog::RawEvent& raw, const binlog::FormatDescription& fd,
                                   binlog::EventDecoder& decoder, binlog::Event* event);

}  // namespace tidewatch::server
