// Walking headers and verifying checksums allocates nothing per event; nor
// does decoding once the decoder has seen each table. Counted with a
// replacement global operator new in this test program.
#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "binlog/event_decoder.h"
#include "binlog/file_reader.h"
#include "binlog/row_values.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tidewatch::binlog {
namespace {

const char* kFile = TIDEWATCH_FIXTURES "/mysql-bin.checksum-crc32";

TEST(NoAllocation, WalkingAndVerifyingAllocatesNothingPerEvent) {
  BinlogFileReader reader;
  ASSERT_TRUE(reader.Open(kFile).ok());
  RawEvent raw;
  uint64_t events = 0;
  const uint64_t before = g_allocations.load();
  Status s;
  while ((s = reader.Next(&raw)).ok()) ++events;
  const uint64_t during = g_allocations.load() - before;
  EXPECT_TRUE(s.IsEndOfFile());
  EXPECT_GT(events, 300u);
  EXPECT_LE(during, 1u);  // the EndOfFile status itself
}

TEST(NoAllocation, DecodingAgainAllocatesNothing) {
  // First pass: the decoder meets every table and sizes its buffers.
  EventDecoder decoder;
  Event event;
  for (int pass = 0; pass < 2; ++pass) {
    BinlogFileReader reader;
    ASSERT_TRUE(reader.Open(kFile).ok());
    RawEvent raw;
    uint64_t decoded = 0;
    const uint64_t before = g_allocations.load();
    Status s;
    while ((s = reader.Next(&raw)).ok()) {
      ASSERT_TRUE(decoder.Decode(raw, reader.format(), &event).ok());
      ++decoded;
    }
    const uint64_t during = g_allocations.load() - before;
    EXPECT_GT(decoded, 300u);
    if (pass == 1) {
      EXPECT_LE(during, 1u) << "allocations while decoding " << decoded << " events";
    }
  }
}

TEST(NoAllocation, DecodingMySql8MetadataAgainAllocatesNothing) {
  // Optional table-map metadata (minimal and full, ENUM/SET strings, column
  // visibility): the decoder's storage is reused.
  const char* files[] = {TIDEWATCH_FIXTURES "/minimal_row_metadata.000001",
                         TIDEWATCH_FIXTURES "/mysql-enum-string-set.000001",
                         TIDEWATCH_FIXTURES "/binlog-invisible-columns.000001"};
  EventDecoder decoder;
  Event event;
  for (int pass = 0; pass < 2; ++pass) {
    uint64_t during = 0, decoded = 0;
    for (const char* f : files) {
      BinlogFileReader reader;
      ASSERT_TRUE(reader.Open(f).ok());
      RawEvent raw;
      const uint64_t before = g_allocations.load();
      Status s;
      while ((s = reader.Next(&raw)).ok()) {
        ASSERT_TRUE(decoder.Decode(raw, reader.format(), &event).ok());
        ASSERT_FALSE(std::holds_alternative<UndecodedBody>(event.body)) << f;
        ++decoded;
      }
      during += g_allocations.load() - before;
    }
    EXPECT_GT(decoded, 40u);
    if (pass == 1) {
      EXPECT_LE(during, 4u) << "allocations while decoding " << decoded << " events";  // one EndOfFile per file
    }
  }
}

TEST(NoAllocation, MaterialisingEveryRowValueAgainAllocatesNothing) {
  // First pass: the decoder meets every table and the value reader holds the
  // widest image.
  EventDecoder decoder;
  Event event;
  RowValueReader values;
  for (int pass = 0; pass < 2; ++pass) {
    BinlogFileReader reader;
    ASSERT_TRUE(reader.Open(kFile).ok());
    RawEvent raw;
    uint64_t materialised = 0;
    const uint64_t before = g_allocations.load();
    Status s;
    while ((s = reader.Next(&raw)).ok()) {
      ASSERT_TRUE(decoder.Decode(raw, reader.format(), &event).ok());
      const auto* rows = std::get_if<RowsBody>(&event.body);
      if (rows == nullptr || rows->columns == nullptr) continue;
      ASSERT_TRUE(values.Reset(*rows).ok());
      std::span<const ColumnValue> image;
      while (values.Next(&image)) materialised += image.size();
      ASSERT_TRUE(values.status().ok());
    }
    const uint64_t during = g_allocations.load() - before;
    EXPECT_GT(materialised, 1000u);
    if (pass == 1) {
      EXPECT_LE(during, 1u) << "allocations while materialising " << materialised << " values";
    }
  }
}

}  // namespace
}  // namespace tidewatch::binlog
