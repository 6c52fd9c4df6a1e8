#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <thread>

#include "sinks/envelope_sequencer.h"
#include "sinks/event_stream_server.h"

namespace tidewatch::sinks {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

struct Client {
  asio::io_context io;
  tcp::socket s{io};
  asio::streambuf buf;
  Client(uint16_t port, const std::string& target) {
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    asio::write(s, asio::buffer(req));
  }
  std::string ReadUntil(const std::string& delim) {
    boost::system::error_code ec;
    size_t n = asio::read_until(s, buf, delim, ec);
    if (ec) return "<" + ec.message() + ">";
    std::string out(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
    buf.consume(n);
    return out;
  }
};

v1::Envelope Message(const std::string& cluster, bool analysis) {
  v1::Envelope e;
  e.mutable_source()->set_cluster(cluster);
  if (analysis) {
    e.mutable_analysis()->set_code("DeadMaster");
  } else {
    e.mutable_instance()->set_kind(v1::InstanceChange::DISCOVERED);
  }
  return e;
}

void WaitClients(const EventStreamServer& server, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.clients() != n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(server.clients(), n);
}

TEST(EventStreamTest, FilteredServerSentEvents) {
  std::unique_ptr<EventStreamServer> server;
  ASSERT_TRUE(EventStreamServer::Start({}, &server).ok());
  Client c(server->port(), "/api/stream?cluster=alpha&type=analysis");
  EXPECT_NE(c.ReadUntil("\r\n\r\n").find("text/event-stream"), std::string::npos);
  WaitClients(*server, 1);
  EnvelopeSequencer seq("p");
  for (auto [cluster, analysis] : {std::pair{"beta", true}, {"alpha", false}, {"alpha", true}}) {
    v1::Envelope e = Message(cluster, analysis);
    seq.Stamp(&e);
    ASSERT_TRUE(server->Publish(e).ok());
  }
  const std::string ev = c.ReadUntil("\n\n");
  EXPECT_EQ(ev.rfind("event: analysis\ndata: {", 0), 0u) << ev;
  EXPECT_NE(ev.find("\"cluster\":\"alpha\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"sequence\":\"3\""), std::string::npos) << ev;  // only the third passed the filter
}

TEST(EventStreamTest, BadFilterIs400WithTheReason) {
  std::unique_ptr<EventStreamServer> server;
  ASSERT_TRUE(EventStreamServer::Start({}, &server).ok());
  {
    Client c(server->port(), "/api/stream?type=analysis,bogus");
    const std::string r = c.ReadUntil("(known");
    EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
    EXPECT_NE(r.find("unknown message type \"bogus\""), std::string::npos) << r;
  }
  {
    Client c(server->port(), "/api/stream?color=red");
    const std::string r = c.ReadUntil("(known");
    EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
  }
  {
    Client c(server->port(), "/elsewhere");
    EXPECT_EQ(c.ReadUntil("\r\n").rfind("HTTP/1.1 404", 0), 0u);
  }
}

// A client that does not read is dropped; publishing never waits for it.
TEST(EventStreamTest, SlowClientIsDroppedNotWaitedFor) {
  EventStreamOptions o;
  o.max_queued_per_client = 100;
  std::unique_ptr<EventStreamServer> server;
  ASSERT_TRUE(EventStreamServer::Start(o, &server).ok());
  Client slow(server->port(), "/api/stream");
  WaitClients(*server, 1);
  v1::Envelope e = Message("alpha", true);
  e.mutable_analysis()->set_description(std::string(64 << 10, 'x'));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000 && server->slow_clients_dropped() == 0; ++i) ASSERT_TRUE(server->Publish(e).ok());
  EXPECT_EQ(server->slow_clients_dropped(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  WaitClients(*server, 0);
}

}  // namespace
}  // namespace tidewatch::sinks
