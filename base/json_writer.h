// A streaming JSON writer that appends to a caller's string, for the paths
// that print one JSON object per event and cannot afford a document per line.
//
// Its text is byte for byte what nlohmann::json's dump(-1, ' ', false,
// error_handler_t::replace) prints for the same values: no whitespace;
// '"', '\\', \b \f \n \r \t escaped by name and the other bytes below 0x20 as
// \u00xx (lowercase hex); valid UTF-8 copied; a string that is not valid UTF-8
// printed with U+FFFD for its bad sequences, as that dump does. Keys are
// written in the order given: a caller that must match nlohmann::json's
// (sorted) objects gives them sorted.
#pragma once

#include <charconv>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace tidewatch {

// Writes the decimal digits of `v` at `p` (room for 20) and returns the end.
// Numbers below 100 — types, sizes, counts, flags — skip the general path.
inline char* WriteDecimal(char* p, uint64_t v) {
  if (v < 10) {
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  if (v < 100) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
    return p + 2;
  }
  return std::to_chars(p, p + 20, v).ptr;
}

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }

  // Writes `key` and ':'; the next value written is its value.
  void Key(std::string_view key) {
    Separate();
    AppendJsonString(out_, key);
    out_->push_back(':');
    after_key_ = true;
  }
  void String(std::string_view s) {
    Separate();
    AppendJsonString(out_, s);
  }
  template <std::integral T>
  void Number(T v) {
    Separate();
    if constexpr (std::same_as<T, bool>) {
      out_->append(v ? "true" : "false");
    } else if constexpr (std::is_unsigned_v<T>) {
      char buf[24];
      out_->append(buf, WriteDecimal(buf, v));
    } else {
      char buf[24];
      out_->append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    }
  }
  void Bool(bool v) { Number(v); }
  // A value already written as JSON text (a fragment this writer made).
  void Raw(std::string_view json) {
    Separate();
    out_->append(json);
  }

  // Appends `s` as a quoted, escaped JSON string.
  static void AppendJsonString(std::string* out, std::string_view s);

 private:
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ == 0) return;
    const uint64_t bit = uint64_t{1} << (depth_ & 63);
    if (nonempty_ & bit) out_->push_back(',');
    nonempty_ |= bit;
  }
  void Open(char c) {
    Separate();
    out_->push_back(c);
    ++depth_;
    nonempty_ &= ~(uint64_t{1} << (depth_ & 63));
  }
  void Close(char c) {
    out_->push_back(c);
    --depth_;
  }

  std::string* out_;
  uint64_t nonempty_ = 0;  // bit d: the container open at depth d has a member
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace tidewatch
