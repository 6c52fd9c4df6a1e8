#include "binlog/mysql_gtid_set.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "base/list_item.h"
#include "base/trim_space.h"
#include "binlog/byte_reader.h"

namespace tidewatch::binlog {
namespace {

constexpr uint64_t kGnoEnd = uint64_t{1} << 63;  // GNOs are positive signed 64-bit numbers
constexpr uint64_t kMaxSourceCount = (uint64_t{1} << 48) - 1;

void PutLE(std::vector<uint8_t>* v, uint64_t x) {
  for (int i = 0; i < 8; ++i) v->push_back(static_cast<uint8_t>(x >> (8 * i)));
}

// The serialization library's variable-length unsigned integer (byte_reader.h
// VarUint): n bytes hold 7n bits for n < 9, 64 bits at 9.
void PutVarUint(std::vector<uint8_t>* v, uint64_t x) {
  size_t n = 1;
  while (n < 9 && x >> (7 * n) != 0) ++n;
  if (n == 9) {
    v->push_back(0xff);
    PutLE(v, x);
    return;
  }
  const uint64_t shifted = x << n | ((uint64_t{1} << (n - 1)) - 1);
  for (size_t i = 0; i < n; ++i) v->push_back(static_cast<uint8_t>(shifted >> (8 * i)));
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
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool StartsLikeATag(std::string_view s) {
  return !s.empty() && (std::isalpha(static_cast<unsigned char>(s.front())) || s.front() == '_');
}

std::string Lowercase(std::string_view s) {
  std::string l(s);
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return l;
}

Status Bad(std::string_view what, std::string_view part) {
  return Status::InvalidArgument("GTID set: " + std::string(what) + " in '" + std::string(part) + "'");
}

}  // namespace

bool IsValidGtidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxGtidTagLength || !StartsLikeATag(tag)) return false;
  for (char c : tag) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

Status ParseMysqlGtidSet(std::string_view text, std::vector<SidIntervals>* out) {
  out->clear();
  while (!text.empty()) {
    std::string_view part = PopListItem(&text, ',');
    if (part.empty()) continue;
    std::string_view rest = part;
    Uuid sid{};
    if (!ParseUuid(PopListItem(&rest, ':'), &sid) || part.find(':') == std::string_view::npos) {
      return Status::InvalidArgument("GTID set: '" + std::string(part) +
                                     "' is not uuid[:tag]:interval[:interval…]");
    }
    SidIntervals current;
    current.sid = sid;
    while (true) {
      std::string_view item = PopListItem(&rest, ':');
      if (StartsLikeATag(item)) {
        if (!IsValidGtidTag(item)) return Bad("bad tag '" + std::string(item) + "'", part);
        if (!current.intervals.empty()) out->push_back(std::move(current));
        current = SidIntervals();
        current.sid = sid;
        current.tag = Lowercase(item);
      } else {
        const size_t dash = item.find('-');
        uint64_t start = 0, end = 0;
        bool ok = ParseNumber(TrimSpace(item.substr(0, dash)), &start);
        end = start;
        if (ok && dash != std::string_view::npos) ok = ParseNumber(TrimSpace(item.substr(dash + 1)), &end);
        if (!ok || start == 0 || end < start || end >= kGnoEnd - 1) {
          return Bad("bad interval '" + std::string(item) + "'", part);
        }
        current.intervals.push_back({start, end + 1});
      }
      if (rest.empty()) break;
    }
    if (current.intervals.empty()) {
      return Bad(current.tag.empty() ? "no interval" : "no interval after tag '" + current.tag + "'", part);
    }
    out->push_back(std::move(current));
  }
  return Status::OK();
}

std::vector<uint8_t> EncodeMysqlGtidSet(const std::vector<SidIntervals>& set) {
  bool tagged = false;
  for (const auto& s : set) tagged |= !s.tag.empty();
  std::vector<uint8_t> wire;
  if (tagged) {
    PutLE(&wire, uint64_t{1} << 56 | (set.size() & kMaxSourceCount) << 8 | 1);
  } else {
    PutLE(&wire, set.size());
  }
  for (const auto& s : set) {
    wire.insert(wire.end(), s.sid.begin(), s.sid.end());
    if (tagged) {
      PutVarUint(&wire, s.tag.size());
      wire.insert(wire.end(), s.tag.begin(), s.tag.end());
    }
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

Status DecodeMysqlGtidSet(std::span<const uint8_t> in, uint8_t* format, std::vector<PreviousGtidsSid>* sids,
                          std::vector<GtidInterval>* intervals, size_t* used) {
  ByteReader r(in);
  const uint64_t header = r.U64();
  if (!r.ok()) return Status::Corruption("GTID set shorter than its 8-byte header");
  const uint8_t version = static_cast<uint8_t>(header >> 56);
  uint64_t n = 0;
  if (version == 0) {
    n = header;
  } else if (version == 1 && (header & 0xff) == 1) {
    n = (header >> 8) & kMaxSourceCount;
  } else {
    return Status::Corruption("GTID set in binary format " + std::to_string(version) +
                              " (header " + std::to_string(header) + "): only formats 0 and 1 are known");
  }
  // Each source takes at least 24 bytes (uuid, a tag length byte, a count).
  if (n > r.remaining() / 24) {
    return Status::Corruption("GTID set announces " + std::to_string(n) + " sources in " +
                              std::to_string(in.size()) + " bytes");
  }
  *format = version;
  sids->resize(n);
  intervals->clear();
  for (auto& sid : *sids) {
    auto uuid = r.Bytes(16);
    std::string_view tag;
    if (version == 1) {
      const uint64_t len = r.VarUint();
      if (r.ok() && len > kMaxGtidTagLength) {
        return Status::Corruption("GTID set tag of " + std::to_string(len) + " characters (at most 32)");
      }
      tag = r.String(len);
      if (r.ok() && !tag.empty() && !IsValidGtidTag(tag)) return Status::Corruption("GTID set tag is not a tag");
    }
    const uint64_t count = r.U64();
    if (!r.ok() || count > r.remaining() / 16) {
      return Status::Corruption("GTID set source announces " + std::to_string(count) + " intervals in " +
                                std::to_string(r.remaining()) + " bytes");
    }
    std::copy(uuid.begin(), uuid.end(), sid.sid.begin());
    sid.tag = tag;
    // The span's size holds the count until the interval storage stops growing.
    sid.intervals = std::span<const GtidInterval>(static_cast<const GtidInterval*>(nullptr), count);
    for (uint64_t k = 0; k < count; ++k) {
      GtidInterval iv;
      iv.start = r.U64();
      iv.end = r.U64();
      if (iv.start == 0 || iv.end <= iv.start || iv.end > kGnoEnd - 1) {
        return Status::Corruption("GTID set interval [" + std::to_string(iv.start) + ", " +
                                  std::to_string(iv.end) + ") is not a GTID interval");
      }
      intervals->push_back(iv);
    }
  }
  size_t at = 0;
  for (auto& sid : *sids) {
    const size_t count = sid.intervals.size();
    sid.intervals = std::span<const GtidInterval>(intervals->data() + at, count);
    at += count;
  }
  *used = r.offset();
  return Status::OK();
}

}  // namespace tidewatch::binlog
