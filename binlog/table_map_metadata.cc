#include "binlog/table_map_metadata.h"

#include <string>

#include "binlog/byte_reader.h"

namespace tidewatch::binlog {
namespace {

bool IsNumeric(uint8_t t) {
  switch (t) {
    case kTypeTiny: case kTypeShort: case kTypeInt24: case kTypeLong: case kTypeLongLong:
    case kTypeFloat: case kTypeDouble: case kTypeNewDecimal:
      return true;
    default:
      return false;
  }
}

bool IsCharacter(uint8_t t, bool mariadb) {
  return t == kTypeString || t == kTypeVarString || t == kTypeVarchar || t == kTypeBlob ||
         t == (mariadb ? kTypeGeometry : kTypeVector);
}

bool IsEnumOrSet(uint8_t t) { return t == kTypeEnum || t == kTypeSet; }

Status Malformed(TableMapBody::Field f, const std::string& what) {
  return Status::Corruption("table map optional metadata field " + std::to_string(f) + ": " + what);
}

// Calls `each(column)` for the columns `pick` selects, in order, handing it
// the reader positioned at the entry; the field must hold exactly one entry
// per such column.
template <typename Pick, typename Each>
Status PerColumn(TableMapBody::Field f, ByteReader r, std::span<TableMapColumn> columns, Pick pick, Each each) {
  for (auto& c : columns) {
    if (!pick(c)) continue;
    if (r.remaining() == 0) return Malformed(f, "fewer entries than columns");
    each(r, c);
    if (!r.ok()) return Malformed(f, "an entry runs past the field");
  }
  if (r.remaining() != 0) return Malformed(f, "more entries than columns");
  return Status::OK();
}

// One bit per selected column, the first in the high bit.
template <typename Pick, typename Set>
Status PerColumnBit(TableMapBody::Field f, std::span<const uint8_t> v, std::span<TableMapColumn> columns, Pick pick,
                    Set set) {
  size_t n = 0;
  for (auto& c : columns) {
    if (!pick(c)) continue;
    if (n / 8 >= v.size()) return Malformed(f, "fewer bits than columns");
    set(c, (v[n / 8] >> (7 - n % 8)) & 1);
    ++n;
  }
  if ((n + 7) / 8 != v.size()) {
    return Malformed(f, std::to_string(v.size()) + " bytes for " + std::to_string(n) + " columns");
  }
  return Status::OK();
}

// DEFAULT_CHARSET / ENUM_AND_SET_DEFAULT_CHARSET: default, then exceptions by
// index among the selected columns.
template <typename Pick>
Status DefaultCollations(TableMapBody::Field f, std::span<const uint8_t> v, std::span<TableMapColumn> columns,
                         Pick pick, std::vector<uint32_t>* selected) {
  ByteReader r(v);
  const uint64_t def = r.PackedInt();
  if (!r.ok()) return Malformed(f, "no default collation");
  selected->clear();
  for (uint32_t i = 0; i < columns.size(); ++i) {
    if (!pick(columns[i])) continue;
    columns[i].collation = static_cast<uint32_t>(def);
    selected->push_back(i);
  }
  while (r.remaining() > 0) {
    const uint64_t index = r.PackedInt();
    const uint64_t collation = r.PackedInt();
    if (!r.ok()) return Malformed(f, "a column collation runs past the field");
    if (index >= selected->size()) {
      return Malformed(f, "collation for column " + std::to_string(index) + " of " + std::to_string(selected->size()));
    }
    columns[(*selected)[index]].collation = static_cast<uint32_t>(collation);
  }
  return Status::OK();
}

}  // namespace

uint8_t RealColumnType(const TableColumns& table, size_t i) {
  const uint8_t t = table.types[i];
  if (t != kTypeString) return t;
  // The first metadata byte: the real type, its 0x30 bits flipped to carry
  // the high bits of a CHAR length above 255 (sql/field.cc Field_string::do_save_field_metadata).
  const uint8_t first = static_cast<uint8_t>(table.metadata[i] >> 8);
  return (first & 0x30) != 0x30 ? static_cast<uint8_t>(first | 0x30) : first;
}

Status DecodeTableMapMetadata(const TableColumns& table, bool mariadb, TableMapMetadataStorage* st,
                              TableMapBody* out) {
  using F = TableMapBody;
  out->fields = 0;
  out->columns = {};
  out->primary_key = {};
  out->column_names = {};
  if (out->optional_metadata.empty()) return Status::OK();
  const size_t n = table.types.size();
  st->columns.assign(n, TableMapColumn{});
  st->strings.clear();
  st->primary_key.clear();
  st->names.clear();
  for (size_t i = 0; i < n; ++i) st->columns[i].type = RealColumnType(table, i);
  std::span<TableMapColumn> columns(st->columns);
  // ENUM/SET values are spanned once `strings` has stopped growing.
  st->value_first.assign(n, 0);
  st->value_count.assign(n, 0);

  auto numeric = [](const TableMapColumn& c) { return IsNumeric(c.type); };
  auto character = mariadb ? +[](const TableMapColumn& c) { return IsCharacter(c.type, true); }
                           : +[](const TableMapColumn& c) { return IsCharacter(c.type, false); };
  auto enum_or_set = [](const TableMapColumn& c) { return IsEnumOrSet(c.type); };
  auto is_set = [](const TableMapColumn& c) { return c.type == kTypeSet; };
  auto is_enum = [](const TableMapColumn& c) { return c.type == kTypeEnum; };
  auto geometry = [](const TableMapColumn& c) { return c.type == kTypeGeometry; };
  auto vector = [](const TableMapColumn& c) { return c.type == kTypeVector; };
  auto every = [](const TableMapColumn&) { return true; };

  ByteReader om(out->optional_metadata);
  while (om.remaining() > 0) {
    const uint8_t type = om.U8();
    const auto v = om.Bytes(om.PackedInt());
    if (!om.ok()) return Status::Corruption("table map optional metadata runs past the event");
    const auto f = static_cast<F::Field>(type);
    // Fields a later server adds are skipped, as the servers' own readers do.
    if (type < F::kSignedness || type > F::kVectorDimensionality) continue;
    if (out->Has(f)) return Malformed(f, "appears twice");
    out->fields |= 1u << type;
    Status s;
    switch (f) {
      case F::kSignedness:
        s = PerColumnBit(f, v, columns, numeric, [](TableMapColumn& c, bool b) { c.is_unsigned = b; });
        break;
      case F::kColumnVisibility:
        s = PerColumnBit(f, v, columns, every, [](TableMapColumn& c, bool b) { c.visible = b; });
        break;
      case F::kDefaultCharset: s = DefaultCollations(f, v, columns, character, &st->selected); break;
      case F::kEnumAndSetDefaultCharset: s = DefaultCollations(f, v, columns, enum_or_set, &st->selected); break;
      case F::kColumnCharset:
      case F::kEnumAndSetColumnCharset:
        s = PerColumn(f, ByteReader(v), columns, f == F::kColumnCharset ? character : +enum_or_set,
                      [](ByteReader& r, TableMapColumn& c) { c.collation = static_cast<uint32_t>(r.PackedInt()); });
        break;
      case F::kColumnName:
        s = PerColumn(f, ByteReader(v), columns, every, [&](ByteReader& r, TableMapColumn& c) {
          c.name = r.String(r.PackedInt());
          st->names.push_back(c.name);
        });
        break;
      case F::kSetStrValue:
      case F::kEnumStrValue:
        s = PerColumn(f, ByteReader(v), columns, f == F::kSetStrValue ? +is_set : +is_enum,
                      [&](ByteReader& r, TableMapColumn& c) {
                        const uint64_t count = r.PackedInt();
                        if (!r.ok() || count > r.remaining()) return r.Fail();
                        const size_t i = static_cast<size_t>(&c - st->columns.data());
                        st->value_first[i] = static_cast<uint32_t>(st->strings.size());
                        st->value_count[i] = static_cast<uint32_t>(count);
                        for (uint64_t k = 0; k < count && r.ok(); ++k) st->strings.push_back(r.String(r.PackedInt()));
                      });
        break;
      case F::kGeometryType:
        s = PerColumn(f, ByteReader(v), columns, geometry,
                      [](ByteReader& r, TableMapColumn& c) { c.geometry_type = static_cast<uint32_t>(r.PackedInt()); });
        break;
      case F::kVectorDimensionality:
        s = PerColumn(f, ByteReader(v), columns, vector,
                      [](ByteReader& r, TableMapColumn& c) {
                        c.vector_dimensions = static_cast<uint32_t>(r.PackedInt());
                      });
        break;
      case F::kSimplePrimaryKey:
      case F::kPrimaryKeyWithPrefix: {
        ByteReader r(v);
        while (r.remaining() > 0) {
          PrimaryKeyPart p;
          p.column = static_cast<uint32_t>(r.PackedInt());
          if (f == F::kPrimaryKeyWithPrefix) p.prefix = static_cast<uint32_t>(r.PackedInt());
          if (!r.ok()) return Malformed(f, "a key part runs past the field");
          if (p.column >= n) return Malformed(f, "key column " + std::to_string(p.column) + " of " + std::to_string(n));
          st->primary_key.push_back(p);
        }
        break;
      }
    }
    if (!s.ok()) return s;
  }
  for (size_t i = 0; i < n; ++i) {
    if (st->value_count[i] != 0) {
      st->columns[i].values =
          std::span<const std::string_view>(st->strings.data() + st->value_first[i], st->value_count[i]);
    }
  }
  out->columns = st->columns;
  out->primary_key = st->primary_key;
  out->column_names = st->names;
  return Status::OK();
}

}  // namespace tidewatch::binlog
