// orchestrator's BinlogEventCursor (go/inst/instance_binlog.go): a forward
// reader over one server's binlog (or relay log) in chunks of SHOW … EVENTS
// rows, moving to the next file when a chunk comes back empty. The lockstep
// walk of match-below holds one cursor on each server.
//
// Its rules, kept as they are:
//  * a fetch that returns no rows moves to the next file (the file number
//    plus one) from the last coordinates returned; more than 10 empty fetches
//    in a row end the log;
//  * NextRealEvent skips Format_desc, Stop and Rotate rows and rows whose Info
//    contains one of the SkipBinlogEventsContaining substrings; more than 10
//    skipped rows in a row end the log too; the row returned is normalized
//    (InfoNormalizer);
//  * NextCoordinates is End_log_pos of the last row returned (skipped ones
//    included): where the server's next event will be.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bench/show_binlog_events.h"

namespace tidewatch::orchestrator {

class BinlogEventCursor {
 public:
  // Rows from the given coordinates on; an empty result at the end of the logs.
  using Fetch = std::function<Status(const BinlogCoordinates&, std::vector<BinlogEventRow>*)>;

  // Reads the first chunk at once; like orchestrator, a failure there is not
  // reported (the cursor is then empty).
  BinlogEventCursor(const BinlogCoordinates& start, Fetch fetch, const std::vector<std::string>* skip_containing,
                    const InfoNormalizer* normalizer);

  // The next row that is not a meta event, normalized; nullptr at the end of
  // the logs. Valid until the next call.
  Status NextRealEvent(const BinlogEventRow** out);
  // Where the event after the last row returned starts; an error when no row
  // was ever returned.
  Status NextCoordinates(BinlogCoordinates* out) const;

 private:
  Status NextEvent(int empty_fetches, BinlogEventRow** out);

  Fetch fetch_;
  const std::vector<std::string>* skip_;
  const InfoNormalizer* normalizer_;
  std::vector<BinlogEventRow> cached_;
  int index_ = -1;
  BinlogCoordinates next_;
};

}  // namespace tidewatch::orchestrator
