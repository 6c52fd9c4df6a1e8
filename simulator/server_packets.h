// The server's side of the MySQL client/server protocol, as payloads and
// packets a simulated server sends: the packet framing (3-byte length,
// sequence id, payloads of 0xffffff bytes and more split), the initial
// handshake (Protocol::HandshakeV10), OK, EOF and ERR packets, and text
// result sets (column count, column definitions, EOF, rows of
// length-encoded strings or 0xfb for NULL, EOF) — MySQL Internals,
// "Client/Server Protocol"; sql/protocol.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tidewatch::simulator {

// The 20-byte scramble every simulated handshake announces.
const std::vector<uint8_t>& HandshakeScramble();

// Appends `payload` as one or more packets numbered from *seq.
void AppendPacket(uint8_t* seq, const std::vector<uint8_t>& payload, std::vector<uint8_t>* out);

// HandshakeV10 of a server announcing `version` and auth `plugin`; with
// `multi_statements`, CLIENT_MULTI_STATEMENTS and CLIENT_MULTI_RESULTS.
std::vector<uint8_t> HandshakePayload(const std::string& plugin, const std::string& version,
                                      bool multi_statements = false);

// The statements of a COM_QUERY that carries several, split at the ';'
// outside quotes; empty ones dropped.
std::vector<std::string> SplitStatements(const std::string& sql);

// Sets SERVER_MORE_RESULTS_EXIST in the status flags of the last packet of
// `packets` (one statement's answer: a result set's closing EOF, or an OK),
// as a server does for every statement of a batch but the last. False when
// that packet is an ERR: the server stops the batch there.
bool FlagMoreResults(std::vector<uint8_t>* packets);

const std::vector<uint8_t>& OkPayload();
const std::vector<uint8_t>& EofPayload();
std::vector<uint8_t> ErrorPayload(uint16_t code, const std::string& sql_state, const std::string& message);

using ResultRow = std::vector<std::optional<std::string>>;

// A text result set, packets numbered from *seq (1 after a command).
void AppendResultSet(uint8_t* seq, const std::vector<std::string>& columns, const std::vector<ResultRow>& rows,
                     std::vector<uint8_t>* out);

// The user and auth data of a HandshakeResponse41 (capabilities 4, max
// packet 4, charset 1, filler 23, user NUL, auth data length-prefixed).
std::vector<uint8_t> HandshakeAuthData(const std::vector<uint8_t>& response);

}  // namespace tidewatch::simulator
