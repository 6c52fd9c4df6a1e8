#include "base/host_port.h"

#include <gtest/gtest.h>

namespace tidewatch {
namespace {

TEST(HostPort, HostAndPort) {
  auto hp = ParseHostPort("db1.example:3307");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "db1.example");
  EXPECT_EQ(hp->port, 3307);
  EXPECT_EQ(hp->ToString(), "db1.example:3307");
}

TEST(HostPort, BareHostTakesTheDefaultPort) {
  auto hp = ParseHostPort("127.0.0.1");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, kDefaultMySqlPort);
  EXPECT_EQ(ParseHostPort("db", 3000)->port, 3000);
}

TEST(HostPort, BracketedIpv6) {
  auto hp = ParseHostPort("[::1]:3306");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 3306);
  EXPECT_EQ(hp->ToString(), "[::1]:3306");
  auto bare = ParseHostPort("[fe80::1]");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->host, "fe80::1");
  EXPECT_EQ(bare->port, kDefaultMySqlPort);
  // Colons without brackets: an address alone, its last group is no port.
  auto unbracketed = ParseHostPort("::1");
  ASSERT_TRUE(unbracketed);
  EXPECT_EQ(unbracketed->host, "::1");
  EXPECT_EQ(unbracketed->port, kDefaultMySqlPort);
}

TEST(HostPort, RefusesWhatIsNoAddress) {
  for (const char* bad : {"", ":3306", "host:", "host:0", "host:65536", "host:33o6", "host:-1", "[::1", "[]:3306",
                          "[::1]3306", "[::1]:x"}) {
    EXPECT_FALSE(ParseHostPort(bad)) << bad;
  }
}

TEST(HostPort, ListenAddressMayOmitTheHost) {
  auto all = ParseListenAddress(":3000", 3000);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->host, "");
  EXPECT_EQ(all->port, 3000);
  auto empty = ParseListenAddress("", 3000);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->port, 3000);
  EXPECT_EQ(ParseListenAddress("127.0.0.1:8080", 3000)->port, 8080);
  EXPECT_FALSE(ParseListenAddress(":0", 3000));
  EXPECT_FALSE(ParseListenAddress("host:port", 3000));
}

TEST(HostPort, SplitKeepsOutputsOnFailure) {
  std::string host = "kept";
  uint16_t port = 7;
  EXPECT_FALSE(SplitHostPort("x:y", &host, &port));
  EXPECT_EQ(host, "kept");
  EXPECT_EQ(port, 7);
  EXPECT_TRUE(SplitHostPort("a:1", &host, &port));
  EXPECT_EQ(host, "a");
  EXPECT_EQ(port, 1);
}

}  // namespace
}  // namespace tidewatch
