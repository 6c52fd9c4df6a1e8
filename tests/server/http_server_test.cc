// The daemon's HTTP listener over loopback: /api/stream from an EventStream
// (filters, refusals, slow clients), every other path through the handler
// on worker threads.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "server/http_server.h"
#include "sinks/envelope_sequencer.h"
#include "sinks/event_stream.h"
#include "tests/support/sample_messages.h"

namespace tidewatch::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

struct Client {
  asio::io_context io;
  tcp::socket s{io};
  asio::streambuf buf;
  Client(uint16_t port, const std::string& target, const std::string& method = "GET",
         const std::string& headers = "", const std::string& body = "") {
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n" + body;
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
  // Everything up to the server's close.
  std::string ReadAll() {
    boost::system::error_code ec;
    asio::read(s, buf, ec);
    std::string out(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
    buf.consume(buf.size());
    return out;
  }
};

using tidewatch::testing::SampleMessage;

void WaitClients(const sinks::EventStream& stream, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (stream.clients() != n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(stream.clients(), n);
}

HttpServerOptions Serving(sinks::EventStream* stream) {
  HttpServerOptions o;
  o.stream = stream;
  return o;
}

std::unique_ptr<HttpServer> Start(HttpServerOptions o) {
  std::unique_ptr<HttpServer> server;
  Status s = HttpServer::Start(std::move(o), &server);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return server;
}

TEST(HttpServerTest, FilteredServerSentEvents) {
  sinks::EventStream stream;
  auto server = Start(Serving(&stream));
  Client c(server->port(), "/api/stream?cluster=alpha&type=analysis");
  const std::string head = c.ReadUntil("\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Cache-Control: no-cache\r\n"), std::string::npos) << head;
  WaitClients(stream, 1);
  sinks::EnvelopeSequencer seq("p");
  for (auto [cluster, analysis] : {std::pair{"beta", true}, {"alpha", false}, {"alpha", true}}) {
    v1::Envelope e = SampleMessage(cluster, analysis);
    seq.Stamp(&e);
    ASSERT_TRUE(stream.Publish(e).ok());
  }
  const std::string ev = c.ReadUntil("\n\n");
  EXPECT_EQ(ev.rfind("event: analysis\ndata: {", 0), 0u) << ev;
  EXPECT_NE(ev.find("\"cluster\":\"alpha\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"sequence\":\"3\""), std::string::npos) << ev;  // only the third passed the filter
  c.s.close();
  for (int i = 0; i < 100 && stream.clients() != 0; ++i) {
    ASSERT_TRUE(stream.Publish(SampleMessage("alpha", true)).ok());  // a write finds the client gone
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(stream.clients(), 0u);
}

// A quiet stream writes SSE comments, so a client can tell it from a hung
// daemon; a frame published after them arrives as usual.
TEST(HttpServerTest, AQuietStreamSaysItIsAlive) {
  sinks::EventStream stream;
  HttpServerOptions o = Serving(&stream);
  o.stream_keep_alive = std::chrono::milliseconds(100);
  auto server = Start(std::move(o));
  Client c(server->port(), "/api/stream");
  c.ReadUntil("\r\n\r\n");
  WaitClients(stream, 1);
  EXPECT_EQ(c.ReadUntil("\n\n"), ": keep-alive\n\n");
  EXPECT_EQ(c.ReadUntil("\n\n"), ": keep-alive\n\n");
  ASSERT_TRUE(stream.Publish(SampleMessage("alpha", true)).ok());
  std::string frame;
  for (int i = 0; i < 10 && frame.rfind("event: ", 0) != 0; ++i) frame = c.ReadUntil("\n\n");
  EXPECT_EQ(frame.rfind("event: analysis\ndata: {", 0), 0u) << frame;
}

TEST(HttpServerTest, BadFilterIs400WithTheReason) {
  sinks::EventStream stream;
  auto server = Start(Serving(&stream));
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
    Client c(server->port(), "/api/stream", "POST");
    EXPECT_EQ(c.ReadUntil("\r\n").rfind("HTTP/1.1 405", 0), 0u);
  }
  {
    Client c(server->port(), "/elsewhere");
    const std::string r = c.ReadAll();
    EXPECT_EQ(r.rfind("HTTP/1.1 404", 0), 0u) << r;
    EXPECT_NE(r.find("no such path: /elsewhere"), std::string::npos) << r;
  }
  EXPECT_EQ(stream.clients(), 0u);
}

// A client that does not read is dropped and disconnected; publishing never
// waits for it.
TEST(HttpServerTest, SlowClientIsDroppedNotWaitedFor) {
  sinks::EventStream stream(sinks::EventStreamOptions{.max_queued_per_client = 100});
  auto server = Start(Serving(&stream));
  Client slow(server->port(), "/api/stream");
  WaitClients(stream, 1);
  v1::Envelope e = SampleMessage("alpha", true);
  e.mutable_analysis()->set_description(std::string(64 << 10, 'x'));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000 && stream.slow_clients_dropped() == 0; ++i) ASSERT_TRUE(stream.Publish(e).ok());
  EXPECT_EQ(stream.slow_clients_dropped(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  WaitClients(stream, 0);
  // What was written before the drop, then the end of the connection.
  EXPECT_EQ(slow.ReadAll().rfind("HTTP/1.1 200 OK", 0), 0u);
}

TEST(HttpServerTest, HandlerAnswersEveryOtherPath) {
  sinks::EventStream stream;
  HttpServerOptions o;
  o.stream = &stream;
  o.handler = [](const HttpRequest& rq, HttpResponse* rs) {
    if (rq.path == "/throw") throw std::runtime_error("boom");
    rs->status = 201;
    rs->content_type = "text/x-test";
    rs->headers = {{"X-Seen", rq.method + " " + rq.path + " ? " + rq.query}};
    rs->body = rq.headers.count("x-mixed-case") ? rq.headers.at("x-mixed-case") + " " + rq.remote + " " + rq.body
                                                 : "no header";
  };
  auto server = Start(o);
  {
    Client c(server->port(), "/api/a%2Fb?x=1&y", "POST", "X-Mixed-Case: v\r\nContent-Length: 4\r\n", "body");
    const std::string r = c.ReadAll();
    EXPECT_EQ(r.rfind("HTTP/1.1 201", 0), 0u) << r;
    EXPECT_NE(r.find("Content-Type: text/x-test\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("X-Seen: POST /api/a%2Fb ? x=1&y\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("\r\n\r\nv 127.0.0.1 body"), std::string::npos) << r;
  }
  {
    Client c(server->port(), "/throw");
    const std::string r = c.ReadAll();
    EXPECT_EQ(r.rfind("HTTP/1.1 500", 0), 0u) << r;
    EXPECT_NE(r.find("internal error: boom"), std::string::npos) << r;
  }
}

TEST(HttpServerTest, RequestsAreBounded) {
  HttpServerOptions o;
  o.max_request_bytes = 1000;
  o.handler = [](const HttpRequest&, HttpResponse* rs) { rs->body = "ok"; };
  auto server = Start(o);
  // Refused on the header alone: the body is never read.
  Client c(server->port(), "/x", "POST", "Content-Length: 5000\r\n");
  const std::string r = c.ReadAll();
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r;
  EXPECT_NE(r.find("request too large"), std::string::npos) << r;
}

// The hook decides who may read the stream; a refusal is answered as given.
TEST(HttpServerTest, StreamIsBehindTheHook) {
  sinks::EventStream stream;
  HttpServerOptions o;
  o.stream = &stream;
  o.authorize = [](const HttpRequest& rq, HttpResponse* rs) {
    if (rq.headers.count("authorization")) return true;
    rs->status = 401;
    rs->content_type = "text/plain; charset=utf-8";
    rs->headers = {{"WWW-Authenticate", "Basic realm=\"Authorization Required\""}};
    rs->body = "Not Authorized\n";
    return false;
  };
  auto server = Start(o);
  {
    Client c(server->port(), "/api/stream?type=nonsense");
    const std::string r = c.ReadAll();
    EXPECT_EQ(r.rfind("HTTP/1.1 401", 0), 0u) << r;
    EXPECT_NE(r.find("WWW-Authenticate: Basic realm=\"Authorization Required\"\r\n"), std::string::npos) << r;
  }
  {
    Client c(server->port(), "/api/stream?type=nonsense", "GET", "Authorization: yes\r\n");
    EXPECT_EQ(c.ReadUntil("\r\n").rfind("HTTP/1.1 400", 0), 0u);
  }
  {
    Client c(server->port(), "/api/stream", "GET", "Authorization: yes\r\n");
    EXPECT_EQ(c.ReadUntil("\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
    WaitClients(stream, 1);
  }
}

// Handlers run on worker threads: while every one of them is busy, the
// stream's clients still get their frames.
TEST(HttpServerTest, SlowHandlerNeverStallsTheStream) {
  sinks::EventStream stream;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int entered = 0;
  HttpServerOptions o;
  o.stream = &stream;
  o.handler_threads = 2;
  o.handler = [&](const HttpRequest&, HttpResponse* rs) {
    std::unique_lock<std::mutex> lock(mu);
    ++entered;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return release; });  // bounded: a failure ends
    rs->body = "late";
  };
  auto server = Start(o);
  Client busy1(server->port(), "/slow");
  Client busy2(server->port(), "/slow");
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return entered == 2; }));
  }
  Client reader(server->port(), "/api/stream");
  EXPECT_EQ(reader.ReadUntil("\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  WaitClients(stream, 1);
  ASSERT_TRUE(stream.Publish(SampleMessage("alpha", true)).ok());
  EXPECT_EQ(reader.ReadUntil("\n\n").rfind("event: analysis\n", 0), 0u);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_NE(busy1.ReadAll().find("late"), std::string::npos);
  EXPECT_NE(busy2.ReadAll().find("late"), std::string::npos);
}

TEST(HttpServerTest, WithoutAStreamItIsAPathLikeAnyOther) {
  auto server = Start({});
  Client c(server->port(), "/api/stream");
  EXPECT_EQ(c.ReadUntil("\r\n").rfind("HTTP/1.1 404", 0), 0u);
}

TEST(HttpServerTest, CannotListenIsAnError) {
  std::unique_ptr<HttpServer> server;
  HttpServerOptions o;
  o.address = "not an address";
  EXPECT_FALSE(HttpServer::Start(o, &server).ok());
  auto first = Start({});
  o.address = "127.0.0.1";
  o.port = first->port();
  Status s = HttpServer::Start(o, &server);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot listen on 127.0.0.1:" + std::to_string(first->port())), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace tidewatch::server
