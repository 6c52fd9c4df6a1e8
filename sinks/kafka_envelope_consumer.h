// KafkaEnvelopeConsumer: reads Tidewatch's messages back from Kafka in a
// consumer group (librdkafka's high-level consumer): each value is a
// tidewatch.v1.Envelope, plain or in Confluent's wire format
// (confluent_wire_format.h). Partition ownership is the group's: messages
// keyed by cluster stay in one partition, so exactly one member of a group
// reads a cluster's messages, and when a member leaves (or stops sending
// heartbeats for session.timeout.ms) the group hands its partitions to the
// others. Offsets are committed automatically: delivery is at least once.
//
// Without a group it is a reader of whole topics: every partition of its
// topics, from the oldest message, read up to the end as the broker has it
// now by ReadToEnd — how a log kept on Kafka (the recovery topic) is read
// back.
//
// Not thread-safe: one thread polls.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::sinks {

struct KafkaConsumerOptions {
  std::string brokers;
  std::vector<std::string> topics;
  std::string group;                    // group.id; empty: a reader of whole topics (ReadToEnd)
  bool from_beginning = false;          // auto.offset.reset for a group without offsets
  bool commit = true;                   // enable.auto.commit
  // Offsets are committed only for messages marked done (MarkDone), not as
  // soon as they are read: at least once, also across a crash mid-work.
  bool mark_done = false;
  // How soon a silent member loses its partitions.
  std::chrono::milliseconds session_timeout{6000};
  std::map<std::string, std::string> properties;  // passed to librdkafka as they are
  // Called on the polling thread when the group takes partitions away,
  // before they go: work on their messages is finished there (and what it
  // marked done is committed as they are revoked), so that their next owner
  // never works on the same message at the same time.
  std::function<void()> before_revoke;
  // Partitions (of the group's topics) given to this member at the end of
  // a rebalance (possibly none), on the polling thread.
  std::function<void(const std::vector<std::pair<std::string, int32_t>>&)> on_assigned;
  // Partitions taken from this member, reported before they go; `lost`: the
  // member could not reach the group for its session timeout, and the group
  // may have given them to another member already.
  std::function<void(const std::vector<std::pair<std::string, int32_t>>&, bool lost)> on_revoked;
  // Cooperative rebalancing (cooperative-sticky): a rebalance moves only the
  // partitions that change owner, the others stay where they are throughout.
  bool cooperative = false;
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
  // Without a group: every message not read yet, in every partition of the
  // topics (those created since the last call included), up to the
  // partition's end as the broker answers it now, each given to `fn` in its
  // partition's order. An error when the broker does not answer within
  // `timeout`; what was read by then has been given.
  Status ReadToEnd(std::chrono::milliseconds timeout, const std::function<void(const ConsumedMessage&)>& fn);
  // With mark_done: `m` and everything before it in its partition may be
  // committed. Thread-safe; nothing after Close().
  void MarkDone(const ConsumedMessage& m);
  // Leaves the group (its partitions go to the others at once).
  void Close();

  struct Callbacks;  // the options' rebalance callbacks, as librdkafka's opaque

 private:
  KafkaEnvelopeConsumer() = default;
  // `m`'s message as a ConsumedMessage (rd_kafka_message_t*).
  static void Decode(const void* m, ConsumedMessage* out);

  void* handle_ = nullptr;  // rd_kafka_t*
  std::unique_ptr<Callbacks> callbacks_;  // the rebalance callback's opaque
  std::vector<std::string> topics_;
  bool reader_ = false;                          // no group
  std::map<std::string, int64_t> next_offset_;   // reader: "topic/partition" → next offset to read
  std::atomic<bool> closed_{false};
};

}  // namespace tidewatch::sinks
