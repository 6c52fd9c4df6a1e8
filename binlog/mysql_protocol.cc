#include "binlog/mysql_protocol.h"

#include <sodium.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "binlog/byte_reader.h"

namespace tidewatch::binlog::protocol {
namespace {

void PutLE(std::vector<uint8_t>* v, uint64_t x, int n) {
  for (int i = 0; i < n; ++i) v->push_back(static_cast<uint8_t>(x >> (8 * i)));
}
void PutBytes(std::vector<uint8_t>* v, std::string_view s) { v->insert(v->end(), s.begin(), s.end()); }
void PutBytes(std::vector<uint8_t>* v, std::span<const uint8_t> s) { v->insert(v->end(), s.begin(), s.end()); }
void PutLenenc(std::vector<uint8_t>* v, uint64_t x) {
  if (x < 251) {
    v->push_back(static_cast<uint8_t>(x));
  } else if (x < (1u << 16)) {
    v->push_back(0xfc);
    PutLE(v, x, 2);
  } else if (x < (1u << 24)) {
    v->push_back(0xfd);
    PutLE(v, x, 3);
  } else {
    v->push_back(0xfe);
    PutLE(v, x, 8);
  }
}

template <size_t N>
using Digest = std::array<uint8_t, N>;

// Digest of the concatenation a + b (EVP one-shot; OpenSSL 3).
template <size_t N>
Digest<N> Hash(const EVP_MD* md, std::span<const uint8_t> a, std::span<const uint8_t> b) {
  std::vector<uint8_t> in(a.begin(), a.end());
  in.insert(in.end(), b.begin(), b.end());
  Digest<N> d{};
  unsigned int n = 0;
  EVP_Digest(in.data(), in.size(), d.data(), &n, md, nullptr);
  return d;
}
Digest<20> Sha1(std::span<const uint8_t> a, std::span<const uint8_t> b = {}) { return Hash<20>(EVP_sha1(), a, b); }
Digest<32> Sha256(std::span<const uint8_t> a, std::span<const uint8_t> b = {}) { return Hash<32>(EVP_sha256(), a, b); }

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

void AppendPackets(std::span<const uint8_t> payload, uint8_t* seq, std::vector<uint8_t>* out) {
  size_t at = 0;
  while (true) {
    const size_t n = std::min<size_t>(payload.size() - at, kMaxPacketPayload);
    PutLE(out, n, 3);
    out->push_back((*seq)++);
    out->insert(out->end(), payload.begin() + at, payload.begin() + at + n);
    at += n;
    if (n < kMaxPacketPayload) break;  // a full packet is followed by another, maybe empty
  }
}

Status ParseHandshake(std::span<const uint8_t> payload, Handshake* out) {
  ByteReader r(payload);
  out->protocol_version = r.U8();
  if (!r.ok()) return Status::Corruption("empty handshake packet");
  if (out->protocol_version == 0xff) return Status::IOError("server refused the connection: " + ErrorMessage(payload));
  if (out->protocol_version != 10) {
    return Status::NotSupported("handshake protocol version " + std::to_string(out->protocol_version));
  }
  const void* nul = std::memchr(r.cursor(), 0, r.remaining());
  if (nul == nullptr) return Status::Corruption("handshake: server version not terminated");
  out->server_version = std::string(r.String(static_cast<const uint8_t*>(nul) - r.cursor()));
  r.Skip(1);
  out->connection_id = r.U32();
  auto part1 = r.Bytes(8);
  r.Skip(1);
  uint32_t caps = r.U16();
  out->charset = r.U8();
  r.Skip(2);  // status flags
  caps |= static_cast<uint32_t>(r.U16()) << 16;
  uint8_t auth_len = r.U8();
  r.Skip(10);  // reserved (MariaDB: extended capabilities in the last 4)
  if (!r.ok()) return Status::Corruption("handshake packet too short");
  out->capabilities = caps;
  out->scramble.assign(part1.begin(), part1.end());
  if (caps & kSecureConnection) {
    size_t n = std::max<int>(13, static_cast<int>(auth_len) - 8);
    auto part2 = r.Bytes(n);
    if (!r.ok()) return Status::Corruption("handshake: auth data runs past the packet");
    // The second part ends with a NUL that is not part of the 20-byte scramble.
    out->scramble.insert(out->scramble.end(), part2.begin(), part2.end() - (part2.back() == 0 ? 1 : 0));
  }
  if (caps & kPluginAuth) {
    auto rest = r.RestString();
    out->auth_plugin = std::string(rest.substr(0, rest.find('\0')));
  }
  return Status::OK();
}

std::vector<uint8_t> BuildSslRequest(uint32_t capabilities) {
  std::vector<uint8_t> v;
  PutLE(&v, capabilities, 4);
  PutLE(&v, kMaxPacketPayload, 4);
  v.push_back(45);  // utf8mb4_general_ci
  v.resize(v.size() + 23, 0);
  return v;
}

std::vector<uint8_t> BuildHandshakeResponse(uint32_t capabilities, std::string_view user,
                                            std::span<const uint8_t> auth_response,
                                            std::string_view auth_plugin) {
  std::vector<uint8_t> v = BuildSslRequest(capabilities);
  PutBytes(&v, user);
  v.push_back(0);
  if (capabilities & kPluginAuthLenencData) {
    PutLenenc(&v, auth_response.size());
  } else {
    v.push_back(static_cast<uint8_t>(auth_response.size()));
  }
  PutBytes(&v, auth_response);
  if (capabilities & kPluginAuth) {
    PutBytes(&v, auth_plugin);
    v.push_back(0);
  }
  return v;
}

std::vector<uint8_t> NativePasswordScramble(std::string_view password, std::span<const uint8_t> scramble) {
  if (password.empty()) return {};
  auto stage1 = Sha1(Bytes(password));
  auto stage2 = Sha1(stage1);
  auto mix = Sha1(scramble.first(std::min<size_t>(20, scramble.size())), stage2);
  std::vector<uint8_t> out(20);
  for (int i = 0; i < 20; ++i) out[i] = stage1[i] ^ mix[i];
  return out;
}

std::vector<uint8_t> CachingSha2Scramble(std::string_view password, std::span<const uint8_t> scramble) {
  if (password.empty()) return {};
  auto p1 = Sha256(Bytes(password));
  auto p2 = Sha256(p1);
  auto mix = Sha256(p2, scramble.first(std::min<size_t>(20, scramble.size())));
  std::vector<uint8_t> out(32);
  for (int i = 0; i < 32; ++i) out[i] = p1[i] ^ mix[i];
  return out;
}

std::vector<uint8_t> Ed25519Signature(std::string_view password, std::span<const uint8_t> scramble) {
  if (sodium_init() < 0) return {};
  // az = SHA512(password), clamped: the secret scalar and the nonce prefix.
  uint8_t az[64];
  crypto_hash_sha512(az, reinterpret_cast<const uint8_t*>(password.data()), password.size());
  az[0] &= 248;
  az[31] &= 63;
  az[31] |= 64;
  // r = SHA512(az[32..64] || m) mod L;  R = rB;  A = aB
  std::vector<uint8_t> buf(az + 32, az + 64);
  buf.insert(buf.end(), scramble.begin(), scramble.end());
  uint8_t nonce64[64], r[32], R[32], A[32];
  crypto_hash_sha512(nonce64, buf.data(), buf.size());
  crypto_core_ed25519_scalar_reduce(r, nonce64);
  crypto_scalarmult_ed25519_base_noclamp(R, r);
  crypto_scalarmult_ed25519_base_noclamp(A, az);
  // k = SHA512(R || A || m) mod L;  S = k·a + r mod L
  buf.assign(R, R + 32);
  buf.insert(buf.end(), A, A + 32);
  buf.insert(buf.end(), scramble.begin(), scramble.end());
  uint8_t k64[64], k[32], ka[32], S[32];
  crypto_hash_sha512(k64, buf.data(), buf.size());
  crypto_core_ed25519_scalar_reduce(k, k64);
  crypto_core_ed25519_scalar_mul(ka, k, az);
  crypto_core_ed25519_scalar_add(S, ka, r);
  std::vector<uint8_t> sig(R, R + 32);
  sig.insert(sig.end(), S, S + 32);
  sodium_memzero(az, sizeof az);
  return sig;
}

Status CachingSha2RsaEncrypt(std::string_view password, std::span<const uint8_t> scramble,
                             std::string_view pem, std::vector<uint8_t>* out) {
  std::vector<uint8_t> plain(password.begin(), password.end());
  plain.push_back(0);
  for (size_t i = 0; i < plain.size() && !scramble.empty(); ++i) plain[i] ^= scramble[i % scramble.size()];
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
                                                          EVP_PKEY_free);
  if (!key) return Status::Corruption("server's RSA public key does not parse");
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key.get(), nullptr),
                                                                 EVP_PKEY_CTX_free);
  size_t n = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &n, plain.data(), plain.size()) <= 0) {
    return Status::Corruption("cannot RSA-encrypt the password with the server's key");
  }
  out->resize(n);
  if (EVP_PKEY_encrypt(ctx.get(), out->data(), &n, plain.data(), plain.size()) <= 0) {
    return Status::Corruption("cannot RSA-encrypt the password with the server's key");
  }
  out->resize(n);
  return Status::OK();
}

uint16_t ErrorCode(std::span<const uint8_t> p) {
  return p.size() >= 3 ? static_cast<uint16_t>(p[1] | p[2] << 8) : 0;
}

std::string ErrorMessage(std::span<const uint8_t> p) {
  if (p.size() < 3) return "malformed error packet";
  std::string msg = "ERROR " + std::to_string(ErrorCode(p));
  size_t at = 3;
  if (p.size() >= 9 && p[3] == '#') {
    msg += " (" + std::string(reinterpret_cast<const char*>(p.data()) + 4, 5) + ")";
    at = 9;
  }
  msg += ": " + std::string(reinterpret_cast<const char*>(p.data()) + at, p.size() - at);
  return msg;
}

std::vector<uint8_t> BuildQuery(std::string_view sql) {
  std::vector<uint8_t> v{kComQuery};
  PutBytes(&v, sql);
  return v;
}

std::vector<uint8_t> BuildRegisterSlave(uint32_t server_id, std::string_view host, uint16_t port) {
  std::vector<uint8_t> v{kComRegisterSlave};
  PutLE(&v, server_id, 4);
  v.push_back(static_cast<uint8_t>(std::min<size_t>(host.size(), 255)));
  PutBytes(&v, host.substr(0, 255));
  v.push_back(0);  // user
  v.push_back(0);  // password
  PutLE(&v, port, 2);
  PutLE(&v, 0, 4);  // replication rank
  PutLE(&v, 0, 4);  // master id
  return v;
}

std::vector<uint8_t> BuildBinlogDump(uint32_t server_id, std::string_view file, uint32_t pos,
                                     uint16_t flags) {
  std::vector<uint8_t> v{kComBinlogDump};
  PutLE(&v, pos, 4);
  PutLE(&v, flags, 2);
  PutLE(&v, server_id, 4);
  PutBytes(&v, file);
  return v;
}

std::vector<uint8_t> BuildBinlogDumpGtid(uint32_t server_id, std::string_view file, uint64_t pos,
                                         std::span<const uint8_t> gtid_set, uint16_t flags) {
  std::vector<uint8_t> v{kComBinlogDumpGtid};
  PutLE(&v, flags | kBinlogThroughGtid, 2);
  PutLE(&v, server_id, 4);
  PutLE(&v, file.size(), 4);
  PutBytes(&v, file);
  PutLE(&v, pos, 8);
  PutLE(&v, gtid_set.size(), 4);
  PutBytes(&v, gtid_set);
  return v;
}

Status ParseTextRow(std::span<const uint8_t> payload, size_t columns, Row* out) {
  ByteReader r(payload);
  out->clear();
  for (size_t i = 0; i < columns; ++i) {
    if (r.remaining() > 0 && *r.cursor() == 0xfb) {
      r.Skip(1);
      out->push_back(std::nullopt);
      continue;
    }
    uint64_t n = r.PackedInt();
    auto s = r.String(n);
    if (!r.ok()) return Status::Corruption("result row runs past its packet");
    out->push_back(std::string(s));
  }
  return Status::OK();
}

}  // namespace tidewatch::binlog::protocol
