// BinlogCoordinates: a position in a server's binary (or relay) log — file
// name and byte offset, as SHOW MASTER STATUS and SHOW SLAVE STATUS print
// them. Files of one log are ordered by their numeric extension (the server
// numbers them "name.000001", "name.000002", …; sql/log.cc,
// MYSQL_LOG::generate_new_name), so coordinates order across files.
#pragma once

#include <charconv>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace tidewatch::pgtid {

struct BinlogCoordinates {
  std::string file;
  uint64_t pos = 0;

  bool empty() const { return file.empty(); }
  std::string ToString() const { return file + ":" + std::to_string(pos); }

  // The number after the last '.', or 0 when there is none.
  static uint64_t FileNumber(std::string_view file) {
    auto dot = file.rfind('.');
    if (dot == std::string_view::npos) return 0;
    uint64_t n = 0;
    std::from_chars(file.data() + dot + 1, file.data() + file.size(), n);
    return n;
  }

  std::strong_ordering operator<=>(const BinlogCoordinates& o) const {
    if (file != o.file) {
      auto a = FileNumber(file), b = FileNumber(o.file);
      if (a != b) return a <=> b;
      return file <=> o.file;
    }
    return pos <=> o.pos;
  }
  bool operator==(const BinlogCoordinates&) const = default;
};

}  // namespace tidewatch::pgtid
