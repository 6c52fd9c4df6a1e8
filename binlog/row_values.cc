#include "binlog/row_values.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace tidewatch::binlog {
namespace {

constexpr uint8_t kDig2Bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
constexpr uint32_t kPow10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

bool BitSet(std::span<const uint8_t> bitmap, uint64_t i) { return (bitmap[i / 8] >> (i % 8)) & 1; }

int64_t SignExtend(uint64_t v, unsigned bytes) {
  const unsigned shift = 64 - 8 * bytes;
  return static_cast<int64_t>(v << shift) >> shift;
}

// The packed decimal's digit groups, most significant first: the leading
// partial group of the integer part (intg % 9 digits), whole 9-digit words,
// then the fraction's whole words and its trailing partial group; big-endian,
// the sign in the top bit of the first byte (set: non-negative), every byte
// inverted when negative (strings/decimal.c decimal2bin).
class DecimalGroups {
 public:
  DecimalGroups(std::span<const uint8_t> packed, uint32_t precision, uint32_t scale)
      : p_(packed), mask_(packed.empty() || (packed[0] & 0x80) ? 0 : 0xff) {
    const uint32_t intg = precision - scale;
    intg0_ = intg / 9, intg0x_ = intg % 9, frac0_ = scale / 9, frac0x_ = scale % 9;
  }
  bool negative() const { return mask_ != 0; }
  // Calls fn(value, digits, fractional) for each group in order.
  template <class Fn>
  void ForEach(Fn fn) {
    if (intg0x_) fn(Word(kDig2Bytes[intg0x_]), intg0x_, false);
    for (uint32_t k = 0; k < intg0_; ++k) fn(Word(4), 9u, false);
    for (uint32_t k = 0; k < frac0_; ++k) fn(Word(4), 9u, true);
    if (frac0x_) fn(Word(kDig2Bytes[frac0x_]), frac0x_, true);
  }

 private:
  uint32_t Word(unsigned n) {
    uint32_t x = 0;
    for (unsigned i = 0; i < n; ++i, ++pos_) {
      uint8_t b = p_[pos_];
      if (pos_ == 0) b ^= 0x80;
      x = (x << 8) | static_cast<uint8_t>(b ^ mask_);
    }
    return x;
  }
  std::span<const uint8_t> p_;
  uint8_t mask_;
  size_t pos_ = 0;
  uint32_t intg0_, intg0x_, frac0_, frac0x_;
};

uint32_t DecimalBinSize(uint32_t precision, uint32_t scale) {
  const uint32_t intg = precision - scale;
  return (intg / 9) * 4 + kDig2Bytes[intg % 9] + (scale / 9) * 4 + kDig2Bytes[scale % 9];
}

bool ReadDecimal(ByteReader& r, uint16_t meta, ColumnValue* v) {
  const uint32_t precision = meta & 0xff, scale = meta >> 8;
  if (scale > precision || precision > 65) {
    r.Fail();
    return false;
  }
  v->bytes = r.Bytes(DecimalBinSize(precision, scale));
  if (!r.ok()) return false;
  v->kind = ColumnValue::Kind::kDecimal;
  DecimalValue& d = v->decimal;
  d = DecimalValue{};
  d.precision = static_cast<uint8_t>(precision);
  d.scale = static_cast<uint8_t>(scale);
  DecimalGroups groups(v->bytes, precision, scale);
  d.negative = groups.negative();
  if (precision <= 18) {
    uint64_t u = 0;
    groups.ForEach([&](uint32_t value, uint32_t digits, bool) { u = u * kPow10[digits] + value; });
    d.unscaled = d.negative ? -static_cast<int64_t>(u) : static_cast<int64_t>(u);
    d.fits_int64 = true;
  }
  return true;
}

// Fractional seconds of TIMESTAMP2 and DATETIME2: (dec + 1) / 2 big-endian
// bytes, in units of 10^-2, 10^-4 or 10^-6 s.
uint32_t ReadFraction(ByteReader& r, uint16_t dec) {
  switch ((dec + 1) / 2) {
    case 1: return static_cast<uint32_t>(r.UintBE(1)) * 10000;
    case 2: return static_cast<uint32_t>(r.UintBE(2)) * 100;
    case 3: return static_cast<uint32_t>(r.UintBE(3));
    default: return 0;
  }
}

// TIME2 (mysys/my_time.cc my_time_packed_from_binary): 3 big-endian bytes
// offset by 0x800000 holding sign·hour(10)·minute(6)·second(6), the fraction
// a signed 1- or 2-byte addend; for dec 5–6, 6 bytes offset by 0x800000000000
// holding the whole packed value (integer part << 24 | microseconds).
void ReadTime2(ByteReader& r, uint16_t dec, TemporalValue* t) {
  int64_t packed;
  const unsigned frac_bytes = (dec + 1) / 2;
  if (frac_bytes == 3) {
    packed = static_cast<int64_t>(r.UintBE(6)) - 0x800000000000LL;
  } else {
    int64_t intpart = static_cast<int64_t>(r.UintBE(3)) - 0x800000;
    int64_t frac = 0;
    if (frac_bytes == 1) {
      frac = SignExtend(r.UintBE(1), 1);
      if (intpart < 0 && frac) { ++intpart; frac -= 0x100; }
      frac *= 10000;
    } else if (frac_bytes == 2) {
      frac = SignExtend(r.UintBE(2), 2);
      if (intpart < 0 && frac) { ++intpart; frac -= 0x10000; }
      frac *= 100;
    }
    packed = intpart * (int64_t{1} << 24) + frac;
  }
  *t = TemporalValue{};
  if (packed < 0) {
    t->negative = true;
    packed = -packed;
  }
  const uint64_t hms = static_cast<uint64_t>(packed) >> 24;
  t->microsecond = static_cast<uint32_t>(packed % (int64_t{1} << 24));
  t->hour = static_cast<uint16_t>((hms >> 12) % (1 << 10));
  t->minute = static_cast<uint8_t>((hms >> 6) % (1 << 6));
  t->second = static_cast<uint8_t>(hms % (1 << 6));
}

// DATETIME2: 5 big-endian bytes offset by 0x8000000000 holding
// sign·year*13+month(17)·day(5)·hour(5)·minute(6)·second(6), then the fraction.
void ReadDatetime2(ByteReader& r, uint16_t dec, TemporalValue* t) {
  int64_t intpart = static_cast<int64_t>(r.UintBE(5)) - 0x8000000000LL;
  *t = TemporalValue{};
  if (intpart < 0) {
    t->negative = true;
    intpart = -intpart;
  }
  const uint64_t ymdhms = static_cast<uint64_t>(intpart);
  const uint64_t ymd = ymdhms >> 17, hms = ymdhms % (1 << 17);
  const uint64_t ym = ymd >> 5;
  t->year = static_cast<uint16_t>(ym / 13);
  t->month = static_cast<uint8_t>(ym % 13);
  t->day = static_cast<uint8_t>(ymd % 32);
  t->hour = static_cast<uint16_t>(hms >> 12);
  t->minute = static_cast<uint8_t>((hms >> 6) % 64);
  t->second = static_cast<uint8_t>(hms % 64);
  t->microsecond = ReadFraction(r, dec);
}

bool ReadPrefixedBytes(ByteReader& r, size_t prefix_bytes, ColumnValue* v, ColumnValue::Kind kind) {
  const uint64_t len = r.Uint(prefix_bytes);
  v->bytes = r.Bytes(len);
  v->kind = kind;
  return r.ok();
}

bool ReadEnumOrSet(ByteReader& r, uint8_t real, uint32_t len, ColumnValue* v) {
  if (len < 1 || len > 8) {
    r.Fail();
    return false;
  }
  v->u = r.Uint(len);
  v->kind = real == kTypeEnum ? ColumnValue::Kind::kEnum : ColumnValue::Kind::kSet;
  v->type = real;
  return r.ok();
}

// One non-NULL value; the sizes are row_image.cc SkipColumnValue's.
bool ReadValue(ByteReader& r, uint8_t type, uint16_t meta, ColumnValue* v) {
  using K = ColumnValue::Kind;
  auto integer = [&](unsigned bytes) {
    v->i = SignExtend(r.Uint(bytes), bytes);
    v->width = static_cast<uint8_t>(bytes);
    v->kind = K::kInt;
    return r.ok();
  };
  switch (type) {
    case kTypeTiny: return integer(1);
    case kTypeShort: return integer(2);
    case kTypeInt24: return integer(3);
    case kTypeLong: return integer(4);
    case kTypeLongLong: return integer(8);
    case kTypeYear: {
      const uint64_t y = r.Uint(1);
      v->i = y ? static_cast<int64_t>(1900 + y) : 0;
      v->kind = K::kYear;
      return r.ok();
    }
    case kTypeFloat:
      if (meta == 8) {
        const uint64_t bits = r.U64();
        std::memcpy(&v->d, &bits, sizeof bits);
        v->kind = K::kDouble;
      } else {
        const uint32_t bits = r.U32();
        std::memcpy(&v->f, &bits, sizeof bits);
        v->kind = K::kFloat;
      }
      return r.ok();
    case kTypeDouble: {
      const uint64_t bits = r.U64();
      std::memcpy(&v->d, &bits, sizeof bits);
      v->kind = K::kDouble;
      return r.ok();
    }
    case kTypeNull: v->kind = K::kNull; return true;
    case kTypeNewDecimal: return ReadDecimal(r, meta, v);
    case kTypeDate: case kTypeNewDate: {
      const uint32_t d = r.U24();
      v->temporal = TemporalValue{};
      v->temporal.day = static_cast<uint8_t>(d & 31);
      v->temporal.month = static_cast<uint8_t>((d >> 5) & 15);
      v->temporal.year = static_cast<uint16_t>(d >> 9);
      v->kind = K::kDate;
      return r.ok();
    }
    case kTypeTime: {  // signed HHMMSS
      int64_t hms = SignExtend(r.U24(), 3);
      v->temporal = TemporalValue{};
      if (hms < 0) {
        v->temporal.negative = true;
        hms = -hms;
      }
      v->temporal.hour = static_cast<uint16_t>(hms / 10000);
      v->temporal.minute = static_cast<uint8_t>(hms / 100 % 100);
      v->temporal.second = static_cast<uint8_t>(hms % 100);
      v->kind = K::kTime;
      return r.ok();
    }
    case kTypeDatetime: {  // YYYYMMDDHHMMSS
      const uint64_t x = r.U64();
      const uint64_t date = x / 1000000, time = x % 1000000;
      v->temporal = TemporalValue{};
      v->temporal.year = static_cast<uint16_t>(date / 10000);
      v->temporal.month = static_cast<uint8_t>(date / 100 % 100);
      v->temporal.day = static_cast<uint8_t>(date % 100);
      v->temporal.hour = static_cast<uint16_t>(time / 10000);
      v->temporal.minute = static_cast<uint8_t>(time / 100 % 100);
      v->temporal.second = static_cast<uint8_t>(time % 100);
      v->kind = K::kDatetime;
      return r.ok();
    }
    case kTypeTimestamp:
      v->timestamp = {static_cast<int64_t>(r.U32()), 0};
      v->kind = K::kTimestamp;
      return r.ok();
    case kTypeTimestamp2: {
      const int64_t seconds = static_cast<int64_t>(r.UintBE(4));
      v->timestamp = {seconds, ReadFraction(r, meta)};
      v->kind = K::kTimestamp;
      return r.ok();
    }
    case kTypeDatetime2:
      ReadDatetime2(r, meta, &v->temporal);
      v->kind = K::kDatetime;
      return r.ok();
    case kTypeTime2:
      ReadTime2(r, meta, &v->temporal);
      v->kind = K::kTime;
      return r.ok();
    case kTypeVarchar: case kTypeVarString:
      return ReadPrefixedBytes(r, meta > 255 ? 2 : 1, v, K::kBytes);
    case kTypeBit: {
      const uint32_t bytes = (meta >> 8) + ((meta & 0xff) ? 1 : 0);
      if (bytes > 8) {
        r.Fail();
        return false;
      }
      v->u = r.UintBE(bytes);
      v->kind = K::kBit;
      return r.ok();
    }
    case kTypeJson:
      if (meta < 1 || meta > 4) { r.Fail(); return false; }
      return ReadPrefixedBytes(r, meta, v, K::kJson);
    case kTypeBlob: case kTypeTinyBlob: case kTypeMediumBlob: case kTypeLongBlob:
    case kTypeGeometry: case kTypeVector:
      if (meta < 1 || meta > 4) { r.Fail(); return false; }
      return ReadPrefixedBytes(r, meta, v, K::kBytes);
    case kTypeEnum: case kTypeSet: return ReadEnumOrSet(r, type, meta & 0xff, v);
    case kTypeString: {
      // The real type's top bits carry bits 8–9 of the maximum length
      // (Field_string::save_field_metadata, for CHAR(n) with n*mbmaxlen > 255).
      uint32_t real = meta >> 8, len = meta & 0xff;
      if ((real & 0x30) != 0x30) {
        len |= ((real & 0x30) ^ 0x30) << 4;
        real |= 0x30;
      }
      if (real == kTypeEnum || real == kTypeSet) return ReadEnumOrSet(r, static_cast<uint8_t>(real), len, v);
      return ReadPrefixedBytes(r, len > 255 ? 2 : 1, v, K::kBytes);
    }
    default:
      r.Fail();
      return false;
  }
}

// A little-endian integer of 1–8 bytes at p, sign-extended.
inline int64_t LoadSigned(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  switch (n) {
    case 1: return static_cast<int8_t>(p[0]);
    case 2: { int16_t x; std::memcpy(&x, p, 2); return x; }
    case 4: { int32_t x; std::memcpy(&x, p, 4); return x; }
    case 8: { int64_t x; std::memcpy(&x, p, 8); return x; }
    default:
      for (unsigned i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
      return SignExtend(v, n);
  }
}

}  // namespace

std::string DecimalToString(const ColumnValue& v) {
  const DecimalValue& d = v.decimal;
  DecimalGroups groups(v.bytes, d.precision, d.scale);
  std::string integer, fraction;
  groups.ForEach([&](uint32_t value, uint32_t digits, bool fractional) {
    char buf[10];
    for (uint32_t k = digits; k-- > 0; value /= 10) buf[k] = static_cast<char>('0' + value % 10);
    (fractional ? fraction : integer).append(buf, digits);
  });
  const size_t first = integer.find_first_not_of('0');
  integer = first == std::string::npos ? "0" : integer.substr(first);
  std::string out = d.negative ? "-" : "";
  out += integer;
  if (!fraction.empty()) out += "." + fraction;
  return out;
}

void RowValueReader::PresentColumns::Prepare(std::span<const uint8_t> present, uint64_t columns,
                                             const TableColumns& t) {
  if (t.generation != 0 && t.generation == generation && columns == column_count &&
      std::equal(present.begin(), present.end(), bitmap.begin(), bitmap.end())) {
    return;
  }
  generation = t.generation;
  column_count = columns;
  bitmap.assign(present.begin(), present.end());
  if (values.size() < columns) values.resize(columns);
  if (steps.size() < columns) steps.resize(columns);
  ColumnValue* v = values.data();
  size_t k = 0;
  for (uint64_t i = 0; i < columns; ++i) {
    v[k].column = static_cast<uint32_t>(i);
    v[k].type = t.types[i];
    const ColumnLayout& l = t.layout[i];
    if (l.integer) {
      steps[k] = {Read::kInt, static_cast<uint8_t>(l.size)};
    } else if (l.form == ColumnLayout::Form::kPrefixed && t.types[i] != kTypeJson) {
      steps[k] = {Read::kPrefixed, l.prefix};
    } else {
      steps[k] = {Read::kOther, 0};
    }
    k += BitSet(present, i);
  }
  count = k;
  simple = count <= 64 && std::all_of(steps.begin(), steps.begin() + static_cast<ptrdiff_t>(count),
                                      [](const Step& st) { return st.read != Read::kOther; });
}

Status RowValueReader::Reset(const RowsBody& rows) {
  status_ = Status::OK();
  images_ = 0;
  r_ = ByteReader();
  if (rows.columns == nullptr || rows.columns->layout.size() < rows.column_count) {
    status_ = Status::InvalidArgument("the row images of this event cannot be walked");
    return status_;
  }
  table_ = rows.columns;
  update_ = rows.kind == RowsBody::Kind::kUpdate;
  partial_ = rows.partial;
  before_.Prepare(rows.columns_present, rows.column_count, *table_);
  if (update_) after_.Prepare(rows.columns_present_after, rows.column_count, *table_);
  r_ = ByteReader(rows.row_data);
  return status_;
}

bool RowValueReader::Next(std::span<const ColumnValue>* image) {
  if (!status_.ok() || r_.remaining() == 0) return false;
  const bool after = update_ && images_ % 2 == 1;
  PresentColumns& present = after ? after_ : before_;
  if (present.count == 0) {
    status_ = Status::Corruption("row images with no columns present cannot hold " +
                                 std::to_string(r_.remaining()) + " bytes");
    return false;
  }
  const bool partial_after = after && partial_;
  if (!(present.simple && !partial_after ? ReadSimpleImage(present) : ReadImage(present, partial_after))) return false;
  ++images_;
  *image = std::span<const ColumnValue>(present.values.data(), present.count);
  return true;
}

bool RowValueReader::Fail(size_t start, const ColumnValue* v, const char* what) {
  std::string msg = "row image " + std::to_string(images_) + " (at byte " + std::to_string(start) + " of the rows): ";
  if (v != nullptr) {
    msg += "column " + std::to_string(v->column) + " (type " + std::to_string(table_->types[v->column]) +
           ", metadata " + std::to_string(table_->metadata[v->column]) + ") ";
  }
  status_ = Status::Corruption(msg + what);
  return false;
}

inline bool RowValueReader::ReadCommonValue(PresentColumns::Step step, const uint8_t** p, const uint8_t* end,
                                            ColumnValue* v) {
  const uint8_t* q = *p;
  if (static_cast<size_t>(end - q) < step.size) return false;
  if (step.read == PresentColumns::Read::kInt) {
    v->i = LoadSigned(q, step.size);
    v->width = step.size;
    v->kind = ColumnValue::Kind::kInt;
    *p = q + step.size;
    return true;
  }
  uint64_t len = q[0];
  for (unsigned i = 1; i < step.size; ++i) len |= static_cast<uint64_t>(q[i]) << (8 * i);
  q += step.size;
  if (static_cast<uint64_t>(end - q) < len) return false;
  v->bytes = std::span<const uint8_t>(q, len);
  v->kind = ColumnValue::Kind::kBytes;
  *p = q + len;
  return true;
}

bool RowValueReader::ReadSimpleImage(PresentColumns& present) {
  const size_t start = r_.offset();
  const uint8_t* p = r_.cursor();
  const uint8_t* const end = p + r_.remaining();
  const size_t n = present.count, null_bytes = (n + 7) / 8;
  if (static_cast<size_t>(end - p) < null_bytes) return Fail(start, nullptr, "NULL bitmap runs past the event");
  uint64_t nulls = 0;
  for (size_t i = 0; i < null_bytes; ++i) nulls |= static_cast<uint64_t>(p[i]) << (8 * i);
  p += null_bytes;
  ColumnValue* values = present.values.data();
  const PresentColumns::Step* steps = present.steps.data();
  for (size_t k = 0; k < n; ++k) {
    ColumnValue& v = values[k];
    v.bytes = {};
    if ((nulls >> k) & 1) {
      v.kind = ColumnValue::Kind::kNull;
      v.i = 0;
      continue;
    }
    if (!ReadCommonValue(steps[k], &p, end, &v)) return Fail(start, &v, "does not fit");
  }
  r_.Skip(static_cast<size_t>(p - r_.cursor()));
  return true;
}

bool RowValueReader::ReadImage(PresentColumns& present, bool partial_after) {
  const std::span<ColumnValue> values(present.values.data(), present.count);
  const PresentColumns::Step* steps = present.steps.data();
  const size_t start = r_.offset();
  const TableColumns& t = *table_;
  // PARTIAL_UPDATE_ROWS after images open with binlog_row_value_options; bit
  // 0 (PARTIAL_JSON_UPDATES) adds one bit per JSON column in the image, set
  // where the value is a diff (sql/log_event.cc, Rows_log_event).
  std::span<const uint8_t> partial_bits;
  if (partial_after) {
    const uint64_t options = r_.PackedInt();
    if (options & 1) {
      uint64_t json_columns = 0;
      for (const ColumnValue& v : values) json_columns += v.type == kTypeJson;
      partial_bits = r_.Bytes((json_columns + 7) / 8);
    }
    if (!r_.ok()) return Fail(start, nullptr, "value options run past the event");
  }
  const auto nulls = r_.Bytes((values.size() + 7) / 8);
  if (!r_.ok()) return Fail(start, nullptr, "NULL bitmap runs past the event");
  // The common values (integers, strings and blobs) are read here through a
  // bounds-checked pointer; the others by ReadValue.
  const uint8_t* p = r_.cursor();
  const uint8_t* const end = p + r_.remaining();
  using Read = PresentColumns::Read;
  for (size_t k = 0; k < values.size(); ++k) {
    ColumnValue& v = values[k];
    v.bytes = {};
    if (BitSet(nulls, k)) {
      v.kind = ColumnValue::Kind::kNull;
      v.i = 0;
      continue;
    }
    if (steps[k].read != Read::kOther) {
      if (!ReadCommonValue(steps[k], &p, end, &v)) return Fail(start, &v, "does not fit");
      continue;
    }
    v.width = 0;
    ByteReader rest(p, static_cast<size_t>(end - p));
    if (!ReadValue(rest, t.types[v.column], t.metadata[v.column], &v)) {
      return Fail(start, &v, "does not fit or has an unknown type");
    }
    p += rest.offset();
  }
  r_.Skip(static_cast<size_t>(p - r_.cursor()));
  if (!partial_bits.empty()) {
    uint64_t json_k = 0;
    for (ColumnValue& v : values) {
      if (v.type != kTypeJson) continue;
      if (BitSet(partial_bits, json_k++) && v.kind == ColumnValue::Kind::kJson) v.kind = ColumnValue::Kind::kJsonDiff;
    }
  }
  return true;
}

}  // namespace tidewatch::binlog
