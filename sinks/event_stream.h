// EventStream: the live message stream for dashboards, as Server-Sent Events
// frames. Each published message becomes one frame,
//
//   "event: <type>\ndata: <JSON>\n\n"
//
// with <type> the body name of envelope_sequencer.h and <JSON> the message in
// protobuf's JSON mapping, exactly as JsonLinesSink writes it. The frames go
// to every subscriber whose filter accepts the message; the transport (the
// daemon's HTTP listener serves them at /api/stream) is not this class's.
//
// Filters are the query string of /api/stream: ?cluster=NAME (repeatable)
// and ?type=analysis,instance,… (the body names). An unknown filter key or
// type is refused with the reason, as a 400 answer would give it.
//
// Publishing never waits for a subscriber: each has a bounded queue, and one
// whose queue is full (its client reads too slowly) is dropped — it gets no
// further frame — and counted in slow_clients_dropped().
//
// Thread-safe. A Subscription may be used from another thread than the
// publisher's, and may outlive the stream (it then ends).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "sinks/sink.h"

namespace tidewatch::sinks {

struct EventStreamOptions {
  size_t max_queued_per_client = 10000;  // frames
};

class EventStream : public Sink {
 public:
  class Subscription;

  explicit EventStream(EventStreamOptions options = {});
  // Ends every subscription (see Subscription::Take).
  ~EventStream() override;

  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // A subscriber with the filter of `query` (the query string, without '?',
  // percent-encoding kept). InvalidArgument, with the reason as the message,
  // for a filter that is not understood.
  //
  // `notify` is called, with no lock held, on the publishing thread whenever
  // frames were queued for the subscriber or it ended; it must be quick (e.g.
  // post a wake-up to the reader's thread) and may call Take. A publish under
  // way when the Subscription is destroyed may still call it once after: what
  // it refers to must then be held weakly.
  Status Subscribe(std::string_view query, std::function<void()> notify, std::unique_ptr<Subscription>* out);

  // Formats `message` once and queues it for every subscriber that wants it.
  Status Publish(const v1::Envelope& message) override;

  // Subscribers that have not ended.
  size_t clients() const;
  uint64_t slow_clients_dropped() const;

 private:
  struct Shared;
  struct Subscriber;
  std::shared_ptr<Shared> shared_;
};

// One subscriber's queue of frames. Destroying it leaves the stream.
class EventStream::Subscription {
 public:
  ~Subscription();

  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Appends the frames queued since the last call to `*frames`, oldest first.
  // False once the subscription has ended — dropped for being slow, or its
  // stream destroyed: what was queued is discarded and no frame will come.
  bool Take(std::string* frames);
  // Whether it has ended (Take would return false).
  bool ended() const;

 private:
  friend class EventStream;
  Subscription(std::shared_ptr<Shared> shared, std::shared_ptr<Subscriber> subscriber)
      : shared_(std::move(shared)), subscriber_(std::move(subscriber)) {}
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Subscriber> subscriber_;
};

}  // namespace tidewatch::sinks
