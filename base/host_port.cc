#include "base/host_port.h"

#include <charconv>

namespace tidewatch {

namespace {

std::optional<uint16_t> ParsePort(std::string_view s) {
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), p);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || p == 0 || p > 65535) return std::nullopt;
  return static_cast<uint16_t>(p);
}

// Splits without judging the host: "" is returned as is.
std::optional<HostPort> Parse(std::string_view text, uint16_t default_port) {
  HostPort hp;
  hp.port = default_port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    hp.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return hp;
    if (rest.front() != ':') return std::nullopt;
    auto port = ParsePort(rest.substr(1));
    if (!port) return std::nullopt;
    hp.port = *port;
    return hp;
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    hp.host = std::string(text);
    return hp;
  }
  if (text.find(':') != colon) {  // several colons: an IPv6 address without a port
    hp.host = std::string(text);
    return hp;
  }
  auto port = ParsePort(text.substr(colon + 1));
  if (!port) return std::nullopt;
  hp.host = std::string(text.substr(0, colon));
  hp.port = *port;
  return hp;
}

}  // namespace

std::string HostPort::ToString() const {
  std::string s;
  if (host.find(':') != std::string::npos) {
    s = "[" + host + "]";
  } else {
    s = host;
  }
  return s + ":" + std::to_string(port);
}

std::optional<HostPort> ParseHostPort(std::string_view text, uint16_t default_port) {
  auto hp = Parse(text, default_port);
  if (!hp || hp->host.empty()) return std::nullopt;
  return hp;
}

std::optional<HostPort> ParseListenAddress(std::string_view text, uint16_t default_port) {
  if (text.empty()) return HostPort{"", default_port};
  return Parse(text, default_port);
}

bool SplitHostPort(std::string_view text, std::string* host, uint16_t* port) {
  auto hp = ParseHostPort(text);
  if (!hp) return false;
  *host = std::move(hp->host);
  *port = hp->port;
  return true;
}

}  // namespace tidewatch
