// Starting from a MySQL GTID set: the set's text is encoded as
// COM_BINLOG_DUMP_GTID carries it, and a stream to a MySQL server sends that
// command (a MariaDB server gets @slave_connect_state instead).
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "binlog/byte_reader.h"
#include "binlog/mysql_gtid_set.h"
#include "tests/integration/stream_collector.h"
#include "simulator/fake_binlog_server.h"

namespace tidewatch::testing {
namespace {

using namespace std::chrono_literals;
using binlog::ByteReader;

TEST(MysqlGtidSet, EncodesSidsAndIntervalsWithExclusiveEnds) {
  std::vector<uint8_t> w;
  ASSERT_TRUE(binlog::EncodeMysqlGtidSet("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11,\n"
                                         " 4e11fa4771ca11e19e33c80aa9429562:7",
                                         &w)
                  .ok());
  ByteReader r(w);
  EXPECT_EQ(r.U64(), 2u);
  auto sid = r.Bytes(16);
  EXPECT_EQ(sid[0], 0x3e);
  EXPECT_EQ(sid[15], 0x62);
  EXPECT_EQ(r.U64(), 2u);
  EXPECT_EQ(r.U64(), 1u);
  EXPECT_EQ(r.U64(), 6u);
  EXPECT_EQ(r.U64(), 11u);
  EXPECT_EQ(r.U64(), 12u);
  EXPECT_EQ(r.Bytes(16)[0], 0x4e);
  EXPECT_EQ(r.U64(), 1u);
  EXPECT_EQ(r.U64(), 7u);
  EXPECT_EQ(r.U64(), 8u);
  EXPECT_EQ(r.remaining(), 0u);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(binlog::EncodeMysqlGtidSet("", &w).ok());
  EXPECT_EQ(w, std::vector<uint8_t>(8, 0));
}

TEST(MysqlGtidSet, RefusesWhatIsNotASet) {
  std::vector<uint8_t> w;
  for (const char* bad : {"not-a-uuid:1", "3E11FA47-71CA-11E1-9E33-C80AA9429562", "3E11FA47-71CA-11E1-9E33-C80AA9429562:0",
                          "3E11FA47-71CA-11E1-9E33-C80AA9429562:5-3", "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-x"}) {
    auto s = binlog::EncodeMysqlGtidSet(bad, &w);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("GTID set"), std::string::npos) << s.message();
  }
  for (const char* bad : {"3E11FA47-71CA-11E1-9E33-C80AA9429562:tag", "3E11FA47-71CA-11E1-9E33-C80AA9429562:1:9tag:1"}) {
    auto s = binlog::EncodeMysqlGtidSet(bad, &w);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
  }
}

TEST(MysqlGtidSet, ATaggedSetTravelsInTheTaggedFormat) {
  std::vector<uint8_t> w;
  ASSERT_TRUE(binlog::EncodeMysqlGtidSet("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:Nightly:1-3", &w).ok());
  ByteReader r(w);
  EXPECT_EQ(r.U64(), 0x0100000000000201ull);  // format 1 · 2 sources · format 1
  EXPECT_EQ(r.Bytes(16)[0], 0x3e);
  EXPECT_EQ(r.U8(), 0u);  // no tag
  EXPECT_EQ(r.U64(), 1u);
  EXPECT_EQ(r.U64(), 1u);
  EXPECT_EQ(r.U64(), 6u);
  EXPECT_EQ(r.Bytes(16)[15], 0x62);
  EXPECT_EQ(r.U8(), 7u << 1);  // 7 characters, as a variable-length integer
  EXPECT_EQ(r.String(7), "nightly");
  EXPECT_EQ(r.U64(), 1u);
  EXPECT_EQ(r.U64(), 1u);
  EXPECT_EQ(r.U64(), 4u);
  EXPECT_EQ(r.remaining(), 0u);
  ASSERT_TRUE(r.ok());
}

TEST(MysqlGtidSet, AStreamToMySqlStartsWithComBinlogDumpGtid) {
  std::ifstream in(std::string(TIDEWATCH_FIXTURES) + "/mysql-bin.checksum-crc32", std::ios::binary);
  std::vector<uint8_t> binlog(std::istreambuf_iterator<char>(in), {});
  simulator::FakeServerOptions mysql;
  mysql.version = "8.0.36";
  simulator::FakeBinlogServer server(simulator::FakeBinlogServer::Behavior::kReplay, binlog, "mysql-bin.000001", mysql);
  StreamCollector c;
  binlog::ReplicaStreamOptions o;
  o.port = server.port();
  o.user = "repl";
  o.server_id = 31;
  o.non_blocking = true;
  o.max_reconnects = 0;
  o.start_gtid = "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:nightly:1-2";
  size_t id = c.Add(o);
  ASSERT_TRUE(c.WaitFor(id, 10s, [](auto&, auto& st) {
    return !st.empty() && st.back().status.state == binlog::StreamState::kEnded;
  })) << c.Statuses(id).back().status.reason;
  auto cmd = server.last_dump_command();
  ByteReader r(cmd);
  EXPECT_EQ(r.U8(), 0x1e);                 // COM_BINLOG_DUMP_GTID
  EXPECT_EQ(r.U16() & 4, 4);               // BINLOG_THROUGH_GTID
  EXPECT_EQ(r.U32(), 31u);                 // server_id
  EXPECT_EQ(r.U32(), 0u);                  // no file name
  EXPECT_EQ(r.U64(), 4u);                  // position
  const uint32_t size = r.U32();
  std::vector<uint8_t> want;
  ASSERT_TRUE(binlog::EncodeMysqlGtidSet(o.start_gtid, &want).ok());
  EXPECT_EQ(size, want.size());
  auto data = r.Bytes(size);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.end()), want);
  EXPECT_GT(c.Events(id).size(), 300u);
}

}  // namespace
}  // namespace tidewatch::testing
