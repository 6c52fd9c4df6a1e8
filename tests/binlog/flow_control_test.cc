// A slow consumer holds the stream back: the stream reads the next packet
// only when the consumer returns, so its memory stays at its receive buffer
// while the server's 16 MB wait in the kernel and on the server.
#include <thread>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "binlog/replica_stream.h"
#include "tests/binlog/event_builder.h"
#include "simulator/fake_binlog_server.h"

namespace tidewatch::testing {
namespace {

using namespace std::chrono_literals;

TEST(FlowControl, ASlowConsumerKeepsTheStreamsMemoryBounded) {
  FileBuilder f;
  const std::string text = "INSERT INTO t VALUES ('" + std::string(200, 'x') + "')";
  while (f.data().size() < 16u * 1000 * 1000) {
    Bytes q;
    q.u32(1).u32(0).u8(1).u16(0).u16(0).str("d").u8(0).str(text);
    f.Add(binlog::kQueryEvent, q.vec());
  }
  const size_t expected_events = f.event_count();
  simulator::FakeBinlogServer server(simulator::FakeBinlogServer::Behavior::kReplay, f.data(), "slow-bin.000001");
  boost::asio::io_context io;
  binlog::ReplicaStreamOptions o;
  o.port = server.port();
  o.user = "u";
  o.server_id = 55;
  o.non_blocking = true;
  o.max_reconnects = 0;
  o.read_timeout = 10s;
  size_t events = 0, max_buffer = 0;
  binlog::StreamState last = binlog::StreamState::kConnecting;
  std::unique_ptr<binlog::ReplicaStream> stream;
  stream = std::make_unique<binlog::ReplicaStream>(
      io, o,
      [&](const binlog::StreamEvent& e) {
        if (e.artificial) return;
        ++events;
        max_buffer = std::max(max_buffer, stream->receive_buffer_bytes());
        if (events <= 300) std::this_thread::sleep_for(2ms);  // slow at first: 0.6 s
      },
      [&](const binlog::StreamStatus& st) { last = st.state; });
  stream->Start();
  io.run();
  EXPECT_EQ(last, binlog::StreamState::kEnded);
  EXPECT_EQ(events, expected_events);
  EXPECT_LE(max_buffer, 256u * 1024) << "the stream buffered instead of pushing back";
}

}  // namespace
}  // namespace tidewatch::testing
