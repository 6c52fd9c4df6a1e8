#include <gtest/gtest.h>

#include "pgtid/pseudo_gtid_pattern.h"
#include "pgtid/server_index.h"

namespace tidewatch::pgtid {
namespace {

TEST(PseudoGtidPatternTest, FixedSubstringAndRegex) {
  std::unique_ptr<PseudoGtidPattern> fixed, regex;
  ASSERT_TRUE(PseudoGtidPattern::Create({}, &fixed).ok());
  EXPECT_TRUE(fixed->Matches("drop view if exists `meta`.`_pseudo_gtid_hint__asc:6B02:0011:A890`"));
  EXPECT_FALSE(fixed->Matches("drop view if exists `meta`.`other`"));
  EXPECT_TRUE(fixed->IsMonotonic("drop view if exists `meta`.`_pseudo_gtid_hint__asc:6B02`"));

  PseudoGtidConfig c;
  c.pattern = "drop view if exists .*?`_pseudo_gtid_hint__";
  c.fixed_substring = false;
  ASSERT_TRUE(PseudoGtidPattern::Create(c, &regex).ok());
  EXPECT_TRUE(regex->Matches("drop view if exists `meta`.`_pseudo_gtid_hint__asc:1`"));
  EXPECT_FALSE(regex->Matches("drop table if exists `meta`.`_pseudo_gtid_hint__asc:1`"));
  // A fixed substring is taken literally, regex characters included.
  c.fixed_substring = true;
  ASSERT_TRUE(PseudoGtidPattern::Create(c, &fixed).ok());
  EXPECT_FALSE(fixed->Matches("drop view if exists `meta`.`_pseudo_gtid_hint__asc:1`"));
}

TEST(PseudoGtidPatternTest, BadPatternsAreErrors) {
  std::unique_ptr<PseudoGtidPattern> p;
  PseudoGtidConfig c;
  c.pattern = "(unclosed";
  c.fixed_substring = false;
  auto s = PseudoGtidPattern::Create(c, &p);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("(unclosed"), std::string::npos) << s.message();
  c.pattern.clear();
  EXPECT_FALSE(PseudoGtidPattern::Create(c, &p).ok());
}

// Events of 100 bytes from position 4; entries at the given event numbers.
void Feed(ServerIndex* idx, const std::string& file, int events, std::initializer_list<int> entries,
          const std::string& tag) {
  idx->SetFile(file);
  uint64_t pos = 4;
  for (int i = 1; i <= events; ++i) {
    idx->AddEvent(pos, pos + 100, static_cast<EventSignature>(1 << 16 | i));
    for (int e : entries) {
      if (e == i) idx->AddEntry(pos, pos + 100, tag + std::to_string(i), 0, "");
    }
    pos += 100;
  }
}

TEST(ServerIndexTest, TranslatesCoordinatesToEntryPlusEvents) {
  ServerIndex idx("s");
  Feed(&idx, "b.000001", 10, {3, 8}, "one-");
  EntryOffset off;
  ASSERT_TRUE(idx.Translate({"b.000001", 4 + 10 * 100}, &off).ok());
  EXPECT_EQ(off.entry->text, "one-8");
  EXPECT_EQ(off.k, 2u);
  ASSERT_EQ(off.signatures.size(), 2u);
  EXPECT_EQ(off.signatures[0], static_cast<EventSignature>(1 << 16 | 9));
  // Right after an entry: zero events.
  ASSERT_TRUE(idx.Translate({"b.000001", 4 + 3 * 100}, &off).ok());
  EXPECT_EQ(off.entry->text, "one-3");
  EXPECT_EQ(off.k, 0u);
  // Across a rotation, counting continues.
  Feed(&idx, "b.000002", 4, {}, "two-");
  ASSERT_TRUE(idx.Translate({"b.000002", 4 + 3 * 100}, &off).ok());
  EXPECT_EQ(off.entry->text, "one-8");
  EXPECT_EQ(off.k, 5u);
  EXPECT_EQ(idx.position(), (BinlogCoordinates{"b.000002", 404}));
  EXPECT_EQ(idx.FindEntry("one-3")->pos, 204u);
  EXPECT_EQ(idx.FindEntry("nope"), nullptr);
  EXPECT_EQ(idx.LastEntry()->text, "one-8");
}

TEST(ServerIndexTest, RefusesWhatItCannotKnow) {
  ServerIndex idx("s");
  Feed(&idx, "b.000001", 10, {5}, "e-");
  EntryOffset off;
  auto s = idx.Translate({"b.000001", 5000}, &off);
  EXPECT_NE(s.message().find("beyond the indexed position"), std::string::npos) << s.message();
  s = idx.Translate({"b.000001", 204}, &off);
  EXPECT_NE(s.message().find("no Pseudo-GTID entry"), std::string::npos) << s.message();
  s = idx.Translate({"a.000009", 4}, &off);
  EXPECT_NE(s.message().find("not in the indexed binlogs"), std::string::npos) << s.message();
}

TEST(ServerIndexTest, BoundedWindowAndEntries) {
  IndexOptions o;
  o.window_events = 1;  // the window keeps one segment
  o.max_entries = 2;
  ServerIndex idx("s", o);
  const int n = static_cast<int>(ServerIndex::kSegmentEvents) * 2 + 10;
  Feed(&idx, "b.000001", n, {1, 50, 100}, "e-");
  EXPECT_EQ(idx.entry_count(), 2u);
  EXPECT_EQ(idx.FindEntry("e-1"), nullptr);
  EntryOffset off;
  // An old point is outside the window.
  auto s = idx.Translate({"b.000001", 4 + 200 * 100}, &off);
  EXPECT_NE(s.message().find("older than the index's event window"), std::string::npos) << s.message();
  // A recent point after an old entry: k is known, the signatures are not.
  ASSERT_TRUE(idx.Translate({"b.000001", 4 + static_cast<uint64_t>(n - 3) * 100}, &off).ok());
  EXPECT_EQ(off.entry->text, "e-100");
  EXPECT_EQ(off.k, static_cast<uint64_t>(n - 103));
  EXPECT_TRUE(off.signatures.empty());
  EXPECT_LT(idx.MemoryBytes(), 3 * ServerIndex::kSegmentEvents * sizeof(uint64_t));
}

TEST(ServerIndexTest, ForgetsPurgedFiles) {
  ServerIndex idx("s");
  Feed(&idx, "b.000001", 10, {2}, "one-");
  Feed(&idx, "b.000002", 10, {2}, "two-");
  idx.DropFilesBefore("b.000002");
  EXPECT_EQ(idx.FindEntry("one-2"), nullptr);
  ASSERT_NE(idx.FindEntry("two-2"), nullptr);
  EntryOffset off;
  ASSERT_TRUE(idx.Translate({"b.000002", 1004}, &off).ok());
  EXPECT_EQ(off.k, 8u);
  EXPECT_FALSE(idx.Translate({"b.000001", 1004}, &off).ok());
}

TEST(SignatureTest, HashZeroIsAWildcardClassIsNot) {
  EXPECT_TRUE(SignaturesAgree(1 << 16 | 5, 1 << 16 | 5));
  EXPECT_FALSE(SignaturesAgree(1 << 16 | 5, 1 << 16 | 6));
  EXPECT_TRUE(SignaturesAgree(1 << 16 | 0, 1 << 16 | 6));
  EXPECT_FALSE(SignaturesAgree(2 << 16 | 0, 1 << 16 | 0));
}

}  // namespace
}  // namespace tidewatch::pgtid
