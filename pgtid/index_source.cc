#include "pgtid/index_source.h"

#include <charconv>

#include "base/host_port.h"
#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

StreamingIndexSource::StreamingIndexSource(binlog::ReplicaStreamOptions stream, const PseudoGtidPattern* pattern,
                                           IndexOptions options)
    : stream_(std::move(stream)), pattern_(pattern), options_(options) {}

StreamingIndexSource::~StreamingIndexSource() = default;

IndexFollower& StreamingIndexSource::FollowerOf(const std::string& host, uint16_t port) {
  auto& f = followers_[host + ":" + std::to_string(port)];
  if (!f) {
    IndexFollowerOptions o;
    o.host = host;
    o.port = port;
    o.stream = stream_;
    o.pattern = pattern_;
    o.index = options_;
    o.store = store_;
    f = std::make_unique<IndexFollower>(std::move(o));
  }
  return *f;
}

const ServerIndex* StreamingIndexSource::Known(const std::string& host, uint16_t port) {
  const std::string name = host + ":" + std::to_string(port);
  if (auto it = followers_.find(name); it != followers_.end()) return it->second->index();
  IndexFollower& f = FollowerOf(host, port);
  bool found = false;
  (void)f.Load(&found);  // unverified: the server may be dead
  return f.index();
}

void StreamingIndexSource::Adopt(std::unique_ptr<ServerIndex> index) {
  auto hp = ParseHostPort(index->server());
  if (!hp) return;
  FollowerOf(hp->host, hp->port).Adopt(std::move(index));
}

Status StreamingIndexSource::CaughtUp(const std::string& host, uint16_t port, const ServerIndex** out) {
  const std::string name = host + ":" + std::to_string(port);
  const bool first = followers_.find(name) == followers_.end();
  IndexFollower& f = FollowerOf(host, port);
  if (first) {
    bool found = false;
    Status s = f.Load(&found);
    if (!s.ok()) discarded_ = name + ": index store: " + s.message();
  }

  // The binlogs the server has, for the start and the progress total.
  SqlEndpoint ep{host, port, stream_.user, stream_.password};
  std::unique_ptr<SqlConnection> c;
  Status s = SqlConnection::Connect(ep, &c);
  if (!s.ok()) return s;
  SqlResult logs;
  s = c->Query("SHOW BINARY LOGS", &logs);
  if (!s.ok()) return s;
  std::vector<BinaryLog> binary_logs;
  std::vector<std::string> names;
  for (size_t i = 0; i < logs.rows.size(); ++i) {
    BinaryLog l;
    l.name = logs.GetOr(i, "Log_name");
    const std::string sz = logs.GetOr(i, "File_size");
    std::from_chars(sz.data(), sz.data() + sz.size(), l.size);
    names.push_back(l.name);
    binary_logs.push_back(std::move(l));
  }
  if (binary_logs.empty()) return Status::NotSupported(name + ": the server has no binary logs");
  if (f.unverified()) {
    Status v = f.Verify(names);
    if (!v.ok()) discarded_ = name + ": " + v.message();
  }
  s = f.CatchUp(binary_logs, progress_);
  if (!s.ok()) return s;
  *out = f.index();
  return Status::OK();
}

}  // namespace tidewatch::pgtid
