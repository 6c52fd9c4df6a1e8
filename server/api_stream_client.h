// ApiStreamClient: follows a daemon's /api/stream (Server-Sent Events, one
// frame per published message: "event: <type>\ndata: <JSON>\n\n", see
// sinks/event_stream.h) — how a process without Kafka gets a daemon's
// messages. Each frame's data is parsed back into the Envelope it was made
// from (protobuf's JSON mapping). A connection that fails or ends is made
// again — so is one silent for 45 s (the daemon writes a keep-alive every
// 15 s: it hangs) — after a pause that doubles from 50 ms up to 2 s; what the daemon
// published in between is not replayed, which is why every (re)connection is
// announced to the caller.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "server/config.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::server {

class ApiStreamClient {
 public:
  // `address` is the daemon's host:port; `query` the stream's filter (e.g.
  // "type=analysis"), credentials as `config` gives them.
  ApiStreamClient(const Config& config, std::string address, std::string query);

  // Follows the stream until `stop`: `on_connect` after each connection is
  // made (before its first frame), `on_message` for every message. A frame
  // that is not a Tidewatch message is logged and skipped.
  void Run(const std::atomic<bool>& stop, const std::function<void()>& on_connect,
           const std::function<void(v1::Envelope&&)>& on_message);

 private:
  // One connection, until it ends or `stop`; false when it could not be made
  // or was refused (the reason in *why).
  bool Follow(const std::atomic<bool>& stop, const std::function<void()>& on_connect,
              const std::function<void(v1::Envelope&&)>& on_message, std::string* why);

  std::string address_, query_, authorization_;
};

}  // namespace tidewatch::server
