#include "binlog/tagged_gtid_event.h"

#include <string>

#include "binlog/byte_reader.h"
#include "binlog/mysql_gtid_set.h"

namespace tidewatch::binlog {
namespace {

constexpr uint64_t kFormatVersion = 1;
enum FieldId : uint64_t {
  kFlags = 0, kUuid, kGno, kTag, kLastCommitted, kSequenceNumber, kImmediateCommitTimestamp,
  kOriginalCommitTimestamp, kTransactionLength, kImmediateServerVersion, kOriginalServerVersion,
  kCommitGroupTicket, kFieldCount,
};
constexpr int64_t kGnoEnd = INT64_MAX;  // GNOs are 1 … 2^63 - 2

Status Malformed(const std::string& what) { return Status::Corruption("tagged GTID event: " + what); }

}  // namespace

Status DecodeTaggedGtidEvent(std::span<const uint8_t> body, MysqlGtidBody* g) {
  ByteReader head(body);
  const uint64_t version = head.VarUint();
  const uint64_t size = head.VarUint();
  const uint64_t last_non_ignorable = head.VarUint();
  if (!head.ok()) return Malformed("message header runs past the event");
  if (version != kFormatVersion) return Malformed("serialization format " + std::to_string(version));
  if (size < head.offset() || size > body.size()) {
    return Malformed("message of " + std::to_string(size) + " bytes in a body of " + std::to_string(body.size()));
  }
  if (last_non_ignorable > kFieldCount) {
    return Malformed("field " + std::to_string(last_non_ignorable - 1) + " is unknown and may not be ignored");
  }
  // Reads stay inside the message the size announces.
  ByteReader r(body.first(size));
  r.Skip(head.offset());
  bool present[kFieldCount] = {};
  g->tagged = true;
  for (uint64_t id = 0; id < kFieldCount && r.remaining() > 0; ++id) {
    ByteReader peek = r;
    if (peek.VarUint() != id || !peek.ok()) continue;  // absent
    r = peek;
    present[id] = true;
    switch (id) {
      case kFlags: g->flags = static_cast<uint8_t>(r.VarUint()); break;
      case kUuid:
        for (auto& b : g->sid) {
          const uint64_t v = r.VarUint();
          if (v > 0xff) r.Fail();
          b = static_cast<uint8_t>(v);
        }
        break;
      case kGno: {
        const int64_t gno = r.VarInt();
        if (r.ok() && (gno < 1 || gno >= kGnoEnd)) return Malformed("GNO " + std::to_string(gno) + " out of range");
        g->gno = static_cast<uint64_t>(gno);
        break;
      }
      case kTag: {
        const uint64_t len = r.VarUint();
        if (r.ok() && len > kMaxGtidTagLength) return Malformed("tag of " + std::to_string(len) + " characters");
        g->tag = r.String(len);
        if (r.ok() && !g->tag.empty() && !IsValidGtidTag(g->tag)) return Malformed("tag is not a tag");
        break;
      }
      case kLastCommitted: g->last_committed = static_cast<uint64_t>(r.VarInt()); break;
      case kSequenceNumber: g->sequence_number = static_cast<uint64_t>(r.VarInt()); break;
      case kImmediateCommitTimestamp: g->immediate_commit_timestamp = r.VarUint(); break;
      case kOriginalCommitTimestamp: g->original_commit_timestamp = r.VarUint(); break;
      case kTransactionLength: g->transaction_length = r.VarUint(); break;
      case kImmediateServerVersion: g->immediate_server_version = static_cast<uint32_t>(r.VarUint()); break;
      case kOriginalServerVersion: g->original_server_version = static_cast<uint32_t>(r.VarUint()); break;
      case kCommitGroupTicket: g->commit_group_ticket = r.VarUint(); break;
    }
    if (!r.ok()) return Malformed("field " + std::to_string(id) + " runs past the message");
  }
  if (!present[kUuid] || !present[kGno]) return Malformed("no " + std::string(present[kUuid] ? "GNO" : "UUID"));
  g->has_logical_clock = present[kLastCommitted] && present[kSequenceNumber];
  g->has_commit_timestamps = present[kImmediateCommitTimestamp];
  if (!present[kOriginalCommitTimestamp]) g->original_commit_timestamp = g->immediate_commit_timestamp;
  g->has_transaction_length = present[kTransactionLength];
  g->has_server_versions = present[kImmediateServerVersion];
  if (!present[kOriginalServerVersion]) g->original_server_version = g->immediate_server_version;
  g->has_commit_group_ticket = present[kCommitGroupTicket];
  return Status::OK();
}

}  // namespace tidewatch::binlog
