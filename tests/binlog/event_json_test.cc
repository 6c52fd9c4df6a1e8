// The JSON lines of `binlog dump` and `binlog stream` are written by a
// streaming writer, and must stay byte for byte what the first releases
// printed through nlohmann::json: keys sorted at every level, nlohmann's
// escapes, bad UTF-8 replaced as its dump replaces it. Each check below holds
// a line against nlohmann's own serialization of the same values.
#include <filesystem>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/binlog_dump.h"
#include "server/event_json.h"
#include "base/json_writer.h"

namespace tidewatch::testing {
namespace {

using namespace tidewatch::binlog;
using nlohmann::json;

std::string NlohmannDump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string WriterString(std::string_view s) {
  std::string out;
  JsonWriter::AppendJsonString(&out, s);
  return out;
}

// The line is what nlohmann::json prints for the object the line holds.
void ExpectCanonical(const std::string& line, const std::string& where) {
  ASSERT_FALSE(line.empty()) << where;
  ASSERT_EQ(line.back(), '\n') << where;
  const std::string text = line.substr(0, line.size() - 1);
  json parsed;
  ASSERT_NO_THROW(parsed = json::parse(text)) << where << ": " << text;
  EXPECT_EQ(NlohmannDump(parsed), text) << where;
}

TEST(JsonWriter, StringsAreEscapedAsNlohmannEscapesThem) {
  std::vector<std::string> cases = {
      "", "plain", "quote \" backslash \\ slash /", "tab\tnewline\nreturn\rformfeed\fbackspace\b",
      "delete \x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3",  // 2-, 3- and 4-byte sequences
      "overlong \xc0\x80", "surrogate \xed\xa0\x80", "above U+10FFFF \xf4\x90\x80\x80",
      "lone continuation \x80 here", "truncated at the end \xe2\x82", "\xff\xfe", "\xe2\x28\xa1",
      "\xf0\x9f\x90", "valid then bad \xc3\xa9\xc3", std::string("nul \0 inside", 12)};
  for (int c = 0; c < 0x20; ++c) cases.push_back(std::string(1, static_cast<char>(c)));
  for (const auto& s : cases) EXPECT_EQ(WriterString(s), NlohmannDump(json(s))) << json(s).dump(-1, ' ', true, json::error_handler_t::replace);

  // Random byte strings, biased to the bytes that start and continue
  // multi-byte sequences.
  std::mt19937 rng(20261204);
  const uint8_t interesting[] = {0x00, 0x1f, '"', '\\', 'a', 0x7f, 0x80, 0xbf, 0xc2, 0xdf,
                                 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xa0, 0x9f, 0x90, 0x8f};
  for (int i = 0; i < 50000; ++i) {
    std::string s(rng() % 10, '\0');
    for (auto& ch : s) {
      ch = static_cast<char>(rng() % 2 ? interesting[rng() % sizeof interesting] : rng() % 256);
    }
    ASSERT_EQ(WriterString(s), NlohmannDump(json(s))) << "case " << i;
  }
}

TEST(JsonWriter, NestingAndNumbers) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Number(uint64_t{18446744073709551615u});
  w.Number(int32_t{-7});
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.Bool(false);
  w.EndArray();
  w.Key("b");
  w.Number(uint8_t{200});
  w.EndObject();
  EXPECT_EQ(out, R"({"a":[18446744073709551615,-7,{},[],false],"b":200})");
  EXPECT_EQ(out, NlohmannDump(json::parse(out)));
}

TEST(EventJson, EveryReferenceBinlogLineIsCanonical) {
  int files = 0;
  size_t lines = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TIDEWATCH_FIXTURES)) {
    if (entry.path().filename() == "README.md") continue;
    server::BinlogDumpOptions o;
    o.files = {entry.path()};
    std::ostringstream out, err;
    server::RunBinlogDump(o, out, err);
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) {
      ExpectCanonical(line + "\n", entry.path().filename().string() + " line " + std::to_string(++lines));
    }
    ++files;
  }
  EXPECT_GE(files, 20);
  EXPECT_GT(lines, 1000u);
}

// Every body with every optional field set: its keys merge with the header's
// in order, and the values print as nlohmann prints them.
TEST(EventJson, EveryBodyWithEveryFieldIsCanonical) {
  const std::string_view names[] = {"id", "c\"olour", "sh\xc3\xa4pe"};
  const std::string_view values[] = {"red", "gr\xff" "en"};
  const TableMapColumn columns[] = {
      {.type = 3, .name = "id", .is_unsigned = true},
      {.type = 247, .name = "c\"olour", .collation = 45, .visible = false, .values = values},
      {.type = 255, .name = "sh\xc3\xa4pe", .geometry_type = 4, .vector_dimensions = 3}};
  const PrimaryKeyPart key[] = {{0, 0}, {1, 4}};
  const uint8_t uservalue[] = {0x00, 0xab, 0xff};
  const MariaGtid list[] = {{0, 1, 10}, {4294967295u, 2, 18446744073709551615u}};
  const GtidInterval intervals[] = {{1, 6}, {9, 10}};
  const PreviousGtidsSid sids[] = {{Uuid{}, "", intervals}, {Uuid{}, "tag_1", intervals}};

  MariaGtidBody mgtid{.seq_no = 7, .domain_id = 1, .server_id = 2, .flags2 = 65, .has_commit_id = true,
                      .commit_id = 99, .has_xid = true, .xa_format_id = -1, .xa_gtrid = "g\tr",
                      .xa_bqual = "b"};
  MysqlGtidBody ygtid{.gno = 5, .tagged = true, .tag = "blue", .has_logical_clock = true, .last_committed = 3,
                      .sequence_number = 4, .has_commit_timestamps = true, .immediate_commit_timestamp = 11,
                      .original_commit_timestamp = 10, .has_transaction_length = true,
                      .transaction_length = 300};
  QueryBody query{.thread_id = 8, .error_code = 1062, .db = "d\\b", .query = "INSERT 'x\n'",
                  .compressed = true, .has_xid = true, .xid = 12, .file_id = 3};
  TableMapBody map{.table_id = 70, .db = "db", .table = "t", .column_count = 3, .has_metadata = false,
                   .column_names = names, .columns = columns, .primary_key = key};
  RowsBody rows{.compressed = true, .table_id = 70, .flags = 1, .db = "db", .table = "t",
                .images_walked = false, .rows = 2, .images = 4};
  FormatDescription fd;
  fd.checksum_alg = ChecksumAlg::kCrc32;

  const EventBody bodies[] = {
      EmptyBody{}, UndecodedBody{"a reason"}, fd, RotateBody{4, "bin.000002"}, query, XidBody{1},
      IntvarBody{2, 3}, RandBody{1, 2},
      UserVarBody{.name = "v", .value_type = 2, .charset = 33, .value = uservalue},
      UserVarBody{.name = "n", .is_null = true}, LoadFileBody{4, 8}, IncidentBody{1, "lost"},
      HeartbeatBody{"bin.000003", 77}, mgtid, MariaGtidListBody{0, list}, BinlogCheckpointBody{"bin.1"},
      RowsQueryBody{"UPDATE t"}, StartEncryptionBody{1, 2}, ygtid, MysqlGtidBody{},
      PreviousGtidsBody{1, sids}, TransactionContextBody{.server_uuid = "u", .write_set_count = 2},
      ViewChangeBody{"view", 3, 0}, XaPrepareBody{true, 1, "g", "b"},
      TransactionPayloadBody{0, 10, 20}, map, rows};
  server::EventJsonWriter writer;
  int i = 0;
  for (const auto& body : bodies) {
    for (bool inner : {false, true}) {
      Event e;
      e.pos = 1234;
      e.header = {.timestamp = 1700000000, .type = 30, .server_id = 9, .event_size = 55, .log_pos = 1289,
                  .flags = static_cast<uint16_t>(inner ? 0 : 0x40)};
      e.inner = inner;
      e.body = body;
      writer.Clear();
      writer.Append(i % 3 ? "mysql-bin.000001" : "relay\"log.000002", e);
      const std::string line(writer.text());
      ExpectCanonical(line, "body " + std::to_string(i));
      const json j = json::parse(line);
      EXPECT_EQ(j["pos"], 1234) << line;
      EXPECT_EQ(j.contains("inner"), inner) << line;
      EXPECT_EQ(j.contains("flags"), !inner) << line;
    }
    ++i;
  }
}

}  // namespace
}  // namespace tidewatch::testing
