// The optional metadata of TABLE_MAP_EVENT, decoded in full: signedness,
// default and per-column collations, names, ENUM/SET strings, geometry
// types, simple and prefixed primary keys, visibility — each field applied
// to the columns its server counts (binlog/table_map_metadata.h).
#include <cstring>
#include <functional>

#include <gtest/gtest.h>

#include "binlog/event_decoder.h"
#include "binlog/file_reader.h"
#include "tests/binlog/event_builder.h"
#include "tests/binlog/dump_helper.h"

namespace tidewatch::testing {
namespace {

using namespace tidewatch::binlog;

// id, signed INT, INT UNSIGNED, VARCHAR(100) utf8mb4, CHAR(10) latin1,
// ENUM('a','b'), SET('x','y','z'), POINT, VARBINARY-like BLOB.
Bytes MapWithoutOptionalMetadata() {
  Bytes t;
  t.u48(31).u16(1).u8(2).str("db").u8(0).u8(5).str("items").u8(0).packed(8);
  t.u8(kTypeLong).u8(kTypeLong).u8(kTypeVarchar).u8(kTypeString).u8(kTypeString).u8(kTypeString);
  t.u8(kTypeGeometry).u8(kTypeBlob);
  Bytes meta;
  meta.u16(400).u8(0xfe).u8(10).u8(0xf7).u8(1).u8(0xf8).u8(1).u8(4).u8(2);
  t.packed(meta.size()).raw(meta.vec()).u8(0xff);
  return t;
}

Bytes Field(uint8_t type, const Bytes& value) {
  Bytes f;
  f.u8(type).packed(value.size()).raw(value.vec());
  return f;
}

Bytes Names() {
  Bytes n;
  for (const char* name : {"a", "u", "v", "c", "e", "s", "g", "b"}) n.packed(std::strlen(name)).str(name);
  return n;
}

Bytes FullMetadata() {
  Bytes m;
  m.raw(Field(TableMapBody::kSignedness, Bytes().u8(0x40)).vec());
  m.raw(Field(TableMapBody::kDefaultCharset, Bytes().packed(255).packed(1).packed(8).packed(2).packed(63)).vec());
  m.raw(Field(TableMapBody::kColumnName, Names()).vec());
  m.raw(Field(TableMapBody::kSetStrValue, Bytes().packed(3).packed(1).str("x").packed(1).str("y").packed(1).str("z")).vec());
  m.raw(Field(TableMapBody::kEnumStrValue, Bytes().packed(2).packed(1).str("a").packed(1).str("b")).vec());
  m.raw(Field(TableMapBody::kGeometryType, Bytes().packed(1)).vec());
  m.raw(Field(TableMapBody::kSimplePrimaryKey, Bytes().packed(0)).vec());
  m.raw(Field(TableMapBody::kEnumAndSetDefaultCharset, Bytes().packed(8)).vec());
  m.raw(Field(TableMapBody::kColumnVisibility, Bytes().u8(0xfe)).vec());
  m.raw(Field(99, Bytes().u16(7)).vec());  // a field of a later server: skipped
  return m;
}

// A row of every column, for the WRITE_ROWS after the map.
Bytes Row() {
  Bytes r;
  r.u8(0).u32(1).u32(2).u16(2).str("hi").u8(3).str("abc").u8(1).u8(5).u32(1).u8(0).u16(0);
  return r;
}

// Decodes the table map (event 1) and the rows event after it (event 2).
void DecodeMapAndRows(bool mariadb, const Bytes& optional, const std::function<void(const Event& map)>& check,
                      uint64_t expect_rows = 1) {
  auto fd = mariadb ? FormatDescriptionBody(true) : FormatDescriptionBody("8.4.3", MySql84PostHeaderLengths(), true, true);
  FileBuilder f(true, fd);
  f.Add(kTableMapEvent, MapWithoutOptionalMetadata().raw(optional.vec()).vec());
  f.Add(kWriteRowsEvent, Bytes().u48(31).u16(1).u16(2).packed(8).u8(0xff).raw(Row().vec()).vec());
  BinlogFileReader reader;
  ASSERT_TRUE(reader.OpenBuffer(f.data(), "metadata").ok());
  EventDecoder decoder;
  RawEvent raw;
  Event e;
  int n = 0;
  while (reader.Next(&raw).ok()) {
    ASSERT_TRUE(decoder.Decode(raw, reader.format(), &e).ok());
    if (++n == 2) check(e);
    if (n == 3) {
      // The rows are walked even when the map's optional part was not readable.
      ASSERT_TRUE(std::holds_alternative<RowsBody>(e.body)) << std::get<UndecodedBody>(e.body).reason;
      EXPECT_EQ(std::get<RowsBody>(e.body).rows, expect_rows);
    }
  }
  EXPECT_EQ(n, 3);
}

const TableMapBody& Map(const Event& e) {
  EXPECT_TRUE(std::holds_alternative<TableMapBody>(e.body))
      << (std::holds_alternative<UndecodedBody>(e.body) ? std::get<UndecodedBody>(e.body).reason : "");
  static const TableMapBody kEmpty;
  return std::holds_alternative<TableMapBody>(e.body) ? std::get<TableMapBody>(e.body) : kEmpty;
}

TEST(TableMapMetadata, EveryFieldOfAMySqlMap) {
  DecodeMapAndRows(false, FullMetadata(), [](const Event& e) {
    const auto& m = Map(e);
    ASSERT_EQ(m.columns.size(), 8u);
    EXPECT_TRUE(m.Has(TableMapBody::kSignedness));
    EXPECT_FALSE(m.Has(TableMapBody::kColumnCharset));
    EXPECT_FALSE(m.columns[0].is_unsigned);
    EXPECT_TRUE(m.columns[1].is_unsigned);
    EXPECT_EQ(m.columns[2].collation, 255u);  // the default
    EXPECT_EQ(m.columns[3].collation, 8u);    // character column 1
    EXPECT_EQ(m.columns[7].collation, 63u);   // character column 2: MySQL does not count the POINT
    EXPECT_EQ(m.columns[6].collation, 0u);
    EXPECT_EQ(m.columns[4].collation, 8u);  // ENUM and SET: their own default
    EXPECT_EQ(m.columns[5].collation, 8u);
    EXPECT_EQ(m.columns[4].type, kTypeEnum);
    EXPECT_EQ(m.columns[5].type, kTypeSet);
    ASSERT_EQ(m.columns[4].values.size(), 2u);
    EXPECT_EQ(m.columns[4].values[1], "b");
    ASSERT_EQ(m.columns[5].values.size(), 3u);
    EXPECT_EQ(m.columns[5].values[2], "z");
    EXPECT_EQ(m.columns[6].geometry_type, 1u);
    EXPECT_TRUE(m.columns[6].visible);
    EXPECT_FALSE(m.columns[7].visible);
    EXPECT_EQ(m.columns[7].name, "b");
    ASSERT_EQ(m.column_names.size(), 8u);
    EXPECT_EQ(m.column_names[3], "c");
    ASSERT_EQ(m.primary_key.size(), 1u);
    EXPECT_EQ(m.primary_key[0].column, 0u);
    EXPECT_EQ(m.primary_key[0].prefix, 0u);
  });
}

TEST(TableMapMetadata, MariaDbCountsGeometryAmongTheCharacterColumns) {
  Bytes m;
  m.raw(Field(TableMapBody::kColumnCharset, Bytes().packed(33).packed(8).packed(63).packed(63)).vec());
  m.raw(Field(TableMapBody::kPrimaryKeyWithPrefix, Bytes().packed(3).packed(4).packed(0).packed(0)).vec());
  DecodeMapAndRows(true, m, [](const Event& e) {
    const auto& t = Map(e);
    ASSERT_EQ(t.columns.size(), 8u);
    EXPECT_EQ(t.columns[2].collation, 33u);
    EXPECT_EQ(t.columns[3].collation, 8u);
    EXPECT_EQ(t.columns[6].collation, 63u);
    EXPECT_EQ(t.columns[7].collation, 63u);
    ASSERT_EQ(t.primary_key.size(), 2u);
    EXPECT_EQ(t.primary_key[0].column, 3u);
    EXPECT_EQ(t.primary_key[0].prefix, 4u);
  });
  // The same four collations are one too many for MySQL's three.
  DecodeMapAndRows(false, m, [](const Event& e) {
    ASSERT_TRUE(std::holds_alternative<UndecodedBody>(e.body));
    EXPECT_NE(std::get<UndecodedBody>(e.body).reason.find("more entries than columns"), std::string::npos);
  });
}

TEST(TableMapMetadata, MalformedFieldsLeaveTheMapUndecodedAndTheRowsWalked) {
  const std::vector<std::pair<const char*, Bytes>> cases = {
      {"fewer bits than columns", Field(TableMapBody::kSignedness, Bytes())},
      {"2 bytes for 2 columns", Field(TableMapBody::kSignedness, Bytes().u8(0).u8(0))},
      {"fewer entries than columns", Field(TableMapBody::kColumnName, Bytes().packed(1).str("a"))},
      {"collation for column 5 of 3", Field(TableMapBody::kDefaultCharset, Bytes().packed(8).packed(5).packed(8))},
      {"key column 8 of 8", Field(TableMapBody::kSimplePrimaryKey, Bytes().packed(8))},
      {"appears twice", Bytes().raw(Field(TableMapBody::kGeometryType, Bytes().packed(1)).vec())
                            .raw(Field(TableMapBody::kGeometryType, Bytes().packed(1)).vec())},
      {"runs past the event", Bytes().u8(TableMapBody::kColumnName).packed(200).str("abc")},
      {"an entry runs past the field", Field(TableMapBody::kEnumStrValue, Bytes().packed(1).packed(9).str("a"))},
  };
  for (const auto& [what, field] : cases) {
    DecodeMapAndRows(false, field, [&](const Event& e) {
      ASSERT_TRUE(std::holds_alternative<UndecodedBody>(e.body)) << what;
      EXPECT_NE(std::get<UndecodedBody>(e.body).reason.find(what), std::string::npos)
          << what << ": " << std::get<UndecodedBody>(e.body).reason;
    });
  }
}

TEST(TableMapMetadata, ShownInBinlogDump) {
  FileBuilder f(true, FormatDescriptionBody("8.4.3", MySql84PostHeaderLengths(), true, true));
  f.Add(kTableMapEvent, MapWithoutOptionalMetadata().raw(FullMetadata().vec()).vec());
  const std::string path = ::testing::TempDir() + "/table_map_metadata.bin";
  auto r = Dump({f.Write(path)});
  ASSERT_EQ(r.rc, 0) << r.error;
  const auto& m = r.events[1];
  EXPECT_EQ(m["column_names"][4], "e");
  EXPECT_EQ(m["column_metadata"][1]["unsigned"], true);
  EXPECT_EQ(m["column_metadata"][3]["collation"], 8);
  EXPECT_EQ(m["column_metadata"][5]["values"], nlohmann::json::parse(R"(["x","y","z"])"));
  EXPECT_EQ(m["column_metadata"][6]["geometry_type"], 1);
  EXPECT_EQ(m["column_metadata"][7]["visible"], false);
  EXPECT_FALSE(m["column_metadata"][0].contains("visible"));
  EXPECT_EQ(m["primary_key"], nlohmann::json::parse(R"([{"column":0,"prefix":0}])"));
}

}  // namespace
}  // namespace tidewatch::testing
