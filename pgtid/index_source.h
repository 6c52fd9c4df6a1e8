// IndexSource: where the matcher gets a server's index. StreamingIndexSource
// keeps one IndexFollower (index_follower.h) per server and catches it up by
// reading the server's binlogs over the replication protocol — from its
// first binlog the first time, then only what is new —
// so a command run without a daemon pays one read of the logs it needs, at
// stream speed, never a SHOW BINLOG EVENTS scan.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>


#include "binlog/replica_stream.h"
#include "pgtid/index_follower.h"
#include "pgtid/index_store.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "pgtid/server_index.h"

namespace tidewatch::pgtid {

class IndexSource {
 public:
  virtual ~IndexSource() = default;
  // The index of host:port caught up to the server's current end of binlog.
  virtual Status CaughtUp(const std::string& host, uint16_t port, const ServerIndex** out) = 0;
  // What is already known of host:port without reading it (it may be
  // dead); nullptr when nothing is.
  virtual const ServerIndex* Known(const std::string& host, uint16_t port) = 0;
};

class StreamingIndexSource : public IndexSource {
 public:
  // `stream` carries the credentials, TLS settings and the server_id to
  // register with; host, port and start position are set per server.
  StreamingIndexSource(binlog::ReplicaStreamOptions stream, const PseudoGtidPattern* pattern,
                       IndexOptions options = {});
  ~StreamingIndexSource() override;

  void set_progress(std::function<void(const IndexProgress&)> f) { progress_ = std::move(f); }
  // Indexes are loaded from `store` instead of being rebuilt, and synced to
  // it after each catch-up. A loaded index is verified against its server
  // before it is caught up (the server still has its files, the event at its
  // last entry is still that entry); one that fails is forgotten and rebuilt.
  // Known() returns a stored index unverified: its server may be dead.
  void set_store(IndexStore* store) { store_ = store; }
  // Why the last loaded index was discarded ("" if it was not).
  const std::string& discarded() const { return discarded_; }

  Status CaughtUp(const std::string& host, uint16_t port, const ServerIndex** out) override;
  const ServerIndex* Known(const std::string& host, uint16_t port) override;
  // Adopts an index built elsewhere (e.g. loaded from the store).
  void Adopt(std::unique_ptr<ServerIndex> index);

 private:
  IndexFollower& FollowerOf(const std::string& host, uint16_t port);

  binlog::ReplicaStreamOptions stream_;
  const PseudoGtidPattern* pattern_;
  IndexOptions options_;
  std::function<void(const IndexProgress&)> progress_;
  IndexStore* store_ = nullptr;  // not owned
  std::string discarded_;
  std::map<std::string, std::unique_ptr<IndexFollower>> followers_;  // by host:port
};

}  // namespace tidewatch::pgtid
