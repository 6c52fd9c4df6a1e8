#include "analyzer/live_index_source.h"

#include <charconv>

namespace tidewatch::analyzer {

Status LiveIndexSource::CaughtUp(const std::string& host, uint16_t port, const pgtid::ServerIndex** out) {
  const std::string key = host + ":" + std::to_string(port);
  pgtid::SqlEndpoint ep = credentials_;
  ep.host = host;
  ep.port = port;
  std::unique_ptr<pgtid::SqlConnection> c;
  Status s = pgtid::SqlConnection::Connect(ep, &c);
  if (!s.ok()) return s;
  pgtid::SqlResult r;
  s = c->Query("SHOW MASTER STATUS", &r);
  if (!s.ok()) s = c->Query("SHOW BINARY LOG STATUS", &r);  // MySQL 8.4
  if (!s.ok()) return s;
  if (r.rows.empty()) return Status::NotSupported(key + ": the server has no binary log");
  const std::string file = r.GetOr(0, "File");
  uint64_t pos = 0;
  const std::string p = r.GetOr(0, "Position");
  std::from_chars(p.data(), p.data() + p.size(), pos);
  auto copy = monitor_->IndexSnapshot(key, file, pos);
  if (copy == nullptr) {
    origin_ = "fallback";
    return fallback_->CaughtUp(host, port, out);
  }
  if (copy->position() < pgtid::BinlogCoordinates{file, pos}) {
    return Status::IOError(key + ": the live index is at " + copy->position().ToString() +
                           ", behind the server's end of binlog " + file + ":" + std::to_string(pos));
  }
  origin_ = "live";
  auto& slot = copies_[key];
  slot = std::move(copy);
  *out = slot.get();
  return Status::OK();
}

const pgtid::ServerIndex* LiveIndexSource::Known(const std::string& host, uint16_t port) {
  const std::string key = host + ":" + std::to_string(port);
  if (auto it = copies_.find(key); it != copies_.end()) return it->second.get();
  auto copy = monitor_->IndexSnapshot(key);
  if (copy == nullptr) {
    origin_ = "fallback";
    return fallback_->Known(host, port);
  }
  origin_ = "live";
  auto& slot = copies_[key];
  slot = std::move(copy);
  return slot.get();
}

}  // namespace tidewatch::analyzer
