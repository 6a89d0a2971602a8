// CSV text read in windows (CsvReader's streaming constructor, CsvText over a file): the same
// records, messages and data sets as the same text in memory, wherever the windows end.
#include "data/csv_text.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "backprop/csv.hpp"
#include "backprop/error.hpp"
#include "cli/cli_test_util.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;
using testing_support::error_of;

// The records of `text` read from memory (window 0) or through windows of `window` bytes, the
// text handed out by a reader that gives at most `window` bytes a call, as a file would.
std::vector<CsvRecord> records_of(std::string_view text, std::size_t window) {
  std::vector<CsvRecord> records;
  CsvRecord record;
  if (window == 0) {
    CsvReader reader(text, "data.csv");
    while (reader.next(record)) records.push_back(record);
    return records;
  }
  std::size_t at = 0;
  CsvReader reader(
      [&](std::span<char> out) {
        const std::size_t n = std::min(out.size(), text.size() - at);
        std::memcpy(out.data(), text.data() + at, n);
        at += n;
        return n;
      },
      "data.csv", ',', window);
  while (reader.next(record)) records.push_back(record);
  return records;
}

// Every window size from 1 byte to past the whole text gives the records read from memory, which
// must be `expected` (fields, and the line each starts on).
void expect_records_in_every_window(std::string_view text,
                                    const std::vector<std::vector<std::string>>& expected,
                                    const std::vector<std::int64_t>& lines) {
  const std::vector<CsvRecord> whole = records_of(text, 0);
  ASSERT_EQ(whole.size(), expected.size());
  for (std::size_t r = 0; r < whole.size(); ++r) {
    EXPECT_EQ(whole[r].fields, expected[r]) << "record " << r;
    EXPECT_EQ(whole[r].line, lines[r]) << "record " << r;
  }
  for (std::size_t window = 1; window <= text.size() + 1; ++window) {
    const std::vector<CsvRecord> read = records_of(text, window);
    ASSERT_EQ(read.size(), whole.size()) << "window " << window;
    for (std::size_t r = 0; r < read.size(); ++r) {
      EXPECT_EQ(read[r].fields, whole[r].fields) << "window " << window << ", record " << r;
      EXPECT_EQ(read[r].line, whole[r].line) << "window " << window << ", record " << r;
    }
  }
}

TEST(CsvWindows, AQuotedFieldSpanningAWindowBoundary) {
  expect_records_in_every_window("a,\"one, \"\"two\"\"\nthree\r\nfour\"  ,b\nc,\"\"\n",
                                 {{"a", "one, \"two\"\nthree\r\nfour", "b"}, {"c", ""}}, {1, 4});
}

TEST(CsvWindows, CrlfSplitAcrossAWindowIsOneLineEnd) {
  expect_records_in_every_window("1,2\r\n3,4\r\n\r\n5,6\r7,8\r\n",
                                 {{"1", "2"}, {"3", "4"}, {""}, {"5", "6"}, {"7", "8"}},
                                 {1, 2, 3, 4, 5});
}

TEST(CsvWindows, AByteOrderMarkIsSkippedOnlyAtTheStart) {
  expect_records_in_every_window("\xEF\xBB\xBFx,y\n1,\xEF\xBB\xBF\n",
                                 {{"x", "y"}, {"1", "\xEF\xBB\xBF"}}, {1, 2});
  expect_records_in_every_window("\xEF\xBB", {{"\xEF\xBB"}}, {1});
}

TEST(CsvWindows, TheLastRecordMayLackALineEndAndTrailingBlankLinesAreNoRecords) {
  expect_records_in_every_window("a,b\n1,\"2\"", {{"a", "b"}, {"1", "2"}}, {1, 2});
  expect_records_in_every_window("a,b\n \n1,2\n \t\r\n\n  ", {{"a", "b"}, {" "}, {"1", "2"}},
                                 {1, 2, 3});
  expect_records_in_every_window(" \n\n", {}, {});
}

TEST(CsvWindows, ErrorsAreTheSameInEveryWindow) {
  for (const std::string_view text :
       {std::string_view("a,b\n1,\"2\n3,4\n"), std::string_view("a,b\n1,\"2\"x\n"),
        std::string_view("a,b\n\"1\"\"\"  \"\n")}) {
    const std::string expected = error_of([&] { records_of(text, 0); });
    ASSERT_FALSE(expected.empty());
    for (std::size_t window = 1; window <= text.size() + 1; ++window)
      EXPECT_EQ(error_of([&] { records_of(text, window); }), expected) << "window " << window;
  }
}

// ---- Files --------------------------------------------------------------------------------

class CsvTextFile : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, std::string_view text) {
    test::write_file(dir_ / name, std::string(text));
    return dir_ / name;
  }
  fs::path write_gzip(const std::string& name, std::string_view text) {
    const fs::path p = dir_ / name;
    gzFile f = gzopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())),
              static_cast<int>(text.size()));
    gzclose(f);
    return p;
  }
  test::TempDir dir_;
};

// A table of every kind of column, gaps, quotes spanning lines, CRLF and a BOM: several windows
// of 7 bytes long.
std::string mixed_table() {
  std::string text = "\xEF\xBB\xBFid,age,city,\"note, long\",when,label\r\n";
  const char* cities[] = {"Oslo", "\"Paris, FR\"", "Rome", "NA"};
  for (int i = 0; i < 40; ++i) {
    text += "r" + std::to_string(i) + ",";
    text += (i % 7 == 3) ? "" : std::to_string(20 + i % 13) + "." + std::to_string(i % 10);
    text += std::string(",") + cities[i % 4] + ",\"n" + std::to_string(i) + "\nx\"\",\"\"\",";
    text += "2020-0" + std::to_string(1 + i % 9) + "-1" + std::to_string(i % 10) + ",";
    text += (i % 3 == 0 ? "yes" : "no");
    text += (i % 2 == 0) ? "\r\n" : "\n";
  }
  return text;
}

// A numeric table: the plain encoding, read in place.
std::string numeric_table() {
  std::string text = "a,b,c,y\n";
  for (int i = 0; i < 50; ++i)
    text += std::to_string(i * 0.25) + "," + (i % 5 == 0 ? "?" : std::to_string(-i)) + "," +
            std::to_string(i % 4) + ".5," + std::to_string(i % 3) + "\n";
  return text + "1,2,3,1";  // no line end at the end
}

void expect_same(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.targets, b.targets);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.feature_names, b.feature_names);
  EXPECT_EQ(a.class_names, b.class_names);
  EXPECT_EQ(a.label_name, b.label_name);
  EXPECT_EQ(a.notes, b.notes);
  EXPECT_EQ(a.source, b.source);
}

TEST_F(CsvTextFile, AFileOfManyWindowsGivesTheDatasetOfTheSameTextInMemory) {
  for (const std::string& text : {mixed_table(), numeric_table()}) {
    CsvOptions options;
    if (text == mixed_table()) {
      options.id_column = "id";
      options.ignore = {"note, long"};
      options.encoding.indicators = true;
    }
    CsvReport in_memory;
    const Dataset expected = parse_csv_dataset(text, "t.csv", options, &in_memory);
    ASSERT_GE(expected.rows, 40);
    for (const fs::path& file : {write("t.csv", text), write_gzip("t.csv.gz", text)}) {
      for (const std::size_t window : {std::size_t{1}, std::size_t{7}, kCsvWindowBytes}) {
        CsvReport report;
        const CsvText csv(file, "t.csv", window);
        expect_same(csv_dataset(csv, options, &report), expected);
        EXPECT_EQ(report.schema.feature_names, in_memory.schema.feature_names);
        EXPECT_EQ(report.header_reason, in_memory.header_reason);
        EXPECT_EQ(report.task_reason, in_memory.task_reason);
        expect_same(csv_for_model(csv, report.schema, true, options.id_column, 0, 0),
                    parse_csv_for_model(text, "t.csv", report.schema, true, options.id_column));
      }
    }
    // And through the public readers, which name the file by its path.
    const fs::path file = write("t.csv", text);
    expect_same(read_csv_dataset(file, options), parse_csv_dataset(text, file.string(), options));
  }
}

TEST_F(CsvTextFile, MessagesAreTheSameAsForTheTextInMemory) {
  const std::string good = numeric_table();
  for (const std::string& text : {good + "\n1,x,2,1\n", good + "\n1,2\n", good + "\n\"1,2,3,1\n",
                                  std::string("a,b\n"), std::string(""), good + "\n1,2,3,\n"}) {
    CsvOptions options;
    options.encoding.missing = MissingPolicy::error;
    const std::string expected = error_of([&] { parse_csv_dataset(text, "t.csv", options); });
    ASSERT_FALSE(expected.empty());
    const CsvText csv(write("t.csv", text), "t.csv", 5);
    EXPECT_EQ(error_of([&] { csv_dataset(csv, options, nullptr); }), expected);
  }
}

TEST_F(CsvTextFile, LimitsAndFileErrorsAreTheFileReadersOwn) {
  const fs::path missing = dir_ / "none.csv";
  EXPECT_EQ(error_of([&] { read_csv_dataset(missing, {}); }),
            missing.string() + ": cannot open: No such file or directory");
  EXPECT_EQ(error_of([&] { read_csv_dataset(dir_.path(), {}); }),
            dir_.path().string() + ": is a directory, not a file");
  // A gzip cut short fails as the stream reaches the cut, naming the file.
  const fs::path gz = write_gzip("t.csv.gz", numeric_table());
  std::string raw;
  {
    std::ifstream in(gz, std::ios::binary);
    raw.assign(std::istreambuf_iterator<char>(in), {});
  }
  const fs::path cut = write("cut.csv.gz", std::string_view(raw).substr(0, raw.size() - 10));
  EXPECT_EQ(error_of([&] { read_csv_dataset(cut, {}); }),
            cut.string() + ": not a valid gzip stream (truncated)");
}

}  // namespace
}  // namespace backprop
