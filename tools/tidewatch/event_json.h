// The JSON-lines form of a decoded binlog event, shared by `tidewatch binlog
// dump` (files) and `tidewatch binlog stream` (live): one object per event with
// file, pos, next_pos, size, type, type_name, server_id, timestamp, and the
// fields of its body that apply (gtid, query, rotate, xid, table, rows, …).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "binlog/event.h"

namespace tidewatch::tools {

nlohmann::json EventToJson(std::string_view file, const binlog::Event& event);

}  // namespace tidewatch::tools
