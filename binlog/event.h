// Event: a decoded binlog event — the common header plus one body type.
//
// Bodies hold views (string_view/span) into the event bytes or into the
// decoder's own buffers (decompressed bytes, lists); they are valid until the
// next call to the decoder that produced them. Every body is trivially
// destructible, so switching an Event from one body type to the next costs
// no destructor dispatch. Layouts are cited per body from the servers'
// sources: MySQL libbinlogevents/src/{control,statement,load_data,rows}_events.cpp
// and MariaDB sql/log_event.cc.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>
#include <variant>

#include "binlog/event_header.h"
#include "binlog/format_description.h"

namespace tidewatch::binlog {

using Uuid = std::array<uint8_t, 16>;

struct TableColumns;  // row_image.h

struct RotateBody {            // ROTATE_EVENT: position 8 · next file name
  uint64_t position = 0;
  std::string_view file;
};

// QUERY_EVENT and QUERY_COMPRESSED_EVENT (query text decompressed), and the
// query part of EXECUTE_LOAD_QUERY_EVENT. Post-header: thread_id 4 ·
// exec_time 4 · db_len 1 · error_code 2 · status_vars_len 2; then status
// variables, db + NUL, query text.
struct QueryBody {
  uint32_t thread_id = 0;
  uint32_t exec_time = 0;
  uint16_t error_code = 0;
  std::string_view db;
  std::string_view query;
  bool compressed = false;
  // Status variables (Q_* codes) that were present.
  bool has_flags2 = false;
  uint32_t flags2 = 0;
  bool has_sql_mode = false;
  uint64_t sql_mode = 0;
  bool has_charset = false;
  uint16_t charset_client = 0, collation_connection = 0, collation_server = 0;
  std::string_view time_zone;
  std::string_view catalog;
  std::string_view invoker_user, invoker_host;
  bool has_xid = false;        // MariaDB Q_XID / MySQL Q_DDL_LOGGED_WITH_XID
  uint64_t xid = 0;
  uint16_t updated_db_count = 0;
  bool status_vars_complete = true;  // false when an unknown code stopped the walk
  // EXECUTE_LOAD_QUERY_EVENT only.
  uint32_t file_id = 0;
  uint32_t fn_pos_start = 0, fn_pos_end = 0;
  uint8_t dup_handling = 0;
};

struct XidBody { uint64_t xid = 0; };

struct IntvarBody {            // type: 1 LAST_INSERT_ID, 2 INSERT_ID
  uint8_t type = 0;
  uint64_t value = 0;
};

struct RandBody { uint64_t seed1 = 0, seed2 = 0; };

struct UserVarBody {
  std::string_view name;
  bool is_null = false;
  uint8_t value_type = 0;      // Item_result: 0 STRING, 1 REAL, 2 INT, 3 ROW, 4 DECIMAL
  uint32_t charset = 0;
  std::span<const uint8_t> value;
  uint8_t flags = 0;           // 1 = UNSIGNED
};

// BEGIN_LOAD_QUERY, APPEND_BLOCK, DELETE_FILE, and the pre-5.0 load events.
struct LoadFileBody {
  uint32_t file_id = 0;
  uint64_t block_size = 0;
};

struct IncidentBody {
  uint16_t incident = 0;
  std::string_view message;
};

// HEARTBEAT_LOG_EVENT (v1: body = current binlog file name; position in the
// header's log_pos) and HEARTBEAT_LOG_EVENT_V2 (MySQL 8.0.26+: TLV fields,
// 64-bit position).
struct HeartbeatBody {
  std::string_view log_file;
  uint64_t log_pos = 0;
};

// MariaDB GTID_EVENT: seq_no 8 · domain_id 4 · flags2 1 · [commit_id 8] ·
// [XA: format_id 4 · gtrid_len 1 · bqual_len 1 · data] · [flags_extra 1 ·
// [extra_engines 1] · [start-alter seq_no 8]] · zero padding to 19 bytes
// (sql/log_event.cc Gtid_log_event). The server_id is the header's.
struct MariaGtidBody {
  uint64_t seq_no = 0;
  uint32_t domain_id = 0;
  uint32_t server_id = 0;
  uint8_t flags2 = 0;
  bool has_commit_id = false;
  uint64_t commit_id = 0;
  bool has_xid = false;
  int32_t xa_format_id = 0;
  std::string_view xa_gtrid, xa_bqual;
  uint8_t flags_extra = 0;
  uint8_t extra_engines = 0;
  uint64_t start_alter_seq_no = 0;

  static constexpr uint8_t kExtraMultiEngine = 1, kExtraStartAlter = 2, kExtraCommitAlter = 4,
                           kExtraRollbackAlter = 8;
  static constexpr uint8_t kStandalone = 1, kGroupCommitId = 2, kTransactional = 4,
                           kAllowParallel = 8, kWaited = 16, kDdl = 32, kPreparedXa = 64,
                           kCompletedXa = 128;
};

struct MariaGtid {
  uint32_t domain_id = 0;
  uint32_t server_id = 0;
  uint64_t seq_no = 0;
  bool operator==(const MariaGtid&) const = default;
};

struct MariaGtidListBody {
  uint8_t flags = 0;
  std::span<const MariaGtid> gtids;
};

struct BinlogCheckpointBody { std::string_view file; };

// ANNOTATE_ROWS_EVENT (MariaDB) and ROWS_QUERY_LOG_EVENT (MySQL): the
// statement that produced the following row events.
struct RowsQueryBody { std::string_view query; };

struct StartEncryptionBody {
  uint8_t scheme = 0;
  uint32_t key_version = 0;
  std::span<const uint8_t> nonce;
};

// MySQL GTID_LOG_EVENT / ANONYMOUS_GTID_LOG_EVENT / GTID_TAGGED_LOG_EVENT.
// The tagged event (MySQL 8.3+) carries the same fields in the serialization
// library's format instead of fixed offsets (binlog/tagged_gtid.h).
struct MysqlGtidBody {
  uint8_t flags = 0;           // 1 = may have statements logged in STATEMENT format
  Uuid sid{};
  uint64_t gno = 0;
  bool tagged = false;         // GTID_TAGGED_LOG_EVENT
  std::string_view tag;        // lowercase; empty for an untagged GTID
  bool has_logical_clock = false;
  uint64_t last_committed = 0, sequence_number = 0;
  bool has_commit_timestamps = false;
  uint64_t immediate_commit_timestamp = 0, original_commit_timestamp = 0;  // µs since epoch
  bool has_transaction_length = false;
  uint64_t transaction_length = 0;
  bool has_server_versions = false;
  uint32_t immediate_server_version = 0, original_server_version = 0;
  bool has_commit_group_ticket = false;
  uint64_t commit_group_ticket = 0;
};

struct GtidInterval {  // [start, end)
  uint64_t start = 0, end = 0;
  bool operator==(const GtidInterval&) const = default;
};
struct PreviousGtidsSid {
  Uuid sid{};
  std::string_view tag;        // empty: untagged
  std::span<const GtidInterval> intervals;
};
// PREVIOUS_GTIDS_LOG_EVENT: a GTID set in the binary form of
// binlog/mysql_gtid_set.h, format 0 (untagged) or 1 (tagged, MySQL 8.3+).
struct PreviousGtidsBody {
  uint8_t format = 0;
  std::span<const PreviousGtidsSid> sids;
};

struct TransactionContextBody {
  std::string_view server_uuid;
  uint32_t thread_id = 0;
  bool gtid_specified = false;
  uint32_t write_set_count = 0, read_set_count = 0;
};

struct ViewChangeBody {
  std::string_view view_id;
  uint64_t seq_number = 0;
  uint32_t cert_info_count = 0;
};

struct XaPrepareBody {
  bool one_phase = false;
  int32_t format_id = 0;
  std::string_view gtrid, bqual;
};

// TRANSACTION_PAYLOAD_EVENT: TLV header, then the (compressed) events of one
// transaction. `payload` is the uncompressed bytes; the decoder's
// PayloadEvents() walks them.
struct TransactionPayloadBody {
  uint64_t compression_type = 0;  // 0 ZSTD, 255 NONE
  uint64_t payload_size = 0;
  uint64_t uncompressed_size = 0;
  std::span<const uint8_t> payload;
};

// One column as a TABLE_MAP_EVENT's optional metadata describes it (MySQL
// 8.0.1+ binlog_row_metadata, MariaDB 10.5+; Table_map_event
// Optional_metadata_field_type). Fields the server did not log keep their
// defaults; `fields` of the table map says which were logged.
struct TableMapColumn {
  uint8_t type = 0;             // the column type, ENUM/SET/real STRING types resolved
  std::string_view name;        // COLUMN_NAME
  bool is_unsigned = false;     // SIGNEDNESS, numeric columns
  uint32_t collation = 0;       // character, ENUM and SET columns; 0: not logged
  uint32_t geometry_type = 0;   // GEOMETRY_TYPE, geometry columns
  uint32_t vector_dimensions = 0;  // VECTOR_DIMENSIONALITY (MySQL 9.0+), vector columns
  bool visible = true;          // COLUMN_VISIBILITY (MySQL 8.0.23+)
  std::span<const std::string_view> values;  // ENUM_STR_VALUE / SET_STR_VALUE
};

// A primary-key column: index into the columns and prefix length (0: the
// whole column).
struct PrimaryKeyPart {
  uint32_t column = 0;
  uint32_t prefix = 0;
};

// TABLE_MAP_EVENT. Column types and per-column metadata are kept by the
// decoder to walk the row events that refer to this table id.
struct TableMapBody {
  // Optional metadata field types (MySQL libbinlogevents rows_event.h).
  enum Field : uint8_t {
    kSignedness = 1, kDefaultCharset, kColumnCharset, kColumnName, kSetStrValue, kEnumStrValue,
    kGeometryType, kSimplePrimaryKey, kPrimaryKeyWithPrefix, kEnumAndSetDefaultCharset,
    kEnumAndSetColumnCharset, kColumnVisibility, kVectorDimensionality,
  };
  uint64_t table_id = 0;
  uint16_t flags = 0;
  std::string_view db, table;
  uint64_t column_count = 0;
  std::span<const uint8_t> column_types;
  bool has_metadata = true;     // false: a 5.1 pre-release map without metadata or NULL bits
  std::span<const std::string_view> column_names;  // optional metadata, when logged
  std::span<const uint8_t> optional_metadata;      // the raw block
  // Decoded optional metadata: one entry per column when any was logged.
  uint32_t fields = 0;          // bit (1 << Field) for each field present
  std::span<const TableMapColumn> columns;
  std::span<const PrimaryKeyPart> primary_key;
  bool Has(Field f) const { return (fields >> f) & 1; }
};

// WRITE/UPDATE/DELETE_ROWS v0/v1/v2, PARTIAL_UPDATE_ROWS and MariaDB's
// compressed row events (rows decompressed).
struct RowsBody {
  enum class Kind : uint8_t { kWrite, kUpdate, kDelete };
  Kind kind = Kind::kWrite;
  uint8_t version = 1;
  bool compressed = false;
  bool partial = false;        // PARTIAL_UPDATE_ROWS_EVENT
  uint64_t table_id = 0;
  uint16_t flags = 0;          // 1 = STMT_END_F
  uint64_t column_count = 0;
  std::string_view db, table;  // from the table map, when known
  // Whether the images were walked: not without the table map, nor for the
  // 5.1 pre-GA events (their images carry the master's record NULL bytes,
  // whose count the table map does not give), nor when the map had no
  // metadata.
  bool images_walked = false;
  uint64_t rows = 0;           // rows changed (an update's before+after pair counts once)
  uint64_t images = 0;         // row images walked
  // Set when the images can be walked (their table map is known and has
  // metadata, the event is not pre-GA) — whether or not the decoder walked
  // them (EventDecoder::set_walk_row_images) — and valid until the decoder's
  // next call: the row part (decompressed for compressed events), the
  // columns-present bitmaps (the second for updates only) and the table
  // map's columns. row_values.h reads the values from them.
  std::span<const uint8_t> row_data;
  std::span<const uint8_t> columns_present, columns_present_after;
  const TableColumns* columns = nullptr;
};

// An event whose type the decoder knows but whose body carries nothing it
// reads (STOP, IGNORABLE, START_EVENT_V3, the 4.x load events).
struct EmptyBody {};

// An event located and checksummed like any other whose body the decoder
// does not understand: a type no server it knows defines, or a body that
// contradicts its own lengths or its format description. `reason` stays
// valid until the decoder's next call.
struct UndecodedBody {
  std::string_view reason;
};

using EventBody =
    std::variant<EmptyBody, FormatDescription, RotateBody, QueryBody, XidBody, IntvarBody,
                 RandBody, UserVarBody, LoadFileBody, IncidentBody, HeartbeatBody, MariaGtidBody,
                 MariaGtidListBody, BinlogCheckpointBody, RowsQueryBody, StartEncryptionBody,
                 MysqlGtidBody, PreviousGtidsBody, TransactionContextBody, ViewChangeBody,
                 XaPrepareBody, TransactionPayloadBody, TableMapBody, RowsBody, UndecodedBody>;

static_assert(std::is_trivially_destructible_v<EventBody>);

// header.type is in the current numbering even for the few 5.1 pre-release
// servers that numbered types differently (format_description.h); the raw
// size is header.event_size.
struct Event {
  uint64_t pos = 0;
  EventHeader header;
  bool inner = false;          // found inside a TRANSACTION_PAYLOAD_EVENT
  EventBody body;
};

}  // namespace tidewatch::binlog
