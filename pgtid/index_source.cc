#include "pgtid/index_source.h"

#include <charconv>

#include "binlog/binlog_range_reader.h"
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

const ServerIndex* StreamingIndexSource::Known(const std::string& host, uint16_t port) {
  auto it = slots_.find(host + ":" + std::to_string(port));
  return it == slots_.end() ? nullptr : it->second->index.get();
}

void StreamingIndexSource::Adopt(std::unique_ptr<ServerIndex> index) {
  std::string name = index->server();
  slots_[name] = std::make_unique<Slot>(std::move(index), pattern_);
}

Status StreamingIndexSource::CaughtUp(const std::string& host, uint16_t port, const ServerIndex** out) {
  const std::string name = host + ":" + std::to_string(port);
  auto& slot = slots_[name];
  if (!slot) slot = std::make_unique<Slot>(std::make_unique<ServerIndex>(name, options_), pattern_);
  ServerIndex& index = *slot->index;

  // The binlogs the server has, for the start and the progress total.
  SqlEndpoint ep{host, port, stream_.user, stream_.password};
  std::unique_ptr<SqlConnection> c;
  Status s = SqlConnection::Connect(ep, &c);
  if (!s.ok()) return s;
  SqlResult logs;
  s = c->Query("SHOW BINARY LOGS", &logs);
  if (!s.ok()) return s;
  if (logs.rows.empty()) return Status::NotSupported(name + ": the server has no binary logs");
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

  binlog::ReplicaStreamOptions o = stream_;
  o.host = host;
  o.port = port;
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
  *out = &index;
  return Status::OK();
}

}  // namespace tidewatch::pgtid
