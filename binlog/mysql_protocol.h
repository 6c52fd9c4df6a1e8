// The parts of the MySQL client/server protocol a replica needs
// (MySQL Internals: "Client/Server Protocol"; MariaDB KB: "Clients & Communication
// Protocol"): packet framing, capability flags, the initial handshake and its
// response, authentication scrambles, OK/ERR packets, text result sets, and
// the replication commands COM_REGISTER_SLAVE, COM_BINLOG_DUMP and
// COM_BINLOG_DUMP_GTID.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tidewatch::binlog::protocol {

// A packet: payload length 3 (LE) · sequence id 1 · payload. A payload of
// 0xffffff bytes or more continues in the next packet; a payload that is an
// exact multiple of 0xffffff ends with an empty packet.
inline constexpr size_t kPacketHeaderSize = 4;
inline constexpr uint32_t kMaxPacketPayload = 0xffffff;

// Capability flags (include/mysql_com.h).
enum Capability : uint32_t {
  kLongPassword = 1u << 0,
  kConnectWithDb = 1u << 3,
  kProtocol41 = 1u << 9,
  kSsl = 1u << 11,
  kTransactions = 1u << 13,
  kSecureConnection = 1u << 15,
  kMultiResults = 1u << 17,
  kPluginAuth = 1u << 19,
  kConnectAttrs = 1u << 20,
  kPluginAuthLenencData = 1u << 21,
  kDeprecateEof = 1u << 24,
};

// Commands.
inline constexpr uint8_t kComQuit = 0x01;
inline constexpr uint8_t kComQuery = 0x03;
inline constexpr uint8_t kComBinlogDump = 0x12;
inline constexpr uint8_t kComRegisterSlave = 0x15;
inline constexpr uint8_t kComBinlogDumpGtid = 0x1e;

// COM_BINLOG_DUMP flags.
inline constexpr uint16_t kBinlogDumpNonBlock = 1;
inline constexpr uint16_t kBinlogSendAnnotateRows = 2;  // MariaDB
inline constexpr uint16_t kBinlogThroughGtid = 4;       // COM_BINLOG_DUMP_GTID

// Splits `payload` into packets starting at sequence id `seq` (advanced).
void AppendPackets(std::span<const uint8_t> payload, uint8_t* seq, std::vector<uint8_t>* out);

struct Handshake {
  uint8_t protocol_version = 0;
  std::string server_version;
  uint32_t connection_id = 0;
  uint32_t capabilities = 0;
  uint8_t charset = 0;
  std::vector<uint8_t> scramble;  // 20 bytes of auth plugin data
  std::string auth_plugin;
  bool is_mariadb() const { return server_version.find("MariaDB") != std::string::npos; }
};

Status ParseHandshake(std::span<const uint8_t> payload, Handshake* out);

// HandshakeResponse41 with the capabilities we use and the given auth data.
std::vector<uint8_t> BuildHandshakeResponse(uint32_t capabilities, std::string_view user,
                                            std::span<const uint8_t> auth_response,
                                            std::string_view auth_plugin);

// SSLRequest: the first 32 bytes of a HandshakeResponse41, sent before TLS.
std::vector<uint8_t> BuildSslRequest(uint32_t capabilities);

// Auth scrambles. mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)));
// caching_sha2_password (fast path): SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble).
std::vector<uint8_t> NativePasswordScramble(std::string_view password, std::span<const uint8_t> scramble);
std::vector<uint8_t> CachingSha2Scramble(std::string_view password, std::span<const uint8_t> scramble);
// MariaDB client_ed25519: an Ed25519 signature of the scramble whose secret
// scalar and nonce prefix come from SHA512(password), as the server's
// plugin/auth_ed25519 (ref10 crypto_sign with the password as the seed).
std::vector<uint8_t> Ed25519Signature(std::string_view password, std::span<const uint8_t> scramble);
// caching_sha2_password full authentication without TLS: (password + NUL)
// XOR scramble, RSA-OAEP encrypted with the server's PEM public key.
Status CachingSha2RsaEncrypt(std::string_view password, std::span<const uint8_t> scramble,
                             std::string_view pem_public_key, std::vector<uint8_t>* out);

// Packet kinds by first byte.
inline bool IsOk(std::span<const uint8_t> p) { return !p.empty() && p[0] == 0x00; }
inline bool IsErr(std::span<const uint8_t> p) { return !p.empty() && p[0] == 0xff; }
inline bool IsEof(std::span<const uint8_t> p) { return !p.empty() && p[0] == 0xfe && p.size() < 9; }

// "ERROR 1045 (28000): Access denied …" from an ERR packet.
std::string ErrorMessage(std::span<const uint8_t> err_packet);
uint16_t ErrorCode(std::span<const uint8_t> err_packet);

std::vector<uint8_t> BuildQuery(std::string_view sql);
std::vector<uint8_t> BuildRegisterSlave(uint32_t server_id, std::string_view host, uint16_t port);
std::vector<uint8_t> BuildBinlogDump(uint32_t server_id, std::string_view file, uint32_t pos,
                                     uint16_t flags);
// MySQL COM_BINLOG_DUMP_GTID with an encoded GTID set (see gtid_set_encoding
// in the caller) and the position to start from when no GTID is given.
std::vector<uint8_t> BuildBinlogDumpGtid(uint32_t server_id, std::string_view file, uint64_t pos,
                                         std::span<const uint8_t> encoded_gtid_set, uint16_t flags);

// A text result set's rows: column values as strings, nullopt for NULL.
using Row = std::vector<std::optional<std::string>>;
// Parses one text-protocol row packet of `columns` values.
Status ParseTextRow(std::span<const uint8_t> payload, size_t columns, Row* out);

}  // namespace tidewatch::binlog::protocol
