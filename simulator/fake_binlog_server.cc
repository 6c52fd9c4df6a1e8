#include "simulator/fake_binlog_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "binlog/mysql_protocol.h"
#include "simulator/server_packets.h"

namespace tidewatch::simulator {
namespace {

bool SendAll(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool RecvAll(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool SendPacket(int fd, uint8_t* seq, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> wire;
  AppendPacket(seq, payload, &wire);
  return SendAll(fd, wire.data(), wire.size());
}

bool RecvPacket(int fd, uint8_t* seq, std::vector<uint8_t>* payload) {
  payload->clear();
  while (true) {
    uint8_t h[4];
    if (!RecvAll(fd, h, 4)) return false;
    size_t n = h[0] | h[1] << 8 | h[2] << 16;
    *seq = static_cast<uint8_t>(h[3] + 1);
    size_t old = payload->size();
    payload->resize(old + n);
    if (!RecvAll(fd, payload->data() + old, n)) return false;
    if (n < 0xffffff) return true;
  }
}

void Le(std::vector<uint8_t>* v, uint64_t x, int n) {
  for (int i = 0; i < n; ++i) v->push_back(static_cast<uint8_t>(x >> (8 * i)));
}

std::vector<uint8_t> Handshake(const std::string& plugin = "mysql_native_password",
                               const std::string& version = "5.5.5-10.11.0-fake-MariaDB") {
  return HandshakePayload(plugin, version);
}

bool HasCrc32(const std::vector<uint8_t>& binlog) {
  // The FORMAT_DESCRIPTION at offset 4: its checksum_alg byte is 5 from its end.
  if (binlog.size() < 4 + 19) return false;
  uint32_t size = binlog[13] | binlog[14] << 8 | binlog[15] << 16 | static_cast<uint32_t>(binlog[16]) << 24;
  if (4 + size > binlog.size() || size < 19 + 5) return false;
  return binlog[4 + size - 5] == 1;
}

}  // namespace

FakeBinlogServer::FakeBinlogServer(Behavior behavior, std::vector<uint8_t> binlog, std::string file_name,
                                   Options options)
    : behavior_(behavior), binlog_(std::move(binlog)), file_name_(std::move(file_name)), auth_(std::move(options)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 128) != 0) {
    throw std::runtime_error("fake server: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] {
    while (!stopping_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      ++connections_;
      std::lock_guard<std::mutex> l(mu_);
      client_fds_.push_back(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  });
}

FakeBinlogServer::~FakeBinlogServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> l(mu_);
    for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
  for (int fd : client_fds_) ::close(fd);
}

bool FakeBinlogServer::Authenticate(int fd, uint8_t* seq) {
  std::vector<uint8_t> in;
  if (!SendPacket(fd, seq, Handshake(auth_.plugin, auth_.version)) || !RecvPacket(fd, seq, &in)) return false;
  const std::vector<uint8_t> kDenied = {0xff, 0x15, 0x04, '#', '2', '8', '0', '0', '0', 'A', 'c', 'c', 'e', 's', 's',
                                        ' ', 'd', 'e', 'n', 'i', 'e', 'd'};
  if (!auth_.check) return SendPacket(fd, seq, OkPayload());
  const auto data = HandshakeAuthData(in);
  if (auth_.plugin == "mysql_native_password") {
    bool good = data == binlog::protocol::NativePasswordScramble(auth_.password, HandshakeScramble());
    SendPacket(fd, seq, good ? OkPayload() : kDenied);
    return good;
  }
  // caching_sha2_password: the fast path compares the scramble; full
  // authentication sends the RSA public key and decrypts the password.
  if (!auth_.full_auth) {
    bool good = data == binlog::protocol::CachingSha2Scramble(auth_.password, HandshakeScramble());
    if (!good) {
      SendPacket(fd, seq, kDenied);
      return false;
    }
    return SendPacket(fd, seq, {0x01, 0x03}) && SendPacket(fd, seq, OkPayload());
  }
  if (!SendPacket(fd, seq, {0x01, 0x04}) || !RecvPacket(fd, seq, &in) || in != std::vector<uint8_t>{0x02}) return false;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), key.get());
  char* pem = nullptr;
  long pem_len = BIO_get_mem_data(bio.get(), &pem);
  std::vector<uint8_t> more{0x01};
  more.insert(more.end(), pem, pem + pem_len);
  if (!SendPacket(fd, seq, more) || !RecvPacket(fd, seq, &in)) return false;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key.get(), nullptr),
                                                                 EVP_PKEY_CTX_free);
  size_t n = 0;
  std::vector<uint8_t> plain;
  bool good = EVP_PKEY_decrypt_init(ctx.get()) > 0 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) > 0 &&
              EVP_PKEY_decrypt(ctx.get(), nullptr, &n, in.data(), in.size()) > 0;
  if (good) {
    plain.resize(n);
    good = EVP_PKEY_decrypt(ctx.get(), plain.data(), &n, in.data(), in.size()) > 0;
    plain.resize(n);
    for (size_t i = 0; i < plain.size(); ++i) plain[i] ^= HandshakeScramble()[i % HandshakeScramble().size()];
    std::vector<uint8_t> want(auth_.password.begin(), auth_.password.end());
    want.push_back(0);
    good = good && plain == want;
  }
  SendPacket(fd, seq, good ? OkPayload() : kDenied);
  return good;
}

std::vector<uint8_t> FakeBinlogServer::last_dump_command() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_dump_;
}

void FakeBinlogServer::Serve(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  uint8_t seq = 0;
  switch (behavior_) {
    case Behavior::kGarbage: {
      const char junk[] = "HTTP/1.1 400 Bad Request\r\n\r\nthis is not a database";
      SendAll(fd, reinterpret_cast<const uint8_t*>(junk), sizeof junk - 1);
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    case Behavior::kCloseMidPacket: {
      auto hs = Handshake();
      std::vector<uint8_t> wire = {static_cast<uint8_t>(hs.size()), 0, 0, 0};
      wire.insert(wire.end(), hs.begin(), hs.begin() + hs.size() / 2);
      SendAll(fd, wire.data(), wire.size());
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    case Behavior::kLyingLength: {
      std::vector<uint8_t> wire = {0x00, 0x00, 0x10, 0x00};  // 1 MiB announced
      auto hs = Handshake();
      wire.insert(wire.end(), hs.begin(), hs.begin() + 20);
      SendAll(fd, wire.data(), wire.size());
      uint8_t b;
      while (!stopping_ && ::recv(fd, &b, 1, 0) > 0) {
      }
      return;
    }
    case Behavior::kSilent: {
      uint8_t b;
      while (!stopping_ && ::recv(fd, &b, 1, 0) > 0) {
      }
      return;
    }
    case Behavior::kReplay:
    case Behavior::kCorruptEvent:
      break;
  }
  std::vector<uint8_t> in;
  if (!Authenticate(fd, &seq)) return;
  const bool crc = HasCrc32(binlog_);
  while (!stopping_ && RecvPacket(fd, &seq, &in) && !in.empty()) {
    seq = 1;
    const uint8_t command = in[0];
    std::string text(in.begin() + 1, in.end());
    if (command == 0x03 && text.find("SELECT @@global.binlog_checksum") == 0) {
      // Result set: 1 column, its definition, EOF, one row, EOF.
      std::vector<uint8_t> def = {3, 'd', 'e', 'f', 0, 0, 0, 1, 'c', 0, 0x0c, 33, 0, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0};
      std::vector<uint8_t> row;
      const std::string value = crc ? "CRC32" : "NONE";
      row.push_back(static_cast<uint8_t>(value.size()));
      row.insert(row.end(), value.begin(), value.end());
      if (!SendPacket(fd, &seq, {1}) || !SendPacket(fd, &seq, def) || !SendPacket(fd, &seq, EofPayload()) ||
          !SendPacket(fd, &seq, row) || !SendPacket(fd, &seq, EofPayload())) {
        return;
      }
    } else if (command == 0x03 || command == 0x15) {
      if (!SendPacket(fd, &seq, OkPayload())) return;
    } else if (command == 0x12 || command == 0x1e) {
      {
        std::lock_guard<std::mutex> l(mu_);
        last_dump_ = in;
      }
      const bool non_block = command == 0x12 ? in.size() >= 7 && (in[5] & 1) : in.size() >= 3 && (in[1] & 1);
      // The artificial ROTATE a server sends first: position 4 and the file name.
      std::vector<uint8_t> rotate;
      Le(&rotate, 0, 4);
      rotate.push_back(4);
      Le(&rotate, 1, 4);
      Le(&rotate, 19 + 8 + file_name_.size() + (crc ? 4 : 0), 4);
      Le(&rotate, 0, 4);
      Le(&rotate, 0x20, 2);
      Le(&rotate, 4, 8);
      rotate.insert(rotate.end(), file_name_.begin(), file_name_.end());
      if (crc) Le(&rotate, crc32(0, rotate.data(), static_cast<uInt>(rotate.size())), 4);
      std::vector<uint8_t> packet{0};
      packet.insert(packet.end(), rotate.begin(), rotate.end());
      if (!SendPacket(fd, &seq, packet)) return;
      // From the requested position; past 4 the file's FORMAT_DESCRIPTION
      // comes first, marked artificial (log_pos 0) as real servers do.
      const uint64_t start = command == 0x12 && in.size() >= 5 ? (in[1] | in[2] << 8 | in[3] << 16 | static_cast<uint64_t>(in[4]) << 24) : 4;
      auto event_size = [&](size_t at) {
        return binlog_[at + 9] | binlog_[at + 10] << 8 | binlog_[at + 11] << 16 |
               static_cast<uint32_t>(binlog_[at + 12]) << 24;
      };
      if (start > 4 && binlog_.size() >= 4 + 19) {
        const uint32_t size = event_size(4);
        packet.assign(1, 0);
        packet.insert(packet.end(), binlog_.begin() + 4, binlog_.begin() + 4 + size);
        std::memset(packet.data() + 1 + 13, 0, 4);
        if (crc) {
          uint32_t c = crc32(0, packet.data() + 1, size - 4);
          for (int i = 0; i < 4; ++i) packet[1 + size - 4 + i] = static_cast<uint8_t>(c >> (8 * i));
        }
        if (!SendPacket(fd, &seq, packet)) return;
      }
      // Events go out in batches of about 256 KiB, so that the server side
      // costs little next to the replica it feeds.
      std::vector<uint8_t> batch;
      auto flush = [&] {
        bool ok = SendAll(fd, batch.data(), batch.size());
        batch.clear();
        return ok;
      };
      size_t at = 4;
      int n = 0;
      while (at + 19 <= binlog_.size()) {
        const uint32_t size = event_size(at);
        if (size < 19 || at + size > binlog_.size()) break;
        ++n;
        if (at >= start) {
          packet.assign(1, 0);
          packet.insert(packet.end(), binlog_.begin() + at, binlog_.begin() + at + size);
          // The file's third event is damaged, as if on disk: every try meets it.
          if (behavior_ == Behavior::kCorruptEvent && n == 3) packet[packet.size() / 2] ^= 0x55;
          AppendPacket(&seq, packet, &batch);
          if (batch.size() >= (256u << 10) && !flush()) return;
        }
        at += size;
      }
      if (!flush()) return;
      if (non_block) {
        SendPacket(fd, &seq, EofPayload());
      } else {
        uint8_t b;
        while (!stopping_ && ::recv(fd, &b, 1, 0) > 0) {
        }
      }
      return;
    } else {
      return;
    }
  }
}

}  // namespace tidewatch::simulator
