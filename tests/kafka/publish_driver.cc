// kafka_publish_driver: a publishing process for the Kafka crash tests. It
// opens a KafkaSink on a spool directory, numbers its messages on from the
// newest one in the spool (KafkaSink::LastSequence), and obeys commands read
// line by line from standard input, answering each on standard output:
//
//   publish N      publishes N messages      → "published <last sequence>"
//   flush MILLIS   waits for delivery        → "delivered <sequence>" or "error <why>"
//   exit           closes the sink, exit 0
//
// At start it prints "resumed-after <sequence>". The messages are
// NumberedMessage(sequence, --clusters).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <sstream>
#include <string>

#include "sinks/envelope_sequencer.h"
#include "sinks/kafka_sink.h"
#include "tests/kafka/numbered_message.h"

namespace {

using tidewatch::sinks::EnvelopeSequencer;
using tidewatch::sinks::KafkaOptions;
using tidewatch::sinks::KafkaSink;
using tidewatch::testing::NumberedMessage;
namespace v1 = tidewatch::v1;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Publishes numbered messages through KafkaSink for the Kafka crash tests"};
  KafkaOptions options;
  std::string producer;
  int clusters = 3;
  app.add_option("--brokers", options.brokers, "bootstrap HOST:PORT")->required();
  app.add_option("--spool", options.spool.dir, "spool directory")->required();
  app.add_option("--producer", producer, "producer id")->required();
  app.add_option("--clusters", clusters, "distinct clusters (keys)")->check(CLI::Range(1, 1000));
  app.add_option("--partitions", options.partitions, "partitions of the topics created")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);

  std::unique_ptr<KafkaSink> sink;
  if (auto s = KafkaSink::Open(options, &sink); !s.ok()) {
    std::cerr << "kafka_publish_driver: " << s.ToString() << "\n";
    return 1;
  }
  uint64_t last = 0;
  if (auto s = sink->LastSequence(producer, &last); !s.ok()) {
    std::cerr << "kafka_publish_driver: " << s.ToString() << "\n";
    return 1;
  }
  EnvelopeSequencer sequencer(producer, last);
  std::cout << "resumed-after " << last << std::endl;

  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "publish") {
      uint64_t n = 0;
      in >> n;
      for (uint64_t i = 0; i < n; ++i) {
        v1::Envelope e = NumberedMessage(sequencer.last_sequence() + 1, clusters);
        sequencer.Stamp(&e);
        if (auto s = sink->Publish(e); !s.ok()) {
          std::cout << "error " << s.ToString() << std::endl;
          return 1;
        }
      }
      std::cout << "published " << sequencer.last_sequence() << std::endl;
    } else if (command == "flush") {
      int millis = 60000;
      in >> millis;
      if (auto s = sink->FlushFor(millis); !s.ok()) {
        std::cout << "error " << s.ToString() << std::endl;
      } else {
        std::cout << "delivered " << sequencer.last_sequence() << std::endl;
      }
    } else if (command == "exit") {
      break;
    } else if (!command.empty()) {
      std::cerr << "kafka_publish_driver: unknown command '" << line << "'\n";
      return 2;
    }
  }
  sink.reset();
  return 0;
}
