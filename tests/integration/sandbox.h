// Integration tests' handle on a sandbox topology of real MariaDB servers
// (tools/sandbox/tidewatch-sandbox): brought up in its own directory and port
// range, torn down by the destructor even when the test fails.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <thread>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tidewatch::testing {

struct CommandResult {
  int status = -1;
  std::string out;
};

// Runs a shell command and captures its standard output.
inline CommandResult RunCommand(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

class Sandbox {
 public:
  // `base_port` must differ between test programs that may run at once.
  Sandbox(const std::string& spec, int base_port, const std::string& extra_up_args = "") {
    dir_ = std::filesystem::temp_directory_path() /
           ("tidewatch-it-" + std::to_string(::getpid()) + "-" + std::to_string(base_port));
    tool_ = std::string("python3 ") + TIDEWATCH_SOURCE_DIR + "/tools/sandbox/tidewatch-sandbox --dir " +
            dir_.string();
    auto r = RunCommand(tool_ + " up --base-port " + std::to_string(base_port) + " " + extra_up_args +
                        " '" + spec + "' 2>&1");
    if (r.status != 0) {
      Down();
      throw std::runtime_error("sandbox up failed: " + r.out);
    }
  }
  ~Sandbox() { Down(); }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Runs a sandbox subcommand; throws with its output when it fails.
  std::string Run(const std::string& args) const {
    auto r = RunCommand(tool_ + " " + args + " 2>&1");
    if (r.status != 0) throw std::runtime_error("tidewatch-sandbox " + args + " failed: " + r.out);
    return r.out;
  }
  std::string Sql(const std::string& server, const std::string& sql) const {
    return Run("sql " + server + " \"" + sql + "\"");
  }
  // A field of the server's SHOW SLAVE STATUS ("" when it is no replica).
  std::string SlaveStatus(const std::string& server, const std::string& field) const {
    for (const auto& line : Lines(Run("sql " + server + " 'SHOW SLAVE STATUS\\G'"))) {
      auto colon = line.find(": ");
      if (colon == std::string::npos) continue;
      std::string key = line.substr(0, colon);
      key.erase(0, key.find_first_not_of(' '));
      if (key == field) return line.substr(colon + 2);
    }
    return {};
  }
  std::vector<std::string> Binlogs(const std::string& server) const {
    auto r = RunCommand(tool_ + " binlogs " + server);
    if (r.status != 0) throw std::runtime_error("binlogs failed");
    return Lines(r.out);
  }
  // Whether each of `replicas` has applied, within 60 s, what `master` had
  // written when called: the sandbox's MariaDB GTID positions (one domain)
  // compared by sequence number — the master may go on writing (Pseudo-GTID).
  bool WaitCaughtUp(const std::string& master, const std::vector<std::string>& replicas) const {
    auto seq = [this](const std::string& server, const char* variable) -> uint64_t {
      std::string v = Run("sql -N " + server + " 'SELECT @@" + variable + "'");
      while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
      const auto dash = v.rfind('-');
      return dash == std::string::npos ? 0 : std::stoull(v.substr(dash + 1));
    };
    const uint64_t want = seq(master, "gtid_binlog_pos");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (const auto& r : replicas) {
      while (seq(r, "gtid_slave_pos") < want) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    return true;
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  void Down() { RunCommand(tool_ + " down >/dev/null 2>&1"); }

  std::filesystem::path dir_;
  std::string tool_;
};

}  // namespace tidewatch::testing
