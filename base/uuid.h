// Server UUIDs as MySQL GTIDs print them: 8-4-4-4-12 lowercase hex.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace tidewatch {

inline std::string UuidToString(const std::array<uint8_t, 16>& u) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[u[i] >> 4]);
    s.push_back(kHex[u[i] & 15]);
  }
  return s;
}

}  // namespace tidewatch
