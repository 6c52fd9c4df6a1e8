// GTID set arithmetic: MySQL uuid:interval sets and MariaDB positions —
// parsing, printing, union, subtraction, containment, errant GTIDs.
#include <gtest/gtest.h>

#include "pgtid/mariadb_gtid_position.h"
#include "pgtid/mysql_gtid_set.h"

namespace tidewatch::pgtid {
namespace {

const char* kA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const char* kB = "4e11fa47-71ca-11e1-9e33-c80aa9429562";

MysqlGtidSet Set(const std::string& text) {
  MysqlGtidSet s;
  auto st = MysqlGtidSet::Parse(text, &s);
  EXPECT_TRUE(st.ok()) << text << ": " << st.message();
  return s;
}

TEST(MysqlGtidSet, ParsesAndPrintsNormalized) {
  // Unsorted, overlapping, adjacent intervals; upper-case UUID; line breaks.
  auto s = Set(std::string(kB) + ":7," + "\n3E11FA47-71CA-11E1-9E33-C80AA9429562:11:1-5:6-8:3");
  EXPECT_EQ(s.ToString(), std::string(kA) + ":1-8:11," + kB + ":7");
  EXPECT_EQ(s.Count(), 10u);
  EXPECT_TRUE(Set("").empty());
  MysqlGtidSet bad;
  EXPECT_FALSE(MysqlGtidSet::Parse("nope:1", &bad).ok());
}

TEST(MysqlGtidSet, UnionSubtractContains) {
  auto a = Set(std::string(kA) + ":1-10");
  auto b = Set(std::string(kA) + ":5-7:20," + kB + ":1-3");
  auto u = a;
  u.Union(b);
  EXPECT_EQ(u.ToString(), std::string(kA) + ":1-10:20," + kB + ":1-3");
  EXPECT_EQ(a.Subtract(b).ToString(), std::string(kA) + ":1-4:8-10");
  EXPECT_EQ(b.Subtract(a).ToString(), std::string(kA) + ":20," + kB + ":1-3");
  EXPECT_TRUE(u.Contains(a));
  EXPECT_TRUE(u.Contains(b));
  EXPECT_FALSE(a.Contains(b));
  EXPECT_TRUE(a.Contains(MysqlGtidSet()));
  EXPECT_TRUE(a.Contains(a.sids().begin()->first, 10));
  EXPECT_FALSE(a.Contains(a.sids().begin()->first, 11));
  EXPECT_TRUE(a.Subtract(a).empty());
}

TEST(MysqlGtidSet, ErrantGtidsAreWhatTheReplicaHasAndTheMasterNot) {
  auto master = Set(std::string(kA) + ":1-100");
  auto replica = Set(std::string(kA) + ":1-90," + kB + ":1-2");
  EXPECT_EQ(ErrantGtids(replica, master).ToString(), std::string(kB) + ":1-2");
  EXPECT_TRUE(ErrantGtids(Set(std::string(kA) + ":1-90"), master).empty());
}

TEST(MysqlGtidSet, TaggedGtidsParsePrintAndCompareByTag) {
  // MySQL's order: a UUID's untagged intervals, then its tags.
  auto s = Set(std::string(kB) + ":z:1," + kA + ":Beta:3:1-2," + kA + ":alpha:5," + kA + ":1-4");
  EXPECT_EQ(s.ToString(), std::string(kA) + ":1-4:alpha:5:beta:1-3," + kB + ":z:1");
  EXPECT_EQ(s.Count(), 9u);
  EXPECT_TRUE(s.Contains(s.sids().begin()->first.uuid, "ALPHA", 5));
  EXPECT_FALSE(s.Contains(s.sids().begin()->first.uuid, 5));  // uuid:5 is not uuid:alpha:5
  EXPECT_EQ(Set(s.ToString()), s);
  MysqlGtidSet bad;
  EXPECT_FALSE(MysqlGtidSet::Parse(std::string(kA) + ":tag", &bad).ok());
  EXPECT_FALSE(MysqlGtidSet::Parse(std::string(kA) + ":1:2bad:3", &bad).ok());
}

TEST(MysqlGtidSet, TaggedArithmeticAndErrantTaggedGtids) {
  auto master = Set(std::string(kA) + ":1-100:etl:1-50");
  auto replica = Set(std::string(kA) + ":1-100:etl:1-52:ops:1");
  EXPECT_EQ(ErrantGtids(replica, master).ToString(), std::string(kA) + ":etl:51-52:ops:1");
  EXPECT_TRUE(ErrantGtids(master, replica).empty());
  EXPECT_TRUE(replica.Contains(master));
  EXPECT_FALSE(master.Contains(replica));
  auto u = master;
  u.Union(Set(std::string(kA) + ":etl:51-60"));
  EXPECT_EQ(u.ToString(), std::string(kA) + ":1-100:etl:1-60");
  EXPECT_EQ(u.Subtract(Set(std::string(kA) + ":1-100")).ToString(), std::string(kA) + ":etl:1-60");
}

MariadbGtidPosition Pos(const std::string& text) {
  MariadbGtidPosition p;
  auto st = MariadbGtidPosition::Parse(text, &p);
  EXPECT_TRUE(st.ok()) << text << ": " << st.message();
  return p;
}

TEST(MariadbGtidPosition, ParsesPrintsAndCompares) {
  auto p = Pos(" 1-2-50, 0-1-100 ");
  EXPECT_EQ(p.ToString(), "0-1-100,1-2-50");
  EXPECT_TRUE(p.Contains(Pos("0-1-99")));
  EXPECT_TRUE(p.Contains(Pos("0-3-100,1-2-50")));
  EXPECT_FALSE(p.Contains(Pos("0-1-101")));
  EXPECT_FALSE(p.Contains(Pos("2-1-1")));
  EXPECT_TRUE(p.Contains(Pos("")));
  p.Update({0, 7, 101});
  EXPECT_EQ(p.ToString(), "0-7-101,1-2-50");
  MariadbGtidPosition bad;
  EXPECT_FALSE(MariadbGtidPosition::Parse("0-1", &bad).ok());
  EXPECT_FALSE(MariadbGtidPosition::Parse("0-1-2,0-1-3", &bad).ok());
  EXPECT_FALSE(MariadbGtidPosition::Parse("a-b-c", &bad).ok());
}

TEST(MariadbGtidPosition, ErrantGtidsAreAheadOfTheMasterOrInADomainItNeverHad) {
  auto master = Pos("0-1-100");
  auto errant = ErrantGtids(Pos("0-1-100,5-9-3"), master);
  ASSERT_EQ(errant.size(), 1u);
  EXPECT_EQ(errant[0], (binlog::MariaGtid{5, 9, 3}));
  EXPECT_EQ(ErrantGtids(Pos("0-2-101"), master).size(), 1u);
  EXPECT_TRUE(ErrantGtids(Pos("0-1-90"), master).empty());
}

}  // namespace
}  // namespace tidewatch::pgtid
