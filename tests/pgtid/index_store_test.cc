#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pgtid/index_store.h"

namespace tidewatch::pgtid {
namespace {

namespace fs = std::filesystem;

class IndexStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("tidewatch-store-" + std::to_string(::getpid()) + ".db")).string();
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
  }
  std::string path_;
};

// Feeds `events` events of 100 bytes into `idx`, rotating every 5000 and
// marking every 97th as an entry.
void Feed(ServerIndex* idx, uint64_t* n, int events) {
  for (int i = 0; i < events; ++i, ++*n) {
    if (*n % 5000 == 0) idx->SetFile("bin." + std::to_string(100000 + *n / 5000));
    const uint64_t pos = 4 + (*n % 5000) * 100;
    idx->AddEvent(pos, pos + 100, static_cast<EventSignature>((*n * 7) & 0xffffff));
    if (*n % 97 == 0) idx->AddEntry(pos, pos + 100, "entry-" + std::to_string(*n), 1000 + *n, "0-1-" + std::to_string(*n));
  }
}

void ExpectSame(const ServerIndex& a, const ServerIndex& b) {
  ASSERT_EQ(a.files(), b.files());
  EXPECT_EQ(a.position(), b.position());
  EXPECT_EQ(a.events_indexed(), b.events_indexed());
  ASSERT_EQ(a.first_entry_number(), b.first_entry_number());
  ASSERT_EQ(a.entry_count(), b.entry_count());
  for (size_t i = 0; i < a.entry_count(); ++i) {
    const auto &x = a.entry(i), &y = b.entry(i);
    EXPECT_EQ(x.text, y.text);
    EXPECT_EQ(x.file, y.file);
    EXPECT_EQ(x.pos, y.pos);
    EXPECT_EQ(x.ordinal, y.ordinal);
    EXPECT_EQ(x.gtid, y.gtid);
    EXPECT_EQ(b.FindEntry(x.text), &y);
  }
  // Every query over a spread of points answers the same.
  int answered = 0;
  for (uint64_t back = 0; back < 40000; back += 777) {
    const uint64_t n = a.events_indexed() > back ? a.events_indexed() - back : 0;
    BinlogCoordinates at{"bin." + std::to_string(100000 + (n - 1) / 5000), 4 + ((n - 1) % 5000 + 1) * 100};
    EntryOffset ea, eb;
    Status sa = a.Translate(at, &ea), sb = b.Translate(at, &eb);
    ASSERT_EQ(sa.ok(), sb.ok()) << at.ToString() << ": " << sa.ToString() << " / " << sb.ToString();
    if (sa.ok()) {
      ++answered;
      EXPECT_EQ(ea.entry->text, eb.entry->text);
      EXPECT_EQ(ea.k, eb.k);
      EXPECT_EQ(ea.signatures, eb.signatures);
    }
  }
  EXPECT_GT(answered, 10);
}

TEST_F(IndexStoreTest, IncrementalSyncsLoadToTheSameIndex) {
  IndexOptions o;
  o.max_entries = 150;
  o.window_events = 20000;
  ServerIndex idx("127.0.0.1:3306", o);
  uint64_t n = 0;
  {
    std::unique_ptr<IndexStore> store;
    ASSERT_TRUE(IndexStore::Open(path_, &store).ok());
    for (int round = 0; round < 6; ++round) {
      Feed(&idx, &n, 9000 + round * 1234);
      ASSERT_TRUE(store->Sync(idx).ok());
    }
    idx.DropFilesBefore("bin.100003");
    ASSERT_TRUE(store->Sync(idx).ok());
  }
  std::unique_ptr<IndexStore> store;
  ASSERT_TRUE(IndexStore::Open(path_, &store).ok());
  ServerIndex back("127.0.0.1:3306", o);
  bool found = false;
  ASSERT_TRUE(store->Load("127.0.0.1:3306", &back, &found).ok());
  ASSERT_TRUE(found);
  ExpectSame(idx, back);
  // The loaded index goes on, syncs incrementally, and loads again the same.
  Feed(&idx, &n, 7000);
  Feed(&back, &(n = n - 7000), 7000);
  ASSERT_TRUE(store->Sync(back).ok());
  ServerIndex again("127.0.0.1:3306", o);
  std::unique_ptr<IndexStore> store2;
  ASSERT_TRUE(IndexStore::Open(path_, &store2).ok());
  ASSERT_TRUE(store2->Load("127.0.0.1:3306", &again, &found).ok());
  ExpectSame(idx, again);
}

TEST_F(IndexStoreTest, WithoutAFinalSyncTheLastSyncedStateLoads) {
  ServerIndex idx("s1");
  uint64_t n = 0;
  std::unique_ptr<IndexStore> store;
  ASSERT_TRUE(IndexStore::Open(path_, &store).ok());
  Feed(&idx, &n, 3000);
  ASSERT_TRUE(store->Sync(idx).ok());
  const auto synced = idx.position();
  Feed(&idx, &n, 3000);  // never synced: as if the process died here
  store.reset();
  ASSERT_TRUE(IndexStore::Open(path_, &store).ok());
  ServerIndex back("s1");
  bool found = false;
  ASSERT_TRUE(store->Load("s1", &back, &found).ok());
  EXPECT_EQ(back.position(), synced);
  EXPECT_EQ(back.events_indexed(), 3000u);
}

TEST_F(IndexStoreTest, ManyServersForgetAndErrors) {
  std::unique_ptr<IndexStore> store;
  ASSERT_TRUE(IndexStore::Open(path_, &store).ok());
  ServerIndex a("a:1"), b("b:2");
  uint64_t n = 0, m = 0;
  Feed(&a, &n, 1000);
  Feed(&b, &m, 2000);
  ASSERT_TRUE(store->Sync(a).ok());
  ASSERT_TRUE(store->Sync(b).ok());
  std::vector<std::string> servers;
  ASSERT_TRUE(store->Servers(&servers).ok());
  EXPECT_EQ(servers, (std::vector<std::string>{"a:1", "b:2"}));
  ASSERT_TRUE(store->Forget("a:1").ok());
  ServerIndex x("a:1");
  bool found = true;
  ASSERT_TRUE(store->Load("a:1", &x, &found).ok());
  EXPECT_FALSE(found);
  store.reset();

  const std::string junk = path_ + ".junk";
  std::ofstream(junk) << std::string(4096, 'x');
  std::unique_ptr<IndexStore> bad;
  Status s = IndexStore::Open(junk, &bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(junk), std::string::npos) << s.message();
  fs::remove(junk);
}

}  // namespace
}  // namespace tidewatch::pgtid
