#include "binlog/replica_stream.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "binlog/event_decoder.h"
#include "binlog/event_header.h"
#include "binlog/event_type.h"
#include "binlog/mysql_gtid_set.h"
#include "binlog/mysql_protocol.h"

namespace tidewatch::binlog {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
namespace proto = protocol;

const char* StreamStateName(StreamState s) {
  switch (s) {
    case StreamState::kConnecting: return "connecting";
    case StreamState::kStreaming: return "streaming";
    case StreamState::kLagging: return "lagging";
    case StreamState::kDisconnected: return "disconnected";
    case StreamState::kEnded: return "ended";
    case StreamState::kFailed: return "failed";
  }
  return "?";
}

namespace {

// MariaDB's replica capability that asks for every event as written,
// GTID events included (sql/log_event.h MARIA_SLAVE_CAPABILITY_MINE).
constexpr int kMariaSlaveCapabilityMine = 4;
// Reads start at 16 KiB and double, up to 256 KiB, while they fill all the
// room there is: a stream that catches up reads in big bites, and one of
// thousands that follows a quiet server holds little memory.
constexpr size_t kInitialBuffer = 16 * 1024;
constexpr size_t kLargestRead = 256 * 1024;
constexpr int kSmallReadsBeforeShrink = 256;

// What a session was doing, for its error messages. Arguments of co_await
// calls are named objects, never temporaries or literals: GCC 12 destroys
// such temporaries twice or rejects literals in coroutine calls.
constexpr std::string_view kQuerying = "query", kHandshake = "handshake",
                           kAuthenticating = "authentication", kRegistering = "COM_REGISTER_SLAVE",
                           kDumping = "COM_BINLOG_DUMP", kStreamingEvents = "binlog stream";
// caching_sha2_password: "send me your RSA public key".
const std::vector<uint8_t> kRequestPublicKey = {0x02};

std::string Quote(std::string_view s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') q.push_back('\\');
    q.push_back(c);
  }
  return q + "'";
}

}  // namespace

struct ReplicaStream::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, ReplicaStreamOptions o, EventHandler e, StatusHandler s)
      : io(io), options(std::move(o)), on_event(std::move(e)), on_status(std::move(s)), socket(io),
        watchdog(io), backoff(io) {
    file = options.start_file;
    pos = options.start_pos;
  }

  asio::io_context& io;
  ReplicaStreamOptions options;
  EventHandler on_event;
  StatusHandler on_status;
  tcp::socket socket;
  asio::steady_timer watchdog;
  asio::steady_timer backoff;
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point watchdog_expiry = Clock::time_point::max();
  uint32_t lag_checked_timestamp = 0;
  bool timed_out = false;
  bool stopping = false;
  bool unservable = false;  // the server refused the position itself (ERROR 1236)

  // Where the next event starts: the position after the last one delivered.
  std::string file;
  uint64_t pos = 4;
  bool use_gtid_start = true;  // until the first event gives a file and position

  std::vector<uint8_t> buf = std::vector<uint8_t>(kInitialBuffer);
  size_t begin = 0, end = 0;
  // Reads in a row that would have fitted the initial buffer: once a stream
  // has caught up, its grown buffer goes back to the initial size.
  int small_reads = 0;
  std::vector<uint8_t> assembled;  // payloads of 16 MiB and more
  uint8_t seq = 0;
  std::string server_version;
  bool server_is_mariadb = false;
  StreamStatus last_status;
  std::unique_ptr<asio::ssl::context> tls_context;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;  // set while the connection is encrypted

  void Report(StreamState state, std::string reason = {}, int attempt = 0) {
    last_status.state = state;
    last_status.reason = std::move(reason);
    last_status.file = file;
    last_status.pos = pos;
    last_status.server_version = server_version;
    last_status.attempt = attempt;
    last_status.tls = tls != nullptr;
    if (on_status) on_status(last_status);
  }

  // Sets the time by which the next read must complete. Moving the deadline
  // later costs nothing (the watchdog finds it when it wakes); only an
  // earlier one — the first after an idle spell — re-arms the timer.
  void Arm(std::chrono::milliseconds timeout) {
    deadline = Clock::now() + timeout;
    if (deadline < watchdog_expiry) {
      watchdog_expiry = deadline;
      watchdog.expires_at(deadline);  // wakes the watchdog, which waits again
    }
  }

  awaitable<void> Watchdog() {
    auto self = shared_from_this();
    while (!stopping) {
      boost::system::error_code ec;
      watchdog_expiry = deadline == Clock::time_point::max() ? Clock::now() + std::chrono::seconds(3600) : deadline;
      watchdog.expires_at(watchdog_expiry);
      co_await watchdog.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping) co_return;
      if (Clock::now() >= deadline) {
        timed_out = true;
        deadline = Clock::time_point::max();
        boost::system::error_code ignored;
        socket.close(ignored);
      }
    }
  }

  Status SocketError(const boost::system::error_code& ec, std::string_view doing) {
    if (timed_out) {
      return Status::IOError(std::string(doing) + ": no data from the server for " +
                             std::to_string(options.read_timeout.count()) + " ms" +
                             (doing == kStreamingEvents ? " (heartbeat timeout)" : " (timeout)"));
    }
    if (ec == asio::error::eof) return Status::IOError(std::string(doing) + ": the server closed the connection");
    return Status::IOError(std::string(doing) + ": " + ec.message());
  }

  // Makes at least n bytes available at buf[begin].
  awaitable<Status> Fill(size_t n, std::string_view doing) {
    if (end - begin >= n) co_return Status::OK();
    if (begin > 0) {
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    if (buf.size() < n) buf.resize(std::max(n, buf.size() * 2));
    if (end == 0 && small_reads >= kSmallReadsBeforeShrink && buf.size() > std::max(n, kInitialBuffer)) {
      buf = std::vector<uint8_t>(std::max(n, kInitialBuffer));
      small_reads = 0;
    }
    while (end < n) {
      boost::system::error_code ec;
      Arm(options.read_timeout);
      auto space = asio::buffer(buf.data() + end, buf.size() - end);
      size_t got = tls ? co_await tls->async_read_some(space, asio::redirect_error(asio::use_awaitable, ec))
                       : co_await socket.async_read_some(space, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return SocketError(ec, doing);
      end += got;
      small_reads = got < kInitialBuffer / 2 ? small_reads + 1 : 0;
      if (got == space.size() && buf.size() < kLargestRead) buf.resize(buf.size() * 2);
    }
    co_return Status::OK();
  }

  // Takes the next packet straight from the receive buffer when it is there
  // whole — the common case while streaming, which then costs no coroutine
  // frame and no read. False: use ReadPacket.
  bool TryTakePacket(std::span<const uint8_t>* out) {
    if (end - begin < proto::kPacketHeaderSize) return false;
    const uint8_t* h = buf.data() + begin;
    const uint32_t len = h[0] | h[1] << 8 | h[2] << 16;
    if (len >= proto::kMaxPacketPayload || h[3] != seq || end - begin - proto::kPacketHeaderSize < len) return false;
    seq = static_cast<uint8_t>(seq + 1);
    *out = std::span<const uint8_t>(h + proto::kPacketHeaderSize, len);
    begin += proto::kPacketHeaderSize + len;
    return true;
  }

  // The next packet's payload; valid until the next call.
  awaitable<Status> ReadPacket(std::span<const uint8_t>* out, std::string_view doing) {
    bool multi = false;
    assembled.clear();
    while (true) {
      Status s = co_await Fill(proto::kPacketHeaderSize, doing);
      if (!s.ok()) co_return s;
      const uint32_t len = buf[begin] | buf[begin + 1] << 8 | buf[begin + 2] << 16;
      const uint8_t got_seq = buf[begin + 3];
      if (got_seq != seq) {
        co_return Status::Corruption(std::string(doing) + ": packet sequence " + std::to_string(got_seq) +
                                     ", expected " + std::to_string(seq));
      }
      seq = static_cast<uint8_t>(seq + 1);
      begin += proto::kPacketHeaderSize;
      s = co_await Fill(len, doing);
      if (!s.ok()) co_return s;
      if (!multi && len < proto::kMaxPacketPayload) {
        *out = std::span<const uint8_t>(buf.data() + begin, len);
        begin += len;
        co_return Status::OK();
      }
      multi = true;
      assembled.insert(assembled.end(), buf.begin() + begin, buf.begin() + begin + len);
      begin += len;
      if (len < proto::kMaxPacketPayload) break;
    }
    *out = assembled;
    co_return Status::OK();
  }

  awaitable<Status> Write(const std::vector<uint8_t>& payload, std::string_view doing) {
    std::vector<uint8_t> wire;
    proto::AppendPackets(payload, &seq, &wire);
    boost::system::error_code ec;
    Arm(options.read_timeout);
    if (tls) {
      co_await asio::async_write(*tls, asio::buffer(wire), asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(socket, asio::buffer(wire), asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) co_return SocketError(ec, doing);
    co_return Status::OK();
  }

  // A command that starts a new exchange (sequence 0).
  awaitable<Status> Command(const std::vector<uint8_t>& payload, std::string_view doing) {
    seq = 0;
    co_return co_await Write(payload, doing);
  }

  // Runs a statement; fills `rows` for a result set.
  awaitable<Status> Query(const std::string& sql, std::vector<proto::Row>* rows = nullptr) {
    const auto command = proto::BuildQuery(sql);
    Status s = co_await Command(command, kQuerying);
    if (!s.ok()) co_return s;
    std::span<const uint8_t> p;
    s = co_await ReadPacket(&p, kQuerying);
    if (!s.ok()) co_return s;
    if (proto::IsErr(p)) co_return Status::InvalidArgument(proto::ErrorMessage(p));
    if (proto::IsOk(p)) co_return Status::OK();
    ByteReader r(p);
    const uint64_t columns = r.PackedInt();
    if (!r.ok() || columns == 0 || columns > 4096) co_return Status::Corruption("query: bad column count");
    for (uint64_t i = 0; i < columns; ++i) {  // column definitions
      s = co_await ReadPacket(&p, kQuerying);
      if (!s.ok()) co_return s;
    }
    s = co_await ReadPacket(&p, kQuerying);  // EOF after the definitions
    if (!s.ok()) co_return s;
    while (true) {
      s = co_await ReadPacket(&p, kQuerying);
      if (!s.ok()) co_return s;
      if (proto::IsErr(p)) co_return Status::InvalidArgument(proto::ErrorMessage(p));
      if (proto::IsEof(p)) break;
      if (rows != nullptr) {
        proto::Row row;
        s = proto::ParseTextRow(p, columns, &row);
        if (!s.ok()) co_return s;
        rows->push_back(std::move(row));
      }
    }
    co_return Status::OK();
  }

  awaitable<Status> Connect() {
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    Arm(options.connect_timeout);
    const std::string service = std::to_string(options.port);
    auto endpoints = co_await resolver.async_resolve(options.host, service,
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Status::IOError("resolve " + options.host + ": " + ec.message());
    co_await asio::async_connect(socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return SocketError(ec, "connect to " + options.host + ":" + std::to_string(options.port));
    socket.set_option(tcp::no_delay(true), ec);
    co_return Status::OK();
  }

  awaitable<Status> Authenticate() {
    std::span<const uint8_t> p;
    seq = 0;
    Status s = co_await ReadPacket(&p, kHandshake);
    if (!s.ok()) co_return s;
    proto::Handshake hs;
    s = proto::ParseHandshake(p, &hs);
    if (!s.ok()) co_return s;
    server_version = hs.server_version;
    server_is_mariadb = hs.is_mariadb();
    const uint32_t want = proto::kLongPassword | proto::kProtocol41 | proto::kSecureConnection |
                          proto::kPluginAuth | proto::kPluginAuthLenencData | proto::kTransactions |
                          proto::kMultiResults;
    uint32_t caps = want & (hs.capabilities | proto::kProtocol41);
    const bool server_tls = hs.capabilities & proto::kSsl;
    if (options.tls_mode != TlsMode::kDisabled && options.tls_mode != TlsMode::kPreferred && !server_tls) {
      co_return Status::NotSupported("TLS is required but the server does not offer it");
    }
    if (options.tls_mode != TlsMode::kDisabled && server_tls) {
      caps |= proto::kSsl;
      s = co_await StartTls(caps);
      if (!s.ok()) co_return s;
    }
    std::string plugin = hs.auth_plugin.empty() ? "mysql_native_password" : hs.auth_plugin;
    std::vector<uint8_t> scramble = hs.scramble;
    auto respond = [&](const std::string& name) -> std::optional<std::vector<uint8_t>> {
      if (name == "mysql_native_password") return proto::NativePasswordScramble(options.password, scramble);
      if (name == "caching_sha2_password") return proto::CachingSha2Scramble(options.password, scramble);
      if (name == "client_ed25519") return proto::Ed25519Signature(options.password, scramble);
      return std::nullopt;
    };
    auto first = respond(plugin);
    if (!first) {  // ask the server to switch to one we speak
      plugin = "mysql_native_password";
      first = respond(plugin);
    }
    const auto response = proto::BuildHandshakeResponse(caps, options.user, *first, plugin);
    s = co_await Write(response, kAuthenticating);
    if (!s.ok()) co_return s;
    for (int round = 0; round < 8; ++round) {
      s = co_await ReadPacket(&p, kAuthenticating);
      if (!s.ok()) co_return s;
      if (proto::IsOk(p)) co_return Status::OK();
      if (proto::IsErr(p)) co_return Status::InvalidArgument("authentication as " + options.user + " failed: " + proto::ErrorMessage(p));
      if (p[0] == 0xfe) {  // AuthSwitchRequest: plugin name NUL, data
        std::string_view rest(reinterpret_cast<const char*>(p.data()) + 1, p.size() - 1);
        size_t nul = rest.find('\0');
        plugin = std::string(rest.substr(0, nul));
        auto data = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
        // The 20-byte scrambles come NUL-terminated; client_ed25519's 32-byte
        // nonce does not, and may end in a zero byte of its own.
        if (data.size() == 21 && data.back() == '\0') data.remove_suffix(1);
        scramble.assign(data.begin(), data.end());
        auto r = respond(plugin);
        if (!r) co_return Status::NotSupported("authentication plugin " + plugin + " is not supported");
        s = co_await Write(*r, kAuthenticating);
        if (!s.ok()) co_return s;
        continue;
      }
      if (p[0] == 0x01 && plugin == "caching_sha2_password") {  // AuthMoreData
        if (p.size() == 2 && p[1] == 3) continue;  // fast authentication succeeded; OK follows
        if (p.size() == 2 && p[1] == 4 && tls) {  // full authentication over TLS: the password itself
          std::vector<uint8_t> cleartext(options.password.begin(), options.password.end());
          cleartext.push_back(0);
          s = co_await Write(cleartext, kAuthenticating);
          if (!s.ok()) co_return s;
          continue;
        }
        if (p.size() == 2 && p[1] == 4) {          // full authentication: ask for the RSA key
          s = co_await Write(kRequestPublicKey, kAuthenticating);
          if (!s.ok()) co_return s;
          continue;
        }
        std::string_view pem(reinterpret_cast<const char*>(p.data()) + 1, p.size() - 1);
        std::vector<uint8_t> encrypted;
        s = proto::CachingSha2RsaEncrypt(options.password, scramble, pem, &encrypted);
        if (!s.ok()) co_return s;
        s = co_await Write(encrypted, kAuthenticating);
        if (!s.ok()) co_return s;
        continue;
      }
      co_return Status::Corruption("authentication: unexpected packet 0x" + std::to_string(p[0]));
    }
    co_return Status::Corruption("authentication did not finish");
  }

  // SSLRequest, then the TLS handshake; the rest of the login is encrypted.
  awaitable<Status> StartTls(uint32_t caps) {
    const auto request = proto::BuildSslRequest(caps);
    Status s = co_await Write(request, kAuthenticating);
    if (!s.ok()) co_return s;
    tls_context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    const bool verify = options.tls_mode == TlsMode::kVerifyCa || options.tls_mode == TlsMode::kVerifyIdentity;
    if (verify) {
      tls_context->set_verify_mode(asio::ssl::verify_peer);
      if (options.tls_ca.empty()) {
        tls_context->set_default_verify_paths(ec);
      } else {
        tls_context->load_verify_file(options.tls_ca, ec);
      }
      if (ec) co_return Status::InvalidArgument("TLS CA " + options.tls_ca + ": " + ec.message());
      if (options.tls_mode == TlsMode::kVerifyIdentity) {
        tls_context->set_verify_callback(asio::ssl::host_name_verification(options.host));
      }
    } else {
      tls_context->set_verify_mode(asio::ssl::verify_none);
    }
    if (!options.tls_cert.empty()) {
      tls_context->use_certificate_chain_file(options.tls_cert, ec);
      if (ec) co_return Status::InvalidArgument("TLS certificate " + options.tls_cert + ": " + ec.message());
      tls_context->use_private_key_file(options.tls_key.empty() ? options.tls_cert : options.tls_key,
                                        asio::ssl::context::pem, ec);
      if (ec) co_return Status::InvalidArgument("TLS key " + options.tls_key + ": " + ec.message());
    }
    tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket, *tls_context);
    Arm(options.connect_timeout);
    co_await tls->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      tls.reset();
      if (timed_out) co_return SocketError(ec, "TLS handshake");
      co_return Status::IOError("TLS handshake with " + options.host + ":" + std::to_string(options.port) + ": " +
                                ec.message() + (verify ? " (certificate verification)" : ""));
    }
    co_return Status::OK();
  }

  awaitable<Status> StartDump(FormatDescription* fd) {
    std::vector<proto::Row> rows;
    const std::string select_checksum = "SELECT @@global.binlog_checksum";
    Status s = co_await Query(select_checksum, &rows);
    fd->checksum_alg = ChecksumAlg::kOff;
    if (s.ok() && !rows.empty() && !rows[0].empty() && rows[0][0] && *rows[0][0] != "NONE") {
      const std::string set_checksum =
          "SET @master_binlog_checksum = @@global.binlog_checksum, "
          "@source_binlog_checksum = @@global.binlog_checksum";
      s = co_await Query(set_checksum);
      if (!s.ok()) co_return s;
      fd->checksum_alg = ChecksumAlg::kCrc32;
    }
    const std::string set_capability =
        "SET @mariadb_slave_capability = " + std::to_string(kMariaSlaveCapabilityMine);
    s = co_await Query(set_capability);
    if (!s.ok()) co_return s;
    const uint64_t ns = static_cast<uint64_t>(options.heartbeat_period.count()) * 1000000ull;
    const std::string set_heartbeat = "SET @master_heartbeat_period = " + std::to_string(ns) +
                                      ", @source_heartbeat_period = " + std::to_string(ns);
    s = co_await Query(set_heartbeat);
    if (!s.ok()) co_return s;
    const bool gtid = use_gtid_start && !options.start_gtid.empty();
    std::vector<uint8_t> mysql_gtid_set;
    if (gtid && !server_is_mariadb) {
      s = EncodeMysqlGtidSet(options.start_gtid, &mysql_gtid_set);
      if (!s.ok()) co_return s;
    }
    if (gtid && server_is_mariadb) {
      const std::string set_gtid = "SET @slave_connect_state = " + Quote(options.start_gtid) +
                                   ", @slave_gtid_strict_mode = " + (options.gtid_strict ? "1" : "0") +
                                   ", @slave_gtid_ignore_duplicates = 0";
      s = co_await Query(set_gtid);
      if (!s.ok()) co_return s;
    }
    if (options.register_as_replica) {
      const auto register_slave =
          proto::BuildRegisterSlave(options.server_id, options.report_host, options.report_port);
      s = co_await Command(register_slave, kRegistering);
      if (!s.ok()) co_return s;
      std::span<const uint8_t> p;
      s = co_await ReadPacket(&p, kRegistering);
      if (!s.ok()) co_return s;
      if (proto::IsErr(p)) co_return Status::InvalidArgument("COM_REGISTER_SLAVE: " + proto::ErrorMessage(p));
    }
    uint16_t flags = server_is_mariadb ? proto::kBinlogSendAnnotateRows : 0;
    if (options.non_blocking) flags |= proto::kBinlogDumpNonBlock;
    // MySQL from a GTID set: COM_BINLOG_DUMP_GTID; otherwise COM_BINLOG_DUMP
    // (MariaDB's GTID start travels in @slave_connect_state).
    const auto dump = gtid && !server_is_mariadb
                          ? proto::BuildBinlogDumpGtid(options.server_id, "", 4, mysql_gtid_set, flags)
                          : proto::BuildBinlogDump(options.server_id, gtid ? "" : file,
                                                   static_cast<uint32_t>(gtid ? 4 : pos), flags);
    co_return co_await Command(dump, kDumping);
  }

  // Lag: how far behind the server's clock the events we receive were
  // written (as Seconds_Behind_Master measures it). A heartbeat means the
  // server had nothing more to send: caught up.
  void UpdateLag(const EventHeader& h, bool heartbeat) {
    const bool lagging = last_status.state == StreamState::kLagging;
    if (heartbeat) {
      if (lagging) Report(StreamState::kStreaming, "caught up");
      return;
    }
    // Timestamps have a resolution of a second: look at the clock only when
    // they change (a clock read per event would cost a tenth of the ingest).
    if (h.timestamp == 0 || h.timestamp == lag_checked_timestamp) return;
    lag_checked_timestamp = h.timestamp;
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    const int64_t lag = now - static_cast<int64_t>(h.timestamp);
    const int64_t threshold = options.lag_threshold.count();
    if (!lagging && lag > threshold) {
      Report(StreamState::kLagging, std::to_string(lag) + " s behind the server");
    } else if (lagging && lag <= threshold / 2) {
      Report(StreamState::kStreaming, "caught up");
    }
  }

  // One connection, from connect to disconnect. EndOfFile: the server ended
  // a non-blocking dump.
  awaitable<Status> Session() {
    Status s = co_await Connect();
    if (!s.ok()) co_return s;
    s = co_await Authenticate();
    if (!s.ok()) co_return s;
    FormatDescription fd = FormatDescription::DefaultV4();
    s = co_await StartDump(&fd);
    if (!s.ok()) co_return s;
    bool streaming = false;
    std::span<const uint8_t> p;
    RawEvent raw;
    while (!stopping) {
      if (!TryTakePacket(&p)) {
        s = co_await ReadPacket(&p, kStreamingEvents);
        if (!s.ok()) co_return s;
      }
      if (proto::IsErr(p)) {
        // ER_MASTER_FATAL_ERROR_READING_BINLOG (1236): the server cannot
        // serve this position (its file was purged, the GTID is not in its
        // binlogs, the log is damaged there) — asking again for the same
        // position cannot help (sql/sql_repl.cc, mysql_binlog_send).
        unservable = p.size() >= 3 && (p[1] | p[2] << 8) == 1236;
        co_return Status::IOError("the server ended the binlog stream: " + proto::ErrorMessage(p));
      }
      if (proto::IsEof(p)) co_return Status::EndOfFile();
      if (!proto::IsOk(p)) co_return Status::Corruption("binlog stream: unexpected packet 0x" + std::to_string(p[0]));
      if (!streaming) {
        streaming = true;
        Report(StreamState::kStreaming);
      }
      auto bytes = p.subspan(1);
      s = LocateEvent(bytes, 0, 0, fd, true, &raw);
      if (!s.ok()) co_return s.WithContext("binlog stream at " + file + ":" + std::to_string(pos));
      if (raw.header.event_size != bytes.size()) {
        co_return Status::Corruption("binlog stream at " + file + ":" + std::to_string(pos) + ": packet of " +
                                     std::to_string(bytes.size()) + " bytes holds an event of " +
                                     std::to_string(raw.header.event_size));
      }
      const uint8_t type = raw.header.type;
      const bool heartbeat = type == kHeartbeatEvent || type == kHeartbeatEventV2;
      const bool artificial = heartbeat || raw.header.log_pos == 0 || (raw.header.flags & kLogEventArtificialFlag);
      if (type == kFormatDescriptionEvent) {
        FormatDescription next;
        s = ParseFormatDescription(raw.bytes.subspan(kEventHeaderSize), &next);
        if (!s.ok()) co_return s.WithContext("binlog stream at " + file + ":" + std::to_string(pos));
        fd = next;
      }
      // A ROTATE says where the log goes on: position in its post-header (8
      // bytes in every v4 server), file name after it. Unlike other bodies it
      // governs the stream, so one that cannot be read ends the session.
      const size_t rotate_ph = fd.PostHeaderLength(kRotateEvent) >= 8 ? fd.PostHeaderLength(kRotateEvent) : 8;
      if (type == kRotateEvent) {
        ByteReader r(raw.body(fd));
        uint64_t next_pos = r.U64();
        r.Skip(rotate_ph - 8);
        auto name = r.RestString();
        if (!r.ok() || name.empty()) co_return Status::Corruption("binlog stream: malformed ROTATE event");
        if (artificial) {
          // Where the server starts (or continues) sending: take its word for
          // the file, keep our position unless this is a new file.
          if (file != name) pos = next_pos;
          file = std::string(name);
          use_gtid_start = false;
        }
      }
      raw.pos = artificial ? pos : raw.header.log_pos - raw.header.event_size;
      UpdateLag(raw.header, heartbeat);
      on_event(StreamEvent{file, raw, fd, artificial, heartbeat});
      if (!artificial) {
        pos = raw.header.log_pos;
        use_gtid_start = false;
        if (type == kRotateEvent) {
          ByteReader r(raw.body(fd));
          pos = r.U64();
          r.Skip(rotate_ph - 8);
          file = std::string(r.RestString());
        }
      }
    }
    co_return Status::OK();
  }

  awaitable<void> Run() {
    auto self = shared_from_this();
    asio::co_spawn(io, Watchdog(), asio::detached);
    int attempt = 0;
    while (!stopping) {
      Report(StreamState::kConnecting, {}, attempt);
      timed_out = false;
      unservable = false;
      const std::string before_file = file;
      const uint64_t before_pos = pos;
      Status s = co_await Session();
      deadline = Clock::time_point::max();
      tls.reset();
      boost::system::error_code ignored;
      socket.close(ignored);
      begin = end = 0;
      if (stopping) break;
      if (s.IsEndOfFile()) {
        Report(StreamState::kEnded, "the server reached the end of its binlog (non-blocking dump)");
        break;
      }
      if (file != before_file || pos != before_pos) attempt = 0;  // progress was made
      ++attempt;
      Report(StreamState::kDisconnected, s.message(), attempt);
      if (unservable || (options.max_reconnects >= 0 && attempt > options.max_reconnects)) {
        Report(StreamState::kFailed, s.message(), attempt);
        stopping = true;
        break;
      }
      auto delay = std::min(options.backoff_max, options.backoff_min * (1 << std::min(attempt - 1, 10)));
      backoff.expires_after(delay);
      boost::system::error_code ec;
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    stopping = true;
    watchdog.cancel();
    if (last_status.state != StreamState::kEnded && last_status.state != StreamState::kFailed) {
      Report(StreamState::kEnded, "stopped");
    }
  }
};

ReplicaStream::ReplicaStream(asio::io_context& io, ReplicaStreamOptions options, EventHandler on_event,
                             StatusHandler on_status)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(on_event), std::move(on_status))) {}

ReplicaStream::~ReplicaStream() { Stop(); }

void ReplicaStream::Start() { asio::co_spawn(impl_->io, impl_->Run(), asio::detached); }

void ReplicaStream::Stop() {
  auto impl = impl_;
  asio::post(impl->io, [impl] {
    impl->stopping = true;
    boost::system::error_code ignored;
    impl->socket.close(ignored);
    impl->backoff.cancel();
    impl->watchdog.cancel();
  });
}

const std::string& ReplicaStream::file() const { return impl_->file; }
const StreamStatus& ReplicaStream::status() const { return impl_->last_status; }
void ReplicaStream::NoteUndecoded() { ++impl_->last_status.undecoded_events; }
uint64_t ReplicaStream::pos() const { return impl_->pos; }
size_t ReplicaStream::receive_buffer_bytes() const { return impl_->buf.capacity() + impl_->assembled.capacity(); }

}  // namespace tidewatch::binlog
