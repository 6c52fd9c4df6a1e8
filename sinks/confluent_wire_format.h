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

#include <google/protobuf/descriptor.h>

namespace tidewatch::sinks {

// Everything before the serialized message: magic byte, schema id and the
// message indexes of `type` within its file.
std::string ConfluentProtobufPrefix(int32_t schema_id, const google::protobuf::Descriptor& type);

}  // namespace tidewatch::sinks
