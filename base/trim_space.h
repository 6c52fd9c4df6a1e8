// TrimSpace: a view without the leading and trailing characters for which
// std::isspace holds (in the "C" locale: space, \t, \n, \v, \f, \r).
#pragma once

#include <cctype>
#include <string_view>

namespace tidewatch {

inline std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace tidewatch
