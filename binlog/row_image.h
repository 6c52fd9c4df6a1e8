// Row images of row events, walked by column type.
//
// A TABLE_MAP_EVENT gives each column's type and type-specific metadata; a
// row image is a NULL bitmap over the columns present in the image followed
// by the non-NULL values, whose sizes follow from type and metadata
// (libbinlogevents/src/binary_log_funcs.cpp calc_field_size; sql/log_event.cc
// Table_map_log_event::save_field_metadata).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "binlog/byte_reader.h"
#include "base/status.h"

namespace tidewatch::binlog {

// Column type codes (include/mysql_com.h enum_field_types).
enum ColumnType : uint8_t {
  kTypeDecimal = 0, kTypeTiny = 1, kTypeShort = 2, kTypeLong = 3, kTypeFloat = 4,
  kTypeDouble = 5, kTypeNull = 6, kTypeTimestamp = 7, kTypeLongLong = 8, kTypeInt24 = 9,
  kTypeDate = 10, kTypeTime = 11, kTypeDatetime = 12, kTypeYear = 13, kTypeNewDate = 14,
  kTypeVarchar = 15, kTypeBit = 16, kTypeTimestamp2 = 17, kTypeDatetime2 = 18, kTypeTime2 = 19,
  kTypeTypedArray = 20, kTypeVector = 242, kTypeInvalid = 243, kTypeBool = 244, kTypeJson = 245,
  kTypeNewDecimal = 246, kTypeEnum = 247, kTypeSet = 248, kTypeTinyBlob = 249,
  kTypeMediumBlob = 250, kTypeLongBlob = 251, kTypeBlob = 252, kTypeVarString = 253,
  kTypeString = 254, kTypeGeometry = 255,
};

// How a row image stores a column's non-NULL value, resolved once per table
// map from the column's type and metadata (the sizes of SkipColumnValue).
struct ColumnLayout {
  enum class Form : uint8_t {
    kInvalid,   // an unknown type or impossible metadata: no image holding a value of it can be walked
    kEmpty,     // no bytes (type NULL)
    kFixed,     // `size` bytes
    kPrefixed,  // a little-endian length of `prefix` bytes (1–4), then that many bytes
  };
  Form form = Form::kInvalid;
  uint8_t prefix = 0;
  uint16_t size = 0;
  // kFixed: a little-endian two's-complement integer of `size` bytes (TINY,
  // SHORT, INT24, LONG, LONGLONG).
  bool integer = false;
};

ColumnLayout LayoutOf(uint8_t type, uint16_t metadata);

// The columns of one table as a TABLE_MAP_EVENT describes them.
struct TableColumns {
  std::string db, table;
  std::vector<uint8_t> types;
  std::vector<uint16_t> metadata;
  std::vector<uint8_t> raw_metadata;  // the block metadata was parsed from
  std::vector<ColumnLayout> layout;   // per column, once metadata was parsed
  std::vector<uint32_t> all_columns;  // 0 … n-1: the image of a full row
  // The TABLE_MAP body (after its post-header) these columns were last read
  // from, whole: a server announces the same map before every statement
  // that uses the table, and the same bytes again need no reading.
  std::vector<uint8_t> announced;
  // Set anew, unique in the process, whenever the columns are read anew
  // (NextTableGeneration); 0 for columns set up by hand. What a reader
  // prepared for one generation holds for as long as it lasts.
  uint64_t generation = 0;
  // False for the map of a 5.1 pre-release server, which logged the column
  // types alone: its row images cannot be walked.
  bool has_metadata = false;

  // Reads the per-column metadata block of a TABLE_MAP_EVENT; does nothing
  // when types and block are those already parsed.
  Status ParseMetadata(std::span<const uint8_t> types_in, std::span<const uint8_t> block);
  // A map that carries no metadata block and no NULL bitmap.
  void SetTypesOnly(std::span<const uint8_t> types_in);
};

// A TableColumns::generation not given before.
uint64_t NextTableGeneration();

// Advances `r` past one non-NULL value of the column; fails the reader (and
// returns false) when the value does not fit or the type is unknown.
bool SkipColumnValue(ByteReader& r, uint8_t type, uint16_t metadata);

// Walks the row images of a row event's row part. `present` and
// `present_after` are the columns-present bitmaps (the second only for
// updates); `partial` marks PARTIAL_UPDATE_ROWS, whose after images start with
// value options. Counts images; errors name the image and column.
Status WalkRowImages(ByteReader& r, const TableColumns& table, uint64_t column_count,
                     std::span<const uint8_t> present, std::span<const uint8_t> present_after,
                     bool is_update, bool partial, uint64_t* images);

}  // namespace tidewatch::binlog
