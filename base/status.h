// Status: the outcome of an operation that can fail, with a message that says
// where (file, byte offset, event) and why. As in LevelDB, an OK status is a
// null pointer: returning success costs nothing, only errors allocate.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace tidewatch {

class Status {
 public:
  enum class Code { kOk = 0, kCorruption, kIOError, kInvalidArgument, kNotSupported, kEndOfFile, kTruncated };

  Status() noexcept = default;
  Status(const Status& o) : rep_(o.rep_ ? std::make_unique<Rep>(*o.rep_) : nullptr) {}
  Status& operator=(const Status& o) {
    if (this != &o) rep_ = o.rep_ ? std::make_unique<Rep>(*o.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotSupported(std::string msg) { return Status(Code::kNotSupported, std::move(msg)); }
  static Status EndOfFile() { return Status(Code::kEndOfFile, "end of file"); }
  // The bytes end inside an event: corrupt in a closed file, not yet written
  // in one a server is still appending to.
  static Status Truncated(std::string msg) { return Status(Code::kTruncated, std::move(msg)); }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  bool IsEndOfFile() const { return code() == Code::kEndOfFile; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsTruncated() const { return code() == Code::kTruncated; }
  bool IsNotSupported() const { return code() == Code::kNotSupported; }
  const std::string& message() const {
    static const std::string kEmpty;
    return rep_ ? rep_->msg : kEmpty;
  }

  // Prefixes the message with context, e.g. the file name and offset.
  Status WithContext(std::string_view context) const {
    if (ok()) return Status();
    std::string m(context);
    m += ": ";
    m += rep_->msg;
    return Status(rep_->code, std::move(m));
  }

  std::string ToString() const {
    if (ok()) return "OK";
    static constexpr const char* kNames[] = {"OK", "corruption", "I/O error", "invalid argument",
                                             "not supported", "end of file", "truncated"};
    return std::string(kNames[static_cast<int>(rep_->code)]) + ": " + rep_->msg;
  }

 private:
  struct Rep {
    Code code;
    std::string msg;
  };
  Status(Code code, std::string msg) : rep_(std::make_unique<Rep>(Rep{code, std::move(msg)})) {}

  std::unique_ptr<Rep> rep_;
};

}  // namespace tidewatch
