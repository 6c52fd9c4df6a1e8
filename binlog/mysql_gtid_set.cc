#include "binlog/mysql_gtid_set.h"

#include <cctype>
#include <charconv>
#include <string>

namespace tidewatch::binlog {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

void PutLE(std::vector<uint8_t>* v, uint64_t x) {
  for (int i = 0; i < 8; ++i) v->push_back(static_cast<uint8_t>(x >> (8 * i)));
}

bool ParseUuid(std::string_view s, uint8_t out[16]) {
  std::string hex;
  for (char c : s) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    hex.push_back(c);
  }
  if (hex.size() != 32 || (s.size() != 32 && s.size() != 36)) return false;
  for (int i = 0; i < 16; ++i) {
    std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, out[i], 16);
  }
  return true;
}

bool ParseNumber(std::string_view s, uint64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Status EncodeMysqlGtidSet(std::string_view text, std::vector<uint8_t>* wire) {
  wire->clear();
  PutLE(wire, 0);  // n_sids, filled in at the end
  uint64_t n_sids = 0;
  text = Trim(text);
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view part = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (part.empty()) continue;
    size_t colon = part.find(':');
    uint8_t uuid[16];
    if (colon == std::string_view::npos || !ParseUuid(Trim(part.substr(0, colon)), uuid)) {
      return Status::InvalidArgument("GTID set: '" + std::string(part) + "' is not uuid:interval[:interval…]");
    }
    wire->insert(wire->end(), uuid, uuid + 16);
    const size_t count_at = wire->size();
    PutLE(wire, 0);
    uint64_t n = 0;
    std::string_view rest = part.substr(colon + 1);
    while (true) {
      size_t next = rest.find(':');
      std::string_view iv = Trim(rest.substr(0, next));
      size_t dash = iv.find('-');
      uint64_t start = 0, end = 0;
      bool ok = ParseNumber(iv.substr(0, dash), &start);
      end = start;
      if (ok && dash != std::string_view::npos) ok = ParseNumber(iv.substr(dash + 1), &end);
      if (!ok && !iv.empty() && !std::isdigit(static_cast<unsigned char>(iv.front()))) {
        return Status::NotSupported("GTID set: tagged GTIDs ('" + std::string(part) + "') are not supported");
      }
      if (!ok || start == 0 || end < start) {
        return Status::InvalidArgument("GTID set: bad interval '" + std::string(iv) + "' in '" + std::string(part) + "'");
      }
      PutLE(wire, start);
      PutLE(wire, end + 1);
      ++n;
      if (next == std::string_view::npos) break;
      rest = rest.substr(next + 1);
    }
    for (int i = 0; i < 8; ++i) (*wire)[count_at + i] = static_cast<uint8_t>(n >> (8 * i));
    ++n_sids;
  }
  for (int i = 0; i < 8; ++i) (*wire)[i] = static_cast<uint8_t>(n_sids >> (8 * i));
  return Status::OK();
}

}  // namespace tidewatch::binlog
