#include "tools/tidewatch/tail_command.h"

#include <unistd.h>

#include <chrono>
#include <ostream>
#include <memory>

#include "sinks/kafka_envelope_consumer.h"
#include "sinks/json_lines_sink.h"

namespace tidewatch::tools {

int RunTail(const TailOptions& o, std::ostream& out, std::ostream& err) {
  sinks::KafkaConsumerOptions co;
  co.brokers = o.brokers;
  co.group = o.group.empty() ? "tidewatch-tail-" + std::to_string(::getpid()) : o.group;
  co.from_beginning = o.from_beginning;
  co.commit = !o.group.empty();
  co.topics = o.topics;
  if (co.topics.empty()) {
    for (const char* t : {"topology", "analysis", "pgtid", "recovery", "audit"}) co.topics.push_back(o.topic_prefix + "." + t);
  }
  std::unique_ptr<sinks::KafkaEnvelopeConsumer> c;
  if (Status s = sinks::KafkaEnvelopeConsumer::Open(co, &c); !s.ok()) {
    err << "tidewatch tail: " << s.message() << "\n";
    return 2;
  }
  long n = 0;
  int status = 0;
  auto last = std::chrono::steady_clock::now();
  std::string line;
  sinks::ConsumedMessage m;
  while (!(o.stop && *o.stop) && (o.count == 0 || n < o.count)) {
    if (!c->Poll(std::chrono::milliseconds(100), &m)) {
      if (o.idle_exit_ms > 0 &&
          std::chrono::steady_clock::now() - last > std::chrono::milliseconds(o.idle_exit_ms)) {
        break;
      }
      continue;
    }
    last = std::chrono::steady_clock::now();
    if (!m.problem.empty()) {
      err << "tidewatch tail: " << m.problem << "\n";
      status = 1;
    } else if (sinks::ToJsonLine(m.envelope, &line).ok()) {
      out << line << "\n" << std::flush;
      ++n;
    }
  }
  c->Close();
  return status;
}

}  // namespace tidewatch::tools
