#include "simulator/fleet.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "base/crc32.h"
#include "binlog/event_type.h"
#include "simulator/event_bytes.h"
#include "simulator/server_packets.h"

namespace tidewatch::simulator {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kNever = UINT64_MAX;
// A catch-up sends at most this much per tick and connection, and a tick at
// most kTickBudget in all (resuming where it stopped), so that the loop
// stays responsive to handshakes and queries while streams catch up.
constexpr size_t kMaxBatch = 256 << 10;
constexpr size_t kTickBudget = 16 << 20;

// One event of a transaction, encoded once; per transaction only the
// timestamp, next position, sequence number or row value and the checksum
// change (offsets in the event, header included).
struct EventTemplate {
  std::vector<uint8_t> bytes;
  size_t counter_at = 0;  // 0: none
  int counter_width = 0;  // bytes (little-endian) or, negative, hex digits
};

void PutLe(uint8_t* p, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

EventTemplate Template(uint8_t type, const std::vector<uint8_t>& body, uint32_t server_id, size_t counter_at,
                       int counter_width) {
  EventTemplate t;
  t.bytes = MakeEvent(type, body, 0, /*crc=*/true, server_id);
  t.counter_at = counter_at;
  t.counter_width = counter_width;
  return t;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool StartsWith(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

}  // namespace

struct Fleet::Impl {
  enum class State { kAlive, kKilled, kHung };

  struct Conn {
    explicit Conn(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    size_t server = 0;
    uint8_t seq = 0;
    bool dumping = false, writing = false;
    uint64_t next_tx = 0;  // the next transaction a dump sends
    std::chrono::nanoseconds heartbeat{0};
    Clock::time_point last_sent;
    std::string connect_state;  // @slave_connect_state
    uint64_t skip_rotation_at = kNever;  // the transaction the dump started at
    // A dump asked for a position inside a transaction: that transaction's
    // events before the position are not sent (a server reads its binlog
    // from the position asked, event by event).
    uint64_t partial_tx = kNever, partial_from = 0;
    // BINLOG_DUMP_NON_BLOCK (COM_BINLOG_DUMP flags, bit 0): at the end of
    // the binlog the server sends EOF and ends the dump instead of waiting.
    bool non_blocking = false;
  };

  struct Server {
    size_t cluster = 0;
    bool master = false;
    uint16_t port = 0;
    uint32_t server_id = 0;
    State state = State::kAlive;
    bool io_broken = false;
    int lag = 0;
    uint64_t frozen = kNever;     // transactions in its binlog when it was killed or hung
    uint64_t io_frozen = kNever;  // what its IO thread had received when it broke
    std::unique_ptr<tcp::acceptor> acceptor;
    std::set<std::shared_ptr<Conn>> conns;
  };

  struct Cluster {
    size_t master = 0;
    uint32_t master_server_id = 0;
    std::vector<size_t> replicas;
    Clock::time_point t0;
    std::vector<EventTemplate> row_tx, pgtid_tx;
  };

  Impl(asio::io_context& i, FleetOptions o) : io(i), options(std::move(o)) {}

  asio::io_context& io;
  FleetOptions options;
  std::vector<Server> servers;
  std::vector<Cluster> clusters;
  std::map<std::string, size_t> by_name;
  std::vector<uint8_t> fde;  // the FORMAT_DESCRIPTION at position 4
  uint64_t fde_end = 0, pgtid_size = 0, row_size = 0, rotate_size = 0, per_file = 0;
  FleetStats stats;
  std::unique_ptr<asio::steady_timer> ticker;
  size_t tick_cursor = 0;  // where the last tick's budget ran out
  bool stopping = false;

  std::string Name(size_t i) const { return "127.0.0.1:" + std::to_string(servers[i].port); }

  // --- The binlog as a function of time. ---

  uint64_t Period() const { return pgtid_size + (options.pseudo_gtid_every - 1) * row_size; }

  // Transactions per binlog file: a multiple of pseudo_gtid_every, so that
  // every file has the same layout. File k (1, 2, …) holds transactions
  // [(k - 1) * per_file, k * per_file) and ends with a ROTATE to file k + 1.
  uint64_t FileOf(uint64_t tx) const { return tx / per_file + 1; }

  // Where transaction `local` of a file starts (local == per_file: where the
  // file's closing ROTATE starts).
  uint64_t LocalPosition(uint64_t local) const {
    const uint64_t k = options.pseudo_gtid_every;
    const uint64_t in = local % k;
    return fde_end + (local / k) * Period() + (in == 0 ? 0 : pgtid_size + (in - 1) * row_size);
  }

  uint64_t PositionOf(uint64_t tx) const { return LocalPosition(tx % per_file); }

  uint64_t FileSize() const { return LocalPosition(per_file) + rotate_size; }

  // The first transaction that starts at or after `pos` of file `k`.
  uint64_t TransactionAt(uint64_t k, uint64_t pos) const {
    const uint64_t base = (k - 1) * per_file;
    if (pos <= fde_end) return base;
    const uint64_t kk = options.pseudo_gtid_every, q = pos - fde_end;
    uint64_t tx = (q / Period()) * kk;
    uint64_t r = q % Period();
    if (r != 0) tx += r <= pgtid_size ? 1 : 1 + (r - pgtid_size + row_size - 1) / row_size;
    return base + std::min(tx, per_file);
  }

  std::string FileName(size_t i, uint64_t k) const {
    char n[8];
    std::snprintf(n, sizeof n, "%06llu", static_cast<unsigned long long>(k));
    return "sim" + std::to_string(servers[i].port) + "-bin." + n;
  }

  // The oldest file a server still has.
  uint64_t FirstFile(uint64_t n) const {
    const uint64_t head = FileOf(n);
    return head > options.files_kept ? head - options.files_kept + 1 : 1;
  }

  // Transactions in server `i`'s binlog now.
  uint64_t Written(size_t i, Clock::time_point now) const {
    const Server& s = servers[i];
    const Cluster& c = clusters[s.cluster];
    const auto at = now - std::chrono::seconds(s.lag);
    const double elapsed = std::chrono::duration<double>(at - c.t0).count();
    uint64_t n = 1 + static_cast<uint64_t>(std::max(0.0, elapsed) * options.transactions_per_second);
    n = std::min({n, servers[c.master].frozen, s.frozen, s.io_frozen});
    return n;
  }

  std::string GtidOf(size_t i, uint64_t n) const {
    const Cluster& c = clusters[servers[i].cluster];
    return n == 0 ? "" : "0-" + std::to_string(servers[c.master].server_id) + "-" + std::to_string(n);
  }

  // Appends transaction `tx` of server `i`'s cluster, one packet per event.
  // The event that closes file k - 1 and names file k: at the old file's
  // end, pointing at position 4 of the new one; the new file's
  // FORMAT_DESCRIPTION follows it, as a server sends them after rotating.
  void AppendRotation(size_t i, Conn& conn, uint64_t k, uint32_t now_s, std::vector<uint8_t>* out) {
    Bytes rotate;
    rotate.u64(4).str(FileName(i, k));
    std::vector<uint8_t> e = MakeEvent(binlog::kRotateEvent, rotate.vec(), LocalPosition(per_file), true,
                                       clusters[servers[i].cluster].master_server_id);
    PutLe(e.data(), now_s, 4);
    PutLe(e.data() + e.size() - 4, Crc32(e.data(), e.size() - 4), 4);
    e.insert(e.begin(), 0x00);
    AppendPacket(&conn.seq, e, out);
    e = fde;
    e.insert(e.begin(), 0x00);
    AppendPacket(&conn.seq, e, out);
    stats.events += 2;
  }

  void AppendTransaction(size_t i, Conn& conn, uint64_t tx, uint32_t now_s, std::vector<uint8_t>* out) {
    if (tx > 0 && tx % per_file == 0 && tx != conn.skip_rotation_at) AppendRotation(i, conn, FileOf(tx), now_s, out);
    const Cluster& c = clusters[servers[i].cluster];
    const auto& events = (tx % options.pseudo_gtid_every == 0) ? c.pgtid_tx : c.row_tx;
    uint64_t pos = PositionOf(tx);
    const uint64_t from = tx == conn.partial_tx ? conn.partial_from : 0;
    for (const auto& t : events) {
      const size_t size = t.bytes.size();
      if (pos < from) {
        pos += size;
        continue;
      }
      uint8_t head[5] = {static_cast<uint8_t>(size + 1), static_cast<uint8_t>((size + 1) >> 8),
                         static_cast<uint8_t>((size + 1) >> 16), conn.seq++, 0x00};
      out->insert(out->end(), head, head + 5);
      const size_t at = out->size();
      out->insert(out->end(), t.bytes.begin(), t.bytes.end());
      uint8_t* e = out->data() + at;
      pos += size;
      PutLe(e, now_s, 4);
      PutLe(e + 13, pos, 4);
      if (t.counter_width > 0) {
        PutLe(e + t.counter_at, tx + 1, t.counter_width);
      } else if (t.counter_width < 0) {
        static const char kHex[] = "0123456789ABCDEF";
        for (int d = 0; d < -t.counter_width; ++d) {
          e[t.counter_at + d] = static_cast<uint8_t>(kHex[(tx >> (4 * (-t.counter_width - 1 - d))) & 0xf]);
        }
      }
      PutLe(e + size - 4, Crc32(e, size - 4), 4);
      ++stats.events;
    }
  }

  void BuildTemplates() {
    fde = MakeEvent(binlog::kFormatDescriptionEvent, FormatDescriptionBody(true, options.version), 4, true, 1);
    PutLe(fde.data(), static_cast<uint32_t>(std::time(nullptr)), 4);  // the file was created now
    PutLe(fde.data() + fde.size() - 4, Crc32(fde.data(), fde.size() - 4), 4);
    fde_end = 4 + fde.size();
    for (auto& c : clusters) {
      const uint32_t sid = c.master_server_id;
      Bytes gtid_row;
      gtid_row.u64(0).u32(0).u8(4 | 8).zeros(6);  // seq_no, domain 0, FL_TRANSACTIONAL | FL_ALLOW_PARALLEL
      Bytes gtid_ddl;
      gtid_ddl.u64(0).u32(0).u8(1 | 32).zeros(6);  // FL_STANDALONE | FL_DDL
      Bytes table_map;
      table_map.u48(1).u16(1).u8(3).str("sim").u8(0).u8(1).str("t").u8(0).u8(2).u8(3).u8(3).u8(0).u8(0);
      Bytes rows;
      rows.u48(1).u16(1).u8(2).u8(0x03).u8(0).u32(0).u32(0);  // STMT_END_F; 2 columns, both present; (tx, 0)
      Bytes xid;
      xid.u64(0);
      const std::string query = "drop view if exists `meta`.`_pseudo_gtid_hint__asc:" + std::string(8, '0') + ":" +
                                std::string(16, '0') + ":" + std::string(8, '0') + "`";
      Bytes q;
      q.u32(1).u32(0).u8(0).u16(0).u16(0).u8(0).str(query);  // thread, exec time, db "", error, no status vars
      const size_t hint = 19 + 13 + 1 + query.find("asc:") + 4;
      c.row_tx = {Template(binlog::kMariaGtidEvent, gtid_row.vec(), sid, 19, 8),
                  Template(binlog::kTableMapEvent, table_map.vec(), sid, 0, 0),
                  Template(binlog::kWriteRowsEventV1, rows.vec(), sid, rows.size() + 19 - 8, 4),
                  Template(binlog::kXidEvent, xid.vec(), sid, 19, 8)};
      c.pgtid_tx = {Template(binlog::kMariaGtidEvent, gtid_ddl.vec(), sid, 19, 8),
                    Template(binlog::kQueryEvent, q.vec(), sid, hint + 9, -16)};
      // The GTID's sequence number is the transaction's; the hint's counter
      // and the row's value too (little-endian fields above, hex in the text).
    }
    pgtid_size = row_size = 0;
    for (const auto& t : clusters[0].pgtid_tx) pgtid_size += t.bytes.size();
    for (const auto& t : clusters[0].row_tx) row_size += t.bytes.size();
    rotate_size = 19 + 8 + FileName(0, 1).size() + 4;
    const uint64_t k = options.pseudo_gtid_every;
    const uint64_t wanted = options.transactions_per_file > 0
                                ? options.transactions_per_file
                                : static_cast<uint64_t>(options.transactions_per_second * 60);
    per_file = std::max<uint64_t>(1, (wanted + k - 1) / k) * k;
  }

  // --- Answers. ---

  void Answer(size_t i, Conn& conn, const std::string& sql, std::vector<uint8_t>* out) {
    const Server& s = servers[i];
    const auto now = Clock::now();
    const std::string q = Lower(sql);
    auto rows = [&](std::vector<std::string> cols, std::vector<ResultRow> r) { AppendResultSet(&conn.seq, cols, r, out); };
    const uint64_t n = Written(i, now);
    const std::string gtid = GtidOf(i, n);
    if (StartsWith(q, "set ")) {
      if (auto at = q.find("@master_heartbeat_period"); at != std::string::npos) {
        const auto eq = q.find('=', at);
        if (eq != std::string::npos) conn.heartbeat = std::chrono::nanoseconds(std::strtoull(q.c_str() + eq + 1, nullptr, 10));
      }
      if (auto at = q.find("@slave_connect_state"); at != std::string::npos) {
        const auto open = q.find('\'', at), close = q.find('\'', open + 1);
        if (open != std::string::npos && close != std::string::npos) {
          conn.connect_state = q.substr(open + 1, close - open - 1);
        }
      }
      AppendPacket(&conn.seq, OkPayload(), out);
    } else if (StartsWith(q, "select @@global.binlog_checksum")) {
      rows({"@@global.binlog_checksum"}, {{"CRC32"}});
    } else if (StartsWith(q, "select @@server_id, @@log_bin")) {
      rows({"@@server_id", "@@log_bin", "@@log_slave_updates", "@@read_only", "@@binlog_format", "@@gtid_binlog_pos",
            "@@gtid_slave_pos", "@@gtid_current_pos", "@@datadir", "@@relay_log_index"},
           {{std::to_string(s.server_id), "1", "1", s.master ? "0" : "1", "ROW", gtid, s.master ? "" : gtid, gtid,
             "/nonexistent/sim" + std::to_string(s.port) + "/", "/nonexistent/sim-relay-bin.index"}});
    } else if (StartsWith(q, "show master status") || StartsWith(q, "show binary log status")) {
      rows({"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"},
           {{FileName(i, FileOf(n)), std::to_string(PositionOf(n)), "", ""}});
    } else if (StartsWith(q, "show binary logs")) {
      std::vector<ResultRow> logs;
      for (uint64_t k = FirstFile(n); k <= FileOf(n); ++k) {
        logs.push_back({FileName(i, k), std::to_string(k == FileOf(n) ? PositionOf(n) : FileSize())});
      }
      rows({"Log_name", "File_size"}, logs);
    } else if (StartsWith(q, "show slave status") || StartsWith(q, "show replica status")) {
      ReplicaStatus(i, now, &conn, out);
    } else if (StartsWith(q, "select @@version_comment")) {
      rows({"@@version_comment", "uuid"}, {{"simulated MariaDB", ""}});
    } else if (StartsWith(q, "show global status like 'uptime'")) {
      const auto up = std::chrono::duration_cast<std::chrono::seconds>(now - clusters[s.cluster].t0).count();
      rows({"Variable_name", "Value"}, {{"Uptime", std::to_string(up)}});
    } else if (StartsWith(q, "show slave hosts") || StartsWith(q, "show replicas")) {
      std::vector<ResultRow> hosts;
      if (s.master) {
        for (size_t r : clusters[s.cluster].replicas) {
          const Server& rs = servers[r];
          if (rs.state == State::kKilled || rs.io_broken) continue;
          hosts.push_back({std::to_string(rs.server_id), "127.0.0.1", std::to_string(rs.port), std::to_string(s.server_id)});
        }
      }
      rows({"Server_id", "Host", "Port", "Master_id"}, hosts);
    } else if (q.find("meta.cluster") != std::string::npos) {
      // The kind of DetectClusterAliasQuery orchestrator's documentation
      // suggests (a meta.cluster table kept on the master): each cluster's alias.
      rows({"cluster_alias"}, {{"sim-cluster-" + std::to_string(s.cluster)}});
    } else if (StartsWith(q, "show global variables like") || StartsWith(q, "show global status like") ||
               q.find("information_schema.processlist") != std::string::npos) {
      rows({"Variable_name", "Value"}, {});
    } else {
      AppendPacket(&conn.seq, ErrorPayload(1064, "42000", "the simulated server does not know: " + sql), out);
    }
  }

  void ReplicaStatus(size_t i, Clock::time_point now, Conn* conn, std::vector<uint8_t>* out) {
    static const std::vector<std::string> kColumns = {
        "Slave_IO_State", "Master_Host", "Master_User", "Master_Port", "Connect_Retry", "Master_Log_File",
        "Read_Master_Log_Pos", "Relay_Log_File", "Relay_Log_Pos", "Relay_Master_Log_File", "Slave_IO_Running",
        "Slave_SQL_Running", "Replicate_Do_DB", "Replicate_Ignore_DB", "Replicate_Do_Table", "Replicate_Ignore_Table",
        "Replicate_Wild_Do_Table", "Replicate_Wild_Ignore_Table", "Last_Errno", "Last_Error", "Skip_Counter",
        "Exec_Master_Log_Pos", "Relay_Log_Space", "Until_Condition", "Seconds_Behind_Master", "Last_IO_Errno",
        "Last_IO_Error", "Last_SQL_Errno", "Last_SQL_Error", "Master_Server_Id", "Using_Gtid", "Gtid_IO_Pos",
        "SQL_Delay", "Slave_SQL_Running_State", "Gtid_Slave_Pos"};
    const Server& s = servers[i];
    if (s.master) {
      AppendResultSet(&conn->seq, kColumns, {}, out);
      return;
    }
    const Server& m = servers[clusters[s.cluster].master];
    const uint64_t exec = Written(i, now);
    const uint64_t read = std::min(Written(clusters[s.cluster].master, now), s.io_frozen);
    std::string io = "Yes", io_errno = "0", io_error, state = "Waiting for master to send event";
    if (s.io_broken) {
      io = "No";
      io_errno = "1236";
      io_error = "Got fatal error 1236 from master when reading data from binary log: 'simulated failure'";
      state = "";
    } else if (m.state == State::kKilled) {
      io = "Connecting";
      io_errno = "2003";
      io_error = "error reconnecting to master 'repl@127.0.0.1:" + std::to_string(m.port) +
                 "' - retry-time: 60  maximum-retries: 86400  message: Can't connect to server on '127.0.0.1' (111 "
                 "\"Connection refused\")";
      state = "Reconnecting after a failed master event read";
    }
    const size_t mi = clusters[s.cluster].master;
    const std::string pos = std::to_string(PositionOf(exec));
    const std::optional<std::string> behind =
        io == "Yes" ? std::optional<std::string>(std::to_string(s.lag)) : std::nullopt;
    ResultRow row = {state, "127.0.0.1", "repl", std::to_string(m.port), "60", FileName(mi, FileOf(read)),
                     std::to_string(PositionOf(read)), "sim-relay-bin.000002", "4", FileName(mi, FileOf(exec)), io,
                     "Yes", "", "", "", "",
                     "", "", "0", "", "0", pos, "4096", "None", behind, io_errno, io_error, "0", "",
                     std::to_string(m.server_id), "Slave_Pos", GtidOf(i, read), "0",
                     "Slave has read all relay log; waiting for more updates", GtidOf(i, exec)};
    AppendResultSet(&conn->seq, kColumns, {row}, out);
  }

  // --- Connections. ---

  awaitable<bool> ReadPacket(Conn& c, std::vector<uint8_t>* payload) {
    uint8_t h[4];
    boost::system::error_code ec;
    co_await asio::async_read(c.socket, asio::buffer(h), asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    const size_t n = h[0] | h[1] << 8 | h[2] << 16;
    payload->resize(n);
    co_await asio::async_read(c.socket, asio::buffer(*payload), asio::redirect_error(use_awaitable, ec));
    c.seq = static_cast<uint8_t>(h[3] + 1);
    co_return !ec;
  }

  awaitable<bool> Send(Conn& c, std::vector<uint8_t> wire) {
    boost::system::error_code ec;
    co_await asio::async_write(c.socket, asio::buffer(wire), asio::redirect_error(use_awaitable, ec));
    stats.bytes += wire.size();
    co_return !ec;
  }

  awaitable<void> Session(std::shared_ptr<Conn> c) {
    ++stats.connections;
    const size_t i = c->server;
    std::vector<uint8_t> in, out;
    bool ok = true;
    if (servers[i].state != State::kHung) {
      c->seq = 0;
      AppendPacket(&c->seq, HandshakePayload("mysql_native_password", "5.5.5-" + options.version, true), &out);
      ok = co_await Send(*c, std::move(out)) && co_await ReadPacket(*c, &in);
      if (ok) {
        out.clear();
        AppendPacket(&c->seq, OkPayload(), &out);
        ok = co_await Send(*c, std::move(out));
      }
    }
    while (ok && !stopping) {
      if (!co_await ReadPacket(*c, &in) || in.empty()) break;
      if (servers[i].state == State::kHung || c->dumping) continue;  // silence
      ++stats.commands;
      out.clear();
      const uint8_t command = in[0];
      if (command == 0x01) break;  // COM_QUIT
      if (command == 0x03) {
        // Several statements (CLIENT_MULTI_STATEMENTS): answered in order,
        // each but the last flagged that more results follow; an error ends them.
        const auto statements = SplitStatements(std::string(in.begin() + 1, in.end()));
        for (size_t k = 0; k < statements.size(); ++k) {
          std::vector<uint8_t> answer;
          ++stats.queries;
          Answer(i, *c, statements[k], &answer);
          const bool more = k + 1 < statements.size() && FlagMoreResults(&answer);
          out.insert(out.end(), answer.begin(), answer.end());
          if (!more) break;
        }
        if (statements.empty()) AppendPacket(&c->seq, ErrorPayload(1065, "42000", "Query was empty"), &out);
      } else if (command == 0x0e || command == 0x15 || command == 0x02) {  // PING, REGISTER_SLAVE, INIT_DB
        AppendPacket(&c->seq, OkPayload(), &out);
      } else if (command == 0x12) {  // COM_BINLOG_DUMP: pos 4 · flags 2 · server_id 4 · file
        StartDump(i, *c, in, &out);
      } else {
        AppendPacket(&c->seq, ErrorPayload(1047, "08S01", "unknown command"), &out);
      }
      if (!out.empty() && !co_await Send(*c, std::move(out))) break;
    }
    Drop(c);
  }

  void StartDump(size_t i, Conn& c, const std::vector<uint8_t>& in, std::vector<uint8_t>* out) {
    ++stats.dumps;
    uint64_t pos = in.size() >= 5 ? (in[1] | in[2] << 8 | in[3] << 16 | static_cast<uint64_t>(in[4]) << 24) : 4;
    const std::string file = in.size() > 11 ? std::string(in.begin() + 11, in.end()) : "";
    const uint64_t n = Written(i, Clock::now());
    uint64_t tx = 0;
    if (file.empty() && !c.connect_state.empty()) {
      // MariaDB GTID: after the transaction with that sequence number.
      const auto dash = c.connect_state.rfind('-');
      tx = dash == std::string::npos ? 0 : std::strtoull(c.connect_state.c_str() + dash + 1, nullptr, 10);
    } else {
      const auto dot = file.rfind('.');
      const uint64_t k = dot == std::string::npos ? 0 : std::strtoull(file.c_str() + dot + 1, nullptr, 10);
      if (k == 0 || file != FileName(i, k)) {
        AppendPacket(&c.seq, ErrorPayload(1236, "HY000", "Could not find first log file name in binary log index file"),
                     out);
        return;
      }
      tx = TransactionAt(k, pos);
      // A position inside a transaction (an index's entry is an event, not
      // a transaction): the transaction that holds it, from that event.
      if (const uint64_t local = tx - (k - 1) * per_file; local > 0 && LocalPosition(local) > pos &&
                                                          pos > fde_end && local <= per_file) {
        --tx;
        c.partial_tx = tx;
        c.partial_from = pos;
      }
    }
    if (tx > n || FileOf(tx) < FirstFile(n)) {
      AppendPacket(&c.seq, ErrorPayload(1236, "HY000", "Could not find GTID state requested by slave in any binlog files"),
                   out);
      return;
    }
    const uint64_t k = FileOf(tx);
    pos = tx == c.partial_tx ? c.partial_from : PositionOf(tx);
    // The artificial ROTATE to the file, then its FORMAT_DESCRIPTION (marked
    // artificial with next position 0 when the dump does not start at 4).
    Bytes rotate;
    rotate.u64(pos <= fde_end ? 4 : pos).str(FileName(i, k));
    std::vector<uint8_t> e = MakeEvent(binlog::kRotateEvent, rotate.vec(), 0, true, servers[i].server_id, 0x20);
    PutLe(e.data(), 0, 4);
    PutLe(e.data() + 13, 0, 4);
    PutLe(e.data() + e.size() - 4, Crc32(e.data(), e.size() - 4), 4);
    e.insert(e.begin(), 0x00);
    AppendPacket(&c.seq, e, out);
    e = fde;
    if (pos > fde_end) {
      PutLe(e.data() + 13, 0, 4);
      PutLe(e.data() + e.size() - 4, Crc32(e.data(), e.size() - 4), 4);
    }
    e.insert(e.begin(), 0x00);
    AppendPacket(&c.seq, e, out);
    c.next_tx = tx;
    c.dumping = true;
    c.non_blocking = !options.ignore_non_blocking && in.size() >= 7 && (in[5] & 1) != 0;
    if (c.non_blocking) {
      // A server answers a non-blocking dump at once with what it has and
      // EOF (a short read, as verifying a stored index makes): not at the
      // next tick. A longer one goes on at the ticks.
      const uint32_t now_s = static_cast<uint32_t>(std::time(nullptr));
      while (c.next_tx < n && out->size() < kMaxBatch) AppendTransaction(i, c, c.next_tx++, now_s, out);
      EndIfCaughtUp(c, n, out);
    }
    c.last_sent = Clock::now();
    // A dump from the first position of a file that is not the first one
    // gets that file's opening: no ROTATE from the previous file.
    c.skip_rotation_at = tx;
  }

  // A non-blocking dump that has sent all `n` transactions written ends
  // with EOF, and its session reads commands again. True when it ended.
  bool EndIfCaughtUp(Conn& c, uint64_t n, std::vector<uint8_t>* out) {
    if (!c.non_blocking || c.next_tx < n) return false;
    AppendPacket(&c.seq, EofPayload(), out);
    c.dumping = false;
    return true;
  }

  void Drop(const std::shared_ptr<Conn>& c) {
    boost::system::error_code ec;
    c->socket.close(ec);
    servers[c->server].conns.erase(c);
  }

  awaitable<void> Accept(size_t i) {
    while (!stopping) {
      Server& s = servers[i];
      if (!s.acceptor) co_return;
      boost::system::error_code ec;
      tcp::socket socket = co_await s.acceptor->async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !servers[i].acceptor) co_return;
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto c = std::make_shared<Conn>(std::move(socket));
      c->server = i;
      servers[i].conns.insert(c);
      asio::co_spawn(io, Session(c), asio::detached);
    }
  }

  void Tick() {
    const auto now = Clock::now();
    const uint32_t now_s = static_cast<uint32_t>(std::time(nullptr));
    uint64_t open = 0;
    size_t budget = kTickBudget;
    const size_t first = tick_cursor;
    bool cursor_set = false;
    for (size_t step = 0; step < servers.size(); ++step) {
      const size_t i = (first + step) % servers.size();
      Server& s = servers[i];
      if (budget == 0 && !cursor_set) {
        tick_cursor = i;  // the next tick's data starts here; heartbeats go out all the same
        cursor_set = true;
      }
      if (s.state != State::kAlive) continue;
      const uint64_t n = Written(i, now);
      for (const auto& c : s.conns) {
        if (!c->dumping) continue;
        ++open;
        if (c->writing) continue;
        auto out = std::make_shared<std::vector<uint8_t>>();
        const size_t cap = std::min(kMaxBatch, budget);
        while (c->next_tx < n && out->size() < cap) AppendTransaction(i, *c, c->next_tx++, now_s, out.get());
        budget -= std::min(budget, out->size());
        if (!EndIfCaughtUp(*c, n, out.get()) && out->empty()) {
          if (c->heartbeat.count() == 0 || now - c->last_sent < c->heartbeat) continue;
          Bytes hb;
          hb.str(FileName(i, FileOf(c->next_tx)));
          std::vector<uint8_t> e = MakeEvent(binlog::kHeartbeatEvent, hb.vec(), 0, true, s.server_id);
          PutLe(e.data() + 13, PositionOf(c->next_tx), 4);
          PutLe(e.data() + e.size() - 4, Crc32(e.data(), e.size() - 4), 4);
          e.insert(e.begin(), 0x00);
          AppendPacket(&c->seq, e, out.get());
        }
        c->writing = true;
        c->last_sent = now;
        stats.bytes += out->size();
        asio::async_write(c->socket, asio::buffer(*out), [this, c, out](const boost::system::error_code& ec, size_t) {
          c->writing = false;
          if (ec) Drop(c);
        });
      }
    }
    stats.streams_open = open;
  }

  void ScheduleTick() {
    ticker->expires_after(options.tick);
    ticker->async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      Tick();
      ScheduleTick();
    });
  }

  Status Listen(size_t i) {
    Server& s = servers[i];
    auto a = std::make_unique<tcp::acceptor>(io);
    boost::system::error_code ec;
    const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), s.port);
    a->open(ep.protocol(), ec);
    if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a->bind(ep, ec);
    if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::IOError("simulated server " + Name(i) + ": cannot listen: " + ec.message());
    s.acceptor = std::move(a);
    asio::co_spawn(io, Accept(i), asio::detached);
    return Status::OK();
  }

  // Closes every connection of server `i` with a reset (SO_LINGER 0), as a
  // killed process's kernel does.
  void Reset(size_t i) {
    auto conns = servers[i].conns;
    for (const auto& c : conns) {
      ::linger l{1, 0};
      ::setsockopt(c->socket.native_handle(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
      Drop(c);
    }
  }
};

Fleet::Fleet(asio::io_context& io, FleetOptions options) : impl_(std::make_unique<Impl>(io, std::move(options))) {
  Impl& m = *impl_;
  m.options.pseudo_gtid_every = std::max(1, m.options.pseudo_gtid_every);
  const int per = m.options.replicas + 1;
  const auto t0 = Clock::now();
  for (int c = 0; c < m.options.clusters; ++c) {
    Impl::Cluster cl;
    cl.t0 = t0;
    for (int k = 0; k < per; ++k) {
      Impl::Server s;
      const size_t i = m.servers.size();
      s.cluster = static_cast<size_t>(c);
      s.master = k == 0;
      s.port = static_cast<uint16_t>(m.options.base_port + i);
      s.server_id = static_cast<uint32_t>(100000 + i);
      (k == 0 ? cl.master : cl.replicas.emplace_back()) = i;
      m.servers.push_back(std::move(s));
      m.by_name[m.Name(i)] = i;
    }
    cl.master_server_id = m.servers[cl.master].server_id;
    m.clusters.push_back(std::move(cl));
  }
  if (!m.clusters.empty()) m.BuildTemplates();
}

Fleet::~Fleet() {
  impl_->stopping = true;
  if (impl_->ticker) impl_->ticker->cancel();
  for (size_t i = 0; i < impl_->servers.size(); ++i) {
    auto& s = impl_->servers[i];
    if (s.acceptor) s.acceptor->close();
    s.acceptor.reset();
    auto conns = s.conns;
    for (const auto& c : conns) impl_->Drop(c);
  }
}

Status Fleet::Start() {
  for (size_t i = 0; i < impl_->servers.size(); ++i) {
    Status s = impl_->Listen(i);
    if (!s.ok()) return s;
  }
  impl_->ticker = std::make_unique<asio::steady_timer>(impl_->io);
  impl_->ScheduleTick();
  return Status::OK();
}

size_t Fleet::size() const { return impl_->servers.size(); }
std::string Fleet::NameOf(size_t i) const { return impl_->Name(i); }

std::vector<std::string> Fleet::Masters() const {
  std::vector<std::string> v;
  for (const auto& c : impl_->clusters) v.push_back(impl_->Name(c.master));
  return v;
}

bool Fleet::Kill(const std::string& name) {
  auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end()) return false;
  auto& s = impl_->servers[it->second];
  if (s.state == Impl::State::kKilled) return true;
  s.frozen = std::min(s.frozen, impl_->Written(it->second, Clock::now()));
  s.state = Impl::State::kKilled;
  if (s.acceptor) s.acceptor->close();
  s.acceptor.reset();
  impl_->Reset(it->second);
  return true;
}

bool Fleet::Hang(const std::string& name) {
  auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end()) return false;
  auto& s = impl_->servers[it->second];
  s.frozen = std::min(s.frozen, impl_->Written(it->second, Clock::now()));
  s.state = Impl::State::kHung;
  return true;
}

bool Fleet::BreakReplication(const std::string& name) {
  auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end() || impl_->servers[it->second].master) return false;
  auto& s = impl_->servers[it->second];
  s.io_frozen = impl_->Written(it->second, Clock::now());
  s.io_broken = true;
  return true;
}

bool Fleet::Lag(const std::string& name, int seconds) {
  auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end() || impl_->servers[it->second].master) return false;
  impl_->servers[it->second].lag = std::max(0, seconds);
  return true;
}

bool Fleet::Revive(const std::string& name) {
  auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end()) return false;
  auto& s = impl_->servers[it->second];
  const bool was_killed = s.state == Impl::State::kKilled;
  s.state = Impl::State::kAlive;
  s.frozen = kNever;
  s.io_frozen = kNever;
  s.io_broken = false;
  s.lag = 0;
  if (was_killed) return impl_->Listen(it->second).ok();
  return true;
}

FleetStats Fleet::Stats() const { return impl_->stats; }

}  // namespace tidewatch::simulator
