#include "binlog/event_decoder.h"

#include <cstring>
#include <string>

#include "binlog/byte_reader.h"
#include "binlog/decompress.h"
#include "binlog/event_type.h"

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
  if (!r.ok()) return Malformed("GTID event's optional fields run past the event");
  return Status::OK();
}

// Previous_gtids_log_event: n_sids 8 · { sid 16 · n_intervals 8 · {start 8 · end 8}* }*
Status DecodePreviousGtids(std::span<const uint8_t> body, std::vector<PreviousGtidsSid>* sids,
                           std::vector<GtidInterval>* intervals, PreviousGtidsBody* p) {
  ByteReader r(body);
  uint64_t n_sids = r.U64();
  if (!r.ok() || n_sids > r.remaining() / 24) {
    return Malformed("previous GTIDs announce " + std::to_string(n_sids) + " sids in " +
                     std::to_string(body.size()) + " bytes");
  }
  sids->resize(n_sids);
  intervals->clear();
  std::vector<size_t> counts(n_sids);
  for (uint64_t i = 0; i < n_sids; ++i) {
    auto sid = r.Bytes(16);
    uint64_t n = r.U64();
    if (!r.ok() || n > r.remaining() / 16) return Malformed("previous GTIDs interval count");
    std::memcpy((*sids)[i].sid.data(), sid.data(), 16);
    counts[i] = n;
    for (uint64_t k = 0; k < n; ++k) {
      GtidInterval iv;
      iv.start = r.U64();
      iv.end = r.U64();
      intervals->push_back(iv);
    }
  }
  // Spans are taken once the interval storage has stopped growing.
  size_t at = 0;
  for (uint64_t i = 0; i < n_sids; ++i) {
    (*sids)[i].intervals = std::span<const GtidInterval>(intervals->data() + at, counts[i]);
    at += counts[i];
  }
  p->sids = *sids;
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

uint64_t PackedValue(std::span<const uint8_t> v) {
  ByteReader r(v);
  uint64_t x = r.PackedInt();
  return r.ok() ? x : 0;
}

}  // namespace

Status EventDecoder::Decode(const RawEvent& raw, const FormatDescription& fd, Event* out) {
  out->pos = raw.pos;
  out->header = raw.header;
  out->inner = false;
  Status s = DecodeBody(raw, fd, out);
  if (!s.ok()) {
    return s.WithContext("event at byte offset " + std::to_string(raw.pos) + " (" +
                         std::string(EventTypeName(raw.header.type)) + ")");
  }
  return s;
}

Status EventDecoder::DecodeBody(const RawEvent& raw, const FormatDescription& fd, Event* out) {
  const uint8_t type = raw.header.type;
  if (type == kFormatDescriptionEvent) {
    FormatDescription desc;
    Status s = ParseFormatDescription(raw.bytes.subspan(kEventHeaderSize), &desc);
    if (!s.ok()) return s;
    out->body = desc;
    return Status::OK();
  }
  auto all = raw.body(fd);
  size_t ph_len = fd.PostHeaderLength(type);
  if (!IsKnownEventType(type)) {
    out->body = UnknownBody{};
    return Status::OK();
  }
  if (ph_len > all.size()) {
    return Malformed("body of " + std::to_string(all.size()) +
                     " bytes is shorter than its post-header (" + std::to_string(ph_len) + ")");
  }
  auto post_header = all.first(ph_len);
  auto body = all.subspan(ph_len);
  ByteReader r(body);

  switch (type) {
    case kRotateEvent: {
      auto& b = out->body.emplace<RotateBody>();
      ByteReader p(all);
      b.position = ph_len >= 8 ? p.U64() : 4;
      b.file = p.RestString();
      return Status::OK();
    }
    case kQueryEvent:
    case kQueryCompressedEvent:
    case kExecuteLoadQueryEvent: {
      QueryBody& q = out->body.emplace<QueryBody>();
      Status s = DecodeQuery(post_header, body, type == kExecuteLoadQueryEvent,
                             type == kQueryCompressedEvent, &uncompressed_, &q);
      if (!s.ok()) return s;
      return Status::OK();
    }
    case kXidEvent: {
      ByteReader p(all);
      out->body.emplace<XidBody>(XidBody{p.U64()});
      if (!p.ok()) return Malformed("XID event shorter than 8 bytes");
      return Status::OK();
    }
    case kIntvarEvent: {
      ByteReader p(all);
      auto& b = out->body.emplace<IntvarBody>();
      b.type = p.U8();
      b.value = p.U64();
      if (!p.ok()) return Malformed("INTVAR event shorter than 9 bytes");
      return Status::OK();
    }
    case kRandEvent: {
      ByteReader p(all);
      auto& b = out->body.emplace<RandBody>();
      b.seed1 = p.U64();
      b.seed2 = p.U64();
      if (!p.ok()) return Malformed("RAND event shorter than 16 bytes");
      return Status::OK();
    }
    case kUserVarEvent: {
      // name_len 4 · name · is_null 1 · [type 1 · charset 4 · value_len 4 · value · [flags 1]]
      ByteReader p(all);
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
      ByteReader p(all);
      auto& b = out->body.emplace<LoadFileBody>();
      b.file_id = p.U32();
      if (!p.ok()) return Malformed("load event shorter than its file id");
      b.block_size = type == kDeleteFileEvent || type == kExecLoadEvent ? 0 : body.size();
      return Status::OK();
    }
    case kIncidentEvent: {
      ByteReader p(all);
      auto& b = out->body.emplace<IncidentBody>();
      b.incident = p.U16();
      if (p.ok() && p.remaining() > 0) b.message = p.String(p.U8());
      if (!p.ok()) return Malformed("incident message runs past the event");
      return Status::OK();
    }
    case kHeartbeatEvent: {
      auto& b = out->body.emplace<HeartbeatBody>();
      b.log_file = std::string_view(reinterpret_cast<const char*>(all.data()), all.size());
      b.log_pos = raw.header.log_pos;
      return Status::OK();
    }
    case kHeartbeatEventV2: {
      // OTW_HB_LOG_FILENAME_FIELD = 1, OTW_HB_LOG_POSITION_FIELD = 2
      // (libbinlogevents control_events.h Heartbeat_event_v2).
      auto& b = out->body.emplace<HeartbeatBody>();
      ByteReader p(all);
      Status s = WalkTlv(p, [&](uint64_t t, std::span<const uint8_t> v) {
        if (t == 1) b.log_file = {reinterpret_cast<const char*>(v.data()), v.size()};
        if (t == 2) b.log_pos = PackedValue(v);
      });
      if (!s.ok()) return s;
      return Status::OK();
    }
    case kMariaGtidEvent: {
      auto& b = out->body.emplace<MariaGtidBody>();
      Status s = DecodeMariaGtid(all, raw.header.server_id, &b);
      if (!s.ok()) return s;
      return Status::OK();
    }
    case kMariaGtidListEvent: {
      auto& b = out->body.emplace<MariaGtidListBody>();
      Status s = DecodeMariaGtidList(all, &gtid_list_, &b);
      if (!s.ok()) return s;
      return Status::OK();
    }
    case kBinlogCheckpointEvent: {
      ByteReader p(all);
      auto& b = out->body.emplace<BinlogCheckpointBody>();
      b.file = p.String(p.U32());
      if (!p.ok()) return Malformed("checkpoint file name runs past the event");
      return Status::OK();
    }
    case kAnnotateRowsEvent:
      out->body = RowsQueryBody{{reinterpret_cast<const char*>(all.data()), all.size()}};
      return Status::OK();
    case kRowsQueryEvent: {
      // One length byte (truncated at 255, ignored by the server), then the text.
      ByteReader p(all);
      p.Skip(1);
      out->body = RowsQueryBody{p.RestString()};
      return Status::OK();
    }
    case kStartEncryptionEvent: {
      ByteReader p(all);
      auto& b = out->body.emplace<StartEncryptionBody>();
      b.scheme = p.U8();
      b.key_version = p.U32();
      b.nonce = p.Bytes(12);
      if (!p.ok()) return Malformed("START_ENCRYPTION shorter than 17 bytes");
      return Status::OK();
    }
    case kGtidEvent:
    case kAnonymousGtidEvent: {
      auto& b = out->body.emplace<MysqlGtidBody>();
      Status s = DecodeMysqlGtid(all, &b);
      if (!s.ok()) return s;
      return Status::OK();
    }
    case kPreviousGtidsEvent: {
      auto& b = out->body.emplace<PreviousGtidsBody>();
      Status s = DecodePreviousGtids(all, &previous_sids_, &previous_intervals_, &b);
      if (!s.ok()) return s;
      return Status::OK();
    }
    case kTransactionContextEvent: {
      // server_uuid_len 1 · thread_id 4 · gtid_specified 1 · snapshot_len 4 ·
      // write_set_len 4 · read_set_len 4 · server_uuid · snapshot · sets
      ByteReader p(all);
      auto& b = out->body.emplace<TransactionContextBody>();
      uint8_t uuid_len = p.U8();
      b.thread_id = p.U32();
      b.gtid_specified = p.U8() != 0;
      uint32_t snapshot_len = p.U32();
      b.write_set_count = p.U32();
      b.read_set_count = p.U32();
      b.server_uuid = p.String(uuid_len);
      p.Skip(snapshot_len);
      if (!p.ok()) return Malformed("transaction context runs past the event");
      return Status::OK();
    }
    case kViewChangeEvent: {
      // view_id 40 · seq_number 8 · cert_info_size 4 · …
      ByteReader p(all);
      auto& b = out->body.emplace<ViewChangeBody>();
      b.view_id = p.FixedCString(40);
      b.seq_number = p.U64();
      b.cert_info_count = p.U32();
      if (!p.ok()) return Malformed("view change shorter than 52 bytes");
      return Status::OK();
    }
    case kXaPrepareEvent: {
      // one_phase 1 · format_id 4 · gtrid_len 4 · bqual_len 4 · data
      ByteReader p(all);
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
      auto& b = out->body.emplace<TransactionPayloadBody>();
      Status s = DecodeTransactionPayload(all, &b);
      if (!s.ok()) return s;
      return Status::OK();
    }
    case kTableMapEvent: {
      auto& b = out->body.emplace<TableMapBody>();
      Status s = DecodeTableMap(post_header, body, &b);
      if (!s.ok()) return s;
      return Status::OK();
    }
    case kPreGaWriteRowsEvent: case kPreGaUpdateRowsEvent: case kPreGaDeleteRowsEvent:
    case kWriteRowsEventV1: case kUpdateRowsEventV1: case kDeleteRowsEventV1:
    case kWriteRowsEvent: case kUpdateRowsEvent: case kDeleteRowsEvent:
    case kPartialUpdateRowsEvent:
    case kWriteRowsCompressedEventV1: case kUpdateRowsCompressedEventV1:
    case kDeleteRowsCompressedEventV1: case kWriteRowsCompressedEvent:
    case kUpdateRowsCompressedEvent: case kDeleteRowsCompressedEvent: {
      auto& b = out->body.emplace<RowsBody>();
      Status s = DecodeRows(type, post_header, body, &b);
      if (!s.ok()) return s;
      return Status::OK();
    }
    default:
      out->body = UnknownBody{};
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

Status EventDecoder::DecodeTableMap(std::span<const uint8_t> post_header,
                                    std::span<const uint8_t> body, TableMapBody* out) {
  // Post-header: table_id 6 (4 when the post-header is 6 bytes) · flags 2.
  ByteReader ph(post_header);
  out->table_id = post_header.size() == 6 ? ph.U32() : ph.U48();
  out->flags = ph.U16();
  if (!ph.ok()) return Malformed("table map post-header too short");
  // Body: db_len 1 · db · NUL · table_len 1 · table · NUL · column_count packed ·
  // types[n] · metadata_len packed · metadata · null_bits · [optional metadata].
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
  uint64_t meta_len = r.PackedInt();
  auto meta = r.Bytes(meta_len);
  r.Skip((out->column_count + 7) / 8);
  if (!r.ok()) return Malformed("table map metadata or NULL bitmap runs past the event");
  out->optional_metadata = r.Rest();

  // Table maps are kept across statements: a server announces the same
  // table id with the same columns again and again, and parsing it once
  // spares the work and the allocations. A changed definition re-parses.
  TableColumns& t = FindOrAddTable(out->table_id);
  if (t.db != out->db) t.db.assign(out->db);
  if (t.table != out->table) t.table.assign(out->table);
  Status s = t.ParseMetadata(out->column_types, meta);
  if (!s.ok()) {
    ForgetTable(out->table_id);
    return s;
  }
  // Optional metadata: type 1 · length packed · value (Table_map_event
  // Optional_metadata_field_type; COLUMN_NAME = 4: packed length + name each).
  ByteReader om(out->optional_metadata);
  while (om.remaining() > 0) {
    uint8_t field = om.U8();
    auto value = om.Bytes(om.PackedInt());
    if (!om.ok()) return Malformed("table map optional metadata runs past the event");
    if (field == 4) {
      ByteReader names(value);
      column_names_.clear();
      while (names.remaining() > 0 && names.ok()) column_names_.push_back(names.String(names.PackedInt()));
      if (!names.ok()) return Malformed("table map column names run past their field");
      out->column_names = column_names_;
    }
  }
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

  ByteReader ph(post_header);
  out->table_id = post_header.size() == 6 ? ph.U32() : ph.U48();
  out->flags = ph.U16();
  // v2 (MySQL): the 10-byte post-header ends with the length of the
  // extra_row_info (counting its own 2 bytes), whose data opens the body.
  uint16_t extra = post_header.size() == 10 ? ph.U16() : 2;
  if (!ph.ok()) return Malformed("rows post-header too short");
  if (extra < 2) return Malformed("extra row info length below 2");
  ByteReader r(body);
  r.Skip(extra - 2);
  out->column_count = r.PackedInt();
  if (!r.ok() || out->column_count > 8 * r.remaining()) {
    return Malformed("column count runs past the event");
  }
  const size_t bitmap_len = (out->column_count + 7) / 8;
  auto present = r.Bytes(bitmap_len);
  std::span<const uint8_t> present_after;
  if (out->kind == RowsBody::Kind::kUpdate) present_after = r.Bytes(bitmap_len);
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
  ByteReader rr(rows);
  uint64_t images = 0;
  Status s = WalkRowImages(rr, *table, out->column_count, present, present_after,
                           out->kind == RowsBody::Kind::kUpdate, out->partial, &images);
  if (!s.ok()) return s.WithContext(table->db + "." + table->table);
  out->images = images;
  out->rows = out->kind == RowsBody::Kind::kUpdate ? images / 2 : images;
  return Status::OK();
}

Status EventDecoder::DecodeTransactionPayload(std::span<const uint8_t> body,
                                              TransactionPayloadBody* out) {
  // Fields: OTW_PAYLOAD_SIZE_FIELD 1, OTW_PAYLOAD_COMPRESSION_TYPE_FIELD 2,
  // OTW_PAYLOAD_UNCOMPRESSED_SIZE_FIELD 3; then the payload
  // (libbinlogevents compression/payload_event? Transaction_payload_event).
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
  const uint8_t* b = body.data();
  if (!payload_.empty() && b >= payload_.data() && b < payload_.data() + payload_.size()) {
    return Malformed("transaction payload nested in a transaction payload");
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
  out->payload = payload_;
  return Status::OK();
}

Status EventDecoder::NextPayloadEvent(const FormatDescription& fd, uint64_t payload_pos,
                                      size_t* offset, RawEvent* out) const {
  if (*offset >= payload_.size()) return Status::EndOfFile();
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
