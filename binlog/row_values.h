// Row values: every column value of a row event's images as a typed value.
//
// RowValueReader reads the images of a RowsBody whose images can be walked
// (RowsBody::columns set; the decoder need not have walked them) and turns
// each column present in an image into a
// ColumnValue: integers sign-extended from their width, FLOAT and DOUBLE as
// floating point, DECIMAL as its unscaled integer and scale (and its packed
// bytes), the temporal types as calendar fields or epoch seconds, BIT as an
// integer, ENUM as its 1-based index, SET as its member bitmask, and strings,
// blobs, geometry and JSON (MySQL's binary form) as views of their bytes.
//
// Guarantees:
// - Byte views point into the event (or the decoder's decompressed rows) and,
//   like the image span, are valid until the decoder's next call.
// - No allocation per value, image or event once a reader has held an image
//   as wide as the current one: Reset() and Next() reuse the reader's buffers.
// - Reads stay inside RowsBody::row_data; a value that does not fit there, or
//   a column the table map gives no layout for, ends the images with an
//   error naming the image and column (the checks of the decoder's walk,
//   row_image.h, so a reader over unwalked images validates them as well).
//
// Layouts: MySQL sql/log_event.cc log_event_print_value, strings/decimal.c
// bin2decimal, mysys/my_time.cc my_{datetime,time,timestamp}_packed_from_binary;
// MariaDB writes the same forms (TIME2, DATETIME2 and TIMESTAMP2 are MySQL
// 5.6's).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "binlog/byte_reader.h"
#include "binlog/event.h"
#include "binlog/row_image.h"
#include "base/status.h"

namespace tidewatch::binlog {

// Calendar fields of DATE, DATETIME, DATETIME2, TIME and TIME2 (for TIME,
// `hour` runs to 838 and `negative` gives the sign; the date fields are 0).
// Trivial, to live in ColumnValue's union; TemporalValue{} is all zero.
struct TemporalValue {
  uint16_t year;
  uint8_t month, day;
  uint16_t hour;
  uint8_t minute, second;
  bool negative;
  uint32_t microsecond;
};

// DECIMAL: unscaled / 10^scale. `unscaled` is set when precision <= 18
// (fits_int64); the packed form is in ColumnValue::bytes in every case.
struct DecimalValue {
  uint8_t precision, scale;
  bool negative;
  bool fits_int64;
  int64_t unscaled;
};

struct ColumnValue {
  enum class Kind : uint8_t {
    kNull,       // NULL in the image (or a column of type NULL)
    kInt,        // TINY, SHORT, INT24, LONG, LONGLONG: `i`, `width` bytes
    kFloat,      // `f`
    kDouble,     // `d`
    kDecimal,    // `decimal`, packed form in `bytes`
    kBytes,      // CHAR, VARCHAR, BINARY, the BLOB/TEXT types, GEOMETRY, VECTOR: `bytes`
    kJson,       // MySQL binary JSON in `bytes`
    kJsonDiff,   // a PARTIAL_UPDATE_ROWS after image's JSON diff, in `bytes`
    kBit,        // `u`, the bits right-aligned
    kEnum,       // `u`, the 1-based index (0: the empty string of an invalid value)
    kSet,        // `u`, bit i set for member i
    kYear,       // `i`: 1901–2155, or 0
    kDate,       // `temporal`
    kTime,       // `temporal`
    kDatetime,   // `temporal`
    kTimestamp,  // `timestamp`: seconds since the epoch and microseconds
  };
  struct Timestamp {
    int64_t seconds;
    uint32_t microsecond;
  };

  Kind kind = Kind::kNull;
  uint8_t type = 0;    // the column's type in the table map (for CHAR-coded ENUM/SET: the real type)
  uint8_t width = 0;   // kInt: bytes of the integer in the image
  uint32_t column = 0; // index of the column in the table
  union {
    int64_t i = 0;
    uint64_t u;
    float f;
    double d;
    TemporalValue temporal;
    DecimalValue decimal;
    Timestamp timestamp;
  };
  std::span<const uint8_t> bytes;

  // kInt read as an unsigned column of its width.
  uint64_t AsUnsigned() const {
    return width >= 8 ? static_cast<uint64_t>(i) : static_cast<uint64_t>(i) & ((uint64_t{1} << (8 * width)) - 1);
  }
};

// A DECIMAL value as text, "-123.45" (scale digits after the point).
std::string DecimalToString(const ColumnValue& v);

class RowValueReader {
 public:
  // Starts on the images of `rows`; fails when they cannot be walked
  // (columns null: no table map, a pre-GA event, a map without metadata).
  Status Reset(const RowsBody& rows);

  // The next image's values, one per column present in it, in column order
  // (an update alternates before and after images). False at the end of the
  // images or on an error (status()).
  bool Next(std::span<const ColumnValue>* image);

  // OK, or why the last Next() stopped before the end.
  const Status& status() const { return status_; }
  // Images read so far.
  uint64_t images() const { return images_; }

 private:
  // One value per column a columns-present bitmap names, its column and type
  // set by Prepare; the first `count` are the event's. Prepared again only
  // when the bitmap or the table's columns (their generation) change: the
  // events of one statement share them.
  struct PresentColumns {
    // How each present column's value is read, in image order: the common
    // forms inline, the rest by the general reader.
    enum class Read : uint8_t { kInt, kPrefixed, kOther };
    struct Step {
      Read read;
      uint8_t size;  // kInt: the integer's bytes; kPrefixed: the length's bytes
    };
    std::vector<ColumnValue> values;
    std::vector<Step> steps;
    size_t count = 0;
    uint64_t generation = 0;
    uint64_t column_count = 0;
    std::vector<uint8_t> bitmap;
    // At most 64 columns, every one kInt or kPrefixed: ReadSimpleImage.
    bool simple = false;
    void Prepare(std::span<const uint8_t> present, uint64_t columns, const TableColumns& t);
  };
  bool ReadImage(PresentColumns& present, bool partial_after);
  // Reads a kInt or kPrefixed value at `*p` (before `end`) into `v`, moving
  // `*p` past it; false when it does not fit.
  static bool ReadCommonValue(PresentColumns::Step step, const uint8_t** p, const uint8_t* end, ColumnValue* v);
  // ReadImage for a `simple` image, not a partial update's after image.
  bool ReadSimpleImage(PresentColumns& present);
  // Sets status_ to the corruption at byte `start` of the rows (in column
  // `v`, when given); returns false.
  [[gnu::cold, gnu::noinline]] bool Fail(size_t start, const ColumnValue* v, const char* what);

  ByteReader r_;
  const TableColumns* table_ = nullptr;
  bool update_ = false, partial_ = false;
  uint64_t images_ = 0;
  PresentColumns before_, after_;
  Status status_;
};

}  // namespace tidewatch::binlog
