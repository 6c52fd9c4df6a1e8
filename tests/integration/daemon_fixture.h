// A test with one `tidewatch run` of its own in a fresh directory under the
// temporary folder; on failure its log is printed, and the daemon and the
// directory are removed whatever the outcome.
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <memory>

#include "tests/integration/daemon_process.h"

namespace tidewatch::testing {

class DaemonFixture : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && daemon_) std::cerr << "tidewatch log:\n" << daemon_->Log() << "\n";
    daemon_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  // The test's directory, made empty; the daemon's files go there.
  const std::filesystem::path& PrepareDir(const std::string& name) {
    dir_ = std::filesystem::temp_directory_path() / ("tidewatch-daemon-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    return dir_;
  }
  DaemonProcess& StartDaemon(const std::string& name, nlohmann::json config, std::vector<std::string> args = {}) {
    if (dir_.empty()) PrepareDir(name);  // else the test prepared it
    daemon_ = std::make_unique<DaemonProcess>(dir_, std::move(config), std::move(args));
    return *daemon_;
  }

  std::filesystem::path dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

}  // namespace tidewatch::testing
