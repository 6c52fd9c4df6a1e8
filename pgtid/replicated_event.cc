#include "pgtid/replicated_event.h"

#include <variant>

#include "binlog/checksum.h"
#include "binlog/event_type.h"

namespace tidewatch::pgtid {

using namespace binlog;

namespace {

enum Class : uint8_t {
  kOther = 0, kQuery, kXid, kGtid, kTableMap, kRowsWrite, kRowsUpdate, kRowsDelete, kRowsPartial,
  kIntvar, kRand, kUserVar, kLoad, kXaPrepare, kPayload, kViewChange, kTrxContext,
};

Class ClassOf(uint8_t type) {
  switch (type) {
    case kQueryEvent: case kQueryCompressedEvent: case kExecuteLoadQueryEvent: return kQuery;
    case kXidEvent: return kXid;
    case kGtidEvent: case kAnonymousGtidEvent: case kGtidTaggedEvent: case kMariaGtidEvent: return kGtid;
    case kTableMapEvent: return kTableMap;
    case kPreGaWriteRowsEvent: case kWriteRowsEventV1: case kWriteRowsEvent:
    case kWriteRowsCompressedEventV1: case kWriteRowsCompressedEvent: return kRowsWrite;
    case kPreGaUpdateRowsEvent: case kUpdateRowsEventV1: case kUpdateRowsEvent:
    case kUpdateRowsCompressedEventV1: case kUpdateRowsCompressedEvent: return kRowsUpdate;
    case kPreGaDeleteRowsEvent: case kDeleteRowsEventV1: case kDeleteRowsEvent:
    case kDeleteRowsCompressedEventV1: case kDeleteRowsCompressedEvent: return kRowsDelete;
    case kPartialUpdateRowsEvent: return kRowsPartial;
    case kIntvarEvent: return kIntvar;
    case kRandEvent: return kRand;
    case kUserVarEvent: return kUserVar;
    case kBeginLoadQueryEvent: case kAppendBlockEvent: case kDeleteFileEvent: case kLoadEvent:
    case kCreateFileEvent: case kExecLoadEvent: case kNewLoadEvent: return kLoad;
    case kXaPrepareEvent: return kXaPrepare;
    case kTransactionPayloadEvent: return kPayload;
    case kViewChangeEvent: return kViewChange;
    case kTransactionContextEvent: return kTrxContext;
    default: return kOther;
  }
}

uint16_t Fold(uint32_t crc) {
  uint16_t h = static_cast<uint16_t>(crc ^ (crc >> 16));
  return h == 0 ? 1 : h;
}
uint16_t Hash(const void* p, size_t n) { return Fold(Crc32(static_cast<const uint8_t*>(p), n)); }

bool IsCompressedRows(uint8_t t) { return t >= kWriteRowsCompressedEventV1 && t <= kDeleteRowsCompressedEvent; }

}  // namespace

bool IsReplicatedEvent(uint8_t type) {
  switch (type) {
    case kRotateEvent: case kFormatDescriptionEvent: case kStopEvent: case kHeartbeatEvent:
    case kHeartbeatEventV2: case kPreviousGtidsEvent: case kMariaGtidListEvent:
    case kBinlogCheckpointEvent: case kStartEncryptionEvent: case kIncidentEvent:
    case kAnnotateRowsEvent: case kRowsQueryEvent: case kStartEventV3: case kIgnorableEvent:
    case kUnknownEvent:
      return false;
    default:
      return true;
  }
}

bool IsReplicatedEventName(std::string_view t) {
  static constexpr std::string_view kLocal[] = {
      "Rotate",           "Format_desc",      "Stop",      "Heartbeat", "Previous_gtids", "Gtid_list",
      "Binlog_checkpoint", "Start_encryption", "Incident",  "Annotate_rows", "Rows_query", "Start_v3",
      "Ignorable",        "Unknown"};
  for (auto l : kLocal) {
    if (t == l) return false;
  }
  return true;
}

bool IsGtidSignature(EventSignature s) { return SignatureClass(s) == kGtid; }

bool NeedsDecoding(uint8_t type) {
  switch (type) {
    case kQueryEvent: case kQueryCompressedEvent: case kExecuteLoadQueryEvent:
    case kTableMapEvent: case kMariaGtidEvent: case kGtidEvent: case kAnonymousGtidEvent:
    case kGtidTaggedEvent: case kAnnotateRowsEvent: case kRowsQueryEvent:
      return true;
    default:
      return false;
  }
}

EventSignature SignatureOf(const RawEvent& raw, const FormatDescription& fd, const Event* decoded) {
  const uint8_t type = raw.header.type;
  const Class c = ClassOf(type);
  uint16_t h = 0;
  if (decoded != nullptr) {
    if (auto* q = std::get_if<QueryBody>(&decoded->body)) {
      h = Hash(q->query.data(), q->query.size());
    } else if (auto* t = std::get_if<TableMapBody>(&decoded->body)) {
      uint32_t crc = Crc32(reinterpret_cast<const uint8_t*>(t->db.data()), t->db.size());
      crc ^= Crc32(reinterpret_cast<const uint8_t*>(t->table.data()), t->table.size()) * 31u;
      h = Fold(crc);
    } else if (auto* g = std::get_if<MariaGtidBody>(&decoded->body)) {
      const uint64_t v[3] = {g->seq_no, g->domain_id, g->server_id};
      h = Hash(v, sizeof v);
    } else if (auto* m = std::get_if<MysqlGtidBody>(&decoded->body)) {
      // Anonymous GTIDs have no identity to compare.
      if (type != kAnonymousGtidEvent) {
        uint8_t v[24];
        std::copy(m->sid.begin(), m->sid.end(), v);
        for (int i = 0; i < 8; ++i) v[16 + i] = static_cast<uint8_t>(m->gno >> (8 * i));
        uint32_t crc = Crc32(v, sizeof v);
        if (!m->tag.empty()) crc ^= Crc32(reinterpret_cast<const uint8_t*>(m->tag.data()), m->tag.size()) * 31u;
        h = Fold(crc);
      }
    }
  } else if (c >= kRowsWrite && c <= kRowsPartial && !IsCompressedRows(type)) {
    // The row data after the post-header (table id and flags differ between
    // servers; the images do not).
    auto body = raw.body(fd);
    const size_t ph = fd.PostHeaderLength(type);
    if (body.size() > ph) h = Hash(body.data() + ph, body.size() - ph);
  } else if (c == kIntvar || c == kRand || c == kUserVar) {
    auto body = raw.body(fd);
    h = Hash(body.data(), body.size());
  }
  return static_cast<EventSignature>(c) << 16 | h;
}

std::string SignatureName(EventSignature s) {
  static constexpr const char* kNames[] = {
      "OTHER", "QUERY", "XID", "GTID", "TABLE_MAP", "WRITE_ROWS", "UPDATE_ROWS", "DELETE_ROWS",
      "PARTIAL_UPDATE_ROWS", "INTVAR", "RAND", "USER_VAR", "LOAD", "XA_PREPARE",
      "TRANSACTION_PAYLOAD", "VIEW_CHANGE", "TRANSACTION_CONTEXT"};
  const uint8_t c = SignatureClass(s);
  return c < std::size(kNames) ? kNames[c] : "OTHER";
}

}  // namespace tidewatch::pgtid
