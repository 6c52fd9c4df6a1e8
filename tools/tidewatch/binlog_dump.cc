#include "tools/tidewatch/binlog_dump.h"

#include "binlog/event_decoder.h"
#include "binlog/event_type.h"
#include "binlog/file_reader.h"
#include "tools/tidewatch/event_json.h"

namespace tidewatch::tools {
namespace {

using namespace tidewatch::binlog;

void Print(std::ostream& out, const std::string& file, const Event& e) {
  out << EventToJson(file, e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
      << '\n';
}

Status DumpFile(const std::string& path, bool verify, std::ostream& out) {
  BinlogFileReader reader;
  Status s = reader.Open(path);
  if (!s.ok()) return s;
  reader.set_verify_checksums(verify);
  EventDecoder decoder;
  RawEvent raw;
  Event event;
  while (true) {
    s = reader.Next(&raw);
    if (s.IsEndOfFile()) return Status::OK();
    if (!s.ok()) return s;
    s = decoder.Decode(raw, reader.format(), &event);
    if (!s.ok()) return s.WithContext(path);
    Print(out, path, event);
    if (raw.header.type != kTransactionPayloadEvent) continue;
    size_t offset = 0;
    RawEvent inner_raw;
    Event inner;
    while (true) {
      s = decoder.NextPayloadEvent(reader.format(), raw.pos, &offset, &inner_raw);
      if (s.IsEndOfFile()) break;
      if (!s.ok()) return s.WithContext(path);
      s = decoder.Decode(inner_raw, reader.format(), &inner);
      if (!s.ok()) return s.WithContext(path + ": in the transaction payload at byte offset " +
                                        std::to_string(raw.pos));
      inner.inner = true;
      Print(out, path, inner);
    }
  }
}

}  // namespace

int RunBinlogDump(const BinlogDumpOptions& options, std::ostream& out, std::ostream& err) {
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

}  // namespace tidewatch::tools
