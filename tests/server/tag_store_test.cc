// orchestrator's tag strings, and the stores of instance metadata kept under
// StateDir: tags, pools (with their expiry), hostname unresolve
// registrations — each read back by a new store from its file, as after a
// daemon restart.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server/hostname_unresolve.h"
#include "server/pool_store.h"
#include "server/tag_store.h"
#include "server/tag_string.h"

namespace tidewatch::server {
namespace {

Tag Parsed(const std::string& text) {
  Tag t;
  Status s = ParseTag(text, &t);
  EXPECT_TRUE(s.ok()) << text << ": " << s.message();
  return t;
}

TEST(TagStringTest, OrchestratorsForms) {
  Tag t = Parsed("role");
  EXPECT_EQ(t.name, "role");
  EXPECT_FALSE(t.has_value);
  EXPECT_FALSE(t.negate);

  t = Parsed("  role=backup ");
  EXPECT_EQ(t.name, "role");
  EXPECT_EQ(t.value, "backup");
  EXPECT_TRUE(t.has_value);

  t = Parsed("role=");
  EXPECT_TRUE(t.has_value);
  EXPECT_EQ(t.value, "");

  t = Parsed("a=b=c");
  EXPECT_EQ(t.name, "a");
  EXPECT_EQ(t.value, "b=c");

  for (const char* negated : {"!role", "~role"}) {
    t = Parsed(negated);
    EXPECT_EQ(t.name, "role") << negated;
    EXPECT_TRUE(t.negate);
    EXPECT_FALSE(t.has_value);
  }
  t = Parsed("!role=backup");
  EXPECT_TRUE(t.negate);
  EXPECT_EQ(t.value, "backup");

  // "!" is "~" anywhere, and a "~" that negates nothing is a name.
  t = Parsed("a!b");
  EXPECT_EQ(t.name, "a~b");
  t = Parsed("~");
  EXPECT_EQ(t.name, "~");
  EXPECT_FALSE(t.negate);
  t = Parsed("!=x");
  EXPECT_EQ(t.name, "~");
  EXPECT_EQ(t.value, "x");
  EXPECT_FALSE(t.negate);

  EXPECT_EQ(ParseTag("", &t).message(), "Unable to parse tag: ");
  EXPECT_EQ(ParseTag("=x", &t).message(), "Unable to parse tag: =x");
  EXPECT_EQ(TagString(Parsed("role")), "role=");
  EXPECT_EQ(TagDisplay("role", ""), "role");
  EXPECT_EQ(TagDisplay("role", "backup"), "role=backup");
}

TEST(TagStringTest, IntersectionAndPathTags) {
  std::vector<Tag> tags;
  ASSERT_TRUE(ParseIntersectTags("a,b=1,!c", &tags).ok());
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0].name, "a");
  EXPECT_EQ(tags[1].value, "1");
  EXPECT_TRUE(tags[2].negate);
  EXPECT_FALSE(ParseIntersectTags("a,,b", &tags).ok());
  EXPECT_FALSE(ParseIntersectTags("", &tags).ok());

  Tag t;
  EXPECT_EQ(NewTag("  ", "x", &t).message(), "NewTag: empty tag name");
  ASSERT_TRUE(NewTag(" dc ", "east", &t).ok());
  EXPECT_EQ(t.name, "dc");
  EXPECT_TRUE(t.has_value);
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tidewatch-tags-" + std::to_string(::getpid()) + "-" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

using TagStoreTest = TempDir;

std::vector<std::string> Tagged(const TagStore& s, const std::string& text) {
  std::vector<Tag> tags;
  EXPECT_TRUE(ParseIntersectTags(text, &tags).ok()) << text;
  return s.Tagged(tags);
}

TEST_F(TagStoreTest, SelectsAsOrchestrator) {
  TagStore s;
  ASSERT_TRUE(s.Put("db:10", "role", "backup").ok());
  ASSERT_TRUE(s.Put("db:9", "role", "reporting").ok());
  ASSERT_TRUE(s.Put("db:9", "dc", "east").ok());
  ASSERT_TRUE(s.Put("other:1", "dc", "west").ok());
  ASSERT_TRUE(s.Put("db:10", "role", "spare").ok()) << "a value is replaced";

  EXPECT_EQ(Tagged(s, "role"), (std::vector<std::string>{"db:9", "db:10"})) << "ports in numeric order";
  EXPECT_EQ(Tagged(s, "role=spare"), (std::vector<std::string>{"db:10"}));
  EXPECT_EQ(Tagged(s, "!role=spare"), (std::vector<std::string>{"db:9"}));
  EXPECT_EQ(Tagged(s, "!role"), (std::vector<std::string>{"other:1"}))
      << "instances with tags, none of that name";
  EXPECT_EQ(Tagged(s, "role,dc=east"), (std::vector<std::string>{"db:9"}));
  EXPECT_EQ(Tagged(s, "role,!dc"), (std::vector<std::string>{"db:10"}));
  EXPECT_TRUE(Tagged(s, "nothing").empty());

  std::string v;
  EXPECT_TRUE(s.Value("db:9", "dc", &v));
  EXPECT_EQ(v, "east");
  EXPECT_FALSE(s.Value("db:9", "rack", &v));
  const auto tags = s.TagsOf("db:9");
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].first, "dc") << "by name";
}

TEST_F(TagStoreTest, UntagsAsOrchestrator) {
  TagStore s;
  ASSERT_TRUE(s.Put("a:1", "role", "x").ok());
  ASSERT_TRUE(s.Put("b:1", "role", "x").ok());
  ASSERT_TRUE(s.Put("c:1", "role", "y").ok());
  std::vector<std::string> removed;

  Tag negated = Parsed("!role");
  EXPECT_EQ(s.Untag("a:1", negated, &removed).message(), "Untag: does not support negation");
  EXPECT_EQ(s.Untag("", Parsed("role"), &removed).message(),
            "Untag: either indicate an instance or a tag value. Will not delete on-valued tag across instances");

  ASSERT_TRUE(s.Untag("a:1", Parsed("role=y"), &removed).ok());
  EXPECT_TRUE(removed.empty()) << "a value must match";
  ASSERT_TRUE(s.Untag("", Parsed("role=x"), &removed).ok());
  EXPECT_EQ(removed, (std::vector<std::string>{"a:1", "b:1"}));
  EXPECT_EQ(Tagged(s, "role"), (std::vector<std::string>{"c:1"}));
  ASSERT_TRUE(s.Untag("c:1", Parsed("role"), &removed).ok());
  EXPECT_EQ(removed, (std::vector<std::string>{"c:1"}));
  EXPECT_TRUE(s.TagsOf("c:1").empty());
  EXPECT_TRUE(Tagged(s, "!role").empty()) << "no tags left: nothing to select";
}

TEST_F(TagStoreTest, SurvivesARestart) {
  const std::string path = Path("tags.json");
  {
    TagStore s(path);
    ASSERT_TRUE(s.load_status().ok());
    ASSERT_TRUE(s.Put("db:1", "role", "backup").ok());
    ASSERT_TRUE(s.Put("db:2", "flag", "").ok());
    ASSERT_TRUE(s.Put("db:3", "gone", "soon").ok());
    std::vector<std::string> removed;
    ASSERT_TRUE(s.Untag("db:3", Parsed("gone"), &removed).ok());
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp")) << "written by rename";
  TagStore again(path);
  ASSERT_TRUE(again.load_status().ok()) << again.load_status().message();
  std::string v;
  EXPECT_TRUE(again.Value("db:1", "role", &v));
  EXPECT_EQ(v, "backup");
  EXPECT_TRUE(again.Value("db:2", "flag", &v));
  EXPECT_EQ(v, "");
  EXPECT_TRUE(again.TagsOf("db:3").empty());
}

TEST_F(TagStoreTest, ADamagedFileIsReportedNotTrusted) {
  const std::string path = Path("tags.json");
  std::ofstream(path) << "{\"version\": 1, \"instances\": {\"db:1\": ";
  TagStore s(path);
  EXPECT_FALSE(s.load_status().ok());
  EXPECT_TRUE(s.TagsOf("db:1").empty());
}

using PoolStoreTest = TempDir;

TEST_F(PoolStoreTest, SubmissionsReplaceAndExpire) {
  const auto t0 = PoolStore::Clock::now();
  const std::string path = Path("pools.json");
  {
    PoolStore s(path, std::chrono::minutes(60), 3306);
    ASSERT_TRUE(s.Submit("web", " db1:3307, db2 ", t0).ok());
    ASSERT_TRUE(s.Submit("batch", "db3:3306", t0 - std::chrono::minutes(30)).ok());
    EXPECT_FALSE(s.Submit("web", "db1:notaport", t0).ok());
    const auto pools = s.Pools("", t0);
    ASSERT_EQ(pools.size(), 2u);
    EXPECT_EQ(pools.at("web"), (std::vector<std::string>{"db1:3307", "db2:3306"})) << "a refused submission changes nothing";
    EXPECT_EQ(s.Pools("batch", t0).size(), 1u);
    EXPECT_TRUE(s.Pools("batch", t0 + std::chrono::minutes(31)).count("batch") == 0) << "expired";
  }
  PoolStore again(path, std::chrono::minutes(60), 3306);
  ASSERT_TRUE(again.load_status().ok()) << again.load_status().message();
  EXPECT_EQ(again.Pools("web", t0).at("web"), (std::vector<std::string>{"db1:3307", "db2:3306"}));
  ASSERT_TRUE(again.Submit("web", "", t0).ok());
  EXPECT_TRUE(again.Pools("web", t0).at("web").empty()) << "an empty submission empties the pool";
}

using HostnameUnresolveTest = TempDir;

TEST_F(HostnameUnresolveTest, RegisteredByHostAndExpiring) {
  const auto t0 = HostnameUnresolveStore::Clock::now();
  const std::string path = Path("hostname-unresolve.json");
  {
    HostnameUnresolveStore s(path, std::chrono::minutes(60));
    ASSERT_TRUE(s.Register("db1.example", "vip-a", t0).ok());
    ASSERT_TRUE(s.Register("db2.example", "vip-b", t0).ok());
    ASSERT_TRUE(s.Register("db2.example", "", t0).ok());
  }
  HostnameUnresolveStore again(path, std::chrono::minutes(60));
  ASSERT_TRUE(again.load_status().ok());
  EXPECT_EQ(again.Unresolve("db1.example", t0), "vip-a");
  EXPECT_EQ(again.Unresolve("db2.example", t0), "db2.example") << "deregistered";
  EXPECT_EQ(again.Unresolve("db1.example", t0 + std::chrono::minutes(61)), "db1.example") << "expired";
  EXPECT_EQ(again.All(t0).size(), 1u);
}

}  // namespace
}  // namespace tidewatch::server
