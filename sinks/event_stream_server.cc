#include "sinks/event_stream_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <deque>
#include <list>
#include <mutex>
#include <set>

#include "sinks/envelope_sequencer.h"
#include "sinks/json_lines_sink.h"
#include "sinks/percent_decode.h"

namespace tidewatch::sinks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;

namespace {

const std::set<std::string>& KnownTypes() {
  static const std::set<std::string> k = {"instance", "edge",     "stream", "pseudo_gtid",
                                          "analysis", "recovery", "audit"};
  return k;
}

struct Filter {
  std::set<std::string> clusters, types;
  bool Accepts(const v1::Envelope& e) const {
    if (!clusters.empty() && clusters.count(e.source().cluster()) == 0) return false;
    return types.empty() || types.count(BodyName(e)) != 0;
  }
};

// Parses the query string of /api/stream; returns the reason it is bad.
std::string ParseFilter(std::string_view query, Filter* f) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    std::string key = PercentDecode(kv.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1), true);
    if (key == "cluster") {
      if (value.empty()) return "empty cluster filter";
      f->clusters.insert(value);
    } else if (key == "type") {
      size_t start = 0;
      while (start <= value.size()) {
        auto comma = value.find(',', start);
        std::string t = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (KnownTypes().count(t) == 0) {
          return "unknown message type \"" + t +
                 "\" (known: instance, edge, stream, pseudo_gtid, analysis, recovery, audit)";
        }
        f->types.insert(t);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      return "unknown filter \"" + key + "\" (known: cluster, type)";
    }
  }
  return {};
}

}  // namespace

struct EventStreamServer::Impl : std::enable_shared_from_this<EventStreamServer::Impl> {
  struct Client {
    tcp::socket socket;
    Filter filter;
    std::deque<std::string> queue;
    asio::steady_timer wake;
    bool closed = false;
    Client(tcp::socket s, Filter f) : socket(std::move(s)), filter(std::move(f)), wake(socket.get_executor()) {
      wake.expires_at(asio::steady_timer::time_point::max());
    }
  };

  EventStreamOptions options;
  asio::io_context io;
  asio::thread_pool handlers;
  explicit Impl(size_t handler_threads) : handlers(handler_threads) {}
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::mutex mu;  // clients
  std::list<std::shared_ptr<Client>> clients;
  std::atomic<uint64_t> dropped{0};
  uint16_t port = 0;

  awaitable<void> Accept() {
    while (true) {
      boost::system::error_code ec;
      tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(io, Serve(std::move(s)), asio::detached);
    }
  }

  awaitable<void> Respond(tcp::socket& s, http::status status, const std::string& body) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::connection, "close");
    res.body() = body + "\n";
    res.prepare_payload();
    boost::system::error_code ec;
    co_await http::async_write(s, res, asio::redirect_error(asio::use_awaitable, ec));
    s.close(ec);
  }

  static HttpRequest RequestOf(const http::request<http::string_body>& req, const tcp::socket& s) {
    HttpRequest r;
    r.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    auto q = target.find('?');
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(f.value());
    }
    r.body = req.body();
    boost::system::error_code ec;
    auto peer = s.remote_endpoint(ec);
    if (!ec) r.remote = peer.address().to_string();
    return r;
  }

  awaitable<void> Write(tcp::socket& s, const HttpResponse& r) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
    res.set(http::field::content_type, r.content_type);
    res.set(http::field::connection, "close");
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.body() = r.body;
    res.prepare_payload();
    boost::system::error_code ec;
    co_await http::async_write(s, res, asio::redirect_error(asio::use_awaitable, ec));
    s.shutdown(tcp::socket::shutdown_send, ec);
    s.close(ec);
  }

  // Runs the handler on a worker thread and comes back to the io thread.
  awaitable<void> Handle(tcp::socket& s, HttpRequest request) {
    HttpResponse response;
    co_await asio::post(handlers, asio::use_awaitable);
    try {
      options.handler(request, &response);
    } catch (const std::exception& e) {
      response = HttpResponse();
      response.status = 500;
      response.content_type = "text/plain; charset=utf-8";
      response.body = std::string("internal error: ") + e.what() + "\n";
    }
    co_await asio::post(io, asio::use_awaitable);
    co_await Write(s, response);
  }

  awaitable<void> Serve(tcp::socket s) {
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.max_request_bytes);
    boost::system::error_code ec;
    co_await http::async_read(s, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == http::error::body_limit) co_await Respond(s, http::status::payload_too_large, "request too large");
      co_return;
    }
    const auto& req = parser.get();
    std::string_view target(req.target().data(), req.target().size());
    auto q = target.find('?');
    std::string_view path = target.substr(0, q);
    std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    if (path != "/api/stream") {
      if (options.handler) {
        co_await Handle(s, RequestOf(req, s));
        co_return;
      }
      const std::string why = "no such path: " + std::string(path);
      co_await Respond(s, http::status::not_found, why);
      co_return;
    }
    if (options.authorize) {
      HttpResponse refusal;
      if (!options.authorize(RequestOf(req, s), &refusal)) {
        co_await Write(s, refusal);
        co_return;
      }
    }
    if (req.method() != http::verb::get) {
      const std::string why = "only GET";
      co_await Respond(s, http::status::method_not_allowed, why);
      co_return;
    }
    Filter filter;
    if (std::string why = ParseFilter(query, &filter); !why.empty()) {
      co_await Respond(s, http::status::bad_request, why);
      co_return;
    }
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: keep-alive\r\n\r\n";
    co_await asio::async_write(s, asio::buffer(head), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    auto client = std::make_shared<Client>(std::move(s), std::move(filter));
    {
      std::lock_guard<std::mutex> lock(mu);
      clients.push_back(client);
    }
    std::string out;
    while (!client->closed) {
      {
        std::lock_guard<std::mutex> lock(mu);
        out.clear();
        while (!client->queue.empty()) {
          out += client->queue.front();
          client->queue.pop_front();
        }
      }
      if (!out.empty()) {
        co_await asio::async_write(client->socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        continue;
      }
      co_await client->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    std::lock_guard<std::mutex> lock(mu);
    clients.remove(client);
    client->socket.close(ec);
  }
};

Status EventStreamServer::Start(EventStreamOptions options, std::unique_ptr<EventStreamServer>* out) {
  auto impl = std::make_shared<Impl>(std::max<size_t>(1, options.handler_threads));
  impl->options = options;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(options.address, ec);
  if (ec) return Status::InvalidArgument("event stream: bad address " + options.address);
  tcp::endpoint ep(addr, options.port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("event stream: cannot listen on " + options.address + ":" + std::to_string(options.port) +
                           ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  asio::co_spawn(impl->io, impl->Accept(), asio::detached);
  impl->thread = std::thread([impl] { impl->io.run(); });
  out->reset(new EventStreamServer(impl));
  return Status::OK();
}

EventStreamServer::~EventStreamServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->handlers.join();
}

Status EventStreamServer::Publish(const v1::Envelope& message) {
  std::string json;
  Status s = ToJsonLine(message, &json);
  if (!s.ok()) return s;
  const std::string event = std::string("event: ") + BodyName(message) + "\ndata: " + json + "\n\n";
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& c : impl_->clients) {
    if (c->closed || !c->filter.Accepts(message)) continue;
    if (c->queue.size() >= impl_->options.max_queued_per_client) {
      // Too slow: dropped rather than allowed to hold the engine back.
      c->closed = true;
      c->queue.clear();
      ++impl_->dropped;
      asio::post(impl_->io, [c] {
        boost::system::error_code ec;
        c->socket.close(ec);
        c->wake.cancel();
      });
      continue;
    }
    c->queue.push_back(event);
    asio::post(impl_->io, [c] { c->wake.cancel(); });
  }
  return Status::OK();
}

uint16_t EventStreamServer::port() const { return impl_->port; }
size_t EventStreamServer::clients() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->clients.size();
}
uint64_t EventStreamServer::slow_clients_dropped() const { return impl_->dropped; }

}  // namespace tidewatch::sinks
