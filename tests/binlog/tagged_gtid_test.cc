// Tagged GTIDs (MySQL 8.3+): GTID_TAGGED_LOG_EVENT in the serialization
// library's format, PREVIOUS_GTIDS in the tagged binary set format, and the
// text form of tagged sets with the COM_BINLOG_DUMP_GTID encoding — built
// byte by byte as the server writes them (binlog/tagged_gtid_event.h,
// binlog/mysql_gtid_set.h cite the sources).
#include <functional>

#include <gtest/gtest.h>

#include "binlog/byte_reader.h"
#include "binlog/event_decoder.h"
#include "binlog/file_reader.h"
#include "binlog/mysql_gtid_set.h"
#include "tests/binlog/event_builder.h"

namespace tidewatch::testing {
namespace {

using namespace tidewatch::binlog;

// The body of a GTID_TAGGED_LOG_EVENT: `fields` (id, encoded value) in order,
// wrapped in the message header (format 1, size, last non-ignorable id).
std::vector<uint8_t> TaggedMessage(const std::vector<std::pair<uint64_t, std::vector<uint8_t>>>& fields,
                                   uint64_t last_non_ignorable = 0, uint64_t version = 1) {
  Bytes payload;
  for (const auto& [id, value] : fields) payload.var(id).raw(value);
  Bytes lni;
  lni.var(last_non_ignorable);
  // The size counts the whole message, its own bytes included.
  for (uint64_t size = payload.size() + lni.size() + 2;; ++size) {
    Bytes head;
    head.var(version).var(size).raw(lni.vec());
    if (head.size() + payload.size() == size) return head.raw(payload.vec()).vec();
  }
}

std::vector<uint8_t> Var(uint64_t v) { return Bytes().var(v).vec(); }
std::vector<uint8_t> SVar(int64_t v) { return Bytes().svar(v).vec(); }
std::vector<uint8_t> UuidField() {
  Bytes b;
  for (int i = 0; i < 16; ++i) b.var(0xf0 + i);  // every byte a 2-byte integer
  return b.vec();
}
std::vector<uint8_t> TagField(std::string_view tag) { return Bytes().var(tag.size()).str(tag).vec(); }

std::vector<std::pair<uint64_t, std::vector<uint8_t>>> EveryField() {
  return {{0, Var(1)},
          {1, UuidField()},
          {2, SVar(1234567890123)},
          {3, TagField("batch_7")},
          {4, SVar(10)},
          {5, SVar(11)},
          {6, Var(1770000000000001)},
          {7, Var(1760000000000002)},
          {8, Var(5000)},
          {9, Var(90600)},
          {10, Var(80400)},
          {11, Var(77)}};
}

// Decodes the one event of type `type` after the description; `check` sees it.
void DecodeOne(uint8_t type, const std::vector<uint8_t>& body, const std::function<void(const Event&)>& check) {
  FileBuilder f(true, FormatDescriptionBody("9.6.0", MySql84PostHeaderLengths(), true, true));
  f.Add(type, body);
  f.Add(kXidEvent, Bytes().u64(1).vec());
  BinlogFileReader reader;
  ASSERT_TRUE(reader.OpenBuffer(f.data(), "tagged").ok());
  EventDecoder decoder;
  RawEvent raw;
  Event e;
  int n = 0;
  Status s;
  while ((s = reader.Next(&raw)).ok()) {
    ASSERT_TRUE(decoder.Decode(raw, reader.format(), &e).ok());
    if (++n == 2) check(e);
  }
  EXPECT_TRUE(s.IsEndOfFile()) << s.ToString();
  EXPECT_EQ(n, 3);  // the XID after it is read too
}

TEST(TaggedGtid, EveryFieldDecodes) {
  DecodeOne(kGtidTaggedEvent, TaggedMessage(EveryField()), [](const Event& e) {
    ASSERT_TRUE(std::holds_alternative<MysqlGtidBody>(e.body)) << std::get<UndecodedBody>(e.body).reason;
    const auto& g = std::get<MysqlGtidBody>(e.body);
    EXPECT_TRUE(g.tagged);
    EXPECT_EQ(g.flags, 1);
    EXPECT_EQ(g.sid[0], 0xf0);
    EXPECT_EQ(g.sid[15], 0xff);
    EXPECT_EQ(g.gno, 1234567890123u);
    EXPECT_EQ(g.tag, "batch_7");
    EXPECT_TRUE(g.has_logical_clock);
    EXPECT_EQ(g.last_committed, 10u);
    EXPECT_EQ(g.sequence_number, 11u);
    EXPECT_EQ(g.immediate_commit_timestamp, 1770000000000001u);
    EXPECT_EQ(g.original_commit_timestamp, 1760000000000002u);
    EXPECT_EQ(g.transaction_length, 5000u);
    EXPECT_EQ(g.immediate_server_version, 90600u);
    EXPECT_EQ(g.original_server_version, 80400u);
    EXPECT_TRUE(g.has_commit_group_ticket);
    EXPECT_EQ(g.commit_group_ticket, 77u);
  });
}

TEST(TaggedGtid, AbsentOriginalsAreTheImmediateOnes) {
  auto fields = EveryField();
  fields.erase(fields.begin() + 11);  // commit_group_ticket
  fields.erase(fields.begin() + 10);  // original_server_version
  fields.erase(fields.begin() + 7);   // original_commit_timestamp
  DecodeOne(kGtidTaggedEvent, TaggedMessage(fields), [](const Event& e) {
    ASSERT_TRUE(std::holds_alternative<MysqlGtidBody>(e.body));
    const auto& g = std::get<MysqlGtidBody>(e.body);
    EXPECT_EQ(g.original_commit_timestamp, 1770000000000001u);
    EXPECT_EQ(g.original_server_version, 90600u);
    EXPECT_FALSE(g.has_commit_group_ticket);
  });
}

TEST(TaggedGtid, FieldsOfALaterServerAreSkippedUnlessNotIgnorable) {
  auto fields = EveryField();
  fields.push_back({12, Var(5)});
  fields.push_back({13, TagField("a later string field")});
  DecodeOne(kGtidTaggedEvent, TaggedMessage(fields), [](const Event& e) {
    ASSERT_TRUE(std::holds_alternative<MysqlGtidBody>(e.body));
    EXPECT_EQ(std::get<MysqlGtidBody>(e.body).commit_group_ticket, 77u);
  });
  // The message says field 13 may not be ignored (last non-ignorable id + 1 = 14).
  DecodeOne(kGtidTaggedEvent, TaggedMessage(fields, 14), [](const Event& e) {
    ASSERT_TRUE(std::holds_alternative<UndecodedBody>(e.body));
    EXPECT_NE(std::get<UndecodedBody>(e.body).reason.find("may not be ignored"), std::string::npos);
  });
}

TEST(TaggedGtid, MalformedMessagesAreUndecoded) {
  struct Case {
    const char* what;
    std::vector<uint8_t> body;
  };
  auto no_gno = EveryField();
  no_gno.erase(no_gno.begin() + 2);
  auto gno_zero = EveryField();
  gno_zero[2].second = SVar(0);
  auto bad_tag = EveryField();
  bad_tag[3].second = TagField("7up");
  auto long_tag = EveryField();
  long_tag[3].second = TagField(std::string(33, 'a'));
  auto big_byte = EveryField();
  big_byte[1].second[0] = 0xff;  // a 9-byte integer where a uuid byte goes
  Bytes lying_size;  // a size past the body
  lying_size.var(1).var(200).var(0).var(0).raw(Var(1));
  auto truncated = TaggedMessage(EveryField());
  truncated.resize(truncated.size() - 3);
  const std::vector<Case> cases = {
      {"serialization format 2", TaggedMessage(EveryField(), 0, 2)},
      {"no GNO", TaggedMessage(no_gno)},
      {"GNO 0 out of range", TaggedMessage(gno_zero)},
      {"tag is not a tag", TaggedMessage(bad_tag)},
      {"tag of 33 characters", TaggedMessage(long_tag)},
      {"field 1 runs past", TaggedMessage(big_byte)},
      {"message of 200 bytes", lying_size.vec()},
      {"message of", truncated},
      {"message header", {}},
  };
  for (const auto& c : cases) {
    DecodeOne(kGtidTaggedEvent, c.body, [&](const Event& e) {
      ASSERT_TRUE(std::holds_alternative<UndecodedBody>(e.body)) << c.what;
      EXPECT_NE(std::get<UndecodedBody>(e.body).reason.find(c.what), std::string::npos)
          << c.what << ": " << std::get<UndecodedBody>(e.body).reason;
    });
  }
}

// A tagged PREVIOUS_GTIDS body: format 1 header, then sources.
std::vector<uint8_t> TaggedSetHeader(uint64_t sources, uint8_t format = 1) {
  return Bytes().u8(format).le(sources, 6).u8(format).vec();
}

TEST(TaggedGtid, TaggedPreviousGtids) {
  Bytes b;
  b.raw(TaggedSetHeader(2));
  for (int i = 0; i < 16; ++i) b.u8(0x11);
  b.var(0).u64(1).u64(1).u64(14);  // untagged 1-13
  for (int i = 0; i < 16; ++i) b.u8(0x11);
  b.var(3).str("abc").u64(2).u64(1).u64(3).u64(10).u64(11);  // abc:1-2:10
  DecodeOne(kPreviousGtidsEvent, b.vec(), [](const Event& e) {
    ASSERT_TRUE(std::holds_alternative<PreviousGtidsBody>(e.body)) << std::get<UndecodedBody>(e.body).reason;
    const auto& p = std::get<PreviousGtidsBody>(e.body);
    EXPECT_EQ(p.format, 1);
    ASSERT_EQ(p.sids.size(), 2u);
    EXPECT_EQ(p.sids[0].tag, "");
    EXPECT_EQ(p.sids[0].intervals[0], (GtidInterval{1, 14}));
    EXPECT_EQ(p.sids[1].tag, "abc");
    ASSERT_EQ(p.sids[1].intervals.size(), 2u);
    EXPECT_EQ(p.sids[1].intervals[1], (GtidInterval{10, 11}));
  });
}

TEST(TaggedGtid, PreviousGtidsThatCannotBeReadAreUndecoded) {
  const std::vector<std::pair<const char*, std::vector<uint8_t>>> cases = {
      {"binary format 2", Bytes().raw(TaggedSetHeader(0, 2)).vec()},
      // The format marker in the top byte is not part of the count.
      {"announces 2 sources", Bytes().u64(0x0100000000000201ull).vec()},
      {"announces 3 sources", Bytes().raw(TaggedSetHeader(3)).zeros(30).vec()},
      {"not a GTID interval", Bytes().u64(1).zeros(16).u64(1).u64(5).u64(5).vec()},
      {"tag of 40 characters", Bytes().raw(TaggedSetHeader(1)).zeros(16).var(40).zeros(48).vec()},
  };
  for (const auto& [what, body] : cases) {
    DecodeOne(kPreviousGtidsEvent, body, [&](const Event& e) {
      ASSERT_TRUE(std::holds_alternative<UndecodedBody>(e.body)) << what;
      EXPECT_NE(std::get<UndecodedBody>(e.body).reason.find(what), std::string::npos)
          << what << ": " << std::get<UndecodedBody>(e.body).reason;
    });
  }
}

TEST(TaggedGtid, TextFormAndTheDumpEncoding) {
  std::vector<SidIntervals> set;
  ASSERT_TRUE(ParseMysqlGtidSet("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:Tag_A:1-3:7:b:9,"
                                "4e11fa47-71ca-11e1-9e33-c80aa9429562:tag_a:2",
                                &set)
                  .ok());
  ASSERT_EQ(set.size(), 4u);
  EXPECT_EQ(set[0].tag, "");
  EXPECT_EQ(set[1].tag, "tag_a");
  EXPECT_EQ(set[1].intervals.size(), 2u);
  EXPECT_EQ(set[2].tag, "b");
  EXPECT_EQ(set[3].tag, "tag_a");

  std::vector<uint8_t> w = EncodeMysqlGtidSet(set);
  ByteReader r(w);
  EXPECT_EQ(r.U8(), 1);     // format 1
  EXPECT_EQ(r.Uint(6), 4u);  // sources
  EXPECT_EQ(r.U8(), 1);
  EXPECT_EQ(r.Bytes(16)[0], 0x3e);
  EXPECT_EQ(r.VarUint(), 0u);  // untagged
  EXPECT_EQ(r.U64(), 1u);
  EXPECT_EQ(r.U64(), 1u);
  EXPECT_EQ(r.U64(), 6u);
  r.Skip(16);
  EXPECT_EQ(r.String(r.VarUint()), "tag_a");
  EXPECT_EQ(r.U64(), 2u);
  EXPECT_EQ(r.U64(), 1u);
  EXPECT_EQ(r.U64(), 4u);
  EXPECT_EQ(r.U64(), 7u);
  EXPECT_EQ(r.U64(), 8u);
  ASSERT_TRUE(r.ok());
  // What the encoder wrote the decoder reads back.
  uint8_t format = 0;
  std::vector<PreviousGtidsSid> sids;
  std::vector<GtidInterval> intervals;
  size_t used = 0;
  ASSERT_TRUE(DecodeMysqlGtidSet(w, &format, &sids, &intervals, &used).ok());
  EXPECT_EQ(used, w.size());
  EXPECT_EQ(format, 1);
  ASSERT_EQ(sids.size(), 4u);
  EXPECT_EQ(sids[2].tag, "b");
  EXPECT_EQ(sids[2].intervals[0], (GtidInterval{9, 10}));

  // Without tags the set stays in format 0, which servers before 8.3 read.
  ASSERT_TRUE(EncodeMysqlGtidSet("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", &w).ok());
  EXPECT_EQ(w[7], 0);
  EXPECT_EQ(w[0], 1);
}

TEST(TaggedGtid, TextThatIsNotATaggedSet) {
  std::vector<SidIntervals> set;
  for (const char* bad : {"3E11FA47-71CA-11E1-9E33-C80AA9429562:tag", "3E11FA47-71CA-11E1-9E33-C80AA9429562:1:tag",
                          "3E11FA47-71CA-11E1-9E33-C80AA9429562:tag-x:1",
                          "3E11FA47-71CA-11E1-9E33-C80AA9429562:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1",
                          "3E11FA47-71CA-11E1-9E33-C80AA9429562:t:9223372036854775807"}) {
    Status s = ParseMysqlGtidSet(bad, &set);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(ParseMysqlGtidSet(" 3E11FA47-71CA-11E1-9E33-C80AA9429562 : t : 9223372036854775806 ", &set).ok());
}

TEST(TaggedGtid, VariableLengthIntegersRoundTrip) {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 16383ull, 16384ull, (1ull << 56) - 1, 1ull << 56, ~0ull}) {
    auto b = Bytes().var(v).vec();
    ByteReader r(b);
    EXPECT_EQ(r.VarUint(), v);
    EXPECT_EQ(r.remaining(), 0u);
  }
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-65536}, INT64_MIN, INT64_MAX}) {
    auto b = Bytes().svar(v).vec();
    ByteReader r(b);
    EXPECT_EQ(r.VarInt(), v);
  }
  // The readme's example: 65535 in 3 bytes, "00000111 11111111 11111011".
  EXPECT_EQ(Bytes().var(65535).vec(), (std::vector<uint8_t>{0xfb, 0xff, 0x07}));
}

}  // namespace
}  // namespace tidewatch::testing
