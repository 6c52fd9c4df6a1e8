// Integration tests' handle on a `tidewatch run` (or `tidewatch
// recovery-consumer`) process: started with a
// config of the test's, its messages read from its JSON-lines file, its HTTP
// API called on loopback; killed by the destructor even when the test fails.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace tidewatch::testing {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  nlohmann::json Json() const { return nlohmann::json::parse(body); }
};

// One GET on 127.0.0.1:port; status 0 when nothing answered.
inline HttpReply HttpGet(uint16_t port, const std::string& target, const std::map<std::string, std::string>& headers = {},
                         const std::string& method = "GET") {
  namespace http = boost::beast::http;
  HttpReply out;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    http::write(s, req);
    boost::beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (const auto& f : res) out.headers[std::string(f.name_string())] = std::string(f.value());
  } catch (const std::exception&) {
    out.status = 0;
  }
  return out;
}

class DaemonProcess {
 public:
  // `config` is written to the test's directory; `jsonl` is added to it.
  // `command` is the tidewatch command it runs ("run", "recovery-consumer").
  DaemonProcess(const std::filesystem::path& dir, nlohmann::json config, std::vector<std::string> args = {},
                std::string command = "run")
      : dir_(dir), args_(std::move(args)), command_(std::move(command)) {
    std::filesystem::create_directories(dir_);
    jsonl_ = dir_ / "messages.jsonl";
    config["JsonLinesFile"] = jsonl_.string();
    if (!config.contains("StateDir")) config["StateDir"] = (dir_ / "state").string();
    std::ofstream(dir_ / "tidewatch.conf.json") << config.dump(2);
    if (config.contains("ListenAddress")) {
      const std::string a = config["ListenAddress"];
      port_ = static_cast<uint16_t>(std::stoi(a.substr(a.rfind(':') + 1)));
    }
    Start();
  }
  ~DaemonProcess() { Kill(); }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  void Start() {
    if (pid_ > 0) return;
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const std::string log = (dir_ / "tidewatch.log").string();
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) ::dup2(fd, STDERR_FILENO);
      std::vector<std::string> argv = {TIDEWATCH_BINARY, command_, "-c", (dir_ / "tidewatch.conf.json").string()};
      argv.insert(argv.end(), args_.begin(), args_.end());
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(TIDEWATCH_BINARY, cargv.data());
      ::_exit(127);
    }
    if (port_ != 0) {
      for (int i = 0; i < 200 && HttpGet(port_, "/api/health").status == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  // SIGTERM and wait: the daemon stops cleanly. Returns its exit status.
  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // Every message written so far (whole lines only).
  std::vector<nlohmann::json> Messages() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(jsonl_);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || in.eof()) continue;
      out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }
  // Waits until `pred` holds for some message; returns it, or null after `timeout`.
  nlohmann::json WaitFor(const std::function<bool(const nlohmann::json&)>& pred,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& m : Messages()) {
        if (pred(m)) return m;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  }
  // Waits until the API's /api/health says every known server was checked.
  bool WaitSettled(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = HttpGet(port_, "/api/health");
      if (r.status == 200 && r.Json()["Details"].value("Settled", false)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  std::string Log() const {
    std::ifstream in(dir_ / "tidewatch.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  uint16_t port() const { return port_; }
  HttpReply Get(const std::string& target, const std::map<std::string, std::string>& headers = {}) const {
    return HttpGet(port_, target, headers);
  }

 private:
  std::filesystem::path dir_, jsonl_;
  std::vector<std::string> args_;
  std::string command_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// Message predicates.
inline bool IsAnalysis(const nlohmann::json& m, const std::string& phase, const std::string& code,
                       const std::string& instance = "") {
  if (!m.contains("analysis")) return false;
  const auto& a = m["analysis"];
  return a.value("phase", "") == phase && a.value("code", "") == code &&
         (instance.empty() || a.value("analyzed_instance", "") == instance);
}

}  // namespace tidewatch::testing
