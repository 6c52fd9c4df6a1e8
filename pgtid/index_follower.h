// IndexFollower: one server's Pseudo-GTID index kept current, by the one
// path every index takes — the daemon's live indexes and the commands'
// one-shot ones alike:
//
//   store → verify → stream → indexer → sync
//
// 1. Load and Verify: the index kept in the IndexStore, if any, checked
//    against the server (it still has the binlog the index stops in, and the event at
//    the last entry is still that entry); one that fails is forgotten.
// 2. ResumeFrom: where reading starts — the index's position when the server
//    still has that file, otherwise (purged past it, or nothing stored) the
//    server's first binlog, with a new index. Files the server purged are
//    dropped from the index.
// 3. Follow (a live replica stream on the caller's io_context, reconnecting
//    forever) or CatchUp (one read to the server's current end of binlog).
// 4. Every event goes through the Indexer; an event the indexer cannot take
//    would leave a gap, so the index is dropped and rebuilt on the next
//    ResumeFrom — the stream itself goes on. An event whose body cannot be
//    decoded is indexed like any other and counted in the stream's state
//    (StreamStatus::undecoded_events).
// 5. Sync: what changed since the last sync is written to the store.
//
// Without a Pseudo-GTID pattern there is no index: Follow streams from the
// server's current end (for its state alone) and the rest does nothing.
//
// Threads: not thread-safe. Load and Verify block (Verify reads the server) and may
// run on any thread before Follow; after Follow, every call — and every
// callback — is on the io_context's thread. The store is shared and
// thread-safe (index_store.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/status.h"
#include "binlog/replica_stream.h"
#include "pgtid/index_store.h"
#include "pgtid/indexer.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "pgtid/server_index.h"

namespace tidewatch::pgtid {

struct IndexFollowerOptions {
  std::string host;
  uint16_t port = 0;
  // Credentials, TLS, the server_id to register with, heartbeat and read
  // timeout; host, port and start position are set by the follower.
  binlog::ReplicaStreamOptions stream;
  const PseudoGtidPattern* pattern = nullptr;  // not owned; nullptr: no index
  IndexOptions index;
  IndexStore* store = nullptr;  // not owned; nullptr: nothing is loaded or synced
  // The server_id of the short read that verifies a stored index (0: the
  // stream's): a live stream registered with the same id would be dropped by
  // the server.
  uint32_t verify_server_id = 0;
};

// A server's binary log as SHOW BINARY LOGS lists it.
struct BinaryLog {
  std::string name;
  uint64_t size = 0;  // 0: unknown
};

struct IndexProgress {
  std::string server;
  uint64_t bytes = 0, total_bytes = 0;  // total: what is left of the server's binlogs (0: unknown)
  uint64_t events = 0;
  bool done = false;
};

class IndexFollower {
 public:
  struct Callbacks {
    // Every event of the log (not the stream's artificial ones, not
    // heartbeats), after the index took it.
    std::function<void(const binlog::StreamEvent&)> on_event;
    // A heartbeat: the server had nothing more to send.
    std::function<void()> on_heartbeat;
    // A new Pseudo-GTID entry, in binlog `file` (the index's last entry).
    std::function<void(const PseudoGtidEntry&, std::string_view file)> on_entry;
    std::function<void(const binlog::StreamStatus&)> on_status;
    // The index was dropped (why): it would have had a gap.
    std::function<void(const std::string&)> on_index_dropped;
  };

  explicit IndexFollower(IndexFollowerOptions options);
  ~IndexFollower();
  IndexFollower(const IndexFollower&) = delete;
  IndexFollower& operator=(const IndexFollower&) = delete;

  const std::string& key() const { return key_; }

  // Step 1: the stored index, unverified (its server may be dead); `*found`
  // is false when nothing is stored. Replaces the index held.
  Status Load(bool* found);
  // Step 1, verified: the loaded index checked against its server
  // (`binary_logs`: its SHOW BINARY LOGS names). One that fails is forgotten
  // by the store and replaced by an empty index; the error says why.
  Status Verify(const std::vector<std::string>& binary_logs);
  // Whether the index was loaded and not yet verified.
  bool unverified() const { return unverified_; }

  // Step 2.
  BinlogCoordinates ResumeFrom(const std::vector<std::string>& binary_logs);

  // Step 3, live: a replica stream from ResumeFrom(binary_logs) — or, without
  // a pattern, from `server_end` (the server's SHOW MASTER STATUS). Stops a
  // stream already running. `stream()` is null until this is called.
  void Follow(boost::asio::io_context& io, const std::vector<std::string>& binary_logs,
              const BinlogCoordinates& server_end, Callbacks callbacks);
  void StopFollowing();
  binlog::ReplicaStream* stream() { return stream_.get(); }

  // Step 3, one-shot: reads from ResumeFrom to the server's current end of
  // binlog (a non-blocking dump), then syncs. `progress` is called every 8 MiB
  // and at the end.
  Status CatchUp(const std::vector<BinaryLog>& binary_logs,
                 const std::function<void(const IndexProgress&)>& progress = nullptr);

  // Step 5: writes what changed since the last sync; nothing when nothing did.
  Status Sync();

  // The index, or nullptr (no pattern, or dropped after a gap).
  const ServerIndex* index() const { return index_.get(); }
  // Replaces the index (one built elsewhere) and the indexer behind it.
  void Adopt(std::unique_ptr<ServerIndex> index);

 private:
  // Step 4. An error when the index was dropped. `*undecoded`: the indexer
  // could not decode the event's body (it indexed it all the same).
  Status Index(const binlog::StreamEvent& e, bool* new_entry, bool* undecoded = nullptr);
  void NewIndex();

  IndexFollowerOptions o_;
  std::string key_;
  std::unique_ptr<ServerIndex> index_;
  std::unique_ptr<Indexer> indexer_;
  uint64_t synced_events_ = 0;  // events_indexed() at the last sync (or load)
  bool synced_once_ = false;
  bool unverified_ = false;
  std::unique_ptr<binlog::ReplicaStream> stream_;
  std::shared_ptr<Callbacks> callbacks_;
  std::shared_ptr<bool> following_;  // false once the stream was stopped
};

// Whether a stored index still describes its server: the server still has
// the binlog the index stops in (`binary_logs`: SHOW BINARY LOGS), and the
// event at the index's last Pseudo-GTID entry is still that entry (read over
// the replication protocol with `stream`'s credentials, host and port).
Status VerifyStoredIndex(const ServerIndex& index, const binlog::ReplicaStreamOptions& stream,
                         const std::vector<std::string>& binary_logs);

}  // namespace tidewatch::pgtid
