#include "base/json_writer.h"

#include <nlohmann/json.hpp>

namespace tidewatch {
namespace {

// True when s[i..] is well-formed UTF-8 (RFC 3629 §4: no overlong forms, no
// surrogates, nothing above U+10FFFF) — the sequences nlohmann::json's dump
// copies unchanged.
bool IsUtf8(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  auto cont = [&](size_t k) { return k < n && (p[k] & 0xC0) == 0x80; };
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + 1 >= n || p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (!cont(i + k)) return false;
    }
    i += len;
  }
  return true;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

void JsonWriter::AppendJsonString(std::string* out, std::string_view s) {
  const size_t start = out->size();
  out->push_back('"');
  size_t run = 0;  // the first byte not yet copied
  bool checked_utf8 = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) continue;
    if (c >= 0x80) {
      if (!checked_utf8) {
        if (!IsUtf8(s, i)) {
          // Bad sequences are rare (a binary string in a statement); their
          // replacement follows nlohmann's decoder exactly, so it prints them.
          out->resize(start);
          out->append(nlohmann::json(std::string(s)).dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace));
          return;
        }
        checked_utf8 = true;
      }
      continue;
    }
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, sizeof esc);
      }
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

}  // namespace tidewatch
