// Confluent's wire format for values written by Schema Registry serializers
// (Confluent documentation, "Schema Registry: Wire format"):
//
//   byte 0      magic byte 0
//   bytes 1-4   the schema id, 32-bit big-endian, as the registry assigned it
//   then        for Protobuf only, the message indexes: the path of the
//               message type inside its .proto file (top-level index, then
//               nested indexes) as a zig-zag varint count followed by each
//               index as a zig-zag varint; the common path [0] — the file's
//               first message — is written as the single byte 0
//   then        the serialized message
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "base/status.h"

namespace tidewatch::sinks {

// Everything before the serialized message: magic byte, schema id and the
// message indexes of `type` within its file.
std::string ConfluentProtobufPrefix(int32_t schema_id, const google::protobuf::Descriptor& type);

// True when `value` starts with the magic byte. A plain serialized message
// never does: its first byte is a field key, and field number 0 is invalid.
inline bool IsConfluentFramed(std::string_view value) { return !value.empty() && value[0] == '\0'; }

// Splits a framed value into its schema id, message indexes (the path; [0]
// for the single 0 byte) and the serialized message. A value cut short or
// with a negative count is an error saying which part.
Status ParseConfluentProtobuf(std::string_view value, int32_t* schema_id, std::vector<int>* indexes,
                                      std::string_view* message);

// The message indexes that address `type` in its file.
std::vector<int> MessageIndexes(const google::protobuf::Descriptor& type);

}  // namespace tidewatch::sinks
