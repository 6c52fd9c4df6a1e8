// ByteReader: a bounds-checked little-endian cursor over an event body.
//
// Every read checks the remaining length first; a read past the end sets the
// reader's failed flag, returns zero/empty, and leaves the cursor where it was.
// Callers check ok() once after a group of reads, so a lying length field can
// never move a read outside the buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace tidewatch::binlog {

class ByteReader {
 public:
  ByteReader() = default;
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit ByteReader(std::span<const uint8_t> s) : data_(s.data()), size_(s.size()) {}

  bool ok() const { return ok_; }
  size_t offset() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const uint8_t* cursor() const { return data_ + pos_; }
  void Fail() { ok_ = false; }

  bool Skip(size_t n) {
    if (!Has(n)) return false;
    pos_ += n;
    return true;
  }

  // Little-endian unsigned integer of n bytes (1..8).
  uint64_t Uint(size_t n) {
    if (!Has(n)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  uint8_t U8() { return static_cast<uint8_t>(Uint(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Uint(2)); }
  uint32_t U24() { return static_cast<uint32_t>(Uint(3)); }
  uint32_t U32() { return static_cast<uint32_t>(Uint(4)); }
  uint64_t U48() { return Uint(6); }
  uint64_t U64() { return Uint(8); }

  // Big-endian unsigned integer of n bytes (1..8).
  uint64_t UintBE(size_t n) {
    if (!Has(n)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += n;
    return v;
  }

  // Length-encoded integer of the client/server protocol ("net_field_length"):
  // < 251 one byte; 0xfc + 2 bytes; 0xfd + 3 bytes; 0xfe + 8 bytes. 0xfb (NULL)
  // and 0xff are not valid lengths in binlog events and fail the reader.
  uint64_t PackedInt() {
    if (ok_ && pos_ < size_ && data_[pos_] < 251) return data_[pos_++];  // the common case
    return PackedIntLong();
  }

  // Variable-length integer of MySQL's serialization library (MySQL 8.3+;
  // libs/mysql/serialization/readme.md, variable_length_integers.h): the
  // count of trailing one bits of the first byte, plus one, is the length
  // (1–9 bytes, little-endian); the value follows those bits and a zero bit
  // (none at 9 bytes), so at most 7 bits per byte up to 8 bytes, all 64 at 9.
  uint64_t VarUint() {
    if (!Has(1)) return 0;
    const uint8_t first = data_[pos_];
    size_t n = 1;
    while (n < 9 && (first >> (n - 1)) & 1) ++n;
    if (!Has(n)) return 0;
    uint64_t v = n < 9 ? first >> n : 0;
    if (n > 1) {
      uint64_t rest = 0;
      for (size_t i = 1; i < n; ++i) rest |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * (i - 1));
      v |= rest << (n < 9 ? 8 - n : 0);
    }
    pos_ += n;
    return v;
  }
  // Its signed form: the sign in the lowest bit, the magnitude (minus one
  // when negative) above it.
  int64_t VarInt() {
    const uint64_t u = VarUint();
    return static_cast<int64_t>((u >> 1) ^ (0 - (u & 1)));
  }

  std::span<const uint8_t> Bytes(size_t n) {
    if (!Has(n)) return {};
    std::span<const uint8_t> s(data_ + pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view String(size_t n) {
    auto b = Bytes(n);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  std::span<const uint8_t> Rest() { return Bytes(remaining()); }
  std::string_view RestString() { return String(remaining()); }

  // A string of at most n bytes that ends at the first NUL inside it.
  std::string_view FixedCString(size_t n) {
    auto s = String(n);
    auto nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
  }

 private:
  uint64_t PackedIntLong() {
    uint8_t first = U8();
    if (!ok_) return 0;
    if (first < 251) return first;
    switch (first) {
      case 0xfc: return Uint(2);
      case 0xfd: return Uint(3);
      case 0xfe: return Uint(8);
      default: Fail(); return 0;
    }
  }

  bool Has(size_t n) {
    if (!ok_ || n > size_ - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace tidewatch::binlog
