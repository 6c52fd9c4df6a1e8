#include <gtest/gtest.h>

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/timestamp.pb.h>

#include "sinks/confluent_wire_format.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::sinks {
namespace {

std::string Hex(const std::string& s) {
  std::string out;
  char b[4];
  for (unsigned char c : s) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

// tidewatch.proto declares Coordinates, Source, then Envelope: Envelope's
// path is [2], written as count 1 and index 2, each zig-zag (2, 4).
TEST(ConfluentWireFormatTest, EnvelopeIsTheThirdMessageOfItsFile) {
  ASSERT_EQ(v1::Envelope::descriptor()->index(), 2);
  EXPECT_EQ(Hex(ConfluentProtobufPrefix(7, *v1::Envelope::descriptor())), "00000000070204");
  EXPECT_EQ(Hex(ConfluentProtobufPrefix(0x01020304, *v1::Envelope::descriptor())), "00010203040204");
}

TEST(ConfluentWireFormatTest, FirstMessageIsTheSingleZeroByte) {
  EXPECT_EQ(Hex(ConfluentProtobufPrefix(1, *v1::Coordinates::descriptor())), "000000000100");
  EXPECT_EQ(Hex(ConfluentProtobufPrefix(300, *google::protobuf::Timestamp::descriptor())), "000000012c00");
}

TEST(ConfluentWireFormatTest, NestedMessagesWriteTheirWholePath) {
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"(name: "nested.proto" package: "t" syntax: "proto3"
         message_type { name: "A" }
         message_type { name: "B" nested_type { name: "C" } nested_type { name: "D" } })",
      &file));
  google::protobuf::DescriptorPool pool;
  const google::protobuf::FileDescriptor* fd = pool.BuildFile(file);
  ASSERT_NE(fd, nullptr);
  const google::protobuf::Descriptor* d = pool.FindMessageTypeByName("t.B.D");
  ASSERT_NE(d, nullptr);
  // Path [1, 1]: count 2 → 4, then 1 → 2 and 1 → 2.
  EXPECT_EQ(Hex(ConfluentProtobufPrefix(5, *d)), "0000000005040202");
  // Path [1, 0]: the single-zero shortcut is for [0] only.
  EXPECT_EQ(Hex(ConfluentProtobufPrefix(5, *pool.FindMessageTypeByName("t.B.C"))), "0000000005040200");
}

}  // namespace
}  // namespace tidewatch::sinks
