// `tidewatch binlog dump FILE...`: decodes binlog and relay-log files and
// writes one JSON object per event (events nested in a transaction payload
// follow it, marked "inner": true).
#pragma once

#include <atomic>
#include <chrono>
#include <ostream>
#include <string>
#include <vector>

namespace tidewatch::server {

struct BinlogDumpOptions {
  std::vector<std::string> files;
  bool verify_checksums = true;
  // Follow the (single) file as a server appends to it, and on its ROTATE
  // continue with the next file in the same directory, like `tail -F`.
  bool follow = false;
  std::chrono::milliseconds poll_interval{100};
  const std::atomic<bool>* stop = nullptr;  // ends a follow when set
};

// Returns the process exit code: 0 when every file decoded to its end, 1 when
// any failed (each failure is reported on `err` with the file and byte offset).
int RunBinlogDump(const BinlogDumpOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tidewatch::server
