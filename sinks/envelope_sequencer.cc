#include "sinks/envelope_sequencer.h"

#include <chrono>

namespace tidewatch::sinks {

void EnvelopeSequencer::Stamp(v1::Envelope* e) {
  e->set_schema_version(kSchemaVersion);
  e->set_producer_id(producer_id_);
  e->set_sequence(next_.fetch_add(1));
  if (!e->has_detection_time()) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    e->mutable_detection_time()->set_seconds(ns / 1000000000);
    e->mutable_detection_time()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  }
}

const char* BodyName(const v1::Envelope& e) {
  switch (e.body_case()) {
    case v1::Envelope::kInstance: return "instance";
    case v1::Envelope::kEdge: return "edge";
    case v1::Envelope::kStream: return "stream";
    case v1::Envelope::kPseudoGtid: return "pseudo_gtid";
    case v1::Envelope::kAnalysis: return "analysis";
    case v1::Envelope::kRecovery: return "recovery";
    case v1::Envelope::kAudit: return "audit";
    case v1::Envelope::BODY_NOT_SET: break;
  }
  return "none";
}

}  // namespace tidewatch::sinks
