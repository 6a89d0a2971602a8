#include "backprop/csv.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "backprop/error.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using Header = CsvOptions::Header;
// Passes when `part` occurs in `text`; on failure shows both.
::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}
#define EXPECT_CONTAINS(text, part) EXPECT_TRUE(contains(text, part))

std::vector<CsvRecord> records_of(std::string_view text) {
  CsvReader reader(text, "data.csv");
  std::vector<CsvRecord> records;
  CsvRecord record;
  while (reader.next(record)) records.push_back(record);
  return records;
}

std::vector<std::string> fields(std::initializer_list<const char*> list) {
  return {list.begin(), list.end()};
}

Dataset parse(std::string_view text, const CsvOptions& options = {}, CsvReport* report = nullptr) {
  return parse_csv_dataset(text, "data.csv", options, report);
}

using testing_support::error_of;

std::string parse_error(std::string_view text, const CsvOptions& options = {}) {
  return error_of([&] { parse(text, options); });
}

CsvOptions with_label(std::string label) {
  CsvOptions options;
  options.label = std::move(label);
  return options;
}

// A file in the temp directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(std::string_view contents) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() / (std::string("backprop_csv_") + info->name() +
                                                      "_" + std::to_string(::getpid()) + ".csv");
    std::ofstream out(path_, std::ios::binary);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ---- The reader ---------------------------------------------------------------------------

TEST(CsvReader, SplitsPlainRecords) {
  const auto records = records_of("a,b,c\n1,2,3\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, fields({"a", "b", "c"}));
  EXPECT_EQ(records[1].fields, fields({"1", "2", "3"}));
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[1].line, 2);
}

TEST(CsvReader, QuotedFieldsHoldCommasQuotesAndNewlines) {
  const auto records = records_of("\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\",\"\"\nnext,2,3,4\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, fields({"x,y", "say \"hi\"", "two\nlines", ""}));
  // The second record starts on line 3: the quoted newline is a physical line.
  EXPECT_EQ(records[1].line, 3);
  EXPECT_EQ(records[1].fields, fields({"next", "2", "3", "4"}));
}

TEST(CsvReader, CrlfAndLoneCrEndRecords) {
  const auto crlf = records_of("a,b\r\n1,2\r\n\"x\r\ny\",4");
  ASSERT_EQ(crlf.size(), 3u);
  EXPECT_EQ(crlf[1].fields, fields({"1", "2"}));
  EXPECT_EQ(crlf[2].fields, fields({"x\r\ny", "4"}));
  EXPECT_EQ(crlf[2].line, 3);

  const auto cr = records_of("a\r1\r2");
  ASSERT_EQ(cr.size(), 3u);
  EXPECT_EQ(cr[2].fields, fields({"2"}));
  EXPECT_EQ(cr[2].line, 3);
}

TEST(CsvReader, SkipsByteOrderMarkOnlyAtTheStart) {
  const auto records = records_of("\xEF\xBB\xBFname,v\n1,2\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields[0], "name");
}

TEST(CsvReader, TrailingLineEndIsOptionalAndTrailingBlankLinesAreIgnored) {
  EXPECT_EQ(records_of("a,b\n1,2").size(), 2u);
  EXPECT_EQ(records_of("a,b\n1,2\n").size(), 2u);
  EXPECT_EQ(records_of("a,b\n1,2\n\n  \r\n\t\n").size(), 2u);
  EXPECT_TRUE(records_of("").empty());
  EXPECT_TRUE(records_of("\n\n").empty());
}

TEST(CsvReader, TrailingCommaMakesAnEmptyLastField) {
  const auto records = records_of("a,b,\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, fields({"a", "b", ""}));
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsOrdinaryAndSpacesAfterClosingQuoteAreDropped) {
  const auto records = records_of("5'11\",\"q\"  ,z\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, fields({"5'11\"", "q", "z"}));
}

TEST(CsvReader, UnterminatedQuoteNamesWhereItOpened) {
  const std::string message = error_of([] { records_of("a,b\n1,\"oops\n2,3\n"); });
  EXPECT_CONTAINS(message, "data.csv:2: column 1:");
  EXPECT_CONTAINS(message, "unterminated");
}

TEST(CsvReader, TextAfterClosingQuoteIsAnError) {
  const std::string message = error_of([] { records_of("a,b\n\"ab\"c,1\n"); });
  EXPECT_CONTAINS(message, "data.csv:2: column 0:");
  EXPECT_CONTAINS(message, "after a closing quote");
}

// ---- Headers ------------------------------------------------------------------------------

TEST(CsvHeader, DetectedWhenTextSitsAboveNumbers) {
  CsvReport report;
  const Dataset d = parse("x,y,label\n1,2,a\n3,4,b\n", {}, &report);
  EXPECT_TRUE(report.schema.has_header);
  EXPECT_EQ(d.feature_names, fields({"x", "y"}));
  EXPECT_EQ(d.label_name, "label");
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.features, 2);
  EXPECT_EQ(d.values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_CONTAINS(report.header_reason, "header");
}

TEST(CsvHeader, NotDetectedOnDataWithTextLabels) {
  CsvReport report;
  const Dataset d = parse("1,2,a\n3,4,b\n", {}, &report);
  EXPECT_FALSE(report.schema.has_header);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.feature_names, fields({"c0", "c1"}));
  EXPECT_EQ(d.label_name, "c2");
  EXPECT_EQ(report.schema.columns, 3);
}

TEST(CsvHeader, ForcedYesTakesANumericFirstLineAsNames) {
  CsvOptions options;
  options.header = Header::yes;
  const Dataset d = parse("1,2,3\n4,5,6\n", options);
  EXPECT_EQ(d.rows, 1);
  EXPECT_EQ(d.feature_names, fields({"1", "2"}));
  EXPECT_EQ(d.label_name, "3");
}

TEST(CsvHeader, ForcedNoReadsATextFirstLineAsData) {
  CsvOptions options;
  options.header = Header::no;
  // Line 1 is data: its text makes column c0 a category column.
  const Dataset d = parse("x,y\n1,2\n", options);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.feature_names, fields({"c0=1", "c0=x"}));
}

TEST(CsvHeader, UndetectedHeaderErrorSuggestsSayingSo) {
  // Numbers below, a name on line 1 that the rule missed (the label's column is text too).
  CsvOptions options;
  options.header = Header::no;
  const std::string message = parse_error("name,species\n1,cat\n2,dog\n", options);
  EXPECT_CONTAINS(message, "data.csv:1: column 0 (\"c0\"): \"name\" is not a number");
  options.header = Header::automatic;
  EXPECT_EQ(parse("name,species\n1,cat\n2,dog\n", options).rows, 2);
}

TEST(CsvHeader, SingleRecordIsAHeaderOnlyWhenItHasNoNumbers) {
  EXPECT_EQ(parse_error("x,y,label\n"), "data.csv:1: header only, no data rows");
  const Dataset d = parse("1,2,cat\n");
  EXPECT_EQ(d.rows, 1);
}

TEST(CsvHeader, EmptyHeaderCellGetsTheGenericName) {
  const Dataset d = parse(",a,y\n0,1,2\n1,3,4\n", with_label("y"));
  EXPECT_EQ(d.feature_names, fields({"c0", "a"}));
}

TEST(CsvHeader, DuplicateNamesAreAnError) {
  const std::string message = parse_error("a,b,a,y\n1,2,3,0\n");
  EXPECT_CONTAINS(message, "data.csv:1: column 2 (\"a\") has the same name as column 0");
}

// ---- Columns ------------------------------------------------------------------------------

TEST(CsvColumns, LabelByNameAnywhere) {
  const Dataset d = parse("a,target,b\n1,0,2\n3,1,4\n", with_label("target"));
  EXPECT_EQ(d.feature_names, fields({"a", "b"}));
  EXPECT_EQ(d.values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{0, 1}));
}

TEST(CsvColumns, LabelByIndex) {
  const Dataset d = parse("7,1,2\n8,3,4\n", with_label("0"));
  EXPECT_EQ(d.label_name, "c0");
  EXPECT_EQ(d.values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(d.class_names, fields({"7", "8"}));
}

TEST(CsvColumns, IgnoredAndIdColumnsAreNotFeatures) {
  CsvOptions options;
  options.id_column = "id";
  options.ignore = {"note"};
  const Dataset d = parse("id,a,note,b,y\nr1,1,hello,2,0\nr2,3,bye,4,1\n", options);
  EXPECT_EQ(d.feature_names, fields({"a", "b"}));
  EXPECT_EQ(d.values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(d.ids, fields({"r1", "r2"}));
}

TEST(CsvColumns, HeaderlessColumnsAreNamedByPosition) {
  CsvOptions options;
  options.ignore = {"c1"};
  const Dataset d = parse("1,99,2,0\n3,98,4,1\n", options);
  EXPECT_EQ(d.feature_names, fields({"c0", "c2"}));
  EXPECT_EQ(d.values, (std::vector<float>{1, 2, 3, 4}));
}

TEST(CsvColumns, UnknownLabelNameListsTheColumns) {
  const std::string message = parse_error("a,b,y\n1,2,3\n", with_label("nope"));
  EXPECT_CONTAINS(message, "data.csv:1:");
  EXPECT_CONTAINS(message, "label column \"nope\" not found");
  EXPECT_CONTAINS(message, "a, b, y");
}

TEST(CsvColumns, LabelIndexOutOfRange) {
  const std::string message = parse_error("1,2,3\n4,5,6\n", with_label("7"));
  EXPECT_CONTAINS(message, "data.csv:1:");
  EXPECT_CONTAINS(message, "index 7 is out of range");
  EXPECT_CONTAINS(message, "3 columns");
}

TEST(CsvColumns, UnknownIgnoreName) {
  CsvOptions options;
  options.ignore = {"zip"};
  const std::string message = parse_error("a,b,y\n1,2,3\n", options);
  EXPECT_CONTAINS(message, "data.csv:1: ignored column \"zip\" not found");
}

TEST(CsvColumns, IgnoringTheLabelOrEverythingIsAnError) {
  CsvOptions options;
  options.ignore = {"y"};
  EXPECT_CONTAINS(parse_error("a,y\n1,2\n", options), "is the label column");
  options.ignore = {"a"};
  EXPECT_CONTAINS(parse_error("a,y\n1,2\n", options), "no feature columns");
}

// ---- Malformed cells and records ----------------------------------------------------------

TEST(CsvErrors, NonNumericCellInANumberColumnQuotesTheCell) {
  EXPECT_EQ(parse_error("a,income,y\n1,2,0\n3,12a,1\n5,6,0\n"),
            "data.csv:3: column 1 (\"income\"): \"12a\" is not a number (2 of the column's cells "
            "are numbers; if it holds categories, give --categorical income)");
}

TEST(CsvErrors, MissingValuesWithMissingError) {
  CsvOptions options;
  options.encoding.missing = MissingPolicy::error;
  EXPECT_EQ(parse_error("a,income,y\n1,2,0\n3,,1\n", options),
            "data.csv:3: column 1 (\"income\"): missing value (--missing error)");
  EXPECT_EQ(parse_error("a,income,y\n1,2,0\n3,  ,1\n", options),
            "data.csv:3: column 1 (\"income\"): missing value (--missing error)");
  EXPECT_EQ(parse_error("a,income,y\n1,2,0\n3,NaN,1\n", options),
            "data.csv:3: column 1 (\"income\"): missing value (\"NaN\") (--missing error)");
  EXPECT_CONTAINS(parse_error("a,b,y\n1,2,0\n3,4,\n", options),
                  "data.csv:3: column 2 (\"y\"): missing value");
}

TEST(CsvErrors, InfinityAndOverflowAreNotUsable) {
  EXPECT_EQ(parse_error("a,b,y\n1,2,0\n3,inf,1\n"),
            "data.csv:3: column 1 (\"b\"): \"inf\" is not a finite number");
  EXPECT_CONTAINS(parse_error("a,b,y\n1,2,0\n3,1e39,1\n"), "out of the range");
}

TEST(CsvErrors, WrongNumberOfFields) {
  EXPECT_EQ(parse_error("a,b,y\n1,2,0\n3,4\n"), "data.csv:3: expected 3 fields, found 2");
  EXPECT_EQ(parse_error("a,b,y\n1,2,0\n3,4,5,6\n"), "data.csv:3: expected 3 fields, found 4");
  EXPECT_EQ(parse_error("a,b,y\n1,2,0\n\n3,4,5\n"),
            "data.csv:3: expected 3 fields, found 1 (a blank line)");
}

TEST(CsvErrors, LinesCountNewlinesInsideQuotes) {
  EXPECT_EQ(parse_error("a,b,y\n1,2,\"multi\nline\"\n3,x,z\n4,5,z\n"),
            "data.csv:4: column 1 (\"b\"): \"x\" is not a number (2 of the column's cells are "
            "numbers; if it holds categories, give --categorical b)");
}

TEST(CsvErrors, EmptyFileAndHeaderOnly) {
  EXPECT_CONTAINS(parse_error(""), "data.csv:1: empty file");
  EXPECT_CONTAINS(parse_error("\xEF\xBB\xBF"), "empty file");
  EXPECT_CONTAINS(parse_error("\n \n"), "empty file");
  CsvOptions options;
  options.header = Header::yes;
  EXPECT_EQ(parse_error("1,2,3\n\n", options), "data.csv:1: header only, no data rows");
}

TEST(CsvErrors, UnterminatedQuoteInADataFile) {
  EXPECT_CONTAINS(parse_error("a,b,y\n1,2,0\n3,\"4,1\n"),
                  "data.csv:3: column 1: unterminated quoted field");
}

TEST(CsvNumbers, SpacesSignsAndExponentsAreAccepted) {
  const Dataset d = parse("a,b,c,y\n 1.5 ,-2e3,+.5,0\n\t7\t,1E-2,3.,1\n");
  EXPECT_EQ(d.values, (std::vector<float>{1.5f, -2000.0f, 0.5f, 7.0f, 0.01f, 3.0f}));
}

// ---- Task and classes ---------------------------------------------------------------------

TEST(CsvTask, TextLabelsMeanClassification) {
  CsvReport report;
  const Dataset d = parse("a,species\n1,dog\n2,cat\n3,ant\n4,cat\n", {}, &report);
  EXPECT_EQ(d.task, Task::classification);
  EXPECT_CONTAINS(report.task_reason, "non-numeric");
  EXPECT_EQ(d.class_names, fields({"ant", "cat", "dog"}));
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{2, 1, 0, 1}));
  EXPECT_TRUE(d.targets.empty());
}

TEST(CsvTask, FewIntegersMeanClassificationSortedNumerically) {
  CsvReport report;
  const Dataset d = parse("a,y\n1,10\n2,2\n3,1\n4,2\n5,3.0\n6,3\n", {}, &report);
  EXPECT_EQ(d.task, Task::classification);
  EXPECT_CONTAINS(report.task_reason, "4 distinct integer values");
  // "3.0" and "3" are one class, named as it first appeared.
  EXPECT_EQ(d.class_names, fields({"1", "2", "3.0", "10"}));
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{3, 1, 0, 1, 2, 2}));
}

TEST(CsvTask, NonIntegersMeanRegression) {
  CsvReport report;
  const Dataset d = parse("a,price\n1,2.5\n2,3\n3,-1\n", {}, &report);
  EXPECT_EQ(d.task, Task::regression);
  EXPECT_CONTAINS(report.task_reason, "non-integer values (e.g. \"2.5\")");
  EXPECT_EQ(d.targets, (std::vector<float>{2.5f, 3.0f, -1.0f}));
  EXPECT_TRUE(d.labels.empty());
  EXPECT_TRUE(d.class_names.empty());
}

TEST(CsvTask, ManyDistinctIntegersMeanRegression) {
  std::string text = "a,y\n";
  const std::size_t distinct = kMaxAutoClasses + 1;
  for (std::size_t i = 0; i < distinct; ++i) text += "1," + std::to_string(i * 7) + "\n";
  CsvReport report;
  EXPECT_EQ(parse(text, {}, &report).task, Task::regression);
  EXPECT_CONTAINS(report.task_reason, "more than");

  // One class fewer and it is classification again.
  std::string fewer = "a,y\n";
  for (std::size_t i = 0; i + 1 < distinct; ++i) fewer += "1," + std::to_string(i * 7) + "\n";
  EXPECT_EQ(parse(fewer).task, Task::classification);
}

TEST(CsvTask, InferTaskDirectly) {
  const std::vector<std::string> ints = {"1", " 2 ", "1"};
  EXPECT_EQ(infer_task(ints, "y").task, Task::classification);
  const std::vector<std::string> reals = {"1", "0.5"};
  EXPECT_EQ(infer_task(reals, "y").task, Task::regression);
  const std::vector<std::string> mixed = {"1", "0.5", "big"};
  EXPECT_EQ(infer_task(mixed, "y").task, Task::classification);
}

TEST(CsvTask, ForcedTasks) {
  CsvOptions options;
  options.task = Task::classification;
  CsvReport report;
  const Dataset c = parse("a,y\n1,0.5\n2,0.25\n3,0.5\n", options, &report);
  EXPECT_EQ(c.task, Task::classification);
  EXPECT_EQ(c.class_names, fields({"0.25", "0.5"}));
  EXPECT_CONTAINS(report.task_reason, "as asked");

  options.task = Task::regression;
  const Dataset r = parse("a,y\n1,1\n2,2\n", options);
  EXPECT_EQ(r.task, Task::regression);
  EXPECT_EQ(r.targets, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(parse_error("a,y\n1,1\n2,cat\n", options),
            "data.csv:3: column 1 (\"y\"): \"cat\" is not a number (a regression target must be a "
            "number)");
}

TEST(CsvTask, ReportCarriesTheSchema) {
  CsvReport report;
  CsvOptions options;
  options.id_column = "id";
  parse("id,a,b,y\nq,1,2,cat\nr,3,4,dog\n", options, &report);
  EXPECT_EQ(report.schema.feature_names, fields({"a", "b"}));
  EXPECT_EQ(report.schema.label_name, "y");
  EXPECT_EQ(report.schema.task, Task::classification);
  EXPECT_EQ(report.schema.class_names, fields({"cat", "dog"}));
  EXPECT_TRUE(report.schema.has_header);
  EXPECT_EQ(report.schema.columns, 4);
}

// ---- Files --------------------------------------------------------------------------------

TEST(CsvFile, ReadsBomAndCrlfFromDisk) {
  const TempFile file("\xEF\xBB\xBFx,y,label\r\n1,2,a\r\n3,4,b\r\n");
  const Dataset d = read_csv_dataset(file.path(), {});
  EXPECT_EQ(d.feature_names, fields({"x", "y"}));
  EXPECT_EQ(d.values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(d.class_names, fields({"a", "b"}));
  EXPECT_EQ(d.source, file.path().string());
}

TEST(CsvFile, MessagesNameThePath) {
  const TempFile file("x,y\n1,2\n3,4\nz,5\n");
  const std::string message = error_of([&] { read_csv_dataset(file.path(), {}); });
  EXPECT_CONTAINS(message, file.path().string() + ":4: column 0 (\"x\"): \"z\" is not a number");
  const std::string missing =
      error_of([] { read_csv_dataset("/nonexistent/backprop/none.csv", {}); });
  EXPECT_CONTAINS(missing, "/nonexistent/backprop/none.csv");
}

// ---- Files for a trained model ------------------------------------------------------------

CsvSchema animal_schema() {
  CsvSchema schema;
  schema.feature_names = {"a", "b"};
  schema.label_name = "y";
  schema.task = Task::classification;
  schema.class_names = {"cat", "dog"};
  schema.has_header = true;
  schema.columns = 3;
  return schema;
}

Dataset for_model(std::string_view text, const CsvSchema& schema, bool require_label,
                  const std::string& id_column = "") {
  return parse_csv_for_model(text, "data.csv", schema, require_label, id_column);
}

TEST(CsvForModel, PicksFeaturesByNameInAnyOrder) {
  const Dataset d = for_model("b,y,extra,a\n2,dog,x,1\n4,cat,y,3\n", animal_schema(), true);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.features, 2);
  EXPECT_EQ(d.values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{1, 0}));
  EXPECT_EQ(d.feature_names, fields({"a", "b"}));
  EXPECT_EQ(d.class_names, fields({"cat", "dog"}));
}

TEST(CsvForModel, LabelMayBeAbsentWhenNotRequired) {
  const Dataset d = for_model("a,b\n1,2\n3,4\n", animal_schema(), false);
  EXPECT_EQ(d.values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_TRUE(d.labels.empty());
  // Present but not required: not read, so an unknown class is no error.
  const Dataset e = for_model("a,b,y\n1,2,tiger\n", animal_schema(), false);
  EXPECT_EQ(e.rows, 1);
  EXPECT_TRUE(e.labels.empty());
}

TEST(CsvForModel, UnseenLabelListsTheModelsClasses) {
  EXPECT_EQ(error_of([] { for_model("a,b,y\n1,2,dog\n3,4,tiger\n", animal_schema(), true); }),
            "data.csv:3: column 2 (\"y\"): label \"tiger\" is not one of the model's classes: "
            "cat, dog");
}

TEST(CsvForModel, MissingColumns) {
  const std::string feature = error_of([] { for_model("a,y\n1,dog\n", animal_schema(), true); });
  EXPECT_CONTAINS(feature, "data.csv:1: no column \"b\", which the model needs");
  const std::string label = error_of([] { for_model("a,b\n1,2\n", animal_schema(), true); });
  EXPECT_CONTAINS(label, "data.csv:1: no label column \"y\"");
  const std::string data_line = error_of([] { for_model("1,2,dog\n", animal_schema(), true); });
  EXPECT_CONTAINS(data_line, "looks like data");
}

TEST(CsvForModel, HeaderOnlyAndMalformedCells) {
  EXPECT_EQ(error_of([] { for_model("a,b,y\n", animal_schema(), true); }),
            "data.csv:1: header only, no data rows");
  EXPECT_EQ(error_of([] { for_model("a,b,y\n1,2,cat\n1,zz,dog\n", animal_schema(), true); }),
            "data.csv:3: column 1 (\"b\"): \"zz\" is not a number");
}

TEST(CsvForModel, NumericClassesMatchByValue) {
  CsvSchema schema = animal_schema();
  schema.class_names = {"1", "2", "10"};
  const Dataset d = for_model("a,b,y\n0,0,10\n0,0,2.0\n0,0, 1\n", schema, true);
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{2, 1, 0}));
}

TEST(CsvForModel, RegressionTargetsAndIds) {
  CsvSchema schema = animal_schema();
  schema.task = Task::regression;
  schema.class_names.clear();
  const Dataset d = for_model("key,a,b,y\nk1,1,2,0.5\nk2,3,4,-1\n", schema, true, "key");
  EXPECT_EQ(d.task, Task::regression);
  EXPECT_EQ(d.targets, (std::vector<float>{0.5f, -1.0f}));
  EXPECT_EQ(d.ids, fields({"k1", "k2"}));
}

TEST(CsvForModel, HeaderlessFilesAreCheckedByColumnCount) {
  CsvSchema schema;
  schema.feature_names = {"c0", "c1"};
  schema.label_name = "c2";
  schema.class_names = {"0", "1"};
  schema.has_header = false;
  schema.columns = 3;

  const Dataset full = for_model("1,2,1\n3,4,0\n", schema, true);
  EXPECT_EQ(full.values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(full.labels, (std::vector<std::int32_t>{1, 0}));
  // The label was last, so it may be left out for predict.
  EXPECT_EQ(for_model("1,2\n3,4\n", schema, false).rows, 2);

  const std::string more = error_of([&] { for_model("1,2,3,4\n", schema, true); });
  EXPECT_CONTAINS(more, "data.csv:1: expected 3 fields");
  EXPECT_CONTAINS(more, "found 4");
  const std::string fewer = error_of([&] { for_model("1,2\n", schema, true); });
  EXPECT_CONTAINS(fewer, "found 2");

  // Without `columns` the count comes from the largest position named.
  schema.columns = 0;
  EXPECT_CONTAINS(error_of([&] { for_model("1,2,3,4\n", schema, true); }), "expected 3 fields");
}

TEST(CsvForModel, ReadsBackTheTrainingFileAsTrained) {
  const std::string text = "id,x,y,kind\nr1,1,2,b\nr2,3,4,a\nr3,5,6,c\n";
  CsvOptions options;
  options.id_column = "id";
  CsvReport report;
  const Dataset trained = parse(text, options, &report);
  const Dataset again = for_model(text, report.schema, true, "id");
  EXPECT_EQ(again.values, trained.values);
  EXPECT_EQ(again.labels, trained.labels);
  EXPECT_EQ(again.ids, trained.ids);
}

// Names go into the model's JSON metadata and into printed tables: bytes that are not UTF-8 or
// that would drive a terminal are refused where they are read, with the line and column.
TEST(CsvNames, AColumnNameThatIsNotUtf8IsRefusedWithItsLineAndColumn) {
  EXPECT_EQ(parse_error("a,caf\xE9,label\n1,2,x\n"),
            "data.csv:1: column 1: the column name is not valid UTF-8 (byte 0xe9 at byte 4 of "
            "it); save the file as UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8");
}

TEST(CsvNames, AClassLabelThatIsNotUtf8IsRefusedWithItsLineAndColumn) {
  EXPECT_EQ(parse_error("a,label\n1,red\n2,caf\xE9\n"),
            "data.csv:3: column 1: the label is not valid UTF-8 (byte 0xe9 at byte 4 of it); save "
            "the file as UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8");
}

TEST(CsvNames, ControlCharactersInNamesAreRefused) {
  EXPECT_EQ(parse_error("a,label\n1,\x1b[31mred\n2,blue\n"),
            "data.csv:2: column 1: the label contains the control character 0x1b at byte 1 of "
            "it; remove it from the file");
  EXPECT_EQ(parse_error("a\x07,label\n1,red\n"),
            "data.csv:1: column 0: the column name contains the control character 0x07 at byte "
            "2 of it; remove it from the file");
}

TEST(CsvNames, Utf8NamesAndLabelsAreKept) {
  const Dataset data = parse("caf\xC3\xA9,label\n1,\xE2\x82\xAC\n2,\xC3\xA9t\xC3\xA9\n");
  EXPECT_EQ(data.feature_names, std::vector<std::string>{"caf\xC3\xA9"});
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"\xC3\xA9t\xC3\xA9", "\xE2\x82\xAC"}));
}

}  // namespace
}  // namespace backprop

// ---- Tables as they come: gaps, text, dates, delimiters --------------------------------------

namespace backprop {
namespace {

// A raw table with every kind of gap, a text column, a date column and string labels, written
// with `sep`; `order` lists the columns to write (a permutation of 0..4).
std::string raw_table(char sep, std::vector<int> order = {0, 1, 2, 3, 4}) {
  const std::vector<std::vector<std::string>> rows = {
      {"age", "city", "day", "score", "label"},
      {"31", "Paris", "2024-01-05", "1.5", "yes"},
      {"", "Oslo", "2024-02-10T08:30", "2.5", "no"},
      {"NA", "Rome", "", "0.5", "yes"},
      {"45", "N/A", "2024-03-15 12:00", "nan", "no"},
      {"null", "Paris", "2024-04-20", "?", "yes"},
      {"28", "Oslo", "NULL", "3.5", ""},
      {"52", "n/a", "2024-06-01T23:59:59Z", "4.0", "no"},
  };
  std::string text;
  for (const auto& row : rows) {
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (k > 0) text += sep;
      text += row[static_cast<std::size_t>(order[k])];
    }
    text += '\n';
  }
  return text;
}

TEST(CsvTables, EveryGapIsFilledAndTheLabelGapIsLeftOut) {
  CsvReport report;
  const Dataset d = parse(raw_table(','), with_label("label"), &report);
  EXPECT_EQ(d.rows, 6);  // the row without a label is left out
  EXPECT_EQ(d.feature_names,
            fields({"age", "city=Oslo", "city=Paris", "city=Rome", "day.year", "day.month",
                    "day.dayofweek", "day.dayofyear", "day.hour", "score"}));
  ASSERT_EQ(d.notes.size(), 2u);
  EXPECT_EQ(d.notes[0], "left out 1 row without a label (column \"label\")");
  EXPECT_EQ(d.notes[1], "filled 8 missing cells: age 3, city 2, day 1, score 2");
  for (const float v : d.values) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(report.schema.encoding.columns.size(), 4u);
  EXPECT_EQ(report.schema.delimiter, ',');
}

TEST(CsvTables, DelimitersAreDetectedOrForced) {
  const Dataset comma = parse(raw_table(','), with_label("label"));
  for (const char sep : {';', '\t'}) {
    CsvReport report;
    const Dataset d = parse(raw_table(sep), with_label("label"), &report);
    EXPECT_EQ(report.schema.delimiter, sep);
    EXPECT_EQ(d.values, comma.values);
    EXPECT_EQ(d.feature_names, comma.feature_names);
  }
  CsvOptions forced = with_label("label");
  forced.delimiter = ',';
  // A semicolon file read with commas has one column: the label is not found.
  EXPECT_CONTAINS(parse_error(raw_table(';'), forced), "label column \"label\" not found");
}

// The table with every decimal point written as a comma (its only points are in numbers).
std::string with_decimal_commas(std::string text) {
  std::replace(text.begin(), text.end(), '.', ',');
  return text;
}

TEST(CsvTables, DecimalCommasAreDetectedInSemicolonAndTabFiles) {
  const Dataset point = parse(raw_table(','), with_label("label"));
  for (const char sep : {';', '\t'}) {
    CsvReport report;
    const std::string text = with_decimal_commas(raw_table(sep));
    const Dataset d = parse(text, with_label("label"), &report);
    EXPECT_EQ(report.schema.delimiter, sep);
    EXPECT_EQ(report.schema.decimal, ',');
    EXPECT_EQ(d.values, point.values);
    EXPECT_EQ(d.feature_names, point.feature_names);
    // A file read for the model uses the training file's mark.
    const Dataset again = parse_csv_for_model(text, "again.csv", report.schema, true, "");
    EXPECT_EQ(again.values, point.values);
  }
  CsvReport report;
  parse(raw_table(';'), with_label("label"), &report);
  EXPECT_EQ(report.schema.decimal, '.');
}

TEST(CsvTables, DecimalDetectionNeedsCommaNumbersAndNoPointNumbers) {
  EXPECT_EQ(detect_decimal("a;b\n1,5;2\n", ';'), ',');
  EXPECT_EQ(detect_decimal("a\tb\n-0,25\t2,5e-3\n", '\t'), ',');
  EXPECT_EQ(detect_decimal("a;b\n1,5;2.5\n", ';'), '.');     // both: not a comma file
  EXPECT_EQ(detect_decimal("a;b\n1;2\n", ';'), '.');         // integers say nothing
  EXPECT_EQ(detect_decimal("a;b\nred,blue;1\n", ';'), '.');  // text with a comma
  EXPECT_EQ(detect_decimal("a;b\n1,5 kg;1\n", ';'), '.');    // not only a number
  EXPECT_EQ(detect_decimal("a,b\n\"1,5\",2\n", ','), '.');   // comma-separated: never
  EXPECT_EQ(parse_decimal("auto"), 0);
  EXPECT_EQ(parse_decimal("comma"), ',');
  EXPECT_EQ(parse_decimal("point"), '.');
  EXPECT_EQ(error_of([] { parse_decimal("dot"); }),
            "unknown decimal mark \"dot\" (choose auto, point, comma)");
}

TEST(CsvReader, DecimalCommaModeRewritesOnlyNumbers) {
  CsvReader reader("1,5; -0,25 ;\"2,5\";1,5 kg;1.234,5;a,b;12;,5;3,0E+2\n", "d.csv", ';', ',');
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.fields,
            fields({"1.5", " -0.25 ", "2.5", "1,5 kg", "1.234,5", "a,b", "12", ",5", "3.0E+2"}));
}

TEST(CsvTables, DecimalCommasForcedInACommaSeparatedFileWithQuotedNumbers) {
  const std::string text = "a,b,y\n\"1,5\",2,0\n\"2,5\",3,1\n\"-0,5\",4,1\n";
  CsvOptions options;
  options.decimal = ',';
  const Dataset d = parse(text, options);
  EXPECT_EQ(d.values, (std::vector<float>{1.5f, 2, 2.5f, 3, -0.5f, 4}));
  // Detected, the quoted cells are text: a category column.
  EXPECT_EQ(parse(text).feature_names, fields({"a=-0,5", "a=1,5", "a=2,5", "b"}));
}

TEST(CsvTables, APointNumberAmongDecimalCommasIsNamed) {
  // Thousands separators are not read: "1.234,5" is text in a column of numbers.
  CsvOptions options;
  options.decimal = ',';
  EXPECT_CONTAINS(parse_error("a;y\n1,5;0\n2,5;1\n1.234,5;0\n", options), "1.234,5");
  // A model trained on decimal commas, told a point for a new file, refuses its commas.
  CsvReport report;
  parse("a;y\n1,5;0\n2,5;1\n", {}, &report);
  ASSERT_EQ(report.schema.decimal, ',');
  EXPECT_CONTAINS(error_of([&] {
                    parse_csv_for_model("a;y\n1,5;0\n", "new.csv", report.schema, true, "", 0, '.');
                  }),
                  "\"1,5\" is not a number");
}

TEST(CsvTables, StatisticsComeFromTheFitRowsOnly) {
  CsvOptions options = with_label("label");
  std::vector<std::int64_t> seen_rows;
  options.fit_rows = [&](const Dataset& d) {
    EXPECT_EQ(d.rows, 6);
    EXPECT_EQ(d.labels.size(), 6u);
    return std::vector<std::int64_t>{0, 1, 2};  // ages 31, gap, gap
  };
  const Dataset d = parse(raw_table(','), options);
  EXPECT_EQ(d.values[static_cast<std::size_t>(d.features)], 31.0f);  // row 1's age: the median
  // Rows 0-2 saw Paris, Oslo and Rome; all three remain categories.
  EXPECT_EQ(d.feature_names[1], "city=Oslo");
}

TEST(CsvTables, DropAndErrorPolicies) {
  CsvOptions options = with_label("label");
  options.encoding.missing = MissingPolicy::drop;
  const Dataset d = parse(raw_table(','), options);
  EXPECT_EQ(d.rows, 1);  // only the first row is complete
  EXPECT_EQ(d.notes.back(), "left out 5 rows with a missing feature cell (--missing drop)");
  options.encoding.missing = MissingPolicy::error;
  EXPECT_EQ(parse_error(raw_table(','), options),
            "data.csv:3: column 0 (\"age\"): missing value (--missing error)");
}

TEST(CsvTables, CategoricalOptionNamesAFeatureColumn) {
  CsvOptions options;
  options.encoding.categorical = {"zip"};
  const Dataset d = parse("zip,y\n75001,a\n10115,b\n75001,a\n", options);
  EXPECT_EQ(d.feature_names, fields({"zip=10115", "zip=75001"}));
  options.encoding.categorical = {"y"};
  EXPECT_CONTAINS(parse_error("zip,y\n75001,a\n10115,b\n", options), "is not a feature column");
  options.encoding.categorical = {"nope"};
  EXPECT_CONTAINS(parse_error("zip,y\n75001,a\n10115,b\n", options), "column \"nope\" not found");
}

TEST(CsvTables, ForModelEncodesReorderedColumnsTheSameWay) {
  CsvReport report;
  const Dataset train = parse(raw_table(','), with_label("label"), &report);
  const Dataset same = for_model(raw_table(','), report.schema, true);
  const Dataset reordered = for_model(raw_table(';', {4, 3, 1, 2, 0}), report.schema, true);
  EXPECT_EQ(same.values, train.values);
  EXPECT_EQ(reordered.values, train.values);
  EXPECT_EQ(reordered.labels, train.labels);
  EXPECT_EQ(reordered.notes.front(), "left out 1 row without a label (column \"label\")");
  // Without the label (predict), every row is kept.
  const Dataset unlabelled = for_model(raw_table(',', {0, 1, 2, 3}), report.schema, false);
  EXPECT_EQ(unlabelled.rows, 7);
}

TEST(CsvTables, ForModelCountsUnseenCategoriesAndNamesMissingColumns) {
  CsvReport report;
  parse(raw_table(','), with_label("label"), &report);
  const Dataset d = for_model("age,city,day,score\n30,Lima,2024-01-01,1\n31,Paris,2024-01-02,2\n",
                              report.schema, false);
  EXPECT_EQ(d.values[1] + d.values[2] + d.values[3], 0.0f);  // Lima: all zeros
  EXPECT_EQ(d.notes.back(),
            "1 cell of a category not seen in training, encoded as all zeros: city 1");
  EXPECT_CONTAINS(error_of([&] { for_model("age,city,score\n1,Oslo,2\n", report.schema, false); }),
                  "no column \"day\", which the model needs (its column 2 of 0 to 3)");
}

TEST(CsvTables, ForModelOfAnOldModelRefusesGaps) {
  EXPECT_CONTAINS(error_of([] { for_model("a,b,y\n1,,cat\n", animal_schema(), true); }),
                  "data.csv:2: column 1 (\"b\"): missing value (the model keeps no values");
}

}  // namespace
}  // namespace backprop
