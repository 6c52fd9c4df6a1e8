// JsonLinesSink: one message per line, in protobuf's JSON mapping of the
// schema (written by reflection, sinks/proto_json.h: no second, hand-written
// format; proto field names, every field written even at its default), to
// standard output or a file.
// Each line is written whole and flushed, so a reader never sees half a
// message.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "sinks/sink.h"

namespace tidewatch::sinks {

class JsonLinesSink : public Sink {
 public:
  // "-" is standard output; a file is appended to.
  static Status Open(const std::string& path, std::unique_ptr<JsonLinesSink>* out);
  ~JsonLinesSink() override;

  Status Publish(const v1::Envelope& message) override;
  Status Flush() override;

 private:
  JsonLinesSink(std::string path, std::FILE* f, bool owned) : path_(std::move(path)), f_(f), owned_(owned) {}
  std::string path_;
  std::FILE* f_;
  bool owned_;
  std::mutex mu_;
  std::string line_;
};

// The JSON of one message, as JsonLinesSink writes it (no newline).
Status ToJsonLine(const v1::Envelope& message, std::string* out);

}  // namespace tidewatch::sinks
