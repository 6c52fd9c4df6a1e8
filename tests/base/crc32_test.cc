#include "base/crc32.h"

#include <gtest/gtest.h>

#include <string>

#include "base/percent_decode.h"

namespace tidewatch {
namespace {

const uint8_t* Bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(Crc32, KnownValues) {
  // The CRC-32 check value (zlib/gzip parameters) of "123456789".
  EXPECT_EQ(Crc32(Bytes("123456789"), 9), 0xCBF43926u);
  EXPECT_EQ(Crc32(nullptr, 0), 0u);
}

TEST(Crc32, ExtendEqualsOneComputation) {
  const std::string a = "replication ", b = "stream";
  EXPECT_EQ(Crc32Extend(Crc32(Bytes(a), a.size()), Bytes(b), b.size()), Crc32(Bytes(a + b), a.size() + b.size()));
}

TEST(PercentDecode, Rfc3986) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz"), "%zz");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
}

}  // namespace
}  // namespace tidewatch
