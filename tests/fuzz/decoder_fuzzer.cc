// libFuzzer target: any bytes, read as the contents of a binlog file after its
// magic, must walk to the end or to a clean framing error, and every event
// located must decode (or come out undecoded) — never a crash, an
// out-of-bounds read, a hang or an unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <variant>
#include <vector>

#include "binlog/event_decoder.h"
#include "binlog/event_header.h"
#include "binlog/event_type.h"
#include "binlog/file_reader.h"

using namespace tidewatch::binlog;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte chooses whether checksums are verified, so the fuzzer can
  // reach the decoder with bodies that checksums would reject.
  if (size < 1) return 0;
  const bool verify = data[0] & 1;
  std::vector<uint8_t> file(kBinlogMagic, kBinlogMagic + kBinlogMagicSize);
  file.insert(file.end(), data + 1, data + size);

  BinlogFileReader reader;
  if (!reader.OpenBuffer(file, "fuzz").ok()) return 0;
  reader.set_verify_checksums(verify);
  EventDecoder decoder;
  RawEvent raw;
  Event event;
  while (reader.Next(&raw).ok()) {
    if (!decoder.Decode(raw, reader.format(), &event).ok()) std::abort();
    if (!std::holds_alternative<TransactionPayloadBody>(event.body)) continue;
    size_t offset = 0;
    RawEvent inner_raw;
    Event inner;
    tidewatch::Status s;
    while ((s = decoder.NextPayloadEvent(reader.format(), raw.pos, &offset, &inner_raw)).ok()) {
      if (!decoder.Decode(inner_raw, reader.format(), &inner).ok()) std::abort();
    }
    if (!s.IsEndOfFile()) std::abort();  // a decoded payload's events chain
  }
  return 0;
}
