// FakeBinlogServer: a stand-in MySQL/MariaDB server on 127.0.0.1 that speaks
// just enough of the protocol to serve a binlog file to a replica — or
// misbehaves on purpose. Used by tests (bad peers) and by benchmarks (a
// server that is never the bottleneck). One thread per connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tidewatch::simulator {

// How a FakeBinlogServer presents itself and checks a login. By default it
// says it is MariaDB and accepts any login.
struct FakeServerOptions {
  std::string version = "5.5.5-10.11.0-fake-MariaDB";
  std::string plugin = "mysql_native_password";  // or "caching_sha2_password"
  std::string password;
  bool check = false;      // verify the client's scramble against `password`
  bool full_auth = false;  // caching_sha2: demand full authentication (RSA key exchange)
};

class FakeBinlogServer {
 public:
  enum class Behavior {
    kReplay,          // handshake, accept any login, serve the binlog, then EOF
    kGarbage,         // send bytes that are no protocol at all, then close
    kCloseMidPacket,  // send half a handshake packet, then close
    kLyingLength,     // announce a 1 MiB handshake, send 20 bytes, keep the connection open
    kSilent,          // accept and never send anything
    kCorruptEvent,    // serve the binlog with one event's checksum broken
  };

  using Options = FakeServerOptions;

  // `binlog` holds a whole binlog file (magic included) for kReplay/kCorruptEvent.
  FakeBinlogServer(Behavior behavior, std::vector<uint8_t> binlog = {}, std::string file_name = "fake-bin.000001",
                   Options options = Options());
  ~FakeBinlogServer();

  uint16_t port() const { return port_; }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }
  // The payload of the last COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID received.
  std::vector<uint8_t> last_dump_command() const;

 private:
  void Serve(int fd);
  bool Authenticate(int fd, uint8_t* seq);

  Behavior behavior_;
  std::vector<uint8_t> binlog_;
  std::string file_name_;
  Options auth_;
  mutable std::mutex mu_;  // guards client_fds_ and last_dump_
  std::vector<uint8_t> last_dump_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::vector<int> client_fds_;
};

}  // namespace tidewatch::simulator
