#include "server/api_stream_client.h"

#include <google/protobuf/util/json_util.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <thread>

#include "base/host_port.h"
#include "server/api_client.h"

namespace tidewatch::server {

using boost::asio::ip::tcp;

namespace {

// The daemon writes a keep-alive every 15 s (server/http_server.h).
constexpr std::chrono::seconds kSilence{45};

}  // namespace

ApiStreamClient::ApiStreamClient(const Config& config, std::string address, std::string query)
    : address_(std::move(address)), query_(std::move(query)) {
  authorization_ = ApiClient(config, address_).authorization();
}

void ApiStreamClient::Run(const std::atomic<bool>& stop, const std::function<void()>& on_connect,
                          const std::function<void(v1::Envelope&&)>& on_message) {
  auto pause = std::chrono::milliseconds(50);
  std::string last_why;
  while (!stop) {
    std::string why;
    const auto began = std::chrono::steady_clock::now();
    const bool connected = Follow(stop, on_connect, on_message, &why);
    if (stop) break;
    if (connected && std::chrono::steady_clock::now() - began > std::chrono::seconds(5)) {
      pause = std::chrono::milliseconds(50);
    }
    if (why != last_why) spdlog::warn("{}/api/stream: {}; following it again", address_, why);
    last_why = why;
    for (auto slept = std::chrono::milliseconds(0); slept < pause && !stop; slept += std::chrono::milliseconds(10)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
}

bool ApiStreamClient::Follow(const std::atomic<bool>& stop, const std::function<void()>& on_connect,
                             const std::function<void(v1::Envelope&&)>& on_message, std::string* why) {
  const auto listen = ParseListenAddress(address_, kDefaultListenPort);
  if (!listen) {
    *why = "daemon address " + address_ + " is not host:port";
    return false;
  }
  const std::string host = listen->host.empty() || listen->host == "0.0.0.0" ? "127.0.0.1" : listen->host;
  boost::asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  boost::asio::connect(socket, tcp::resolver(io).resolve(host, std::to_string(listen->port), ec), ec);
  if (ec) {
    *why = "connect: " + ec.message();
    return false;
  }
  std::string request = "GET /api/stream" + (query_.empty() ? std::string() : "?" + query_) +
                        " HTTP/1.1\r\nHost: " + host + "\r\nAccept: text/event-stream\r\n";
  if (!authorization_.empty()) request += "Authorization: " + authorization_ + "\r\n";
  request += "\r\n";
  boost::asio::write(socket, boost::asio::buffer(request), ec);
  if (ec) {
    *why = "request: " + ec.message();
    return false;
  }
  // Reads what the socket has within 200 ms; false when the connection ended
  // or stayed silent past three of the daemon's keep-alive intervals.
  std::string buffer;
  auto heard = std::chrono::steady_clock::now();
  auto read_some = [&]() {
    pollfd p{socket.native_handle(), POLLIN, 0};
    const int n = ::poll(&p, 1, 200);
    if (n == 0 && std::chrono::steady_clock::now() - heard > kSilence) {
      *why = "nothing, not even a keep-alive, for " + std::to_string(kSilence.count()) + " s";
      return false;
    }
    if (n <= 0) return n == 0 || errno == EINTR;
    heard = std::chrono::steady_clock::now();
    char chunk[65536];
    const size_t got = socket.read_some(boost::asio::buffer(chunk), ec);
    if (ec) {
      *why = ec == boost::asio::error::eof ? "the daemon closed the stream" : "read: " + ec.message();
      return false;
    }
    buffer.append(chunk, got);
    return true;
  };
  // The response head: anything but 200 is the daemon's refusal.
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (stop || !read_some()) {
      if (why->empty()) *why = "no answer";
      return false;
    }
    if (buffer.size() > 65536) {
      *why = "an answer head over 64 KiB";
      return false;
    }
  }
  const std::string status_line = buffer.substr(0, buffer.find("\r\n"));
  if (status_line.find(" 200 ") == std::string::npos) {
    *why = "answered \"" + status_line + "\"";
    return false;
  }
  buffer.erase(0, head_end + 4);
  on_connect();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer daemon's fields
  while (!stop) {
    for (size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
      const std::string_view frame(buffer.data(), end);
      // The frame's data line (a comment or other fields are skipped).
      for (size_t at = 0; at < frame.size();) {
        size_t eol = frame.find('\n', at);
        if (eol == std::string_view::npos) eol = frame.size();
        const std::string_view line = frame.substr(at, eol - at);
        if (line.rfind("data: ", 0) == 0) {
          v1::Envelope e;
          const auto s = google::protobuf::util::JsonStringToMessage(std::string(line.substr(6)), &e, options);
          if (s.ok()) {
            on_message(std::move(e));
          } else {
            spdlog::warn("{}/api/stream: a frame that is not a Tidewatch message: {}", address_,
                         std::string(s.message()));
          }
        }
        at = eol + 1;
      }
      buffer.erase(0, end + 2);
    }
    if (!read_some()) return true;
  }
  return true;
}

}  // namespace tidewatch::server
