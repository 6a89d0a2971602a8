#pragma once
// Tabular data in: CSV files (RFC 4180) read into a Dataset.
//   read_csv_dataset   for training: the header, the label column and the task are worked out
//                      from the file and the options;
//   read_csv_for_model for eval/predict: the columns are picked by the names a trained model
//                      remembers (its CsvSchema), so their order may differ from training.
// Every error is a backprop::Error naming the file, the physical line the record starts on and,
// where one is involved, the column by index and name, e.g.
//   data.csv:12: column 2 ("income"): "12a" is not a number
// Columns count from 0 everywhere: in these messages, in --label/--ignore/--id indices and in
// the names of a headerless file's columns (c0, c1, ...). Lines count from 1, as editors do.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/table_encoding.hpp"

namespace backprop {

// ---- Records ------------------------------------------------------------------------------

// One record: its fields with quotes removed and "" unescaped, and the 1-based physical line it
// starts on (a quoted field may span lines, so records and lines are not the same count).
struct CsvRecord {
  std::vector<std::string> fields;
  std::int64_t line = 0;
};

// Splits CSV text into records, one at a time, from text in memory or from a stream of it read in
// windows (what read_csv_dataset and read_csv_for_model do with a file: they never hold its text).
// Format accepted (RFC 4180 plus the usual laxities):
//   - records end in LF, CRLF or a lone CR; the last one may lack a line end;
//   - a UTF-8 byte order mark at the very start is skipped;
//   - fields are separated by the delimiter: ',' (RFC 4180), ';' or a tab;
//   - a field starting with '"' is quoted: it may hold delimiters, line ends and "" (one
//     quote); spaces between its closing quote and the next delimiter are dropped, anything
//     else there is an error; a '"' inside an unquoted field is an ordinary character;
//   - blank (whitespace-only) lines at the end are ignored; elsewhere they are records with one
//     empty field, which the callers report as having the wrong number of fields;
//   - with the decimal mark ',' a field that is a number written with a decimal comma
//     ("1,5", "-0,25", "2,5e-3", spaces around it allowed) is returned with a point ("1.5");
//     every other field is returned as it is written.
class CsvReader {
 public:
  // Fills its buffer with the next bytes of the text and returns how many; fewer than asked
  // only at the end of the text.
  using ReadText = std::function<std::size_t(std::span<char>)>;

  // `source` names the text in messages (the file's path). `text` must outlive the reader.
  // `decimal`: '.' or ','.
  CsvReader(std::string_view text, std::string source, char delimiter = ',', char decimal = '.');
  // The text comes from `read`, a window of `window_bytes` at a time: the reader holds the
  // window and the record it is in (a record longer than the window widens it), never the whole
  // text. Records, lines and messages are those of the same text in memory.
  CsvReader(ReadText read, std::string source, char delimiter, std::size_t window_bytes,
            char decimal = '.');
  // Reads the next record into `record`, reusing its strings; false at the end of the text.
  // Throws Error on an unterminated quoted field or on text after a closing quote.
  bool next(CsvRecord& record);

 private:
  enum class Step { record, more, end };
  // The next record, if the window holds all of it (`more`: it may go on past the window).
  Step scan(CsvRecord& record);
  // Drops the window's bytes before pos_, reads the next ones after what is left (widening the
  // window when nothing could be dropped); false when the text had no more.
  bool refill();

  std::string_view text_;  // the window: the whole text, or buffer_'s filled part
  ReadText read_;          // empty: text_ is the whole text
  std::vector<char> buffer_;
  bool at_end_ = true;  // nothing of the text follows the window
  std::string source_;
  std::size_t pos_ = 0;
  std::int64_t line_ = 1;
  char delimiter_ = ',';
  char decimal_ = '.';
  std::size_t content_at_ = 0;  // a non-blank byte at or after pos_ (when pos_ <= it)
};

// The delimiter of CSV text: of ',', ';' and tab, the one that splits the first records (up to
// 20) into the same number of fields, at least two, and the most of them; ',' when none does.
char detect_delimiter(std::string_view text);
// "auto" (0: detect), "comma" or ",", "semicolon" or ";", "tab"; throws Error listing them.
char parse_delimiter(const std::string& name);
// "comma", "semicolon", "tab".
std::string delimiter_name(char delimiter);

// The decimal mark of CSV text with this delimiter: ',' when, in its first records (up to
// 1000), some cell is a number written with a decimal comma ("1,5") and none is a number
// written with a decimal point ("1.5"); '.' otherwise, and always for comma-separated text
// (where an unquoted "1,5" is two fields).
char detect_decimal(std::string_view text, char delimiter);
// "auto" (0: detect), "point" or ".", "comma" or ","; throws Error listing them.
char parse_decimal(const std::string& name);

// ---- Options and schema -------------------------------------------------------------------

struct CsvOptions {
  enum class Header { yes, no, automatic } header = Header::automatic;
  // The label column: a column name, or a 0-based index written as text (a name wins if a
  // column is literally called "2"); empty = the last column.
  std::string label;
  // Columns that are neither features nor the label (ids, free text), by name or index.
  std::vector<std::string> ignore;
  // nullopt = infer_task() decides.
  std::optional<Task> task;
  // A column kept verbatim in Dataset::ids (so predictions can be matched to rows), by name
  // or index; empty = none. It is not a feature.
  std::string id_column;
  char delimiter = 0;  // 0: detect_delimiter
  // How feature columns become features (missing values, categories, dates).
  EncodingOptions encoding;
  // The rows the encoding's statistics are fitted on (the training split of the data, which
  // has its labels and no features yet); unset: every row.
  std::function<std::vector<std::int64_t>(const Dataset&)> fit_rows;
  char decimal = 0;  // the decimal mark, '.' or ','; 0: detect_decimal
};

// "yes", "no", "auto" (Header::automatic); throws Error listing the choices.
CsvOptions::Header parse_csv_header(const std::string& name);

// What a model trained on a CSV file remembers about its columns, so that eval and predict
// files can be read the same way.
struct CsvSchema {
  std::vector<std::string> feature_names;  // in the order of the model's inputs (encoded)
  std::string label_name;
  Task task = Task::classification;
  std::vector<std::string> class_names;  // index -> name (classification)
  bool has_header = true;
  // Fields per record in the training file; a headerless file is checked against it.
  // 0 = unknown: then it is taken as one more than the largest index among the "c<j>" names.
  std::int64_t columns = 0;
  std::vector<std::string> ignored;  // the training run's ignored columns, by name
  std::string id_column;             // the training run's id column, by name ("" = none)
  char delimiter = ',';              // the training file's (a new file's own is detected)
  // The columns read and how they become the features; empty columns (a model from before
  // encodings, or from arrays): each feature name is a numeric column, and a gap is an error.
  TableEncoding encoding;
  char decimal = '.';  // the training file's decimal mark, with which new files are read
};

// Extra results of read_csv_dataset, for the CLI to report and for the model to remember.
struct CsvReport {
  CsvSchema schema;
  std::string header_reason;  // why the first line was (not) taken as a header
  std::string task_reason;    // why the task was chosen
};

// ---- Task inference -----------------------------------------------------------------------

// Integer labels with at most this many distinct values are taken as class indices.
inline constexpr std::size_t kMaxAutoClasses = 20;

struct TaskChoice {
  Task task = Task::classification;
  std::string reason;  // e.g. `label "species" has non-numeric values (e.g. "setosa")`
};

// The task a label column implies (cells as read, spaces around them allowed):
//   any cell not a number                                  -> classification
//   all numbers, all integers, <= kMaxAutoClasses distinct -> classification
//   otherwise (a non-integer, or more distinct integers)   -> regression
// Missing values must have been rejected before.
TaskChoice infer_task(std::span<const std::string> label_cells, const std::string& label_name);

// ---- Reading ------------------------------------------------------------------------------

// The size limit for a CSV file (after gunzip: the file is gunzipped as it streams).
inline constexpr std::uint64_t kMaxCsvBytes = std::uint64_t{4} << 30;

// Reads a training file. Every column but the label, the id and the ignored ones is a feature
// column, encoded as options.encoding says (backprop/table_encoding.hpp) with statistics fitted
// on options.fit_rows; rows whose label is missing are left out, and Dataset::notes counts
// them and the filled cells. Classification: class_names are the distinct labels, numbers sorted by
// value ("2" before "10") then other names in byte order; labels are indices into them. Regression:
// targets are the label values. `report`, if given, receives the schema and the reasons.
Dataset read_csv_dataset(const std::filesystem::path& path, const CsvOptions& options,
                         CsvReport* report = nullptr);
// The same from text in memory; `source` names it in messages.
Dataset parse_csv_dataset(std::string_view text, const std::string& source,
                          const CsvOptions& options, CsvReport* report = nullptr);

// Reads an eval/predict file for a model trained with `schema`: features by name (any column
// order, extra columns skipped), encoded by the schema's encoding, labels mapped to the model's
// classes (rows without a label left out and counted in Dataset::notes, as are filled cells
// and unseen categories). With !require_label the label column is not read even if present.
// id_column ("" = none) fills Dataset::ids. delimiter 0: detected. decimal 0: the schema's
// (the training file's).
Dataset read_csv_for_model(const std::filesystem::path& path, const CsvSchema& schema,
                           bool require_label, const std::string& id_column, char delimiter = 0,
                           char decimal = 0);
Dataset parse_csv_for_model(std::string_view text, const std::string& source,
                            const CsvSchema& schema, bool require_label,
                            const std::string& id_column, char delimiter = 0, char decimal = 0);

}  // namespace backprop
