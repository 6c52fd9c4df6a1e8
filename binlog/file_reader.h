// BinlogFileReader: walks the events of a binlog or relay-log file (v4).
//
// The file is memory-mapped; Next() locates one event, verifies its CRC32 when
// the governing FORMAT_DESCRIPTION says so, and tracks FORMAT_DESCRIPTION
// events (a relay log holds the replica's own and then each master's); a v3
// file (MySQL 4.x) is read with the layout its START_EVENT_V3 implies. Walking
// allocates nothing per event. Every error names the file and byte offset.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "binlog/checksum.h"
#include "binlog/event_header.h"
#include "binlog/event_type.h"
#include "binlog/format_description.h"
#include "binlog/raw_event.h"
#include "base/status.h"

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
  // the reader stays at the failing event. Inline for the common case (a
  // whole, ordinary event); the rest goes through NextSlow.
  Status Next(RawEvent* event) {
    const uint64_t left = data_.size() - pos_;
    if (left >= kEventHeaderSize && fast_path_) {
      const uint8_t* p = data_.data() + pos_;
      // The hardware prefetcher stops at page boundaries; asking for the
      // bytes a few events ahead keeps the checksum from waiting on memory.
      __builtin_prefetch(p + kPrefetchDistance);
      EventHeader& h = event->header;
      ParseEventHeader(p, &h);
      if (h.event_size <= left && h.event_size >= min_event_size_ &&
          h.type != kFormatDescriptionEvent && h.type != kStartEncryptionEvent &&
          (!check_crc_ || Crc32(p, h.event_size - kChecksumSize) == StoredCrc32(p, h.event_size))) {
        event->pos = pos_;
        event->bytes = std::span<const uint8_t>(p, h.event_size);
        event->has_checksum = fd_.HasChecksum();
        pos_ += h.event_size;
        return Status();
      }
    }
    return NextSlow(event);
  }

  // Skips checksum verification (for benchmarks of the bare walk).
  void set_verify_checksums(bool v) {
    verify_checksums_ = v;
    UpdateFastPath();
  }

  // The FORMAT_DESCRIPTION in force for the event last returned.
  const FormatDescription& format() const { return fd_; }
  bool seen_format_description() const { return seen_fd_; }
  const std::string& path() const { return path_; }
  uint64_t size() const { return data_.size(); }
  uint64_t position() const { return pos_; }

 private:
  static constexpr size_t kPrefetchDistance = 2048;
  Status NextSlow(RawEvent* event);
  // The first event, which may be a START_EVENT_V3 that sets the layout,
  // always goes through NextSlow.
  void UpdateFastPath() {
    fast_path_ = opened_ && !encrypted_ && pos_ > kBinlogMagicSize;
    check_crc_ = verify_checksums_ && fd_.HasChecksum();
    min_event_size_ = (fd_.header_length > kEventHeaderSize ? fd_.header_length : kEventHeaderSize) +
                      (fd_.HasChecksum() ? kChecksumSize : 0);
  }

  std::string path_;
  std::span<const uint8_t> data_;
  void* map_ = nullptr;
  bool opened_ = false;
  uint64_t pos_ = 0;
  FormatDescription fd_ = FormatDescription::DefaultV4();
  bool seen_fd_ = false;
  bool encrypted_ = false;
  bool verify_checksums_ = true;
  bool fast_path_ = false;
  bool check_crc_ = false;
  uint32_t min_event_size_ = kEventHeaderSize;
};

}  // namespace tidewatch::binlog
