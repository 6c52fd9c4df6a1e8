// Fleet: many simulated MariaDB servers in one process, one port each on
// 127.0.0.1, all on one io_context — for tests and benchmarks that need
// thousands of servers on one machine. Each cluster is a master and its
// replicas; every server answers what Tidewatch's probes and streams ask:
// the handshake (any login), the @@variables, SHOW MASTER STATUS, SHOW BINARY
// LOGS, SHOW SLAVE STATUS, SHOW SLAVE HOSTS, SHOW GLOBAL STATUS LIKE 'Uptime',
// a cluster alias query reading `meta.cluster` (answered "sim-cluster-N"),
// the SETs a replica sends, COM_REGISTER_SLAVE, COM_PING, and a binlog dump
// (from a position or from a MariaDB GTID) that serves the binlog written so
// far and then new transactions as they are written.
//
// A cluster writes `transactions_per_second` transactions, one in every
// `pseudo_gtid_every` a Pseudo-GTID entry (GTID + QUERY "drop view if exists
// `meta`.`_pseudo_gtid_hint__asc:…`", as orchestrator's injector writes it),
// the others GTID + TABLE_MAP + WRITE_ROWS + XID: fixed sizes, so that a
// position names one transaction and the binlog is a function of time. A
// replica (log_slave_updates) has its master's binlog at the same positions,
// `lag` seconds behind. Binlogs rotate every `transactions_per_file` and
// only the last `files_kept` files are kept, so that a reader starting from
// a server's first binlog reads a bounded history, as with binlog expiry.
//
// Failures on command: a killed server resets its connections and refuses
// new ones, and its replicas' IO threads report that they cannot connect; a
// hung server accepts and answers nothing, sending nothing more on its
// streams; a broken replica's IO thread stops with an error; a lagging one
// applies `seconds` behind. Commands and Stats() are called on the
// io_context's thread (post them there).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/status.h"

namespace tidewatch::simulator {

struct FleetOptions {
  uint16_t base_port = 11000;  // servers on base_port, base_port + 1, …
  int clusters = 1;
  int replicas = 2;            // per cluster, besides its master
  double transactions_per_second = 25;  // per cluster
  int pseudo_gtid_every = 25;  // one transaction in this many is a Pseudo-GTID entry
  std::chrono::milliseconds tick{100};  // new events go out this often
  // Binlog files: this many transactions each (0: a minute's worth), the
  // last `files_kept` kept (older ones purged).
  uint64_t transactions_per_file = 0;
  uint64_t files_kept = 2;
  std::string version = "10.11.6-MariaDB-log";
  // A dump with BINLOG_DUMP_NON_BLOCK ends with EOF at the end of the binlog,
  // as MariaDB and MySQL end it; set, the flag is ignored and the dump waits
  // there sending heartbeats (as a binlog relay that does not know it would).
  bool ignore_non_blocking = false;
};

struct FleetStats {
  uint64_t connections = 0, dumps = 0, events = 0, bytes = 0;
  uint64_t commands = 0;  // packets a client sent after the handshake: its round trips
  uint64_t queries = 0;   // statements answered (a COM_QUERY may carry several)
  uint64_t streams_open = 0;
};

class Fleet {
 public:
  Fleet(boost::asio::io_context& io, FleetOptions options);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Listens on every server's port; an error names the first port that
  // could not be had.
  Status Start();

  size_t size() const;
  // host:port of server `i` (cluster i / (replicas + 1); its first is the master).
  std::string NameOf(size_t i) const;
  std::vector<std::string> Masters() const;

  // False for a name not in the fleet (or, for Break/Lag, not a replica).
  bool Kill(const std::string& name);
  bool Hang(const std::string& name);
  bool BreakReplication(const std::string& name);
  bool Lag(const std::string& name, int seconds);
  bool Revive(const std::string& name);

  FleetStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidewatch::simulator
