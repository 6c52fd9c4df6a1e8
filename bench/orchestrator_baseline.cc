#include "bench/orchestrator_baseline.h"

#include <cstdlib>
#include <thread>

#include "base/host_port.h"
#include "pgtid/executor.h"

namespace tidewatch::orchestrator {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxEmptyBinlogFiles = 10;  // orchestrator's maxEmptyBinlogFiles

bool FileBefore(const std::string& a, const std::string& b) {
  return BinlogCoordinates::FileNumber(a) < BinlogCoordinates::FileNumber(b);
}

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

Baseline::Baseline(BaselineConfig config, const pgtid::PseudoGtidPattern* pattern)
    : config_(std::move(config)), pattern_(pattern) {}

Status Baseline::Open(const std::string& name, Server* out) {
  pgtid::SqlEndpoint ep;
  if (!SplitHostPort(name, &ep.host, &ep.port)) {
    return Status::InvalidArgument("\"" + name + "\" is not host:port");
  }
  ep.user = config_.user;
  ep.password = config_.password;
  // A LIMIT offset, n page deep in a large relay log takes the server long.
  ep.read_timeout = std::chrono::minutes(10);
  Status s = pgtid::SqlConnection::Connect(ep, &out->c);
  if (s.ok()) s = pgtid::ReadInstance(*out->c, &out->i);
  return s;
}

// getLastPseudoGTIDEntryInBinlog. Binary logs continue each chunk FROM the
// previous chunk's last End_log_pos; relay logs stay FROM the start position
// and page with LIMIT offset, n. The file ends at the first empty chunk.
Status Baseline::LastEntryInFile(pgtid::SqlConnection& c, LogType type, const std::string& file,
                                 const std::optional<BinlogCoordinates>& min,
                                 const std::optional<BinlogCoordinates>& max, bool* found, BinlogCoordinates* at,
                                 std::string* info, ScanCounters* counters) {
  *found = false;
  uint64_t next_pos = 0, relay_min_pos = 0;
  if (min && min->file == file) next_pos = relay_min_pos = min->pos;
  std::vector<BinlogEventRow> rows;
  bool more = true;
  for (uint64_t step = 0; more; ++step) {
    Status s = type == LogType::kBinary
                   ? ShowEvents(c, type, file, next_pos, -1, config_.chunk_size, &rows, counters)
                   : ShowEvents(c, type, file, relay_min_pos, static_cast<int64_t>(step * config_.chunk_size),
                                config_.chunk_size, &rows, counters);
    if (!s.ok()) return s;
    more = false;
    for (const auto& e : rows) {
      // As in orchestrator, every row sets "more"; an entry past `max` clears
      // it, which ends the scan only when that entry is the chunk's last row.
      more = true;
      next_pos = e.end_log_pos;
      if (!pattern_->Matches(e.info)) continue;
      if (max && *max < BinlogCoordinates{file, e.at.pos}) {
        more = false;
        continue;
      }
      *found = true;
      *at = {file, e.at.pos};
      *info = e.info;
      // Not done: only the file's end proves this entry is its last one.
    }
  }
  return Status::OK();
}

// getLastPseudoGTIDEntryInInstance (exhaustive; binary logs from the newest)
// and getLastPseudoGTIDEntryInRelayLogs (from the SQL thread's relay log,
// there being no SHOW RELAY LOGS, and never past its position `max`): `file`
// first, then each previous file. A hint that fails in its file is dropped
// and the same file read again from its start; a previous file that does not
// exist ends the search with the server's error.
Status Baseline::LastEntryBackwards(Server& s, LogType type, std::string file, std::optional<BinlogCoordinates> min,
                                    const std::optional<BinlogCoordinates>& max, bool* found, BinlogCoordinates* at,
                                    std::string* info, ScanCounters* counters) {
  while (true) {
    Status st = LastEntryInFile(*s.c, type, file, min, max, found, at, info, counters);
    if (!st.ok() || *found) return st;
    if (min && min->file == file) {
      min.reset();
      continue;
    }
    st = PreviousFile(file, &file);
    if (!st.ok()) return st;
  }
}

// FindLastPseudoGTIDEntry: the instance's own binlogs when they hold what it
// replicated in the destination's format, else its relay logs.
Status Baseline::FindLastEntry(Server& instance, const std::string& expected_format,
                               const RecordedCoordinates& history, Correlation* out) {
  bool found = false;
  Status s;
  const pgtid::Instance& i = instance.i;
  if (i.log_bin && i.log_slave_updates && i.binlog_format == expected_format) {
    s = LastEntryBackwards(instance, LogType::kBinary, i.self.file, history.self, std::nullopt, &found,
                           &out->instance_entry, &out->entry_info, &out->find_instance.scan);
    out->route = "binary-log";
  }
  if (!s.ok() || !found) {
    const BinlogCoordinates recorded{i.replica.relay_log_file, i.replica.relay_log_pos};
    s = LastEntryBackwards(instance, LogType::kRelay, recorded.file, history.relay, recorded, &found,
                           &out->instance_entry, &out->entry_info, &out->find_instance.scan);
    out->route = "relay-log";
  }
  if (s.ok() && !found) s = Status::NotSupported(i.name + ": no Pseudo-GTID entry in its binary or relay logs");
  return s;
}

// SearchEntryInBinlog: forward from the file's start (or the hint) until a
// row's Info equals the entry. With monotonic entries, the first entry of the
// file is compared once: one that sorts after the entry rules the file out.
Status Baseline::SearchInFile(pgtid::SqlConnection& c, const std::string& file, const std::string& info,
                              bool monotonic, const std::optional<BinlogCoordinates>& min, bool* found,
                              BinlogCoordinates* at, ScanCounters* counters) {
  *found = false;
  uint64_t next_pos = (min && min->file == file) ? min->pos : 0;
  bool matched_ascending = false;
  std::vector<BinlogEventRow> rows;
  while (true) {
    Status s = ShowEvents(c, LogType::kBinary, file, next_pos, -1, config_.chunk_size, &rows, counters);
    if (!s.ok()) return s;
    if (rows.empty()) return Status::OK();
    for (const auto& e : rows) {
      next_pos = e.end_log_pos;
      if (e.info == info) {
        *found = true;
        *at = {file, e.at.pos};
        return Status::OK();
      }
      if (monotonic && !matched_ascending && pattern_->Matches(e.info)) {
        matched_ascending = true;
        if (e.info > info) return Status::OK();
      }
    }
  }
}

// SearchEntryInInstanceBinlogs.
Status Baseline::SearchInInstance(Server& s, const std::string& info, bool monotonic,
                                  std::optional<BinlogCoordinates> min, BinlogCoordinates* at,
                                  ScanCounters* counters) {
  const std::string key = s.i.name + ";" + info;
  if (config_.entry_cache) {
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires > Clock::now()) {
      *at = it->second.at;
      return Status::OK();
    }
  }
  std::string file = s.i.self.file;
  pgtid::Instance view = s.i;  // re-read by the throttle; the walk keeps the first reading
  while (true) {
    // Throttle: a replicating destination must not lag while it is scanned.
    if (view.replica.configured && view.replica.io_running == "Yes" && view.replica.sql_running) {
      while (true) {
        Status st = pgtid::ReadInstance(*s.c, &view);
        if (!st.ok()) return st;
        const int64_t lag = view.replica.seconds_behind.value_or(0);
        const int64_t delay = view.replica.sql_delay;
        const int64_t over = delay > 0 ? std::abs(lag - delay) : lag;
        if (over <= config_.reasonable_maintenance_lag_seconds) break;
        std::this_thread::sleep_for(std::chrono::seconds(config_.reasonable_maintenance_lag_seconds));
      }
    }
    bool found = false;
    Status st = SearchInFile(*s.c, file, info, monotonic, min, &found, at, counters);
    if (!st.ok()) return st;
    if (found) {
      if (config_.entry_cache) cache_[key] = {*at, Clock::now() + std::chrono::minutes(10)};
      return Status::OK();
    }
    if (min && min->file == file) {
      min.reset();
    } else {
      st = PreviousFile(file, &file);
      if (!st.ok()) return st;
    }
  }
}

// getNextBinlogEventsChunk: a chunk FROM `from`; an empty one moves to the
// next file, up to the server's current file. Relay logs are read FROM a
// position too, as orchestrator does: past its first chunk a relay-log walk
// continues at End_log_pos, the master's position, not the relay log's — so
// it is right only within one chunk. The benchmark's instances walk their
// binary logs.
Status Baseline::NextChunk(Server& s, LogType type, BinlogCoordinates from, int empty_files,
                           std::vector<BinlogEventRow>* out, ScanCounters* counters) {
  out->clear();
  while (empty_files <= kMaxEmptyBinlogFiles) {
    const std::string& current = type == LogType::kBinary ? s.i.self.file : s.i.replica.relay_log_file;
    if (FileBefore(current, from.file)) return Status::OK();
    Status st = ShowEvents(*s.c, type, from.file, from.pos, -1, config_.chunk_size, out, counters);
    if (!st.ok() || !out->empty()) return st;
    // GetNextBinaryLog compares with the binlog file even for relay logs.
    if (from.file == s.i.self.file) return Status::OK();
    from = {NextFile(from.file), 0};
    ++empty_files;
  }
  return Status::OK();
}

// GetNextBinlogCoordinatesToMatch.
Status Baseline::Walk(Server& instance, const BinlogCoordinates& instance_entry, LogType instance_log,
                      const BinlogCoordinates& recorded_relay, Server& destination,
                      const BinlogCoordinates& destination_entry, BinlogCoordinates* next, uint64_t* matched,
                      ScanCounters* counters) {
  *matched = 0;
  BinlogEventCursor mine(
      instance_entry,
      [&](const BinlogCoordinates& c, std::vector<BinlogEventRow>* rows) {
        return NextChunk(instance, instance_log, c, 0, rows, counters);
      },
      &config_.skip_containing, &normalizer_);
  BinlogEventCursor theirs(
      destination_entry,
      [&](const BinlogCoordinates& c, std::vector<BinlogEventRow>* rows) {
        return NextChunk(destination, LogType::kBinary, c, 0, rows, counters);
      },
      &config_.skip_containing, &normalizer_);
  uint64_t count = 0;
  std::string instance_info;
  while (true) {
    const BinlogEventRow* e = nullptr;
    Status s = mine.NextRealEvent(&e);
    if (!s.ok()) return s;
    if (instance_log == LogType::kBinary) {
      if (e == nullptr) {
        BinlogCoordinates other, own;
        s = theirs.NextCoordinates(&other);
        if (s.ok()) s = mine.NextCoordinates(&own);
        if (!s.ok()) return s;
        if (own < instance.i.self) {
          return Status::Corruption(instance.i.name + ": the binlog walk ended at " + own.ToString() +
                                    ", before the server's position " + instance.i.self.ToString());
        }
        *next = other;
        *matched = count;
        return Status::OK();
      }
    } else {
      // End_log_pos in a relay log is the master's: the walk cannot check it
      // reached Relay_Log_Pos exactly, only that it did not pass it.
      const bool end = e == nullptr || recorded_relay == e->at;
      if (e != nullptr && recorded_relay < e->at) {
        return Status::Corruption(instance.i.name + ": the relay log walk passed " + recorded_relay.ToString());
      }
      if (end) {
        s = theirs.NextCoordinates(next);
        if (!s.ok()) return s;
        *matched = count;
        return Status::OK();
      }
    }
    instance_info = e->info;
    s = theirs.NextRealEvent(&e);
    if (!s.ok()) return s;
    if (e == nullptr) {
      return Status::NotSupported("unexpected end of the binary logs of " + destination.i.name + ": " +
                                  instance.i.name + " is more advanced");
    }
    if (instance_info != e->info) {
      return Status::Corruption("mismatching entries: \"" + instance_info + "\" <-> \"" + e->info + "\"");
    }
    ++count;
  }
}

Status Baseline::Correlate(const std::string& instance, const std::string& destination,
                           const RecordedCoordinates& instance_history, const RecordedCoordinates& destination_history,
                           Correlation* out) {
  *out = Correlation();
  Server r, t;
  Status s = Open(instance, &r);
  if (s.ok()) s = Open(destination, &t);
  if (!s.ok()) return s;
  // Recorded just after the stop: FLUSH RELAY LOGS or START SLAVE could move it.
  const BinlogCoordinates recorded_relay{r.i.replica.relay_log_file, r.i.replica.relay_log_pos};

  auto t0 = Clock::now();
  s = FindLastEntry(r, t.i.binlog_format, instance_history, out);
  out->find_instance.seconds = Since(t0);
  if (!s.ok()) return s;

  t0 = Clock::now();
  const bool monotonic = pattern_->IsMonotonic(out->entry_info);
  s = SearchInInstance(t, out->entry_info, monotonic, destination_history.self, &out->destination_entry,
                       &out->find_destination.scan);
  out->find_destination.seconds = Since(t0);
  if (!s.ok()) return s;

  t0 = Clock::now();
  s = Walk(r, out->instance_entry, out->route == "binary-log" ? LogType::kBinary : LogType::kRelay, recorded_relay, t,
           out->destination_entry, &out->next, &out->matched, &out->walk.scan);
  out->walk.seconds = Since(t0);
  if (!s.ok()) return s;
  if (out->matched == 0) {
    return Status::Corruption("0 events processed while iterating the logs");
  }
  return Status::OK();
}

}  // namespace tidewatch::orchestrator
