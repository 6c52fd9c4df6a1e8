// Events that the reference files do not hold, built byte by byte as the
// servers write them (layouts from the server sources cited in binlog/event.h).
#include <zlib.h>

#include <functional>

#include <gtest/gtest.h>

#include "binlog/event_decoder.h"
#include "binlog/file_reader.h"
#include "tests/binlog/event_builder.h"

namespace tidewatch::testing {
namespace {

using namespace tidewatch::binlog;

// Decodes every event of `f`, calling `check` with each; returns the status
// that ended the walk (EndOfFile on success).
Status DecodeAll(FileBuilder& f, const std::function<void(const Event&)>& check) {
  BinlogFileReader reader;
  Status s = reader.OpenBuffer(f.data(), "synthetic");
  EventDecoder decoder;
  RawEvent raw;
  Event e;
  while (s.ok()) {
    s = reader.Next(&raw);
    if (!s.ok()) break;
    s = decoder.Decode(raw, reader.format(), &e);
    if (s.ok()) check(e);
  }
  return s;
}

template <typename Body>
const Body* Find(FileBuilder& f, uint8_t type, std::function<void(const Body&)> check) {
  int found = 0;
  Status s = DecodeAll(f, [&](const Event& e) {
    if (e.header.type != type) return;
    ASSERT_TRUE(std::holds_alternative<Body>(e.body)) << int(type);
    check(std::get<Body>(e.body));
    ++found;
  });
  EXPECT_TRUE(s.IsEndOfFile()) << s.ToString();
  EXPECT_EQ(found, 1) << "events of type " << int(type);
  return nullptr;
}

std::vector<uint8_t> MariaCompress(const std::string& text) {
  uLongf n = compressBound(text.size());
  std::vector<uint8_t> z(n);
  compress(z.data(), &n, reinterpret_cast<const Bytef*>(text.data()), text.size());
  z.resize(n);
  Bytes b;
  b.u8(0x80 | 3).be(text.size(), 3).raw(z);
  return b.vec();
}

TEST(Synthetic, MariaDbGtidWithCommitIdAndXa) {
  FileBuilder f;
  Bytes g;
  g.u64(1234).u32(7).u8(MariaGtidBody::kGroupCommitId | MariaGtidBody::kPreparedXa | 4)
      .u64(99).u32(1).u8(3).u8(2).str("abcde");
  f.Add(kMariaGtidEvent, g.vec(), /*server_id=*/42);
  Find<MariaGtidBody>(f, kMariaGtidEvent, [](const MariaGtidBody& b) {
    EXPECT_EQ(b.seq_no, 1234u);
    EXPECT_EQ(b.domain_id, 7u);
    EXPECT_EQ(b.server_id, 42u);
    EXPECT_TRUE(b.has_commit_id);
    EXPECT_EQ(b.commit_id, 99u);
    EXPECT_TRUE(b.has_xid);
    EXPECT_EQ(b.xa_gtrid, "abc");
    EXPECT_EQ(b.xa_bqual, "de");
  });
}

TEST(Synthetic, MariaDbGtidListAndCheckpoint) {
  FileBuilder f;
  f.Add(kMariaGtidListEvent, Bytes().u32(2).u32(0).u32(1).u64(10).u32(3).u32(2).u64(20).vec());
  f.Add(kBinlogCheckpointEvent, Bytes().u32(10).str("bin.000007").vec());
  Find<MariaGtidListBody>(f, kMariaGtidListEvent, [](const MariaGtidListBody& b) {
    ASSERT_EQ(b.gtids.size(), 2u);
    EXPECT_EQ(b.gtids[1].domain_id, 3u);
    EXPECT_EQ(b.gtids[1].server_id, 2u);
    EXPECT_EQ(b.gtids[1].seq_no, 20u);
  });
  Find<BinlogCheckpointBody>(f, kBinlogCheckpointEvent,
                             [](const BinlogCheckpointBody& b) { EXPECT_EQ(b.file, "bin.000007"); });
}

TEST(Synthetic, GtidListThatLiesAboutItsCountIsUndecoded) {
  FileBuilder f;
  f.Add(kMariaGtidListEvent, Bytes().u32(1000000).u32(0).u32(1).u64(10).vec());
  Find<UndecodedBody>(f, kMariaGtidListEvent, [](const UndecodedBody& b) {
    EXPECT_NE(b.reason.find("GTID list announces 1000000 entries"), std::string::npos) << b.reason;
  });
}

TEST(Synthetic, CompressedQueryIsDecompressed) {
  FileBuilder f;
  std::string text = "INSERT INTO t VALUES ('" + std::string(500, 'x') + "')";
  Bytes q;
  q.u32(1).u32(0).u8(2).u16(0).u16(0).str("db").u8(0).raw(MariaCompress(text));
  f.Add(kQueryCompressedEvent, q.vec());
  Find<QueryBody>(f, kQueryCompressedEvent, [&](const QueryBody& b) {
    EXPECT_TRUE(b.compressed);
    EXPECT_EQ(b.query, text);
    EXPECT_EQ(b.db, "db");
  });
}

TEST(Synthetic, CorruptCompressedQueryIsUndecoded) {
  FileBuilder f;
  Bytes q;
  q.u32(1).u32(0).u8(2).u16(0).u16(0).str("db").u8(0).u8(0x83).be(1000, 3).str("not zlib");
  f.Add(kQueryCompressedEvent, q.vec());
  Find<UndecodedBody>(f, kQueryCompressedEvent, [](const UndecodedBody& b) {
    EXPECT_NE(b.reason.find("compressed query"), std::string::npos) << b.reason;
  });
}

// A table (id 5) of INT, VARCHAR(300), DECIMAL(10,2), DATETIME(3), BLOB, ENUM.
std::vector<uint8_t> TableMap() {
  Bytes t;
  t.u48(5).u16(1).u8(2).str("db").u8(0).u8(1).str("t").u8(0).packed(6);
  t.u8(kTypeLong).u8(kTypeVarchar).u8(kTypeNewDecimal).u8(kTypeDatetime2).u8(kTypeBlob).u8(kTypeString);
  Bytes meta;
  meta.u16(300).u8(10).u8(2).u8(3).u8(2).u8(kTypeEnum).u8(1);
  t.packed(meta.size()).raw(meta.vec()).u8(0x3f);
  return t.vec();
}

// One row image with every column present and NULLs where `nulls` says.
std::vector<uint8_t> RowImage(uint8_t nulls) {
  Bytes r;
  r.u8(nulls);
  if (!(nulls & 1)) r.u32(17);
  if (!(nulls & 2)) r.u16(5).str("hello");  // 2-byte length: max length 300 > 255
  if (!(nulls & 4)) r.zeros(5);             // DECIMAL(10,2): 4 + 1 bytes
  if (!(nulls & 8)) r.zeros(5 + 2);         // DATETIME2(3)
  if (!(nulls & 16)) r.u16(3).str("abc");   // BLOB with 2 length bytes
  if (!(nulls & 32)) r.u8(2);               // ENUM, 1 byte
  return r.vec();
}

TEST(Synthetic, RowImagesAreWalkedByColumnType) {
  FileBuilder f;
  f.Add(kTableMapEvent, TableMap());
  Bytes w;
  w.u48(5).u16(1).packed(6).u8(0x3f).raw(RowImage(0)).raw(RowImage(0x12)).raw(RowImage(0x3f));
  f.Add(kWriteRowsEventV1, w.vec());
  Find<RowsBody>(f, kWriteRowsEventV1, [](const RowsBody& b) {
    EXPECT_EQ(b.rows, 3u);
    EXPECT_EQ(b.db, "db");
    EXPECT_EQ(b.table, "t");
  });
}

TEST(Synthetic, UpdateRowsV2CountBeforeAndAfterImages) {
  FileBuilder f;
  f.Add(kTableMapEvent, TableMap());
  Bytes u;
  u.u48(5).u16(1).u16(2).packed(6).u8(0x3f).u8(0x3f).raw(RowImage(0)).raw(RowImage(1));
  f.Add(kUpdateRowsEvent, u.vec());
  Find<RowsBody>(f, kUpdateRowsEvent, [](const RowsBody& b) {
    EXPECT_EQ(b.rows, 1u);
    EXPECT_EQ(b.images, 2u);
    EXPECT_EQ(b.version, 2);
  });
}

TEST(Synthetic, CompressedRowsAreDecompressedAndWalked) {
  FileBuilder f;
  f.Add(kTableMapEvent, TableMap());
  auto rows = RowImage(0);
  auto more = RowImage(4);
  rows.insert(rows.end(), more.begin(), more.end());
  Bytes w;
  w.u48(5).u16(1).packed(6).u8(0x3f).raw(MariaCompress(std::string(rows.begin(), rows.end())));
  f.Add(kWriteRowsCompressedEventV1, w.vec());
  Find<RowsBody>(f, kWriteRowsCompressedEventV1, [](const RowsBody& b) {
    EXPECT_TRUE(b.compressed);
    EXPECT_EQ(b.rows, 2u);
  });
}

TEST(Synthetic, RowImageThatOverrunsIsUndecodedNamingTheColumn) {
  FileBuilder f;
  f.Add(kTableMapEvent, TableMap());
  Bytes w;
  w.u48(5).u16(1).packed(6).u8(0x3f).u8(0).u32(17).u16(60000).str("short");
  f.Add(kWriteRowsEventV1, w.vec());
  Find<UndecodedBody>(f, kWriteRowsEventV1, [](const UndecodedBody& b) {
    EXPECT_NE(b.reason.find("column 1"), std::string::npos) << b.reason;
    EXPECT_NE(b.reason.find("db.t"), std::string::npos) << b.reason;
  });
}

TEST(Synthetic, StatementEventsOfLoadDataUserVarsAndRand) {
  FileBuilder f;
  f.Add(kUserVarEvent, Bytes().u32(3).str("foo").u8(0).u8(2).u32(33).u32(8).u64(77).u8(1).vec());
  f.Add(kUserVarEvent, Bytes().u32(3).str("bar").u8(1).vec());
  f.Add(kIntvarEvent, Bytes().u8(2).u64(1001).vec());
  f.Add(kRandEvent, Bytes().u64(11).u64(22).vec());
  f.Add(kBeginLoadQueryEvent, Bytes().u32(9).str("1,2\n3,4\n").vec());
  Bytes elq;
  elq.u32(1).u32(0).u8(2).u16(0).u16(0).u32(9).u32(10).u32(20).u8(0).str("db").u8(0)
      .str("LOAD DATA INFILE 'x' INTO TABLE t");
  f.Add(kExecuteLoadQueryEvent, elq.vec());
  int user_vars = 0;
  Status s = DecodeAll(f, [&](const Event& e) {
    if (auto* u = std::get_if<UserVarBody>(&e.body)) {
      ++user_vars;
      if (u->name == "foo") {
        EXPECT_FALSE(u->is_null);
        EXPECT_EQ(u->value.size(), 8u);
        EXPECT_EQ(u->flags, 1);
      } else {
        EXPECT_TRUE(u->is_null);
      }
    }
    if (auto* i = std::get_if<IntvarBody>(&e.body)) {
      EXPECT_EQ(i->value, 1001u);
    }
    if (auto* r = std::get_if<RandBody>(&e.body)) {
      EXPECT_EQ(r->seed2, 22u);
    }
    if (auto* l = std::get_if<LoadFileBody>(&e.body)) {
      EXPECT_EQ(l->file_id, 9u);
      EXPECT_EQ(l->block_size, 8u);
    }
    if (auto* q = std::get_if<QueryBody>(&e.body)) {
      EXPECT_EQ(q->file_id, 9u);
      EXPECT_EQ(q->fn_pos_start, 10u);
      EXPECT_EQ(q->query, "LOAD DATA INFILE 'x' INTO TABLE t");
    }
  });
  EXPECT_TRUE(s.IsEndOfFile()) << s.ToString();
  EXPECT_EQ(user_vars, 2);
}

TEST(Synthetic, MySqlGtidWithEveryOptionalField) {
  FileBuilder f;
  Bytes g;
  g.u8(1);
  for (int i = 0; i < 16; ++i) g.u8(i);
  g.u64(55).u8(2).u64(3).u64(4);
  g.le((1ull << 55) | 1700000000000001ull, 7).le(1600000000000002ull, 7);
  g.packed(1234);
  g.u32((1u << 31) | 80400).u32(80036);
  f.Add(kGtidEvent, g.vec());
  Find<MysqlGtidBody>(f, kGtidEvent, [](const MysqlGtidBody& b) {
    EXPECT_EQ(b.gno, 55u);
    EXPECT_EQ(b.sid[15], 15);
    EXPECT_EQ(b.last_committed, 3u);
    EXPECT_EQ(b.sequence_number, 4u);
    EXPECT_EQ(b.immediate_commit_timestamp, 1700000000000001ull);
    EXPECT_EQ(b.original_commit_timestamp, 1600000000000002ull);
    EXPECT_EQ(b.transaction_length, 1234u);
    EXPECT_EQ(b.immediate_server_version, 80400u);
    EXPECT_EQ(b.original_server_version, 80036u);
  });
}

TEST(Synthetic, HeartbeatsV1AndV2) {
  FileBuilder f;
  f.Add(kHeartbeatEvent, Bytes().str("bin.000003").vec());
  Bytes v2;
  v2.packed(1).packed(10).str("bin.000004").packed(2).packed(9).packed(5000000000ull).packed(0);
  f.Add(kHeartbeatEventV2, v2.vec());
  int seen = 0;
  Status s = DecodeAll(f, [&](const Event& e) {
    if (auto* h = std::get_if<HeartbeatBody>(&e.body)) {
      ++seen;
      if (e.header.type == kHeartbeatEventV2) {
        EXPECT_EQ(h->log_file, "bin.000004");
        EXPECT_EQ(h->log_pos, 5000000000ull);
      } else {
        EXPECT_EQ(h->log_file, "bin.000003");
        EXPECT_EQ(h->log_pos, e.pos + e.header.event_size);
      }
    }
  });
  EXPECT_TRUE(s.IsEndOfFile()) << s.ToString();
  EXPECT_EQ(seen, 2);
}

TEST(Synthetic, XaPrepareIncidentViewChangeTransactionContext) {
  FileBuilder f;
  f.Add(kXaPrepareEvent, Bytes().u8(0).u32(1).u32(3).u32(1).str("gtrb").vec());
  f.Add(kIncidentEvent, Bytes().u16(1).u8(4).str("lost").vec());
  Bytes vc;
  std::string view = "15000000000000:1";
  view.resize(40, '\0');
  vc.str(view).u64(8).u32(0);
  f.Add(kViewChangeEvent, vc.vec());
  f.Add(kTransactionContextEvent, Bytes().u8(4).u32(9).u8(1).u32(0).u32(2).u32(0).str("uuid").vec());
  Status s = DecodeAll(f, [&](const Event& e) {
    if (auto* x = std::get_if<XaPrepareBody>(&e.body)) {
      EXPECT_EQ(x->gtrid, "gtr");
      EXPECT_EQ(x->bqual, "b");
    }
    if (auto* i = std::get_if<IncidentBody>(&e.body)) {
      EXPECT_EQ(i->message, "lost");
    }
    if (auto* v = std::get_if<ViewChangeBody>(&e.body)) {
      EXPECT_EQ(v->view_id, "15000000000000:1");
      EXPECT_EQ(v->seq_number, 8u);
    }
    if (auto* t = std::get_if<TransactionContextBody>(&e.body)) {
      EXPECT_EQ(t->server_uuid, "uuid");
      EXPECT_EQ(t->write_set_count, 2u);
    }
  });
  EXPECT_TRUE(s.IsEndOfFile()) << s.ToString();
}

TEST(Synthetic, UnknownTypeIsDeliveredUndecodedNotAnError) {
  FileBuilder f;
  f.Add(200, Bytes().str("whatever").vec());
  f.Add(kStopEvent, {});
  int unknown = 0, stop = 0;
  Status s = DecodeAll(f, [&](const Event& e) {
    if (e.header.type == 200) {
      ASSERT_TRUE(std::holds_alternative<UndecodedBody>(e.body));
      EXPECT_NE(std::get<UndecodedBody>(e.body).reason.find("event type 200"), std::string::npos);
      EXPECT_EQ(e.header.event_size, 19u + 8 + 4);
      ++unknown;
    }
    if (e.header.type == kStopEvent) {
      EXPECT_TRUE(std::holds_alternative<EmptyBody>(e.body));
      ++stop;
    }
  });
  EXPECT_TRUE(s.IsEndOfFile()) << s.ToString();
  EXPECT_EQ(unknown, 1);
  EXPECT_EQ(stop, 1);
}

TEST(Synthetic, EncryptedBinlogStopsWithAClearError) {
  FileBuilder f;
  f.Add(kStartEncryptionEvent, Bytes().u8(1).u32(1).zeros(12).vec());
  f.Add(kXidEvent, Bytes().u64(1).vec());
  Status s = DecodeAll(f, [](const Event&) {});
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_NE(s.message().find("encrypted"), std::string::npos);
}

}  // namespace
}  // namespace tidewatch::testing
