#include "bench/binlog_event_cursor.h"

namespace tidewatch::orchestrator {

namespace {
constexpr int kMaxEmpty = 10;  // orchestrator's maxEmptyEventsEvents
}

BinlogEventCursor::BinlogEventCursor(const BinlogCoordinates& start, Fetch fetch,
                                     const std::vector<std::string>* skip_containing,
                                     const InfoNormalizer* normalizer)
    : fetch_(std::move(fetch)), skip_(skip_containing), normalizer_(normalizer) {
  if (!fetch_(start, &cached_).ok()) cached_.clear();
  if (!cached_.empty()) next_ = cached_.front().Next();
}

Status BinlogEventCursor::NextEvent(int empty_fetches, BinlogEventRow** out) {
  for (;; ++empty_fetches) {
    if (empty_fetches > kMaxEmpty) {
      *out = nullptr;
      return Status::OK();
    }
    if (cached_.empty()) {
      Status s = fetch_({NextFile(next_.file), 0}, &cached_);
      if (!s.ok()) return s;
      index_ = -1;
      continue;
    }
    if (index_ + 1 < static_cast<int>(cached_.size())) {
      BinlogEventRow& e = cached_[++index_];
      next_ = e.Next();
      *out = &e;
      return Status::OK();
    }
    const BinlogCoordinates from = cached_.back().Next();
    Status s = fetch_(from, &cached_);
    if (!s.ok()) return s;
    index_ = -1;
  }
}

Status BinlogEventCursor::NextRealEvent(const BinlogEventRow** out) {
  for (int skipped = 0;; ++skipped) {
    if (skipped > kMaxEmpty) {
      *out = nullptr;
      return Status::OK();
    }
    BinlogEventRow* e = nullptr;
    Status s = NextEvent(0, &e);
    if (!s.ok() || e == nullptr) {
      *out = nullptr;
      return s;
    }
    if (e->type == "Format_desc" || e->type == "Stop" || e->type == "Rotate") continue;
    bool skip = false;
    for (const auto& sub : *skip_) {
      if (e->info.find(sub) != std::string::npos) {
        skip = true;
        break;
      }
    }
    if (skip) continue;
    normalizer_->Normalize(&e->info);
    *out = e;
    return Status::OK();
  }
}

Status BinlogEventCursor::NextCoordinates(BinlogCoordinates* out) const {
  if (next_.pos == 0) return Status::NotSupported("next coordinates unfound");
  *out = next_;
  return Status::OK();
}

}  // namespace tidewatch::orchestrator
