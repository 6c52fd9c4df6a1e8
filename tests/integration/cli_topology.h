// Integration tests' handle on a sandbox topology driven through the
// `tidewatch` command as a user drives it: the sandbox (sandbox.h), a config
// file beside it, and the command's JSON answers.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "pgtid/mariadb_gtid_position.h"
#include "tests/integration/sandbox.h"

namespace tidewatch::testing {

class Topology {
 public:
  Topology(const std::string& spec, int base_port, const std::string& up_args)
      : sandbox_(spec, base_port, up_args), base_port_(base_port) {
    config_ = sandbox_.dir() / "tidewatch.conf.json";
    SetConfig(nlohmann::json::object());
  }
  // The config file: the topology credentials and `extra` keys.
  void SetConfig(nlohmann::json extra) {
    extra["MySQLTopologyUser"] = "tidewatch";
    extra["MySQLTopologyPassword"] = "tidewatch";
    std::FILE* f = std::fopen(config_.string().c_str(), "w");
    ASSERT_NE(f, nullptr);
    const std::string text = extra.dump();
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  Sandbox& sandbox() { return sandbox_; }
  std::string Addr(const std::string& server) const {
    return "127.0.0.1:" + Trim(sandbox_.Run("port " + server));
  }
  // Runs `tidewatch ARGS --json -c CONFIG`; returns its JSON and exit status.
  nlohmann::json Tidewatch(const std::string& args, int* status) {
    auto r = RunCommand(std::string(TIDEWATCH_BINARY) + " " + args + " --json -c " + config_.string() + " 2>/dev/null");
    *status = r.status;
    if (r.out.empty()) return nlohmann::json::object();
    try {
      return nlohmann::json::parse(r.out);
    } catch (const nlohmann::json::exception&) {
      ADD_FAILURE() << "not JSON from tidewatch " << args << ": " << r.out;
      return nlohmann::json::object();
    }
  }
  std::string Value(const std::string& server, const std::string& sql) { return Trim(sandbox_.Run("sql -N " + server + " \"" + sql + "\"")); }
  std::string Checksum(const std::string& server) {
    return Value(server, "CHECKSUM TABLE tidewatch_load.load_rows");
  }
  // Waits until `replicas` have applied everything `master` had written when
  // called (the master may go on writing: Pseudo-GTID injection).
  void WaitCaughtUp(const std::string& master, const std::vector<std::string>& replicas) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    pgtid::MariadbGtidPosition want;
    ASSERT_TRUE(pgtid::MariadbGtidPosition::Parse(Value(master, "SELECT @@gtid_binlog_pos"), &want).ok());
    auto caught_up = [&](const std::string& r) {
      pgtid::MariadbGtidPosition have;
      return pgtid::MariadbGtidPosition::Parse(Value(r, "SELECT @@gtid_slave_pos"), &have).ok() &&
             have.Contains(want);
    };
    for (const auto& r : replicas) {
      while (!caught_up(r)) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << r << " did not catch up with " << master;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  static std::string Trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

 private:
  Sandbox sandbox_;
  int base_port_;
  std::filesystem::path config_;
};

// A field of the server's SHOW SLAVE STATUS.
inline std::string Status(Topology& t, const std::string& server, const std::string& field) {
  return t.sandbox().SlaveStatus(server, field);
}

}  // namespace tidewatch::testing
