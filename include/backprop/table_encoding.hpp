#pragma once
// How the columns of a raw table become the numeric features x of the seed's row vector:
//   number    -> one feature, the value; a missing cell gets the training median
//   category  -> one-hot, one feature per category seen in training (an unseen one: all zeros);
//                a missing cell gets the most frequent training category
//   date      -> year, month, day of week (Monday 0), day of year, and hour when the training
//                column had times; a missing cell gets each feature's training median
// plus, with missing indicators, one 0/1 feature per column that had gaps in training
// ("<name>.missing", 1 where the cell was missing).
// The statistics are fitted on the training rows only and kept in the model file, so eval and
// predict encode raw tables the same way (by column name).
// A cell is missing when, spaces around it removed, it is empty or one of NA, N/A, NaN, null, ?
// in any mix of upper and lower case.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace backprop {

// What to do with a missing feature cell.
enum class MissingPolicy { impute, drop /* leave the row out */, error };
std::string to_string(MissingPolicy p);
MissingPolicy parse_missing_policy(const std::string& name);  // throws Error listing the choices

// One-hot refuses a column with more distinct training values than this, or one whose values
// are mostly unique (more than half distinct, among at least kMinRowsForUniqueRule cells):
// such a column (a name, an id) is better left out with --ignore.
inline constexpr std::size_t kMaxCategories = 100;
inline constexpr std::size_t kMinRowsForUniqueRule = 20;

bool is_missing_cell(std::string_view cell);

// An ISO 8601 calendar date "YYYY-MM-DD", optionally followed by 'T' or one space and
// "hh:mm[:ss[.fff]]", optionally followed by 'Z' or "+hh:mm" / "-hh:mm" (the offset is checked
// and ignored: the features describe the time as written).
struct CivilTime {
  int year = 0, month = 0, day = 0;
  std::optional<int> hour;
  int day_of_week() const;  // Monday 0 .. Sunday 6
  int day_of_year() const;  // 1 .. 366
};
std::optional<CivilTime> parse_iso_date(std::string_view cell);

struct ColumnEncoding {
  enum class Kind { number, category, date };
  std::string name;  // the table's column
  Kind kind = Kind::number;
  bool indicator = false;               // adds "<name>.missing"
  std::vector<float> fill;              // number: {median}; date: one median per feature
  std::vector<std::string> categories;  // category: one-hot order (byte order)
  std::string fill_category;            // category: the most frequent training value
  bool hour = false;                    // date: the training column had times

  std::int64_t width() const;  // features this column gives
};

std::string to_string(ColumnEncoding::Kind k);
ColumnEncoding::Kind parse_column_kind(const std::string& name);

// The feature columns of a table as read, before encoding.
struct RawTable {
  std::vector<std::string> names;
  std::vector<bool> numeric;  // per column: read as numbers (else as text)
  std::int64_t rows = 0;
  // Numeric columns: rows x (their count), row-major, in column order; NaN marks a missing cell.
  std::vector<float> numbers;
  // Text columns: one vector of rows trimmed cells each, in column order.
  std::vector<std::vector<std::string>> texts;
  std::vector<std::int64_t> lines;  // the line each row starts on, for messages
  std::string source;
};

// Counts of what encoding a table did, for one summary line each.
struct EncodingCounts {
  std::vector<std::int64_t> filled;  // per column: missing cells filled
  std::vector<std::int64_t> unseen;  // per column: unseen categories encoded as zeros
};

struct TableEncoding {
  MissingPolicy missing = MissingPolicy::impute;
  std::vector<ColumnEncoding> columns;

  std::int64_t width() const;                      // features in all
  std::vector<std::string> feature_names() const;  // "age", "city=Paris", "day.month", ...
  // True when the features are the columns' values one to one (numbers, no indicators): a
  // reader that knows nothing of encodings reads such a model correctly.
  bool plain() const;

  // Encodes every row of `table` (whose columns are this encoding's, in order) into
  // out[0, table.rows * width()), row-major. Missing cells are filled whatever the policy (the
  // reader has applied drop and error already). Throws Error naming the line and column of a
  // cell a date column cannot read.
  void encode(const RawTable& table, float* out, EncodingCounts& counts) const;
  // The same encoding without a second buffer, when plain(): every feature is its column's
  // value with the gaps filled, so table.numbers (rows x width(), row-major) becomes the
  // features. Returns false, changing nothing, for an encoding that widens the table.
  bool encode_in_place(RawTable& table, EncodingCounts& counts) const;

  // "filled 12 missing cells: age 7, city 5"; "" when none was filled.
  std::string filled_summary(const EncodingCounts& counts) const;
  // "3 cells of an unseen category, encoded as all zeros: city 3"; "" when none.
  std::string unseen_summary(const EncodingCounts& counts) const;
};

// How to fit an encoding.
struct EncodingOptions {
  MissingPolicy missing = MissingPolicy::impute;
  bool indicators = false;               // add a missing indicator for columns with gaps
  std::vector<std::string> categorical;  // column names whose numeric codes are categories
};

// Fits the encoding of the table's columns on `rows` only. A numeric column is a number
// column; a text column is a date column when every non-missing cell is an ISO date, else a
// category column. Throws Error naming the column when one-hot would be too wide, or when a
// column has no value in the training rows.
TableEncoding fit_encoding(const RawTable& table, std::span<const std::int64_t> rows,
                           const EncodingOptions& options);

}  // namespace backprop
