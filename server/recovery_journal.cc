#include "server/recovery_journal.h"

#include <spdlog/spdlog.h>

namespace tidewatch::server {

Status KafkaRecoveryJournal::Open(const Config& config, sinks::KafkaSink* sink,
                                  std::unique_ptr<KafkaRecoveryJournal>* out) {
  sinks::KafkaConsumerOptions o;
  o.brokers = config.kafka_brokers;
  o.topics = {config.kafka_topic_prefix + ".recovery"};
  o.properties = config.KafkaConsumerSecurity();
  std::unique_ptr<sinks::KafkaEnvelopeConsumer> reader;
  Status s = sinks::KafkaEnvelopeConsumer::Open(o, &reader);
  if (!s.ok()) return s;
  out->reset(new KafkaRecoveryJournal());
  (*out)->sink_ = sink;
  (*out)->reader_ = std::move(reader);
  return Status::OK();
}

Status KafkaRecoveryJournal::Sync(std::chrono::milliseconds timeout) {
  return sink_->FlushFor(static_cast<int>(timeout.count()));
}

Status KafkaRecoveryJournal::ReadNew(std::chrono::milliseconds timeout, std::vector<v1::Envelope>* out) {
  return reader_->ReadToEnd(timeout, [out](const sinks::ConsumedMessage& m) {
    if (!m.problem.empty()) {
      spdlog::warn("recovery journal: {}", m.problem);
    } else if (m.envelope.has_recovery()) {
      out->push_back(m.envelope);
    }
  });
}

}  // namespace tidewatch::server
