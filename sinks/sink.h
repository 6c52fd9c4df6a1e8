// Sink: an outlet for published messages (Kafka, JSON lines, HTTP/SSE). The
// message is complete — sequenced, timed, sourced — before it reaches a sink.
// Each sink says whether Publish may be called from several threads; the
// Publisher (publisher.h) calls its sinks one message at a time.
#pragma once

#include "base/status.h"
#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::sinks {

class Sink {
 public:
  virtual ~Sink() = default;
  // Accepts the message or says why not. A sink that cannot deliver now
  // keeps it (spool) or reports the loss; it never drops it silently.
  virtual Status Publish(const v1::Envelope& message) = 0;
  virtual Status Flush() { return Status::OK(); }
};

}  // namespace tidewatch::sinks
