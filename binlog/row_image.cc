#include "binlog/row_image.h"

#include <algorithm>
#include <atomic>
#include <string>

namespace tidewatch::binlog {
namespace {

// Bytes of metadata a TABLE_MAP_EVENT stores for a column type.
int MetadataBytes(uint8_t type) {
  switch (type) {
    case kTypeFloat: case kTypeDouble: case kTypeBlob: case kTypeTinyBlob:
    case kTypeMediumBlob: case kTypeLongBlob: case kTypeGeometry: case kTypeJson:
    case kTypeTimestamp2: case kTypeDatetime2: case kTypeTime2: case kTypeVector:
      return 1;
    case kTypeVarchar: case kTypeVarString: case kTypeBit: case kTypeNewDecimal:
    case kTypeString: case kTypeEnum: case kTypeSet:
      return 2;
    default:
      return 0;
  }
}

// Packed decimal size: 9 digits per 4 bytes, the rest by dig2bytes
// (strings/decimal.c decimal_bin_size).
uint32_t DecimalBinSize(uint32_t precision, uint32_t scale) {
  static constexpr uint8_t kDig2Bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
  uint32_t intg = precision - scale;
  return (intg / 9) * 4 + kDig2Bytes[intg % 9] + (scale / 9) * 4 + kDig2Bytes[scale % 9];
}

bool SkipPrefixed(ByteReader& r, size_t prefix_bytes) {
  uint64_t len = r.Uint(prefix_bytes);
  return r.ok() && r.Skip(len);
}

bool SkipValue(ByteReader& r, const ColumnLayout& l) {
  switch (l.form) {
    case ColumnLayout::Form::kFixed: return r.Skip(l.size);
    case ColumnLayout::Form::kPrefixed: return SkipPrefixed(r, l.prefix);
    case ColumnLayout::Form::kEmpty: return true;
    default: return false;
  }
}

}  // namespace

Status TableColumns::ParseMetadata(std::span<const uint8_t> types_in,
                                   std::span<const uint8_t> block) {
  if (has_metadata && std::equal(types.begin(), types.end(), types_in.begin(), types_in.end()) &&
      std::equal(raw_metadata.begin(), raw_metadata.end(), block.begin(), block.end())) {
    return Status::OK();
  }
  has_metadata = false;
  raw_metadata.clear();  // set again only once parsing succeeds
  types.assign(types_in.begin(), types_in.end());
  metadata.assign(types.size(), 0);
  ByteReader r(block);
  for (size_t i = 0; i < types.size(); ++i) {
    switch (MetadataBytes(types[i])) {
      case 1: metadata[i] = r.U8(); break;
      case 2:
        // STRING/ENUM/SET: real type in the first byte, length in the second;
        // the others are little-endian 16-bit values (or two bytes read as such).
        if (types[i] == kTypeString || types[i] == kTypeEnum || types[i] == kTypeSet) {
          metadata[i] = static_cast<uint16_t>(r.UintBE(2));
        } else {
          metadata[i] = r.U16();
        }
        break;
      default: break;
    }
    if (!r.ok()) {
      return Status::Corruption("table map metadata ends before column " + std::to_string(i));
    }
  }
  raw_metadata.assign(block.begin(), block.end());
  layout.resize(types.size());
  for (size_t i = 0; i < types.size(); ++i) layout[i] = LayoutOf(types[i], metadata[i]);
  all_columns.resize(types.size());
  for (uint32_t i = 0; i < all_columns.size(); ++i) all_columns[i] = i;
  has_metadata = true;
  return Status::OK();
}

uint64_t NextTableGeneration() {
  static std::atomic<uint64_t> last{0};
  return ++last;
}

void TableColumns::SetTypesOnly(std::span<const uint8_t> types_in) {
  has_metadata = false;
  raw_metadata.clear();
  types.assign(types_in.begin(), types_in.end());
  metadata.assign(types.size(), 0);
  layout.clear();
  all_columns.clear();
}

ColumnLayout LayoutOf(uint8_t type, uint16_t meta) {
  using F = ColumnLayout::Form;
  auto fixed = [](uint32_t size, bool integer = false) {
    return ColumnLayout{F::kFixed, 0, static_cast<uint16_t>(size), integer};
  };
  auto prefixed = [](uint32_t prefix) { return ColumnLayout{F::kPrefixed, static_cast<uint8_t>(prefix), 0, false}; };
  switch (type) {
    case kTypeTiny: return fixed(1, true);
    case kTypeShort: return fixed(2, true);
    case kTypeInt24: return fixed(3, true);
    case kTypeLong: return fixed(4, true);
    case kTypeLongLong: return fixed(8, true);
    case kTypeYear: return fixed(1);
    case kTypeDate: case kTypeNewDate: case kTypeTime: return fixed(3);
    case kTypeTimestamp: return fixed(4);
    case kTypeFloat: return fixed(meta == 8 ? 8 : 4);
    case kTypeDouble: case kTypeDatetime: return fixed(8);
    case kTypeNull: return ColumnLayout{F::kEmpty, 0, 0, false};
    case kTypeTimestamp2: return fixed(4 + (meta + 1) / 2);
    case kTypeDatetime2: return fixed(5 + (meta + 1) / 2);
    case kTypeTime2: return fixed(3 + (meta + 1) / 2);
    case kTypeVarchar: case kTypeVarString: return prefixed(meta > 255 ? 2 : 1);
    case kTypeBit: return fixed((meta >> 8) + ((meta & 0xff) ? 1 : 0));
    case kTypeNewDecimal: {
      uint32_t precision = meta & 0xff, scale = meta >> 8;
      if (scale > precision || precision > 65) return ColumnLayout{};
      return fixed(DecimalBinSize(precision, scale));
    }
    case kTypeBlob: case kTypeTinyBlob: case kTypeMediumBlob: case kTypeLongBlob:
    case kTypeGeometry: case kTypeJson: case kTypeVector:
      if (meta < 1 || meta > 4) return ColumnLayout{};
      return prefixed(meta);
    case kTypeEnum: case kTypeSet: return fixed(meta & 0xff);
    case kTypeString: {
      // The real type's top bits carry bits 8–9 of the maximum length
      // (Field_string::save_field_metadata, for CHAR(n) with n*mbmaxlen > 255).
      uint32_t real = meta >> 8, len = meta & 0xff;
      if ((real & 0x30) != 0x30) {
        len |= ((real & 0x30) ^ 0x30) << 4;
        real |= 0x30;
      }
      if (real == kTypeEnum || real == kTypeSet) return fixed(len);
      return prefixed(len > 255 ? 2 : 1);
    }
    default:
      return ColumnLayout{};
  }
}

bool SkipColumnValue(ByteReader& r, uint8_t type, uint16_t meta) {
  if (!SkipValue(r, LayoutOf(type, meta))) {
    r.Fail();
    return false;
  }
  return true;
}

namespace {

bool BitSet(std::span<const uint8_t> bitmap, uint64_t i) {
  return (bitmap[i / 8] >> (i % 8)) & 1;
}

// One image: [value options] · NULL bitmap over the present columns · values.
// `present` lists the indexes of the columns in the image, so the walk costs
// O(columns present) and each image consumes at least one byte per 8 of them.
Status WalkImage(ByteReader& r, const TableColumns& t, const std::vector<uint32_t>& present,
                 bool partial_after, uint64_t image) {
  const size_t start = r.offset();
  auto fail = [&](const std::string& what) {
    return Status::Corruption("row image " + std::to_string(image) + " (at byte " +
                              std::to_string(start) + " of the rows): " + what);
  };
  if (partial_after) {
    // binlog_row_value_options; bit 0 = PARTIAL_JSON_UPDATES, followed by one
    // bit per JSON column in the image (sql/log_event.cc, Rows_log_event).
    uint64_t options = r.PackedInt();
    if (options & 1) {
      uint64_t json_columns = 0;
      for (uint32_t i : present) json_columns += t.types[i] == kTypeJson;
      r.Skip((json_columns + 7) / 8);
    }
    if (!r.ok()) return fail("value options run past the event");
  }
  auto nulls = r.Bytes((present.size() + 7) / 8);
  if (!r.ok()) return fail("NULL bitmap runs past the event");
  const ColumnLayout* layout = t.layout.data();
  for (size_t k = 0; k < present.size(); ++k) {
    if (BitSet(nulls, k)) continue;
    const uint32_t i = present[k];
    if (!SkipValue(r, layout[i])) {
      return fail("column " + std::to_string(i) + " (type " + std::to_string(t.types[i]) +
                  ", metadata " + std::to_string(t.metadata[i]) +
                  ") does not fit or has an unknown type");
    }
  }
  return Status::OK();
}

// The indexes of the columns a columns-present bitmap names; a full row (the
// usual case) is the table's precomputed list.
const std::vector<uint32_t>& PresentColumns(std::span<const uint8_t> bitmap, uint64_t column_count,
                                            const TableColumns& t, std::vector<uint32_t>* scratch) {
  if (column_count == t.all_columns.size()) {
    bool all = true;
    for (uint64_t i = 0; i < column_count / 8 && all; ++i) all = bitmap[i] == 0xff;
    if (all && column_count % 8) {
      const uint8_t mask = static_cast<uint8_t>((1u << (column_count % 8)) - 1);
      all = (bitmap[column_count / 8] & mask) == mask;
    }
    if (all) return t.all_columns;
  }
  scratch->clear();
  for (uint64_t i = 0; i < column_count; ++i) {
    if (BitSet(bitmap, i)) scratch->push_back(static_cast<uint32_t>(i));
  }
  return *scratch;
}

}  // namespace

Status WalkRowImages(ByteReader& r, const TableColumns& table, uint64_t column_count,
                     std::span<const uint8_t> present, std::span<const uint8_t> present_after,
                     bool is_update, bool partial, uint64_t* images) {
  if (table.types.size() < column_count) {
    return Status::Corruption("row event has " + std::to_string(column_count) +
                              " columns, its table map " + std::to_string(table.types.size()));
  }
  thread_local std::vector<uint32_t> before_scratch, after_scratch;
  const auto& before_columns = PresentColumns(present, column_count, table, &before_scratch);
  const auto& after_columns =
      is_update ? PresentColumns(present_after, column_count, table, &after_scratch) : before_columns;
  if (before_columns.empty() || (is_update && after_columns.empty())) {
    if (r.remaining() == 0) {
      *images = 0;
      return Status::OK();
    }
    return Status::Corruption("row images with no columns present cannot hold " +
                              std::to_string(r.remaining()) + " bytes");
  }
  uint64_t n = 0;
  while (r.remaining() > 0) {
    Status s = WalkImage(r, table, before_columns, false, n);
    if (!s.ok()) return s;
    ++n;
    if (is_update) {
      s = WalkImage(r, table, after_columns, partial, n);
      if (!s.ok()) return s;
      ++n;
    }
  }
  *images = n;
  return Status::OK();
}

}  // namespace tidewatch::binlog
