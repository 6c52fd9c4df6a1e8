// Status: the outcome of an operation that can fail, with a message that says
// where (file, byte offset, event) and why. The success path carries no
// allocation; an error carries its message.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace tidewatch::binlog {

class Status {
 public:
  enum class Code { kOk = 0, kCorruption, kIOError, kInvalidArgument, kNotSupported, kEndOfFile, kTruncated };

  Status() = default;

  static Status OK() { return Status(); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotSupported(std::string msg) { return Status(Code::kNotSupported, std::move(msg)); }
  static Status EndOfFile() { return Status(Code::kEndOfFile, "end of file"); }
  // The bytes end inside an event: corrupt in a closed file, not yet written
  // in one a server is still appending to.
  static Status Truncated(std::string msg) { return Status(Code::kTruncated, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  bool IsEndOfFile() const { return code_ == Code::kEndOfFile; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsTruncated() const { return code_ == Code::kTruncated; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }

  // Prefixes the message with context, e.g. the file name and offset.
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    std::string m(context);
    m += ": ";
    m += msg_;
    return Status(code_, std::move(m));
  }

  std::string ToString() const {
    if (ok()) return "OK";
    static constexpr const char* kNames[] = {"OK", "corruption", "I/O error", "invalid argument",
                                             "not supported", "end of file", "truncated"};
    return std::string(kNames[static_cast<int>(code_)]) + ": " + msg_;
  }

 private:
  Status(Code code, std::string msg) : code_(code), msg_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string msg_;
};

}  // namespace tidewatch::binlog
