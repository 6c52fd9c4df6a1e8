// An event whose framing and checksum are sound is delivered whatever its
// body holds: decoded, or undecoded with the reason — and the walk goes on.
// Only framing errors stop a file (bad_input_test.cc).
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "binlog/checksum.h"
#include "binlog/event_decoder.h"
#include "binlog/file_reader.h"
#include "tests/binlog/dump_helper.h"
#include "tests/binlog/event_builder.h"

namespace tidewatch::testing {
namespace {

using namespace tidewatch::binlog;

std::vector<uint8_t> ReadFixture(const std::string& name) {
  std::ifstream in(std::string(TIDEWATCH_FIXTURES) + "/" + name, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// The events of a binlog image, as byte strings (after the magic).
std::vector<std::vector<uint8_t>> SplitEvents(const std::vector<uint8_t>& file) {
  std::vector<std::vector<uint8_t>> events;
  for (size_t at = kBinlogMagicSize; at + kEventHeaderSize <= file.size();) {
    const uint32_t size = ParseEventHeader(file.data() + at).event_size;
    events.emplace_back(file.begin() + at, file.begin() + at + size);
    at += size;
  }
  return events;
}

// Replaces the body of `event` (header and checksum kept apart) by `body`,
// fixing its length and, with `crc`, its checksum: sound framing around any body.
std::vector<uint8_t> WithBody(const std::vector<uint8_t>& event, const std::vector<uint8_t>& body, bool crc) {
  std::vector<uint8_t> e(event.begin(), event.begin() + kEventHeaderSize);
  e.insert(e.end(), body.begin(), body.end());
  const uint32_t size = static_cast<uint32_t>(e.size() + (crc ? kChecksumSize : 0));
  for (int i = 0; i < 4; ++i) e[9 + i] = static_cast<uint8_t>(size >> (8 * i));
  if (crc) {
    const uint32_t c = Crc32(e.data(), e.size());
    for (int i = 0; i < 4; ++i) e.push_back(static_cast<uint8_t>(c >> (8 * i)));
  }
  return e;
}

struct WalkResult {
  Status end;
  size_t events = 0, undecoded = 0, inner = 0;
};

WalkResult Walk(const std::vector<uint8_t>& file) {
  WalkResult w;
  BinlogFileReader reader;
  w.end = reader.OpenBuffer(file, "mutated");
  if (!w.end.ok()) return w;
  EventDecoder decoder;
  RawEvent raw;
  Event e, inner;
  while ((w.end = reader.Next(&raw)).ok()) {
    EXPECT_TRUE(decoder.Decode(raw, reader.format(), &e).ok());
    ++w.events;
    w.undecoded += std::holds_alternative<UndecodedBody>(e.body);
    if (!std::holds_alternative<TransactionPayloadBody>(e.body)) continue;
    size_t offset = 0;
    RawEvent inner_raw;
    Status s;
    while ((s = decoder.NextPayloadEvent(reader.format(), raw.pos, &offset, &inner_raw)).ok()) {
      EXPECT_TRUE(decoder.Decode(inner_raw, reader.format(), &inner).ok());
      ++w.inner;
    }
    EXPECT_TRUE(s.IsEndOfFile()) << s.ToString();
  }
  return w;
}

// Mutations of a body: each keeps the framing sound.
std::vector<std::vector<uint8_t>> Mutations(const std::vector<uint8_t>& body) {
  std::vector<std::vector<uint8_t>> m;
  for (size_t k : {size_t{0}, size_t{1}, body.size() / 3, body.size() / 2, body.size() - 1}) {
    if (k >= body.size()) continue;
    auto b = body;
    b[k] ^= 0xa5;
    m.push_back(b);
  }
  m.push_back(std::vector<uint8_t>(body.begin(), body.begin() + body.size() / 2));  // cut short
  m.push_back({});                                                                  // emptied
  auto longer = body;
  longer.insert(longer.end(), {0xfe, 0xff, 0xff, 0xff, 0x7f});
  m.push_back(longer);
  m.push_back(std::vector<uint8_t>(body.size(), 0xff));
  return m;
}

TEST(Undecoded, MutatedBodiesBehindSoundFramingNeverStopTheWalk) {
  size_t walks = 0, undecoded = 0;
  for (const char* name : {"mysql-bin.checksum-crc32", "mysql-bin.compressed", "mariadb-bin.000001",
                           "minimal_row_metadata.000001", "json.binlog.000001", "binlog-invisible-columns.000001",
                           "mysql-enum-string-set.000001", "bug33029-slave-relay-bin.000001"}) {
    const auto file = ReadFixture(name);
    ASSERT_FALSE(file.empty()) << name;
    const auto events = SplitEvents(file);
    // The description says whether events carry checksums.
    FormatDescription fd;
    ASSERT_TRUE(ParseFormatDescription(std::span<const uint8_t>(events[0]).subspan(kEventHeaderSize), &fd).ok());
    const bool crc = fd.HasChecksum();
    for (size_t i = 1; i < events.size(); ++i) {
      const uint8_t type = events[i][4];
      if (type == kFormatDescriptionEvent || type == kStartEncryptionEvent) continue;  // they govern the framing
      const size_t body_end = events[i].size() - (crc ? kChecksumSize : 0);
      const std::vector<uint8_t> body(events[i].begin() + kEventHeaderSize, events[i].begin() + body_end);
      for (const auto& mutated : Mutations(body)) {
        std::vector<uint8_t> f(kBinlogMagic, kBinlogMagic + kBinlogMagicSize);
        for (size_t k = 0; k < events.size(); ++k) {
          const auto e = k == i ? WithBody(events[k], mutated, crc) : events[k];
          f.insert(f.end(), e.begin(), e.end());
        }
        const WalkResult w = Walk(f);
        ASSERT_TRUE(w.end.IsEndOfFile()) << name << " event " << i << ": " << w.end.ToString();
        ASSERT_EQ(w.events, events.size()) << name << " event " << i;
        ++walks;
        undecoded += w.undecoded;
      }
    }
  }
  EXPECT_GT(walks, 2000u);
  EXPECT_GT(undecoded, 500u);  // the mutations do reach the decoder's checks
}

TEST(Undecoded, AnUndecodableBodyIsDumpedWithItsHeaderAndSize) {
  FileBuilder f;
  f.Add(kQueryEvent, Bytes().u32(1).u32(0).u8(1).u16(0).u16(0).str("d").u8(0).str("BEGIN").vec());
  const uint64_t bad = f.Add(kMariaGtidListEvent, Bytes().u32(7).vec());  // 7 GTIDs in 0 bytes
  f.Add(kXidEvent, Bytes().u64(3).vec());
  const std::string path = ::testing::TempDir() + "/undecodable.bin";
  auto r = Dump({f.Write(path)});
  ASSERT_EQ(r.rc, 0) << r.error;
  ASSERT_EQ(r.events.size(), 4u);
  const auto& e = r.events[2];
  EXPECT_EQ(e["pos"], bad);
  EXPECT_EQ(e["type_name"], "GTID_LIST_EVENT");
  EXPECT_EQ(e["size"], 19 + 4 + 4);
  EXPECT_EQ(e["next_pos"], bad + 27);
  EXPECT_EQ(e["server_id"], 1);
  EXPECT_EQ(e["undecoded"], "GTID list announces 7 entries in 0 bytes");
  EXPECT_EQ(r.events[3]["xid"], 3);
}

TEST(Undecoded, APayloadWhoseEventsDoNotChainIsUndecodedAsAWhole) {
  FileBuilder f(true, FormatDescriptionBody("8.4.3", MySql84PostHeaderLengths(), true, true));
  auto inner = MakeEvent(kXidEvent, Bytes().u64(5).vec(), 0, false);
  auto lying = inner;
  lying[9] = 200;  // the nested event declares more than the payload holds
  for (const auto* nested : {&inner, &lying}) {
    Bytes p;
    p.packed(1).packed(1).packed(2 * nested->size()).packed(2).packed(3).packed(255).packed(0);
    p.raw(inner).raw(*nested);
    f.Add(kTransactionPayloadEvent, p.vec());
  }
  f.Add(kXidEvent, Bytes().u64(6).vec());
  const WalkResult w = Walk(f.data());
  EXPECT_TRUE(w.end.IsEndOfFile()) << w.end.ToString();
  EXPECT_EQ(w.events, 4u);
  EXPECT_EQ(w.undecoded, 1u);
  EXPECT_EQ(w.inner, 2u);  // the sound payload's two events; none of the other's
}

TEST(Undecoded, TheDecoderCountsWhatItCouldNotDecode) {
  FileBuilder f;
  f.Add(250, Bytes().str("from a later server").vec());
  f.Add(kXidEvent, Bytes().u32(1).vec());
  f.Add(kXidEvent, Bytes().u64(1).vec());
  BinlogFileReader reader;
  ASSERT_TRUE(reader.OpenBuffer(f.data(), "count").ok());
  EventDecoder decoder;
  RawEvent raw;
  Event e;
  while (reader.Next(&raw).ok()) ASSERT_TRUE(decoder.Decode(raw, reader.format(), &e).ok());
  EXPECT_EQ(decoder.undecoded_events(), 2u);
}

}  // namespace
}  // namespace tidewatch::testing
