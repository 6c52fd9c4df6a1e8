// Row values materialised from real events (binlog/row_values.h): the values
// of the reference binlogs, as mariadb-binlog -vv prints them for the same
// files, and a DECIMAL's packed form from strings/decimal.c.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "binlog/event_decoder.h"
#include "binlog/file_reader.h"
#include "binlog/row_values.h"
#include "tests/binlog/event_builder.h"

namespace tidewatch::testing {
namespace {

using namespace tidewatch::binlog;
using K = ColumnValue::Kind;

// A value as text: integers and indexes in decimal, strings quoted, temporal
// values as MySQL prints them, timestamps as epoch seconds.
std::string Text(const ColumnValue& v) {
  char buf[64];
  switch (v.kind) {
    case K::kNull: return "NULL";
    case K::kInt: case K::kYear: return std::to_string(v.i);
    case K::kBit: case K::kEnum: case K::kSet: return std::to_string(v.u);
    case K::kFloat: std::snprintf(buf, sizeof buf, "%g", v.f); return buf;
    case K::kDouble: std::snprintf(buf, sizeof buf, "%g", v.d); return buf;
    case K::kDecimal: return DecimalToString(v);
    case K::kBytes: case K::kJson: case K::kJsonDiff:
      return "'" + std::string(reinterpret_cast<const char*>(v.bytes.data()), v.bytes.size()) + "'";
    case K::kTimestamp: return std::to_string(v.timestamp.seconds);
    case K::kDate:
      std::snprintf(buf, sizeof buf, "%04u-%02u-%02u", v.temporal.year, v.temporal.month, v.temporal.day);
      return buf;
    case K::kTime:
      std::snprintf(buf, sizeof buf, "%s%02u:%02u:%02u", v.temporal.negative ? "-" : "", v.temporal.hour,
                    v.temporal.minute, v.temporal.second);
      return buf;
    case K::kDatetime:
      std::snprintf(buf, sizeof buf, "%04u-%02u-%02u %02u:%02u:%02u", v.temporal.year, v.temporal.month,
                    v.temporal.day, v.temporal.hour, v.temporal.minute, v.temporal.second);
      return buf;
  }
  return "?";
}

struct Image {
  std::string table;
  std::vector<std::string> values;
  std::vector<K> kinds;
};

bool operator==(const Image& a, const Image& b) {
  return a.table == b.table && a.values == b.values && a.kinds == b.kinds;
}

// Every image of every rows event `reader` walks to, with its event, given
// to `image`; each event, with the value reader once its images are read, to
// `ended`. With `walk` the decoder walks the images first.
using ImageFn = std::function<void(const RowsBody&, std::span<const ColumnValue>)>;
using EndFn = std::function<void(const RowsBody&, const RowValueReader&)>;
void ReadImages(BinlogFileReader& reader, bool walk, const ImageFn& image, const EndFn& ended) {
  EventDecoder decoder;
  decoder.set_walk_row_images(walk);
  Event event;
  RawEvent raw;
  RowValueReader values;
  while (reader.Next(&raw).ok()) {
    ASSERT_TRUE(decoder.Decode(raw, reader.format(), &event).ok());
    const auto* rows = std::get_if<RowsBody>(&event.body);
    if (rows == nullptr) continue;
    ASSERT_TRUE(values.Reset(*rows).ok()) << reader.path() << " at " << event.pos;
    std::span<const ColumnValue> values_of_image;
    while (values.Next(&values_of_image)) image(*rows, values_of_image);
    ended(*rows, values);
  }
}

// The same for the binlog built in `data`.
void ReadImages(const std::vector<uint8_t>& data, bool walk, const ImageFn& image, const EndFn& ended) {
  BinlogFileReader reader;
  ASSERT_TRUE(reader.OpenBuffer(data, "built").ok());
  ReadImages(reader, walk, image, ended);
}

// Every image of every row event of a file, in order; with `walk`, the
// decoder walks the images first and the reader must read as many.
std::vector<Image> ImagesOf(const std::string& path, bool walk) {
  std::vector<Image> out;
  BinlogFileReader reader;
  EXPECT_TRUE(reader.Open(path).ok()) << path;
  ReadImages(
      reader, walk,
      [&](const RowsBody& rows, std::span<const ColumnValue> image) {
        Image& im = out.emplace_back();
        im.table = std::string(rows.db) + "." + std::string(rows.table);
        for (const ColumnValue& v : image) {
          im.values.push_back(Text(v));
          im.kinds.push_back(v.kind);
        }
      },
      [&](const RowsBody& rows, const RowValueReader& values) {
        EXPECT_TRUE(values.status().ok()) << values.status().ToString();
        if (walk) {
          EXPECT_EQ(values.images(), rows.images);
        } else {
          EXPECT_FALSE(rows.images_walked);
        }
      });
  return out;
}

// The same values whether or not the decoder walked the images first.
std::vector<Image> Images(const std::string& path) {
  auto walked = ImagesOf(path, true);
  EXPECT_EQ(ImagesOf(path, false), walked) << path;
  return walked;
}

std::string Fixture(const std::string& name) { return std::string(TIDEWATCH_FIXTURES) + "/" + name; }

using Values = std::vector<std::string>;

TEST(RowValues, MariaDbIntVarcharEnumTextTimestamp) {
  auto images = Images(Fixture("mariadb-bin.000001"));
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].table, "toddy_test.outbox");
  EXPECT_EQ(images[0].values, (Values{"62", "'foo'", "2", "'{\"foo\":1}'", "1650493084"}));
  EXPECT_EQ(images[1].values, (Values{"63", "'foo'", "2", "'{\"foo\":1}'", "1650493195"}));
  EXPECT_EQ(images[0].kinds, (std::vector<K>{K::kInt, K::kBytes, K::kEnum, K::kBytes, K::kTimestamp}));
}

TEST(RowValues, MySqlCharVarcharEnumSetTextInWriteUpdateDelete) {
  auto images = Images(Fixture("mysql-enum-string-set.000001"));
  ASSERT_EQ(images.size(), 4u);  // insert, update before and after, delete
  std::string digits;
  for (int i = 0; i < 10; ++i) digits += "0123456789";
  EXPECT_EQ(images[0].values[0], "'" + digits + "'");
  EXPECT_EQ(images[0].values[2], "1");
  EXPECT_EQ(images[0].values[3], "5");  // b'00000101': 'one' and 'three'
  EXPECT_EQ(images[0].values[4], "'0123456789'");
  EXPECT_EQ(images[0].kinds, (std::vector<K>{K::kBytes, K::kBytes, K::kEnum, K::kSet, K::kBytes}));
  EXPECT_EQ(images[1].values, images[0].values);
  EXPECT_EQ((Values{images[2].values.begin(), images[2].values.begin() + 4}),
            (Values{"'field1'", "'field_2'", "2", "10"}));
  EXPECT_EQ(images[3].values, images[2].values);
}

TEST(RowValues, MySqlBit) {
  auto images = Images(Fixture("mysql_type_bit.000001"));
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].values, (Values{"4", "'foo'", "32"}));  // b'100', b'00100000'
  EXPECT_EQ(images[0].kinds[0], K::kBit);
}

TEST(RowValues, MySqlNegativeTime2) {
  auto images = Images(Fixture("time_issue.000001"));
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].values, (Values{"-507:48:27"}));
}

TEST(RowValues, MySqlDatetime2AndChar) {
  auto images = Images(Fixture("mysql-bin.checksum-none"));
  ASSERT_FALSE(images.empty());
  EXPECT_EQ(images[0].table, "account_db.account");
  EXPECT_EQ((Values{images[0].values.begin(), images[0].values.begin() + 5}),
            (Values{"'42b0a771-9345-4b19-b503-d51b5fff30ef'", "2018-10-30 18:02:09", "2018-10-30 18:02:09",
                    "'086'", "'zh-cn'"}));
  EXPECT_EQ(images[0].kinds[1], K::kDatetime);
}

TEST(RowValues, MySqlDecimalDoubleLongTimestampUtf8) {
  auto images = Images(Fixture("mysql-bin.checksum-crc32"));
  const Image* fund = nullptr;
  const Image* file = nullptr;
  for (const Image& im : images) {
    if (fund == nullptr && im.table == "menkor_dev.fund_account") fund = &im;
    if (file == nullptr && im.table == "simu_file_dev.file") file = &im;
  }
  ASSERT_NE(fund, nullptr);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(fund->values, (Values{"13500014", "0.00", "13500110", "13100009", "13600306", "0", "''", "'CNY'",
                                  "'yan闫庆庆'", "0", "1525434153", "1525434153", "0.00", "2", "0", "13500013"}));
  EXPECT_EQ(fund->kinds[1], K::kDecimal);
  EXPECT_EQ(file->values[0], "12600330");
  EXPECT_EQ(file->values[1], "'Balance(magazine)-04-2.3.001-bigpicture_04_2.jpg'");
  EXPECT_EQ(file->values[8], "449847");
  EXPECT_EQ(file->kinds[8], K::kDouble);
}

// DECIMAL(14,4) 1234567890.1234 and its negation, packed as strings/decimal.c
// documents them (decimal2bin's comment), in a synthetic write event.
TEST(RowValues, DecimalFromItsPackedForm) {
  FileBuilder f(true);
  Bytes map;
  map.u48(7).u16(1).u8(1).str("d").u8(0).u8(1).str("t").u8(0).packed(2);
  map.u8(kTypeNewDecimal).u8(kTypeNewDecimal);
  map.packed(4).u8(14).u8(4).u8(14).u8(4).u8(0x03);
  f.Add(kTableMapEvent, map.vec());
  Bytes rows;
  rows.u48(7).u16(1).u16(2).packed(2).u8(0x03).u8(0x00);
  rows.raw({0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2});
  rows.raw({0x7E, 0xF2, 0x04, 0xC7, 0x2D, 0xFB, 0x2D});
  f.Add(kWriteRowsEvent, rows.vec());
  int images = 0;
  ReadImages(
      f.data(), true,
      [&](const RowsBody&, std::span<const ColumnValue> image) {
        ++images;
        ASSERT_EQ(image.size(), 2u);
        EXPECT_EQ(DecimalToString(image[0]), "1234567890.1234");
        EXPECT_TRUE(image[0].decimal.fits_int64);
        EXPECT_EQ(image[0].decimal.unscaled, 12345678901234);
        EXPECT_EQ(image[0].decimal.scale, 4);
        EXPECT_EQ(DecimalToString(image[1]), "-1234567890.1234");
        EXPECT_EQ(image[1].decimal.unscaled, -12345678901234);
      },
      [](const RowsBody&, const RowValueReader& values) {
        EXPECT_TRUE(values.status().ok()) << values.status().ToString();
      });
  EXPECT_EQ(images, 1);
}

// Table id 7 announced as (INT, VARCHAR(32)), then again — the server
// reuses an id after FLUSH TABLES or an ALTER — as (BIGINT, INT): the values
// of the same columns-present bitmap are read with the columns of the map in
// force. An image cut short names its column.
TEST(RowValues, ATableIdAnnouncedAgainIsReadWithItsNewColumns) {
  FileBuilder f(true);
  auto map = [&](std::initializer_list<uint8_t> types, std::initializer_list<uint8_t> meta) {
    Bytes m;
    m.u48(7).u16(1).u8(1).str("d").u8(0).u8(1).str("t").u8(0).packed(types.size());
    for (uint8_t t : types) m.u8(t);
    m.packed(meta.size());
    for (uint8_t b : meta) m.u8(b);
    m.u8(0x03);
    f.Add(kTableMapEvent, m.vec());
  };
  auto write = [&](std::initializer_list<uint8_t> images) {
    Bytes r;
    r.u48(7).u16(1).u16(2).packed(2).u8(0x03);
    r.raw(images);
    f.Add(kWriteRowsEvent, r.vec());
  };
  map({kTypeLong, kTypeVarchar}, {32, 0});
  write({0x00, 5, 0, 0, 0, 2, 'a', 'b',  // (5, 'ab')
         0x02, 0xff, 0xff, 0xff, 0xff});  // (-1, NULL)
  map({kTypeLongLong, kTypeLong}, {});
  write({0x00, 7, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0});  // (7, 9)
  map({kTypeLongLong, kTypeLong}, {});
  write({0x00, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0});  // (1, …) cut short
  std::vector<std::vector<std::string>> seen;
  std::vector<std::string> errors;
  // Not walked by the decoder: the reader alone meets the short image.
  ReadImages(
      f.data(), false,
      [&](const RowsBody&, std::span<const ColumnValue> image) {
        auto& row = seen.emplace_back();
        for (const ColumnValue& v : image) {
          row.push_back(Text(v) + (v.kind == K::kInt ? " in " + std::to_string(v.width) + " bytes" : ""));
        }
      },
      [&](const RowsBody&, const RowValueReader& values) { errors.push_back(values.status().ToString()); });
  using Rows = std::vector<std::vector<std::string>>;
  EXPECT_EQ(seen, (Rows{{"5 in 4 bytes", "'ab'"}, {"-1 in 4 bytes", "NULL"}, {"7 in 8 bytes", "9 in 4 bytes"}}));
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0], "OK");
  EXPECT_EQ(errors[1], "OK");
  EXPECT_NE(errors[2].find("row image 0"), std::string::npos) << errors[2];
  EXPECT_NE(errors[2].find("column 1 (type 3"), std::string::npos) << errors[2];
}

TEST(RowValues, AnEventWhoseImagesCannotBeWalkedIsRefused) {
  RowsBody rows;
  RowValueReader values;
  EXPECT_FALSE(values.Reset(rows).ok());
  std::span<const ColumnValue> image;
  EXPECT_FALSE(values.Next(&image));
}

}  // namespace
}  // namespace tidewatch::testing
