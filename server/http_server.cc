#include "server/http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <exception>
#include <string_view>
#include <thread>

namespace tidewatch::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;

namespace {

// A client of /api/stream. Touched on the I/O thread only.
struct StreamClient {
  explicit StreamClient(tcp::socket s) : socket(std::move(s)), wake(socket.get_executor()) {
    wake.expires_at(asio::steady_timer::time_point::max());
  }
  // Frames were queued or the subscription ended. An ended subscription's
  // socket is closed here: its writer may be blocked on a client that does
  // not read.
  void Wake() {
    if (subscription && subscription->ended()) {
      boost::system::error_code ec;
      socket.close(ec);
    }
    wake.cancel();
  }

  tcp::socket socket;
  asio::steady_timer wake;  // cancelled to wake the writer; expires for a keep-alive
  std::unique_ptr<sinks::EventStream::Subscription> subscription;
};

// `path`: the request's path, without the URL prefix.
HttpRequest RequestOf(const http::request<http::string_body>& req, const tcp::socket& s, std::string_view path) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  std::string_view target(req.target().data(), req.target().size());
  auto q = target.find('?');
  r.path = std::string(path);
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

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  explicit Impl(HttpServerOptions o) : options(std::move(o)), handlers(std::max<size_t>(1, options.handler_threads)) {}

  const HttpServerOptions options;
  asio::io_context io;
  asio::thread_pool handlers;
  tcp::acceptor acceptor{io};
  std::thread thread;
  uint16_t port = 0;

  awaitable<void> Accept() {
    while (true) {
      boost::system::error_code ec;
      tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(io, Serve(std::move(s)), asio::detached);
    }
  }

  // A plain-text answer of the listener itself.
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

  // The handler's answer; runs on a worker thread.
  awaitable<HttpResponse> Run(HttpRequest request) {
    HttpResponse response;
    try {
      options.handler(request, &response);
    } catch (const std::exception& e) {
      response = HttpResponse();
      response.status = 500;
      response.content_type = "text/plain; charset=utf-8";
      response.body = std::string("internal error: ") + e.what() + "\n";
    }
    co_return response;
  }

  // The coroutine waits on the I/O thread while Run runs on the pool. (The
  // pool must be the spawned coroutine's executor: a co_await post(handlers)
  // would resume on the awaiting coroutine's executor, the I/O thread.)
  awaitable<void> Handle(tcp::socket& s, HttpRequest request) {
    HttpResponse response = co_await asio::co_spawn(handlers, Run(std::move(request)), asio::use_awaitable);
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
    if (const std::string& prefix = options.url_prefix; !prefix.empty() && path != options.unprefixed_path) {
      if (path == prefix) {
        // The page's relative paths resolve under the prefix only with its slash.
        HttpResponse moved;
        moved.status = 301;
        moved.content_type = "text/plain; charset=utf-8";
        moved.headers.emplace_back("Location", prefix + "/" + (query.empty() ? "" : "?" + std::string(query)));
        co_await Write(s, moved);
        co_return;
      }
      if (path.substr(0, prefix.size() + 1) != prefix + "/") {
        co_await Respond(s, http::status::not_found, "404 page not found");
        co_return;
      }
      path.remove_prefix(prefix.size());
    }
    if (path != "/api/stream" || options.stream == nullptr) {
      if (options.handler) {
        co_await Handle(s, RequestOf(req, s, path));
        co_return;
      }
      const std::string why = "no such path: " + std::string(path);
      co_await Respond(s, http::status::not_found, why);
      co_return;
    }
    if (options.authorize) {
      HttpResponse refusal;
      if (!options.authorize(RequestOf(req, s, path), &refusal)) {
        co_await Write(s, refusal);
        co_return;
      }
    }
    if (req.method() != http::verb::get) {
      const std::string why = "only GET";
      co_await Respond(s, http::status::method_not_allowed, why);
      co_return;
    }
    co_await Stream(std::move(s), query);
  }

  // /api/stream: the stream's frames, as they come, after the header.
  awaitable<void> Stream(tcp::socket s, std::string_view query) {
    auto client = std::make_shared<StreamClient>(std::move(s));
    // Publishers call this on their threads; the client is reached on the
    // I/O thread, and only while both it and the server exist.
    auto notify = [server = weak_from_this(), weak = std::weak_ptr<StreamClient>(client)] {
      if (auto impl = server.lock()) {
        asio::post(impl->io, [weak] {
          if (auto c = weak.lock()) c->Wake();
        });
      }
    };
    Status st = options.stream->Subscribe(query, std::move(notify), &client->subscription);
    if (!st.ok()) {
      co_await Respond(client->socket, http::status::bad_request, st.message());
      co_return;
    }
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: keep-alive\r\n\r\n";
    boost::system::error_code ec;
    co_await asio::async_write(client->socket, asio::buffer(head), asio::redirect_error(asio::use_awaitable, ec));
    std::string out;
    while (!ec) {
      out.clear();
      if (!client->subscription->Take(&out)) break;
      if (!out.empty()) {
        co_await asio::async_write(client->socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      // A quiet stream still says it is alive (an SSE comment), so that a
      // client can tell a silent daemon from a hung one.
      client->wake.expires_after(options.stream_keep_alive);
      co_await client->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        static const std::string keep_alive = ": keep-alive\n\n";
        co_await asio::async_write(client->socket, asio::buffer(keep_alive),
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec == asio::error::operation_aborted) ec.clear();  // a cancelled wait is a wake-up
    }
    client->subscription.reset();
    client->socket.close(ec);
  }
};

Status HttpServer::Start(HttpServerOptions options, std::unique_ptr<HttpServer>* out) {
  auto impl = std::make_shared<Impl>(std::move(options));
  const HttpServerOptions& o = impl->options;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(o.address, ec);
  if (ec) return Status::InvalidArgument("HTTP: bad address " + o.address);
  tcp::endpoint ep(addr, o.port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("HTTP: cannot listen on " + o.address + ":" + std::to_string(o.port) + ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  asio::co_spawn(impl->io, impl->Accept(), asio::detached);
  impl->thread = std::thread([impl] { impl->io.run(); });
  out->reset(new HttpServer(impl));
  return Status::OK();
}

HttpServer::~HttpServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->handlers.join();
}

uint16_t HttpServer::port() const { return impl_->port; }

}  // namespace tidewatch::server
