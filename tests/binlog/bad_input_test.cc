// Bad input gives a clear error naming the file and byte offset, a non-zero
// exit, and never a crash, a hang or an unbounded allocation.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "binlog/file_reader.h"
#include "tests/binlog/dump_helper.h"
#include "tests/binlog/event_builder.h"

namespace tidewatch::testing {
namespace {

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tidewatch-bad-input-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A valid file: FORMAT_DESCRIPTION, a QUERY and an XID, CRC32 on.
  FileBuilder Valid() {
    FileBuilder f;
    Bytes q;
    q.u32(7).u32(0).u8(4).u16(0).u16(0).str("test").u8(0).str("INSERT INTO t VALUES (1)");
    query_pos_ = f.Add(binlog::kQueryEvent, q.vec());
    xid_pos_ = f.Add(binlog::kXidEvent, Bytes().u64(42).vec());
    return f;
  }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  std::filesystem::path dir_;
  uint64_t query_pos_ = 0, xid_pos_ = 0;
};

TEST_F(BadInput, ValidFileDecodes) {
  auto r = Dump({Valid().Write(Path("ok.bin"))});
  ASSERT_EQ(r.rc, 0) << r.error;
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[1]["query"], "INSERT INTO t VALUES (1)");
  EXPECT_EQ(r.events[1]["db"], "test");
  EXPECT_EQ(r.events[2]["xid"], 42);
}

TEST_F(BadInput, ChecksumMismatchNamesFileAndOffset) {
  auto f = Valid();
  f.data()[query_pos_ + 30] ^= 0x01;
  auto path = f.Write(Path("crc.bin"));
  auto r = Dump({path});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.events.size(), 1u);  // the FORMAT_DESCRIPTION before the damage
  EXPECT_NE(r.error.find(path), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("checksum mismatch in event at byte offset " + std::to_string(query_pos_)),
            std::string::npos)
      << r.error;
}

TEST_F(BadInput, LyingLengthLargerThanFile) {
  auto f = Valid();
  auto& d = f.data();
  d[xid_pos_ + 9] = 0xff;  // event_size = 0xff......: far past the end
  d[xid_pos_ + 12] = 0x7f;
  auto r = Dump({f.Write(Path("long.bin"))});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.error.find("truncated event at byte offset " + std::to_string(xid_pos_)), std::string::npos)
      << r.error;
}

TEST_F(BadInput, LyingLengthShorterThanHeader) {
  auto f = Valid();
  auto& d = f.data();
  d[query_pos_ + 9] = 3;
  d[query_pos_ + 10] = d[query_pos_ + 11] = d[query_pos_ + 12] = 0;
  auto r = Dump({f.Write(Path("short.bin"))});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.error.find("at byte offset " + std::to_string(query_pos_) + " declares a length of 3"),
            std::string::npos)
      << r.error;
}

TEST_F(BadInput, LyingInnerLengthIsCaughtWithoutChecksum) {
  // With checksums off the body's own lengths are the last line of defence:
  // a db_len that runs past the event must not read outside it. The event
  // is delivered undecoded, and the events after it are read.
  FileBuilder f(/*crc=*/false);
  Bytes q;
  q.u32(7).u32(0).u8(250).u16(0).u16(0).str("test").u8(0).str("SELECT 1");
  auto pos = f.Add(binlog::kQueryEvent, q.vec());
  f.Add(binlog::kXidEvent, Bytes().u64(12).vec());
  auto r = Dump({f.Write(Path("inner.bin"))});
  EXPECT_EQ(r.rc, 0) << r.error;
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[1]["pos"], pos);
  EXPECT_EQ(r.events[1]["type_name"], "QUERY_EVENT");
  EXPECT_EQ(r.events[1]["undecoded"], "status variables or db name run past the event");
  EXPECT_EQ(r.events[2]["xid"], 12);
}

TEST_F(BadInput, TruncatedMidEvent) {
  auto f = Valid();
  f.data().resize(xid_pos_ + 10);
  auto r = Dump({f.Write(Path("cut.bin"))});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.events.size(), 2u);
  EXPECT_NE(r.error.find("truncated event header at byte offset " + std::to_string(xid_pos_)),
            std::string::npos)
      << r.error;
}

TEST_F(BadInput, GarbageDirectoryMissingAndEmpty) {
  std::ofstream(Path("garbage.bin")) << "this is not a binlog at all";
  std::ofstream(Path("empty.bin"));
  std::filesystem::create_directories(Path("adir"));
  auto garbage = Dump({Path("garbage.bin")});
  EXPECT_EQ(garbage.rc, 1);
  EXPECT_NE(garbage.error.find("garbage.bin: at byte offset 0: no binlog magic"), std::string::npos)
      << garbage.error;
  auto dir = Dump({Path("adir")});
  EXPECT_EQ(dir.rc, 1);
  EXPECT_NE(dir.error.find("adir: not a regular file (a directory)"), std::string::npos) << dir.error;
  auto missing = Dump({Path("missing.bin")});
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.error.find("missing.bin: cannot open: No such file or directory"), std::string::npos)
      << missing.error;
  auto empty = Dump({Path("empty.bin")});
  EXPECT_EQ(empty.rc, 1);
  EXPECT_NE(empty.error.find("empty.bin: at byte offset 0"), std::string::npos) << empty.error;
}

TEST_F(BadInput, OneBadFileDoesNotStopTheOthers) {
  std::ofstream(Path("garbage.bin")) << "nope";
  auto r = Dump({Path("garbage.bin"), Valid().Write(Path("ok.bin"))});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.events.size(), 3u);
}

TEST_F(BadInput, EveryTruncationOfAValidFileFailsCleanly) {
  auto f = Valid();
  const auto full = f.data();
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + n);
    binlog::BinlogFileReader reader;
    Status s = reader.OpenBuffer(cut, "cut");
    binlog::RawEvent raw;
    while (s.ok()) s = reader.Next(&raw);
    if (n < 4) {
      EXPECT_TRUE(s.IsCorruption()) << n << ": " << s.ToString();
      continue;
    }
    if (n == 4 || n == xid_pos_ || n == query_pos_) {
      EXPECT_TRUE(s.IsEndOfFile()) << n << ": " << s.ToString();
    } else {
      EXPECT_TRUE(s.IsTruncated()) << n << ": " << s.ToString();
    }
  }
}

}  // namespace
}  // namespace tidewatch::testing
