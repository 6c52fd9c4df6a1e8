// The replica stream against real MariaDB servers: what it delivers equals
// the server's binlog files event for event; it survives kill -9 and restart
// of the server with no gap and no duplicate; it tells promptly when the
// server is gone or hung; many streams share one io_context.
#include <signal.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/binlog/dump_helper.h"
#include "tests/integration/sandbox.h"
#include "tests/integration/stream_collector.h"

namespace tidewatch::testing {
namespace {

using namespace std::chrono_literals;

binlog::ReplicaStreamOptions Options(int port, uint32_t server_id) {
  binlog::ReplicaStreamOptions o;
  o.host = "127.0.0.1";
  o.port = static_cast<uint16_t>(port);
  o.user = "tidewatch";
  o.password = "tidewatch";
  o.server_id = server_id;
  o.heartbeat_period = 200ms;
  o.read_timeout = 1000ms;
  o.backoff_min = 50ms;
  o.backoff_max = 500ms;
  return o;
}

// The file dumps' lines, with the file's base name as the stream names it and
// without the FORMAT_DESCRIPTION's "binlog in use" flag, which the server
// clears when it sends the event.
std::vector<std::string> FileLines(const std::vector<std::string>& files) {
  std::vector<std::string> lines;
  for (const auto& f : files) {
    auto d = Dump({f});
    EXPECT_EQ(d.rc, 0) << d.error;
    for (auto e : d.events) {
      e["file"] = std::filesystem::path(f).filename().string();
      if (e["type"] == 15) e.erase("flags");
      lines.push_back(e.dump());
    }
  }
  return lines;
}

std::vector<std::string> StreamLines(const std::vector<SeenEvent>& events) {
  std::vector<std::string> lines;
  for (const auto& e : events) {
    for (const auto& l : Lines(e.json)) {
      auto j = nlohmann::json::parse(l);
      if (j["type"] == 15) j.erase("flags");
      lines.push_back(j.dump());
    }
  }
  return lines;
}

std::pair<std::string, uint64_t> MasterStatus(const Sandbox& s, const std::string& server) {
  auto lines = Lines(s.Sql(server, "SHOW MASTER STATUS"));
  std::istringstream row(lines.at(1));
  std::string file;
  uint64_t pos = 0;
  row >> file >> pos;
  return {file, pos};
}

TEST(ReplicaStream, DeliversTheBinlogEventForEventAcrossFilesIncludingHugeAndCompressedEvents) {
  Sandbox sandbox("m", 24700, "--pseudo-gtid-interval 0");
  sandbox.Run("load --profile everything");
  sandbox.Sql("m", "FLUSH BINARY LOGS");
  StreamCollector c;
  auto o = Options(24700, 901);
  o.non_blocking = true;
  size_t i = c.Add(o);
  ASSERT_TRUE(c.WaitFinished(i, 60s));
  auto statuses = c.Statuses(i);
  EXPECT_EQ(statuses.back().status.state, binlog::StreamState::kEnded) << statuses.back().status.reason;
  auto expected = FileLines(sandbox.Binlogs("m"));
  auto got = StreamLines(c.Events(i));
  // The server may append a BINLOG_CHECKPOINT to its newest file after the
  // non-blocking dump ended (it writes them once older files are durable).
  ASSERT_LE(got.size(), expected.size());
  for (size_t k = 0; k < got.size(); ++k) ASSERT_EQ(got[k], expected[k]) << "event " << k;
  for (size_t k = got.size(); k < expected.size(); ++k) {
    EXPECT_NE(expected[k].find("BINLOG_CHECKPOINT_EVENT"), std::string::npos) << "not streamed: " << expected[k];
  }
  bool big = false;
  for (const auto& e : c.Events(i)) big |= e.log_pos - e.pos > 20u * 1024 * 1024;
  EXPECT_TRUE(big) << "the 21 MiB row event came through the stream";
}

// Checks that the stream's events are contiguous and unique per file.
void ExpectNoGapNoDuplicate(const std::vector<SeenEvent>& events) {
  std::set<std::pair<std::string, uint64_t>> seen;
  std::string file;
  uint64_t next = 0;
  for (const auto& e : events) {
    EXPECT_TRUE(seen.insert({e.file, e.pos}).second) << "duplicate " << e.file << ":" << e.pos;
    if (e.file != file) {
      EXPECT_EQ(e.pos, 4u) << "a new file starts at 4: " << e.file;
      file = e.file;
    } else {
      EXPECT_EQ(e.pos, next) << "gap in " << e.file;
    }
    next = e.log_pos;
  }
}

TEST(ReplicaStream, ResumesAfterKill9AndRestartWithNoGapAndNoDuplicate) {
  Sandbox sandbox("m", 24710, "--pseudo-gtid-interval 1");
  StreamCollector c;
  size_t i = c.Add(Options(24710, 902));
  std::thread load([&] { RunCommand(std::string("python3 ") + TIDEWATCH_SOURCE_DIR +
                                    "/tools/sandbox/tidewatch-sandbox --dir " + sandbox.dir().string() +
                                    " load --seconds 8 --rate 200 >/dev/null 2>&1"); });
  std::this_thread::sleep_for(2s);
  const auto killed_at = std::chrono::steady_clock::now();
  sandbox.Run("kill m");
  // The consumer hears of it promptly, with the reason.
  ASSERT_TRUE(c.WaitFor(i, 5s, [&](auto&, auto& st) {
    for (const auto& s : st) {
      if (s.at >= killed_at && s.status.state == binlog::StreamState::kDisconnected) return true;
    }
    return false;
  }));
  for (const auto& s : c.Statuses(i)) {
    if (s.at >= killed_at && s.status.state == binlog::StreamState::kDisconnected) {
      EXPECT_LT(s.at - killed_at, 2s);
      EXPECT_FALSE(s.status.reason.empty());
      break;
    }
  }
  std::this_thread::sleep_for(1s);
  sandbox.Run("start m");
  load.join();
  auto [file, pos] = MasterStatus(sandbox, "m");
  ASSERT_TRUE(c.WaitFor(i, 30s, [&, f = file, p = pos](auto& ev, auto&) {
    return !ev.empty() && (ev.back().file > f || (ev.back().file == f && ev.back().log_pos >= p));
  })) << "stream reached " << (c.Events(i).empty() ? "nothing" : c.Events(i).back().file);
  c.Stop(i);
  auto events = c.Events(i);
  ExpectNoGapNoDuplicate(events);
  std::set<std::string> files;
  for (const auto& e : events) files.insert(e.file);
  EXPECT_GE(files.size(), 2u) << "the restarted server writes a new binlog, which the stream followed";
  // Everything the files hold up to that point, and nothing else.
  auto expected = FileLines(sandbox.Binlogs("m"));
  auto got = StreamLines(events);
  ASSERT_LE(got.size(), expected.size());
  for (size_t k = 0; k < got.size(); ++k) ASSERT_EQ(got[k], expected[k]) << "event " << k;
  bool reconnected = false;
  for (const auto& s : c.Statuses(i)) reconnected |= s.at > killed_at && s.status.state == binlog::StreamState::kStreaming;
  EXPECT_TRUE(reconnected);
}

TEST(ReplicaStream, AHungServerIsDetectedByHeartbeatTimeoutAndTheStreamResumes) {
  Sandbox sandbox("m", 24720, "--pseudo-gtid-interval 1");
  StreamCollector c;
  size_t i = c.Add(Options(24720, 903));
  ASSERT_TRUE(c.WaitFor(i, 10s, [](auto& ev, auto&) { return ev.size() > 3; }));
  const auto paused_at = std::chrono::steady_clock::now();
  sandbox.Run("pause m");
  bool detected = c.WaitFor(i, 5s, [&](auto&, auto& st) {
    for (const auto& s : st) {
      if (s.at >= paused_at && s.status.state == binlog::StreamState::kDisconnected) return true;
    }
    return false;
  });
  sandbox.Run("resume m");
  ASSERT_TRUE(detected);
  for (const auto& s : c.Statuses(i)) {
    if (s.at >= paused_at && s.status.state == binlog::StreamState::kDisconnected) {
      EXPECT_NE(s.status.reason.find("heartbeat timeout"), std::string::npos) << s.status.reason;
      EXPECT_LT(s.at - paused_at, 3s);
      break;
    }
  }
  const size_t before = c.Events(i).size();
  EXPECT_TRUE(c.WaitFor(i, 15s, [&](auto& ev, auto&) { return ev.size() > before + 2; }));
  ExpectNoGapNoDuplicate(c.Events(i));
}

TEST(ReplicaStream, FiftyStreamsInOneProcess) {
  Sandbox sandbox("m>r1,r2,r3", 24730, "--pseudo-gtid-interval 0");
  sandbox.Run("load --seconds 2 --rate 200");
  sandbox.Sql("m", "FLUSH BINARY LOGS");
  std::map<int, size_t> expected_per_port;
  for (int k = 0; k < 4; ++k) {
    std::string name = k == 0 ? "m" : "r" + std::to_string(k);
    // Replicas have applied everything once their positions stop moving.
    std::this_thread::sleep_for(k == 0 ? 1s : 0s);
    expected_per_port[24730 + k] = FileLines(sandbox.Binlogs(name)).size();
  }
  StreamCollector c;
  std::vector<std::pair<size_t, int>> streams;
  for (int n = 0; n < 50; ++n) {
    int port = 24730 + n % 4;
    auto o = Options(port, 1000 + n);
    o.non_blocking = true;
    streams.push_back({c.Add(o), port});
  }
  for (auto [i, port] : streams) {
    ASSERT_TRUE(c.WaitFor(i, 60s, [](auto&, auto& st) {
      return !st.empty() && st.back().status.state == binlog::StreamState::kEnded;
    })) << "stream " << i;
    // Within one BINLOG_CHECKPOINT the server may add to its newest file later.
    const size_t got = StreamLines(c.Events(i)).size();
    EXPECT_LE(got, expected_per_port[port]) << "stream " << i << " of port " << port;
    EXPECT_GE(got + 1, expected_per_port[port]) << "stream " << i << " of port " << port;
  }
}

}  // namespace
}  // namespace tidewatch::testing

namespace tidewatch::testing {
namespace {

TEST(ReplicaStream, StartsAfterAMariaDbGtidPosition) {
  Sandbox sandbox("m", 24750, "--pseudo-gtid-interval 0");
  sandbox.Sql("m", "CREATE DATABASE g; CREATE TABLE g.t (id INT PRIMARY KEY)");
  for (int k = 1; k <= 5; ++k) sandbox.Sql("m", "INSERT INTO g.t VALUES (" + std::to_string(k) + ")");
  // Start after the third of the five inserts.
  const auto pos = Lines(sandbox.Sql("m", "SELECT @@gtid_binlog_pos")).back();  // 0-24750-N
  const uint64_t last = std::stoull(pos.substr(pos.rfind('-') + 1));
  const std::string start = "0-24750-" + std::to_string(last - 2);
  StreamCollector c;
  auto o = Options(24750, 905);
  o.non_blocking = true;
  o.start_gtid = start;
  size_t i = c.Add(o);
  ASSERT_TRUE(c.WaitFor(i, 20s, [](auto&, auto& st) {
    return !st.empty() && st.back().status.state == binlog::StreamState::kEnded;
  }));
  std::vector<std::string> gtids;
  for (const auto& e : c.Events(i)) {
    auto j = nlohmann::json::parse(Lines(e.json).front());
    if (j.contains("gtid")) gtids.push_back(j["gtid"]);
  }
  EXPECT_EQ(gtids, (std::vector<std::string>{"0-24750-" + std::to_string(last - 1), "0-24750-" + std::to_string(last)}));
}

}  // namespace
}  // namespace tidewatch::testing

namespace tidewatch::testing {
namespace {

TEST(ReplicaStream, TlsVerifiedAgainstTheServersCaAndRefusedWhenItCannotBe) {
  Sandbox sandbox("m[tls]>r1", 24760, "--pseudo-gtid-interval 0");
  const std::string ca = (sandbox.dir() / "tls" / "ca.pem").string();
  // Another CA, which did not sign the server's certificate.
  const auto other = sandbox.dir() / "other-ca";
  std::filesystem::create_directories(other);
  ASSERT_EQ(RunCommand("cd " + other.string() +
                       " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other -keyout k.pem "
                       "-out ca.pem >/dev/null 2>&1")
                .status,
            0);
  StreamCollector c;
  auto verified = Options(24760, 906);
  verified.non_blocking = true;
  verified.max_reconnects = 0;
  verified.tls_mode = binlog::TlsMode::kVerifyIdentity;
  verified.tls_ca = ca;
  auto wrong_ca = verified;
  wrong_ca.server_id = 907;
  wrong_ca.tls_mode = binlog::TlsMode::kVerifyCa;
  wrong_ca.tls_ca = (other / "ca.pem").string();
  auto no_tls_server = Options(24761, 908);
  no_tls_server.non_blocking = true;
  no_tls_server.max_reconnects = 0;
  no_tls_server.tls_mode = binlog::TlsMode::kRequired;
  size_t a = c.Add(verified), b = c.Add(wrong_ca), d = c.Add(no_tls_server);
  for (size_t i : {a, b, d}) ASSERT_TRUE(c.WaitFinished(i, 20s)) << i;

  auto sa = c.Statuses(a);
  EXPECT_EQ(sa.back().status.state, binlog::StreamState::kEnded) << sa.back().status.reason;
  bool streamed_over_tls = false;
  for (const auto& st : sa) streamed_over_tls |= st.status.state == binlog::StreamState::kStreaming && st.status.tls;
  EXPECT_TRUE(streamed_over_tls);
  EXPECT_GE(c.Events(a).size(), 3u);  // FORMAT_DESCRIPTION, GTID_LIST, BINLOG_CHECKPOINT

  auto sb = c.Statuses(b);
  EXPECT_EQ(sb.back().status.state, binlog::StreamState::kFailed);
  EXPECT_NE(sb.back().status.reason.find("certificate verification"), std::string::npos) << sb.back().status.reason;
  EXPECT_TRUE(c.Events(b).empty());

  auto sd = c.Statuses(d);
  EXPECT_EQ(sd.back().status.state, binlog::StreamState::kFailed);
  EXPECT_NE(sd.back().status.reason.find("TLS is required but the server does not offer it"), std::string::npos)
      << sd.back().status.reason;
}

}  // namespace
}  // namespace tidewatch::testing

namespace tidewatch::testing {
namespace {

TEST(ReplicaStream, LogsInWithMariaDbEd25519) {
  Sandbox sandbox("m", 24770, "--pseudo-gtid-interval 0");
  sandbox.Sql("m", "INSTALL SONAME 'auth_ed25519'");
  sandbox.Sql("m", "CREATE USER 'ed'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('Ed-s3cret!'); "
                   "GRANT REPLICATION SLAVE ON *.* TO 'ed'@'127.0.0.1'");
  StreamCollector c;
  auto good = Options(24770, 909);
  good.user = "ed";
  good.password = "Ed-s3cret!";
  good.non_blocking = true;
  good.max_reconnects = 0;
  auto bad = good;
  bad.server_id = 910;
  bad.password = "wrong";
  size_t a = c.Add(good), b = c.Add(bad);
  for (size_t i : {a, b}) ASSERT_TRUE(c.WaitFinished(i, 20s));
  EXPECT_EQ(c.Statuses(a).back().status.state, binlog::StreamState::kEnded) << c.Statuses(a).back().status.reason;
  EXPECT_GE(c.Events(a).size(), 3u);
  EXPECT_EQ(c.Statuses(b).back().status.state, binlog::StreamState::kFailed);
  EXPECT_NE(c.Statuses(b).back().status.reason.find("Access denied"), std::string::npos)
      << c.Statuses(b).back().status.reason;
}

}  // namespace
}  // namespace tidewatch::testing
