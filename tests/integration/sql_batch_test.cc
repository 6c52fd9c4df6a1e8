// Statements sent together (SqlConnection::QueryEach over
// CLIENT_MULTI_STATEMENTS) against real MariaDB servers: each statement gets
// the answer it would have had alone, an error in the middle of a batch does
// not take the statements after it along, a connection killed under a batch
// is reported as lost for every statement not answered, and the probe's
// instance reading is the same whether its statements go together or one by
// one — on a master, a replica and a server without a binary log.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "analyzer/instance_probe.h"
#include "pgtid/instance.h"
#include "pgtid/sql_connection.h"
#include "tests/integration/sandbox.h"

namespace tidewatch::testing {
namespace {

constexpr int kBase = 24600;  // m 24600, r1 24601, x 24602

std::unique_ptr<pgtid::SqlConnection> Connect(uint16_t port, bool together) {
  pgtid::SqlEndpoint ep;
  ep.port = port;
  ep.user = "tidewatch";
  ep.password = "tidewatch";
  ep.multi_statements = together;
  std::unique_ptr<pgtid::SqlConnection> c;
  Status s = pgtid::SqlConnection::Connect(ep, &c);
  if (!s.ok()) throw std::runtime_error(s.ToString());
  return c;
}

class SqlBatchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sandbox_ = new Sandbox("m>r1;x[nobinlog]", kBase); }
  static void TearDownTestSuite() {
    delete sandbox_;
    sandbox_ = nullptr;
  }
  static Sandbox* sandbox_;
};
Sandbox* SqlBatchTest::sandbox_ = nullptr;

TEST_F(SqlBatchTest, EachStatementHasItsOwnAnswerAndAnErrorStopsOnlyItself) {
  auto c = Connect(kBase, true);
  ASSERT_TRUE(c->sends_together());
  const std::vector<std::string> sqls = {"SELECT 1 AS a", "SELECT no_such_column FROM mysql.user",
                                         "SHOW GLOBAL VARIABLES LIKE 'server_id'", "SELECT 'x' AS b, NULL AS c",
                                         "DO 1"};
  std::vector<pgtid::SqlResult> r;
  std::vector<Status> st;
  ASSERT_TRUE(c->QueryEach(sqls, &r, &st).ok());
  ASSERT_EQ(r.size(), sqls.size());
  EXPECT_TRUE(st[0].ok());
  EXPECT_EQ(r[0].rows.at(0).at(0), "1");
  EXPECT_FALSE(st[1].ok());
  EXPECT_NE(st[1].message().find("no_such_column"), std::string::npos) << st[1].ToString();
  EXPECT_NE(st[1].message().find("127.0.0.1:24600"), std::string::npos) << st[1].ToString();
  ASSERT_TRUE(st[2].ok()) << st[2].ToString();
  EXPECT_EQ(r[2].GetOr(0, "Value"), std::to_string(kBase));  // the sandbox's server_id is the port
  ASSERT_TRUE(st[3].ok());
  EXPECT_EQ(r[3].GetOr(0, "b"), "x");
  EXPECT_FALSE(r[3].Get(0, "c").has_value());
  EXPECT_TRUE(st[4].ok());
  EXPECT_TRUE(r[4].rows.empty());
  // The connection is usable afterwards.
  pgtid::SqlResult one;
  ASSERT_TRUE(c->Query("SELECT 2", &one).ok());
  EXPECT_EQ(one.rows.at(0).at(0), "2");
}

TEST_F(SqlBatchTest, OneByOneGivesTheSameAnswers) {
  auto together = Connect(kBase + 1, true), alone = Connect(kBase + 1, false);
  EXPECT_TRUE(together->sends_together());
  EXPECT_FALSE(alone->sends_together());
  const std::vector<std::string> sqls = {"SELECT @@server_id", "SELECT * FROM no_such_db.t", "SHOW SLAVE STATUS"};
  std::vector<pgtid::SqlResult> r1, r2;
  std::vector<Status> s1, s2;
  ASSERT_TRUE(together->QueryEach(sqls, &r1, &s1).ok());
  ASSERT_TRUE(alone->QueryEach(sqls, &r2, &s2).ok());
  for (size_t i = 0; i < sqls.size(); ++i) {
    EXPECT_EQ(s1[i].ok(), s2[i].ok()) << sqls[i];
    EXPECT_EQ(r1[i].columns, r2[i].columns) << sqls[i];
    EXPECT_EQ(r1[i].rows.size(), r2[i].rows.size()) << sqls[i];
  }
  EXPECT_EQ(r1[2].GetOr(0, "Master_Port"), std::to_string(kBase));
}

TEST_F(SqlBatchTest, AConnectionKilledUnderABatchIsLostForTheRest) {
  auto c = Connect(kBase, true);
  pgtid::SqlResult id;
  ASSERT_TRUE(c->Query("SELECT CONNECTION_ID()", &id).ok());
  auto killer = Connect(kBase, false);
  // The second statement sleeps; the connection is killed while it does.
  std::thread kill([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    killer->Execute("KILL CONNECTION " + id.rows.at(0).at(0).value());
  });
  std::vector<pgtid::SqlResult> r;
  std::vector<Status> st;
  Status s = c->QueryEach({"SELECT 1", "SELECT SLEEP(5)", "SELECT 3", "SELECT 4"}, &r, &st);
  kill.join();
  EXPECT_TRUE(st[0].ok());
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(st[2].ok());
  EXPECT_FALSE(st[3].ok());
  EXPECT_EQ(st[3].message(), s.message());
}

TEST_F(SqlBatchTest, TheProbeReadsTheSameTogetherAndOneByOne) {
  for (int port : {kBase, kBase + 1, kBase + 2}) {
    SCOPED_TRACE(port);
    auto together = Connect(static_cast<uint16_t>(port), true), alone = Connect(static_cast<uint16_t>(port), false);
    pgtid::Instance a, b;
    ASSERT_TRUE(pgtid::ReadInstance(*together, &a).ok());
    ASSERT_TRUE(pgtid::ReadInstance(*alone, &b).ok());
    EXPECT_EQ(a.server_id, b.server_id);
    EXPECT_EQ(a.log_bin, b.log_bin);
    EXPECT_EQ(a.binary_logs, b.binary_logs);
    EXPECT_EQ(a.self.file, b.self.file);
    EXPECT_EQ(a.replica.configured, b.replica.configured);
    EXPECT_EQ(a.replica.Master(), b.replica.Master());
    EXPECT_EQ(a.gtid_binlog_pos.empty(), b.gtid_binlog_pos.empty());
    EXPECT_EQ(a.log_bin, port != kBase + 2);
    EXPECT_EQ(a.replica.configured, port == kBase + 1);
    EXPECT_EQ(a.binary_logs.empty(), port == kBase + 2);

    analyzer::ProbeOptions po;
    po.user = po.password = "tidewatch";
    std::unique_ptr<pgtid::SqlConnection> kept;
    analyzer::ProbeSession session;
    const auto first = analyzer::ProbeInstance(po, "127.0.0.1", static_cast<uint16_t>(port), &kept, &session);
    ASSERT_TRUE(first.reachable && !first.partial) << first.error;
    ASSERT_TRUE(kept && kept->sends_together());
    const auto second = analyzer::ProbeInstance(po, "127.0.0.1", static_cast<uint16_t>(port), &kept, &session);
    ASSERT_TRUE(second.reachable && !second.partial) << second.error;
    EXPECT_TRUE(first.connected);
    EXPECT_FALSE(second.connected);
    EXPECT_EQ(second.instance.server_id, a.server_id);
    EXPECT_EQ(second.version_comment, first.version_comment);
    EXPECT_FALSE(first.version_comment.empty());
    EXPECT_TRUE(session.known);  // the uptime was read (it may still be 0 on a server started just now)
    if (port == kBase) EXPECT_EQ(second.replica_keys, std::vector<std::string>{"127.0.0.1:" + std::to_string(kBase + 1)});
  }
}

}  // namespace
}  // namespace tidewatch::testing
