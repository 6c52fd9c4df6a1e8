// Every reference binlog from real MySQL servers decodes to its end (or fails
// where it is truly broken, with the file and offset), with the facts each file
// is known to hold.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "tests/binlog/dump_helper.h"

namespace tidewatch::testing {
namespace {

std::string Fixture(const std::string& name) { return std::string(TIDEWATCH_FIXTURES) + "/" + name; }

// Positions are contiguous: each top-level event starts where the previous ended.
void ExpectContiguous(const DumpResult& r) {
  uint64_t expect = 4;
  for (const auto& e : r.events) {
    if (e.contains("inner")) continue;
    EXPECT_EQ(e["pos"].get<uint64_t>(), expect) << e.dump();
    expect = e["next_pos"].get<uint64_t>();
  }
}

TEST(Fixtures, EveryFileDecodesToItsEnd) {
  const std::set<std::string> broken = {"binlog_truncated_event.000001"};
  // The bodies decoding cannot read: the overwritten event of the damaged
  // relay log, and a type no server defines.
  const std::set<std::string> with_undecoded = {"corrupt-relay-bin.000624", "mysql-bin.aurora-padding"};
  int decoded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TIDEWATCH_FIXTURES)) {
    const std::string name = entry.path().filename();
    if (name == "README.md" || broken.count(name)) continue;
    auto r = Dump({entry.path()});
    EXPECT_EQ(r.rc, 0) << name << ": " << r.error;
    EXPECT_GT(r.events.size(), 1u) << name;
    EXPECT_EQ(r.events.front()["type_name"], "FORMAT_DESCRIPTION_EVENT") << name;
    ExpectContiguous(r);
    EXPECT_EQ(r.events.back()["next_pos"].get<uint64_t>(), std::filesystem::file_size(entry.path()))
        << name;
    size_t undecoded = 0;
    for (const auto& e : r.events) undecoded += e.contains("undecoded");
    EXPECT_EQ(undecoded, with_undecoded.count(name)) << name;
    ++decoded;
  }
  EXPECT_EQ(decoded, 22);
}

TEST(Fixtures, TruncatedFileFailsWithFileAndOffset) {
  auto r = Dump({Fixture("binlog_truncated_event.000001")});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(r.events.empty());
  EXPECT_NE(r.error.find("binlog_truncated_event.000001"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("byte offset 4"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("truncated"), std::string::npos) << r.error;
}

TEST(Fixtures, CorruptRelayLogDeliversTheOverwrittenEventUndecoded) {
  // The event at 91204 was overwritten: its header still chains to the next
  // one, and a 5.0 log has no checksums, so only its body betrays it.
  auto r = Dump({Fixture("corrupt-relay-bin.000624")});
  EXPECT_EQ(r.rc, 0) << r.error;
  ASSERT_EQ(r.events.size(), 874u);
  const auto& bad = r.events[872];
  EXPECT_EQ(bad["pos"], 91204);
  EXPECT_EQ(bad["type_name"], "QUERY_EVENT");
  EXPECT_EQ(bad["size"], 171);
  EXPECT_NE(bad["undecoded"].get<std::string>().find("run past the event"), std::string::npos) << bad.dump();
  EXPECT_EQ(r.events[873]["type_name"], "ROTATE_EVENT");
  EXPECT_EQ(r.events[873]["pos"], 91375);
  // Two FORMAT_DESCRIPTION events: the relay log's own and the master's.
  EXPECT_EQ(r.Count("FORMAT_DESCRIPTION_EVENT"), 2u);
  EXPECT_EQ(r.events[2]["server_version"], "5.0.30-enterprise-gpl-log");
}

TEST(Fixtures, MySql8TransactionPayloadIsDecompressedAndItsEventsDecoded) {
  auto r = Dump({Fixture("mysql-bin.compressed")});
  ASSERT_EQ(r.rc, 0) << r.error;
  ASSERT_EQ(r.Count("TRANSACTION_PAYLOAD_EVENT"), 1u);
  std::vector<std::string> inner;
  for (const auto& e : r.events) {
    if (e.contains("inner")) inner.push_back(e["type_name"]);
    if (e["type_name"] == "TRANSACTION_PAYLOAD_EVENT") {
      EXPECT_EQ(e["payload"]["compression"], "ZSTD");
      EXPECT_EQ(e["payload"]["uncompressed_size"], 960);
    }
  }
  EXPECT_EQ(inner, (std::vector<std::string>{"QUERY_EVENT", "TABLE_MAP_EVENT", "UPDATE_ROWS_EVENT",
                                             "XID_EVENT"}));
  for (const auto& e : r.events) {
    if (e["type_name"] == "UPDATE_ROWS_EVENT") {
      EXPECT_EQ(e["rows"], 1);
      EXPECT_EQ(e["table"]["name"], "movies");
    }
  }
}

TEST(Fixtures, MariaDbGtidsAnnotationsAndRows) {
  auto r = Dump({Fixture("mariadb-bin.000001")});
  ASSERT_EQ(r.rc, 0) << r.error;
  std::vector<std::string> gtids;
  for (const auto& e : r.events) {
    if (e["type_name"] == "GTID_EVENT") gtids.push_back(e["gtid"]);
  }
  EXPECT_EQ(gtids, (std::vector<std::string>{"0-1-1", "0-1-2"}));
  EXPECT_EQ(r.Count("ANNOTATE_ROWS_EVENT"), 2u);
  EXPECT_EQ(r.Count("BINLOG_CHECKPOINT_EVENT"), 1u);
  EXPECT_EQ(r.Count("GTID_LIST_EVENT"), 1u);
  for (const auto& e : r.events) {
    if (e["type_name"] == "WRITE_ROWS_EVENT_V1") {
      EXPECT_EQ(e["rows"], 1);
    }
    if (e["type_name"] == "TABLE_MAP_EVENT") {
      EXPECT_EQ(e["column_names"][3], "event");
    }
  }
}

TEST(Fixtures, MySqlGtidsAndPreviousGtids) {
  auto r = Dump({Fixture("binlog_transaction_with_GTID.000001")});
  ASSERT_EQ(r.rc, 0) << r.error;
  EXPECT_EQ(r.events[2]["gtid"], "006c2cf2-b1ea-11e4-9057-8c705a3d3e78:1");
  EXPECT_EQ(r.Count("GTID_LOG_EVENT"), 3u);
  EXPECT_EQ(r.events.back()["type_name"], "STOP_EVENT");

  auto p = Dump({Fixture("binlog_transaction_previous_GTID_no_tag.000001")});
  ASSERT_EQ(p.rc, 0) << p.error;
  EXPECT_EQ(p.events[1]["previous_gtids"], "b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2");

  auto a = Dump({Fixture("binlog_transaction_with_anonymous_GTID.000001")});
  ASSERT_EQ(a.rc, 0) << a.error;
  EXPECT_GT(a.Count("ANONYMOUS_GTID_LOG_EVENT"), 0u);
}

TEST(Fixtures, RowEventsOfEveryColumnKindAreWalked) {
  for (const char* name : {"json.binlog.000001", "mysql-enum-string-set.000001", "mysql_type_bit.000001",
                           "time_issue.000001", "ver_trunk_row_v2.001", "mysql-bin.checksum-crc32",
                           "minimal_row_metadata.000001", "binlog-invisible-columns.000001"}) {
    auto r = Dump({Fixture(name)});
    ASSERT_EQ(r.rc, 0) << name << ": " << r.error;
    uint64_t rows = 0;
    for (const auto& e : r.events) {
      if (e.contains("rows")) {
        EXPECT_FALSE(e["table"]["name"].get<std::string>().empty()) << name << ": " << e.dump();
        EXPECT_GT(e["images"].get<uint64_t>(), 0u) << name << ": " << e.dump();
        rows += e["rows"].get<uint64_t>();
      }
    }
    EXPECT_GT(rows, 0u) << name;
  }
}

TEST(Fixtures, PartialJsonUpdatesAreWalked) {
  auto r = Dump({Fixture("json.binlog.000001")});
  ASSERT_EQ(r.rc, 0) << r.error;
  EXPECT_GT(r.Count("PARTIAL_UPDATE_ROWS_EVENT"), 0u);
}

TEST(Fixtures, IncidentAndUnknownTypes) {
  auto i = Dump({Fixture("bug40482-bin.000001")});
  ASSERT_EQ(i.rc, 0) << i.error;
  ASSERT_EQ(i.Count("INCIDENT_EVENT"), 1u);
  for (const auto& e : i.events) {
    if (e["type_name"] == "INCIDENT_EVENT") {
      EXPECT_EQ(e["incident"]["type"], 66);  // bug#40482: an incident number no server defines
    }
  }
  auto u = Dump({Fixture("mysql-bin.aurora-padding")});
  ASSERT_EQ(u.rc, 0) << u.error;
  bool saw_100 = false;
  for (const auto& e : u.events) {
    if (e["type"] != 100) continue;
    saw_100 = e["type_name"] == "UNKNOWN" && e["undecoded"] == "event type 100 is not one MySQL or MariaDB defines";
    EXPECT_EQ(e["size"], 928);
  }
  EXPECT_TRUE(saw_100);
}

TEST(Fixtures, EnumSetStringsAndInvisibleColumns) {
  auto r = Dump({Fixture("mysql-enum-string-set.000001")});
  ASSERT_EQ(r.rc, 0) << r.error;
  bool saw_values = false;
  for (const auto& e : r.events) {
    if (e["type_name"] != "TABLE_MAP_EVENT" || !e.contains("column_metadata")) continue;
    for (const auto& c : e["column_metadata"]) saw_values |= c.contains("values") && !c["values"].empty();
  }
  EXPECT_TRUE(saw_values);
  auto v = Dump({Fixture("binlog-invisible-columns.000001")});
  ASSERT_EQ(v.rc, 0) << v.error;
  bool saw_invisible = false;
  for (const auto& e : v.events) {
    if (e["type_name"] != "TABLE_MAP_EVENT" || !e.contains("column_metadata")) continue;
    for (const auto& c : e["column_metadata"]) saw_invisible |= c.contains("visible") && c["visible"] == false;
  }
  EXPECT_TRUE(saw_invisible);
}

TEST(Fixtures, ChecksumNoneAndCrc32FilesBothDecode) {
  auto none = Dump({Fixture("mysql-bin.checksum-none")});
  auto crc = Dump({Fixture("mysql-bin.checksum-crc32")});
  ASSERT_EQ(none.rc, 0) << none.error;
  ASSERT_EQ(crc.rc, 0) << crc.error;
  EXPECT_EQ(none.events[0]["checksum"], "NONE");
  EXPECT_EQ(crc.events[0]["checksum"], "CRC32");
}

}  // namespace
}  // namespace tidewatch::testing
