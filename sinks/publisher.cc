#include "sinks/publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace tidewatch::sinks {

Status Publisher::Open(PublisherOptions options, std::unique_ptr<Publisher>* out) {
  if (options.producer_id.empty()) return Status::InvalidArgument("publisher: empty producer id");
  if (options.reserve_block == 0) options.reserve_block = 1;
  std::unique_ptr<Publisher> p(new Publisher(options));
  uint64_t first = 0;
  if (!options.sequence_file.empty()) {
    std::ifstream in(options.sequence_file);
    if (in) {
      std::string producer;
      uint64_t reserved = 0;
      if (!(in >> producer >> reserved)) {
        return Status::Corruption("sequence file " + options.sequence_file +
                                  ": expected \"<producer id> <highest reserved sequence>\"");
      }
      // The file belongs to this producer id; another id starts its own
      // sequence (its pairs cannot collide with this one's).
      if (producer == options.producer_id) first = reserved;
    }
  }
  first = std::max(first, options.published_through);
  p->sequencer_ = std::make_unique<EnvelopeSequencer>(options.producer_id, first);
  p->reserved_ = first;
  if (!options.sequence_file.empty()) {
    Status s = p->Reserve(first + options.reserve_block);
    if (!s.ok()) return s;
  }
  *out = std::move(p);
  return Status::OK();
}

Status Publisher::Reserve(uint64_t through) {
  const std::string tmp = options_.sequence_file + ".tmp";
  const std::string text = options_.producer_id + " " + std::to_string(through) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("sequence file " + tmp + ": cannot write: " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), options_.sequence_file.c_str()) != 0) {
    return Status::IOError("sequence file " + options_.sequence_file + ": cannot replace: " + std::strerror(errno));
  }
  reserved_ = through;
  return Status::OK();
}

Status Publisher::Publish(v1::Envelope&& e) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!options_.sequence_file.empty() && sequencer_->last_sequence() + 1 > reserved_) {
    Status s = Reserve(reserved_ + options_.reserve_block);
    // Without a durable reservation a restart could reuse numbers: the
    // message is not published under one.
    if (!s.ok()) {
      ++failures_;
      return s;
    }
  }
  sequencer_->Stamp(&e);
  ++published_;
  Status first;
  for (Sink* sink : sinks_) {
    Status s = sink->Publish(e);
    if (!s.ok()) {
      ++failures_;
      spdlog::error("publish {} #{}: {}", BodyName(e), e.sequence(), s.message());
      if (first.ok()) first = s;
    }
  }
  return first;
}

Status Publisher::Flush() {
  Status first;
  for (Sink* sink : sinks_) {
    Status s = sink->Flush();
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

uint64_t Publisher::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

uint64_t Publisher::sink_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

}  // namespace tidewatch::sinks
