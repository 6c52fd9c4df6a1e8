// The JSON lines of every message are written by reflection
// (sinks/proto_json.h) and must say what protobuf's own converter says with
// the options the sink documents: the same members with the same values.
// Messages filled at random, every field and every oneof alternative, are
// held against google::protobuf::util::MessageToJsonString.
#include <random>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sinks/json_lines_sink.h"
#include "sinks/proto_json.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::testing {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

class Filler {
 public:
  explicit Filler(uint32_t seed) : rng_(seed) {}

  // Sets every field of `m` (one alternative of each oneof) to random values;
  // some are left at their defaults, which must print too.
  void Fill(Message* m, int depth = 0) {
    const auto* d = m->GetDescriptor();
    const auto* r = m->GetReflection();
    if (d->well_known_type() == google::protobuf::Descriptor::WELLKNOWNTYPE_TIMESTAMP) {
      auto* t = static_cast<google::protobuf::Timestamp*>(m);
      t->set_seconds(Pick(0, 253402300799));
      const int32_t nanos[] = {0, 123000000, 123456000, 123456789, 999999999, 1000, 5};
      t->set_nanos(nanos[Pick(0, 6)]);
      return;
    }
    for (int i = 0; i < d->oneof_decl_count(); ++i) {
      const auto* o = d->oneof_decl(i);
      if (Pick(0, 5) == 0) continue;  // sometimes none
      FillField(m, r, o->field(Pick(0, o->field_count() - 1)), depth);
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const auto* f = d->field(i);
      if (f->containing_oneof() != nullptr) continue;
      if (Pick(0, 4) == 0) continue;  // left at its default
      FillField(m, r, f, depth);
    }
  }

 private:
  int64_t Pick(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }

  std::string Text() {
    static const std::string pieces[] = {"a", "Z", " ", "\"", "\\", "/", "\n", "\t", std::string(1, '\x01'),
                                         "\x7f", "<", ">", "&", "é", "€", "🐳", "mysql-bin.000042", "0-1-2"};
    std::string s;
    for (int n = static_cast<int>(Pick(0, 6)); n > 0; --n) s += pieces[Pick(0, std::size(pieces) - 1)];
    return s;
  }

  void FillField(Message* m, const google::protobuf::Reflection* r, const FieldDescriptor* f, int depth) {
    const int count = f->is_repeated() ? static_cast<int>(Pick(0, 3)) : 1;
    for (int k = 0; k < count; ++k) {
      const bool rep = f->is_repeated();
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32: {
          const int32_t v = static_cast<int32_t>(Pick(INT32_MIN, INT32_MAX));
          rep ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_UINT32: {
          const uint32_t v = static_cast<uint32_t>(Pick(0, UINT32_MAX));
          rep ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_INT64: {
          const int64_t v = Pick(0, 3) == 0 ? INT64_MIN : Pick(INT64_MIN + 1, INT64_MAX);
          rep ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_UINT64: {
          const uint64_t v = Pick(0, 3) == 0 ? UINT64_MAX : static_cast<uint64_t>(Pick(0, INT64_MAX));
          rep ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_DOUBLE: {
          const double values[] = {0.0, 1.5, -2.25, 0.1, 1e-7, 123456789.125, 1e21, 3.0};
          const double v = values[Pick(0, std::size(values) - 1)] * (Pick(0, 1) ? 1 : 7.3);
          rep ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_FLOAT: {
          const float v = static_cast<float>(Pick(-1000, 1000)) / 8.0f;
          rep ? r->AddFloat(m, f, v) : r->SetFloat(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_BOOL: {
          const bool v = Pick(0, 1);
          rep ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_ENUM: {
          const auto* e = f->enum_type();
          const int v = e->value(static_cast<int>(Pick(0, e->value_count() - 1)))->number();
          rep ? r->AddEnumValue(m, f, v) : r->SetEnumValue(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_STRING: {
          const std::string v = Text();
          rep ? r->AddString(m, f, v) : r->SetString(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (depth < 4) Fill(rep ? r->AddMessage(m, f) : r->MutableMessage(m, f), depth + 1);
          break;
      }
    }
  }

  std::mt19937_64 rng_;
};

nlohmann::json Protobufs(const Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, options).ok());
  return nlohmann::json::parse(out);
}

TEST(ProtoJson, SaysWhatProtobufsConverterSays) {
  for (uint32_t seed = 1; seed <= 3000; ++seed) {
    v1::Envelope e;
    Filler(seed).Fill(&e);
    std::string ours;
    ASSERT_TRUE(sinks::AppendProtoJson(e, &ours)) << e.DebugString();
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(ours)) << ours;
    ASSERT_EQ(parsed, Protobufs(e)) << "seed " << seed << "\nours:     " << ours << "\nprotobuf: " << Protobufs(e).dump();
  }
}

TEST(ProtoJson, AnEmptyMessageWritesEveryPrimitiveAtItsDefault) {
  v1::Envelope e;
  std::string ours;
  ASSERT_TRUE(sinks::AppendProtoJson(e, &ours));
  EXPECT_EQ(nlohmann::json::parse(ours), Protobufs(e));
  EXPECT_EQ(ours, R"({"schema_version":0,"producer_id":"","sequence":"0"})");
}

TEST(ProtoJson, TheSinksLineIsTheReflectionWritersText) {
  v1::Envelope e;
  Filler(7).Fill(&e);
  std::string line, direct;
  ASSERT_TRUE(sinks::ToJsonLine(e, &line).ok());
  ASSERT_TRUE(sinks::AppendProtoJson(e, &direct));
  EXPECT_EQ(line, direct);
}

TEST(ProtoJson, ATimestampIsWrittenAsItsText) {
  google::protobuf::Timestamp t;
  std::string out = "kept";
  EXPECT_TRUE(sinks::AppendProtoJson(t, &out));
  EXPECT_EQ(out, "kept\"1970-01-01T00:00:00Z\"");
}

}  // namespace
}  // namespace tidewatch::testing
