#include "pgtid/mariadb_gtid_position.h"

#include <charconv>

#include "base/list_item.h"

namespace tidewatch::pgtid {
namespace {

template <typename T>
bool Number(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

Status MariadbGtidPosition::Parse(std::string_view text, MariadbGtidPosition* out) {
  MariadbGtidPosition pos;
  while (!text.empty()) {
    std::string_view part = PopListItem(&text, ',');
    if (part.empty()) continue;
    size_t d1 = part.find('-'), d2 = d1 == std::string_view::npos ? d1 : part.find('-', d1 + 1);
    Gtid g;
    if (d2 == std::string_view::npos || !Number(part.substr(0, d1), &g.domain_id) ||
        !Number(part.substr(d1 + 1, d2 - d1 - 1), &g.server_id) || !Number(part.substr(d2 + 1), &g.seq_no)) {
      return Status::InvalidArgument("GTID position: '" + std::string(part) +
                                             "' is not domain-server-seq");
    }
    if (pos.domains_.count(g.domain_id)) {
      return Status::InvalidArgument("GTID position: domain " + std::to_string(g.domain_id) +
                                             " appears twice");
    }
    pos.domains_[g.domain_id] = g;
  }
  *out = std::move(pos);
  return Status::OK();
}

bool MariadbGtidPosition::Contains(const Gtid& g) const {
  auto it = domains_.find(g.domain_id);
  return it != domains_.end() && it->second.seq_no >= g.seq_no;
}

bool MariadbGtidPosition::Contains(const MariadbGtidPosition& other) const {
  for (const auto& [domain, g] : other.domains_) {
    if (!Contains(g)) return false;
  }
  return true;
}

std::string MariadbGtidPosition::ToString() const {
  std::string s;
  for (const auto& [domain, g] : domains_) {
    if (!s.empty()) s += ",";
    s += std::to_string(g.domain_id) + "-" + std::to_string(g.server_id) + "-" + std::to_string(g.seq_no);
  }
  return s;
}

std::vector<binlog::MariaGtid> ErrantGtids(const MariadbGtidPosition& replica, const MariadbGtidPosition& master) {
  std::vector<binlog::MariaGtid> errant;
  for (const auto& [domain, g] : replica.domains()) {
    if (!master.Contains(g)) errant.push_back(g);
  }
  return errant;
}

}  // namespace tidewatch::pgtid
