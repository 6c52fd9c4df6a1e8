#include "pgtid/mariadb_gtid_position.h"

#include <cctype>
#include <charconv>

namespace tidewatch::pgtid {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

template <typename T>
bool Number(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

binlog::Status MariadbGtidPosition::Parse(std::string_view text, MariadbGtidPosition* out) {
  MariadbGtidPosition pos;
  text = Trim(text);
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view part = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (part.empty()) continue;
    size_t d1 = part.find('-'), d2 = d1 == std::string_view::npos ? d1 : part.find('-', d1 + 1);
    Gtid g;
    if (d2 == std::string_view::npos || !Number(part.substr(0, d1), &g.domain_id) ||
        !Number(part.substr(d1 + 1, d2 - d1 - 1), &g.server_id) || !Number(part.substr(d2 + 1), &g.seq_no)) {
      return binlog::Status::InvalidArgument("GTID position: '" + std::string(part) +
                                             "' is not domain-server-seq");
    }
    if (pos.domains_.count(g.domain_id)) {
      return binlog::Status::InvalidArgument("GTID position: domain " + std::to_string(g.domain_id) +
                                             " appears twice");
    }
    pos.domains_[g.domain_id] = g;
  }
  *out = std::move(pos);
  return binlog::Status::OK();
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
