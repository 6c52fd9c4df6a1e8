// The optional metadata of a TABLE_MAP_EVENT (MySQL 8.0.1+ with
// binlog_row_metadata, MariaDB 10.5+ with binlog_row_metadata): after the
// NULL bitmap, fields of
//   type 1 · length packed · value
// (libbinlogevents rows_event.h Table_map_event::Optional_metadata_field_type;
// rows_event.cpp Optional_metadata_fields; sql/log_event.cc
// Table_map_log_event::init_*_field on the writing side). Values are
// packed integers (ByteReader::PackedInt) unless said otherwise:
//
//   1 SIGNEDNESS       one bit per numeric column, first column in the high
//                      bit of the first byte; 1 = UNSIGNED
//   2 DEFAULT_CHARSET  the default collation, then (index among the
//                      character columns, collation) for each column that
//                      differs
//   3 COLUMN_CHARSET   one collation per character column
//   4 COLUMN_NAME      per column: length, characters
//   5 SET_STR_VALUE    per SET column: value count, then per value length
//                      and characters
//   6 ENUM_STR_VALUE   the same per ENUM column
//   7 GEOMETRY_TYPE    one geometry type per geometry column
//   8 SIMPLE_PRIMARY_KEY       primary-key column indexes
//   9 PRIMARY_KEY_WITH_PREFIX  (column index, prefix length; 0 = whole) pairs
//  10 ENUM_AND_SET_DEFAULT_CHARSET  as 2, over the ENUM and SET columns
//  11 ENUM_AND_SET_COLUMN_CHARSET   as 3, over the ENUM and SET columns
//  12 COLUMN_VISIBILITY  one bit per column as 1; 1 = visible (MySQL 8.0.23+)
//  13 VECTOR_DIMENSIONALITY  one dimension count per VECTOR column (MySQL 9.0+)
//
// Which columns a field lists follows the column's real type: numeric are
// TINY, SHORT, INT24, LONG, LONGLONG, FLOAT, DOUBLE, NEWDECIMAL; character
// are STRING, VAR_STRING, VARCHAR and BLOB, and VECTOR on MySQL
// (sql/log_event.cc is_character_type), GEOMETRY on MariaDB, whose
// geometry is a blob (sql/log_event_client.cc is_character_type). ENUM and
// SET travel as STRING with their real type in the first metadata byte and
// count as neither. A field that lists more or fewer entries than its
// columns is malformed.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "binlog/event.h"
#include "binlog/row_image.h"

namespace tidewatch::binlog {

// Storage behind the spans of a decoded table map; reused from one map to
// the next, so decoding allocates only while it grows.
struct TableMapMetadataStorage {
  std::vector<TableMapColumn> columns;
  std::vector<std::string_view> strings;
  std::vector<PrimaryKeyPart> primary_key;
  std::vector<std::string_view> names;
  std::vector<uint32_t> selected;     // column indexes, for DEFAULT_CHARSET
  std::vector<uint32_t> value_first, value_count;  // per column: its ENUM/SET values in `strings`
};

// The real type of column `i` of `table`: ENUM, SET or STRING for STRING
// columns (the first metadata byte), the binlog type otherwise.
uint8_t RealColumnType(const TableColumns& table, size_t i);

// Decodes `out->optional_metadata` for the columns of `table`, filling
// out->fields, out->columns, out->primary_key and out->column_names.
// `mariadb`: the map is a MariaDB server's (FormatDescription::is_mariadb).
Status DecodeTableMapMetadata(const TableColumns& table, bool mariadb, TableMapMetadataStorage* storage,
                              TableMapBody* out);

}  // namespace tidewatch::binlog
