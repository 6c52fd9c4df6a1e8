// `tidewatch binlog dump FILE...`: decodes binlog and relay-log files and
// writes one JSON object per event (events nested in a transaction payload
// follow it, marked "inner": true).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace tidewatch::tools {

struct BinlogDumpOptions {
  std::vector<std::string> files;
  bool verify_checksums = true;
};

// Returns the process exit code: 0 when every file decoded to its end, 1 when
// any failed (each failure is reported on `err` with the file and byte offset).
int RunBinlogDump(const BinlogDumpOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tidewatch::tools
