#include "server/event_json.h"

#include <cassert>
#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/uuid.h"
#include "binlog/event_type.h"
#include "base/json_writer.h"

namespace tidewatch::server {
namespace {

using namespace tidewatch::binlog;

constexpr char kHex[] = "0123456789abcdef";

// Appends the decimal digits of `v`.
void AppendDecimal(std::string* out, uint64_t v) {
  char buf[24];
  out->append(buf, WriteDecimal(buf, v));
}

// MariaDB's text form of a GTID, domain-server-seq.
void MariaGtidValue(JsonWriter& w, uint32_t domain, uint32_t server, uint64_t seq) {
  char buf[64];
  char* p = std::to_chars(buf, buf + 10, domain).ptr;
  *p++ = '-';
  p = std::to_chars(p, p + 10, server).ptr;
  *p++ = '-';
  p = std::to_chars(p, p + 20, seq).ptr;
  w.String(std::string_view(buf, p - buf));
}

// The header's keys, in byte order: every line has them but flags and inner.
constexpr std::string_view kHeaderKeys[] = {"file", "flags", "inner", "log_pos", "next_pos", "pos",
                                            "server_id", "size", "timestamp", "type", "type_name"};
constexpr int kHeaderKeyCount = sizeof kHeaderKeys / sizeof kHeaderKeys[0];

// A body's key and, computed when compiled, how many header keys sort before
// it: where the merge places it. No body key equals a header key.
struct BodyKey {
  std::string_view name;
  uint8_t rank;
  template <size_t N>
  consteval BodyKey(const char (&s)[N]) : name(s, N - 1), rank(0) {
    for (auto h : kHeaderKeys) {
      if (h == name) throw "a body key equals a header key";
      rank += h < name;
    }
  }
};

// Writes an event body's fields, each key in order, each value into `text`
// (EventJsonWriter::Field). The order of the keys below is their byte order:
// the merge with the header's keys depends on it.
struct BodyToJson {
  std::string& text;
  std::vector<EventJsonWriter::Field>& fields;
  EventJsonWriter::TableText& last_table;
  JsonWriter w{&text};

  JsonWriter& F(BodyKey key) {
    if (!fields.empty()) fields.back().end = static_cast<uint32_t>(text.size());
    assert(fields.empty() || fields.back().key < key.name);
    fields.push_back({key.name, static_cast<uint32_t>(text.size()), 0, key.rank});
    return w;
  }

  void Put(std::string_view v) { w.String(v); }
  template <std::integral T>
  void Put(T v) { w.Number(v); }
  // An object of two members; k1 sorts before k2.
  template <typename A, typename B>
  void Pair(BodyKey key, std::string_view k1, const A& v1, std::string_view k2, const B& v2) {
    F(key).BeginObject();
    w.Key(k1);
    Put(v1);
    w.Key(k2);
    Put(v2);
    w.EndObject();
  }

  // An XA transaction's XID (bqual, format_id, gtrid: key order).
  void XidMembers(std::string_view bqual, int32_t format_id, std::string_view gtrid) {
    w.Key("bqual");
    w.String(bqual);
    w.Key("format_id");
    w.Number(format_id);
    w.Key("gtrid");
    w.String(gtrid);
  }

  void operator()(const EmptyBody&) {}
  void operator()(const UndecodedBody& b) { F("undecoded").String(b.reason); }
  void operator()(const FormatDescription& f) {
    F("binlog_version").Number(f.binlog_version);
    F("checksum").String(f.checksum_alg == ChecksumAlg::kCrc32 ? "CRC32" : "NONE");
    F("header_length").Number(f.header_length);
    F("server_version").String(f.ServerVersion());
  }
  void operator()(const RotateBody& b) { Pair("rotate", "file", b.file, "pos", b.position); }
  void operator()(const QueryBody& b) {
    if (b.compressed) F("compressed").Bool(true);
    if (!b.db.empty()) F("db").String(b.db);
    if (b.error_code) F("error_code").Number(b.error_code);
    if (b.file_id) F("file_id").Number(b.file_id);
    F("query").String(b.query);
    F("thread_id").Number(b.thread_id);
    if (b.has_xid) F("xid").Number(b.xid);
  }
  void operator()(const XidBody& b) { F("xid").Number(b.xid); }
  void operator()(const IntvarBody& b) {
    Pair("intvar", "type", std::string_view(b.type == 1 ? "LAST_INSERT_ID" : "INSERT_ID"), "value", b.value);
  }
  void operator()(const RandBody& b) { Pair("rand", "seed1", b.seed1, "seed2", b.seed2); }
  void operator()(const UserVarBody& b) {
    F("user_var").BeginObject();
    if (!b.is_null) {
      w.Key("charset");
      w.Number(b.charset);
    }
    w.Key("is_null");
    w.Bool(b.is_null);
    w.Key("name");
    w.String(b.name);
    if (!b.is_null) {
      std::string hex;
      hex.reserve(b.value.size() * 2);
      for (uint8_t c : b.value) {
        hex.push_back(kHex[c >> 4]);
        hex.push_back(kHex[c & 15]);
      }
      w.Key("value_hex");
      w.String(hex);
      w.Key("value_type");
      w.Number(b.value_type);
    }
    w.EndObject();
  }
  void operator()(const LoadFileBody& b) {
    F("block_size").Number(b.block_size);
    F("file_id").Number(b.file_id);
  }
  void operator()(const IncidentBody& b) { Pair("incident", "message", b.message, "type", b.incident); }
  void operator()(const HeartbeatBody& b) { Pair("heartbeat", "file", b.log_file, "pos", b.log_pos); }
  void operator()(const MariaGtidBody& b) {
    if (b.has_commit_id) F("commit_id").Number(b.commit_id);
    MariaGtidValue(F("gtid"), b.domain_id, b.server_id, b.seq_no);
    F("gtid_flags").Number(b.flags2);
    F("standalone").Bool((b.flags2 & MariaGtidBody::kStandalone) != 0);
    if (b.has_xid) {
      F("xa").BeginObject();
      XidMembers(b.xa_bqual, b.xa_format_id, b.xa_gtrid);
      w.EndObject();
    }
  }
  void operator()(const MariaGtidListBody& b) {
    F("gtid_list").BeginArray();
    for (const auto& g : b.gtids) MariaGtidValue(w, g.domain_id, g.server_id, g.seq_no);
    w.EndArray();
  }
  void operator()(const BinlogCheckpointBody& b) { F("checkpoint_file").String(b.file); }
  void operator()(const RowsQueryBody& b) { F("query").String(b.query); }
  void operator()(const StartEncryptionBody& b) {
    Pair("encryption", "key_version", b.key_version, "scheme", b.scheme);
  }
  void operator()(const MysqlGtidBody& b) {
    if (b.gno != 0) {  // 0: an anonymous transaction
      std::string gtid = UuidToString(b.sid);
      gtid.push_back(':');
      if (!b.tag.empty()) {
        gtid.append(b.tag);
        gtid.push_back(':');
      }
      AppendDecimal(&gtid, b.gno);
      F("gtid").String(gtid);
    }
    if (b.has_commit_timestamps) F("immediate_commit_timestamp").Number(b.immediate_commit_timestamp);
    if (b.has_logical_clock) F("last_committed").Number(b.last_committed);
    if (b.has_commit_timestamps) F("original_commit_timestamp").Number(b.original_commit_timestamp);
    if (b.has_logical_clock) F("sequence_number").Number(b.sequence_number);
    if (!b.tag.empty()) F("tag").String(b.tag);
    if (b.has_transaction_length) F("transaction_length").Number(b.transaction_length);
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
      if (!s.tag.empty()) {
        set += ":";
        set += s.tag;
      }
      for (const auto& iv : s.intervals) {
        set += ":";
        AppendDecimal(&set, iv.start);
        if (iv.end != iv.start + 1) {
          set += "-";
          AppendDecimal(&set, iv.end - 1);
        }
      }
    }
    F("previous_gtids").String(set);
  }
  void operator()(const TransactionContextBody& b) {
    F("server_uuid").String(b.server_uuid);
    F("write_set_count").Number(b.write_set_count);
  }
  void operator()(const ViewChangeBody& b) {
    F("seq_number").Number(b.seq_number);
    F("view_id").String(b.view_id);
  }
  void operator()(const XaPrepareBody& b) {
    F("xa").BeginObject();
    XidMembers(b.bqual, b.format_id, b.gtrid);
    w.Key("one_phase");
    w.Bool(b.one_phase);
    w.EndObject();
  }
  void operator()(const TransactionPayloadBody& b) {
    F("payload").BeginObject();
    w.Key("compression");
    w.String(b.compression_type == 0 ? "ZSTD" : "NONE");
    w.Key("size");
    w.Number(b.payload_size);
    w.Key("uncompressed_size");
    w.Number(b.uncompressed_size);
    w.EndObject();
  }
  void Table(std::string_view db, std::string_view name, uint64_t id) {
    EventJsonWriter::TableText& t = last_table;
    if (id != t.id || db != t.db || name != t.name) {
      t.id = id;
      t.db = db;
      t.name = name;
      t.json.clear();
      JsonWriter tw(&t.json);
      tw.BeginObject();
      tw.Key("db");
      tw.String(db);
      tw.Key("id");
      tw.Number(id);
      tw.Key("name");
      tw.String(name);
      tw.EndObject();
    }
    F("table").Raw(t.json);
  }
  void operator()(const TableMapBody& b) {
    if (!b.columns.empty()) {
      F("column_metadata").BeginArray();
      for (const auto& c : b.columns) {
        w.BeginObject();
        if (c.collation) {
          w.Key("collation");
          w.Number(c.collation);
        }
        if (c.geometry_type) {
          w.Key("geometry_type");
          w.Number(c.geometry_type);
        }
        if (!c.name.empty()) {
          w.Key("name");
          w.String(c.name);
        }
        w.Key("type");
        w.Number(c.type);
        if (c.is_unsigned) {
          w.Key("unsigned");
          w.Bool(true);
        }
        if (!c.values.empty()) {
          w.Key("values");
          w.BeginArray();
          for (auto v : c.values) w.String(v);
          w.EndArray();
        }
        if (c.vector_dimensions) {
          w.Key("vector_dimensions");
          w.Number(c.vector_dimensions);
        }
        if (!c.visible) {
          w.Key("visible");
          w.Bool(false);
        }
        w.EndObject();
      }
      w.EndArray();
    }
    if (!b.column_names.empty()) {
      F("column_names").BeginArray();
      for (auto n : b.column_names) w.String(n);
      w.EndArray();
    }
    F("columns").Number(b.column_count);
    if (!b.has_metadata) F("no_metadata").Bool(true);
    if (!b.primary_key.empty()) {
      F("primary_key").BeginArray();
      for (const auto& p : b.primary_key) {
        w.BeginObject();
        w.Key("column");
        w.Number(p.column);
        w.Key("prefix");
        w.Number(p.prefix);
        w.EndObject();
      }
      w.EndArray();
    }
    Table(b.db, b.table, b.table_id);
  }
  void operator()(const RowsBody& b) {
    if (b.compressed) F("compressed").Bool(true);
    F("images").Number(b.images);
    if (!b.images_walked) F("images_walked").Bool(false);
    F("rows").Number(b.rows);
    if (b.flags & 1) F("stmt_end").Bool(true);
    Table(b.db, b.table, b.table_id);
  }
};

// The longest text of a header field other than the file: ,"key": and 20
// digits, or the longest type name.
constexpr size_t kHeaderFieldBytes = 64;

// Writes one line through a pointer into room already made, merging the
// body's fields (in key order, each with its rank) into the header's.
struct LineText {
  char* p;
  const char* body;
  const EventJsonWriter::Field* field;
  const EventJsonWriter::Field* fields_end;
  bool first = true;

  [[gnu::always_inline]] void Copy(std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  // Keys are identifiers: nothing to escape.
  [[gnu::always_inline]] void Key(std::string_view k) {
    *p = ',';
    p += !first;
    first = false;
    *p++ = '"';
    Copy(k);
    *p++ = '"';
    *p++ = ':';
  }
  [[gnu::always_inline]] void Number(uint64_t v) { p = WriteDecimal(p, v); }
  // The body's fields that sort before header key number `rank`, then that
  // header key.
  [[gnu::always_inline]] void Header(int rank, std::string_view key) {
    Body(rank);
    Key(key);
  }
  // The body's fields that sort before header key number `rank`.
  [[gnu::always_inline]] void Body(int rank) {
    for (; field != fields_end && field->rank <= rank; ++field) {
      Key(field->key);
      Copy({body + field->begin, field->end - field->begin});
    }
  }
};

}  // namespace

char* EventJsonWriter::Reserve(size_t n) {
  if (capacity_ - size_ < n) {
    const size_t capacity = std::max(capacity_ * 2, size_ + n + 64 * 1024);
    auto grown = std::make_unique<char[]>(capacity);
    if (size_) std::memcpy(grown.get(), buf_.get(), size_);
    buf_ = std::move(grown);
    capacity_ = capacity;
  }
  return buf_.get() + size_;
}

namespace {

// Keeps the digits of `v` in `text` unless they are those of `last` already.
void CacheDigits(uint32_t v, uint32_t* last, char* text, uint8_t* len) {
  if (v == *last) return;
  *last = v;
  *len = static_cast<uint8_t>(std::to_chars(text, text + 10, v).ptr - text);
}

}  // namespace

void EventJsonWriter::Append(std::string_view file, const Event& e) {
  body_.clear();
  fields_.clear();
  std::visit(BodyToJson{body_, fields_, table_}, e.body);
  if (!fields_.empty()) fields_.back().end = static_cast<uint32_t>(body_.size());

  if (file != file_) {
    file_ = file;
    file_json_.clear();
    JsonWriter::AppendJsonString(&file_json_, file);
  }
  CacheDigits(e.header.timestamp, &timestamp_, timestamp_text_, &timestamp_len_);
  CacheDigits(e.header.server_id, &server_id_, server_id_text_, &server_id_len_);
  const uint64_t next_pos = e.inner ? e.header.log_pos : e.pos + e.header.event_size;

  // Written through a pointer into room made once: every piece's size is
  // bounded above.
  size_t bound = 2 + file_json_.size() + kHeaderKeyCount * kHeaderFieldBytes + body_.size();
  for (const Field& f : fields_) bound += f.key.size() + 4;
  LineText line{Reserve(bound), body_.data(), fields_.data(), fields_.data() + fields_.size()};
  char* const begin = line.p;
  *line.p++ = '{';
  line.Header(0, "file");
  line.Copy(file_json_);
  line.Body(1);
  if (e.header.flags) {
    line.Key("flags");
    line.Number(e.header.flags);
  }
  line.Body(2);
  if (e.inner) {
    line.Key("inner");
    line.Copy("true");
  }
  line.Body(3);
  // The header's end position: in a binlog equal to next_pos; in a relay log,
  // the end of the event in the master's binlog (0 in artificial events).
  line.Key("log_pos");
  const char* log_pos_text = line.p;
  line.Number(e.header.log_pos);
  const std::string_view log_pos(log_pos_text, line.p - log_pos_text);
  line.Header(4, "next_pos");
  const char* next_pos_text = line.p;
  if (next_pos == e.header.log_pos) {
    line.Copy(log_pos);
  } else {
    line.Number(next_pos);
  }
  const std::string_view next_pos_digits(next_pos_text, line.p - next_pos_text);
  line.Header(5, "pos");
  if (e.pos == next_pos_ && !e.inner) {
    line.Copy({next_pos_text_, next_pos_len_});  // where the last event ended
  } else {
    line.Number(e.pos);
  }
  if (!e.inner) {
    next_pos_ = next_pos;
    next_pos_len_ = static_cast<uint8_t>(next_pos_digits.size());
    std::memcpy(next_pos_text_, next_pos_digits.data(), next_pos_digits.size());
  }
  line.Header(6, "server_id");
  line.Copy({server_id_text_, server_id_len_});
  line.Header(7, "size");
  line.Number(e.header.event_size);
  line.Header(8, "timestamp");
  line.Copy({timestamp_text_, timestamp_len_});
  line.Header(9, "type");
  line.Number(e.header.type);
  line.Header(10, "type_name");
  *line.p++ = '"';
  line.Copy(EventTypeName(e.header.type));  // type names are identifiers: nothing to escape
  *line.p++ = '"';
  line.Body(kHeaderKeyCount);
  char* p = line.p;
  *p++ = '}';
  *p++ = '\n';
  size_ += p - begin;
}

Status EventJsonWriter::AppendLines(const std::string& file, const RawEvent& raw,
                                    const FormatDescription& fd, EventDecoder& decoder, Event* event) {
  Status s = decoder.Decode(raw, fd, event);
  if (!s.ok()) return s.WithContext(file);
  Append(file, *event);
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
    Append(file, inner);
  }
}

}  // namespace tidewatch::server
