// EventStreamServer: the live message stream for dashboards, as HTTP
// Server-Sent Events (Boost.Beast) at /api/stream. Each message is one SSE
// event: "event: <type>" and "data: <JSON>" (protobuf's JSON mapping).
//
// Filters: ?cluster=NAME (repeatable) and ?type=analysis,instance,… (the
// body names of envelope_sequencer.h). An unknown filter key or type is
// answered 400 with the reason.
//
// Publishing never waits for a client: each client has a bounded queue; a
// client whose queue is full (it reads too slowly) is disconnected and
// counted in slow_clients_dropped().
//
// The same listener serves the daemon's other HTTP paths when a handler is
// given: requests are read here and answered by the handler on a worker
// thread, so a slow handler (one that queries a server) never stalls the
// stream's clients.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sinks/sink.h"

namespace tidewatch::sinks {

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string path;    // without the query, percent-encoding kept
  std::string query;
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

struct EventStreamOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;                 // 0: any free port (see port())
  size_t max_queued_per_client = 10000;
  HttpHandler handler;               // every path but /api/stream; none: 404
  HttpAuthorizer authorize;          // /api/stream requests; none: open
  size_t handler_threads = 4;
  size_t max_request_bytes = 1 << 20;
};

class EventStreamServer : public Sink {
 public:
  static Status Start(EventStreamOptions options, std::unique_ptr<EventStreamServer>* out);
  ~EventStreamServer() override;

  Status Publish(const v1::Envelope& message) override;

  uint16_t port() const;
  size_t clients() const;
  uint64_t slow_clients_dropped() const;

 private:
  struct Impl;
  explicit EventStreamServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace tidewatch::sinks
