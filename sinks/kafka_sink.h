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
// <prefix>.recovery, <prefix>.audit, <prefix>.clusters (log-compacted; the
// records of a monitor group, keyed by record, fleet_group.h); created by Tidewatch when missing, never
// auto-created by a broker (see RequestTopics). Other messages
// are keyed by cluster name, so one cluster's messages stay in one partition,
// in order. Headers: "type" (the body's name) and "schema_version".
//
// Values are the serialized tidewatch.v1.Envelope. With a Schema Registry
// configured, the schema is registered for each topic's value subject
// (<topic>-value, the registry's TopicNameStrategy) before anything is
// produced to it, and values are framed in Confluent's wire format
// (confluent_wire_format.h). While the registry cannot be reached messages
// wait in the spool; FlushFor reports why, naming the registry's URL.
//
// Threads: Publish may be called from several threads at once (the spool
// serializes appends; messages leave in the order their appends completed).
// The daemon calls it through the Publisher, which already serializes its
// outlets, so model order is kept.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sinks/schema_registry_client.h"
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
  // Confluent Schema Registry base URL (http://HOST:PORT); empty: plain
  // protobuf values, no registry.
  std::string schema_registry_url;
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

  // The sequence of the newest message the spool held when the sink opened,
  // if `producer_id` published it, else 0. An EnvelopeSequencer that starts
  // above it keeps (producer_id, sequence) unique across restarts and
  // crashes. A newest record that is not a message is an error naming the
  // spool.
  Status LastSequence(const std::string& producer_id, uint64_t* sequence) const;

 private:
  struct Handles;
  explicit KafkaSink(KafkaOptions options);
  void Run();
  void RequestTopics();
  void TopicsCreated();
  bool RegisterSchemas();
  void SetError(std::string error);
  std::string LastError() const;

  KafkaOptions options_;
  std::unique_ptr<Handles> h_;
  std::unique_ptr<Spool> spool_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<uint64_t> produced_{0}, delivered_{0}, errors_{0};
  bool topics_ready_ = false, topics_requested_ = false;
  std::unique_ptr<SchemaRegistryClient> registry_;
  std::map<std::string, std::string> value_prefix_;  // topic → Confluent framing; empty without a registry
  bool schemas_ready_ = false;
  mutable std::mutex error_mu_;
  std::string last_error_;  // guarded by error_mu_
};

}  // namespace tidewatch::sinks
