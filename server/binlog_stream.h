// `tidewatch binlog stream`: follows a server's binlog over the replication
// protocol and prints the same JSON lines as `tidewatch binlog dump` of its
// files (artificial events and heartbeats are not printed; the stream's state
// changes go to standard error).
#pragma once

#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>

#include "binlog/replica_stream.h"

namespace tidewatch::server {

struct BinlogStreamOptions {
  binlog::ReplicaStreamOptions stream;
  std::string until_file;  // stop once this position is reached
  uint64_t until_pos = 0;
  bool print_heartbeats = false;
  // Decode every event but print only a summary line at the end (events,
  // bytes, seconds) instead of the JSON lines.
  bool summary_only = false;
  const std::atomic<bool>* stop = nullptr;
};

// Returns the exit code: 0 when the stream ended (--until reached, a
// non-blocking dump finished, or stopped), 1 when it failed for good.
int RunBinlogStream(const BinlogStreamOptions& options, std::ostream& out, std::ostream& err);

// Parses "FILE:POS". False when it is not of that form.
bool ParseFilePos(const std::string& text, std::string* file, uint64_t* pos);

}  // namespace tidewatch::server
