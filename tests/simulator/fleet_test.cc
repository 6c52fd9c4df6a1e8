// The fleet simulator against Tidewatch's own readers: the probe reads each
// simulated server as it reads a MariaDB server (its role, its master, its
// replicas), a replication stream follows a simulated master and indexes its
// Pseudo-GTID entries at the positions the server reports, and the failures
// on command look as they do on real servers.
#include <chrono>
#include <future>
#include <optional>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "analyzer/instance_probe.h"
#include "binlog/binlog_range_reader.h"
#include "binlog/event_type.h"
#include "analyzer/monitor.h"
#include "pgtid/index_follower.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "pgtid/sql_connection.h"
#include "simulator/fleet.h"

namespace tidewatch::testing {
namespace {

using namespace std::chrono_literals;

// `clusters` clusters of a master and `replicas` replicas, on ports from
// `base_port`; the other options their defaults.
simulator::FleetOptions SmallFleet(uint16_t base_port, int clusters, int replicas) {
  simulator::FleetOptions o;
  o.base_port = base_port;
  o.clusters = clusters;
  o.replicas = replicas;
  return o;
}

// The fleet on a thread of its own, for the blocking probes.
class RunningFleet {
 public:
  explicit RunningFleet(simulator::FleetOptions o) : fleet_(io_, o) {
    const Status s = fleet_.Start();
    if (!s.ok()) throw std::runtime_error(s.message());
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RunningFleet() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  simulator::Fleet& fleet() { return fleet_; }
  // Runs a command on the fleet's thread.
  template <typename F>
  auto On(F f) {
    std::promise<decltype(f())> p;
    boost::asio::post(io_, [&] { p.set_value(f()); });
    return p.get_future().get();
  }

 private:
  boost::asio::io_context io_;
  simulator::Fleet fleet_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
};

analyzer::ProbeResult Probe(const std::string& key) {
  analyzer::ProbeOptions o;
  o.user = "sim";
  o.password = "sim";
  const auto colon = key.rfind(':');
  return analyzer::ProbeInstance(o, key.substr(0, colon), static_cast<uint16_t>(std::stoi(key.substr(colon + 1))));
}

// Probes over a kept connection read what a server answers the same while
// the connection lasts (version comment, server uuid, uptime's origin) once:
// two statements fewer on every later probe, the same answers; a fresh
// connection reads them again.
TEST(Fleet, AKeptConnectionReadsWhatCannotChangeOnce) {
  simulator::FleetOptions o = SmallFleet(24955, 1, 1);
  RunningFleet f(o);
  analyzer::ProbeOptions po;
  po.user = "sim";
  po.password = "sim";
  std::unique_ptr<pgtid::SqlConnection> connection;
  analyzer::ProbeSession session;
  auto queries = [&] { return f.On([&] { return f.fleet().Stats().queries; }); };
  auto commands = [&] { return f.On([&] { return f.fleet().Stats().commands; }); };
  const uint64_t q0 = queries();
  const auto first = analyzer::ProbeInstance(po, "127.0.0.1", 24955, &connection, &session);
  const uint64_t q1 = queries(), c1 = commands();
  ASSERT_TRUE(first.reachable) << first.error;
  ASSERT_TRUE(session.known);
  std::this_thread::sleep_for(1100ms);
  const auto second = analyzer::ProbeInstance(po, "127.0.0.1", 24955, &connection, &session);
  const uint64_t q2 = queries(), c2 = commands();
  ASSERT_TRUE(second.reachable) << second.error;
  EXPECT_EQ(second.version_comment, first.version_comment);
  EXPECT_EQ(second.server_uuid, first.server_uuid);
  EXPECT_GE(second.uptime_seconds, first.uptime_seconds + 1);
  EXPECT_EQ((q1 - q0) - (q2 - q1), 2u);
  // The simulator allows several statements a query: a probe over a kept
  // connection is one round trip.
  EXPECT_GE(q2 - q1, 6u);
  EXPECT_EQ(c2 - c1, 1u);
  // What a connection that is gone said is not believed of the next one.
  connection.reset();
  session.version_comment = "said by a connection that is gone";
  const auto third = analyzer::ProbeInstance(po, "127.0.0.1", 24955, &connection, &session);
  EXPECT_TRUE(third.reachable);
  EXPECT_EQ(third.version_comment, first.version_comment);
  EXPECT_EQ(session.version_comment, first.version_comment);
}

// A range read (ReadBinlogRange) of the simulated server on `port`.
binlog::ReplicaStreamOptions RangeFrom(uint16_t port, const std::string& file, uint64_t pos) {
  binlog::ReplicaStreamOptions so;
  so.host = "127.0.0.1";
  so.port = port;
  so.user = "repl";
  so.server_id = 79;
  so.heartbeat_period = std::chrono::milliseconds(100);
  so.start_file = file;
  so.start_pos = pos;
  return so;
}

// A range read from where a server's binlog ends, on a server that ignores
// the non-blocking flag and waits there sending heartbeats: the first
// heartbeat ends the read, nothing is read, no hang — loading a stored index
// of an idle server depends on it.
TEST(Fleet, ARangeReadEndsAtTheFirstHeartbeat) {
  simulator::FleetOptions o = SmallFleet(24957, 1, 0);
  o.ignore_non_blocking = true;
  o.transactions_per_second = 0.2;  // idle most of the time
  RunningFleet f(o);
  const auto p = Probe("127.0.0.1:24957");
  ASSERT_TRUE(p.reachable) << p.error;
  binlog::ReplicaStreamOptions so = RangeFrom(24957, p.instance.self.file, p.instance.self.pos);
  so.read_timeout = std::chrono::seconds(60);
  int events = 0;
  const auto started = std::chrono::steady_clock::now();
  Status s = binlog::ReadBinlogRange(so, [&](const binlog::StreamEvent&) {
    ++events;
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_LE(events, 8);  // at most a transaction written meanwhile
}

// A dump from the position of an event inside a transaction starts at that
// event, as a server reads its binlog: a stored index's last entry (a
// Pseudo-GTID event, after the transaction's GTID event) reads back as
// itself when the index is verified at start-up.
TEST(Fleet, ADumpStartsAtTheEventAskedForInsideATransaction) {
  simulator::FleetOptions o = SmallFleet(24958, 1, 0);
  o.transactions_per_second = 50;
  RunningFleet f(o);
  std::this_thread::sleep_for(300ms);
  const auto p = Probe("127.0.0.1:24958");
  ASSERT_TRUE(p.reachable) << p.error;
  binlog::ReplicaStreamOptions so = RangeFrom(24958, p.instance.self.file, 4);
  struct Seen {
    uint64_t pos;
    uint8_t type;
  };
  auto read = [&](uint64_t from, size_t max) {
    so.start_pos = from;
    std::vector<Seen> seen;
    Status s = binlog::ReadBinlogRange(so, [&](const binlog::StreamEvent& e) {
      if (!e.artificial && !e.heartbeat && e.raw.header.type != binlog::kFormatDescriptionEvent) {
        seen.push_back({e.raw.pos, static_cast<uint8_t>(e.raw.header.type)});
      }
      return seen.size() < max;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return seen;
  };
  const auto all = read(4, 12);
  ASSERT_GE(all.size(), 10u);
  // Events 5 and 6 are inside the second transaction (four events each).
  for (size_t k : {5u, 6u}) {
    SCOPED_TRACE(k);
    const auto from = read(all[k].pos, 3);
    ASSERT_FALSE(from.empty());
    EXPECT_EQ(from[0].pos, all[k].pos);
    EXPECT_EQ(from[0].type, all[k].type);
    ASSERT_GE(from.size(), 2u);
    EXPECT_EQ(from[1].pos, all[k + 1].pos);
  }
  // Non-blocking, from where the binlog ends: EOF there, not a wait.
  const auto end = Probe("127.0.0.1:24958");
  ASSERT_TRUE(end.reachable) << end.error;
  const auto started = std::chrono::steady_clock::now();
  // What was written until the next tick or two (100 ms: five transactions of four events).
  EXPECT_LE(read(end.instance.self.pos, 1000).size(), 40u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

// A follower of the simulated server on `port`, as the daemon makes one.
pgtid::IndexFollowerOptions FollowerOn(uint16_t port, uint32_t server_id, const pgtid::PseudoGtidPattern* pattern) {
  pgtid::IndexFollowerOptions fo;
  fo.host = "127.0.0.1";
  fo.port = port;
  fo.stream.user = "repl";
  fo.stream.server_id = server_id;
  fo.pattern = pattern;
  return fo;
}

TEST(Fleet, ProbesSeeMastersReplicasAndFailures) {
  simulator::FleetOptions o = SmallFleet(24960, 2, 2);
  RunningFleet f(o);
  ASSERT_EQ(f.fleet().size(), 6u);
  const std::string m = f.fleet().NameOf(3), r1 = f.fleet().NameOf(4), r2 = f.fleet().NameOf(5);
  EXPECT_EQ(f.fleet().Masters(), (std::vector<std::string>{f.fleet().NameOf(0), m}));

  auto pm = Probe(m);
  ASSERT_TRUE(pm.reachable) << pm.error;
  EXPECT_FALSE(pm.partial) << pm.error;
  EXPECT_TRUE(pm.instance.mariadb);
  EXPECT_FALSE(pm.instance.replica.configured);
  EXPECT_FALSE(pm.instance.read_only);
  EXPECT_TRUE(pm.instance.log_bin && pm.instance.log_slave_updates);
  EXPECT_EQ(pm.replica_keys, (std::vector<std::string>{r1, r2}));
  ASSERT_EQ(pm.instance.binary_logs.size(), 1u);

  auto pr = Probe(r1);
  ASSERT_TRUE(pr.reachable) << pr.error;
  EXPECT_EQ(pr.instance.replica.Master(), m);
  EXPECT_EQ(pr.instance.replica.io_running, "Yes");
  EXPECT_TRUE(pr.instance.replica.sql_running);
  EXPECT_EQ(pr.instance.replica.using_gtid, "Slave_Pos");
  EXPECT_TRUE(pr.instance.read_only);

  ASSERT_TRUE(f.On([&] { return f.fleet().Lag(r2, 30); }));
  EXPECT_EQ(Probe(r2).instance.replica.seconds_behind, 30);
  ASSERT_TRUE(f.On([&] { return f.fleet().BreakReplication(r2); }));
  auto broken = Probe(r2);
  EXPECT_EQ(broken.instance.replica.io_running, "No");
  EXPECT_NE(broken.instance.replica.last_io_error.find("1236"), std::string::npos);
  EXPECT_EQ(Probe(m).replica_keys, (std::vector<std::string>{r1}));

  // Killed: refused; its replicas fail to connect to it.
  ASSERT_TRUE(f.On([&] { return f.fleet().Kill(m); }));
  auto dead = Probe(m);
  EXPECT_FALSE(dead.reachable);
  auto orphan = Probe(r1);
  EXPECT_EQ(orphan.instance.replica.io_running, "Connecting");
  EXPECT_NE(orphan.instance.replica.last_io_error.find("Connection refused"), std::string::npos);
  EXPECT_FALSE(f.On([&] { return f.fleet().Kill("127.0.0.1:1"); }));
  // Revived, it answers again.
  ASSERT_TRUE(f.On([&] { return f.fleet().Revive(m); }));
  EXPECT_TRUE(Probe(m).reachable);
}

TEST(Fleet, AStreamIndexesTheSimulatedBinlog) {
  simulator::FleetOptions o = SmallFleet(24970, 1, 1);
  o.transactions_per_second = 200;
  o.pseudo_gtid_every = 10;
  o.tick = 20ms;
  RunningFleet f(o);
  std::this_thread::sleep_for(300ms);  // some history to replay first
  const std::string m = f.fleet().NameOf(0);

  std::unique_ptr<pgtid::PseudoGtidPattern> pattern;
  ASSERT_TRUE(pgtid::PseudoGtidPattern::Create({}, &pattern).ok());
  boost::asio::io_context io;
  pgtid::IndexFollower follower(FollowerOn(o.base_port, 77, pattern.get()));
  uint64_t events = 0, last_end = 0;
  bool chained = true;
  pgtid::IndexFollower::Callbacks cb;
  cb.on_event = [&](const binlog::StreamEvent& e) {
    ++events;
    if (last_end != 0 && e.raw.pos != last_end && e.raw.pos > 4) chained = false;
    last_end = e.raw.next_pos();
  };
  follower.Follow(io, {"sim24970-bin.000001"}, {}, std::move(cb));
  io.run_for(1500ms);

  ASSERT_NE(follower.index(), nullptr);
  EXPECT_TRUE(chained) << "every event starts where the previous one ended";
  // 1.8 s at 200 transactions/s, one in ten an entry: about 36 entries.
  EXPECT_GT(follower.index()->entry_count(), 20u);
  EXPECT_GT(events, 1000u);
  ASSERT_NE(follower.stream(), nullptr);
  EXPECT_EQ(follower.stream()->status().undecoded_events, 0u);
  // The position the server reports now is past everything streamed, and
  // the master's replica reports the same positions of the master's binlog.
  auto pm = Probe(m);
  EXPECT_GE(pm.instance.self.pos, follower.index()->position().pos);
  const pgtid::PseudoGtidEntry* last = follower.index()->LastEntry();
  ASSERT_NE(last, nullptr);
  EXPECT_NE(last->text.find("_pseudo_gtid_hint__asc:"), std::string::npos);
  EXPECT_EQ(last->gtid.rfind("0-100000-", 0), 0u) << last->gtid;
  follower.StopFollowing();
  io.run_for(200ms);
}

// Binlogs rotate and expire: a stream started at the oldest file a server
// still has follows it across rotations, and the index has every entry.
TEST(Fleet, RotationsAreFollowedAndOldFilesExpire) {
  simulator::FleetOptions o = SmallFleet(24980, 1, 0);
  o.transactions_per_second = 400;
  o.pseudo_gtid_every = 10;
  o.transactions_per_file = 40;  // a file every 0.1 s
  o.files_kept = 3;
  o.tick = 10ms;
  RunningFleet f(o);
  std::this_thread::sleep_for(500ms);
  auto p = Probe(f.fleet().NameOf(0));
  ASSERT_TRUE(p.reachable) << p.error;
  ASSERT_EQ(p.instance.binary_logs.size(), 3u);
  EXPECT_NE(p.instance.binary_logs.front(), "sim24980-bin.000001") << "the oldest files expired";
  EXPECT_EQ(p.instance.binary_logs.back(), p.instance.self.file);

  std::unique_ptr<pgtid::PseudoGtidPattern> pattern;
  ASSERT_TRUE(pgtid::PseudoGtidPattern::Create({}, &pattern).ok());
  boost::asio::io_context io;
  pgtid::IndexFollower follower(FollowerOn(o.base_port, 78, pattern.get()));
  std::set<std::string> files;
  pgtid::IndexFollower::Callbacks cb;
  cb.on_event = [&](const binlog::StreamEvent& e) { files.insert(std::string(e.file)); };
  follower.Follow(io, p.instance.binary_logs, {}, std::move(cb));
  io.run_for(1000ms);
  ASSERT_NE(follower.index(), nullptr);
  EXPECT_GE(files.size(), 8u) << "followed across rotations";
  ASSERT_NE(follower.stream(), nullptr);
  EXPECT_EQ(follower.stream()->status().undecoded_events, 0u);
  // One entry per ten transactions, none missed across the rotations.
  const auto& index = *follower.index();
  ASSERT_GT(index.entry_count(), 30u);
  for (size_t k = 1; k < index.entry_count(); ++k) {
    const auto dash = [](const std::string& g) { return std::stoull(g.substr(g.rfind('-') + 1)); };
    EXPECT_EQ(dash(index.entry(k).gtid), dash(index.entry(k - 1).gtid) + 10) << k;
  }
  follower.StopFollowing();
  io.run_for(200ms);

  // A position the server no longer has (its file expired) fails the
  // stream at once instead of asking again for ever.
  binlog::ReplicaStreamOptions so;
  so.host = "127.0.0.1";
  so.port = static_cast<uint16_t>(o.base_port);
  so.user = "repl";
  so.server_id = 79;
  so.start_file = "sim24980-bin.000001";
  so.start_pos = 4;
  std::vector<binlog::StreamStatus> statuses;
  binlog::ReplicaStream stream(io, so, [](const binlog::StreamEvent&) {},
                               [&](const binlog::StreamStatus& st) { statuses.push_back(st); });
  io.restart();
  stream.Start();
  io.run_for(1000ms);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state, binlog::StreamState::kFailed) << statuses.back().reason;
  EXPECT_NE(statuses.back().reason.find("1236"), std::string::npos) << statuses.back().reason;
  size_t connects = 0;
  for (const auto& st : statuses) connects += st.state == binlog::StreamState::kConnecting;
  EXPECT_EQ(connects, 1u);
}

// UnseenInstanceForgetHours: a server that stays dead is forgotten once it
// has not been seen for that long; the others stay.
TEST(Fleet, AnInstanceUnseenForLongIsForgotten) {
  simulator::FleetOptions fo;
  fo.base_port = 24990;
  fo.clusters = 1;
  fo.replicas = 2;
  RunningFleet f(fo);
  const std::string m = f.fleet().NameOf(0), r1 = f.fleet().NameOf(1), r2 = f.fleet().NameOf(2);
  analyzer::MonitorOptions mo;
  mo.probe.user = "sim";
  mo.probe.password = "sim";
  mo.follow_streams = false;
  mo.poll_interval = 200ms;
  mo.seeds = {m};
  mo.forget_unseen = 2s;
  analyzer::Monitor monitor(mo, [](v1::Envelope&&) {});
  monitor.Start();
  auto known = [&](const std::string& k) {
    bool found = false;
    monitor.Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) { found = t.Find(k) != nullptr; });
    return found;
  };
  auto wait = [](const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  };
  ASSERT_TRUE(wait([&] { return known(m) && known(r1) && known(r2); }, 10s));
  ASSERT_TRUE(f.On([&] { return f.fleet().Kill(r1); }));
  EXPECT_TRUE(known(r1)) << "not forgotten at once";
  EXPECT_TRUE(wait([&] { return !known(r1); }, 15s)) << r1 << " is still known";
  EXPECT_TRUE(known(m) && known(r2));
  monitor.Stop();
}

}  // namespace
}  // namespace tidewatch::testing
