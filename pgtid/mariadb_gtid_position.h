// MariadbGtidPosition: MariaDB's GTID position — per replication domain, the
// last GTID (domain-server-seq) applied, as @@gtid_binlog_pos,
// @@gtid_slave_pos and @@gtid_current_pos print it: "0-1-100,1-2-5",
// domains in ascending order. Within a domain, sequence numbers grow along
// one history, so one position contains another when it is at least as far
// in every domain the other has.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "binlog/event.h"
#include "base/status.h"

namespace tidewatch::pgtid {

class MariadbGtidPosition {
 public:
  using Gtid = binlog::MariaGtid;

  static Status Parse(std::string_view text, MariadbGtidPosition* out);

  // Records `g` as applied: it becomes its domain's position.
  void Update(const Gtid& g) { domains_[g.domain_id] = g; }
  bool Contains(const MariadbGtidPosition& other) const;
  // Whether the transaction `g` is at or before this position in its domain.
  bool Contains(const Gtid& g) const;
  bool empty() const { return domains_.empty(); }
  std::string ToString() const;
  bool operator==(const MariadbGtidPosition&) const = default;

  const std::map<uint32_t, Gtid>& domains() const { return domains_; }

 private:
  std::map<uint32_t, Gtid> domains_;
};

// What a replica holds beyond its master, domain by domain: the GTIDs of
// the replica's position that lie ahead of the master's in that domain, or in
// a domain the master never had (errant transactions, in orchestrator's
// sense, on MariaDB).
std::vector<binlog::MariaGtid> ErrantGtids(const MariadbGtidPosition& replica, const MariadbGtidPosition& master);

}  // namespace tidewatch::pgtid
