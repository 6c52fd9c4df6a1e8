#include "pgtid/index_store.h"

#include <unordered_map>

#include <sqlite3.h>

#include <cstring>

namespace tidewatch::pgtid {

namespace {

constexpr int kSchemaVersion = 1;

// A prepared statement, finalized on scope exit — or, given the store's
// cache, prepared once per SQL text and reset on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  Stmt(sqlite3* db, const char* sql, std::unordered_map<const char*, sqlite3_stmt*>* cache) : cached_(true) {
    sqlite3_stmt*& slot = (*cache)[sql];
    if (slot == nullptr) {
      rc_ = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot, nullptr);
      if (rc_ != SQLITE_OK) {
        sqlite3_finalize(slot);
        slot = nullptr;
      }
    } else {
      rc_ = SQLITE_OK;
    }
    s_ = slot;
  }
  ~Stmt() {
    if (!cached_) {
      sqlite3_finalize(s_);
    } else if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, uint64_t v) {
    sqlite3_bind_int64(s_, i, static_cast<sqlite3_int64>(v));
    return *this;
  }
  Stmt& Blob(int i, const void* p, size_t n) {
    sqlite3_bind_blob(s_, i, p, static_cast<int>(n), SQLITE_TRANSIENT);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }
  bool Done() { return Step() == SQLITE_DONE; }
  uint64_t ColInt(int i) { return static_cast<uint64_t>(sqlite3_column_int64(s_, i)); }
  std::string ColText(int i) {
    const auto* p = sqlite3_column_text(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, i)) : std::string();
  }
  std::vector<uint64_t> ColEvents(int i) {
    const size_t n = static_cast<size_t>(sqlite3_column_bytes(s_, i)) / sizeof(uint64_t);
    std::vector<uint64_t> v(n);
    if (n > 0) std::memcpy(v.data(), sqlite3_column_blob(s_, i), n * sizeof(uint64_t));
    return v;
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
  bool cached_ = false;
};

}  // namespace

IndexStore::~IndexStore() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  if (db_ != nullptr) sqlite3_close(db_);
}

Status IndexStore::Error(const std::string& what) {
  return Status::IOError("index store " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Status IndexStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "error";
    sqlite3_free(err);
    return Status::IOError("index store " + path_ + ": " + m);
  }
  return Status::OK();
}

Status IndexStore::Open(const std::string& path, std::unique_ptr<IndexStore>* out) {
  std::unique_ptr<IndexStore> s(new IndexStore(path));
  if (sqlite3_open(path.c_str(), &s->db_) != SQLITE_OK) return s->Error("cannot open");
  sqlite3_busy_timeout(s->db_, 5000);
  Status st = s->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS servers (server TEXT PRIMARY KEY, file INTEGER, pos INTEGER, "
      "  ordinal INTEGER, first_entry INTEGER);"
      "CREATE TABLE IF NOT EXISTS files (server TEXT, idx INTEGER, name TEXT, PRIMARY KEY (server, idx));"
      "CREATE TABLE IF NOT EXISTS entries (server TEXT, number INTEGER, file INTEGER, pos INTEGER, "
      "  end_pos INTEGER, ordinal INTEGER, ts INTEGER, text TEXT, gtid TEXT, PRIMARY KEY (server, number));"
      "CREATE TABLE IF NOT EXISTS window_chunks (server TEXT, segment INTEGER, chunk INTEGER, file INTEGER, "
      "  events BLOB, PRIMARY KEY (server, segment, chunk));");
  if (!st.ok()) return st;  // e.g. not a database
  Stmt q(s->db_, "SELECT version FROM schema_version");
  if (!q.ok()) return s->Error("reading the schema version");
  if (q.Step() == SQLITE_ROW) {
    const uint64_t v = q.ColInt(0);
    if (v != kSchemaVersion) {
      return Status::NotSupported("index store " + path + ": schema version " + std::to_string(v) +
                                  ", this Tidewatch knows " + std::to_string(kSchemaVersion));
    }
  } else {
    Stmt ins(s->db_, "INSERT INTO schema_version VALUES (?)");
    if (!ins.Int(1, kSchemaVersion).Done()) return s->Error("writing the schema version");
  }
  *out = std::move(s);
  return Status::OK();
}

Status IndexStore::Sync(const ServerIndex& index) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& server = index.server();
  auto it = persisted_.find(server);
  const bool first = it == persisted_.end();
  Persisted& p = persisted_[server];
  Status st = Exec("BEGIN IMMEDIATE");
  if (!st.ok()) return st;
  auto fail = [&](const std::string& what) {
    Status e = Error(what);
    (void)Exec("ROLLBACK");
    persisted_.erase(server);  // rewritten whole next time
    return e;
  };
  if (first) {
    for (const char* sql : {"DELETE FROM files WHERE server = ?", "DELETE FROM entries WHERE server = ?",
                            "DELETE FROM window_chunks WHERE server = ?"}) {
      Stmt d(db_, sql, &statements_);
      if (!d.Text(1, server).Done()) return fail("clearing " + server);
    }
    p = Persisted();
    p.next_entry = index.first_entry_number();
    p.first_entry = index.first_entry_number();
  }
  for (; p.files < index.files().size(); ++p.files) {
    Stmt f(db_, "INSERT OR REPLACE INTO files VALUES (?, ?, ?)", &statements_);
    if (!f.Text(1, server).Int(2, p.files).Text(3, index.files()[p.files]).Done()) return fail("writing files");
  }
  if (index.first_entry_number() > p.first_entry) {
    Stmt d(db_, "DELETE FROM entries WHERE server = ? AND number < ?", &statements_);
    if (!d.Text(1, server).Int(2, index.first_entry_number()).Done()) return fail("dropping entries");
    p.first_entry = index.first_entry_number();
  }
  const uint64_t end = index.first_entry_number() + index.entry_count();
  for (uint64_t n = std::max(p.next_entry, index.first_entry_number()); n < end; ++n) {
    const PseudoGtidEntry& e = index.entry(n - index.first_entry_number());
    Stmt ins(db_, "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &statements_);
    if (!ins.Text(1, server).Int(2, n).Int(3, e.file).Int(4, e.pos).Int(5, e.end_pos).Int(6, e.ordinal)
             .Int(7, e.timestamp).Text(8, e.text).Text(9, e.gtid).Done()) {
      return fail("writing entries");
    }
  }
  p.next_entry = end;
  const auto& window = index.window();
  const uint64_t window_first = window.empty() ? UINT64_MAX : window.front().first_ordinal;
  if (window_first != p.window_first) {
    Stmt d(db_, "DELETE FROM window_chunks WHERE server = ? AND segment < ?", &statements_);
    if (!d.Text(1, server).Int(2, window_first == UINT64_MAX ? INT64_MAX : window_first).Done()) {
      return fail("dropping window events");
    }
    for (auto c = p.chunks.begin(); c != p.chunks.end();) {
      c = c->first.first < window_first ? p.chunks.erase(c) : std::next(c);
    }
    p.window_first = window_first;
  }
  for (const auto& seg : window) {
    for (uint32_t chunk = 0; chunk * kChunkEvents < seg.events.size(); ++chunk) {
      const size_t from = chunk * kChunkEvents;
      const size_t n = std::min(kChunkEvents, seg.events.size() - from);
      size_t& written = p.chunks[{seg.first_ordinal, chunk}];
      if (written == n) continue;
      Stmt w(db_, "INSERT OR REPLACE INTO window_chunks VALUES (?, ?, ?, ?, ?)", &statements_);
      if (!w.Text(1, server).Int(2, seg.first_ordinal).Int(3, chunk).Int(4, seg.file)
               .Blob(5, seg.events.data() + from, n * sizeof(uint64_t)).Done()) {
        return fail("writing window events");
      }
      written = n;
    }
  }
  const BinlogCoordinates at = index.position();
  Stmt sv(db_, "INSERT OR REPLACE INTO servers VALUES (?, ?, ?, ?, ?)", &statements_);
  const uint64_t file = at.empty() ? 0 : *index.FileIndex(at.file);
  if (!sv.Text(1, server).Int(2, file).Int(3, at.pos).Int(4, index.events_indexed())
           .Int(5, index.first_entry_number()).Done()) {
    return fail("writing the position");
  }
  return Exec("COMMIT");
}

Status IndexStore::Load(const std::string& server, ServerIndex* out, bool* found) {
  std::lock_guard<std::mutex> lock(mu_);
  *found = false;
  Stmt s(db_, "SELECT file, pos, ordinal, first_entry FROM servers WHERE server = ?");
  if (!s.ok()) return Error("reading servers");
  s.Text(1, server);
  if (s.Step() != SQLITE_ROW) return Status::OK();
  const uint64_t file = s.ColInt(0), pos = s.ColInt(1), ordinal = s.ColInt(2), first_entry = s.ColInt(3);
  Persisted p;
  Stmt f(db_, "SELECT name FROM files WHERE server = ? ORDER BY idx");
  f.Text(1, server);
  while (f.Step() == SQLITE_ROW) {
    out->RestoreFile(f.ColText(0));
    ++p.files;
  }
  out->RestoreFirstEntryNumber(first_entry);
  p.first_entry = p.next_entry = first_entry;
  Stmt e(db_, "SELECT number, file, pos, end_pos, ordinal, ts, text, gtid FROM entries WHERE server = ? ORDER BY number");
  e.Text(1, server);
  while (e.Step() == SQLITE_ROW) {
    PseudoGtidEntry x;
    x.file = static_cast<uint32_t>(e.ColInt(1));
    x.pos = e.ColInt(2);
    x.end_pos = e.ColInt(3);
    x.ordinal = e.ColInt(4);
    x.timestamp = static_cast<uint32_t>(e.ColInt(5));
    x.text = e.ColText(6);
    x.gtid = e.ColText(7);
    out->RestoreEntry(std::move(x));
    p.next_entry = e.ColInt(0) + 1;
  }
  Stmt w(db_, "SELECT segment, chunk, file, events FROM window_chunks WHERE server = ? ORDER BY segment, chunk");
  w.Text(1, server);
  ServerIndex::WindowSegment seg;
  bool have = false;
  while (w.Step() == SQLITE_ROW) {
    const uint64_t first = w.ColInt(0);
    if (have && seg.first_ordinal != first) {
      out->RestoreSegment(std::move(seg));
      seg = ServerIndex::WindowSegment();
    }
    if (p.window_first == 0 || first < p.window_first) p.window_first = first;
    seg.first_ordinal = first;
    seg.file = static_cast<uint32_t>(w.ColInt(2));
    auto events = w.ColEvents(3);
    p.chunks[{first, static_cast<uint32_t>(w.ColInt(1))}] = events.size();
    seg.events.insert(seg.events.end(), events.begin(), events.end());
    have = true;
  }
  if (have) out->RestoreSegment(std::move(seg));
  if (p.window_first == 0) p.window_first = UINT64_MAX;
  out->RestorePosition(static_cast<uint32_t>(file), pos, ordinal);
  persisted_[server] = std::move(p);
  *found = true;
  return Status::OK();
}

Status IndexStore::Forget(const std::string& server) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const char* sql : {"DELETE FROM files WHERE server = ?", "DELETE FROM entries WHERE server = ?",
                          "DELETE FROM window_chunks WHERE server = ?", "DELETE FROM servers WHERE server = ?"}) {
    Stmt d(db_, sql);
    if (!d.Text(1, server).Done()) return Error("forgetting " + server);
  }
  persisted_.erase(server);
  return Status::OK();
}

Status IndexStore::Servers(std::vector<std::string>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  out->clear();
  Stmt s(db_, "SELECT server FROM servers ORDER BY server");
  while (s.Step() == SQLITE_ROW) out->push_back(s.ColText(0));
  return Status::OK();
}

}  // namespace tidewatch::pgtid
