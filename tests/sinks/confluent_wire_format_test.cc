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

TEST(ConfluentWireFormatTest, ParseReadsBackWhatThePrefixWrote) {
  v1::Envelope e;
  e.set_producer_id("p");
  e.set_sequence(9);
  const std::string framed = ConfluentProtobufPrefix(123456, *v1::Envelope::descriptor()) + e.SerializeAsString();
  ASSERT_TRUE(IsConfluentFramed(framed));
  EXPECT_FALSE(IsConfluentFramed(e.SerializeAsString()));
  int32_t id = 0;
  std::vector<int> indexes;
  std::string_view message;
  ASSERT_TRUE(ParseConfluentProtobuf(framed, &id, &indexes, &message).ok());
  EXPECT_EQ(id, 123456);
  EXPECT_EQ(indexes, MessageIndexes(*v1::Envelope::descriptor()));
  EXPECT_EQ(indexes, std::vector<int>{2});
  v1::Envelope back;
  ASSERT_TRUE(back.ParseFromArray(message.data(), static_cast<int>(message.size())));
  EXPECT_EQ(back.sequence(), 9u);
  // The single 0 byte reads as [0].
  ASSERT_TRUE(ParseConfluentProtobuf(ConfluentProtobufPrefix(1, *v1::Coordinates::descriptor()), &id, &indexes,
                                     &message).ok());
  EXPECT_EQ(indexes, std::vector<int>{0});
  EXPECT_TRUE(message.empty());
}

TEST(ConfluentWireFormatTest, DamagedFramingIsAnErrorSayingWhere) {
  int32_t id = 0;
  std::vector<int> indexes;
  std::string_view message;
  EXPECT_NE(ParseConfluentProtobuf(std::string("\0\0\0", 3), &id, &indexes, &message).message().find("too short"),
            std::string::npos);
  EXPECT_NE(ParseConfluentProtobuf(std::string("\0\0\0\0\1\x80", 6), &id, &indexes, &message)
                .message()
                .find("count cut short"),
            std::string::npos);
  EXPECT_NE(ParseConfluentProtobuf(std::string("\0\0\0\0\1\x04\x02", 7), &id, &indexes, &message)
                .message()
                .find("index 1 cut short"),
            std::string::npos);
  EXPECT_NE(ParseConfluentProtobuf(std::string("\0\0\0\0\1\x03", 6), &id, &indexes, &message)
                .message()
                .find("count -2"),
            std::string::npos);
  EXPECT_FALSE(ParseConfluentProtobuf("\x08\x01", &id, &indexes, &message).ok());
}

}  // namespace
}  // namespace tidewatch::sinks
