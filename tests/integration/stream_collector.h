// Runs ReplicaStreams on one io_context in a background thread and records
// what they deliver, for integration tests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "binlog/event_decoder.h"
#include "binlog/replica_stream.h"
#include "server/event_json.h"

namespace tidewatch::testing {

struct SeenEvent {
  std::string file;
  uint64_t pos = 0, log_pos = 0;
  uint8_t type = 0;
  std::string json;  // the `binlog dump` line(s) for it
};

class StreamCollector {
 public:
  StreamCollector() : work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~StreamCollector() {
    for (auto& s : streams_) s->stream->Stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  // Starts a stream; returns its index.
  size_t Add(binlog::ReplicaStreamOptions o) {
    auto slot = std::make_unique<Slot>();
    Slot* raw = slot.get();
    {
      std::lock_guard<std::mutex> l(mu_);
      streams_.push_back(std::move(slot));
    }
    raw->stream = std::make_unique<binlog::ReplicaStream>(
        io_, std::move(o),
        [this, raw](const binlog::StreamEvent& e) {
          if (e.artificial) return;
          SeenEvent s{e.file, e.raw.pos, e.raw.header.log_pos, e.raw.header.type, {}};
          Status st = raw->json.AppendLines(e.file, e.raw, e.format, raw->decoder, &raw->event);
          s.json = st.ok() ? std::string(raw->json.text()) : "decode error: " + st.message();
          raw->json.Clear();
          std::lock_guard<std::mutex> l(mu_);
          raw->events.push_back(std::move(s));
          cv_.notify_all();
        },
        [this, raw](const binlog::StreamStatus& st) {
          std::lock_guard<std::mutex> l(mu_);
          raw->statuses.push_back({st, std::chrono::steady_clock::now()});
          cv_.notify_all();
        });
    boost::asio::post(io_, [raw] { raw->stream->Start(); });
    return streams_.size() - 1;
  }

  // Waits until `pred(events, statuses)` holds or the timeout passes.
  template <typename Pred>
  bool WaitFor(size_t i, std::chrono::milliseconds timeout, Pred pred) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return pred(streams_[i]->events, streams_[i]->statuses); });
  }

  std::vector<SeenEvent> Events(size_t i) {
    std::lock_guard<std::mutex> l(mu_);
    return streams_[i]->events;
  }
  struct TimedStatus {
    binlog::StreamStatus status;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<TimedStatus> Statuses(size_t i) {
    std::lock_guard<std::mutex> l(mu_);
    return streams_[i]->statuses;
  }
  void Stop(size_t i) { streams_[i]->stream->Stop(); }

  // Waits until stream i has ended or failed.
  bool WaitFinished(size_t i, std::chrono::milliseconds timeout) {
    return WaitFor(i, timeout, [](auto&, auto& st) {
      return !st.empty() && (st.back().status.state == binlog::StreamState::kEnded ||
                             st.back().status.state == binlog::StreamState::kFailed);
    });
  }

 private:
  struct Slot {
    std::unique_ptr<binlog::ReplicaStream> stream;
    binlog::EventDecoder decoder;
    server::EventJsonWriter json;
    binlog::Event event;
    std::vector<SeenEvent> events;
    std::vector<TimedStatus> statuses;
  };

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Slot>> streams_;
  std::thread thread_;
};

}  // namespace tidewatch::testing
