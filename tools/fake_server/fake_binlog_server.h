// FakeBinlogServer: a stand-in MySQL/MariaDB server on 127.0.0.1 that speaks
// just enough of the protocol to serve a binlog file to a replica — or
// misbehaves on purpose. Used by tests (bad peers) and by benchmarks (a
// server that is never the bottleneck). One thread per connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace tidewatch::tools {

// How a FakeBinlogServer checks a login. By default any login is accepted.
struct FakeServerAuth {
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

  using Auth = FakeServerAuth;

  // `binlog` holds a whole binlog file (magic included) for kReplay/kCorruptEvent.
  FakeBinlogServer(Behavior behavior, std::vector<uint8_t> binlog = {}, std::string file_name = "fake-bin.000001",
                   Auth auth = Auth());
  ~FakeBinlogServer();

  uint16_t port() const { return port_; }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  void Serve(int fd);
  bool Authenticate(int fd, uint8_t* seq);

  Behavior behavior_;
  std::vector<uint8_t> binlog_;
  std::string file_name_;
  Auth auth_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::vector<int> client_fds_;
};

}  // namespace tidewatch::tools
