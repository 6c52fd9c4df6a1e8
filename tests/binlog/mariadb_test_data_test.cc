// The binlogs of MariaDB's own test suite, as Debian ships them
// (mariadb-test-data, installed by tools/install-deps.sh): real files from
// MySQL 4.0 and 4.1 (binlog v3), 5.0, the 5.1 pre-GA trees with their
// pre-GA row events, 5.1 GA, 5.6, 5.7 and 8.0, and MariaDB 5.5 to 10.3 —
// damaged ones among them. Each decodes to its end without an undecoded
// body, or stops where it is truly broken with the file and offset; where
// `mariadb-binlog` reads a file to its end, Tidewatch delivers as many events.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/binlog/dump_helper.h"

namespace tidewatch::testing {
namespace {

std::string TestData(const std::string& relative) { return std::string(TIDEWATCH_MARIADB_TEST_DATA) + "/" + relative; }

struct Expected {
  const char* file;    // under the test suite's directory
  size_t events;       // top-level events delivered
  const char* error;   // where the file is broken: what the error says; else null
  bool as_mariadb_binlog;  // mariadb-binlog reads it to its end, or stops at the same event
};

// The files and what each holds (event counts as `mariadb-binlog` counts them
// where it reads the whole file).
const Expected kFiles[] = {
    {"std_data/binlog-header.binlog", 1, nullptr, true},
    {"std_data/binlog_savepoint.000001", 12, nullptr, true},
    {"std_data/binlog_transaction.000001", 20, nullptr, true},
    {"std_data/bug16266.000001", 6, nullptr, true},
    {"std_data/bug33029-slave-relay-bin.000001", 43, nullptr, true},
    {"std_data/bug47142_master-bin.000001", 6, nullptr, true},                // MySQL 4.1.26, v3
    {"std_data/mariadb-5.5-binlog.000001", 13, nullptr, true},
    {"std_data/master-bin.000001", 2, nullptr, true},                         // MySQL 4.0.0, v2
    {"std_data/mdev-4645-binlog_checksum.binlog", 4, nullptr, true},
    {"std_data/mdev-4645-binlog_group_id.binlog", 4, nullptr, true},
    {"std_data/mdev-4645-binlog_group_id_checksum.binlog", 4, nullptr, true},
    {"std_data/mdev-4645-binlog_none.binlog", 4, nullptr, true},
    {"std_data/mdev29078-mysql-bin.000001", 12, nullptr, true},
    {"std_data/mdev6020-mysql-bin.000001", 7754, nullptr, true},
    {"std_data/rpl/master-bin-seq_10.3.36.000001", 17, nullptr, true},
    {"std_data/rpl/mysql-5.7.11-stm-temporal-round-binlog.000001", 8, nullptr, true},
    {"std_data/rpl/mysql-8.0.13-stm-temporal-round-binlog.000001", 13, nullptr, true},
    {"std_data/trunc_binlog.000001", 3, nullptr, true},                       // MySQL 4.0.23, v3
    {"suite/binlog/std_data/binlog_old_version_4_1.000001", 12, nullptr, true},  // MySQL 4.1.24, v3
    {"suite/binlog/std_data/bug32407.001", 7, nullptr, true},
    {"suite/binlog/std_data/update-full-row.binlog", 10, nullptr, true},
    {"suite/binlog/std_data/update-partial-row.binlog", 10, nullptr, true},
    {"suite/binlog/std_data/ver_5_1-telco.001", 24, nullptr, true},
    {"suite/binlog/std_data/ver_5_1_17.001", 24, nullptr, true},
    {"suite/binlog/std_data/ver_5_1_23.001", 24, nullptr, true},
    {"suite/binlog/std_data/ver_trunk_row_v2.001", 40, nullptr, true},
    {"suite/binlog/std_data/write-full-row.binlog", 9, nullptr, true},
    {"suite/binlog/std_data/write-partial-row.binlog", 10, nullptr, true},
    // Broken where mariadb-binlog stops too.
    {"std_data/binlog_before_20574.bin", 2, "encrypted from here on", true},
    {"std_data/bug11747416_32228_binlog.000001", 4, "truncated event at byte offset 316", true},
    {"std_data/mdev-39404-binlog.000001", 1, "checksum mismatch in event at byte offset 256", true},
    // Read past where mariadb-binlog gives up: an INCIDENT event it finds too
    // short, MySQL 8.0's TRANSACTION_PAYLOAD, and a ROWS v2 event whose extra
    // row info carries a tag it does not know (its declared length is skipped).
    {"std_data/bug40482-bin.000001", 3, nullptr, false},
    {"std_data/mdev35643_mysql_80_binlog.000001", 40, nullptr, false},
    {"suite/binlog/std_data/invalid_row_v2_tag.001", 4, nullptr, false},
};

// The events `mariadb-binlog FILE` prints ("# at N" lines); -1 if it cannot run.
int MariadbBinlogEvents(const std::string& path) {
  const std::string cmd = "mariadb-binlog '" + path + "' 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  int n = 0;
  char line[4096];
  while (std::fgets(line, sizeof line, p) != nullptr) n += std::string_view(line).starts_with("# at ");
  ::pclose(p);
  return n;
}

TEST(MariadbTestData, EveryBinlogDecodesToItsEndOrStopsWhereItIsBroken) {
  ASSERT_TRUE(std::filesystem::is_directory(TIDEWATCH_MARIADB_TEST_DATA))
      << TIDEWATCH_MARIADB_TEST_DATA << " is missing: install Debian's mariadb-test-data (tools/install-deps.sh)";
  for (const Expected& x : kFiles) {
    SCOPED_TRACE(x.file);
    const std::string path = TestData(x.file);
    ASSERT_TRUE(std::filesystem::exists(path));
    auto r = Dump({path});
    size_t top = 0, undecoded = 0;
    uint64_t expect = 4;
    for (const auto& e : r.events) {
      undecoded += e.contains("undecoded");
      if (e.contains("inner")) continue;
      ++top;
      EXPECT_EQ(e["pos"].get<uint64_t>(), expect) << e.dump();  // contiguous
      expect = e["next_pos"].get<uint64_t>();
    }
    EXPECT_EQ(top, x.events);
    EXPECT_EQ(undecoded, 0u);
    if (x.error == nullptr) {
      EXPECT_EQ(r.rc, 0) << r.error;
      EXPECT_EQ(expect, std::filesystem::file_size(path));
    } else {
      EXPECT_EQ(r.rc, 1);
      EXPECT_NE(r.error.find(x.error), std::string::npos) << r.error;
      EXPECT_NE(r.error.find(x.file), std::string::npos) << r.error;
    }
    if (x.as_mariadb_binlog) {
      EXPECT_EQ(MariadbBinlogEvents(path), static_cast<int>(top));
    } else {
      EXPECT_LT(MariadbBinlogEvents(path), static_cast<int>(top));
    }
  }
}

// MySQL 4.x wrote binlog v3: a START_EVENT_V3 and no lengths declared; its
// QUERY events have an 11-byte post-header without status variables.
TEST(MariadbTestData, BinlogV3OfMySql4IsReadWithTheLayoutItsStartEventImplies) {
  auto r = Dump({TestData("suite/binlog/std_data/binlog_old_version_4_1.000001")});
  ASSERT_EQ(r.rc, 0) << r.error;
  ASSERT_FALSE(r.events.empty());
  const auto& start = r.events[0];
  EXPECT_EQ(start["type_name"], "START_EVENT_V3");
  EXPECT_EQ(start["binlog_version"], 3);
  EXPECT_EQ(start["server_version"], "4.1.24-debug-log");
  EXPECT_EQ(start["checksum"], "NONE");
  ASSERT_EQ(r.events[1]["type_name"], "QUERY_EVENT");
  EXPECT_EQ(r.events[1]["db"], "test");
  EXPECT_EQ(r.events[1]["query"], "CREATE TABLE t1 (a int, b char(50)) ENGINE = MyISAM");
  EXPECT_EQ(r.TypeNames(), (std::vector<std::string>{
                               "START_EVENT_V3", "QUERY_EVENT", "QUERY_EVENT", "USER_VAR_EVENT", "QUERY_EVENT",
                               "RAND_EVENT", "QUERY_EVENT", "INTVAR_EVENT", "QUERY_EVENT", "CREATE_FILE_EVENT",
                               "APPEND_BLOCK_EVENT", "EXEC_LOAD_EVENT"}));
  EXPECT_EQ(r.events[4]["query"], "INSERT INTO t1 VALUES (@x, 'four')");

  // 4.0.0 and 4.0.1 wrote v2, which mysqlbinlog reads as v3.
  auto v2 = Dump({TestData("std_data/master-bin.000001")});
  ASSERT_EQ(v2.rc, 0) << v2.error;
  EXPECT_EQ(v2.events[0]["binlog_version"], 2);
  EXPECT_EQ(v2.events[0]["server_version"], "4.0.0-debug-log");
  EXPECT_EQ(v2.events[1]["type_name"], "STOP_EVENT");

  auto v40 = Dump({TestData("std_data/trunc_binlog.000001")});
  ASSERT_EQ(v40.rc, 0) << v40.error;
  EXPECT_EQ(v40.events[0]["server_version"], "4.0.23-debug-log");
  EXPECT_EQ(v40.events[2]["query"], "insert t1 values (1)");
}

// The 5.1 trees before 5.1.18 wrote the pre-GA row events (types 20–22) and
// table maps without metadata; 5.1.23 the GA ones. Same statements, same
// tables: the pre-GA events are delivered with their table, their images not
// walkable without the metadata the maps lack.
TEST(MariadbTestData, PreGaRowEventsOfTheMySql51TreesAreDeliveredWithTheirTables) {
  for (const char* name : {"ver_5_1_17.001", "ver_5_1-telco.001"}) {
    SCOPED_TRACE(name);
    auto r = Dump({TestData(std::string("suite/binlog/std_data/") + name)});
    ASSERT_EQ(r.rc, 0) << r.error;
    EXPECT_EQ(r.Count("PRE_GA_WRITE_ROWS_EVENT"), 1u);
    EXPECT_EQ(r.Count("PRE_GA_UPDATE_ROWS_EVENT"), 1u);
    EXPECT_EQ(r.Count("PRE_GA_DELETE_ROWS_EVENT"), 1u);
    for (const auto& e : r.events) {
      const std::string type = e["type_name"];
      if (type.starts_with("PRE_GA_")) {
        EXPECT_EQ(e["table"]["name"], "t1") << e.dump();
        EXPECT_EQ(e["images_walked"], false) << e.dump();
        EXPECT_EQ(e["stmt_end"], true) << e.dump();
      }
      if (type == "TABLE_MAP_EVENT") EXPECT_EQ(e["no_metadata"], true) << e.dump();
    }
  }
  auto ga = Dump({TestData("suite/binlog/std_data/ver_5_1_23.001")});
  ASSERT_EQ(ga.rc, 0) << ga.error;
  std::vector<int> rows;
  for (const auto& e : ga.events) {
    if (e.contains("rows")) rows.push_back(e["rows"]);
  }
  EXPECT_EQ(rows, (std::vector<int>{2, 2, 1}));
}

}  // namespace
}  // namespace tidewatch::testing
