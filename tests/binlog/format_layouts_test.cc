// Post-header lengths come from the FORMAT_DESCRIPTION that governs an event,
// not from today's layouts: servers that declared longer or shorter
// post-headers, the 5.0/5.1 layouts, the 5.1 pre-release trees that numbered
// types differently, and the pre-GA row events of MySQL 5.1.0–5.1.17.
#include <functional>

#include <gtest/gtest.h>

#include "binlog/event_decoder.h"
#include "binlog/file_reader.h"
#include "tests/binlog/event_builder.h"

namespace tidewatch::testing {
namespace {

using namespace tidewatch::binlog;

// Every event of `f` decoded; fails the test if the walk stops early or an
// event comes out undecoded. The events' views stay valid while `f` and the
// decoder (which keeps the table maps) do.
std::vector<Event> DecodeEvery(FileBuilder& f, std::vector<std::string>* undecoded = nullptr) {
  BinlogFileReader reader;
  EXPECT_TRUE(reader.OpenBuffer(f.data(), "layouts").ok());
  static EventDecoder decoder;
  RawEvent raw;
  Event e;
  std::vector<Event> out;
  Status s;
  std::vector<std::string> reasons;
  while ((s = reader.Next(&raw)).ok()) {
    EXPECT_TRUE(decoder.Decode(raw, reader.format(), &e).ok());
    if (auto* u = std::get_if<UndecodedBody>(&e.body)) reasons.push_back(std::string(u->reason));
    out.push_back(e);
  }
  EXPECT_TRUE(s.IsEndOfFile()) << s.ToString();
  if (undecoded != nullptr) {
    *undecoded = reasons;
  } else {
    EXPECT_TRUE(reasons.empty()) << reasons.front();
  }
  return out;
}

template <typename Body>
const Body& Get(const std::vector<Event>& events, size_t i) {
  EXPECT_LT(i, events.size());
  EXPECT_TRUE(std::holds_alternative<Body>(events[i].body)) << "event " << i << " type " << int(events[i].header.type);
  static const Body kEmpty{};
  return std::holds_alternative<Body>(events[i].body) ? std::get<Body>(events[i].body) : kEmpty;
}

std::vector<uint8_t> Filler() { return {0xee, 0xee, 0xee}; }

TEST(FormatLayouts, EveryEventFollowsTheDeclaredPostHeaderLength) {
  // A server declaring 3 more post-header bytes than today's for every type
  // that has a fixed part: the decoder must split there, not at 13, 8, ….
  auto ph = MySql84PostHeaderLengths();
  for (uint8_t t : {kQueryEvent, kRotateEvent, kXidEvent, kIntvarEvent, kRandEvent, kUserVarEvent, kIncidentEvent,
                    kBeginLoadQueryEvent, kAppendBlockEvent, kDeleteFileEvent, kExecuteLoadQueryEvent, kTableMapEvent,
                    kWriteRowsEvent, kRowsQueryEvent, kXaPrepareEvent, kPreviousGtidsEvent, kTransactionContextEvent,
                    kViewChangeEvent}) {
    ph[t - 1] += 3;
  }
  FileBuilder f(true, FormatDescriptionBody("8.4.3", ph, true, true));
  Bytes q;
  q.u32(7).u32(1).u8(2).u16(0).u16(0).raw(Filler()).str("db").u8(0).str("SELECT 1");
  f.Add(kQueryEvent, q.vec());
  f.Add(kXidEvent, Bytes().raw(Filler()).u64(99).vec());
  f.Add(kIntvarEvent, Bytes().raw(Filler()).u8(2).u64(5).vec());
  f.Add(kRandEvent, Bytes().raw(Filler()).u64(1).u64(2).vec());
  f.Add(kUserVarEvent, Bytes().raw(Filler()).u32(1).str("x").u8(1).vec());
  f.Add(kIncidentEvent, Bytes().u16(1).raw(Filler()).u8(4).str("lost").vec());
  f.Add(kBeginLoadQueryEvent, Bytes().u32(3).raw(Filler()).str("block").vec());
  Bytes elq;
  elq.u32(7).u32(0).u8(2).u16(0).u16(0).u32(3).u32(10).u32(20).u8(1).raw(Filler()).str("db").u8(0);
  elq.str("LOAD DATA INFILE 'f' INTO TABLE t");
  f.Add(kExecuteLoadQueryEvent, elq.vec());
  Bytes map;
  map.u48(70).u16(1).raw(Filler()).u8(2).str("db").u8(0).u8(1).str("t").u8(0).packed(1).u8(kTypeLong).packed(0).u8(0);
  f.Add(kTableMapEvent, map.vec());
  Bytes rows;
  rows.u48(70).u16(1).u16(2).raw(Filler()).packed(1).u8(1).u8(0).u32(42).u8(0).u32(43);
  f.Add(kWriteRowsEvent, rows.vec());
  f.Add(kRowsQueryEvent, Bytes().raw(Filler()).u8(8).str("INSERT 1").vec());
  f.Add(kXaPrepareEvent, Bytes().raw(Filler()).u8(0).u32(1).u32(1).u32(0).str("g").vec());
  f.Add(kPreviousGtidsEvent, Bytes().raw(Filler()).u64(0).vec());
  f.Add(kTransactionContextEvent,
        Bytes().u8(4).u32(9).u8(1).u32(0).u32(2).u32(0).raw(Filler()).str("uuid").vec());
  std::string view = "1:2";
  view.resize(40, '\0');
  f.Add(kViewChangeEvent, Bytes().str(view).u64(8).u32(0).raw(Filler()).vec());
  f.Add(kRotateEvent, Bytes().u64(4).raw(Filler()).str("bin.000002").vec());

  auto e = DecodeEvery(f);
  ASSERT_EQ(e.size(), 17u);
  EXPECT_EQ(Get<QueryBody>(e, 1).db, "db");
  EXPECT_EQ(Get<QueryBody>(e, 1).query, "SELECT 1");
  EXPECT_EQ(Get<XidBody>(e, 2).xid, 99u);
  EXPECT_EQ(Get<IntvarBody>(e, 3).value, 5u);
  EXPECT_EQ(Get<RandBody>(e, 4).seed2, 2u);
  EXPECT_EQ(Get<UserVarBody>(e, 5).name, "x");
  EXPECT_TRUE(Get<UserVarBody>(e, 5).is_null);
  EXPECT_EQ(Get<IncidentBody>(e, 6).message, "lost");
  EXPECT_EQ(Get<LoadFileBody>(e, 7).file_id, 3u);
  EXPECT_EQ(Get<LoadFileBody>(e, 7).block_size, 5u);
  EXPECT_EQ(Get<QueryBody>(e, 8).file_id, 3u);
  EXPECT_EQ(Get<QueryBody>(e, 8).fn_pos_end, 20u);
  EXPECT_EQ(Get<QueryBody>(e, 8).query, "LOAD DATA INFILE 'f' INTO TABLE t");
  EXPECT_EQ(Get<TableMapBody>(e, 9).table, "t");
  EXPECT_EQ(Get<RowsBody>(e, 10).rows, 2u);
  EXPECT_EQ(Get<RowsQueryBody>(e, 11).query, "INSERT 1");
  EXPECT_EQ(Get<XaPrepareBody>(e, 12).gtrid, "g");
  EXPECT_TRUE(Get<PreviousGtidsBody>(e, 13).sids.empty());
  EXPECT_EQ(Get<TransactionContextBody>(e, 14).server_uuid, "uuid");
  EXPECT_EQ(Get<ViewChangeBody>(e, 15).seq_number, 8u);
  EXPECT_EQ(Get<RotateBody>(e, 16).file, "bin.000002");
}

TEST(FormatLayouts, ABodyShorterThanItsDeclaredPostHeaderIsUndecoded) {
  auto ph = MySql84PostHeaderLengths();
  FileBuilder f(true, FormatDescriptionBody("8.4.3", ph, true, true));
  f.Add(kQueryEvent, Bytes().u32(1).u32(0).u8(0).vec());  // 9 of 13 bytes
  f.Add(kXidEvent, Bytes().u64(3).vec());
  std::vector<std::string> undecoded;
  auto e = DecodeEvery(f, &undecoded);
  ASSERT_EQ(undecoded.size(), 1u);
  EXPECT_EQ(undecoded[0], "body of 9 bytes is shorter than its declared post-header (13)");
  EXPECT_EQ(Get<XidBody>(e, 2).xid, 3u);
}

// MySQL 5.0's layout: no checksum-algorithm byte, 18 types, a 13-byte QUERY
// post-header.
std::vector<uint8_t> MySql50PostHeaderLengths() {
  return {56, 13, 0, 8, 0, 18, 0, 4, 4, 4, 4, 18, 0, 0, 75, 0, 4, 26};
}

TEST(FormatLayouts, MySql50AndAQueryPostHeaderWithoutStatusVariables) {
  auto ph = MySql50PostHeaderLengths();
  FileBuilder f(false, FormatDescriptionBody("5.0.96-log", ph, false, false));
  f.Add(kQueryEvent, Bytes().u32(1).u32(0).u8(1).u16(0).u16(0).str("d").u8(0).str("BEGIN").vec());
  // A server that declares 11: no status_vars_len, the db right after.
  ph[kQueryEvent - 1] = 11;
  f.Add(kFormatDescriptionEvent, FormatDescriptionBody("5.0.2-alpha-log", ph, false, false));
  f.Add(kQueryEvent, Bytes().u32(1).u32(0).u8(1).u16(0).str("d").u8(0).str("COMMIT").vec());
  auto e = DecodeEvery(f);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(Get<QueryBody>(e, 1).query, "BEGIN");
  EXPECT_EQ(Get<QueryBody>(e, 3).query, "COMMIT");
  EXPECT_EQ(Get<QueryBody>(e, 3).db, "d");
}

// A START_EVENT_V3 opening a file, with a header of `header_size` bytes
// (19 in v3, 13 in v1): binlog_version · server version · created.
std::vector<uint8_t> StartEventV3File(size_t header_size, uint16_t binlog_version, const std::string& version) {
  Bytes body;
  body.u16(binlog_version).str(version);
  for (size_t i = version.size(); i < 50; ++i) body.u8(0);
  body.u32(1000000000);
  const uint32_t size = static_cast<uint32_t>(header_size + body.vec().size());
  Bytes event;
  event.u32(1000000000).u8(kStartEventV3).u32(1).u32(size);
  if (header_size == kEventHeaderSize) event.u32(4 + size).u16(0);
  std::vector<uint8_t> file(kBinlogMagic, kBinlogMagic + kBinlogMagicSize);
  for (auto v : {event.vec(), body.vec()}) file.insert(file.end(), v.begin(), v.end());
  return file;
}

// A v3 file (MySQL 4.x) declares no lengths: its QUERY events are read with
// the 11-byte post-header its START_EVENT_V3 implies. A v1 file (3.23, 13-byte
// headers) is refused, naming its version.
TEST(FormatLayouts, BinlogV3IsReadWithTheLayoutOfMySql4AndV1IsRefused) {
  std::vector<uint8_t> v3 = StartEventV3File(kEventHeaderSize, 3, "4.1.22-log");
  auto query = MakeEvent(kQueryEvent, Bytes().u32(7).u32(0).u8(1).u16(0).str("d").u8(0).str("BEGIN").vec(),
                         v3.size(), false, 1);
  v3.insert(v3.end(), query.begin(), query.end());
  BinlogFileReader reader;
  ASSERT_TRUE(reader.OpenBuffer(v3, "v3").ok());
  EventDecoder decoder;
  RawEvent raw;
  Event e;
  ASSERT_TRUE(reader.Next(&raw).ok());
  ASSERT_TRUE(decoder.Decode(raw, reader.format(), &e).ok());
  ASSERT_TRUE(std::holds_alternative<FormatDescription>(e.body));
  EXPECT_EQ(std::get<FormatDescription>(e.body).ServerVersion(), "4.1.22-log");
  EXPECT_EQ(reader.format().PostHeaderLength(kQueryEvent), 11);
  ASSERT_TRUE(reader.Next(&raw).ok());
  ASSERT_TRUE(decoder.Decode(raw, reader.format(), &e).ok());
  ASSERT_TRUE(std::holds_alternative<QueryBody>(e.body)) << std::get<UndecodedBody>(e.body).reason;
  EXPECT_EQ(std::get<QueryBody>(e.body).query, "BEGIN");
  EXPECT_EQ(std::get<QueryBody>(e.body).thread_id, 7u);
  EXPECT_TRUE(reader.Next(&raw).IsEndOfFile());

  const std::vector<uint8_t> v1 = StartEventV3File(13, 1, "3.23.58-log");
  BinlogFileReader old;
  ASSERT_TRUE(old.OpenBuffer(v1, "v1").ok());
  Status s = old.Next(&raw);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_NE(s.message().find("binlog version 1 (MySQL 3.23"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("v1: at byte offset 4"), std::string::npos) << s.ToString();
}

// A 5.1 pre-release tree: 22 types, 16 TABLE_MAP … 22 EXECUTE_LOAD_QUERY,
// 6-byte table-map and row post-headers (4-byte table ids).
std::vector<uint8_t> RenumberedPostHeaderLengths() {
  return {56, 13, 0, 8, 0, 18, 0, 4, 4, 4, 4, 18, 0, 0, 79, 6, 6, 6, 6, 0, 4, 26};
}

TEST(FormatLayouts, A51PreReleaseTreesTypesAreRenumbered) {
  FileBuilder f(false, FormatDescriptionBody("5.1.4-a_drop5p20-log", RenumberedPostHeaderLengths(), false, false));
  Bytes map;
  map.u32(9).u16(0).u8(1).str("d").u8(0).u8(1).str("t").u8(0).packed(1).u8(kTypeLong);  // no metadata
  f.Add(16, map.vec());
  f.Add(17, Bytes().u32(9).u16(1).packed(1).u8(1).u8(0xff).u32(5).vec());
  f.Add(18, Bytes().u32(9).u16(1).packed(1).u8(1).u8(0xff).u32(5).u8(0xff).u32(6).vec());
  f.Add(20, Bytes().u64(77).vec());
  f.Add(21, Bytes().u32(2).str("data").vec());
  Bytes elq;
  elq.u32(7).u32(0).u8(1).u16(0).u16(0).u32(2).u32(10).u32(20).u8(0).str("d").u8(0).str("LOAD DATA …");
  f.Add(22, elq.vec());
  auto e = DecodeEvery(f);
  ASSERT_EQ(e.size(), 7u);
  EXPECT_EQ(e[1].header.type, kTableMapEvent);
  EXPECT_EQ(Get<TableMapBody>(e, 1).table_id, 9u);
  EXPECT_FALSE(Get<TableMapBody>(e, 1).has_metadata);
  EXPECT_EQ(e[2].header.type, kPreGaWriteRowsEvent);
  EXPECT_EQ(Get<RowsBody>(e, 2).table, "t");
  EXPECT_EQ(Get<RowsBody>(e, 2).version, 0);
  EXPECT_FALSE(Get<RowsBody>(e, 2).images_walked);
  EXPECT_EQ(e[3].header.type, kPreGaUpdateRowsEvent);
  EXPECT_EQ(Get<RowsBody>(e, 3).kind, RowsBody::Kind::kUpdate);
  EXPECT_EQ(e[4].header.type, kXidEvent);
  EXPECT_EQ(Get<XidBody>(e, 4).xid, 77u);
  EXPECT_EQ(e[5].header.type, kBeginLoadQueryEvent);
  EXPECT_EQ(Get<LoadFileBody>(e, 5).file_id, 2u);
  EXPECT_EQ(e[6].header.type, kExecuteLoadQueryEvent);
  EXPECT_EQ(Get<QueryBody>(e, 6).query, "LOAD DATA …");
  EXPECT_EQ(Get<QueryBody>(e, 6).fn_pos_start, 10u);
}

TEST(FormatLayouts, OnlyThePreReleaseTreesAreRenumbered) {
  FormatDescription fd;
  for (const char* v : {"5.1.1-a_drop5p3", "5.1.4-a_drop6p0", "5.2.0-a_drop6p6-debug", "5.2.2-a_drop6p13-debug-log"}) {
    ASSERT_TRUE(ParseFormatDescription(FormatDescriptionBody(v, RenumberedPostHeaderLengths(), false, false), &fd).ok());
    EXPECT_TRUE(fd.renumbered_types) << v;
    EXPECT_EQ(fd.PostHeaderLength(kTableMapEvent), 6) << v;
    EXPECT_EQ(fd.PostHeaderLength(kXidEvent), 0) << v;
    EXPECT_EQ(fd.PostHeaderLength(kExecuteLoadQueryEvent), 26) << v;
  }
  for (const char* v : {"5.1.23-rc-log", "5.1.6-a_drop5p3", "5.2.3-a_drop6p13", "5.1.4-a_drop7p1", "5.1.17-beta"}) {
    ASSERT_TRUE(ParseFormatDescription(FormatDescriptionBody(v, RenumberedPostHeaderLengths(), false, false), &fd).ok());
    EXPECT_FALSE(fd.renumbered_types) << v;
  }
  // Those trees wrote 22 types; another count is not a description to trust.
  auto ph = RenumberedPostHeaderLengths();
  ph.push_back(8);
  Status s = ParseFormatDescription(FormatDescriptionBody("5.1.4-a_drop5p20", ph, false, false), &fd);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("23 event types"), std::string::npos) << s.message();
}

TEST(FormatLayouts, PreGaRowEventsOfMySql5117) {
  // 5.1.5–5.1.17 wrote row events as types 20–22 with 8-byte post-headers;
  // updates carry one columns bitmap.
  std::vector<uint8_t> ph = {56, 13, 0, 8, 0, 18, 0, 4, 4, 4, 4, 18, 0, 0, 79, 0, 4, 26, 8, 8, 8, 8};
  FileBuilder f(false, FormatDescriptionBody("5.1.17-beta-log", ph, false, false));
  Bytes map;
  map.u48(12).u16(0).u8(1).str("d").u8(0).u8(2).str("t2").u8(0).packed(2).u8(kTypeLong).u8(kTypeString);
  map.packed(2).u8(kTypeString).u8(20).u8(3);
  f.Add(kTableMapEvent, map.vec());
  f.Add(kPreGaUpdateRowsEvent, Bytes().u48(12).u16(1).packed(2).u8(3).u8(0xfc).u32(1).u8(1).str("a").vec());
  f.Add(kPreGaDeleteRowsEvent, Bytes().u48(12).u16(1).packed(2).u8(3).u8(0xfc).u32(1).u8(1).str("a").vec());
  auto e = DecodeEvery(f);
  ASSERT_EQ(e.size(), 4u);
  const auto& u = Get<RowsBody>(e, 2);
  EXPECT_EQ(u.kind, RowsBody::Kind::kUpdate);
  EXPECT_EQ(u.version, 0);
  EXPECT_EQ(u.table_id, 12u);
  EXPECT_EQ(u.column_count, 2u);
  EXPECT_EQ(u.table, "t2");
  EXPECT_FALSE(u.images_walked);
  EXPECT_EQ(Get<RowsBody>(e, 3).kind, RowsBody::Kind::kDelete);
}

TEST(FormatLayouts, TransactionPayloadIsReadFromTheStartOfItsBody) {
  // MySQL declares 40 for TRANSACTION_PAYLOAD (its type code) and reads the
  // body from its start: a small uncompressed payload must decode.
  FileBuilder f(true, FormatDescriptionBody("8.4.3", MySql84PostHeaderLengths(), true, true));
  auto inner = MakeEvent(kXidEvent, Bytes().u64(5).vec(), 0, false);
  inner[13] = inner[14] = inner[15] = inner[16] = 0;  // log_pos 0, as nested events have
  // Fields: size 1, compression 2 (255: NONE, a 3-byte packed integer),
  // uncompressed size 3, end 0; then the payload.
  Bytes p;
  p.packed(1).packed(1).packed(inner.size()).packed(2).packed(3).packed(255);
  p.packed(3).packed(1).packed(inner.size()).packed(0).raw(inner);
  ASSERT_LT(p.size(), 40u);
  f.Add(kTransactionPayloadEvent, p.vec());
  auto e = DecodeEvery(f);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(Get<TransactionPayloadBody>(e, 1).payload.size(), inner.size());
}

}  // namespace
}  // namespace tidewatch::testing
