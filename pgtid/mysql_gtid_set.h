// MysqlGtidSet: a set of MySQL GTIDs (server UUID → transaction numbers),
// kept normalized — per UUID, sorted disjoint non-adjacent intervals — so
// that equal sets compare and print equal. Text form as @@gtid_executed
// prints it: "uuid:1-5:11,uuid2:7", UUIDs in lowercase, sorted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "binlog/event.h"
#include "binlog/status.h"

namespace tidewatch::pgtid {

class MysqlGtidSet {
 public:
  using Uuid = binlog::Uuid;
  using Interval = binlog::GtidInterval;  // [start, end)

  static binlog::Status Parse(std::string_view text, MysqlGtidSet* out);

  // Adds transactions [start, end) of `sid`.
  void Add(const Uuid& sid, uint64_t start, uint64_t end);
  void Add(const Uuid& sid, uint64_t gno) { Add(sid, gno, gno + 1); }
  void Union(const MysqlGtidSet& other);
  // The GTIDs of this set that `other` does not hold.
  MysqlGtidSet Subtract(const MysqlGtidSet& other) const;
  bool Contains(const MysqlGtidSet& other) const;
  bool Contains(const Uuid& sid, uint64_t gno) const;
  bool empty() const { return sids_.empty(); }
  uint64_t Count() const;
  std::string ToString() const;
  bool operator==(const MysqlGtidSet&) const = default;

  const std::map<Uuid, std::vector<Interval>>& sids() const { return sids_; }

 private:
  std::map<Uuid, std::vector<Interval>> sids_;
};

// Errant GTIDs: transactions a replica executed that its master never did
// (orchestrator's "errant GTID" check: gtid_executed(replica) − gtid_executed(master)).
inline MysqlGtidSet ErrantGtids(const MysqlGtidSet& replica_executed, const MysqlGtidSet& master_executed) {
  return replica_executed.Subtract(master_executed);
}

}  // namespace tidewatch::pgtid
