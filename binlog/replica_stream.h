// ReplicaStream: follows one server's binlog over the replication protocol,
// as a replica would, on a Boost.Asio io_context shared with every other
// stream (no thread per server).
//
// It connects, authenticates (mysql_native_password, caching_sha2_password),
// negotiates checksums (@master_binlog_checksum / @source_binlog_checksum),
// MariaDB's @mariadb_slave_capability and the heartbeat period, registers with
// COM_REGISTER_SLAVE when asked to, and asks for the binlog with COM_BINLOG_DUMP — from a
// file and position, or from a MariaDB GTID position (@slave_connect_state).
//
// Events reach the consumer in order, each once: the stream remembers the
// position after the last event delivered and, on any disconnect, reconnects
// with backoff and asks for the binlog from exactly there. The consumer is
// called synchronously and the next packet is read only after it returns, so
// a slow consumer holds the stream back instead of making it buffer: memory
// per stream is its receive buffer (the largest event seen).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "binlog/format_description.h"
#include "binlog/raw_event.h"
#include "base/status.h"
#include "base/tls_settings.h"

namespace tidewatch::binlog {

// TLS on the replication connection, as the MySQL clients' --ssl-mode.
using tidewatch::TlsMode;

struct ReplicaStreamOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string user;
  std::string password;  // never logged or printed
  // The server_id COM_BINLOG_DUMP carries; must not collide with a real
  // server's (the server would disconnect the other one).
  uint32_t server_id = 0;
  // COM_REGISTER_SLAVE before the dump. The dump does not need it (neither
  // mysqlbinlog nor mariadb-binlog registers); a registered stream appears in
  // the server's SHOW SLAVE HOSTS with report_host:report_port, where
  // discovery tools (orchestrator's DiscoverByShowSlaveHosts) take it for a
  // replica to visit.
  bool register_as_replica = false;
  std::string report_host;
  uint16_t report_port = 0;
  std::string start_file;     // empty with a GTID start: the server chooses
  uint64_t start_pos = 4;
  // Start after these GTIDs: MariaDB domain-server-seq list (@slave_connect_state)
  // or MySQL uuid:intervals set (COM_BINLOG_DUMP_GTID). Empty: file:pos.
  std::string start_gtid;
  // MariaDB: @slave_gtid_strict_mode for a GTID start — the server refuses a
  // position its binlogs do not hold instead of guessing.
  bool gtid_strict = true;
  bool non_blocking = false;  // end at the server's current end of binlog
  std::chrono::milliseconds heartbeat_period{1000};
  // Silence longer than this (no event, no heartbeat) drops the connection.
  std::chrono::milliseconds read_timeout{3000};
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds backoff_min{100}, backoff_max{5000};
  // -1: for ever. A position the server refuses (ERROR 1236: purged, not in
  // its binlogs) fails the stream at once: asking again cannot help.
  int max_reconnects = -1;
  TlsMode tls_mode = TlsMode::kDisabled;
  std::string tls_ca;  // PEM file of the CA for kVerifyCa/kVerifyIdentity (empty: system CAs)
  std::string tls_cert, tls_key;  // a client certificate and its key (mutual TLS); empty: none
  // Events whose timestamp is older than this (against the local clock) put
  // the stream in kLagging until it is back within half of it, or idle.
  std::chrono::seconds lag_threshold{10};
};

enum class StreamState { kConnecting, kStreaming, kLagging, kDisconnected, kEnded, kFailed };
const char* StreamStateName(StreamState s);

struct StreamStatus {
  StreamState state = StreamState::kConnecting;
  std::string reason;      // why it disconnected or failed
  std::string file;        // the position the stream will resume from
  uint64_t pos = 0;
  std::string server_version;
  int attempt = 0;         // reconnect attempts since the last event
  bool tls = false;        // the connection is encrypted
  // Events delivered whose body the consumer could not decode
  // (ReplicaStream::NoteUndecoded): they are part of the log like any other
  // and do not stop the stream.
  uint64_t undecoded_events = 0;
};

struct StreamEvent {
  const std::string& file;   // binlog file the event is in
  const RawEvent& raw;       // pos is the event's position in `file`
  const FormatDescription& format;
  bool artificial;           // generated for the replica (fake ROTATE, resent FDE, …)
  bool heartbeat;
};

class ReplicaStream {
 public:
  using EventHandler = std::function<void(const StreamEvent&)>;
  using StatusHandler = std::function<void(const StreamStatus&)>;

  ReplicaStream(boost::asio::io_context& io, ReplicaStreamOptions options, EventHandler on_event,
                StatusHandler on_status);
  ~ReplicaStream();
  ReplicaStream(const ReplicaStream&) = delete;
  ReplicaStream& operator=(const ReplicaStream&) = delete;

  void Start();
  // Stops at the next opportunity; the status handler sees kEnded.
  void Stop();

  const std::string& file() const;
  uint64_t pos() const;
  // The last status reported, its undecoded_events up to date.
  const StreamStatus& status() const;
  // The consumer could not decode the body of the event it was just handed
  // (EventDecoder's UndecodedBody). The stream only counts it: the event's
  // framing and checksum were sound, so it stays delivered and the position
  // moves past it. Call on the io thread.
  void NoteUndecoded();
  // Bytes the stream holds for receiving: its whole memory for events. It
  // grows only to hold the largest event seen, whatever the consumer's pace.
  size_t receive_buffer_bytes() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tidewatch::binlog
