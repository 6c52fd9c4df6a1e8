// `tidewatch binlog dump` against the server's own tool: on binlogs and relay
// logs written by real MariaDB servers (the sandbox) holding every event kind
// the decoder handles, the list of events — position, end position and kind —
// equals what `mariadb-binlog` reports for the same files.
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "tests/binlog/dump_helper.h"
#include "tests/integration/sandbox.h"

namespace tidewatch::testing {
namespace {

struct ListedEvent {
  uint64_t pos = 0, end = 0;
  std::string kind;
  bool operator==(const ListedEvent&) const = default;
};

std::ostream& operator<<(std::ostream& o, const ListedEvent& e) {
  return o << e.pos << "-" << e.end << " " << e.kind;
}

// mariadb-binlog prints "# at POS" before each event and a line
// "#YYMMDD HH:MM:SS server id N  end_log_pos END CRC32 0x…\tDESCRIPTION" for it;
// for ANNOTATE_ROWS both "# at" lines come before both event lines, so the two
// lists are paired in order. END is the header's log_pos: the next position in
// a binlog, the end of the event in the master's binlog in a relay log.
std::string KindOf(const std::string& description) {
  static const std::vector<std::pair<std::string, std::string>> kKinds = {
      {"Start: binlog", "FORMAT_DESCRIPTION_EVENT"},
      {"Gtid list", "GTID_LIST_EVENT"},
      {"Binlog checkpoint", "BINLOG_CHECKPOINT_EVENT"},
      {"GTID ", "GTID_EVENT"},
      {"Query_compressed", "QUERY_COMPRESSED_EVENT"},
      {"Query", "QUERY_EVENT"},
      {"Xid =", "XID_EVENT"},
      {"XID =", "XA_PREPARE_LOG_EVENT"},
      {"Table_map:", "TABLE_MAP_EVENT"},
      {"Annotate_rows:", "ANNOTATE_ROWS_EVENT"},
      {"Write_rows:", "WRITE_ROWS_EVENT_V1"},
      {"Update_rows:", "UPDATE_ROWS_EVENT_V1"},
      {"Delete_rows:", "DELETE_ROWS_EVENT_V1"},
      {"Write_compressed_rows:", "WRITE_ROWS_COMPRESSED_EVENT_V1"},
      {"Update_compressed_rows:", "UPDATE_ROWS_COMPRESSED_EVENT_V1"},
      {"Delete_compressed_rows:", "DELETE_ROWS_COMPRESSED_EVENT_V1"},
      {"Rotate to", "ROTATE_EVENT"},
      {"Intvar", "INTVAR_EVENT"},
      {"Rand", "RAND_EVENT"},
      {"User_var", "USER_VAR_EVENT"},
      {"Execute_load_query", "EXECUTE_LOAD_QUERY_EVENT"},
      {"Stop", "STOP_EVENT"},
      {"", "BEGIN_LOAD_QUERY_EVENT"},  // printed with no description
  };
  for (const auto& [prefix, kind] : kKinds) {
    if (description.rfind(prefix, 0) == 0) return prefix.empty() && !description.empty() ? "?" + description : kind;
  }
  return "?" + description;
}

std::vector<ListedEvent> MariadbBinlogList(const std::string& file) {
  auto r = RunCommand("mariadb-binlog '" + file + "' 2>&1");
  EXPECT_EQ(r.status, 0) << r.out.substr(0, 2000);
  static const std::regex kAt(R"(^# at (\d+)$)");
  static const std::regex kEvent(R"(^#\d{6} +\d+:\d+:\d+ server id \d+ +end_log_pos (\d+) (?:CRC32 0x[0-9a-f]+)?\s*(.*)$)");
  std::vector<uint64_t> at;
  std::vector<std::pair<uint64_t, std::string>> lines;
  std::smatch m;
  for (const auto& l : Lines(r.out)) {
    if (std::regex_match(l, m, kAt)) at.push_back(std::stoull(m[1]));
    else if (std::regex_match(l, m, kEvent)) lines.emplace_back(std::stoull(m[1]), m[2]);
  }
  EXPECT_EQ(at.size(), lines.size()) << file;
  std::vector<ListedEvent> v;
  for (size_t i = 0; i < at.size() && i < lines.size(); ++i) {
    v.push_back({at[i], lines[i].first, KindOf(lines[i].second)});
  }
  return v;
}

std::vector<ListedEvent> TidewatchList(const DumpResult& d) {
  std::vector<ListedEvent> v;
  for (const auto& e : d.events) {
    if (e.contains("inner")) continue;
    v.push_back({e["pos"].get<uint64_t>(), e["log_pos"].get<uint64_t>(), e["type_name"].get<std::string>()});
  }
  return v;
}

class MariadbBinlogCompare : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox_ = new Sandbox("m>r1", 24500);
    sandbox_->Run("load --profile everything");
    sandbox_->Run("load --seconds 3 --rate 200");
    // Pseudo-GTID entries are in the files now; stop injecting so that the
    // files hold still while both tools read them.
    sandbox_->Sql("m", "SET GLOBAL event_scheduler = OFF");
    // Let the replica apply everything, then close the files.
    sandbox_->Sql("m", "FLUSH BINARY LOGS");
    for (int i = 0; i < 120; ++i) {
      auto m = sandbox_->Sql("m", "SELECT @@gtid_binlog_pos");
      auto r = sandbox_->Sql("r1", "SELECT @@gtid_slave_pos");
      if (Lines(m).back() == Lines(r).back()) break;
      ::usleep(250000);
    }
    sandbox_->Sql("r1", "FLUSH BINARY LOGS");
    sandbox_->Sql("r1", "FLUSH RELAY LOGS");
    // The server appends BINLOG_CHECKPOINT events to its newest file a little
    // after a flush; compare only once no file has changed for a second.
    auto sizes = [] {
      std::vector<uintmax_t> v;
      for (const auto& e : std::filesystem::recursive_directory_iterator(sandbox_->dir())) {
        if (e.is_regular_file() && e.path().string().find("bin.") != std::string::npos) v.push_back(e.file_size());
      }
      return v;
    };
    for (int i = 0; i < 30; ++i) {
      auto before = sizes();
      ::usleep(1000000);
      if (sizes() == before) break;
    }
  }
  static void TearDownTestSuite() {
    delete sandbox_;
    sandbox_ = nullptr;
  }

  static std::vector<std::string> RelayLogs() {
    std::vector<std::string> v;
    for (const auto& e : std::filesystem::recursive_directory_iterator(sandbox_->dir() / "r1")) {
      const std::string name = e.path().filename();
      if (name.find("relay") != std::string::npos && std::regex_match(name, std::regex(R"(.*\.\d{6})"))) {
        v.push_back(e.path());
      }
    }
    std::sort(v.begin(), v.end());
    return v;
  }

  static Sandbox* sandbox_;
};

Sandbox* MariadbBinlogCompare::sandbox_ = nullptr;

TEST_F(MariadbBinlogCompare, EveryFileListsTheSameEventsAsMariadbBinlog) {
  std::vector<std::string> files = sandbox_->Binlogs("m");
  for (const auto& f : sandbox_->Binlogs("r1")) files.push_back(f);
  const auto relay_logs = RelayLogs();
  ASSERT_FALSE(relay_logs.empty());
  for (const auto& f : relay_logs) files.push_back(f);
  size_t events = 0;
  for (const auto& f : files) {
    auto ours = Dump({f});
    ASSERT_EQ(ours.rc, 0) << f << ": " << ours.error;
    auto theirs = MariadbBinlogList(f);
    auto mine = TidewatchList(ours);
    ASSERT_EQ(mine.size(), theirs.size()) << f;
    for (size_t i = 0; i < mine.size(); ++i) ASSERT_EQ(mine[i], theirs[i]) << f << " event " << i;
    events += mine.size();
  }
  EXPECT_GT(events, 200u);
}

TEST_F(MariadbBinlogCompare, TheFilesHoldEveryKindTheLoadProduces) {
  std::map<std::string, int> kinds;
  bool big_row_event = false, pseudo_gtid = false;
  for (const auto& f : sandbox_->Binlogs("m")) {
    auto d = Dump({f});
    ASSERT_EQ(d.rc, 0) << d.error;
    for (const auto& e : d.events) {
      ++kinds[e["type_name"]];
      if (e.contains("rows") && e["size"].get<uint64_t>() > 20u * 1024 * 1024) {
        big_row_event = true;
        EXPECT_EQ(e["rows"], 1);
      }
      if (e.contains("query") && e["query"].get<std::string>().find("_pseudo_gtid_hint__asc:") != std::string::npos) {
        pseudo_gtid = true;
      }
    }
  }
  for (const char* k : {"QUERY_COMPRESSED_EVENT", "WRITE_ROWS_COMPRESSED_EVENT_V1", "UPDATE_ROWS_COMPRESSED_EVENT_V1",
                        "DELETE_ROWS_COMPRESSED_EVENT_V1", "BEGIN_LOAD_QUERY_EVENT", "EXECUTE_LOAD_QUERY_EVENT",
                        "XA_PREPARE_LOG_EVENT", "USER_VAR_EVENT", "RAND_EVENT", "INTVAR_EVENT", "ANNOTATE_ROWS_EVENT",
                        "GTID_LIST_EVENT", "BINLOG_CHECKPOINT_EVENT", "ROTATE_EVENT", "TABLE_MAP_EVENT"}) {
    EXPECT_GT(kinds[k], 0) << k;
  }
  EXPECT_TRUE(big_row_event);
  EXPECT_TRUE(pseudo_gtid);
}

}  // namespace
}  // namespace tidewatch::testing
