// MysqlGtidSet: a set of MySQL GTIDs (transaction source → transaction
// numbers), kept normalized — per source, sorted disjoint non-adjacent
// intervals — so that equal sets compare and print equal. A source is a
// server UUID and, since MySQL 8.3, a tag (empty: untagged). Text form as
// @@gtid_executed prints it: "uuid:1-5:11:tag_a:1-3,uuid2:7" — UUIDs in
// lowercase and sorted, each UUID's untagged intervals first, then its tags
// in order (binlog/mysql_gtid_set.h has the grammar).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "binlog/event.h"

namespace tidewatch::pgtid {

class MysqlGtidSet {
 public:
  using Uuid = binlog::Uuid;
  using Interval = binlog::GtidInterval;  // [start, end)
  // A transaction source; ordered by UUID, then tag ("" first).
  struct Tsid {
    Uuid uuid{};
    std::string tag;  // lowercase
    auto operator<=>(const Tsid&) const = default;
    bool operator==(const Tsid&) const = default;
  };

  static Status Parse(std::string_view text, MysqlGtidSet* out);

  // Adds transactions [start, end) of `sid`; `tag` as the text has it (any case).
  void Add(const Tsid& sid, uint64_t start, uint64_t end);
  void Add(const Uuid& sid, uint64_t start, uint64_t end) { Add(Tsid{sid, {}}, start, end); }
  void Add(const Uuid& sid, uint64_t gno) { Add(sid, gno, gno + 1); }
  void Add(const Uuid& sid, std::string_view tag, uint64_t gno);
  void Union(const MysqlGtidSet& other);
  // The GTIDs of this set that `other` does not hold.
  MysqlGtidSet Subtract(const MysqlGtidSet& other) const;
  bool Contains(const MysqlGtidSet& other) const;
  bool Contains(const Tsid& sid, uint64_t gno) const;
  bool Contains(const Uuid& sid, uint64_t gno) const { return Contains(Tsid{sid, {}}, gno); }
  bool Contains(const Uuid& sid, std::string_view tag, uint64_t gno) const;
  bool empty() const { return sids_.empty(); }
  uint64_t Count() const;
  std::string ToString() const;
  bool operator==(const MysqlGtidSet&) const = default;

  const std::map<Tsid, std::vector<Interval>>& sids() const { return sids_; }

 private:
  std::map<Tsid, std::vector<Interval>> sids_;
};

// Errant GTIDs: transactions a replica executed that its master never did
// (orchestrator's "errant GTID" check: gtid_executed(replica) − gtid_executed(master)).
// A tagged GTID is errant like any other: uuid:tag:n is not uuid:n.
inline MysqlGtidSet ErrantGtids(const MysqlGtidSet& replica_executed, const MysqlGtidSet& master_executed) {
  return replica_executed.Subtract(master_executed);
}

}  // namespace tidewatch::pgtid
