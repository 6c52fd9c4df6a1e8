// Integration tests' handle on a real Apache Kafka broker
// (tools/kafka/tidewatch-kafka): brought up in its own temporary directory on
// its own ports (PORT and PORT+1), torn down by the destructor even when the
// test fails.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "tests/integration/sandbox.h"

namespace tidewatch::testing {

class KafkaBroker {
 public:
  // `port` must differ (by 2 or more) between brokers that may run at once.
  explicit KafkaBroker(int port, const std::string& extra_up_args = "") : port_(port) {
    dir_ = std::filesystem::temp_directory_path() /
           ("tidewatch-kafka-it-" + std::to_string(::getpid()) + "-" + std::to_string(port));
    tool_ = std::string("python3 ") + TIDEWATCH_SOURCE_DIR + "/tools/kafka/tidewatch-kafka --dir " + dir_.string();
    auto r = RunCommand(tool_ + " up --port " + std::to_string(port) + " " + extra_up_args + " 2>&1");
    if (r.status != 0) {
      Down();
      throw std::runtime_error("tidewatch-kafka up failed: " + r.out);
    }
  }
  ~KafkaBroker() { Down(); }
  KafkaBroker(const KafkaBroker&) = delete;
  KafkaBroker& operator=(const KafkaBroker&) = delete;

  // A clean shutdown; the data stays for Start().
  void Stop() const { Run("stop"); }
  // Starts the broker again on the same data and port; returns once it answers.
  void Start() const { Run("start"); }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  void Run(const std::string& args) const {
    auto r = RunCommand(tool_ + " " + args + " 2>&1");
    if (r.status != 0) throw std::runtime_error("tidewatch-kafka " + args + " failed: " + r.out);
  }
  void Down() { RunCommand(tool_ + " down >/dev/null 2>&1"); }

  int port_;
  std::filesystem::path dir_;
  std::string tool_;
};

}  // namespace tidewatch::testing
