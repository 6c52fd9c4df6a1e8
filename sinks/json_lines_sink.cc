#include "sinks/json_lines_sink.h"

#include <google/protobuf/util/json_util.h>

#include "sinks/proto_json.h"

namespace tidewatch::sinks {

Status ToJsonLine(const v1::Envelope& message, std::string* out) {
  out->clear();
  if (AppendProtoJson(message, out)) return Status::OK();
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Fields at their default (false, 0, "") are written too: a reader of
  // "is_actionable": false need not know proto3's rule that it may be absent.
  options.always_print_primitive_fields = true;
  auto s = google::protobuf::util::MessageToJsonString(message, out, options);
  if (!s.ok()) return Status::InvalidArgument("message to JSON: " + std::string(s.message()));
  return Status::OK();
}

Status JsonLinesSink::Open(const std::string& path, std::unique_ptr<JsonLinesSink>* out) {
  if (path == "-") {
    out->reset(new JsonLinesSink(path, stdout, false));
    return Status::OK();
  }
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return Status::IOError("JSON lines " + path + ": cannot open for appending");
  out->reset(new JsonLinesSink(path, f, true));
  return Status::OK();
}

JsonLinesSink::~JsonLinesSink() {
  if (owned_) std::fclose(f_);
}

Status JsonLinesSink::Publish(const v1::Envelope& message) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = ToJsonLine(message, &line_);
  if (!s.ok()) return s;
  line_ += '\n';
  if (std::fwrite(line_.data(), 1, line_.size(), f_) != line_.size() || std::fflush(f_) != 0) {
    return Status::IOError("JSON lines " + path_ + ": write failed");
  }
  return Status::OK();
}

Status JsonLinesSink::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (std::fflush(f_) != 0) return Status::IOError("JSON lines " + path_ + ": flush failed");
  return Status::OK();
}

}  // namespace tidewatch::sinks
