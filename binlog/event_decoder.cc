#include "binlog/event_decoder.h"

#include <algorithm>

#include <cstring>
#include <string>

#include "binlog/byte_reader.h"
#include "binlog/decompress.h"
#include "binlog/event_type.h"
#include "binlog/mysql_gtid_set.h"
#include "binlog/tagged_gtid_event.h"

namespace tidewatch::binlog {
namespace {

Status Malformed(std::string_view what) {
  return Status::Corruption(std::string(what));
}

// QUERY_EVENT status variables (libbinlogevents statement_events.h Query_event
// enum_status_vars; MariaDB sql/log_event.h Q_HRNOW and up). Returns false at
// a code whose length is not known; the caller skips the rest by its length.
bool WalkStatusVars(ByteReader r, QueryBody* q) {
  while (r.remaining() > 0) {
    uint8_t code = r.U8();
    switch (code) {
      case 0: q->has_flags2 = true; q->flags2 = r.U32(); break;          // Q_FLAGS2_CODE
      case 1: q->has_sql_mode = true; q->sql_mode = r.U64(); break;      // Q_SQL_MODE_CODE
      case 2: q->catalog = r.String(r.U8()); r.Skip(1); break;           // Q_CATALOG_CODE (+NUL)
      case 3: r.Skip(4); break;                                          // Q_AUTO_INCREMENT
      case 4:                                                            // Q_CHARSET_CODE
        q->has_charset = true;
        q->charset_client = r.U16();
        q->collation_connection = r.U16();
        q->collation_server = r.U16();
        break;
      case 5: q->time_zone = r.String(r.U8()); break;                    // Q_TIME_ZONE_CODE
      case 6: q->catalog = r.String(r.U8()); break;                      // Q_CATALOG_NZ_CODE
      case 7: r.Skip(2); break;                                          // Q_LC_TIME_NAMES_CODE
      case 8: r.Skip(2); break;                                          // Q_CHARSET_DATABASE_CODE
      case 9: r.Skip(8); break;                                          // Q_TABLE_MAP_FOR_UPDATE_CODE
      case 10: r.Skip(4); break;                                         // Q_MASTER_DATA_WRITTEN_CODE
      case 11:                                                           // Q_INVOKER
        q->invoker_user = r.String(r.U8());
        q->invoker_host = r.String(r.U8());
        break;
      case 12: {                                                         // Q_UPDATED_DB_NAMES
        uint8_t n = r.U8();
        q->updated_db_count = n;
        if (n != 254) {  // OVER_MAX_DBS_IN_EVENT_MTS: no names follow
          for (uint8_t i = 0; i < n && r.ok(); ++i) {
            const void* nul = std::memchr(r.cursor(), 0, r.remaining());
            if (nul == nullptr) { r.Fail(); break; }
            r.Skip(static_cast<const uint8_t*>(nul) - r.cursor() + 1);
          }
        }
        break;
      }
      case 13: r.Skip(3); break;                                         // Q_MICROSECONDS
      case 16: r.Skip(1); break;                                         // Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP
      case 17: q->has_xid = true; q->xid = r.U64(); break;               // Q_DDL_LOGGED_WITH_XID
      case 18: r.Skip(2); break;                                         // Q_DEFAULT_COLLATION_FOR_UTF8MB4
      case 19: r.Skip(1); break;                                         // Q_SQL_REQUIRE_PRIMARY_KEY
      case 20: r.Skip(1); break;                                         // Q_DEFAULT_TABLE_ENCRYPTION
      case 128: r.Skip(3); break;                                        // Q_HRNOW
      case 129: q->has_xid = true; q->xid = r.U64(); break;              // Q_XID
      case 130: r.Skip(1); break;                                        // Q_GTID_FLAGS3
      case 131: r.Skip(static_cast<size_t>(r.U8()) * 4); break;          // Q_CHARACTER_SET_COLLATIONS
      default: return false;
    }
    if (!r.ok()) return false;
  }
  return true;
}

// Post-header: thread_id 4 · exec_time 4 · db_len 1 · error_code 2 ·
// [status_vars_len 2, when the declared length has room: 5.0+] ·
// [EXECUTE_LOAD_QUERY: file_id 4 · fn_pos_start 4 · fn_pos_end 4 ·
// dup_handling 1]; the body starts at the declared length
// (statement_events.cpp Query_event, Execute_load_query_event).
Status DecodeQuery(std::span<const uint8_t> post_header, std::span<const uint8_t> body,
                   bool execute_load, bool compressed, std::vector<uint8_t>* scratch,
                   QueryBody* q) {
  ByteReader ph(post_header);
  q->thread_id = ph.U32();
  q->exec_time = ph.U32();
  uint8_t db_len = ph.U8();
  q->error_code = ph.U16();
  uint16_t status_len = post_header.size() >= 13 ? ph.U16() : 0;
  if (execute_load) {
    q->file_id = ph.U32();
    q->fn_pos_start = ph.U32();
    q->fn_pos_end = ph.U32();
    q->dup_handling = ph.U8();
  }
  if (!ph.ok()) return Malformed("query post-header too short");
  ByteReader r(body);
  auto status = r.Bytes(status_len);
  q->db = r.String(db_len);
  r.Skip(1);  // NUL after the db name
  if (!r.ok()) return Malformed("status variables or db name run past the event");
  q->status_vars_complete = WalkStatusVars(ByteReader(status), q);
  auto text = r.Rest();
  q->compressed = compressed;
  if (compressed) {
    Status s = MariaDbUncompress(text, scratch);
    if (!s.ok()) return s.WithContext("compressed query");
    text = *scratch;
  }
  q->query = std::string_view(reinterpret_cast<const char*>(text.data()), text.size());
  return Status::OK();
}

Status DecodeMariaGtid(std::span<const uint8_t> body, uint32_t server_id, MariaGtidBody* g) {
  ByteReader r(body);
  g->seq_no = r.U64();
  g->domain_id = r.U32();
  g->flags2 = r.U8();
  g->server_id = server_id;
  if (!r.ok()) return Malformed("GTID event shorter than seq_no, domain_id and flags");
  if (g->flags2 & MariaGtidBody::kGroupCommitId) {
    g->has_commit_id = true;
    g->commit_id = r.U64();
  }
  if (g->flags2 & (MariaGtidBody::kPreparedXa | MariaGtidBody::kCompletedXa)) {
    g->has_xid = true;
    g->xa_format_id = static_cast<int32_t>(r.U32());
    uint8_t gtrid_len = r.U8(), bqual_len = r.U8();
    g->xa_gtrid = r.String(gtrid_len);
    g->xa_bqual = r.String(bqual_len);
  }
  if (!r.ok()) return Malformed("GTID event shorter than its flags announce");
  // Then flags_extra (10.5+), its optional fields, and zero padding up to the
  // 19-byte post-header; a zero flags_extra is indistinguishable from padding.
  if (r.remaining() > 0) g->flags_extra = r.U8();
  if (g->flags_extra & MariaGtidBody::kExtraMultiEngine) g->extra_engines = r.U8();
  if (g->flags_extra & (MariaGtidBody::kExtraCommitAlter | MariaGtidBody::kExtraRollbackAlter)) {
    g->start_alter_seq_no = r.U64();
  }
  if (!r.ok()) return Malformed("GTID event shorter than its extra flags announce");
  return Status::OK();
}

Status DecodeMariaGtidList(std::span<const uint8_t> body, std::vector<MariaGtid>* storage,
                           MariaGtidListBody* l) {
  ByteReader r(body);
  uint32_t count_and_flags = r.U32();
  uint32_t count = count_and_flags & ((1u << 28) - 1);
  l->flags = static_cast<uint8_t>(count_and_flags >> 28);
  if (!r.ok() || r.remaining() / 16 < count) {
    return Malformed("GTID list announces " + std::to_string(count) + " entries in " +
                     std::to_string(r.remaining()) + " bytes");
  }
  storage->resize(count);
  for (auto& g : *storage) {
    g.domain_id = r.U32();
    g.server_id = r.U32();
    g.seq_no = r.U64();
  }
  l->gtids = *storage;
  return Status::OK();
}

// MySQL Gtid_log_event (libbinlogevents control_events.cpp Gtid_event):
// flags 1 · sid 16 · gno 8 · [lt_type 1 = 2 · last_committed 8 · sequence_number 8]
// · [immediate_commit_ts 7 (bit 55: original follows) · original_commit_ts 7]
// · [transaction_length packed] · [immediate_server_version 4 (bit 31:
// original follows) · original_server_version 4] · [commit_group_ticket 8].
Status DecodeMysqlGtid(std::span<const uint8_t> body, MysqlGtidBody* g) {
  ByteReader r(body);
  g->flags = r.U8();
  auto sid = r.Bytes(16);
  g->gno = r.U64();
  if (!r.ok()) return Malformed("GTID event shorter than flags, sid and gno");
  std::memcpy(g->sid.data(), sid.data(), 16);
  if (r.remaining() >= 17 && r.cursor()[0] == 2) {
    r.Skip(1);
    g->has_logical_clock = true;
    g->last_committed = r.U64();
    g->sequence_number = r.U64();
  }
  if (r.remaining() >= 7) {
    g->has_commit_timestamps = true;
    uint64_t ts = r.Uint(7);
    constexpr uint64_t kOriginalFollows = 1ull << 55;
    g->immediate_commit_timestamp = ts & ~kOriginalFollows;
    g->original_commit_timestamp =
        (ts & kOriginalFollows) ? r.Uint(7) : g->immediate_commit_timestamp;
  }
  if (r.ok() && r.remaining() > 0) {
    g->has_transaction_length = true;
    g->transaction_length = r.PackedInt();
  }
  if (r.ok() && r.remaining() >= 4) {
    g->has_server_versions = true;
    uint32_t v = r.U32();
    constexpr uint32_t kOriginalFollows = 1u << 31;
    g->immediate_server_version = v & ~kOriginalFollows;
    g->original_server_version = (v & kOriginalFollows) ? r.U32() : g->immediate_server_version;
  }
  if (r.ok() && r.remaining() >= 8) {
    g->has_commit_group_ticket = true;
    g->commit_group_ticket = r.U64();
  }
  if (!r.ok()) return Malformed("GTID event's optional fields run past the event");
  return Status::OK();
}

// TLV fields of TRANSACTION_PAYLOAD_EVENT and HEARTBEAT_LOG_EVENT_V2: type and
// length as packed integers; type 0 ends the header.
template <typename Field>
Status WalkTlv(ByteReader& r, Field&& field) {
  while (r.remaining() > 0) {
    uint64_t type = r.PackedInt();
    if (!r.ok()) break;
    if (type == 0) return Status::OK();
    uint64_t len = r.PackedInt();
    auto value = r.Bytes(len);
    if (!r.ok()) break;
    field(type, value);
  }
  if (!r.ok()) return Malformed("field header runs past the event");
  return Status::OK();
}

// Event types whose server reader takes the body from its start whatever
// post-header length the description declares: the MySQL GTID events
// (control_events.cpp Gtid_event, read in sequence), TRANSACTION_PAYLOAD
// (declared as 40, its type code; read by its codec from the start), and
// MariaDB's GTID and GTID_LIST (sql/log_event.cc, fixed offsets).
bool ReadsFromStart(uint8_t type) {
  return type == kGtidEvent || type == kAnonymousGtidEvent || type == kGtidTaggedEvent ||
         type == kTransactionPayloadEvent || type == kMariaGtidEvent || type == kMariaGtidListEvent;
}

uint64_t PackedValue(std::span<const uint8_t> v) {
  ByteReader r(v);
  uint64_t x = r.PackedInt();
  return r.ok() ? x : 0;
}

}  // namespace

Status EventDecoder::Decode(const RawEvent& raw, const FormatDescription& fd, Event* out) {
  out->pos = raw.pos;
  // The header parsed again from the event's bytes rather than copied: the
  // reader has just stored raw.header field by field, and a whole-struct
  // copy reloads those stores with wider loads, which stalls store
  // forwarding on every event (see ParseEventHeader).
  if (raw.bytes.size() >= kEventHeaderSize) [[likely]] {
    ParseEventHeader(raw.bytes.data(), &out->header);
  } else {
    out->header = raw.header;
  }
  out->inner = false;
  const uint8_t type = fd.CurrentType(raw.header.type);
  out->header.type = type;
  Status s = DecodeBody(type, raw, fd, out);
  if (!s.ok()) [[unlikely]] {
    ++undecoded_events_;
    undecoded_reason_ = s.message();
    out->body = UndecodedBody{undecoded_reason_};
  }
  return Status::OK();
}

Status EventDecoder::DecodeBody(uint8_t type, const RawEvent& raw, const FormatDescription& fd, Event* out) {
  if (type == kFormatDescriptionEvent) {
    FormatDescription desc;
    Status s = ParseFormatDescription(raw.bytes.subspan(kEventHeaderSize), &desc);
    if (!s.ok()) return s;
    out->body = desc;
    return Status::OK();
  }
  if (type == kStartEventV3 && fd.binlog_version < 4) {
    // The description of a v3 file (format_description.h).
    FormatDescription desc;
    Status s = ParseStartEventV3(raw.bytes, &desc);
    if (!s.ok()) return s;
    out->body = desc;
    return Status::OK();
  }
  // A type no server defines is refused where the switch below would
  // otherwise take it (its default, or a post-header it cannot hold), so that
  // the common types pay no lookup.
  auto unknown = [type] {
    return Status::NotSupported("event type " + std::to_string(type) + " is not one MySQL or MariaDB defines");
  };
  // Post-header and body split where the governing description says. Types
  // whose server reader ignores the declared length (ReadsFromStart) read
  // `all` from its start instead.
  const auto all = raw.body(fd);
  size_t ph_len = fd.PostHeaderLength(type);
  if (ph_len > all.size()) [[unlikely]] {
    if (!IsKnownEventType(type)) return unknown();
    if (!ReadsFromStart(type)) {
      return Malformed("body of " + std::to_string(all.size()) + " bytes is shorter than its declared post-header (" +
                       std::to_string(ph_len) + ")");
    }
    ph_len = 0;
  }
  const auto post_header = all.first(ph_len);
  const auto body = all.subspan(ph_len);

  switch (type) {
    case kRotateEvent: {
      // position 8 in the post-header (4 when it declares none) · file name
      // (control_events.cpp Rotate_event).
      auto& b = out->body.emplace<RotateBody>();
      ByteReader p(post_header);
      b.position = ph_len >= 8 ? p.U64() : 4;
      b.file = ByteReader(body).RestString();
      return Status::OK();
    }
    case kQueryEvent:
    case kQueryCompressedEvent:
    case kExecuteLoadQueryEvent: {
      QueryBody& q = out->body.emplace<QueryBody>();
      return DecodeQuery(post_header, body, type == kExecuteLoadQueryEvent, type == kQueryCompressedEvent,
                         &uncompressed_, &q);
    }
    // XID, INTVAR, RAND, USER_VAR: their fields follow the declared
    // post-header (control_events.cpp Xid_event, statement_events.cpp
    // Intvar_event, Rand_event, User_var_event).
    case kXidEvent: {
      ByteReader p(body);
      out->body.emplace<XidBody>(XidBody{p.U64()});
      if (!p.ok()) return Malformed("XID event shorter than 8 bytes");
      return Status::OK();
    }
    case kIntvarEvent: {
      ByteReader p(body);
      auto& b = out->body.emplace<IntvarBody>();
      b.type = p.U8();
      b.value = p.U64();
      if (!p.ok()) return Malformed("INTVAR event shorter than 9 bytes");
      return Status::OK();
    }
    case kRandEvent: {
      ByteReader p(body);
      auto& b = out->body.emplace<RandBody>();
      b.seed1 = p.U64();
      b.seed2 = p.U64();
      if (!p.ok()) return Malformed("RAND event shorter than 16 bytes");
      return Status::OK();
    }
    case kUserVarEvent: {
      // name_len 4 · name · is_null 1 · [type 1 · charset 4 · value_len 4 · value · [flags 1]]
      ByteReader p(body);
      auto& b = out->body.emplace<UserVarBody>();
      b.name = p.String(p.U32());
      b.is_null = p.U8() != 0;
      if (!b.is_null) {
        b.value_type = p.U8();
        b.charset = p.U32();
        b.value = p.Bytes(p.U32());
        if (p.ok() && p.remaining() > 0) b.flags = p.U8();
      }
      if (!p.ok()) return Malformed("user variable runs past the event");
      return Status::OK();
    }
    case kBeginLoadQueryEvent:
    case kAppendBlockEvent:
    case kDeleteFileEvent:
    case kCreateFileEvent:
    case kExecLoadEvent: {
      // file_id 4 opens the post-header (load_data_events.cpp); the block,
      // if any, is the body.
      ByteReader p(ph_len >= 4 ? post_header : all);
      auto& b = out->body.emplace<LoadFileBody>();
      b.file_id = p.U32();
      if (!p.ok()) return Malformed("load event shorter than its file id");
      b.block_size = type == kDeleteFileEvent || type == kExecLoadEvent ? 0 : body.size();
      return Status::OK();
    }
    case kIncidentEvent: {
      // incident 2 in the post-header · message length 1 · message
      // (control_events.cpp Incident_event).
      ByteReader p(all);
      auto& b = out->body.emplace<IncidentBody>();
      b.incident = p.U16();
      ByteReader m(ph_len >= 2 ? body : p.Rest());
      if (m.remaining() > 0) b.message = m.String(m.U8());
      if (!p.ok() || !m.ok()) return Malformed("incident message runs past the event");
      return Status::OK();
    }
    case kHeartbeatEvent: {
      auto& b = out->body.emplace<HeartbeatBody>();
      b.log_file = std::string_view(reinterpret_cast<const char*>(body.data()), body.size());
      b.log_pos = raw.header.log_pos;
      return Status::OK();
    }
    case kHeartbeatEventV2: {
      // OTW_HB_LOG_FILENAME_FIELD = 1, OTW_HB_LOG_POSITION_FIELD = 2
      // (libbinlogevents control_events.h Heartbeat_event_v2).
      auto& b = out->body.emplace<HeartbeatBody>();
      ByteReader p(body);
      return WalkTlv(p, [&](uint64_t t, std::span<const uint8_t> v) {
        if (t == 1) b.log_file = {reinterpret_cast<const char*>(v.data()), v.size()};
        if (t == 2) b.log_pos = PackedValue(v);
      });
    }
    case kMariaGtidEvent: {
      // All of it in the 19-byte post-header, read from its start.
      auto& b = out->body.emplace<MariaGtidBody>();
      return DecodeMariaGtid(all, raw.header.server_id, &b);
    }
    case kMariaGtidListEvent: {
      auto& b = out->body.emplace<MariaGtidListBody>();
      return DecodeMariaGtidList(all, &gtid_list_, &b);
    }
    case kBinlogCheckpointEvent: {
      // file name length 4 in the post-header · file name.
      ByteReader p(ph_len >= 4 ? post_header : all);
      auto& b = out->body.emplace<BinlogCheckpointBody>();
      const uint32_t len = p.U32();
      ByteReader f(ph_len >= 4 ? body : p.Rest());
      b.file = f.String(len);
      if (!p.ok() || !f.ok()) return Malformed("checkpoint file name runs past the event");
      return Status::OK();
    }
    case kAnnotateRowsEvent:
      out->body = RowsQueryBody{{reinterpret_cast<const char*>(body.data()), body.size()}};
      return Status::OK();
    case kRowsQueryEvent: {
      // One length byte (truncated at 255, ignored by the server), then the text.
      ByteReader p(body);
      p.Skip(1);
      out->body = RowsQueryBody{p.RestString()};
      return Status::OK();
    }
    case kStartEncryptionEvent: {
      ByteReader p(body);
      auto& b = out->body.emplace<StartEncryptionBody>();
      b.scheme = p.U8();
      b.key_version = p.U32();
      b.nonce = p.Bytes(12);
      if (!p.ok()) return Malformed("START_ENCRYPTION shorter than 17 bytes");
      return Status::OK();
    }
    case kGtidEvent:
    case kAnonymousGtidEvent: {
      // Read in sequence from the start, whatever length is declared
      // (control_events.cpp Gtid_event).
      auto& b = out->body.emplace<MysqlGtidBody>();
      return DecodeMysqlGtid(all, &b);
    }
    case kGtidTaggedEvent: {
      auto& b = out->body.emplace<MysqlGtidBody>();
      return DecodeTaggedGtidEvent(all, &b);
    }
    case kPreviousGtidsEvent: {
      auto& b = out->body.emplace<PreviousGtidsBody>();
      size_t used = 0;
      Status s = DecodeMysqlGtidSet(body, &b.format, &previous_sids_, &previous_intervals_, &used);
      if (!s.ok()) return s.WithContext("previous GTIDs");
      b.sids = previous_sids_;
      return Status::OK();
    }
    case kTransactionContextEvent: {
      // Post-header: server_uuid_len 1 · thread_id 4 · gtid_specified 1 ·
      // snapshot_len 4 · write_set_len 4 · read_set_len 4; body: server_uuid
      // · snapshot · sets (control_events.cpp Transaction_context_event).
      const bool split = ph_len >= 18;
      ByteReader p(split ? post_header : all);
      auto& b = out->body.emplace<TransactionContextBody>();
      uint8_t uuid_len = p.U8();
      b.thread_id = p.U32();
      b.gtid_specified = p.U8() != 0;
      uint32_t snapshot_len = p.U32();
      b.write_set_count = p.U32();
      b.read_set_count = p.U32();
      ByteReader v(split ? body : p.Rest());
      b.server_uuid = v.String(uuid_len);
      v.Skip(snapshot_len);
      if (!p.ok() || !v.ok()) return Malformed("transaction context runs past the event");
      return Status::OK();
    }
    case kViewChangeEvent: {
      // Post-header: view_id 40 · seq_number 8 · cert_info_size 4; the
      // certification info is the body.
      ByteReader p(ph_len >= 52 ? post_header : all);
      auto& b = out->body.emplace<ViewChangeBody>();
      b.view_id = p.FixedCString(40);
      b.seq_number = p.U64();
      b.cert_info_count = p.U32();
      if (!p.ok()) return Malformed("view change shorter than 52 bytes");
      return Status::OK();
    }
    case kXaPrepareEvent: {
      // one_phase 1 · format_id 4 · gtrid_len 4 · bqual_len 4 · data
      ByteReader p(body);
      auto& b = out->body.emplace<XaPrepareBody>();
      b.one_phase = p.U8() != 0;
      b.format_id = static_cast<int32_t>(p.U32());
      uint32_t gl = p.U32(), bl = p.U32();
      if (gl > 64 || bl > 64) return Malformed("XA id parts longer than 64 bytes");
      b.gtrid = p.String(gl);
      b.bqual = p.String(bl);
      if (!p.ok()) return Malformed("XA id runs past the event");
      return Status::OK();
    }
    case kTransactionPayloadEvent: {
      // MySQL declares 40 here (the type code, not a length) and its reader
      // decodes from the start of the body (control_events.cpp
      // Transaction_payload_event): so do we.
      if (!payload_.empty() && all.data() >= payload_.data() && all.data() < payload_.data() + payload_.size()) {
        return Malformed("transaction payload nested in a transaction payload");
      }
      payload_ready_ = false;
      auto& b = out->body.emplace<TransactionPayloadBody>();
      Status s = DecodeTransactionPayload(fd, all, &b);
      if (!s.ok()) return s;
      payload_ready_ = true;
      payload_pos_ = raw.pos;
      return Status::OK();
    }
    case kTableMapEvent: {
      auto& b = out->body.emplace<TableMapBody>();
      return DecodeTableMap(post_header, body, fd.is_mariadb, &b);
    }
    case kPreGaWriteRowsEvent: case kPreGaUpdateRowsEvent: case kPreGaDeleteRowsEvent:
    case kWriteRowsEventV1: case kUpdateRowsEventV1: case kDeleteRowsEventV1:
    case kWriteRowsEvent: case kUpdateRowsEvent: case kDeleteRowsEvent:
    case kPartialUpdateRowsEvent:
    case kWriteRowsCompressedEventV1: case kUpdateRowsCompressedEventV1:
    case kDeleteRowsCompressedEventV1: case kWriteRowsCompressedEvent:
    case kUpdateRowsCompressedEvent: case kDeleteRowsCompressedEvent: {
      auto& b = out->body.emplace<RowsBody>();
      return DecodeRows(type, post_header, body, &b);
    }
    default:
      if (!IsKnownEventType(type)) return unknown();
      out->body = EmptyBody{};
      return Status::OK();
  }
}

// Row events follow their table map, so the table last looked up answers
// almost every lookup without hashing. Map nodes never move, so the pointer
// stays valid until the entry is erased or the map cleared.
const TableColumns* EventDecoder::FindTable(uint64_t id) {
  if (last_table_ != nullptr && last_table_id_ == id) return last_table_;
  auto it = tables_.find(id);
  if (it == tables_.end()) return nullptr;
  last_table_id_ = id;
  last_table_ = &it->second;
  return last_table_;
}

TableColumns& EventDecoder::FindOrAddTable(uint64_t id) {
  if (last_table_ != nullptr && last_table_id_ == id) return *last_table_;
  if (tables_.size() >= kMaxCachedTables && tables_.find(id) == tables_.end()) {
    tables_.clear();
  }
  last_table_id_ = id;
  last_table_ = &tables_[id];
  return *last_table_;
}

void EventDecoder::ForgetTable(uint64_t id) {
  tables_.erase(id);
  last_table_ = nullptr;
}

Status EventDecoder::DecodeTableMap(std::span<const uint8_t> post_header, std::span<const uint8_t> body,
                                    bool mariadb, TableMapBody* out) {
  // Post-header: table_id 6 (4 when the post-header is 6 bytes: 5.1 before
  // 5.1.4 and its pre-release trees) · flags 2.
  ByteReader ph(post_header);
  out->table_id = post_header.size() == 6 ? ph.U32() : ph.U48();
  out->flags = ph.U16();
  if (!ph.ok()) return Malformed("table map post-header too short");
  // Body: db_len 1 · db · NUL · table_len 1 · table · NUL · column_count packed ·
  // types[n] · [metadata_len packed · metadata · null_bits · [optional metadata]]
  // — the part in brackets absent from the 5.1 pre-release trees' maps
  // (rows_event.cpp Table_map_event reads it only when bytes remain).
  ByteReader r(body);
  out->db = r.String(r.U8());
  r.Skip(1);
  out->table = r.String(r.U8());
  r.Skip(1);
  out->column_count = r.PackedInt();
  if (!r.ok() || out->column_count > r.remaining()) {
    return Malformed("table map names or column count run past the event");
  }
  out->column_types = r.Bytes(out->column_count);
  out->has_metadata = r.remaining() > 0;
  std::span<const uint8_t> meta;
  if (out->has_metadata) {
    uint64_t meta_len = r.PackedInt();
    meta = r.Bytes(meta_len);
    r.Skip((out->column_count + 7) / 8);
    if (!r.ok()) return Malformed("table map metadata or NULL bitmap runs past the event");
  }
  out->optional_metadata = r.Rest();

  // Table maps are kept across statements: a server announces the same
  // table id with the same columns again and again, and parsing it once
  // spares the work and the allocations. A changed definition re-parses.
  TableColumns& t = FindOrAddTable(out->table_id);
  if (!std::equal(body.begin(), body.end(), t.announced.begin(), t.announced.end())) {
    if (t.db != out->db) t.db.assign(out->db);
    if (t.table != out->table) t.table.assign(out->table);
    if (!out->has_metadata) {
      t.SetTypesOnly(out->column_types);
    } else {
      Status s = t.ParseMetadata(out->column_types, meta);
      if (!s.ok()) {
        ForgetTable(out->table_id);
        return s;
      }
    }
    t.announced.assign(body.begin(), body.end());
    t.generation = NextTableGeneration();
  }
  if (out->optional_metadata.empty()) return Status::OK();
  const bool same = metadata_valid_ && metadata_table_id_ == out->table_id && metadata_mariadb_ == mariadb &&
                    std::equal(body.begin(), body.end(), metadata_source_.begin(), metadata_source_.end());
  if (!same) {
    metadata_valid_ = false;
    metadata_source_.assign(body.begin(), body.end());
  }
  out->optional_metadata =
      std::span<const uint8_t>(metadata_source_).subspan(metadata_source_.size() - out->optional_metadata.size());
  if (same) {
    out->fields = metadata_fields_;
    out->columns = table_metadata_.columns;
    out->primary_key = table_metadata_.primary_key;
    out->column_names = table_metadata_.names;
    return Status::OK();
  }
  Status s = DecodeTableMapMetadata(t, mariadb, &table_metadata_, out);
  if (!s.ok()) return s;
  metadata_valid_ = true;
  metadata_table_id_ = out->table_id;
  metadata_mariadb_ = mariadb;
  metadata_fields_ = out->fields;
  return Status::OK();
}

Status EventDecoder::DecodeRows(uint8_t type, std::span<const uint8_t> post_header,
                                std::span<const uint8_t> body, RowsBody* out) {
  switch (type) {
    case kWriteRowsEvent: case kWriteRowsEventV1: case kPreGaWriteRowsEvent:
    case kWriteRowsCompressedEvent: case kWriteRowsCompressedEventV1:
      out->kind = RowsBody::Kind::kWrite; break;
    case kDeleteRowsEvent: case kDeleteRowsEventV1: case kPreGaDeleteRowsEvent:
    case kDeleteRowsCompressedEvent: case kDeleteRowsCompressedEventV1:
      out->kind = RowsBody::Kind::kDelete; break;
    default:
      out->kind = RowsBody::Kind::kUpdate; break;
  }
  out->version = (type >= kWriteRowsEvent && type <= kDeleteRowsEvent) ||
                         type == kPartialUpdateRowsEvent ||
                         (type >= kWriteRowsCompressedEvent && type <= kDeleteRowsCompressedEvent)
                     ? 2
                     : (type <= kPreGaDeleteRowsEvent ? 0 : 1);
  out->compressed = type >= kWriteRowsCompressedEventV1 && type <= kDeleteRowsCompressedEvent;
  out->partial = type == kPartialUpdateRowsEvent;

  // Post-header: table_id 6 (4 when the post-header is 6 bytes) · flags 2 ·
  // [v2, 10 bytes: the length of the extra_row_info, counting its own 2
  // bytes, whose data opens the body] (rows_event.cpp Rows_event).
  ByteReader ph(post_header);
  out->table_id = post_header.size() == 6 ? ph.U32() : ph.U48();
  out->flags = ph.U16();
  uint16_t extra = post_header.size() == 10 ? ph.U16() : 2;
  if (!ph.ok()) return Malformed("rows post-header of " + std::to_string(post_header.size()) + " bytes is too short");
  if (extra < 2) return Malformed("extra row info length below 2");
  // Body: column_count packed · columns-present bitmap · [updates: the after
  // image's bitmap — not in the pre-GA events, whose updates have one
  // (sql/log_event_old.cc Old_rows_log_event)] · row images.
  ByteReader r(body);
  r.Skip(extra - 2);
  out->column_count = r.PackedInt();
  if (!r.ok() || out->column_count > 8 * r.remaining()) {
    return Malformed("column count runs past the event");
  }
  const size_t bitmap_len = (out->column_count + 7) / 8;
  auto present = r.Bytes(bitmap_len);
  std::span<const uint8_t> present_after;
  if (out->kind == RowsBody::Kind::kUpdate && out->version > 0) present_after = r.Bytes(bitmap_len);
  if (!r.ok()) return Malformed("columns-present bitmaps run past the event");

  std::span<const uint8_t> rows = r.Rest();
  if (out->compressed) {
    Status s = MariaDbUncompress(rows, &uncompressed_);
    if (!s.ok()) return s.WithContext("compressed rows");
    rows = uncompressed_;
  }
  const TableColumns* table = FindTable(out->table_id);
  if (table == nullptr) {
    // Without its table map the images cannot be walked; the event is still
    // located and reported (e.g. a file that starts mid-statement).
    return Status::OK();
  }
  out->db = table->db;
  out->table = table->table;
  // Pre-GA images open with the master's record NULL bytes, whose count the
  // table map does not give (sql/log_event_old.cc unpack_row_old); a map
  // without metadata gives no value lengths.
  if (out->version == 0 || !table->has_metadata) return Status::OK();
  out->row_data = rows;
  out->columns_present = present;
  out->columns_present_after = present_after;
  out->columns = table;
  if (!walk_row_images_) return Status::OK();
  ByteReader rr(rows);
  uint64_t images = 0;
  Status s = WalkRowImages(rr, *table, out->column_count, present, present_after,
                           out->kind == RowsBody::Kind::kUpdate, out->partial, &images);
  if (!s.ok()) return s.WithContext(table->db + "." + table->table);
  out->images_walked = true;
  out->images = images;
  out->rows = out->kind == RowsBody::Kind::kUpdate ? images / 2 : images;
  return Status::OK();
}

Status EventDecoder::DecodeTransactionPayload(const FormatDescription& fd, std::span<const uint8_t> body,
                                              TransactionPayloadBody* out) {
  // Fields: OTW_PAYLOAD_SIZE_FIELD 1, OTW_PAYLOAD_COMPRESSION_TYPE_FIELD 2,
  // OTW_PAYLOAD_UNCOMPRESSED_SIZE_FIELD 3; then the payload
  // (libbinlogevents codecs/binary.cpp, Transaction_payload_event).
  ByteReader r(body);
  bool has_size = false;
  Status s = WalkTlv(r, [&](uint64_t t, std::span<const uint8_t> v) {
    if (t == 1) { out->payload_size = PackedValue(v); has_size = true; }
    if (t == 2) out->compression_type = PackedValue(v);
    if (t == 3) out->uncompressed_size = PackedValue(v);
  });
  if (!s.ok()) return s;
  auto compressed = r.Rest();
  if (has_size && out->payload_size != compressed.size()) {
    return Malformed("payload announces " + std::to_string(out->payload_size) + " bytes, " +
                     std::to_string(compressed.size()) + " present");
  }
  if (out->compression_type == 255) {
    payload_.assign(compressed.begin(), compressed.end());
  } else if (out->compression_type == 0) {
    s = ZstdUncompress(compressed, out->uncompressed_size, &payload_);
    if (!s.ok()) return s;
  } else {
    return Status::NotSupported("payload compression type " +
                                std::to_string(out->compression_type));
  }
  // The nested events must chain to the payload's end: then NextPayloadEvent
  // cannot fail, and a payload whose events do not chain is undecoded as a
  // whole rather than cut short. They carry no checksum.
  const size_t min_size = fd.header_length > kEventHeaderSize ? fd.header_length : kEventHeaderSize;
  for (size_t at = 0; at < payload_.size();) {
    const size_t left = payload_.size() - at;
    const uint32_t size = left < kEventHeaderSize ? 0 : ParseEventHeader(payload_.data() + at).event_size;
    if (size < min_size || size > left) {
      return Malformed("the event at byte " + std::to_string(at) + " of the payload declares " + std::to_string(size) +
                       " bytes, " + std::to_string(left) + " left");
    }
    at += size;
  }
  out->payload = payload_;
  return Status::OK();
}

Status EventDecoder::NextPayloadEvent(const FormatDescription& fd, uint64_t payload_pos,
                                      size_t* offset, RawEvent* out) const {
  if (!payload_ready_ || payload_pos != payload_pos_ || *offset >= payload_.size()) return Status::EndOfFile();
  FormatDescription inner = fd;
  inner.checksum_alg = ChecksumAlg::kOff;
  Status s = LocateEvent(payload_, *offset, 0, inner, false, out);
  if (!s.ok()) {
    return s.WithContext("in the transaction payload at byte offset " +
                         std::to_string(payload_pos));
  }
  out->pos = payload_pos;
  *offset += out->header.event_size;
  return Status::OK();
}

}  // namespace tidewatch::binlog
