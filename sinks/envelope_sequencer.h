// EnvelopeSequencer: stamps messages with the schema version, the producer id
// and the producer's next sequence number, and the detection time. The
// sequence resumes above `first_sequence` (the last one a previous run
// published, from its spool), so (producer_id, sequence) stays unique across
// restarts.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::sinks {

inline constexpr uint32_t kSchemaVersion = 1;

class EnvelopeSequencer {
 public:
  EnvelopeSequencer(std::string producer_id, uint64_t first_sequence = 0)
      : producer_id_(std::move(producer_id)), next_(first_sequence + 1) {}

  // Fills schema_version, producer_id, sequence and detection_time (now,
  // unless already set). Thread-safe.
  void Stamp(v1::Envelope* e);

  const std::string& producer_id() const { return producer_id_; }
  uint64_t last_sequence() const { return next_.load() - 1; }

 private:
  std::string producer_id_;
  std::atomic<uint64_t> next_;
};

// The message type's name as carried in Kafka headers and filters:
// "instance", "edge", "stream", "pseudo_gtid", "analysis", "recovery", "audit".
const char* BodyName(const v1::Envelope& e);

}  // namespace tidewatch::sinks
