// A live stream meets events whose bodies cannot be decoded — one that
// contradicts its own lengths, one of a type from a later server — between
// sound ones: the stream stays up, the index counts them like any other
// event, the positions after them are exact, and the stream's state counts
// them.
#include <chrono>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "pgtid/index_follower.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "simulator/fake_binlog_server.h"
#include "tests/binlog/event_builder.h"

namespace tidewatch::testing {
namespace {

using namespace std::chrono_literals;

std::vector<uint8_t> Query(std::string_view text) {
  return Bytes().u32(1).u32(0).u8(1).u16(0).u16(0).str("d").u8(0).str(text).vec();
}

std::vector<uint8_t> Gtid(uint64_t seq) { return Bytes().u64(seq).u32(0).u8(1).zeros(6).vec(); }

TEST(UndecodedStream, TheStreamStaysUpAndTheIndexKeepsCounting) {
  FileBuilder f;
  f.Add(binlog::kMariaGtidEvent, Gtid(1));
  const uint64_t first = f.Add(binlog::kQueryEvent, Query("drop view if exists `meta`.`_pseudo_gtid_hint__asc:0001`"));
  f.Add(binlog::kMariaGtidEvent, Gtid(2));
  f.Add(binlog::kQueryEvent, Query("INSERT INTO t VALUES (1)"));
  // A QUERY whose db length runs past its body (the checksum is sound).
  const uint64_t bad = f.Add(binlog::kQueryEvent, Bytes().u32(1).u32(0).u8(200).u16(0).u16(0).str("d").u8(0).vec());
  // A type no server defines today.
  f.Add(230, Bytes().str("from a later server").vec());
  f.Add(binlog::kMariaGtidEvent, Gtid(3));
  const uint64_t second = f.Add(binlog::kQueryEvent, Query("drop view if exists `meta`.`_pseudo_gtid_hint__asc:0002`"));
  f.Add(binlog::kXidEvent, Bytes().u64(9).vec());
  const std::string file = "fake-bin.000001";
  simulator::FakeBinlogServer server(simulator::FakeBinlogServer::Behavior::kReplay, f.data(), file);

  std::unique_ptr<pgtid::PseudoGtidPattern> pattern;
  ASSERT_TRUE(pgtid::PseudoGtidPattern::Create({}, &pattern).ok());
  pgtid::IndexFollowerOptions o;
  o.host = "127.0.0.1";
  o.port = server.port();
  o.stream.user = "repl";
  o.stream.server_id = 77;
  o.stream.read_timeout = 20s;  // the fake server sends no heartbeats
  o.pattern = pattern.get();
  boost::asio::io_context io;  // outlives the follower, whose stream it runs
  pgtid::IndexFollower follower(o);

  std::vector<binlog::StreamStatus> statuses;
  std::vector<uint64_t> positions;
  std::vector<std::string> dropped;
  pgtid::IndexFollower::Callbacks cb;
  cb.on_status = [&](const binlog::StreamStatus& st) { statuses.push_back(st); };
  cb.on_event = [&](const binlog::StreamEvent& e) { positions.push_back(e.raw.pos); };
  cb.on_index_dropped = [&](const std::string& why) { dropped.push_back(why); };
  follower.Follow(io, {file}, {}, std::move(cb));

  const pgtid::BinlogCoordinates end{file, f.data().size()};
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    io.run_for(20ms);
    if (follower.index() != nullptr && follower.index()->position() == end) break;
  }
  ASSERT_NE(follower.index(), nullptr) << (dropped.empty() ? "" : dropped.front());
  const pgtid::ServerIndex& index = *follower.index();
  EXPECT_EQ(index.position(), end);
  EXPECT_TRUE(dropped.empty()) << dropped.front();

  // Every event reached the consumer at its own position, the bad ones too.
  std::vector<uint64_t> expect;
  for (uint64_t at = 4; at < f.data().size();) {
    expect.push_back(at);
    at += binlog::ParseEventHeader(f.data().data() + at).event_size;
  }
  EXPECT_EQ(positions, expect);

  // Both entries, the one after the undecodable events at its exact place,
  // and every replicated event counted: 4 GTIDs and queries before, the bad
  // query, the unknown event, the GTID, the entry, the XID.
  ASSERT_EQ(index.entry_count(), 2u);
  EXPECT_EQ(index.entry(0).pos, first);
  EXPECT_EQ(index.entry(1).pos, second);
  EXPECT_GT(second, bad);
  EXPECT_EQ(index.entry(1).gtid, "0-1-3");
  EXPECT_EQ(index.events_indexed(), 9u);
  EXPECT_EQ(index.entry(1).ordinal - index.entry(0).ordinal, 6u);

  // The stream never went down (its events are from 2023: it lags), and its
  // state counts the two events.
  auto up = [](binlog::StreamState s) {
    return s == binlog::StreamState::kStreaming || s == binlog::StreamState::kLagging;
  };
  for (const auto& st : statuses) {
    EXPECT_TRUE(st.state == binlog::StreamState::kConnecting || up(st.state))
        << binlog::StreamStateName(st.state) << ": " << st.reason;
  }
  ASSERT_NE(follower.stream(), nullptr);
  EXPECT_TRUE(up(follower.stream()->status().state));
  EXPECT_EQ(follower.stream()->status().undecoded_events, 2u);
  EXPECT_EQ(follower.stream()->pos(), f.data().size());

  follower.StopFollowing();
  io.run_for(300ms);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state, binlog::StreamState::kEnded);
  EXPECT_EQ(statuses.back().undecoded_events, 2u);
}

}  // namespace
}  // namespace tidewatch::testing
