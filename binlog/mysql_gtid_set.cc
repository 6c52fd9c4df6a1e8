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

bool ParseUuid(std::string_view s, Uuid* out) {
  std::string hex;
  for (char c : s) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    hex.push_back(c);
  }
  if (hex.size() != 32 || (s.size() != 32 && s.size() != 36)) return false;
  for (int i = 0; i < 16; ++i) std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, (*out)[i], 16);
  return true;
}

bool ParseNumber(std::string_view s, uint64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Status ParseMysqlGtidSet(std::string_view text, std::vector<SidIntervals>* out) {
  out->clear();
  text = Trim(text);
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view part = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (part.empty()) continue;
    size_t colon = part.find(':');
    SidIntervals sid;
    if (colon == std::string_view::npos || !ParseUuid(Trim(part.substr(0, colon)), &sid.sid)) {
      return Status::InvalidArgument("GTID set: '" + std::string(part) + "' is not uuid:interval[:interval…]");
    }
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
      if (!ok || start == 0 || end < start || end == UINT64_MAX) {
        return Status::InvalidArgument("GTID set: bad interval '" + std::string(iv) + "' in '" + std::string(part) + "'");
      }
      sid.intervals.push_back({start, end + 1});
      if (next == std::string_view::npos) break;
      rest = rest.substr(next + 1);
    }
    out->push_back(std::move(sid));
  }
  return Status::OK();
}

std::vector<uint8_t> EncodeMysqlGtidSet(const std::vector<SidIntervals>& set) {
  std::vector<uint8_t> wire;
  PutLE(&wire, set.size());
  for (const auto& s : set) {
    wire.insert(wire.end(), s.sid.begin(), s.sid.end());
    PutLE(&wire, s.intervals.size());
    for (const auto& iv : s.intervals) {
      PutLE(&wire, iv.start);
      PutLE(&wire, iv.end);
    }
  }
  return wire;
}

Status EncodeMysqlGtidSet(std::string_view text, std::vector<uint8_t>* wire) {
  std::vector<SidIntervals> set;
  Status s = ParseMysqlGtidSet(text, &set);
  if (!s.ok()) return s;
  *wire = EncodeMysqlGtidSet(set);
  return Status::OK();
}

}  // namespace tidewatch::binlog
