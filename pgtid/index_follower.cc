#include "pgtid/index_follower.h"

#include <algorithm>
#include <variant>

#include "binlog/binlog_range_reader.h"
#include "binlog/event_decoder.h"

namespace tidewatch::pgtid {

namespace {

// The event at the index's last entry is still that entry.
Status VerifyLastEntry(const ServerIndex& index, binlog::ReplicaStreamOptions o) {
  const PseudoGtidEntry* e = index.LastEntry();
  if (e == nullptr) return Status::OK();
  o.start_file = index.files()[e->file];
  o.start_pos = e->pos;
  o.start_gtid.clear();
  binlog::EventDecoder decoder;
  binlog::Event event;
  std::string text;
  bool seen = false;
  Status s = binlog::ReadBinlogRange(o, [&](const binlog::StreamEvent& ev) {
    seen = true;
    if (decoder.Decode(ev.raw, ev.format, &event).ok()) {
      if (auto* q = std::get_if<binlog::QueryBody>(&event.body)) text = q->query;
      if (auto* r = std::get_if<binlog::RowsQueryBody>(&event.body)) text = r->query;
    }
    return false;
  });
  if (!s.ok()) return s;
  if (!seen || text != e->text) {
    return Status::Corruption("the event at " + index.CoordinatesOf(*e).ToString() + " is no longer the entry \"" +
                              e->text + "\"");
  }
  return Status::OK();
}

}  // namespace

Status VerifyStoredIndex(const ServerIndex& index, const binlog::ReplicaStreamOptions& stream,
                         const std::vector<std::string>& binary_logs) {
  const std::string& at = index.position().file;
  if (std::find(binary_logs.begin(), binary_logs.end(), at) == binary_logs.end()) {
    return Status::Corruption("the server no longer has the indexed binlog " + at);
  }
  return VerifyLastEntry(index, stream);
}

IndexFollower::IndexFollower(IndexFollowerOptions options)
    : o_(std::move(options)), key_(o_.host + ":" + std::to_string(o_.port)) {
  o_.stream.host = o_.host;
  o_.stream.port = o_.port;
}

IndexFollower::~IndexFollower() { StopFollowing(); }

void IndexFollower::NewIndex() {
  index_ = std::make_unique<ServerIndex>(key_, o_.index);
  indexer_ = std::make_unique<Indexer>(index_.get(), o_.pattern);
}

void IndexFollower::Adopt(std::unique_ptr<ServerIndex> index) {
  unverified_ = false;
  index_ = std::move(index);
  indexer_ = std::make_unique<Indexer>(index_.get(), o_.pattern);
  synced_events_ = index_->events_indexed();
}

Status IndexFollower::Load(bool* found) {
  *found = false;
  if (o_.store == nullptr || o_.pattern == nullptr) return Status::OK();
  auto index = std::make_unique<ServerIndex>(key_, o_.index);
  Status s = o_.store->Load(key_, index.get(), found);
  if (!s.ok() || !*found) return s;
  Adopt(std::move(index));
  synced_once_ = true;
  unverified_ = true;
  return Status::OK();
}

Status IndexFollower::Verify(const std::vector<std::string>& binary_logs) {
  if (!unverified_ || !index_) return Status::OK();
  unverified_ = false;
  binlog::ReplicaStreamOptions verify = o_.stream;
  if (o_.verify_server_id != 0) verify.server_id = o_.verify_server_id;
  Status s = VerifyStoredIndex(*index_, verify, binary_logs);
  if (!s.ok()) {
    (void)o_.store->Forget(key_);
    NewIndex();
    synced_once_ = false;
    return s.WithContext("stored index discarded");
  }
  return Status::OK();
}

BinlogCoordinates IndexFollower::ResumeFrom(const std::vector<std::string>& binary_logs) {
  if (o_.pattern == nullptr || binary_logs.empty()) return {};
  if (index_) {
    index_->DropFilesBefore(binary_logs.front());
    const BinlogCoordinates at = index_->position();
    if (!at.empty() && std::find(binary_logs.begin(), binary_logs.end(), at.file) != binary_logs.end()) return at;
  }
  // Nothing indexed, or the server purged past the index: it would have a gap.
  NewIndex();
  return {binary_logs.front(), 4};
}

Status IndexFollower::Index(const binlog::StreamEvent& e, bool* new_entry, bool* undecoded) {
  *new_entry = false;
  if (undecoded != nullptr) *undecoded = false;
  if (!indexer_) return Status::OK();
  const uint64_t before = indexer_->entries_found();
  const uint64_t undecoded_before = indexer_->undecoded_events();
  Status s = indexer_->Add(e.file, e.raw, e.format);
  if (undecoded != nullptr && indexer_) *undecoded = indexer_->undecoded_events() != undecoded_before;
  if (!s.ok()) {
    indexer_.reset();
    index_.reset();
    if (callbacks_ && callbacks_->on_index_dropped) callbacks_->on_index_dropped(s.message());
    return s;
  }
  *new_entry = indexer_->entries_found() != before;
  return Status::OK();
}

void IndexFollower::Follow(boost::asio::io_context& io, const std::vector<std::string>& binary_logs,
                           const BinlogCoordinates& server_end, Callbacks callbacks) {
  StopFollowing();
  callbacks_ = std::make_shared<Callbacks>(std::move(callbacks));
  binlog::ReplicaStreamOptions so = o_.stream;
  so.start_gtid.clear();
  so.non_blocking = false;
  so.max_reconnects = -1;
  const BinlogCoordinates from = ResumeFrom(binary_logs);
  if (!from.empty()) {
    so.start_file = from.file;
    so.start_pos = from.pos;
  } else {
    so.start_file = server_end.file;
    so.start_pos = server_end.pos > 4 ? server_end.pos : 4;
  }
  // The stream's handlers may run after it was stopped (and this follower
  // destroyed): they hold the callbacks, and reach the follower only while
  // `following` says it is there. All of it runs on the io thread.
  std::shared_ptr<Callbacks> cb = callbacks_;
  following_ = std::make_shared<bool>(true);
  stream_ = std::make_unique<binlog::ReplicaStream>(
      io, so,
      [this, cb, following = following_](const binlog::StreamEvent& e) {
        if (!*following) return;
        if (e.heartbeat) {
          if (cb->on_heartbeat) cb->on_heartbeat();
          return;
        }
        if (e.artificial) return;
        bool new_entry = false, undecoded = false;
        (void)Index(e, &new_entry, &undecoded);  // an error drops the index (on_index_dropped); the stream goes on
        if (undecoded) stream_->NoteUndecoded();  // counted in the stream's state; it goes on
        if (cb->on_event) cb->on_event(e);
        if (new_entry && cb->on_entry) cb->on_entry(*index_->LastEntry(), e.file);
      },
      [cb](const binlog::StreamStatus& st) {
        if (cb->on_status) cb->on_status(st);
      });
  stream_->Start();
}

void IndexFollower::StopFollowing() {
  if (following_) *following_ = false;
  if (stream_) stream_->Stop();
}

Status IndexFollower::CatchUp(const std::vector<BinaryLog>& binary_logs,
                              const std::function<void(const IndexProgress&)>& progress) {
  if (binary_logs.empty()) return Status::NotSupported(key_ + ": the server has no binary logs");
  std::vector<std::string> names;
  for (const auto& l : binary_logs) names.push_back(l.name);
  const BinlogCoordinates from = ResumeFrom(names);
  IndexProgress p;
  p.server = key_;
  for (const auto& l : binary_logs) {
    const BinlogCoordinates end{l.name, 0};
    if (l.name == from.file) {
      p.total_bytes += l.size > from.pos ? l.size - from.pos : 0;
    } else if (from < end) {
      p.total_bytes += l.size;
    }
  }
  binlog::ReplicaStreamOptions o = o_.stream;
  o.start_file = from.file;
  o.start_pos = from.pos;
  o.start_gtid.clear();
  Status failure;
  uint64_t next_report = 0;
  Status s = binlog::ReadBinlogRange(o, [&](const binlog::StreamEvent& e) {
    bool new_entry = false;
    failure = Index(e, &new_entry);
    if (!failure.ok()) return false;
    p.bytes += e.raw.header.event_size;
    ++p.events;
    if (progress && p.bytes >= next_report) {
      progress(p);
      next_report = p.bytes + (8u << 20);
    }
    return true;
  });
  if (!failure.ok()) return failure;
  if (!s.ok()) return s;
  p.done = true;
  if (progress) progress(p);
  return Sync();
}

Status IndexFollower::Sync() {
  if (o_.store == nullptr || !index_) return Status::OK();
  if (synced_once_ && index_->events_indexed() == synced_events_) return Status::OK();
  Status s = o_.store->Sync(*index_);
  if (!s.ok()) return s;
  synced_events_ = index_->events_indexed();
  synced_once_ = true;
  return Status::OK();
}

}  // namespace tidewatch::pgtid
