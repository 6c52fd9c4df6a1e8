#include "sinks/confluent_wire_format.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <vector>

namespace tidewatch::sinks {

using google::protobuf::internal::WireFormatLite;

std::vector<int> MessageIndexes(const google::protobuf::Descriptor& type) {
  std::vector<int> path;
  for (const google::protobuf::Descriptor* d = &type; d != nullptr; d = d->containing_type()) {
    path.push_back(d->index());
  }
  std::reverse(path.begin(), path.end());
  return path;
}

std::string ConfluentProtobufPrefix(int32_t schema_id, const google::protobuf::Descriptor& type) {
  const std::vector<int> path = MessageIndexes(type);
  std::string out;
  out.push_back('\0');
  const auto id = static_cast<uint32_t>(schema_id);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((id >> shift) & 0xff));
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    if (path == std::vector<int>{0}) {
      coded.WriteVarint32(0);
    } else {
      coded.WriteVarint32(WireFormatLite::ZigZagEncode32(static_cast<int32_t>(path.size())));
      for (int i : path) coded.WriteVarint32(WireFormatLite::ZigZagEncode32(i));
    }
  }
  return out;
}

Status ParseConfluentProtobuf(std::string_view value, int32_t* schema_id, std::vector<int>* indexes,
                                      std::string_view* message) {
  if (!IsConfluentFramed(value)) return Status::Corruption("Confluent wire format: no magic byte 0");
  if (value.size() < 6) {
    return Status::Corruption("Confluent wire format: " + std::to_string(value.size()) +
                              " bytes, too short for the schema id and message indexes");
  }
  const auto* p = reinterpret_cast<const uint8_t*>(value.data());
  *schema_id = static_cast<int32_t>(static_cast<uint32_t>(p[1]) << 24 | static_cast<uint32_t>(p[2]) << 16 |
                                    static_cast<uint32_t>(p[3]) << 8 | static_cast<uint32_t>(p[4]));
  google::protobuf::io::CodedInputStream in(p + 5, static_cast<int>(value.size() - 5));
  uint32_t raw = 0;
  if (!in.ReadVarint32(&raw)) return Status::Corruption("Confluent wire format: message index count cut short");
  const int32_t count = WireFormatLite::ZigZagDecode32(raw);
  indexes->clear();
  if (count == 0) {
    indexes->push_back(0);
  } else if (count < 0 || static_cast<size_t>(count) > value.size()) {
    return Status::Corruption("Confluent wire format: message index count " + std::to_string(count));
  }
  for (int32_t i = 0; i < count; ++i) {
    if (!in.ReadVarint32(&raw)) {
      return Status::Corruption("Confluent wire format: message index " + std::to_string(i) + " cut short");
    }
    indexes->push_back(WireFormatLite::ZigZagDecode32(raw));
  }
  *message = value.substr(5 + static_cast<size_t>(in.CurrentPosition()));
  return Status::OK();
}

}  // namespace tidewatch::sinks
