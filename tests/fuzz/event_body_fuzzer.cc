// libFuzzer target: event bodies behind sound framing. The input is a
// sequence of events as
//   type 1 · body_length 3 (little-endian, cut to what is left) · body
// and this target gives each a valid header (padded to the description's
// header length) and, when the description says CRC32, a valid checksum — so
// every mutation lands in a body. A first event of type FORMAT_DESCRIPTION
// opens the file with that body, as it follows the header on disk (checksum
// room included; inputs whose description does not parse are skipped);
// otherwise a MySQL 8.4 one with CRC32 does. Later FORMAT_DESCRIPTION and
// START_ENCRYPTION events, which govern the framing, are dropped.
//
// Whatever the bodies hold: every event is delivered (decoded or undecoded),
// the walk reaches the end, and nothing reads outside an event — each is
// decoded from a copy of exactly its size, so a read past it is an
// AddressSanitizer error, not a read of the next event. (Events nested in a
// transaction payload are decoded where they lie, in the decoder's buffer,
// as every caller does.) Every event's JSON line (server/event_json.h) is
// what nlohmann::json prints for the object it holds: one valid object, keys
// in order, strings escaped and bad UTF-8 replaced as nlohmann does. The
// values of every rows event whose images the decoder walked are read as
// well (binlog/row_values.h): the same images, in the same number, without
// an error where every value is one the reader takes (it refuses, with the
// image and column, what the walk only measures: a BIT wider than 64 bits).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <variant>
#include <vector>

#include "binlog/checksum.h"
#include "binlog/event_decoder.h"
#include "binlog/event_header.h"
#include "binlog/event_type.h"
#include "binlog/file_reader.h"
#include "binlog/format_description.h"
#include "binlog/row_values.h"
#include "server/event_json.h"

#include <nlohmann/json.hpp>

using namespace tidewatch::binlog;

namespace {

// MySQL 8.4's description (42 types), CRC32.
std::vector<uint8_t> DefaultDescription() {
  static const uint8_t kPostHeaders[] = {0, 13, 0, 8, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 99, 0, 4, 26, 8, 0, 0,
                                         0, 0, 0, 0, 2, 0, 0, 0, 10, 10, 10, 42, 42, 0, 18, 52, 0, 10, 40, 0, 0};
  std::vector<uint8_t> b = {4, 0};
  const char version[] = "8.4.3";
  b.insert(b.end(), version, version + sizeof version - 1);
  b.resize(2 + 50, 0);
  b.insert(b.end(), {0, 0, 0, 0, 19});
  b.insert(b.end(), kPostHeaders, kPostHeaders + sizeof kPostHeaders);
  b.insert(b.end(), {1, 0, 0, 0, 0});  // CRC32, and the room for its own checksum
  return b;
}

void Append(std::vector<uint8_t>* file, uint8_t type, const uint8_t* body, size_t n, const FormatDescription& fd,
            bool crc) {
  const size_t extra_header = fd.header_length - kEventHeaderSize;
  const uint32_t size = static_cast<uint32_t>(kEventHeaderSize + extra_header + n + (crc ? kChecksumSize : 0));
  const size_t at = file->size();
  const uint32_t next = static_cast<uint32_t>(at + size);
  const uint8_t header[kEventHeaderSize] = {0x00, 0xf1, 0x53, 0x65, type, 1, 0, 0, 0,
                                            static_cast<uint8_t>(size), static_cast<uint8_t>(size >> 8),
                                            static_cast<uint8_t>(size >> 16), static_cast<uint8_t>(size >> 24),
                                            static_cast<uint8_t>(next), static_cast<uint8_t>(next >> 8),
                                            static_cast<uint8_t>(next >> 16), static_cast<uint8_t>(next >> 24), 0, 0};
  file->insert(file->end(), header, header + kEventHeaderSize);
  file->insert(file->end(), extra_header, 0);
  file->insert(file->end(), body, body + n);
  if (crc) {
    const uint32_t c = tidewatch::Crc32(file->data() + at, file->size() - at);
    for (int i = 0; i < 4; ++i) file->push_back(static_cast<uint8_t>(c >> (8 * i)));
  }
}

// The line `json` holds is its own canonical form.
void CheckLine(tidewatch::server::EventJsonWriter& json, const Event& event) {
  json.Clear();
  json.Append("fuzz", event);
  std::string_view line = json.text();
  if (line.empty() || line.back() != '\n') std::abort();
  line.remove_suffix(1);
  const auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) std::abort();
  if (parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) != line) std::abort();
}

// Every value of a walked rows event reads, image for image.
void CheckValues(RowValueReader& values, const Event& event) {
  const auto* rows = std::get_if<RowsBody>(&event.body);
  if (rows == nullptr || !rows->images_walked) return;
  if (!values.Reset(*rows).ok()) std::abort();
  std::span<const ColumnValue> image;
  uint64_t images = 0;
  while (values.Next(&image)) {
    if (image.empty()) std::abort();
    ++images;
  }
  if (values.status().ok() ? images != rows->images : !values.status().IsCorruption()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct Chunk {
    uint8_t type;
    const uint8_t* body;
    size_t n;
  };
  std::vector<Chunk> chunks;
  for (size_t at = 0; at < size;) {
    Chunk c{data[at], nullptr, 0};
    size_t len = 0;
    for (int i = 0; i < 3; ++i) len |= at + 1 + i < size ? static_cast<size_t>(data[at + 1 + i]) << (8 * i) : 0;
    at += 4;
    c.body = data + (at < size ? at : size);
    c.n = at < size ? (len < size - at ? len : size - at) : 0;
    at += c.n;
    chunks.push_back(c);
  }

  std::vector<uint8_t> description = DefaultDescription();
  size_t first = 0;
  if (!chunks.empty() && chunks[0].type == kFormatDescriptionEvent) {
    description.assign(chunks[0].body, chunks[0].body + chunks[0].n);
    first = 1;
  }
  FormatDescription fd;
  if (!ParseFormatDescription(description, &fd).ok()) return 0;
  const bool crc = fd.HasChecksum();
  // With CRC32 the description's last 4 bytes are its checksum, computed
  // here like the others'; with OFF they stay as given.
  std::vector<uint8_t> file(kBinlogMagic, kBinlogMagic + kBinlogMagicSize);
  Append(&file, kFormatDescriptionEvent, description.data(), description.size() - (crc ? kChecksumSize : 0),
         FormatDescription::DefaultV4(), crc);
  size_t built = 1;
  for (size_t i = first; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    if (c.type == kFormatDescriptionEvent || c.type == kStartEncryptionEvent) continue;
    Append(&file, c.type, c.body, c.n, fd, crc);
    ++built;
  }

  BinlogFileReader reader;
  if (!reader.OpenBuffer(file, "fuzz").ok()) std::abort();
  EventDecoder decoder;
  tidewatch::server::EventJsonWriter json;
  RowValueReader values;
  RawEvent raw;
  Event event, inner;
  size_t delivered = 0;
  tidewatch::Status s;
  while ((s = reader.Next(&raw)).ok()) {
    ++delivered;
    std::vector<uint8_t> copy(raw.bytes.begin(), raw.bytes.end());
    RawEvent alone = raw;
    alone.bytes = copy;
    if (!decoder.Decode(alone, reader.format(), &event).ok()) std::abort();
    CheckLine(json, event);
    CheckValues(values, event);
    if (!std::holds_alternative<TransactionPayloadBody>(event.body)) continue;
    size_t offset = 0;
    RawEvent inner_raw;
    tidewatch::Status p;
    while ((p = decoder.NextPayloadEvent(reader.format(), raw.pos, &offset, &inner_raw)).ok()) {
      if (!decoder.Decode(inner_raw, reader.format(), &inner).ok()) std::abort();
      inner.inner = true;
      CheckLine(json, inner);
      CheckValues(values, inner);
    }
    if (!p.IsEndOfFile()) std::abort();  // the payload's events were checked to chain
  }
  // Sound framing: every event is delivered and the walk ends at the end.
  if (!s.IsEndOfFile() || delivered != built) std::abort();
  return 0;
}
