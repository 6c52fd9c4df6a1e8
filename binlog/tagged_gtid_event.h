// GTID_TAGGED_LOG_EVENT (type 42, MySQL 8.3+): the GTID event of a tagged
// transaction. Its body is one message of MySQL's serialization library
// (libs/mysql/serialization/readme.md; the fields are Gtid_event's
// define_fields() in libs/mysql/binlog/event/control_events.h):
//
//   format_version · message_size · last_non_ignorable_field_id · { field_id · value }*
//
// all variable-length integers (byte_reader.h VarUint). format_version is 1;
// message_size counts the whole message from its first byte. Fields, by id,
// each present or absent, in increasing order:
//   0 gtid_flags · 1 uuid (16 integers, one per byte) · 2 gno (signed) ·
//   3 tag (length, then characters) · 4 last_committed (signed) ·
//   5 sequence_number (signed) · 6 immediate_commit_timestamp ·
//   7 original_commit_timestamp (absent: the immediate one) ·
//   8 transaction_length · 9 immediate_server_version ·
//   10 original_server_version (absent: the immediate one) ·
//   11 commit_group_ticket
// Fields a later server adds come after these and are skipped by the message
// size, unless the message says a field beyond the ones known may not be
// ignored.
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"
#include "binlog/event.h"

namespace tidewatch::binlog {

// Decodes the body (after the common header, before the checksum). Views
// point into `body`.
Status DecodeTaggedGtidEvent(std::span<const uint8_t> body, MysqlGtidBody* out);

}  // namespace tidewatch::binlog
