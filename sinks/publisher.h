// Publisher: the one way out for every message Tidewatch publishes. Each
// message is stamped (schema version, producer id, the producer's next
// sequence, detection time) and handed to every outlet in turn; an outlet
// that refuses it is counted and logged, and never keeps the others from
// getting it.
//
// The sequence survives restarts: with a sequence file, numbers are reserved
// ahead in blocks (the file, replaced atomically, holds the highest number
// reserved) and a new run starts above the reservation, so a crash skips at
// most a block of numbers and never reuses one — consumers deduplicating on
// (producer_id, sequence) never drop a new message as a repeat.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sinks/envelope_sequencer.h"
#include "sinks/sink.h"

namespace tidewatch::sinks {

struct PublisherOptions {
  std::string producer_id;
  std::string sequence_file;       // empty: the sequence starts at 1 in every run
  uint64_t reserve_block = 10000;
  // The highest sequence of this producer known to be published elsewhere
  // (KafkaSink::LastSequence: the spool's newest record). The sequence
  // resumes above it even when the sequence file was lost.
  uint64_t published_through = 0;
};

class Publisher {
 public:
  static Status Open(PublisherOptions options, std::unique_ptr<Publisher>* out);

  // Not owned; added before the first Publish.
  void AddSink(Sink* sink) { sinks_.push_back(sink); }
  // Stamps and delivers `e` to every sink. Thread-safe; messages leave in
  // the order of the calls.
  Status Publish(v1::Envelope&& e);
  Status Flush();

  uint64_t published() const;
  uint64_t sink_failures() const;
  const std::string& producer_id() const { return options_.producer_id; }
  uint64_t last_sequence() const { return sequencer_->last_sequence(); }

 private:
  explicit Publisher(PublisherOptions o) : options_(std::move(o)) {}
  Status Reserve(uint64_t through);

  PublisherOptions options_;
  std::unique_ptr<EnvelopeSequencer> sequencer_;
  std::vector<Sink*> sinks_;
  mutable std::mutex mu_;
  uint64_t reserved_ = 0;
  uint64_t published_ = 0, failures_ = 0;
};

}  // namespace tidewatch::sinks
