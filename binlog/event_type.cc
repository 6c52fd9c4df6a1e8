#include "binlog/event_type.h"

#include <array>

namespace tidewatch::binlog {
namespace {

constexpr std::array<std::string_view, 256> MakeNames() {
  std::array<std::string_view, 256> n{};
  n[kUnknownEvent] = "UNKNOWN_EVENT";
  n[kStartEventV3] = "START_EVENT_V3";
  n[kQueryEvent] = "QUERY_EVENT";
  n[kStopEvent] = "STOP_EVENT";
  n[kRotateEvent] = "ROTATE_EVENT";
  n[kIntvarEvent] = "INTVAR_EVENT";
  n[kLoadEvent] = "LOAD_EVENT";
  n[kSlaveEvent] = "SLAVE_EVENT";
  n[kCreateFileEvent] = "CREATE_FILE_EVENT";
  n[kAppendBlockEvent] = "APPEND_BLOCK_EVENT";
  n[kExecLoadEvent] = "EXEC_LOAD_EVENT";
  n[kDeleteFileEvent] = "DELETE_FILE_EVENT";
  n[kNewLoadEvent] = "NEW_LOAD_EVENT";
  n[kRandEvent] = "RAND_EVENT";
  n[kUserVarEvent] = "USER_VAR_EVENT";
  n[kFormatDescriptionEvent] = "FORMAT_DESCRIPTION_EVENT";
  n[kXidEvent] = "XID_EVENT";
  n[kBeginLoadQueryEvent] = "BEGIN_LOAD_QUERY_EVENT";
  n[kExecuteLoadQueryEvent] = "EXECUTE_LOAD_QUERY_EVENT";
  n[kTableMapEvent] = "TABLE_MAP_EVENT";
  n[kPreGaWriteRowsEvent] = "PRE_GA_WRITE_ROWS_EVENT";
  n[kPreGaUpdateRowsEvent] = "PRE_GA_UPDATE_ROWS_EVENT";
  n[kPreGaDeleteRowsEvent] = "PRE_GA_DELETE_ROWS_EVENT";
  n[kWriteRowsEventV1] = "WRITE_ROWS_EVENT_V1";
  n[kUpdateRowsEventV1] = "UPDATE_ROWS_EVENT_V1";
  n[kDeleteRowsEventV1] = "DELETE_ROWS_EVENT_V1";
  n[kIncidentEvent] = "INCIDENT_EVENT";
  n[kHeartbeatEvent] = "HEARTBEAT_LOG_EVENT";
  n[kIgnorableEvent] = "IGNORABLE_LOG_EVENT";
  n[kRowsQueryEvent] = "ROWS_QUERY_LOG_EVENT";
  n[kWriteRowsEvent] = "WRITE_ROWS_EVENT";
  n[kUpdateRowsEvent] = "UPDATE_ROWS_EVENT";
  n[kDeleteRowsEvent] = "DELETE_ROWS_EVENT";
  n[kGtidEvent] = "GTID_LOG_EVENT";
  n[kAnonymousGtidEvent] = "ANONYMOUS_GTID_LOG_EVENT";
  n[kPreviousGtidsEvent] = "PREVIOUS_GTIDS_LOG_EVENT";
  n[kTransactionContextEvent] = "TRANSACTION_CONTEXT_EVENT";
  n[kViewChangeEvent] = "VIEW_CHANGE_EVENT";
  n[kXaPrepareEvent] = "XA_PREPARE_LOG_EVENT";
  n[kPartialUpdateRowsEvent] = "PARTIAL_UPDATE_ROWS_EVENT";
  n[kTransactionPayloadEvent] = "TRANSACTION_PAYLOAD_EVENT";
  n[kHeartbeatEventV2] = "HEARTBEAT_LOG_EVENT_V2";
  n[kGtidTaggedEvent] = "GTID_TAGGED_LOG_EVENT";
  n[kAnnotateRowsEvent] = "ANNOTATE_ROWS_EVENT";
  n[kBinlogCheckpointEvent] = "BINLOG_CHECKPOINT_EVENT";
  n[kMariaGtidEvent] = "GTID_EVENT";
  n[kMariaGtidListEvent] = "GTID_LIST_EVENT";
  n[kStartEncryptionEvent] = "START_ENCRYPTION_EVENT";
  n[kQueryCompressedEvent] = "QUERY_COMPRESSED_EVENT";
  n[kWriteRowsCompressedEventV1] = "WRITE_ROWS_COMPRESSED_EVENT_V1";
  n[kUpdateRowsCompressedEventV1] = "UPDATE_ROWS_COMPRESSED_EVENT_V1";
  n[kDeleteRowsCompressedEventV1] = "DELETE_ROWS_COMPRESSED_EVENT_V1";
  n[kWriteRowsCompressedEvent] = "WRITE_ROWS_COMPRESSED_EVENT";
  n[kUpdateRowsCompressedEvent] = "UPDATE_ROWS_COMPRESSED_EVENT";
  n[kDeleteRowsCompressedEvent] = "DELETE_ROWS_COMPRESSED_EVENT";
  return n;
}

constexpr auto kNames = MakeNames();

}  // namespace

std::string_view EventTypeName(uint8_t type) {
  return kNames[type].empty() ? std::string_view("UNKNOWN") : kNames[type];
}

bool IsKnownEventType(uint8_t type) { return !kNames[type].empty(); }

}  // namespace tidewatch::binlog
