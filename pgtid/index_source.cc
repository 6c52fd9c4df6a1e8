#include "pgtid/index_source.h"

#include <algorithm>
#include <charconv>

#include <variant>

#include "binlog/binlog_range_reader.h"
#include "binlog/event_decoder.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

struct StreamingIndexSource::Slot {
  explicit Slot(std::unique_ptr<ServerIndex> i, const PseudoGtidPattern* p)
      : index(std::move(i)), indexer(index.get(), p) {}
  std::unique_ptr<ServerIndex> index;
  Indexer indexer;
};

StreamingIndexSource::StreamingIndexSource(binlog::ReplicaStreamOptions stream, const PseudoGtidPattern* pattern,
                                           IndexOptions options)
    : stream_(std::move(stream)), pattern_(pattern), options_(options) {}

StreamingIndexSource::~StreamingIndexSource() = default;

StreamingIndexSource::Slot* StreamingIndexSource::LoadFromStore(const std::string& name) {
  if (store_ == nullptr) return nullptr;
  auto index = std::make_unique<ServerIndex>(name, options_);
  bool found = false;
  if (!store_->Load(name, index.get(), &found).ok() || !found) return nullptr;
  auto& slot = slots_[name];
  slot = std::make_unique<Slot>(std::move(index), pattern_);
  return slot.get();
}

const ServerIndex* StreamingIndexSource::Known(const std::string& host, uint16_t port) {
  const std::string name = host + ":" + std::to_string(port);
  auto it = slots_.find(name);
  if (it != slots_.end()) return it->second->index.get();
  Slot* loaded = LoadFromStore(name);
  return loaded ? loaded->index.get() : nullptr;
}

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

void StreamingIndexSource::Adopt(std::unique_ptr<ServerIndex> index) {
  std::string name = index->server();
  slots_[name] = std::make_unique<Slot>(std::move(index), pattern_);
}

Status StreamingIndexSource::CaughtUp(const std::string& host, uint16_t port, const ServerIndex** out) {
  const std::string name = host + ":" + std::to_string(port);
  bool verify = false;
  if (slots_.find(name) == slots_.end()) verify = LoadFromStore(name) != nullptr;
  auto& slot = slots_[name];
  if (!slot) slot = std::make_unique<Slot>(std::make_unique<ServerIndex>(name, options_), pattern_);

  // The binlogs the server has, for the start and the progress total.
  SqlEndpoint ep{host, port, stream_.user, stream_.password};
  std::unique_ptr<SqlConnection> c;
  Status s = SqlConnection::Connect(ep, &c);
  if (!s.ok()) return s;
  SqlResult logs;
  s = c->Query("SHOW BINARY LOGS", &logs);
  if (!s.ok()) return s;
  if (logs.rows.empty()) return Status::NotSupported(name + ": the server has no binary logs");
  binlog::ReplicaStreamOptions o = stream_;
  o.host = host;
  o.port = port;
  if (verify) {
    std::vector<std::string> names;
    for (size_t i = 0; i < logs.rows.size(); ++i) names.push_back(logs.GetOr(i, "Log_name"));
    Status v = VerifyStoredIndex(*slot->index, o, names);
    if (!v.ok()) {
      discarded_ = name + ": stored index discarded: " + v.message();
      if (store_ != nullptr) (void)store_->Forget(name);
      slot = std::make_unique<Slot>(std::make_unique<ServerIndex>(name, options_), pattern_);
    }
  }
  ServerIndex& index = *slot->index;
  IndexProgress progress;
  progress.server = name;
  // What the server purged is forgotten.
  index.DropFilesBefore(logs.GetOr(0, "Log_name"));
  BinlogCoordinates from = index.position();
  if (!from.empty() && !index.FileIndex(logs.GetOr(0, "Log_name")) &&
      from < BinlogCoordinates{logs.GetOr(0, "Log_name"), 4}) {
    // Purged past the indexed position: the index has a gap; start again.
    *slot->index = ServerIndex(name, options_);
    from = {};
  }
  if (from.empty()) from = {logs.GetOr(0, "Log_name"), 4};
  for (size_t i = 0; i < logs.rows.size(); ++i) {
    BinlogCoordinates end{logs.GetOr(i, "Log_name"), 0};
    uint64_t size = 0;
    std::string sz = logs.GetOr(i, "File_size");
    std::from_chars(sz.data(), sz.data() + sz.size(), size);
    if (end.file == from.file) {
      progress.total_bytes += size > from.pos ? size - from.pos : 0;
    } else if (from < end) {
      progress.total_bytes += size;
    }
  }

  o.start_file = from.file;
  o.start_pos = from.pos;
  o.start_gtid.clear();
  Status failure;
  uint64_t next_report = 0;
  s = binlog::ReadBinlogRange(o, [&](const binlog::StreamEvent& e) {
    failure = slot->indexer.Add(e.file, e.raw, e.format);
    if (!failure.ok()) return false;
    progress.bytes += e.raw.header.event_size;
    ++progress.events;
    if (progress_ && progress.bytes >= next_report) {
      progress_(progress);
      next_report = progress.bytes + (8u << 20);
    }
    return true;
  });
  if (!failure.ok()) return failure;
  if (!s.ok()) return s;
  progress.done = true;
  if (progress_) progress_(progress);
  if (store_ != nullptr) {
    s = store_->Sync(index);
    if (!s.ok()) return s;
  }
  *out = &index;
  return Status::OK();
}

}  // namespace tidewatch::pgtid
