// HttpServer: the daemon's HTTP/1.1 listener (Boost.Beast). One request per
// connection ("Connection: close"), of at most max_request_bytes (larger:
// 413).
//
// /api/stream is served from the EventStream (sinks/event_stream.h): after
// the authorize hook (401, 403, … as it answers) it takes GET only (405),
// answers a filter the stream does not understand with 400 and the reason,
// and otherwise writes "200 OK", Content-Type text/event-stream, and then the
// stream's frames as they come — and, when 15 s (stream_keep_alive) pass
// without one, an SSE
// comment (": keep-alive"), so a client can tell a quiet daemon from a hung
// one — until the client goes or is dropped for reading too slowly.
//
// Every other path goes to the handler on one of handler_threads worker
// threads, so a slow handler (one that queries a server) never stalls the
// stream's clients; a handler that throws is answered 500. Without a handler,
// 404.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "sinks/event_stream.h"

namespace tidewatch::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string path;    // without the query, percent-encoding kept
  std::string query;   // without the '?'
  std::map<std::string, std::string> headers;  // names in lowercase
  std::string body;
  std::string remote;  // peer address
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;
// Returns false, with the response filled in (401, 403), to refuse a request.
using HttpAuthorizer = std::function<bool(const HttpRequest&, HttpResponse*)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;                     // 0: any free port (see port())
  sinks::EventStream* stream = nullptr;  // /api/stream; none: a path like any other
  HttpHandler handler;                   // every path but /api/stream; none: 404
  HttpAuthorizer authorize;              // /api/stream requests; none: open
  // orchestrator's URLPrefix ("/orchestrator"; "": none): every path is
  // served under it, and only there — the handlers see paths without it.
  std::string url_prefix;
  // A path served as it is, outside the prefix (orchestrator's custom
  // StatusEndpoint); "": none.
  std::string unprefixed_path;
  size_t handler_threads = 4;
  size_t max_request_bytes = 1 << 20;
  // How long /api/stream may stay quiet before it writes a keep-alive.
  std::chrono::milliseconds stream_keep_alive{15000};
};

// Serves from a thread of its own (the I/O thread) from Start until
// destroyed. `stream` (not owned) must outlive the server. The handler is
// called from the worker threads, several requests at once; the hook from
// the I/O thread, so it must not block.
class HttpServer {
 public:
  // Listens on address:port; IOError when it cannot.
  static Status Start(HttpServerOptions options, std::unique_ptr<HttpServer>* out);
  // Closes every connection and waits for the handlers under way.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;

 private:
  struct Impl;
  explicit HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace tidewatch::server
