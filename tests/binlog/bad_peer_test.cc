// The replica stream against servers that misbehave: garbage, a connection
// closed mid-packet, a lying length, silence, a corrupt event. Each gives that
// stream a clear error; a good stream on the same io_context is unaffected
// and delivers exactly the served binlog.
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "tests/binlog/dump_helper.h"
#include "tests/integration/stream_collector.h"
#include "simulator/fake_binlog_server.h"

namespace tidewatch::testing {
namespace {

using namespace std::chrono_literals;
using Behavior = simulator::FakeBinlogServer::Behavior;

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

binlog::ReplicaStreamOptions Options(uint16_t port) {
  binlog::ReplicaStreamOptions o;
  o.port = port;
  o.user = "u";
  o.password = "p";
  o.server_id = 4242;
  o.non_blocking = true;
  o.read_timeout = 500ms;
  o.connect_timeout = 500ms;
  o.backoff_min = 10ms;
  o.max_reconnects = 1;
  return o;
}

TEST(BadPeer, EachMisbehaviourFailsItsOwnStreamWithAClearReason) {
  const std::string fixture = std::string(TIDEWATCH_FIXTURES) + "/mysql-bin.checksum-crc32";
  const auto binlog = ReadFile(fixture);
  simulator::FakeBinlogServer good(Behavior::kReplay, binlog, "mysql-bin.000001");
  struct Case {
    Behavior behavior;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {Behavior::kGarbage, "handshake: packet sequence"},
      {Behavior::kCloseMidPacket, "handshake: the server closed the connection"},
      {Behavior::kLyingLength, "handshake: no data from the server for 500 ms (timeout)"},
      {Behavior::kSilent, "handshake: no data from the server for 500 ms (timeout)"},
      {Behavior::kCorruptEvent, "checksum mismatch"},
  };
  std::vector<std::unique_ptr<simulator::FakeBinlogServer>> bad;
  StreamCollector c;
  std::vector<size_t> ids;
  for (const auto& k : cases) {
    bad.push_back(std::make_unique<simulator::FakeBinlogServer>(k.behavior, binlog, "mysql-bin.000001"));
    ids.push_back(c.Add(Options(bad.back()->port())));
  }
  const size_t good_id = c.Add(Options(good.port()));

  for (size_t k = 0; k < cases.size(); ++k) {
    ASSERT_TRUE(c.WaitFinished(ids[k], 10s))
        << "case " << k << ": " << (c.Statuses(ids[k]).empty() ? "no status" : c.Statuses(ids[k]).back().status.reason);
    auto st = c.Statuses(ids[k]);
    EXPECT_EQ(st.back().status.state, binlog::StreamState::kFailed) << k;
    EXPECT_NE(st.back().status.reason.find(cases[k].reason), std::string::npos)
        << "case " << k << ": " << st.back().status.reason;
    EXPECT_EQ(bad[k]->connections(), 2) << "one try and one reconnect";
  }
  ASSERT_TRUE(c.WaitFinished(good_id, 10s));
  EXPECT_EQ(c.Statuses(good_id).back().status.state, binlog::StreamState::kEnded);

  // The good stream delivered the file, event for event.
  auto dump = Dump({fixture});
  ASSERT_EQ(dump.rc, 0);
  auto events = c.Events(good_id);
  std::vector<std::string> got;
  for (const auto& e : events) {
    std::istringstream lines(e.json);
    for (std::string l; std::getline(lines, l);) got.push_back(l);
  }
  ASSERT_EQ(got.size(), dump.events.size());
  for (size_t k = 0; k < got.size(); ++k) {
    auto want = dump.events[k];
    want["file"] = "mysql-bin.000001";
    ASSERT_EQ(nlohmann::json::parse(got[k]), want) << k;
  }
}

TEST(BadPeer, CorruptEventErrorNamesThePosition) {
  const auto binlog = ReadFile(std::string(TIDEWATCH_FIXTURES) + "/mysql-bin.checksum-crc32");
  simulator::FakeBinlogServer server(Behavior::kCorruptEvent, binlog, "mysql-bin.000001");
  StreamCollector c;
  size_t id = c.Add(Options(server.port()));
  ASSERT_TRUE(c.WaitFinished(id, 10s));
  auto reason = c.Statuses(id).back().status.reason;
  // The file's third event is damaged: the first two are delivered once, the
  // reconnect resumes right after them, meets the same damage, and gives up.
  auto events = c.Events(id);
  ASSERT_EQ(events.size(), 2u) << reason;
  EXPECT_EQ(events[1].pos, events[0].log_pos);
  EXPECT_EQ(c.Statuses(id).back().status.state, binlog::StreamState::kFailed);
  EXPECT_NE(reason.find("checksum mismatch"), std::string::npos) << reason;
  EXPECT_NE(reason.find("binlog stream at mysql-bin.000001:" + std::to_string(events.back().log_pos)),
            std::string::npos)
      << reason;
  EXPECT_EQ(server.connections(), 2);
}

}  // namespace
}  // namespace tidewatch::testing
