// KafkaSink: publishes messages to Kafka with librdkafka.
//
// Every message is first appended to the spool (spool.h) and then produced
// from it in order by a background thread; the spool's watermark advances as
// delivery reports confirm. While the broker is unreachable messages wait in
// the spool (on disk, across restarts of Tidewatch) and go out in order when
// it returns. The producer is idempotent (enable.idempotence=true, acks=all)
// so librdkafka's own retries never duplicate or reorder within a run.
//
// Topics: <prefix>.topology (instance, edge and stream messages),
// <prefix>.analysis, <prefix>.pgtid (log-compacted; keyed by server),
// <prefix>.recovery, <prefix>.audit; created when missing. Other messages
// are keyed by cluster name, so one cluster's messages stay in one partition,
// in order. Headers: "type" (the body's name) and "schema_version".
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sinks/sink.h"
#include "sinks/spool.h"

namespace tidewatch::sinks {

struct KafkaOptions {
  std::string brokers;                 // bootstrap.servers
  std::string topic_prefix = "tidewatch";
  int partitions = 6;                  // for topics created by Tidewatch
  int replication_factor = 1;
  std::string compression = "zstd";
  // Passed to librdkafka as they are (security.protocol, sasl.*, ssl.*, …).
  std::map<std::string, std::string> properties;
  SpoolOptions spool;
};

struct KafkaStats {
  uint64_t produced = 0, delivered = 0, delivery_errors = 0;
  uint64_t spool_pending = 0, spool_bytes = 0, spool_dropped = 0;
};

class KafkaSink : public Sink {
 public:
  static Status Open(KafkaOptions options, std::unique_ptr<KafkaSink>* out);
  ~KafkaSink() override;

  Status Publish(const v1::Envelope& message) override;
  // Waits up to `timeout_ms` until every spooled message is delivered.
  Status Flush() override { return FlushFor(30000); }
  Status FlushFor(int timeout_ms);

  KafkaStats stats() const;
  // The topic a message goes to, and its key.
  std::string TopicOf(const v1::Envelope& e) const;
  static std::string KeyOf(const v1::Envelope& e);

 private:
  struct Handles;
  explicit KafkaSink(KafkaOptions options);
  void Run();
  void RequestTopics();
  void TopicsCreated();

  KafkaOptions options_;
  std::unique_ptr<Handles> h_;
  std::unique_ptr<Spool> spool_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<uint64_t> produced_{0}, delivered_{0}, errors_{0};
  bool topics_ready_ = false, topics_requested_ = false;
  std::string last_error_;
};

}  // namespace tidewatch::sinks
