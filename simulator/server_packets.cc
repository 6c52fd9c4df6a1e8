#include "simulator/server_packets.h"

#include <algorithm>

namespace tidewatch::simulator {

namespace {

void Le(std::vector<uint8_t>* v, uint64_t x, int n) {
  for (int i = 0; i < n; ++i) v->push_back(static_cast<uint8_t>(x >> (8 * i)));
}

void LengthEncoded(std::vector<uint8_t>* v, const std::string& s) {
  const uint64_t n = s.size();
  if (n < 251) {
    v->push_back(static_cast<uint8_t>(n));
  } else if (n < (1u << 16)) {
    v->push_back(0xfc);
    Le(v, n, 2);
  } else if (n < (1u << 24)) {
    v->push_back(0xfd);
    Le(v, n, 3);
  } else {
    v->push_back(0xfe);
    Le(v, n, 8);
  }
  v->insert(v->end(), s.begin(), s.end());
}

}  // namespace

const std::vector<uint8_t>& HandshakeScramble() {
  static const std::vector<uint8_t> scramble = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j',
                                                'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't'};
  return scramble;
}

void AppendPacket(uint8_t* seq, const std::vector<uint8_t>& payload, std::vector<uint8_t>* out) {
  size_t at = 0;
  while (true) {
    size_t n = std::min<size_t>(payload.size() - at, 0xffffff);
    uint8_t h[4] = {static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n >> 16), (*seq)++};
    out->insert(out->end(), h, h + 4);
    out->insert(out->end(), payload.begin() + at, payload.begin() + at + n);
    at += n;
    if (n < 0xffffff) return;
  }
}

std::vector<uint8_t> HandshakePayload(const std::string& plugin, const std::string& version, bool multi_statements) {
  const auto& scramble = HandshakeScramble();
  std::vector<uint8_t> v{10};
  v.insert(v.end(), version.begin(), version.end());
  v.push_back(0);
  Le(&v, 7, 4);
  v.insert(v.end(), scramble.begin(), scramble.begin() + 8);
  v.push_back(0);
  // CLIENT_LONG_PASSWORD, CLIENT_PROTOCOL_41, CLIENT_SECURE_CONNECTION,
  // CLIENT_PLUGIN_AUTH, CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA.
  const uint32_t caps = (1u << 9) | (1u << 15) | (1u << 19) | (1u << 21) | 1u |
                        (multi_statements ? (1u << 16) | (1u << 17) : 0u);
  Le(&v, caps & 0xffff, 2);
  v.push_back(45);
  Le(&v, 2, 2);
  Le(&v, caps >> 16, 2);
  v.push_back(21);
  v.insert(v.end(), 10, 0);
  v.insert(v.end(), scramble.begin() + 8, scramble.end());
  v.push_back(0);
  v.insert(v.end(), plugin.begin(), plugin.end());
  v.push_back(0);
  return v;
}

std::vector<std::string> SplitStatements(const std::string& sql) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (char ch : sql) {
    if (quote != 0) {
      if (ch == quote) quote = 0;
    } else if (ch == '\'' || ch == '"' || ch == '`') {
      quote = ch;
    } else if (ch == ';') {
      if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += ch;
  }
  if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
  return out;
}

bool FlagMoreResults(std::vector<uint8_t>* packets) {
  constexpr uint16_t kMoreResultsExist = 0x0008;  // SERVER_MORE_RESULTS_EXIST, mysql_com.h
  size_t at = 0, last = std::string::npos;
  while (at + 4 <= packets->size()) {
    last = at;
    at += 4 + ((*packets)[at] | (*packets)[at + 1] << 8 | (*packets)[at + 2] << 16);
  }
  if (last == std::string::npos || at != packets->size()) return false;
  uint8_t* p = packets->data() + last + 4;
  const size_t n = packets->size() - last - 4;
  size_t flags = 0;
  if (n >= 5 && n < 9 && p[0] == 0xfe) {
    flags = 3;  // EOF: 0xfe, warnings 2, status 2
  } else if (n >= 3 && p[0] == 0x00 && p[1] < 0xfb && p[2] < 0xfb) {
    flags = 3;  // OK: 0x00, affected rows and insert id (one byte each here), status 2
  } else {
    return false;
  }
  if (flags + 2 > n) return false;
  p[flags] |= kMoreResultsExist & 0xff;
  return true;
}

const std::vector<uint8_t>& OkPayload() {
  static const std::vector<uint8_t> ok = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
  return ok;
}

const std::vector<uint8_t>& EofPayload() {
  static const std::vector<uint8_t> eof = {0xfe, 0x00, 0x00, 0x02, 0x00};
  return eof;
}

std::vector<uint8_t> ErrorPayload(uint16_t code, const std::string& sql_state, const std::string& message) {
  std::vector<uint8_t> v{0xff};
  Le(&v, code, 2);
  v.push_back('#');
  std::string state = sql_state;
  state.resize(5, '0');
  v.insert(v.end(), state.begin(), state.end());
  v.insert(v.end(), message.begin(), message.end());
  return v;
}

void AppendResultSet(uint8_t* seq, const std::vector<std::string>& columns, const std::vector<ResultRow>& rows,
                     std::vector<uint8_t>* out) {
  std::vector<uint8_t> p{static_cast<uint8_t>(columns.size())};  // fewer than 251 columns
  AppendPacket(seq, p, out);
  for (const auto& name : columns) {
    // ColumnDefinition41: catalog "def", schema, table, org_table, name,
    // org_name, 0x0c, charset utf8mb4, length, MYSQL_TYPE_VAR_STRING, flags, decimals, filler.
    p.clear();
    LengthEncoded(&p, "def");
    LengthEncoded(&p, "");
    LengthEncoded(&p, "");
    LengthEncoded(&p, "");
    LengthEncoded(&p, name);
    LengthEncoded(&p, name);
    p.push_back(0x0c);
    Le(&p, 45, 2);
    Le(&p, 1024, 4);
    p.push_back(0xfd);
    Le(&p, 0, 2);
    p.push_back(0);
    Le(&p, 0, 2);
    AppendPacket(seq, p, out);
  }
  AppendPacket(seq, EofPayload(), out);
  for (const auto& row : rows) {
    p.clear();
    for (const auto& value : row) {
      if (value) {
        LengthEncoded(&p, *value);
      } else {
        p.push_back(0xfb);
      }
    }
    AppendPacket(seq, p, out);
  }
  AppendPacket(seq, EofPayload(), out);
}

std::vector<uint8_t> HandshakeAuthData(const std::vector<uint8_t>& response) {
  size_t at = 32;
  while (at < response.size() && response[at] != 0) ++at;
  ++at;
  if (at >= response.size()) return {};
  size_t n = response[at];
  if (at + 1 + n > response.size()) return {};
  return std::vector<uint8_t>(response.begin() + at + 1, response.begin() + at + 1 + n);
}

}  // namespace tidewatch::simulator
