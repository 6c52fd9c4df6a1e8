#include "sinks/proto_json.h"

#include <charconv>
#include <cmath>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include "base/json_writer.h"

namespace tidewatch::sinks {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void WriteDouble(JsonWriter& w, double v) {
  if (std::isnan(v)) return w.String("NaN");
  if (std::isinf(v)) return w.String(v > 0 ? "Infinity" : "-Infinity");
  char buf[32];
  w.Raw(std::string_view(buf, std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
}

bool WriteMessage(JsonWriter& w, const Message& m);

// One value of `f`: element `index` of a repeated field, or the field.
bool WriteValue(JsonWriter& w, const Message& m, const Reflection* r, const FieldDescriptor* f, int index) {
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      w.Number(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      w.Number(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      return true;
    case FieldDescriptor::CPPTYPE_INT64:
      w.String(std::to_string(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f)));
      return true;
    case FieldDescriptor::CPPTYPE_UINT64:
      w.String(std::to_string(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f)));
      return true;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      WriteDouble(w, rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
      return true;
    case FieldDescriptor::CPPTYPE_FLOAT: {
      // Widened as protobuf widens it: the float's shortest text.
      const float v = rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
      if (std::isnan(v) || std::isinf(v)) {
        WriteDouble(w, v);
      } else {
        char buf[32];
        w.Raw(std::string_view(buf, std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      w.Bool(rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f));
      return true;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      const auto* value = f->enum_type()->FindValueByNumber(number);
      if (value != nullptr) {
        w.String(value->name());
      } else {
        w.Number(number);  // a value this schema does not name
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                 : r->GetStringReference(m, f, &scratch);
      if (f->type() == FieldDescriptor::TYPE_BYTES) return false;  // base64: protobuf's converter
      w.String(s);
      return true;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return WriteMessage(w, rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
  }
  return false;
}

bool WriteMessage(JsonWriter& w, const Message& m) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  switch (d->well_known_type()) {
    case Descriptor::WELLKNOWNTYPE_UNSPECIFIED:
      break;
    case Descriptor::WELLKNOWNTYPE_TIMESTAMP: {
      // RFC 3339 with 0, 3, 6 or 9 fractional digits, as protobuf prints it.
      google::protobuf::Timestamp t;
      t.set_seconds(r->GetInt64(m, d->FindFieldByNumber(1)));
      t.set_nanos(r->GetInt32(m, d->FindFieldByNumber(2)));
      w.String(google::protobuf::util::TimeUtil::ToString(t));
      return true;
    }
    default:
      return false;
  }
  w.BeginObject();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_map()) return false;
    if (f->is_repeated()) {
      w.Key(f->name());
      w.BeginArray();
      const int n = r->FieldSize(m, f);
      for (int k = 0; k < n; ++k) {
        if (!WriteValue(w, m, r, f, k)) return false;
      }
      w.EndArray();
      continue;
    }
    if (f->has_presence() && !r->HasField(m, f)) continue;
    w.Key(f->name());
    if (!WriteValue(w, m, r, f, 0)) return false;
  }
  w.EndObject();
  return true;
}

}  // namespace

bool AppendProtoJson(const Message& message, std::string* out) {
  const size_t start = out->size();
  JsonWriter w(out);
  if (WriteMessage(w, message)) return true;
  out->resize(start);
  return false;
}

}  // namespace tidewatch::sinks
