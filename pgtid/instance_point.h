// InstancePoint: where a replica stands, as "Pseudo-GTID entry P plus k
// replicated events" — what locating an instance (matcher.h) finds and what
// matching on a destination starts from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pgtid/coordinates.h"
#include "pgtid/server_index.h"

namespace tidewatch::pgtid {

struct InstancePoint {
  std::string route;       // which source answered: "master-index", "own-binlog", "relay-log"
  std::string entry_text;
  std::string entry_gtid;
  BinlogCoordinates entry_at;  // the entry in the route's own coordinates (relay-log-events: its end)
  uint64_t k = 0;
  std::vector<EventSignature> signatures;  // empty: not compared
  std::vector<std::string> tried;          // why earlier routes could not answer
};

}  // namespace tidewatch::pgtid
