#include "sinks/schema_fingerprint.h"

#include <algorithm>
#include <functional>

#include <google/protobuf/descriptor.h>

#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::sinks {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

void AddEnum(const EnumDescriptor* e, std::vector<std::string>* out) {
  for (int i = 0; i < e->value_count(); ++i) {
    out->push_back("enum " + e->full_name() + " " + e->value(i)->name() + " " +
                   std::to_string(e->value(i)->number()));
  }
}

void AddMessage(const Descriptor* d, std::vector<std::string>* out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    std::string type = f->type_name();
    if (f->message_type() != nullptr) type += ":" + f->message_type()->full_name();
    if (f->enum_type() != nullptr) type += ":" + f->enum_type()->full_name();
    out->push_back("field " + d->full_name() + " " + std::to_string(f->number()) + " " + f->name() + " " + type +
                   (f->is_repeated() ? " repeated" : "") +
                   (f->containing_oneof() ? " oneof:" + f->containing_oneof()->name() : ""));
  }
  for (int i = 0; i < d->nested_type_count(); ++i) AddMessage(d->nested_type(i), out);
  for (int i = 0; i < d->enum_type_count(); ++i) AddEnum(d->enum_type(i), out);
}

}  // namespace

std::vector<std::string> SchemaFingerprint() {
  std::vector<std::string> out;
  const auto* file = v1::Envelope::descriptor()->file();
  for (int i = 0; i < file->message_type_count(); ++i) AddMessage(file->message_type(i), &out);
  for (int i = 0; i < file->enum_type_count(); ++i) AddEnum(file->enum_type(i), &out);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tidewatch::sinks
