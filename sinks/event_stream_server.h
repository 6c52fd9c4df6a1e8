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
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "sinks/sink.h"

namespace tidewatch::sinks {

struct EventStreamOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;                 // 0: any free port (see port())
  size_t max_queued_per_client = 10000;
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
