#include "server/event_json.h"

#include <string>

#include "binlog/event_type.h"
#include "base/uuid.h"

namespace tidewatch::server {
namespace {

using nlohmann::json;
using namespace tidewatch::binlog;

std::string Str(std::string_view s) { return std::string(s); }

std::string Hex(std::span<const uint8_t> b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

struct BodyToJson {
  json& j;

  void operator()(const EmptyBody&) {}
  void operator()(const UndecodedBody& b) { j["undecoded"] = Str(b.reason); }
  void operator()(const FormatDescription& f) {
    j["binlog_version"] = f.binlog_version;
    j["server_version"] = f.ServerVersion();
    j["header_length"] = f.header_length;
    j["checksum"] = f.checksum_alg == ChecksumAlg::kCrc32 ? "CRC32" : "NONE";
  }
  void operator()(const RotateBody& b) { j["rotate"] = {{"file", Str(b.file)}, {"pos", b.position}}; }
  void operator()(const QueryBody& b) {
    j["query"] = Str(b.query);
    if (!b.db.empty()) j["db"] = Str(b.db);
    j["thread_id"] = b.thread_id;
    if (b.error_code) j["error_code"] = b.error_code;
    if (b.compressed) j["compressed"] = true;
    if (b.has_xid) j["xid"] = b.xid;
    if (b.file_id) j["file_id"] = b.file_id;
  }
  void operator()(const XidBody& b) { j["xid"] = b.xid; }
  void operator()(const IntvarBody& b) {
    j["intvar"] = {{"type", b.type == 1 ? "LAST_INSERT_ID" : "INSERT_ID"}, {"value", b.value}};
  }
  void operator()(const RandBody& b) { j["rand"] = {{"seed1", b.seed1}, {"seed2", b.seed2}}; }
  void operator()(const UserVarBody& b) {
    json v = {{"name", Str(b.name)}, {"is_null", b.is_null}};
    if (!b.is_null) {
      v["value_type"] = b.value_type;
      v["charset"] = b.charset;
      v["value_hex"] = Hex(b.value);
    }
    j["user_var"] = v;
  }
  void operator()(const LoadFileBody& b) {
    j["file_id"] = b.file_id;
    j["block_size"] = b.block_size;
  }
  void operator()(const IncidentBody& b) {
    j["incident"] = {{"type", b.incident}, {"message", Str(b.message)}};
  }
  void operator()(const HeartbeatBody& b) {
    j["heartbeat"] = {{"file", Str(b.log_file)}, {"pos", b.log_pos}};
  }
  void operator()(const MariaGtidBody& b) {
    j["gtid"] = std::to_string(b.domain_id) + "-" + std::to_string(b.server_id) + "-" +
                std::to_string(b.seq_no);
    j["gtid_flags"] = b.flags2;
    if (b.has_commit_id) j["commit_id"] = b.commit_id;
    if (b.has_xid) j["xa"] = {{"format_id", b.xa_format_id}, {"gtrid", Str(b.xa_gtrid)}, {"bqual", Str(b.xa_bqual)}};
    j["standalone"] = (b.flags2 & MariaGtidBody::kStandalone) != 0;
  }
  void operator()(const MariaGtidListBody& b) {
    json list = json::array();
    for (const auto& g : b.gtids) {
      list.push_back(std::to_string(g.domain_id) + "-" + std::to_string(g.server_id) + "-" +
                     std::to_string(g.seq_no));
    }
    j["gtid_list"] = list;
  }
  void operator()(const BinlogCheckpointBody& b) { j["checkpoint_file"] = Str(b.file); }
  void operator()(const RowsQueryBody& b) { j["query"] = Str(b.query); }
  void operator()(const StartEncryptionBody& b) {
    j["encryption"] = {{"scheme", b.scheme}, {"key_version", b.key_version}};
  }
  void operator()(const MysqlGtidBody& b) {
    std::string uuid = UuidToString(b.sid);
    bool anonymous = b.gno == 0;
    if (!anonymous) j["gtid"] = uuid + ":" + (b.tag.empty() ? "" : Str(b.tag) + ":") + std::to_string(b.gno);
    if (!b.tag.empty()) j["tag"] = Str(b.tag);
    if (b.has_logical_clock) {
      j["last_committed"] = b.last_committed;
      j["sequence_number"] = b.sequence_number;
    }
    if (b.has_commit_timestamps) {
      j["immediate_commit_timestamp"] = b.immediate_commit_timestamp;
      j["original_commit_timestamp"] = b.original_commit_timestamp;
    }
    if (b.has_transaction_length) j["transaction_length"] = b.transaction_length;
  }
  void operator()(const PreviousGtidsBody& b) {
    std::string set;
    const Uuid* last = nullptr;
    for (const auto& s : b.sids) {
      // A uuid's tags follow its untagged intervals, as MySQL prints a set.
      if (last == nullptr || *last != s.sid) {
        if (!set.empty()) set += ",";
        set += UuidToString(s.sid);
      }
      last = &s.sid;
      if (!s.tag.empty()) set += ":" + Str(s.tag);
      for (const auto& iv : s.intervals) {
        set += ":" + std::to_string(iv.start);
        if (iv.end != iv.start + 1) set += "-" + std::to_string(iv.end - 1);
      }
    }
    j["previous_gtids"] = set;
  }
  void operator()(const TransactionContextBody& b) {
    j["server_uuid"] = Str(b.server_uuid);
    j["write_set_count"] = b.write_set_count;
  }
  void operator()(const ViewChangeBody& b) {
    j["view_id"] = Str(b.view_id);
    j["seq_number"] = b.seq_number;
  }
  void operator()(const XaPrepareBody& b) {
    j["xa"] = {{"one_phase", b.one_phase}, {"format_id", b.format_id}, {"gtrid", Str(b.gtrid)}, {"bqual", Str(b.bqual)}};
  }
  void operator()(const TransactionPayloadBody& b) {
    j["payload"] = {{"compression", b.compression_type == 0 ? "ZSTD" : "NONE"},
                    {"size", b.payload_size},
                    {"uncompressed_size", b.uncompressed_size}};
  }
  void operator()(const TableMapBody& b) {
    j["table"] = {{"db", Str(b.db)}, {"name", Str(b.table)}, {"id", b.table_id}};
    j["columns"] = b.column_count;
    if (!b.column_names.empty()) {
      json names = json::array();
      for (auto n : b.column_names) names.push_back(Str(n));
      j["column_names"] = names;
    }
    if (!b.has_metadata) j["no_metadata"] = true;
    if (!b.columns.empty()) {
      json columns = json::array();
      for (const auto& c : b.columns) {
        json col = {{"type", c.type}};
        if (!c.name.empty()) col["name"] = Str(c.name);
        if (c.is_unsigned) col["unsigned"] = true;
        if (c.collation) col["collation"] = c.collation;
        if (c.geometry_type) col["geometry_type"] = c.geometry_type;
        if (c.vector_dimensions) col["vector_dimensions"] = c.vector_dimensions;
        if (!c.visible) col["visible"] = false;
        if (!c.values.empty()) {
          json values = json::array();
          for (auto v : c.values) values.push_back(Str(v));
          col["values"] = values;
        }
        columns.push_back(col);
      }
      j["column_metadata"] = columns;
    }
    if (!b.primary_key.empty()) {
      json key = json::array();
      for (const auto& p : b.primary_key) key.push_back({{"column", p.column}, {"prefix", p.prefix}});
      j["primary_key"] = key;
    }
  }
  void operator()(const RowsBody& b) {
    j["table"] = {{"db", Str(b.db)}, {"name", Str(b.table)}, {"id", b.table_id}};
    j["rows"] = b.rows;
    j["images"] = b.images;
    if (b.compressed) j["compressed"] = true;
    if (b.flags & 1) j["stmt_end"] = true;
    if (!b.images_walked) j["images_walked"] = false;
  }
};

}  // namespace

json EventToJson(std::string_view file, const Event& e) {
  json j;
  j["file"] = std::string(file);
  j["pos"] = e.pos;
  j["next_pos"] = e.inner ? e.header.log_pos : e.pos + e.header.event_size;
  j["size"] = e.header.event_size;
  // The header's end position: in a binlog equal to next_pos; in a relay log,
  // the end of the event in the master's binlog (0 in artificial events).
  j["log_pos"] = e.header.log_pos;
  j["type"] = e.header.type;
  j["type_name"] = std::string(EventTypeName(e.header.type));
  j["server_id"] = e.header.server_id;
  j["timestamp"] = e.header.timestamp;
  if (e.header.flags) j["flags"] = e.header.flags;
  if (e.inner) j["inner"] = true;
  std::visit(BodyToJson{j}, e.body);
  return j;
}

namespace {

void WriteLine(std::ostream& out, std::string_view file, const Event& e) {
  out << EventToJson(file, e).dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
}

}  // namespace

Status WriteEventJsonLines(std::ostream& out, const std::string& file, const RawEvent& raw,
                           const FormatDescription& fd, EventDecoder& decoder, Event* event) {
  Status s = decoder.Decode(raw, fd, event);
  if (!s.ok()) return s.WithContext(file);
  WriteLine(out, file, *event);
  if (!std::holds_alternative<TransactionPayloadBody>(event->body)) return Status::OK();
  size_t offset = 0;
  RawEvent inner_raw;
  Event inner;
  while (true) {
    s = decoder.NextPayloadEvent(fd, raw.pos, &offset, &inner_raw);
    if (s.IsEndOfFile()) return Status::OK();
    if (!s.ok()) return s.WithContext(file);
    s = decoder.Decode(inner_raw, fd, &inner);
    if (!s.ok()) {
      return s.WithContext(file + ": in the transaction payload at byte offset " + std::to_string(raw.pos));
    }
    inner.inner = true;
    WriteLine(out, file, inner);
  }
}

}  // namespace tidewatch::server
