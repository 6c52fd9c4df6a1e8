// tidewatch tail: the reference subscriber. Reads Tidewatch's topics from
// Kafka and prints each message as one JSON line (protobuf's JSON mapping of
// the schema) — what a script or a dashboard would consume.
#pragma once

#include <atomic>
#include <iosfwd>
#include <string>
#include <vector>

namespace tidewatch::tools {

struct TailOptions {
  std::string brokers;
  std::vector<std::string> topics;   // empty: every <prefix>.* topic
  std::string topic_prefix = "tidewatch";
  bool from_beginning = false;
  long count = 0;                    // stop after this many messages (0: never)
  int idle_exit_ms = 0;              // stop after this long without a message (0: never)
  std::string group;                 // consumer group (empty: a private one)
  const std::atomic<bool>* stop = nullptr;
};

int RunTail(const TailOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tidewatch::tools
