#include "server/binlog_dump.h"

#include <filesystem>
#include <thread>

#include "binlog/event_decoder.h"
#include "binlog/event_type.h"
#include "binlog/file_reader.h"
#include "server/event_json.h"

namespace tidewatch::server {
namespace {

using namespace tidewatch::binlog;

// Lines are written in blocks of about this size.
constexpr size_t kFlushBytes = 256 * 1024;

// Decodes and prints the events of `reader` from its position. Returns
// EndOfFile or Truncated where the file ends, or the error; every line before
// it has been written to `out`. `next` receives the position after the last
// event printed, `rotate_to` the file a real ROTATE event named.
Status DumpEvents(BinlogFileReader& reader, EventDecoder& decoder, EventJsonWriter& json,
                  std::ostream& out, uint64_t* next, std::string* rotate_to) {
  const std::string& path = reader.path();
  RawEvent raw;
  Event event;
  Status s;
  while (true) {
    s = reader.Next(&raw);
    if (!s.ok()) break;
    s = json.AppendLines(path, raw, reader.format(), decoder, &event);
    if (!s.ok()) break;
    *next = raw.next_pos();
    if (auto* r = std::get_if<RotateBody>(&event.body);
        r != nullptr && (raw.header.flags & kLogEventArtificialFlag) == 0) {
      *rotate_to = std::string(r->file);
    }
    if (json.text().size() >= kFlushBytes) {
      out.write(json.text().data(), static_cast<std::streamsize>(json.text().size()));
      json.Clear();
    }
  }
  out.write(json.text().data(), static_cast<std::streamsize>(json.text().size()));
  json.Clear();
  return s;
}

Status DumpFile(const std::string& path, bool verify, std::ostream& out) {
  BinlogFileReader reader;
  Status s = reader.Open(path);
  if (!s.ok()) return s;
  reader.set_verify_checksums(verify);
  EventDecoder decoder;
  EventJsonWriter json;
  uint64_t next = 0;
  std::string rotate_to;
  s = DumpEvents(reader, decoder, json, out, &next, &rotate_to);
  return s.IsEndOfFile() ? Status::OK() : s;
}

// Follows a file a server is appending to: where it ends (even inside an
// event), waits and maps it again; after its ROTATE, goes on with the next.
Status FollowFile(const BinlogDumpOptions& o, std::ostream& out) {
  std::string path = o.files.front();
  uint64_t pos = kBinlogMagicSize;
  EventDecoder decoder;
  EventJsonWriter json;
  auto stopped = [&] { return o.stop != nullptr && o.stop->load(); };
  while (!stopped()) {
    BinlogFileReader reader;
    Status s = reader.Open(path);
    if (s.ok()) s = reader.Seek(pos);
    if (!s.ok()) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(path, ec);
      // The rotated-to file may not exist yet, or not hold its magic yet.
      if (ec || size < kBinlogMagicSize) {
        std::this_thread::sleep_for(o.poll_interval);
        continue;
      }
      return s;
    }
    reader.set_verify_checksums(o.verify_checksums);
    std::string rotate_to;
    s = DumpEvents(reader, decoder, json, out, &pos, &rotate_to);
    out.flush();
    if (!rotate_to.empty()) {
      path = (std::filesystem::path(path).parent_path() / rotate_to).string();
      pos = kBinlogMagicSize;
      continue;
    }
    if (!s.IsEndOfFile() && !s.IsTruncated()) return s;
    std::this_thread::sleep_for(o.poll_interval);
  }
  return Status::OK();
}

}  // namespace

int RunBinlogDump(const BinlogDumpOptions& options, std::ostream& out, std::ostream& err) {
  if (options.follow) {
    if (options.files.size() != 1) {
      err << "tidewatch: --follow takes exactly one file\n";
      return 2;
    }
    Status s = FollowFile(options, out);
    out.flush();
    if (!s.ok()) err << "tidewatch: " << s.message() << '\n';
    return s.ok() ? 0 : 1;
  }
  int rc = 0;
  for (const auto& file : options.files) {
    Status s = DumpFile(file, options.verify_checksums, out);
    if (!s.ok()) {
      out.flush();
      err << "tidewatch: " << s.message() << '\n';
      rc = 1;
    }
  }
  out.flush();
  return rc;
}

}  // namespace tidewatch::server
