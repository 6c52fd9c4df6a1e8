// BinlogFileReader: walks the events of a binlog or relay-log file (v4).
//
// The file is memory-mapped; Next() locates one event, verifies its CRC32 when
// the governing FORMAT_DESCRIPTION says so, and tracks FORMAT_DESCRIPTION
// events (a relay log holds the replica's own and then each master's). Walking
// allocates nothing per event. Every error names the file and byte offset.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "binlog/format_description.h"
#include "binlog/raw_event.h"
#include "binlog/status.h"

namespace tidewatch::binlog {

class BinlogFileReader {
 public:
  BinlogFileReader() = default;
  ~BinlogFileReader();
  BinlogFileReader(const BinlogFileReader&) = delete;
  BinlogFileReader& operator=(const BinlogFileReader&) = delete;

  // Opens and maps `path`, checks the binlog magic.
  Status Open(const std::string& path);

  // Reads a binlog image already in memory (not copied; must outlive the
  // reader). `name` stands for the file in messages.
  Status OpenBuffer(std::span<const uint8_t> data, std::string name);

  // Continues at `pos`, the start of an event (e.g. where an earlier reader of
  // the same file stopped). The file's own FORMAT_DESCRIPTION at offset 4 is
  // read first so that the events after `pos` are read with it.
  Status Seek(uint64_t pos);

  // The next event, or Status::EndOfFile() after the last one. After an error
  // the reader stays at the failing event.
  Status Next(RawEvent* event);

  // Skips checksum verification (for benchmarks of the bare walk).
  void set_verify_checksums(bool v) { verify_checksums_ = v; }

  // The FORMAT_DESCRIPTION in force for the event last returned.
  const FormatDescription& format() const { return fd_; }
  bool seen_format_description() const { return seen_fd_; }
  const std::string& path() const { return path_; }
  uint64_t size() const { return data_.size(); }
  uint64_t position() const { return pos_; }

 private:
  std::string path_;
  std::span<const uint8_t> data_;
  void* map_ = nullptr;
  bool opened_ = false;
  uint64_t pos_ = 0;
  FormatDescription fd_ = FormatDescription::DefaultV4();
  bool seen_fd_ = false;
  bool encrypted_ = false;
  bool verify_checksums_ = true;
};

}  // namespace tidewatch::binlog
