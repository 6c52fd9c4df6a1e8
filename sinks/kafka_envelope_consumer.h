// KafkaEnvelopeConsumer: reads Tidewatch's messages back from Kafka in a
// consumer group (librdkafka's high-level consumer): each value is a
// tidewatch.v1.Envelope, plain or in Confluent's wire format
// (confluent_wire_format.h). Partition ownership is the group's: messages
// keyed by cluster stay in one partition, so exactly one member of a group
// reads a cluster's messages, and when a member leaves (or stops sending
// heartbeats for session.timeout.ms) the group hands its partitions to the
// others. Offsets are committed automatically: delivery is at least once.
//
// Not thread-safe: one thread polls.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::sinks {

struct KafkaConsumerOptions {
  std::string brokers;
  std::vector<std::string> topics;
  std::string group;                    // group.id
  bool from_beginning = false;          // auto.offset.reset for a group without offsets
  bool commit = true;                   // enable.auto.commit
  // Offsets are committed only for messages marked done (MarkDone), not as
  // soon as they are read: at least once, also across a crash mid-work.
  bool mark_done = false;
  // How soon a silent member loses its partitions.
  std::chrono::milliseconds session_timeout{6000};
  std::map<std::string, std::string> properties;  // passed to librdkafka as they are
};

// One message read: its envelope, or why it is not one.
struct ConsumedMessage {
  std::string topic, key;
  int32_t partition = 0;
  int64_t offset = 0;
  v1::Envelope envelope;
  std::string problem;  // not empty: `envelope` is not valid
};

class KafkaEnvelopeConsumer {
 public:
  static Status Open(const KafkaConsumerOptions& options, std::unique_ptr<KafkaEnvelopeConsumer>* out);
  ~KafkaEnvelopeConsumer();
  KafkaEnvelopeConsumer(const KafkaEnvelopeConsumer&) = delete;
  KafkaEnvelopeConsumer& operator=(const KafkaEnvelopeConsumer&) = delete;

  // The next message within `timeout`: true with *out filled, false when
  // none came. Broker errors that are not about one message are logged.
  bool Poll(std::chrono::milliseconds timeout, ConsumedMessage* out);
  // With mark_done: `m` and everything before it in its partition may be
  // committed. Thread-safe; nothing after Close().
  void MarkDone(const ConsumedMessage& m);
  // Leaves the group (its partitions go to the others at once).
  void Close();

 private:
  KafkaEnvelopeConsumer() = default;
  void* handle_ = nullptr;  // rd_kafka_t*
  std::atomic<bool> closed_{false};
};

}  // namespace tidewatch::sinks
