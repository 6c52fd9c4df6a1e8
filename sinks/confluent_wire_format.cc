#include "sinks/confluent_wire_format.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <vector>

namespace tidewatch::sinks {

using google::protobuf::internal::WireFormatLite;

std::string ConfluentProtobufPrefix(int32_t schema_id, const google::protobuf::Descriptor& type) {
  std::vector<int> path;
  for (const google::protobuf::Descriptor* d = &type; d != nullptr; d = d->containing_type()) {
    path.push_back(d->index());
  }
  std::reverse(path.begin(), path.end());
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

}  // namespace tidewatch::sinks
