#include "sinks/spool.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "base/crc32.h"

namespace tidewatch::sinks {

namespace fs = std::filesystem;

namespace {

constexpr size_t kHeader = 8;
constexpr uint32_t kMaxRecord = 64u << 20;

void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t Get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

std::string SegmentName(uint64_t first) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "spool-%020llu.log", static_cast<unsigned long long>(first));
  return buf;
}

// Reads one record at the current offset: 1 ok, 0 clean end, -1 torn or corrupt.
int ReadRecord(std::FILE* f, std::string* payload) {
  uint8_t h[kHeader];
  size_t n = std::fread(h, 1, kHeader, f);
  if (n == 0) return 0;
  if (n < kHeader) return -1;
  const uint32_t len = Get32(h), crc = Get32(h + 4);
  if (len > kMaxRecord) return -1;
  payload->resize(len);
  if (len > 0 && std::fread(payload->data(), 1, len, f) != len) return -1;
  if (Crc32(reinterpret_cast<const uint8_t*>(payload->data()), len) != crc) return -1;
  return 1;
}

}  // namespace

Status Spool::Open(SpoolOptions options, std::unique_ptr<Spool>* out) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return Status::IOError("spool " + options.dir + ": " + ec.message());
  std::unique_ptr<Spool> s(new Spool(std::move(options)));
  Status st = s->Load();
  if (!st.ok()) return st;
  *out = std::move(s);
  return Status::OK();
}

Spool::~Spool() {
  (void)Checkpoint();
  if (writer_ != nullptr) std::fclose(writer_);
  if (reader_ != nullptr) std::fclose(reader_);
}

Status Spool::Load() {
  std::vector<std::pair<uint64_t, std::string>> files;
  for (const auto& e : fs::directory_iterator(options_.dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() == 30 && name.rfind("spool-", 0) == 0 && name.substr(26) == ".log") {
      files.emplace_back(std::stoull(name.substr(6, 20)), e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  {
    std::ifstream a(options_.dir + "/acked");
    if (a) a >> acked_;
  }
  std::string payload;
  for (size_t i = 0; i < files.size(); ++i) {
    Segment seg;
    seg.first = files[i].first;
    seg.path = files[i].second;
    std::FILE* f = std::fopen(seg.path.c_str(), "rb");
    if (f == nullptr) return Status::IOError("spool " + seg.path + ": cannot read");
    long good = 0;
    int r;
    while ((r = ReadRecord(f, &payload)) == 1) {
      ++seg.count;
      good = std::ftell(f);
      last_at_open_.swap(payload);
      has_last_at_open_ = true;
    }
    std::fclose(f);
    if (r < 0) {
      if (i + 1 != files.size()) {
        return Status::Corruption("spool " + seg.path + ": damaged record at byte " + std::to_string(good));
      }
      // A write cut short by a crash: the record was never acknowledged to anyone.
      fs::resize_file(seg.path, static_cast<uintmax_t>(good));
    }
    seg.bytes = static_cast<uint64_t>(good);
    if (!segments_.empty() && seg.first != segments_.back().first + segments_.back().count) {
      return Status::Corruption("spool " + seg.path + ": records missing before it");
    }
    total_bytes_ += seg.bytes;
    segments_.push_back(seg);
  }
  next_index_ = segments_.empty() ? acked_ : segments_.back().first + segments_.back().count;
  if (acked_ > next_index_) acked_ = next_index_;
  if (!segments_.empty() && acked_ < segments_.front().first) acked_ = segments_.front().first;
  cursor_ = acked_;
  acked_beyond_.assign(next_index_ - acked_, false);
  if (!segments_.empty()) {
    writer_ = std::fopen(segments_.back().path.c_str(), "ab");
    if (writer_ == nullptr) return Status::IOError("spool " + segments_.back().path + ": cannot append");
  }
  return Status::OK();
}

Status Spool::Roll() {
  if (writer_ != nullptr) std::fclose(writer_);
  Segment seg;
  seg.first = next_index_;
  seg.path = options_.dir + "/" + SegmentName(next_index_);
  writer_ = std::fopen(seg.path.c_str(), "ab");
  if (writer_ == nullptr) return Status::IOError("spool " + seg.path + ": cannot create");
  segments_.push_back(seg);
  return Status::OK();
}

void Spool::DropOldestLocked() {
  if (segments_.size() <= 1) return;  // the segment being written stays
  const Segment& s = segments_.front();
  const uint64_t end = s.first + s.count;
  if (end > acked_) {
    dropped_ += end - acked_;
    for (uint64_t i = acked_; i < end && !acked_beyond_.empty(); ++i) acked_beyond_.pop_front();
    acked_ = end;
  }
  if (cursor_ < end) cursor_ = end;
  if (reader_ != nullptr && reader_segment_first_ == s.first) {
    std::fclose(reader_);
    reader_ = nullptr;
  }
  total_bytes_ -= s.bytes;
  std::error_code ec;
  fs::remove(s.path, ec);
  segments_.pop_front();
}

Status Spool::Append(std::string_view payload, uint64_t* index) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t size = kHeader + payload.size();
  if (payload.size() > kMaxRecord) return Status::InvalidArgument("spool: record of " + std::to_string(payload.size()) + " bytes is too large");
  if (total_bytes_ + size > options_.max_bytes) {
    if (options_.full_policy == SpoolOptions::FullPolicy::kRefuseNew) {
      return Status::IOError("spool " + options_.dir + " is full (" + std::to_string(total_bytes_) + " of " +
                             std::to_string(options_.max_bytes) + " bytes): message refused");
    }
    while (total_bytes_ + size > options_.max_bytes && segments_.size() > 1) DropOldestLocked();
  }
  if (writer_ == nullptr || segments_.back().bytes >= options_.segment_bytes) {
    Status s = Roll();
    if (!s.ok()) return s;
  }
  uint8_t h[kHeader];
  Put32(h, static_cast<uint32_t>(payload.size()));
  Put32(h + 4, Crc32(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  if (std::fwrite(h, 1, kHeader, writer_) != kHeader ||
      std::fwrite(payload.data(), 1, payload.size(), writer_) != payload.size() || std::fflush(writer_) != 0) {
    return Status::IOError("spool " + segments_.back().path + ": write failed");
  }
  segments_.back().bytes += size;
  segments_.back().count += 1;
  total_bytes_ += size;
  *index = next_index_++;
  acked_beyond_.push_back(false);
  return Status::OK();
}

bool Spool::ReadAt(uint64_t index, std::string* payload) {
  if (reader_ == nullptr || reader_index_ != index) {
    auto it = std::find_if(segments_.rbegin(), segments_.rend(), [&](const Segment& s) { return s.first <= index; });
    if (it == segments_.rend() || index >= it->first + it->count) return false;
    if (reader_ != nullptr) std::fclose(reader_);
    reader_ = std::fopen(it->path.c_str(), "rb");
    if (reader_ == nullptr) return false;
    reader_segment_first_ = it->first;
    reader_index_ = it->first;
    std::string skip;
    while (reader_index_ < index && ReadRecord(reader_, &skip) == 1) ++reader_index_;
    if (reader_index_ != index) return false;
  }
  if (ReadRecord(reader_, payload) != 1) {
    std::fclose(reader_);
    reader_ = nullptr;
    // At the end of its segment the record is the first of the next one.
    auto next = std::find_if(segments_.begin(), segments_.end(), [&](const Segment& s) { return s.first == index; });
    if (next == segments_.end() || next->first == reader_segment_first_) return false;
    return ReadAt(index, payload);
  }
  ++reader_index_;
  return true;
}

bool Spool::Next(std::string* payload, uint64_t* index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cursor_ < acked_) cursor_ = acked_;
  while (cursor_ < next_index_ && acked_beyond_[cursor_ - acked_]) ++cursor_;  // delivered after a rewind
  if (cursor_ >= next_index_) return false;
  if (!ReadAt(cursor_, payload)) return false;
  *index = cursor_++;
  return true;
}

void Spool::Rewind(uint64_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  // Several sends can fail at once (one report each, in any order): the
  // earliest must be sent again, and everything after it that is not
  // acknowledged.
  cursor_ = std::max(std::min(index, cursor_), acked_);
}

void Spool::Ack(uint64_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index < acked_ || index - acked_ >= acked_beyond_.size()) return;
  acked_beyond_[index - acked_] = true;
  while (!acked_beyond_.empty() && acked_beyond_.front()) {
    acked_beyond_.pop_front();
    ++acked_;
  }
}

Status Spool::Checkpoint() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string tmp = options_.dir + "/acked.tmp";
  {
    std::ofstream a(tmp, std::ios::trunc);
    a << acked_ << "\n";
    if (!a) return Status::IOError("spool " + tmp + ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, options_.dir + "/acked", ec);
  if (ec) return Status::IOError("spool " + options_.dir + "/acked: " + ec.message());
  // A delivered segment goes unless it holds the newest record (LastAtOpen).
  auto newer_record = [this] {
    return std::any_of(segments_.begin() + 1, segments_.end(), [](const Segment& s) { return s.count > 0; });
  };
  while (segments_.size() > 1 && segments_.front().first + segments_.front().count <= acked_ && newer_record()) {
    if (reader_ != nullptr && reader_segment_first_ == segments_.front().first) {
      std::fclose(reader_);
      reader_ = nullptr;
    }
    total_bytes_ -= segments_.front().bytes;
    fs::remove(segments_.front().path, ec);
    segments_.pop_front();
  }
  return Status::OK();
}

uint64_t Spool::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_index_ - acked_;
}
uint64_t Spool::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_bytes_;
}
uint64_t Spool::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}
uint64_t Spool::acked_through() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acked_;
}
bool Spool::LastAtOpen(std::string* payload) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (has_last_at_open_) *payload = last_at_open_;
  return has_last_at_open_;
}

}  // namespace tidewatch::sinks
