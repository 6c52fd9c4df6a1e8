// IndexStore: the Pseudo-GTID indexes of many servers persisted in one SQLite
// database (WAL journal), written incrementally, so that a restart of
// Tidewatch does not re-read every binlog and an index of a server that died
// meanwhile is still there.
//
// Sync() writes what changed since the last Sync of that server by this
// store: new files, new entries, entries and window events the index dropped,
// window events appended (in chunks of kChunkEvents; only the last chunk is
// rewritten as it grows) and the indexed position — in one transaction.
// Load() rebuilds an index that answers every query as the original did.
//
// Thread-safe: every call holds the store's mutex, so the daemon's io thread
// (syncing) and its workers (loading at start) share one store.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <string>
#include <vector>

#include "pgtid/server_index.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tidewatch::pgtid {

class IndexStore {
 public:
  static Status Open(const std::string& path, std::unique_ptr<IndexStore>* out);
  ~IndexStore();

  Status Sync(const ServerIndex& index);
  // `*found` is false when nothing is stored for `server`.
  Status Load(const std::string& server, ServerIndex* out, bool* found);
  Status Forget(const std::string& server);
  Status Servers(std::vector<std::string>* out);

  static constexpr size_t kChunkEvents = 4096;

 private:
  struct Persisted {
    size_t files = 0;
    uint64_t next_entry = 0;
    uint64_t first_entry = 0;
    uint64_t window_first = 0;
    std::map<std::pair<uint64_t, uint32_t>, size_t> chunks;  // (segment, chunk) → events written
  };
  explicit IndexStore(std::string path) : path_(std::move(path)) {}
  Status Exec(const char* sql);
  Status Error(const std::string& what);

  std::string path_;
  std::mutex mu_;  // guards db_ and persisted_
  sqlite3* db_ = nullptr;
  std::map<std::string, Persisted> persisted_;
  // Sync's statements, prepared once: SQL text (a literal) → statement.
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace tidewatch::pgtid
