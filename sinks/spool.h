// Spool: the on-disk queue every Kafka message passes through, so that
// nothing is lost while the broker is unreachable or Tidewatch restarts.
//
// Records are appended to segment files (spool-<first index>.log) in the
// spool directory: length 4 · CRC32 of the payload 4 · payload, little-endian.
// Each record has an index (0, 1, …, across segments). Records are delivered
// in index order; `acked` (a file replaced atomically) holds the index below
// which every record was delivered. The newest record stays on disk after it
// is delivered (its segment is never deleted), so a restarted producer can
// read where its numbering stopped (LastAtOpen). On open, a torn last record (a crash in
// mid-write) is cut off; the records from `acked` on are delivered again — a
// consumer may see one twice and deduplicates on (producer_id, sequence).
//
// The spool is bounded by max_bytes: when an append would exceed it, the
// policy decides — refuse the new record (kRefuseNew: the caller is told and
// must keep it or report the loss) or drop the oldest undelivered records
// (kDropOldest) — and dropped() counts what was lost. Thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tidewatch::sinks {


struct SpoolOptions {
  std::string dir;
  uint64_t max_bytes = 1ull << 30;
  uint64_t segment_bytes = 64ull << 20;
  enum class FullPolicy { kRefuseNew, kDropOldest } full_policy = FullPolicy::kRefuseNew;
};

class Spool {
 public:
  static Status Open(SpoolOptions options, std::unique_ptr<Spool>* out);
  ~Spool();

  // Appends one record; returns its index. A full spool under kRefuseNew
  // returns an error saying so.
  Status Append(std::string_view payload, uint64_t* index);
  // The next record not yet handed out by Next(), in order; false when none.
  bool Next(std::string* payload, uint64_t* index);
  // Hands the records from `index` on out again (after a failed send); the
  // lowest index rewound to wins. Records acknowledged meanwhile are skipped.
  void Rewind(uint64_t index);
  // Record `index` was delivered. Records may be acknowledged out of order;
  // the persisted watermark advances over the contiguous prefix.
  void Ack(uint64_t index);
  // Writes the watermark and deletes fully delivered segments.
  Status Checkpoint();

  uint64_t pending() const;       // appended and not yet acknowledged
  uint64_t bytes() const;         // on disk
  uint64_t dropped() const;       // lost to kDropOldest
  uint64_t acked_through() const; // every index below this was delivered
  // The newest record the spool held when it was opened, delivered or not;
  // false when it held none.
  bool LastAtOpen(std::string* payload) const;

 private:
  struct Segment {
    uint64_t first = 0, count = 0, bytes = 0;
    std::string path;
  };
  explicit Spool(SpoolOptions o) : options_(std::move(o)) {}
  Status Load();
  Status Roll();
  bool ReadAt(uint64_t index, std::string* payload);
  void DropOldestLocked();

  SpoolOptions options_;
  mutable std::mutex mu_;
  std::deque<Segment> segments_;
  std::FILE* writer_ = nullptr;
  uint64_t next_index_ = 0;   // index of the next append
  uint64_t acked_ = 0;        // watermark
  uint64_t cursor_ = 0;       // next index Next() returns
  uint64_t total_bytes_ = 0;
  uint64_t dropped_ = 0;
  bool has_last_at_open_ = false;
  std::string last_at_open_;
  std::deque<bool> acked_beyond_;  // acknowledgements for indexes acked_, acked_+1, …
  // Sequential reading: the segment and offset of the cursor.
  std::FILE* reader_ = nullptr;
  uint64_t reader_segment_first_ = UINT64_MAX;
  uint64_t reader_index_ = 0;
};

}  // namespace tidewatch::sinks
