#include "backprop/table_encoding.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "backprop/csv.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using testing_support::error_of;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::int64_t> all_rows(std::int64_t n) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), std::int64_t{0});
  return rows;
}

// A table of one numeric column `x` and one text column `t`.
RawTable table(std::vector<float> x, std::vector<std::string> t) {
  RawTable r;
  r.names = {"x", "t"};
  r.numeric = {true, false};
  r.rows = static_cast<std::int64_t>(x.size());
  r.numbers = std::move(x);
  r.texts = {std::move(t)};
  r.lines = all_rows(r.rows);
  r.source = "data.csv";
  return r;
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(MissingCells, SpellingsAndCase) {
  for (const char* cell :
       {"", "  ", "NA", "na", "N/A", "n/a", "NaN", "nan", "NULL", "null", "?", " NA "})
    EXPECT_TRUE(is_missing_cell(cell)) << cell;
  for (const char* cell : {"0", "none", "N", "NAN!", "??", "nulls", "-"})
    EXPECT_FALSE(is_missing_cell(cell)) << cell;
}

TEST(IsoDates, DatesAndDateTimes) {
  const auto d = parse_iso_date("2024-02-29");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->year, 2024);
  EXPECT_EQ(d->month, 2);
  EXPECT_EQ(d->day_of_year(), 60);
  EXPECT_EQ(d->day_of_week(), 3);  // a Thursday
  EXPECT_FALSE(d->hour);
  EXPECT_EQ(parse_iso_date("1970-01-01")->day_of_week(), 3);
  EXPECT_EQ(parse_iso_date("2023-12-31")->day_of_year(), 365);
  EXPECT_EQ(parse_iso_date("2024-12-31")->day_of_year(), 366);
  EXPECT_EQ(parse_iso_date("2026-12-07")->day_of_week(), 0);  // a Monday
  for (const char* cell : {"2024-05-01T13:45", "2024-05-01 13:45:10", "2024-05-01T13:45:10.250Z",
                           "2024-05-01T13:45:10+02:00", "2024-05-01T13:45-05:30"}) {
    const auto t = parse_iso_date(cell);
    ASSERT_TRUE(t) << cell;
    EXPECT_EQ(t->hour, 13) << cell;
  }
}

TEST(IsoDates, HostileAndMalformedCellsAreNotDates) {
  for (const char* cell :
       {"", "2024", "2024-1-01", "2024-13-01", "2023-02-29", "2024-04-31", "2024-00-10",
        "2024-05-01T24:00", "2024-05-01T12:60", "2024-05-01T12", "2024-05-01X12:00",
        "2024-05-01T12:00+", "2024-05-01T12:00+02", "2024-05-01T12:00:00.", "20240501",
        "2024/05/01", "2024-05-01T12:00Zjunk", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6"})
    EXPECT_FALSE(parse_iso_date(cell)) << cell;
}

TEST(TableEncoding, MedianAndMostFrequentFromTrainingRowsOnly) {
  // Rows 0-3 train; row 4 (x 100, t "b") only measures and must not move the statistics.
  const RawTable t = table({1, kNaN, 3, 10, 100}, {"a", "b", "", "a", "b"});
  const std::vector<std::int64_t> train = {0, 1, 2, 3};
  const TableEncoding e = fit_encoding(t, train, {});
  ASSERT_EQ(e.columns.size(), 2u);
  EXPECT_EQ(e.columns[0].fill, (std::vector<float>{3}));  // median of 1, 3, 10
  EXPECT_EQ(e.columns[1].categories, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(e.columns[1].fill_category, "a");
  EXPECT_EQ(e.feature_names(), (std::vector<std::string>{"x", "t=a", "t=b"}));
  EXPECT_FALSE(e.plain());
  std::vector<float> out(static_cast<std::size_t>(t.rows * e.width()));
  EncodingCounts counts;
  e.encode(t, out.data(), counts);
  EXPECT_EQ(out, (std::vector<float>{1, 1, 0, 3, 0, 1, 3, 1, 0, 10, 1, 0, 100, 0, 1}));
  EXPECT_EQ(e.filled_summary(counts), "filled 2 missing cells: x 1, t 1");
  EXPECT_EQ(e.unseen_summary(counts), "");
}

TEST(TableEncoding, UnseenCategoryIsAllZerosAndCounted) {
  const RawTable train = table({1, 2, 3}, {"a", "b", "a"});
  const TableEncoding e = fit_encoding(train, all_rows(3), {});
  const RawTable later = table({1, 2}, {"c", "b"});
  std::vector<float> out(static_cast<std::size_t>(later.rows * e.width()));
  EncodingCounts counts;
  e.encode(later, out.data(), counts);
  EXPECT_EQ(out, (std::vector<float>{1, 0, 0, 2, 0, 1}));
  EXPECT_EQ(e.unseen_summary(counts),
            "1 cell of a category not seen in training, encoded as all zeros: t 1");
}

TEST(TableEncoding, MissingIndicatorsOnlyForColumnsWithGaps) {
  const RawTable t = table({1, kNaN, 3}, {"a", "b", "a"});
  EncodingOptions options;
  options.indicators = true;
  const TableEncoding e = fit_encoding(t, all_rows(3), options);
  EXPECT_EQ(e.feature_names(), (std::vector<std::string>{"x", "x.missing", "t=a", "t=b"}));
  std::vector<float> out(static_cast<std::size_t>(t.rows * e.width()));
  EncodingCounts counts;
  e.encode(t, out.data(), counts);
  EXPECT_EQ(out, (std::vector<float>{1, 0, 1, 0, 2, 1, 0, 1, 3, 0, 1, 0}));
}

TEST(TableEncoding, DateColumnsBecomeCalendarFeatures) {
  const RawTable t =
      table({1, 2, 3, 4}, {"2024-01-01T06:00", "2024-03-01 18:30", "NA", "2025-12-31T00:00:00Z"});
  const TableEncoding e = fit_encoding(t, all_rows(4), {});
  EXPECT_EQ(e.columns[1].kind, ColumnEncoding::Kind::date);
  EXPECT_EQ(e.feature_names(), (std::vector<std::string>{"x", "t.year", "t.month", "t.dayofweek",
                                                         "t.dayofyear", "t.hour"}));
  std::vector<float> out(static_cast<std::size_t>(t.rows * e.width()));
  EncodingCounts counts;
  e.encode(t, out.data(), counts);
  // 2024-01-01 was a Monday; 2024-03-01 a Friday, day 61 of a leap year.
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 6),
            (std::vector<float>{1, 2024, 1, 0, 1, 6}));
  EXPECT_EQ(std::vector<float>(out.begin() + 6, out.begin() + 12),
            (std::vector<float>{2, 2024, 3, 4, 61, 18}));
  // The gap gets each feature's training median.
  for (std::size_t k = 1; k < 6; ++k) EXPECT_EQ(out[12 + k], e.columns[1].fill[k - 1]);
  EXPECT_EQ(counts.filled[1], 1);
}

TEST(TableEncoding, DateColumnReadsANonDateAtPredictTimeAsAnError) {
  const TableEncoding e =
      fit_encoding(table({1, 2}, {"2024-01-01", "2024-01-02"}), all_rows(2), {});
  RawTable later = table({1}, {"yesterday"});
  later.lines = {7};
  std::vector<float> out(static_cast<std::size_t>(e.width()));
  EncodingCounts counts;
  EXPECT_EQ(error_of([&] { e.encode(later, out.data(), counts); }),
            "data.csv:7: column \"t\": \"yesterday\" is not an ISO 8601 date (YYYY-MM-DD, "
            "optionally with Thh:mm[:ss])");
}

TEST(TableEncoding, TooManyOrMostlyUniqueCategoriesNameTheColumn) {
  std::vector<float> x(300, 1.0f);
  std::vector<std::string> many(300);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = "v" + std::to_string(i % 150);
  const std::string wide = error_of([&] { fit_encoding(table(x, many), all_rows(300), {}); });
  EXPECT_TRUE(has(wide, "column \"t\" has more than 100 distinct text values")) << wide;
  EXPECT_TRUE(has(wide, "--ignore t")) << wide;
  std::vector<std::string> names(40);
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = "name" + std::to_string(i);
  const std::string unique =
      error_of([&] { fit_encoding(table(std::vector<float>(40, 1.0f), names), all_rows(40), {}); });
  EXPECT_TRUE(has(unique, "40 distinct values in 40 rows: mostly unique")) << unique;
  // Few rows: one-hot is allowed even when every value differs.
  EXPECT_NO_THROW(fit_encoding(table({1, 2, 3}, {"a", "b", "c"}), all_rows(3), {}));
}

TEST(TableEncoding, AColumnWithoutValuesIsAnError) {
  const std::string message = error_of([] {
    fit_encoding(table({kNaN, kNaN}, {"a", "b"}), all_rows(2), {});
  });
  EXPECT_TRUE(has(message, "column \"x\" has no value in the training rows")) << message;
}

TEST(TableEncoding, CategoricalNumbersAreCategories) {
  RawTable t = table({1, 2, 3}, {"10", "20", "10"});
  EncodingOptions options;
  options.categorical = {"t"};
  const TableEncoding e = fit_encoding(t, all_rows(3), options);
  EXPECT_EQ(e.feature_names(), (std::vector<std::string>{"x", "t=10", "t=20"}));
}

TEST(Delimiters, DetectedFromTheFirstRecords) {
  EXPECT_EQ(detect_delimiter("a,b,c\n1,2,3\n"), ',');
  EXPECT_EQ(detect_delimiter("a;b;c\n1,5;2;3\n"), ';');
  EXPECT_EQ(detect_delimiter("a\tb\tc\n1\t2\t3\n"), '\t');
  EXPECT_EQ(detect_delimiter("\"a;x\",b\n\"1;2\",3\n"), ',');  // quoted delimiters do not count
  EXPECT_EQ(detect_delimiter("single\n1\n"), ',');
  EXPECT_EQ(detect_delimiter(""), ',');
  EXPECT_EQ(detect_delimiter("\"unterminated;a;b\n"), ',');
  EXPECT_EQ(parse_delimiter("tab"), '\t');
  EXPECT_EQ(parse_delimiter("auto"), 0);
  EXPECT_TRUE(has(error_of([] { parse_delimiter("pipe"); }), "auto, comma, semicolon, tab"));
}

TEST(Delimiters, TabFieldsKeepTheirSpacesAfterQuotes) {
  CsvReader reader("\"a\" \tb\n", "data.csv", '\t');
  CsvRecord r;
  ASSERT_TRUE(reader.next(r));
  EXPECT_EQ(r.fields, (std::vector<std::string>{"a", "b"}));
}

// A numeric-only table encoded where it is gives the features and counts of the copying
// encoding; an encoding that widens the table is not done in place and leaves it as it was.
TEST(TableEncoding, InPlaceEqualsTheCopyAndRefusesAWideningEncoding) {
  RawTable t;
  t.names = {"a", "b", "c"};
  t.numeric = {true, true, true};
  t.rows = 5;
  t.numbers = {1, kNaN, 3, 4, 5, 6, kNaN, kNaN, 9, 10, 11, 12, 13, 14, kNaN};
  t.lines = all_rows(t.rows);
  t.source = "data.csv";
  for (const bool indicators : {false, true}) {
    EncodingOptions options;
    options.indicators = indicators;
    const TableEncoding e = fit_encoding(t, all_rows(3), options);
    std::vector<float> copied(static_cast<std::size_t>(t.rows * e.width()));
    EncodingCounts copy_counts;
    e.encode(t, copied.data(), copy_counts);
    EXPECT_EQ(std::count_if(copied.begin(), copied.end(), [](float v) { return std::isnan(v); }),
              0);

    RawTable in_place = t;
    EncodingCounts counts;
    EXPECT_EQ(e.encode_in_place(in_place, counts), !indicators);
    if (indicators) {
      EXPECT_EQ(e.width(), 5);  // a and b had gaps in the fit rows, c had none
      EXPECT_TRUE(
          std::equal(in_place.numbers.begin(), in_place.numbers.end(), t.numbers.begin(),
                     [](float x, float y) { return x == y || (std::isnan(x) && std::isnan(y)); }));
      continue;
    }
    EXPECT_EQ(in_place.numbers, copied);
    EXPECT_EQ(counts.filled, copy_counts.filled);
    EXPECT_EQ(counts.filled, (std::vector<std::int64_t>{1, 2, 1}));
  }
  // A table with a text column is not plain either.
  const RawTable mixed = table({1, 2, 3}, {"p", "q", "p"});
  RawTable copy = mixed;
  EncodingCounts counts;
  EXPECT_FALSE(fit_encoding(mixed, all_rows(3), {}).encode_in_place(copy, counts));
  EXPECT_EQ(copy.numbers, mixed.numbers);
}

}  // namespace
}  // namespace backprop
