#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sinks/spool.h"

namespace tidewatch::sinks {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tidewatch-spool-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  SpoolOptions Options(uint64_t max = 1 << 20, uint64_t segment = 1 << 10) {
    SpoolOptions o;
    o.dir = dir_.string();
    o.max_bytes = max;
    o.segment_bytes = segment;
    return o;
  }
  fs::path dir_;
};

TEST_F(SpoolTest, DeliversInOrderAcrossSegmentsAndRestarts) {
  {
    std::unique_ptr<Spool> s;
    ASSERT_TRUE(Spool::Open(Options(), &s).ok());
    for (int i = 0; i < 100; ++i) {
      uint64_t idx;
      ASSERT_TRUE(s->Append("message-" + std::to_string(i) + std::string(50, 'x'), &idx).ok());
      EXPECT_EQ(idx, static_cast<uint64_t>(i));
    }
    std::string p;
    uint64_t idx;
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(s->Next(&p, &idx));
      EXPECT_EQ(idx, static_cast<uint64_t>(i));
      EXPECT_EQ(p.substr(0, p.find('x')), "message-" + std::to_string(i));
    }
    // Acknowledgements out of order: the watermark covers the contiguous prefix.
    for (int i = 39; i >= 0; --i) s->Ack(i);
    s->Ack(45);
    EXPECT_EQ(s->acked_through(), 40u);
    ASSERT_TRUE(s->Checkpoint().ok());
    EXPECT_EQ(s->pending(), 60u);
  }
  // After a restart, delivery resumes at the watermark.
  std::unique_ptr<Spool> s;
  ASSERT_TRUE(Spool::Open(Options(), &s).ok());
  EXPECT_EQ(s->pending(), 60u);
  std::string p;
  uint64_t idx;
  ASSERT_TRUE(s->Next(&p, &idx));
  EXPECT_EQ(idx, 40u);
  EXPECT_EQ(p.substr(0, p.find('x')), "message-40");
  uint64_t n = 1;
  while (s->Next(&p, &idx)) ++n;
  EXPECT_EQ(n, 60u);
  // Rewind after a failed send.
  s->Rewind(70);
  ASSERT_TRUE(s->Next(&p, &idx));
  EXPECT_EQ(idx, 70u);
  for (uint64_t i = 40; i < 100; ++i) s->Ack(i);
  ASSERT_TRUE(s->Checkpoint().ok());
  EXPECT_EQ(s->pending(), 0u);
  EXPECT_LT(s->bytes(), 2048u);  // delivered segments are deleted
}

TEST_F(SpoolTest, TornLastRecordIsCutOff) {
  {
    std::unique_ptr<Spool> s;
    ASSERT_TRUE(Spool::Open(Options(1 << 20, 1 << 20), &s).ok());
    uint64_t idx;
    ASSERT_TRUE(s->Append("one", &idx).ok());
    ASSERT_TRUE(s->Append("two", &idx).ok());
  }
  fs::path seg;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".log") seg = e.path();
  }
  fs::resize_file(seg, fs::file_size(seg) - 2);
  std::unique_ptr<Spool> s;
  ASSERT_TRUE(Spool::Open(Options(1 << 20, 1 << 20), &s).ok());
  EXPECT_EQ(s->pending(), 1u);
  uint64_t idx;
  ASSERT_TRUE(s->Append("three", &idx).ok());
  EXPECT_EQ(idx, 1u);
  std::string p;
  ASSERT_TRUE(s->Next(&p, &idx));
  EXPECT_EQ(p, "one");
  ASSERT_TRUE(s->Next(&p, &idx));
  EXPECT_EQ(p, "three");
}

TEST_F(SpoolTest, FullSpoolRefusesOrDropsOldestAndCountsIt) {
  std::unique_ptr<Spool> s;
  ASSERT_TRUE(Spool::Open(Options(2000, 500), &s).ok());
  uint64_t idx;
  Status st;
  int accepted = 0;
  while ((st = s->Append(std::string(100, 'a'), &idx)).ok()) ++accepted;
  EXPECT_NE(st.message().find("is full"), std::string::npos) << st.message();
  EXPECT_EQ(s->dropped(), 0u);
  s.reset();
  auto o = Options(2000, 500);
  o.full_policy = SpoolOptions::FullPolicy::kDropOldest;
  ASSERT_TRUE(Spool::Open(o, &s).ok());
  ASSERT_TRUE(s->Append(std::string(100, 'b'), &idx).ok());
  EXPECT_GT(s->dropped(), 0u);
  EXPECT_LE(s->bytes(), 2000u);
  std::string p;
  ASSERT_TRUE(s->Next(&p, &idx));
  EXPECT_GE(idx, s->dropped());
}

TEST_F(SpoolTest, DamagedMiddleSegmentIsAnError) {
  {
    std::unique_ptr<Spool> s;
    ASSERT_TRUE(Spool::Open(Options(1 << 20, 100), &s).ok());
    uint64_t idx;
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(s->Append(std::string(60, 'c'), &idx).ok());
  }
  std::vector<fs::path> segs;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".log") segs.push_back(e.path());
  }
  std::sort(segs.begin(), segs.end());
  ASSERT_GT(segs.size(), 2u);
  {
    std::fstream f(segs[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('X');
  }
  std::unique_ptr<Spool> s;
  Status st = Spool::Open(Options(1 << 20, 100), &s);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find(segs[0].string()), std::string::npos) << st.message();
}

// Several failed sends reported in any order: the earliest is sent again,
// and what was acknowledged in the meantime is not.
TEST_F(SpoolTest, RewindGoesBackToTheEarliestFailureAndSkipsDelivered) {
  std::unique_ptr<Spool> s;
  ASSERT_TRUE(Spool::Open(Options(), &s).ok());
  uint64_t idx;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s->Append("m" + std::to_string(i), &idx).ok());
  std::string p;
  while (s->Next(&p, &idx)) {
  }
  s->Ack(0);
  s->Ack(1);
  s->Rewind(5);
  s->Rewind(3);
  s->Rewind(7);  // a later report for a later record
  s->Ack(4);     // delivered after all
  std::vector<uint64_t> again;
  while (s->Next(&p, &idx)) again.push_back(idx);
  EXPECT_EQ(again, (std::vector<uint64_t>{3, 5, 6, 7, 8, 9})) << "from the earliest failure, 4 skipped";
}

// The newest record survives its delivery and the deletion of delivered
// segments, so a restarted producer finds where its numbering stopped.
TEST_F(SpoolTest, NewestRecordIsKeptAfterDelivery) {
  {
    std::unique_ptr<Spool> s;
    ASSERT_TRUE(Spool::Open(Options(1 << 20, 100), &s).ok());
    std::string p;
    EXPECT_FALSE(s->LastAtOpen(&p));
    uint64_t idx;
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(s->Append("record-" + std::to_string(i) + std::string(40, 'z'), &idx).ok());
    while (s->Next(&p, &idx)) s->Ack(idx);
    ASSERT_TRUE(s->Checkpoint().ok());
    EXPECT_EQ(s->pending(), 0u);
  }
  std::unique_ptr<Spool> s;
  ASSERT_TRUE(Spool::Open(Options(1 << 20, 100), &s).ok());
  EXPECT_EQ(s->pending(), 0u);
  std::string p;
  ASSERT_TRUE(s->LastAtOpen(&p));
  EXPECT_EQ(p.substr(0, p.find('z')), "record-19");
  uint64_t idx;
  ASSERT_TRUE(s->Append("record-20", &idx).ok());
  EXPECT_EQ(idx, 20u);
}

}  // namespace
}  // namespace tidewatch::sinks
