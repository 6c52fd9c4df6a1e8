#include "pgtid/server_index.h"

#include <algorithm>
#include <functional>

namespace tidewatch::pgtid {

ServerIndex::ServerIndex(std::string server, IndexOptions options)
    : server_(std::move(server)), options_(options) {
  if (options_.max_entries == 0) options_.max_entries = 1;
}

uint64_t ServerIndex::TextKey(std::string_view text) { return std::hash<std::string_view>{}(text); }

void ServerIndex::SetFile(std::string_view file) {
  if (has_file_ && files_[file_] == file) return;
  auto it = file_index_.find(std::string(file));
  if (it == file_index_.end()) {
    files_.emplace_back(file);
    it = file_index_.emplace(std::string(file), static_cast<uint32_t>(files_.size() - 1)).first;
  }
  file_ = it->second;
  has_file_ = true;
  indexed_pos_ = 4;  // after the binlog magic
}

std::optional<uint32_t> ServerIndex::FileIndex(std::string_view file) const {
  auto it = file_index_.find(std::string(file));
  if (it == file_index_.end()) return std::nullopt;
  return it->second;
}

BinlogCoordinates ServerIndex::position() const {
  if (!has_file_) return {};
  return {files_[file_], indexed_pos_};
}

void ServerIndex::AddEvent(uint64_t pos, uint64_t end_pos, EventSignature signature) {
  ++ordinal_;
  indexed_pos_ = end_pos;
  if (window_.empty() || window_.back().file != file_ || window_.back().events.size() >= kSegmentEvents) {
    if (!window_.empty()) window_.back().events.shrink_to_fit();
    WindowSegment s;
    s.file = file_;
    s.first_ordinal = ordinal_;
    window_.push_back(std::move(s));
  }
  window_.back().events.push_back(PackEvent(end_pos, signature));
  ++window_size_;
  TrimWindow();
}

void ServerIndex::AddEntry(uint64_t pos, uint64_t end_pos, std::string_view text, uint32_t timestamp,
                           std::string gtid) {
  PseudoGtidEntry e;
  e.text.assign(text);
  e.file = file_;
  e.pos = pos;
  e.end_pos = end_pos;
  e.ordinal = ordinal_;
  e.timestamp = timestamp;
  e.gtid = std::move(gtid);
  RestoreEntry(std::move(e));
}

void ServerIndex::RestoreEntry(PseudoGtidEntry e) {
  by_text_.emplace(TextKey(e.text), first_entry_ + entries_.size());
  entries_.push_back(std::move(e));
  TrimEntries();
}

void ServerIndex::RestoreSegment(WindowSegment s) {
  window_size_ += s.events.size();
  window_.push_back(std::move(s));
  TrimWindow();
}

void ServerIndex::RestorePosition(uint32_t file, uint64_t pos, uint64_t ordinal) {
  if (file < files_.size()) {
    file_ = file;
    has_file_ = true;
  }
  indexed_pos_ = pos;
  ordinal_ = ordinal;
  if (!window_.empty()) {
    window_base_ordinal_ = window_.front().first_ordinal - 1;
  } else {
    window_base_ordinal_ = ordinal;  // nothing before the position is known
  }
}

void ServerIndex::DropFirstEntry() {
  auto range = by_text_.equal_range(TextKey(entries_.front().text));
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == first_entry_) {
      by_text_.erase(it);
      break;
    }
  }
  entries_.pop_front();
  ++first_entry_;
}

void ServerIndex::TrimEntries() {
  while (entries_.size() > options_.max_entries) DropFirstEntry();
}

void ServerIndex::DropFirstSegment() {
  const auto& s = window_.front();
  window_base_ordinal_ = s.first_ordinal + s.events.size() - 1;
  window_size_ -= s.events.size();
  window_.pop_front();
}

void ServerIndex::TrimWindow() {
  while (window_.size() > 1 && window_size_ - window_.front().events.size() >= options_.window_events) {
    DropFirstSegment();
  }
}

const PseudoGtidEntry* ServerIndex::FindEntry(std::string_view text) const {
  auto range = by_text_.equal_range(TextKey(text));
  const PseudoGtidEntry* found = nullptr;
  for (auto it = range.first; it != range.second; ++it) {
    const auto& e = entries_[it->second - first_entry_];
    // The same text twice (a re-injected statement) matches the latest.
    if (e.text == text && (found == nullptr || e.ordinal > found->ordinal)) found = &e;
  }
  return found;
}

const PseudoGtidEntry* ServerIndex::LastEntryAtOrBefore(const BinlogCoordinates& at) const {
  auto f = FileIndex(at.file);
  if (!f) {
    // A file this index never saw: every entry of an earlier file is before it.
    const uint64_t n = BinlogCoordinates::FileNumber(at.file);
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (BinlogCoordinates::FileNumber(files_[it->file]) < n) return &*it;
    }
    return nullptr;
  }
  auto after = std::upper_bound(entries_.begin(), entries_.end(), std::make_pair(*f, at.pos),
                                [](const std::pair<uint32_t, uint64_t>& p, const PseudoGtidEntry& e) {
                                  return p.first < e.file || (p.first == e.file && p.second < e.end_pos);
                                });
  if (after == entries_.begin()) return nullptr;
  return &*std::prev(after);
}

std::optional<uint64_t> ServerIndex::OrdinalAt(uint32_t file, uint64_t pos) const {
  for (auto seg = window_.rbegin(); seg != window_.rend(); ++seg) {
    if (seg->file > file) continue;
    if (seg->file < file) return seg->first_ordinal + seg->events.size() - 1;
    if (EventEnd(seg->events.front()) > pos) continue;
    // The last event of the segment that ends at or before pos.
    auto it = std::upper_bound(seg->events.begin(), seg->events.end(), pos,
                               [](uint64_t p, uint64_t packed) { return p < EventEnd(packed); });
    return seg->first_ordinal + static_cast<uint64_t>(it - seg->events.begin()) - 1;
  }
  // Before every event in the window: known only if nothing was dropped.
  if (window_base_ordinal_ == 0) return 0;
  return std::nullopt;
}

const ServerIndex::WindowSegment* ServerIndex::SegmentOf(uint64_t o) const {
  auto it = std::upper_bound(window_.begin(), window_.end(), o,
                             [](uint64_t x, const WindowSegment& s) { return x < s.first_ordinal; });
  if (it == window_.begin()) return nullptr;
  --it;
  return o < it->first_ordinal + it->events.size() ? &*it : nullptr;
}

Status ServerIndex::Translate(const BinlogCoordinates& at, EntryOffset* out) const {
  *out = EntryOffset();
  auto f = FileIndex(at.file);
  if (!f) {
    return Status::NotSupported(server_ + ": " + at.ToString() + " is not in the indexed binlogs" +
                                (files_.empty() ? std::string(" (nothing indexed)")
                                                : " (indexed " + files_.front() + " to " + files_.back() + ")"));
  }
  if (*f > file_ || (*f == file_ && at.pos > indexed_pos_)) {
    return Status::NotSupported(server_ + ": " + at.ToString() + " is beyond the indexed position " +
                                position().ToString());
  }
  const PseudoGtidEntry* e = LastEntryAtOrBefore(at);
  if (e == nullptr) {
    return Status::NotSupported(server_ + ": no Pseudo-GTID entry at or before " + at.ToString());
  }
  auto ordinal = OrdinalAt(*f, at.pos);
  if (!ordinal) {
    return Status::NotSupported(server_ + ": " + at.ToString() +
                                " is older than the index's event window");
  }
  if (*ordinal < e->ordinal) {
    return Status::Corruption(server_ + ": inconsistent index at " + at.ToString());
  }
  out->entry = e;
  out->k = *ordinal - e->ordinal;
  if (e->ordinal >= window_base_ordinal_ && out->k > 0) {
    out->signatures.reserve(out->k);
    for (const auto& seg : window_) {
      const uint64_t first = seg.first_ordinal, last = seg.first_ordinal + seg.events.size() - 1;
      if (last <= e->ordinal || first > *ordinal) continue;
      for (uint64_t o = std::max(first, e->ordinal + 1); o <= std::min(last, *ordinal); ++o) {
        out->signatures.push_back(EventSig(seg.events[o - first]));
      }
    }
    if (out->signatures.size() != out->k) out->signatures.clear();
  }
  return Status::OK();
}

void ServerIndex::DropFilesBefore(std::string_view oldest_file) {
  auto f = FileIndex(oldest_file);
  if (!f) return;
  while (!entries_.empty() && entries_.front().file < *f) DropFirstEntry();
  while (!window_.empty() && window_.front().file < *f) DropFirstSegment();
}

size_t ServerIndex::MemoryBytes() const {
  size_t n = sizeof(*this);
  for (const auto& f : files_) n += sizeof(f) + f.capacity() + 48;  // + the name → index node
  n += entries_.size() * sizeof(PseudoGtidEntry);
  for (const auto& e : entries_) {
    if (e.text.capacity() > 15) n += e.text.capacity() + 1;
    if (e.gtid.capacity() > 15) n += e.gtid.capacity() + 1;
  }
  n += by_text_.size() * (sizeof(std::pair<uint64_t, uint64_t>) + 2 * sizeof(void*)) +
       by_text_.bucket_count() * sizeof(void*);
  for (const auto& s : window_) n += sizeof(s) + s.events.capacity() * sizeof(uint64_t);
  return n;
}

}  // namespace tidewatch::pgtid
