#include "pgtid/mysql_gtid_set.h"

#include <algorithm>
#include <cctype>

#include "binlog/mysql_gtid_set.h"
#include "base/uuid.h"

namespace tidewatch::pgtid {

Status MysqlGtidSet::Parse(std::string_view text, MysqlGtidSet* out) {
  std::vector<binlog::SidIntervals> parsed;
  Status s = binlog::ParseMysqlGtidSet(text, &parsed);
  if (!s.ok()) return s;
  MysqlGtidSet set;
  for (const auto& sid : parsed) {
    for (const auto& iv : sid.intervals) set.Add(Tsid{sid.sid, sid.tag}, iv.start, iv.end);
  }
  *out = std::move(set);
  return Status::OK();
}

void MysqlGtidSet::Add(const Uuid& sid, std::string_view tag, uint64_t gno) {
  Add(Tsid{sid, std::string(tag)}, gno, gno + 1);
}

void MysqlGtidSet::Add(const Tsid& given, uint64_t start, uint64_t end) {
  if (start >= end) return;
  Tsid sid = given;
  for (char& c : sid.tag) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto& ivs = sids_[sid];
  // Insert, then merge every interval that overlaps or touches [start, end).
  auto it = std::lower_bound(ivs.begin(), ivs.end(), start,
                             [](const Interval& iv, uint64_t s) { return iv.end < s; });
  Interval merged{start, end};
  auto first = it;
  while (it != ivs.end() && it->start <= merged.end) {
    merged.start = std::min(merged.start, it->start);
    merged.end = std::max(merged.end, it->end);
    ++it;
  }
  it = ivs.erase(first, it);
  ivs.insert(it, merged);
}

void MysqlGtidSet::Union(const MysqlGtidSet& other) {
  for (const auto& [sid, ivs] : other.sids_) {
    for (const auto& iv : ivs) Add(sid, iv.start, iv.end);
  }
}

MysqlGtidSet MysqlGtidSet::Subtract(const MysqlGtidSet& other) const {
  MysqlGtidSet out;
  for (const auto& [sid, ivs] : sids_) {
    auto o = other.sids_.find(sid);
    for (const auto& iv : ivs) {
      uint64_t at = iv.start;
      if (o != other.sids_.end()) {
        for (const auto& cut : o->second) {
          if (cut.end <= at) continue;
          if (cut.start >= iv.end) break;
          if (cut.start > at) out.Add(sid, at, cut.start);
          at = std::max(at, cut.end);
          if (at >= iv.end) break;
        }
      }
      if (at < iv.end) out.Add(sid, at, iv.end);
    }
  }
  return out;
}

bool MysqlGtidSet::Contains(const MysqlGtidSet& other) const { return other.Subtract(*this).empty(); }

bool MysqlGtidSet::Contains(const Uuid& sid, std::string_view tag, uint64_t gno) const {
  Tsid t{sid, std::string(tag)};
  for (char& c : t.tag) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return Contains(t, gno);
}

bool MysqlGtidSet::Contains(const Tsid& sid, uint64_t gno) const {
  auto it = sids_.find(sid);
  if (it == sids_.end()) return false;
  for (const auto& iv : it->second) {
    if (gno < iv.start) return false;
    if (gno < iv.end) return true;
  }
  return false;
}

uint64_t MysqlGtidSet::Count() const {
  uint64_t n = 0;
  for (const auto& [sid, ivs] : sids_) {
    for (const auto& iv : ivs) n += iv.end - iv.start;
  }
  return n;
}

std::string MysqlGtidSet::ToString() const {
  std::string s;
  const Uuid* last = nullptr;
  for (const auto& [sid, ivs] : sids_) {
    // The map's order puts a UUID's untagged intervals before its tags.
    if (last == nullptr || *last != sid.uuid) {
      if (!s.empty()) s += ",";
      s += UuidToString(sid.uuid);
    }
    last = &sid.uuid;
    if (!sid.tag.empty()) s += ":" + sid.tag;
    for (const auto& iv : ivs) {
      s += ":" + std::to_string(iv.start);
      if (iv.end - iv.start > 1) s += "-" + std::to_string(iv.end - 1);
    }
  }
  return s;
}

}  // namespace tidewatch::pgtid
