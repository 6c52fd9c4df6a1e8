// A protobuf message in protobuf's JSON mapping (proto3 JSON), written by
// reflection straight into a string: what JsonLinesSink and the event stream
// print for every message, at a few microseconds a message where
// google::protobuf::util::MessageToJsonString takes tens.
//
// The mapping is protobuf's, with its options preserve_proto_field_names and
// always_print_primitive_fields: proto field names; a field without presence
// (scalar, string, enum, repeated) written even at its default; a message
// field or a oneof member only when set; 64-bit integers as strings; enums by
// name; Timestamp as RFC 3339 text; doubles as the shortest text that reads
// back the same, NaN and the infinities as strings. Fields in declaration
// order (JSON gives object members no order).
#pragma once

#include <string>

#include <google/protobuf/message.h>

namespace tidewatch::sinks {

// Appends the JSON of `message` to `out`. False (and `out` as it was) when
// the message holds a type this writer does not map (a map, Any, Struct,
// Duration, a wrapper, bytes): the caller then uses protobuf's own converter.
bool AppendProtoJson(const google::protobuf::Message& message, std::string* out);

}  // namespace tidewatch::sinks
