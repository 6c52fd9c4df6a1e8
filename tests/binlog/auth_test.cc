// Authentication of the replica stream, checked by a server that verifies
// what the client sends: mysql_native_password, caching_sha2_password's fast
// path, and its full authentication with the server's RSA key (no TLS).
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "tests/integration/stream_collector.h"
#include "simulator/fake_binlog_server.h"

namespace tidewatch::testing {
namespace {

using namespace std::chrono_literals;
using Server = simulator::FakeBinlogServer;

struct Outcome {
  binlog::StreamState state;
  std::string reason;
  size_t events;
};

Outcome Login(const Server::Options& auth, const std::string& password) {
  std::ifstream in(std::string(TIDEWATCH_FIXTURES) + "/mysql-bin.checksum-crc32", std::ios::binary);
  std::vector<uint8_t> binlog(std::istreambuf_iterator<char>(in), {});
  Server server(Server::Behavior::kReplay, binlog, "mysql-bin.000001", auth);
  StreamCollector c;
  binlog::ReplicaStreamOptions o;
  o.port = server.port();
  o.user = "repl";
  o.password = password;
  o.server_id = 77;
  o.non_blocking = true;
  o.max_reconnects = 0;
  o.read_timeout = 5s;
  size_t id = c.Add(o);
  c.WaitFinished(id, 20s);
  auto st = c.Statuses(id);
  return {st.back().status.state, st.back().status.reason, c.Events(id).size()};
}

TEST(Auth, NativePassword) {
  Server::Options a{"5.5.5-10.11.0-fake-MariaDB", "mysql_native_password", "s3cret", true, false};
  auto good = Login(a, "s3cret");
  EXPECT_EQ(good.state, binlog::StreamState::kEnded) << good.reason;
  EXPECT_GT(good.events, 300u);
  auto bad = Login(a, "wrong");
  EXPECT_EQ(bad.state, binlog::StreamState::kFailed);
  EXPECT_NE(bad.reason.find("authentication as repl failed: ERROR 1045 (28000): Access denied"), std::string::npos)
      << bad.reason;
  EXPECT_EQ(bad.reason.find("wrong"), std::string::npos) << "the password never appears in errors";
}

TEST(Auth, CachingSha2FastPath) {
  Server::Options a{"5.5.5-10.11.0-fake-MariaDB", "caching_sha2_password", "s3cret", true, false};
  auto good = Login(a, "s3cret");
  EXPECT_EQ(good.state, binlog::StreamState::kEnded) << good.reason;
  auto bad = Login(a, "wrong");
  EXPECT_EQ(bad.state, binlog::StreamState::kFailed);
  EXPECT_NE(bad.reason.find("Access denied"), std::string::npos) << bad.reason;
}

TEST(Auth, CachingSha2FullAuthenticationWithTheServersRsaKey) {
  Server::Options a{"5.5.5-10.11.0-fake-MariaDB", "caching_sha2_password", "s3cret", true, true};
  auto good = Login(a, "s3cret");
  EXPECT_EQ(good.state, binlog::StreamState::kEnded) << good.reason;
  EXPECT_GT(good.events, 300u);
  auto bad = Login(a, "wrong");
  EXPECT_EQ(bad.state, binlog::StreamState::kFailed);
  EXPECT_NE(bad.reason.find("Access denied"), std::string::npos) << bad.reason;
}

}  // namespace
}  // namespace tidewatch::testing
