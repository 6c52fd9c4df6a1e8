// ServerIndex: what Tidewatch knows of one server's binary log, built from the
// stream as it is written (see Indexer):
//
//  * the Pseudo-GTID entries in log order, each with its coordinates, the
//    number of replicated events since the log's indexed start (its ordinal;
//    the difference of two ordinals is the count between two entries) and the
//    GTID of its own transaction where the server writes GTIDs — a GTID →
//    coordinates anchor;
//  * a window of the most recent replicated events: end position and
//    signature of each, 8 bytes per event. It turns any coordinates inside it
//    into "entry P plus k events" without reading the server again, which is
//    what makes matching work when this server is dead.
//
// Memory is bounded by IndexOptions: the oldest entries and window events go
// first; DropFilesBefore() forgets what the server has purged.
//
// Ordinals: the i-th replicated event indexed has ordinal i (from 1). An
// entry's ordinal is its own event's. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "pgtid/coordinates.h"
#include "pgtid/replicated_event.h"

namespace tidewatch::pgtid {


struct IndexOptions {
  size_t max_entries = 1 << 20;
  size_t window_events = 1 << 21;  // 16 MiB of window per server
};

struct PseudoGtidEntry {
  std::string text;       // the statement
  uint32_t file = 0;      // index into ServerIndex::files()
  uint64_t pos = 0;       // the entry event's position
  uint64_t end_pos = 0;   // the position after it
  uint64_t ordinal = 0;
  uint32_t timestamp = 0; // the event's header timestamp
  std::string gtid;       // its transaction's GTID ("0-1-42" / "uuid:n"), if any
};

// Coordinates expressed as "entry plus k replicated events".
struct EntryOffset {
  const PseudoGtidEntry* entry = nullptr;
  uint64_t k = 0;
  // The signatures of the k events after the entry, when the window holds them.
  std::vector<EventSignature> signatures;
};

class ServerIndex {
 public:
  explicit ServerIndex(std::string server, IndexOptions options = {});

  const std::string& server() const { return server_; }

  // --- Feeding, in log order (the Indexer does this). ---
  // The events that follow are in `file` (a ROTATE, or the stream's start).
  void SetFile(std::string_view file);
  // A replicated event [pos, end_pos) of the current file.
  void AddEvent(uint64_t pos, uint64_t end_pos, EventSignature signature);
  // A Pseudo-GTID entry at [pos, end_pos): a QUERY event just added with
  // AddEvent, or an ANNOTATE_ROWS / ROWS_QUERY event (not counted itself;
  // the entry's ordinal is then the last counted event's).
  void AddEntry(uint64_t pos, uint64_t end_pos, std::string_view text, uint32_t timestamp,
                std::string gtid);
  // Every event up to `end_pos` of the current file has been indexed
  // (server-local events included).
  void SetIndexedThrough(uint64_t end_pos) { indexed_pos_ = end_pos; }

  // --- Queries. ---
  // Coordinates indexed through: where a stream feeding this index resumes.
  BinlogCoordinates position() const;
  const std::vector<std::string>& files() const { return files_; }
  // The index of `file` in files(), if this index has seen it.
  std::optional<uint32_t> FileIndex(std::string_view file) const;
  BinlogCoordinates CoordinatesOf(const PseudoGtidEntry& e) const { return {files_[e.file], e.pos}; }

  size_t entry_count() const { return entries_.size(); }
  // Entries dropped so far (entries are numbered from this on).
  uint64_t first_entry_number() const { return first_entry_; }
  const PseudoGtidEntry& entry(size_t i) const { return entries_[i]; }
  const PseudoGtidEntry* LastEntry() const { return entries_.empty() ? nullptr : &entries_.back(); }
  const PseudoGtidEntry* FindEntry(std::string_view text) const;
  // The last entry at or before `at`.
  const PseudoGtidEntry* LastEntryAtOrBefore(const BinlogCoordinates& at) const;
  uint64_t events_indexed() const { return ordinal_; }

  // `at` (the end of an event, e.g. a replica's Exec_Master_Log_Pos in this
  // server's coordinates) as the last entry at or before it plus k events.
  // Fails, saying why, when `at` is beyond what was indexed, before the first
  // entry, or older than the window.
  Status Translate(const BinlogCoordinates& at, EntryOffset* out) const;

  // Forgets entries and window events in files before `oldest_file` (the
  // server purged them).
  void DropFilesBefore(std::string_view oldest_file);

  // Heap bytes held (entries, texts, window, lookup table).
  size_t MemoryBytes() const;

  // --- Window access and restore (for the persistent store). ---
  struct WindowSegment {
    uint32_t file = 0;
    uint64_t first_ordinal = 0;        // ordinal of events[0]
    std::vector<uint64_t> events;      // end_pos << 24 | signature
  };
  const std::deque<WindowSegment>& window() const { return window_; }
  // The window segment holding the event of ordinal `o`; nullptr when the
  // window does not hold it. Segments hold consecutive ordinals, and the
  // next segment (if any) continues where one ends.
  const WindowSegment* SegmentOf(uint64_t o) const;
  // Rebuilds an index from persisted parts: files, then entries and segments
  // in order, then the position.
  void RestoreFile(std::string name) { SetFile(name); }
  // Before RestoreEntry: the number of the first entry restored.
  void RestoreFirstEntryNumber(uint64_t n) { first_entry_ = n; }
  void RestoreEntry(PseudoGtidEntry e);
  void RestoreSegment(WindowSegment s);
  void RestorePosition(uint32_t file, uint64_t pos, uint64_t ordinal);

  static constexpr size_t kSegmentEvents = 1 << 16;
  static uint64_t PackEvent(uint64_t end_pos, EventSignature s) { return end_pos << 24 | (s & 0xffffff); }
  static uint64_t EventEnd(uint64_t packed) { return packed >> 24; }
  static EventSignature EventSig(uint64_t packed) { return static_cast<EventSignature>(packed & 0xffffff); }

 private:
  static uint64_t TextKey(std::string_view text);
  // Forgets the oldest entry (entries_ must not be empty): its by_text_ slot
  // and itself; first_entry_ numbers the next one.
  void DropFirstEntry();
  // Forgets the oldest window segment (window_ must not be empty); the
  // window then covers points after its last event.
  void DropFirstSegment();
  void TrimEntries();
  void TrimWindow();
  // Ordinal of the last event ending at or before `pos` in `file`, if the
  // window covers that point.
  std::optional<uint64_t> OrdinalAt(uint32_t file, uint64_t pos) const;

  std::string server_;
  IndexOptions options_;
  std::vector<std::string> files_;
  std::unordered_map<std::string, uint32_t> file_index_;
  uint32_t file_ = 0;
  bool has_file_ = false;
  uint64_t indexed_pos_ = 4;
  uint64_t ordinal_ = 0;

  std::deque<PseudoGtidEntry> entries_;
  uint64_t first_entry_ = 0;
  std::unordered_multimap<uint64_t, uint64_t> by_text_;  // text key → entry number

  std::deque<WindowSegment> window_;
  size_t window_size_ = 0;
  // Ordinal of the last event before the window's first event whose
  // coordinates are known: the window covers points after it.
  uint64_t window_base_ordinal_ = 0;
};

}  // namespace tidewatch::pgtid
