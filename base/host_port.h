// Host and port as instance keys, seeds and listen addresses write them:
// "host:port", "host" (the default port), "[v6addr]:port", "[v6addr]", and —
// for an address to listen on — ":port" (every interface; orchestrator's
// default ListenAddress is ":3000"). A bare IPv6 address with colons and no
// brackets is a host alone ("::1" is host ::1, default port), since its last
// group cannot be told from a port.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidewatch {

inline constexpr uint16_t kDefaultMySqlPort = 3306;

struct HostPort {
  std::string host;  // without brackets; empty only for a listen address ":port"
  uint16_t port = 0;

  // "host:port", with brackets around a host that contains ':'.
  std::string ToString() const;
  bool operator==(const HostPort&) const = default;
};

// An instance's address: the host must not be empty; the port is 1-65535.
std::optional<HostPort> ParseHostPort(std::string_view text, uint16_t default_port = kDefaultMySqlPort);
// The same, plus ":port" and "" (every interface, `default_port`).
std::optional<HostPort> ParseListenAddress(std::string_view text, uint16_t default_port);

// ParseHostPort into two out-parameters; false (outputs untouched) when `text` is not an address.
bool SplitHostPort(std::string_view text, std::string* host, uint16_t* port);

}  // namespace tidewatch
