// `binlog dump --follow` reads a file while it is being written — including
// when the writer has stopped in the middle of an event — and continues with
// the file named by its ROTATE event.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/binlog/event_builder.h"
#include "server/binlog_dump.h"

namespace tidewatch::testing {
namespace {

TEST(Follow, ReadsAGrowingFileAndFollowsItsRotation) {
  auto dir = std::filesystem::temp_directory_path() / ("tidewatch-follow-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  FileBuilder first;
  for (int i = 0; i < 5; ++i) first.Add(binlog::kXidEvent, Bytes().u64(i).vec());
  first.Add(binlog::kRotateEvent, Bytes().u64(4).str("bin.000002").vec());
  FileBuilder second;
  second.Add(binlog::kXidEvent, Bytes().u64(100).vec());

  const auto path1 = (dir / "bin.000001").string();
  const auto path2 = (dir / "bin.000002").string();
  std::ofstream(path1, std::ios::binary).write("\xfe" "bin", 4);

  std::atomic<bool> stop{false};
  // Output goes to a file that this thread reads, not to a shared stream.
  const auto out_path = (dir / "out.jsonl").string();
  std::ofstream out(out_path);
  std::ostringstream err;
  auto output = [&] {
    std::ifstream in(out_path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  server::BinlogDumpOptions o;
  o.files = {path1};
  o.follow = true;
  o.poll_interval = std::chrono::milliseconds(5);
  o.stop = &stop;
  int rc = -1;
  std::thread reader([&] { rc = server::RunBinlogDump(o, out, err); });

  // Append the first file in uneven pieces that split events and headers.
  const auto& d = first.data();
  std::ofstream w(path1, std::ios::binary | std::ios::app);
  for (size_t at = 4; at < d.size();) {
    size_t n = std::min<size_t>(d.size() - at, 7 + at % 23);
    w.write(reinterpret_cast<const char*>(d.data() + at), static_cast<std::streamsize>(n));
    w.flush();
    at += n;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  second.Write(path2);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (output().find("\"xid\":100") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  reader.join();
  out.close();
  const std::string text = output();
  std::filesystem::remove_all(dir);

  EXPECT_EQ(rc, 0) << err.str();
  std::istringstream lines(text);
  std::vector<std::string> seen;
  for (std::string l; std::getline(lines, l);) seen.push_back(l);
  // FDE + 5 XIDs + ROTATE from the first file, FDE + XID from the second; none twice.
  ASSERT_EQ(seen.size(), 9u) << text;
  EXPECT_NE(seen[6].find("ROTATE_EVENT"), std::string::npos);
  EXPECT_NE(seen[8].find("bin.000002"), std::string::npos);
  EXPECT_NE(seen[8].find("\"xid\":100"), std::string::npos);
}

}  // namespace
}  // namespace tidewatch::testing
