// RecoveryJournal: where a recovery consumer's recoveries outlive it. Its
// entries are the RecoveryStep messages the consumer publishes (the
// "recovery" step STARTED is the intent, its SUCCEEDED, FAILED or REFUSED
// the outcome); the journal makes them durable before a recovery's first
// statement runs (Sync) and reads back what every consumer of the fleet
// wrote (ReadNew), so that the next owner of a cluster knows of a recovery
// begun by a consumer that died, and finishes or reports it instead of
// starting another.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "base/status.h"
#include "server/config.h"
#include "sinks/kafka_envelope_consumer.h"
#include "sinks/kafka_sink.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::server {

class RecoveryJournal {
 public:
  virtual ~RecoveryJournal() = default;
  // Returns once everything published so far is durable, or with an error
  // after `timeout`.
  virtual Status Sync(std::chrono::milliseconds timeout) = 0;
  // The recovery steps written since the last call, by any consumer, in the
  // order of each cluster's partition.
  virtual Status ReadNew(std::chrono::milliseconds timeout, std::vector<v1::Envelope>* out) = 0;
};

// On Kafka: durable once the broker has acknowledged it (`sink`'s spool
// delivered), read back from every partition of <prefix>.recovery.
class KafkaRecoveryJournal : public RecoveryJournal {
 public:
  // `sink` (not owned) publishes the consumer's messages and must outlive it.
  static Status Open(const Config& config, sinks::KafkaSink* sink, std::unique_ptr<KafkaRecoveryJournal>* out);

  Status Sync(std::chrono::milliseconds timeout) override;
  Status ReadNew(std::chrono::milliseconds timeout, std::vector<v1::Envelope>* out) override;

 private:
  KafkaRecoveryJournal() = default;
  sinks::KafkaSink* sink_ = nullptr;
  std::unique_ptr<sinks::KafkaEnvelopeConsumer> reader_;
};

}  // namespace tidewatch::server
