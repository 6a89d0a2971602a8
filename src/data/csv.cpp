#include "backprop/csv.hpp"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "backprop/error.hpp"
#include "core/enum_names.hpp"
#include "core/text_checks.hpp"
#include "data/csv_text.hpp"

namespace backprop {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_line_end(char c) { return c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Line ends in a stretch of text: LF, CRLF (counted once) and a lone CR. A CR at the end of the
// stretch counts, because callers only cut a stretch before a '"', never between CR and LF.
std::int64_t count_line_ends(std::string_view s) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n'))) ++n;
  }
  return n;
}

// Where the decimal mark `mark` sits in a cell written as a number with a fractional part:
// spaces, an optional sign, digits, the mark, digits, an optional exponent (e or E, an optional
// sign, digits), spaces. npos for any other cell ("12", "1,5 kg", "1.234,5", "a,b").
std::size_t decimal_mark_at(std::string_view cell, char mark) {
  const std::string_view s = trim(cell);
  const auto digits = [&](std::size_t& i) {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (!digits(i) || i == s.size() || s[i] != mark) return std::string_view::npos;
  const std::size_t at = i++;
  if (!digits(i)) return std::string_view::npos;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits(i)) return std::string_view::npos;
  }
  if (i != s.size()) return std::string_view::npos;
  return at + static_cast<std::size_t>(s.data() - cell.data());
}

// "a, b, c", cut after `max_shown` items so a 784-column header stays one readable line.
std::string join_names(const std::vector<std::string>& names, std::size_t max_shown = 20) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max_shown; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > max_shown) out += fmt::format(", ... ({} in all)", names.size());
  return out;
}

std::string column_text(std::size_t index, std::string_view name) {
  return fmt::format("column {} ({})", index, shown_text(name));
}

// Column and class names go into the model's metadata (JSON, which is UTF-8) and into printed
// tables and CSV headers, where a control character would act on the terminal.
void check_name_text(std::string_view text, const std::string& source, std::int64_t line,
                     std::size_t column, std::string_view what) {
  if (const auto at = invalid_utf8_offset(text)) {
    throw Error(fmt::format(
        "{}:{}: column {}: {} is not valid UTF-8 (byte {:#04x} at byte {} of it); save the file "
        "as UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8",
        source, line, column, what, static_cast<unsigned char>(text[*at]), *at + 1));
  }
  if (const auto at = control_character_offset(text)) {
    throw Error(
        fmt::format("{}:{}: column {}: {} contains the control character {:#04x} at byte "
                    "{} of it; remove it from the file",
                    source, line, column, what, static_cast<unsigned char>(text[*at]), *at + 1));
  }
}

enum class Number { ok, missing, invalid, infinite, out_of_range };

// Number format: optional spaces or tabs, an optional sign, decimal digits with an optional
// point and exponent ("12", "-0.5", ".5", "1e-3"), optional spaces or tabs. Locale-independent.
// The empty cell and the usual spellings of "no value" (NaN, NA, N/A, null, ?) are missing;
// inf is not finite; a value beyond the float range cannot be trained on.
Number parse_number(std::string_view cell, double& value) {
  const std::string_view s = trim(cell);
  if (s.empty()) return Number::missing;
  std::string_view body = s;
  if (body.front() == '+') {
    body.remove_prefix(1);  // from_chars accepts '-' only
    if (body.empty() || body.front() == '-') return Number::invalid;
  }
  const char* const end = body.data() + body.size();
  const auto [ptr, ec] = std::from_chars(body.data(), end, value, std::chars_format::general);
  if (ec == std::errc() && ptr == end) {
    if (std::isnan(value)) return Number::missing;
    if (std::isinf(value)) return Number::infinite;
    if (std::abs(value) > static_cast<double>(FLT_MAX)) return Number::out_of_range;
    return Number::ok;
  }
  if (ec == std::errc::result_out_of_range && ptr == end) return Number::out_of_range;
  if (s.size() <= 4) {
    std::string lower(s);
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (lower == "na" || lower == "n/a" || lower == "null" || lower == "?") return Number::missing;
  }
  return Number::invalid;
}

bool is_number(std::string_view cell) {
  double unused = 0;
  return parse_number(cell, unused) == Number::ok;
}

[[noreturn]] void bad_cell(const std::string& source, std::int64_t line, std::size_t column,
                           std::string_view name, std::string_view cell, Number status,
                           std::string_view hint) {
  std::string what;
  switch (status) {
    case Number::missing:
      what = trim(cell).empty() ? "missing value"
                                : fmt::format("missing value ({})", shown_text(cell));
      break;
    case Number::infinite:
      what = fmt::format("{} is not a finite number", shown_text(cell));
      break;
    case Number::out_of_range:
      what = fmt::format("{} is out of the range of a 32-bit float", shown_text(cell));
      break;
    case Number::ok:
    case Number::invalid:
      what = fmt::format("{} is not a number", shown_text(cell));
      break;
  }
  throw Error(fmt::format("{}:{}: {}: {}{}", source, line, column_text(column, name), what, hint));
}

// Class names as the model keeps them, looked up by number when both are numbers (so "3.0"
// in an eval file finds class "3"), else by exact (trimmed) text.
class ClassIndex {
 public:
  explicit ClassIndex(const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      double v = 0;
      const auto index = static_cast<std::int32_t>(i);
      if (parse_number(names[i], v) == Number::ok) {
        numeric_.emplace(v, index);
      } else {
        text_.emplace(std::string(trim(names[i])), index);
      }
    }
  }
  std::optional<std::int32_t> find(std::string_view cell) const {
    double v = 0;
    if (parse_number(cell, v) == Number::ok) {
      const auto it = numeric_.find(v);
      if (it != numeric_.end()) return it->second;
    }
    const auto it = text_.find(std::string(trim(cell)));
    if (it != text_.end()) return it->second;
    return std::nullopt;
  }

 private:
  std::map<double, std::int32_t> numeric_;  // -0 and 0 compare equal, as they should
  std::unordered_map<std::string, std::int32_t> text_;
};

// The distinct labels, numbers first in numeric order (a number keeps the spelling it first
// appeared with), then the other names in byte order.
std::vector<std::string> distinct_classes(const std::vector<std::string>& labels) {
  std::map<double, std::string> numeric;
  std::set<std::string> text;
  for (const std::string& label : labels) {
    double v = 0;
    if (parse_number(label, v) == Number::ok) {
      numeric.emplace(v, label);
    } else {
      text.insert(label);
    }
  }
  std::vector<std::string> names;
  names.reserve(numeric.size() + text.size());
  for (auto& [value, name] : numeric) names.push_back(name);
  names.insert(names.end(), text.begin(), text.end());
  return names;
}

std::vector<std::string> generic_names(std::size_t count) {
  std::vector<std::string> names(count);
  for (std::size_t j = 0; j < count; ++j) names[j] = fmt::format("c{}", j);
  return names;
}

// Header cells trimmed; an empty one (pandas writes one above its index column) gets the name
// a headerless file would give that column.
std::vector<std::string> header_names(const CsvRecord& header) {
  std::vector<std::string> names(header.fields.size());
  for (std::size_t j = 0; j < names.size(); ++j) {
    const std::string_view name = trim(header.fields[j]);
    names[j] = name.empty() ? fmt::format("c{}", j) : std::string(name);
  }
  return names;
}

void check_unique_names(const std::vector<std::string>& names, const std::string& source,
                        std::int64_t line) {
  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t j = 0; j < names.size(); ++j) {
    const auto [it, fresh] = seen.emplace(names[j], j);
    if (!fresh) {
      throw Error(fmt::format("{}:{}: {} has the same name as column {}", source, line,
                              column_text(j, names[j]), it->second));
    }
  }
}

// Where the file's columns go.
struct Plan {
  std::vector<std::string> names;     // every column's name
  std::vector<std::size_t> features;  // the column of each feature, in feature order
  std::optional<std::size_t> label;   // absent when the label is not read
  std::optional<std::size_t> id;
};

std::string columns_list(const Plan& plan) { return join_names(plan.names); }

// A column given by name, or failing that by 0-based index written as text.
std::size_t resolve_column(const std::string& spec, const Plan& plan, std::string_view role,
                           const std::string& source, std::int64_t line) {
  const std::string_view wanted = trim(spec);
  const auto it = std::find(plan.names.begin(), plan.names.end(), wanted);
  if (it != plan.names.end()) return static_cast<std::size_t>(it - plan.names.begin());
  const bool digits = !wanted.empty() && std::all_of(wanted.begin(), wanted.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    std::size_t index = 0;
    const auto [ptr, ec] = std::from_chars(wanted.data(), wanted.data() + wanted.size(), index);
    if (ec == std::errc() && index < plan.names.size()) return index;
    throw Error(
        fmt::format("{}:{}: {} column index {} is out of range: the file has {} columns "
                    "(indices 0 to {})",
                    source, line, role, wanted, plan.names.size(), plan.names.size() - 1));
  }
  throw Error(fmt::format("{}:{}: {} column {} not found; the columns are: {}", source, line, role,
                          shown_text(wanted), columns_list(plan)));
}

// The rows of the file as the Dataset will hold them, plus what is needed to finish the labels.
struct Rows {
  RawTable table;                   // the feature columns, before encoding
  std::vector<std::string> labels;  // trimmed label cells
  std::vector<std::string> ids;
  std::int64_t missing_labels = 0;  // rows left out: no label
  std::int64_t dropped = 0;         // rows left out: a missing feature cell (--missing drop)
  std::string missing_hint = " (--missing error)";  // ends the message of a refused gap
};

// Reserves room for at most `most_rows` rows, so that the numbers are not copied as they grow.
void reserve_rows(Rows& rows, std::size_t most_rows, const Plan& plan) {
  const auto numeric = static_cast<std::size_t>(
      std::count(rows.table.numeric.begin(), rows.table.numeric.end(), true));
  rows.table.numbers.reserve(most_rows * numeric);
  rows.table.lines.reserve(most_rows);
  if (plan.label) rows.labels.reserve(most_rows);
  if (plan.id) rows.ids.reserve(most_rows);
}

// The rows a file read in one pass may hold, from its size and line feeds: one record per line
// is the common case, and an overestimate costs only address space. Each value takes at least a
// separator's byte of text, so the text's size bounds the rows too (lines x features alone can
// claim terabytes for a small file of empty fields).
std::size_t most_rows(const CsvText::Extent& extent, const Plan& plan) {
  const auto lines = static_cast<std::size_t>(extent.line_feeds) + 1;
  const auto most_values = static_cast<std::size_t>(extent.bytes / 2) + 1;
  const std::size_t features = std::max<std::size_t>(plan.features.size(), 1);
  return std::min(lines, most_values / features + 1);
}

// Sets up rows.table for the plan's features; numeric[k]: feature k is read as numbers.
void start_table(Rows& rows, const Plan& plan, std::vector<bool> numeric,
                 const std::string& source) {
  rows.table.source = source;
  rows.table.numeric = std::move(numeric);
  for (const std::size_t j : plan.features) rows.table.names.push_back(plan.names[j]);
  const auto text_columns = static_cast<std::size_t>(
      std::count(rows.table.numeric.begin(), rows.table.numeric.end(), false));
  rows.table.texts.resize(text_columns);
}

void read_row(const CsvRecord& record, const Plan& plan, MissingPolicy policy,
              const std::string& source, Rows& rows, std::string_view hint = {}) {
  const std::size_t expected = plan.names.size();
  if (record.fields.size() != expected) {
    const bool blank = record.fields.size() == 1 && trim(record.fields[0]).empty();
    throw Error(fmt::format("{}:{}: expected {} fields, found {}{}", source, record.line, expected,
                            record.fields.size(), blank ? " (a blank line)" : ""));
  }
  if (plan.label) {
    const std::string& cell = record.fields[*plan.label];
    if (is_missing_cell(cell)) {
      if (policy == MissingPolicy::error) {
        double v = 0;
        bad_cell(source, record.line, *plan.label, plan.names[*plan.label], cell,
                 parse_number(cell, v), rows.missing_hint);
      }
      ++rows.missing_labels;
      return;
    }
  }
  RawTable& t = rows.table;
  const std::size_t numbers_before = t.numbers.size();
  std::size_t text_at = 0;
  bool gap = false;
  for (std::size_t k = 0; k < plan.features.size(); ++k) {
    const std::size_t j = plan.features[k];
    const std::string& cell = record.fields[j];
    if (t.numeric[k]) {
      double v = 0;
      const Number status = parse_number(cell, v);
      if (status == Number::missing) {
        gap = true;
        if (policy == MissingPolicy::error)
          bad_cell(source, record.line, j, plan.names[j], cell, status, rows.missing_hint);
        t.numbers.push_back(std::numeric_limits<float>::quiet_NaN());
        continue;
      }
      if (status != Number::ok) bad_cell(source, record.line, j, plan.names[j], cell, status, hint);
      t.numbers.push_back(static_cast<float>(v));
    } else {
      const std::string_view value = trim(cell);
      if (is_missing_cell(value)) {
        gap = true;
        if (policy == MissingPolicy::error)
          bad_cell(source, record.line, j, plan.names[j], cell, Number::missing, rows.missing_hint);
      } else {
        check_name_text(value, source, record.line, j, "the value");
      }
      t.texts[text_at++].emplace_back(value);
    }
  }
  if (gap && policy == MissingPolicy::drop) {
    t.numbers.resize(numbers_before);
    for (std::size_t c = 0; c < text_at; ++c) t.texts[c].pop_back();
    ++rows.dropped;
    return;
  }
  if (plan.label) {
    const std::string_view cell = trim(record.fields[*plan.label]);
    check_name_text(cell, source, record.line, *plan.label, "the label");
    rows.labels.emplace_back(cell);
  }
  if (plan.id) rows.ids.push_back(record.fields[*plan.id]);
  t.lines.push_back(record.line);
  ++t.rows;
}

std::vector<float> parse_targets(const Rows& rows, const Plan& plan, const std::string& source) {
  std::vector<float> targets(rows.labels.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    double v = 0;
    const Number status = parse_number(rows.labels[i], v);
    if (status != Number::ok) {
      bad_cell(source, rows.table.lines[i], *plan.label, plan.names[*plan.label], rows.labels[i],
               status, " (a regression target must be a number)");
    }
    targets[i] = static_cast<float>(v);
  }
  return targets;
}

// The data set of `rows` before encoding: labels still to be finished by the caller, features
// still to be filled by finish_features.
Dataset make_dataset(Rows& rows, const Plan& plan, const std::string& source) {
  Dataset data;
  data.rows = rows.table.rows;
  data.ids = std::move(rows.ids);
  data.source = source;
  if (plan.label) data.label_name = plan.names[*plan.label];
  if (rows.missing_labels > 0)
    data.notes.push_back(fmt::format("left out {} row{} without a label (column {})",
                                     rows.missing_labels, rows.missing_labels == 1 ? "" : "s",
                                     shown_text(data.label_name)));
  if (rows.dropped > 0)
    data.notes.push_back(
        fmt::format("left out {} row{} with a missing feature cell (--missing drop)", rows.dropped,
                    rows.dropped == 1 ? "" : "s"));
  return data;
}

// The features of `data`: the raw table encoded (where it is, when the encoding does not widen
// it).
void finish_features(Dataset& data, Rows& rows, const TableEncoding& encoding) {
  data.features = encoding.width();
  data.feature_names = encoding.feature_names();
  EncodingCounts counts;
  if (encoding.encode_in_place(rows.table, counts)) {
    data.values = std::move(rows.table.numbers);
  } else {
    // One-hot and date features widen the table, so they go to a buffer of their own; such a
    // table has text columns, whose strings already take more memory than its numbers.
    data.values.resize(static_cast<std::size_t>(data.rows * data.features));
    encoding.encode(rows.table, data.values.data(), counts);
  }
  for (const std::string& line : {encoding.filled_summary(counts), encoding.unseen_summary(counts)})
    if (!line.empty()) data.notes.push_back(line);
}

// The header rule for Header::automatic. Line 1 is a header when some column has a non-empty,
// non-numeric cell on line 1 above a numeric cell on line 2: names sit above numbers. A column
// of text on both lines (string class labels) says nothing either way, and an empty cell on
// line 1 is more likely a missing value than a name. A file of a single record is a header
// when none of its cells is a number (it is then rejected as having no data rows).
bool detect_header(const CsvRecord& first, const CsvRecord* second, std::string& reason) {
  if (second == nullptr) {
    const bool all_text = std::none_of(first.fields.begin(), first.fields.end(),
                                       [](const std::string& c) { return is_number(c); });
    reason = all_text ? "the only line has no numbers, so it was taken as a header"
                      : "the only line has numbers, so it was taken as data";
    return all_text;
  }
  const std::size_t shared = std::min(first.fields.size(), second->fields.size());
  for (std::size_t j = 0; j < shared; ++j) {
    const std::string_view top = trim(first.fields[j]);
    if (!top.empty() && !is_number(top) && is_number(second->fields[j])) {
      reason = fmt::format("line {} was taken as a header: column {} has text ({}) above a number",
                           first.line, j, shown_text(top));
      return true;
    }
  }
  reason = fmt::format("line {} was taken as data: no column has text above a number", first.line);
  return false;
}

// Pass 1 over the records: which feature columns are read as numbers. A column is numeric when
// every cell is a number or missing and it is not listed as categorical; a column of text is
// text. A column of numbers with a few text cells is most likely a typo, and is an error naming
// the first text cell (unless the column is listed as categorical). `records`: the data records
// with the plan's field count, the most rows the file can give.
std::vector<bool> numeric_columns(const CsvText& text, char delimiter, char decimal, bool header,
                                  const Plan& plan, const std::vector<std::string>& categorical,
                                  std::size_t& records) {
  const std::string& source = text.source();
  const std::size_t n = plan.features.size();
  std::vector<std::int64_t> numbers(n, 0), texts(n, 0), first_text_line(n, 0);
  std::vector<std::string> first_text(n);
  CsvReader reader = text.reader(delimiter, decimal);
  CsvRecord record;
  bool skip = header;
  records = 0;
  while (reader.next(record)) {
    if (skip || record.fields.size() != plan.names.size()) {
      skip = false;  // a wrong field count is reported by read_row, with its line
      continue;
    }
    ++records;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t j = plan.features[k];
      double v = 0;
      const Number status = parse_number(record.fields[j], v);
      if (status == Number::ok) {
        ++numbers[k];
      } else if (status == Number::invalid && !is_missing_cell(record.fields[j])) {
        if (texts[k]++ == 0) {
          first_text[k] = record.fields[j];
          first_text_line[k] = record.line;
        }
      }
    }
  }
  std::vector<bool> numeric(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::string& name = plan.names[plan.features[k]];
    const bool listed =
        std::find(categorical.begin(), categorical.end(), name) != categorical.end();
    numeric[k] = texts[k] == 0 && !listed;
    if (!listed && texts[k] > 0 && numbers[k] > texts[k]) {
      bad_cell(source, first_text_line[k], plan.features[k], name, first_text[k], Number::invalid,
               fmt::format(" ({} of the column's cells are numbers; if it holds categories, give "
                           "--categorical {})",
                           numbers[k], name));
    }
  }
  return numeric;
}

constexpr EnumNames<CsvOptions::Header, 3> kHeaderNames{{
    {CsvOptions::Header::yes, "yes"},
    {CsvOptions::Header::no, "no"},
    {CsvOptions::Header::automatic, "auto"},
}};

}  // namespace

CsvOptions::Header parse_csv_header(const std::string& name) {
  return parse_enum(kHeaderNames, name, "CSV header choice");
}

// ---- CsvReader ----------------------------------------------------------------------------

CsvReader::CsvReader(std::string_view text, std::string source, char delimiter, char decimal)
    : text_(text), source_(std::move(source)), delimiter_(delimiter), decimal_(decimal) {
  if (text_.starts_with(kBom)) pos_ = kBom.size();
}

CsvReader::CsvReader(ReadText read, std::string source, char delimiter, std::size_t window_bytes,
                     char decimal)
    : read_(std::move(read)),
      buffer_(std::max<std::size_t>(window_bytes, 1)),
      at_end_(false),
      source_(std::move(source)),
      delimiter_(delimiter),
      decimal_(decimal) {
  while (text_.size() < kBom.size() && refill()) {
  }
  if (text_.starts_with(kBom)) pos_ = kBom.size();
}

bool CsvReader::refill() {
  if (at_end_) return false;
  const std::size_t kept = text_.size() - pos_;
  if (kept == buffer_.size()) {
    // The whole window is one unfinished record (pos_ is 0): widen it, keeping its bytes.
    buffer_.resize(2 * buffer_.size());
  } else if (kept > 0) {
    std::memmove(buffer_.data(), text_.data() + pos_, kept);
  }
  content_at_ = content_at_ >= pos_ ? content_at_ - pos_ : 0;
  pos_ = 0;
  const std::size_t wanted = buffer_.size() - kept;
  const std::size_t got = read_(std::span<char>(buffer_.data() + kept, wanted));
  at_end_ = got < wanted;
  text_ = std::string_view(buffer_.data(), kept + got);
  return true;
}

bool CsvReader::next(CsvRecord& record) {
  for (;;) {
    switch (scan(record)) {
      case Step::record:
        return true;
      case Step::end:
        return false;
      case Step::more:
        refill();
        break;
    }
  }
}

CsvReader::Step CsvReader::scan(CsvRecord& record) {
  const std::string_view text = text_;
  const std::size_t n = text.size();
  // Reaching the window's end decides nothing while more text may follow: the record is then
  // scanned again from its start once the window holds more.
  const bool more = !at_end_;
  // Whitespace-only lines up to the end of the text are not records. The first byte of content
  // found is remembered, so that a run of blank lines is scanned once, not once per line.
  std::size_t pos = pos_;
  if (pos >= content_at_) {
    std::size_t probe = pos;
    while (probe < n && (is_space(text[probe]) || is_line_end(text[probe]))) ++probe;
    if (probe == n) {
      if (more) return Step::more;
      pos_ = n;
      return Step::end;
    }
    content_at_ = probe;
  }

  std::int64_t line = line_;
  record.line = line;
  std::size_t count = 0;
  for (;;) {
    if (count == record.fields.size()) record.fields.emplace_back();
    std::string& field = record.fields[count++];
    field.clear();
    if (pos < n && text[pos] == '"') {
      const std::int64_t open_line = line;
      ++pos;
      for (;;) {
        const std::size_t quote = text.find('"', pos);
        if (quote == std::string_view::npos) {
          if (more) return Step::more;
          throw Error(
              fmt::format("{}:{}: column {}: unterminated quoted field (no closing quote "
                          "before the end of the file)",
                          source_, open_line, count - 1));
        }
        const std::string_view chunk = text.substr(pos, quote - pos);
        line += count_line_ends(chunk);
        field.append(chunk);
        pos = quote + 1;
        if (pos == n && more) return Step::more;
        if (pos < n && text[pos] == '"') {  // "" stands for one quote
          field += '"';
          ++pos;
          continue;
        }
        break;
      }
      while (pos < n && is_space(text[pos]) && text[pos] != delimiter_) ++pos;
      if (pos == n && more) return Step::more;
      if (pos < n && text[pos] != delimiter_ && !is_line_end(text[pos])) {
        throw Error(
            fmt::format("{}:{}: column {}: unexpected {} after a closing quote (a quote "
                        "inside a quoted field is written \"\")",
                        source_, line, count - 1, shown_text(text.substr(pos, 1))));
      }
    } else {
      std::size_t end = pos;
      while (end < n && text[end] != delimiter_ && !is_line_end(text[end])) ++end;
      if (end == n && more) return Step::more;
      field.assign(text.substr(pos, end - pos));
      pos = end;
    }
    if (pos >= n) break;
    const char delimiter = text[pos++];
    if (delimiter == delimiter_) continue;
    if (delimiter == '\r') {
      if (pos == n && more) return Step::more;
      if (pos < n && text[pos] == '\n') ++pos;
    }
    ++line;
    break;
  }
  record.fields.resize(count);
  if (decimal_ == ',') {
    for (std::string& field : record.fields) {
      const std::size_t comma = decimal_mark_at(field, ',');
      if (comma != std::string::npos) field[comma] = '.';
    }
  }
  pos_ = pos;
  line_ = line;
  return Step::record;
}

// ---- Delimiters ---------------------------------------------------------------------------

namespace {

char detect_delimiter(const CsvText& text) {
  constexpr std::size_t kProbeRecords = 20;
  char best = ',';
  std::size_t best_fields = 1;
  for (const char candidate : {',', ';', '\t'}) {
    CsvReader reader = text.reader(candidate, '.');
    CsvRecord record;
    std::size_t fields = 0;
    bool consistent = true;
    try {
      for (std::size_t r = 0; r < kProbeRecords && reader.next(record); ++r) {
        if (fields == 0) fields = record.fields.size();
        consistent &= record.fields.size() == fields;
      }
    } catch (const Error&) {
      consistent = false;  // a quote this delimiter cannot place
    }
    if (consistent && fields > best_fields) {
      best = candidate;
      best_fields = fields;
    }
  }
  return best;
}

}  // namespace

char detect_delimiter(std::string_view text) { return detect_delimiter(CsvText(text, "")); }

char parse_delimiter(const std::string& name) {
  if (name == "auto") return 0;
  if (name == "comma" || name == ",") return ',';
  if (name == "semicolon" || name == ";") return ';';
  if (name == "tab" || name == "\t") return '\t';
  throw Error(fmt::format("unknown delimiter \"{}\" (choose auto, comma, semicolon, tab)", name));
}

std::string delimiter_name(char delimiter) {
  return delimiter == ';' ? "semicolon" : delimiter == '\t' ? "tab" : "comma";
}

// ---- Decimal marks ------------------------------------------------------------------------

namespace {

char detect_decimal(const CsvText& text, char delimiter) {
  if (delimiter == ',') return '.';
  constexpr std::size_t kProbeRecords = 1000;
  CsvReader reader = text.reader(delimiter, '.');
  CsvRecord record;
  bool commas = false;
  try {
    for (std::size_t r = 0; r < kProbeRecords && reader.next(record); ++r) {
      for (const std::string& cell : record.fields) {
        if (decimal_mark_at(cell, '.') != std::string_view::npos) return '.';
        commas = commas || decimal_mark_at(cell, ',') != std::string_view::npos;
      }
    }
  } catch (const Error&) {
    // A malformed record: the pass that reads the rows reports it with its line.
  }
  return commas ? ',' : '.';
}

}  // namespace

char detect_decimal(std::string_view text, char delimiter) {
  return detect_decimal(CsvText(text, ""), delimiter);
}

char parse_decimal(const std::string& name) {
  if (name == "auto") return 0;
  if (name == "point" || name == ".") return '.';
  if (name == "comma" || name == ",") return ',';
  throw Error(fmt::format("unknown decimal mark \"{}\" (choose auto, point, comma)", name));
}

// ---- Task inference -----------------------------------------------------------------------

TaskChoice infer_task(std::span<const std::string> label_cells, const std::string& label_name) {
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53: beyond it every double is even
  std::set<double> distinct;
  std::string non_integer;
  for (const std::string& cell : label_cells) {
    double v = 0;
    if (parse_number(cell, v) != Number::ok) {
      return {Task::classification, fmt::format("label {} has non-numeric values (e.g. {})",
                                                shown_text(label_name), shown_text(trim(cell)))};
    }
    if (non_integer.empty() && (v != std::floor(v) || std::abs(v) > kExactIntegers)) {
      non_integer = trim(cell);
    }
    if (distinct.size() <= kMaxAutoClasses) distinct.insert(v);
  }
  if (!non_integer.empty()) {
    return {Task::regression, fmt::format("label {} has non-integer values (e.g. {})",
                                          shown_text(label_name), shown_text(non_integer))};
  }
  if (distinct.size() > kMaxAutoClasses) {
    return {Task::regression, fmt::format("label {} has more than {} distinct integer values",
                                          shown_text(label_name), kMaxAutoClasses)};
  }
  return {Task::classification,
          fmt::format("label {} has {} distinct integer values (at most {})",
                      shown_text(label_name), distinct.size(), kMaxAutoClasses)};
}

// ---- Training files -----------------------------------------------------------------------

Dataset csv_dataset(const CsvText& text, const CsvOptions& options, CsvReport* report) {
  const std::string& source = text.source();
  const char delimiter = options.delimiter != 0 ? options.delimiter : detect_delimiter(text);
  const char decimal = options.decimal != 0 ? options.decimal : detect_decimal(text, delimiter);
  CsvReader reader = text.reader(delimiter, decimal);
  CsvRecord first;
  CsvRecord record;
  if (!reader.next(first)) throw Error(fmt::format("{}:1: empty file (no records)", source));
  const bool has_second = reader.next(record);

  bool header = false;
  std::string header_reason;
  switch (options.header) {
    case CsvOptions::Header::yes:
      header = true;
      header_reason = fmt::format("line {} is a header (as asked)", first.line);
      break;
    case CsvOptions::Header::no:
      header_reason = "the file has no header (as asked)";
      break;
    case CsvOptions::Header::automatic:
      header = detect_header(first, has_second ? &record : nullptr, header_reason);
      break;
  }
  if (header && !has_second) {
    throw Error(fmt::format("{}:{}: header only, no data rows", source, first.line));
  }

  Plan plan;
  plan.names = header ? header_names(first) : generic_names(first.fields.size());
  if (header) {
    for (std::size_t j = 0; j < plan.names.size(); ++j) {
      check_name_text(plan.names[j], source, first.line, j, "the column name");
    }
    check_unique_names(plan.names, source, first.line);
  }
  const std::size_t columns = plan.names.size();
  const std::size_t label = options.label.empty()
                                ? columns - 1
                                : resolve_column(options.label, plan, "label", source, first.line);
  plan.label = label;
  std::vector<bool> used(columns, false);
  used[label] = true;
  if (!options.id_column.empty()) {
    const std::size_t id = resolve_column(options.id_column, plan, "id", source, first.line);
    if (id == label) {
      throw Error(fmt::format("{}:{}: {} cannot be both the label and the id column", source,
                              first.line, column_text(id, plan.names[id])));
    }
    plan.id = id;
    used[id] = true;
  }
  for (const std::string& name : options.ignore) {
    const std::size_t j = resolve_column(name, plan, "ignored", source, first.line);
    if (j == label) {
      throw Error(fmt::format("{}:{}: {} is the label column and cannot be ignored", source,
                              first.line, column_text(j, plan.names[j])));
    }
    used[j] = true;
  }
  for (std::size_t j = 0; j < columns; ++j) {
    if (!used[j]) plan.features.push_back(j);
  }
  if (plan.features.empty()) {
    throw Error(fmt::format("{}:{}: no feature columns left (the columns are: {}; the label is {})",
                            source, first.line, columns_list(plan),
                            column_text(label, plan.names[label])));
  }

  EncodingOptions encoding_options = options.encoding;
  for (std::string& name : encoding_options.categorical) {
    const std::size_t j = resolve_column(name, plan, "categorical", source, first.line);
    if (std::find(plan.features.begin(), plan.features.end(), j) == plan.features.end())
      throw Error(fmt::format("{}:{}: --categorical {}: {} is not a feature column", source,
                              first.line, name, column_text(j, plan.names[j])));
    name = plan.names[j];
  }
  std::size_t records = 0;
  const std::vector<bool> numeric = numeric_columns(text, delimiter, decimal, header, plan,
                                                    encoding_options.categorical, records);

  Rows rows;
  start_table(rows, plan, numeric, source);
  reserve_rows(rows, records, plan);
  const MissingPolicy policy = options.encoding.missing;
  if (!header) {
    // A text cell on line 1 of a file without a detected header is often an undetected header.
    const bool guessed = options.header == CsvOptions::Header::automatic;
    read_row(
        first, plan, policy, source, rows,
        guessed ? " (no header was detected; if this line is a header, say so explicitly)" : "");
  }
  if (has_second) {
    read_row(record, plan, policy, source, rows);
    while (reader.next(record)) read_row(record, plan, policy, source, rows);
  }
  if (rows.table.rows == 0)
    throw Error(
        fmt::format("{}: no rows left to train on ({} without a label, {} with a missing "
                    "feature cell)",
                    source, rows.missing_labels, rows.dropped));

  const TaskChoice choice =
      options.task
          ? TaskChoice{*options.task, fmt::format("{} (as asked)", to_string(*options.task))}
          : infer_task(rows.labels, plan.names[label]);

  Dataset data = make_dataset(rows, plan, source);
  data.task = choice.task;
  if (choice.task == Task::regression) {
    data.targets = parse_targets(rows, plan, source);
  } else {
    data.class_names = distinct_classes(rows.labels);
    const ClassIndex index(data.class_names);
    data.labels.resize(rows.labels.size());
    for (std::size_t i = 0; i < rows.labels.size(); ++i)
      data.labels[i] = *index.find(rows.labels[i]);
  }

  std::vector<std::int64_t> fit_rows;
  if (options.fit_rows) {
    fit_rows = options.fit_rows(data);
  } else {
    fit_rows.resize(static_cast<std::size_t>(data.rows));
    std::iota(fit_rows.begin(), fit_rows.end(), std::int64_t{0});
  }
  TableEncoding encoding;
  try {
    encoding = fit_encoding(rows.table, fit_rows, encoding_options);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", source, e.what()));
  }
  finish_features(data, rows, encoding);

  if (report != nullptr) {
    CsvSchema& schema = report->schema;
    schema = CsvSchema{};
    schema.feature_names = data.feature_names;
    schema.label_name = data.label_name;
    schema.task = data.task;
    schema.class_names = data.class_names;
    schema.has_header = header;
    schema.columns = static_cast<std::int64_t>(columns);
    schema.delimiter = delimiter;
    schema.decimal = decimal;
    schema.encoding = std::move(encoding);
    for (const std::string& name : options.ignore)
      report->schema.ignored.push_back(
          plan.names[resolve_column(name, plan, "ignored", source, first.line)]);
    if (plan.id) report->schema.id_column = plan.names[*plan.id];
    report->header_reason = std::move(header_reason);
    report->task_reason = choice.reason;
  }
  return data;
}

Dataset parse_csv_dataset(std::string_view text, const std::string& source,
                          const CsvOptions& options, CsvReport* report) {
  return csv_dataset(CsvText(text, source), options, report);
}

Dataset read_csv_dataset(const std::filesystem::path& path, const CsvOptions& options,
                         CsvReport* report) {
  return csv_dataset(CsvText(path, path.string()), options, report);
}

// ---- Files for a trained model ------------------------------------------------------------

namespace {

// The j of a headerless column name "c<j>", if it is one.
std::optional<std::size_t> generic_index(const std::string& name) {
  if (name.size() < 2 || name[0] != 'c') return std::nullopt;
  std::size_t j = 0;
  const char* const end = name.data() + name.size();
  const auto [ptr, ec] = std::from_chars(name.data() + 1, end, j);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return j;
}

// The only column called `name`; a name that appears twice is ambiguous.
std::optional<std::size_t> find_named(const Plan& plan, const std::string& name,
                                      const std::string& source, std::int64_t line) {
  std::optional<std::size_t> found;
  for (std::size_t j = 0; j < plan.names.size(); ++j) {
    if (plan.names[j] != name) continue;
    if (found) {
      throw Error(fmt::format("{}:{}: column name {} appears twice (columns {} and {})", source,
                              line, shown_text(name), *found, j));
    }
    found = j;
  }
  return found;
}

// The encoding a schema reads with: its own, or for a model without one each feature name as a
// numeric column in which a gap is an error.
TableEncoding schema_encoding(const CsvSchema& schema) {
  if (!schema.encoding.columns.empty()) return schema.encoding;
  TableEncoding e;
  e.missing = MissingPolicy::error;
  for (const std::string& name : schema.feature_names) {
    ColumnEncoding c;
    c.name = name;
    e.columns.push_back(std::move(c));
  }
  return e;
}

}  // namespace

Dataset csv_for_model(const CsvText& text, const CsvSchema& schema, bool require_label,
                      const std::string& id_column, char delimiter, char decimal) {
  const std::string& source = text.source();
  if (schema.feature_names.empty()) throw Error(source + ": the model's schema has no features");
  const TableEncoding encoding = schema_encoding(schema);
  CsvReader reader = text.reader(delimiter != 0 ? delimiter : detect_delimiter(text),
                                 decimal != 0 ? decimal : schema.decimal);
  CsvRecord first;
  if (!reader.next(first)) throw Error(fmt::format("{}:1: empty file (no records)", source));

  Plan plan;
  const std::size_t found = first.fields.size();
  if (schema.has_header) {
    plan.names = header_names(first);
  } else {
    // Names c<j> are positions, so the count must match the training file's; the label may be
    // left out only when it was the last column, as no other position shifts then.
    std::size_t expected = static_cast<std::size_t>(std::max<std::int64_t>(schema.columns, 0));
    const std::optional<std::size_t> label_at = generic_index(schema.label_name);
    if (expected == 0) {
      for (const ColumnEncoding& c : encoding.columns) {
        if (const auto j = generic_index(c.name)) expected = std::max(expected, *j + 1);
      }
      if (label_at) expected = std::max(expected, *label_at + 1);
    }
    const bool label_last = label_at && *label_at + 1 == expected;
    const bool ok = found == expected || (!require_label && label_last && found + 1 == expected);
    if (!ok) {
      throw Error(fmt::format(
          "{}:{}: expected {} fields, as in the model's training file (which had no header){}, "
          "found {}",
          source, first.line, expected,
          !require_label && label_last ? fmt::format(", or {} without the label", expected - 1)
                                       : std::string(),
          found));
    }
    plan.names = generic_names(found);
  }

  std::vector<bool> numeric;
  for (std::size_t k = 0; k < encoding.columns.size(); ++k) {
    const std::string& name = encoding.columns[k].name;
    const std::optional<std::size_t> j = find_named(plan, name, source, first.line);
    if (!j) {
      const bool looks_like_data = std::any_of(first.fields.begin(), first.fields.end(),
                                               [](const std::string& c) { return is_number(c); });
      throw Error(fmt::format(
          "{}:{}: no column {}, which the model needs (its column {} of 0 to {}); the columns are: "
          "{}{}",
          source, first.line, shown_text(name), k, encoding.columns.size() - 1, columns_list(plan),
          looks_like_data ? " (this line looks like data, but the model was trained on a file "
                            "with a header)"
                          : ""));
    }
    plan.features.push_back(*j);
    numeric.push_back(encoding.columns[k].kind == ColumnEncoding::Kind::number);
  }
  if (require_label) {
    plan.label = find_named(plan, schema.label_name, source, first.line);
    if (!plan.label) {
      throw Error(fmt::format("{}:{}: no label column {}; the columns are: {}", source, first.line,
                              shown_text(schema.label_name), columns_list(plan)));
    }
  }
  if (!id_column.empty()) plan.id = resolve_column(id_column, plan, "id", source, first.line);

  Rows rows;
  start_table(rows, plan, numeric, source);
  reserve_rows(rows, most_rows(text.extent(), plan), plan);
  MissingPolicy policy = encoding.missing;
  if (schema.encoding.columns.empty()) {
    rows.missing_hint = " (the model keeps no values to fill gaps with; train it again)";
  } else if (policy == MissingPolicy::drop && !require_label) {
    // Every row to predict needs an answer: a gap cannot be dropped here.
    policy = MissingPolicy::error;
    rows.missing_hint = " (the model was trained with --missing drop, so it has no fill value)";
  }
  if (!schema.has_header) read_row(first, plan, policy, source, rows);
  CsvRecord record;
  while (reader.next(record)) read_row(record, plan, policy, source, rows);
  if (rows.table.rows == 0) {
    if (rows.missing_labels + rows.dropped > 0)
      throw Error(
          fmt::format("{}: no rows left ({} without a label, {} with a missing feature "
                      "cell)",
                      source, rows.missing_labels, rows.dropped));
    throw Error(fmt::format("{}:{}: header only, no data rows", source, first.line));
  }

  Dataset data = make_dataset(rows, plan, source);
  data.task = schema.task;
  data.class_names = schema.class_names;
  data.label_name = schema.label_name;
  finish_features(data, rows, encoding);
  data.feature_names = schema.feature_names;
  if (!require_label) return data;
  if (schema.task == Task::regression) {
    data.targets = parse_targets(rows, plan, source);
    return data;
  }
  const ClassIndex index(schema.class_names);
  data.labels.resize(rows.labels.size());
  for (std::size_t i = 0; i < rows.labels.size(); ++i) {
    const std::optional<std::int32_t> c = index.find(rows.labels[i]);
    if (!c) {
      throw Error(fmt::format("{}:{}: {}: label {} is not one of the model's classes: {}", source,
                              rows.table.lines[i],
                              column_text(*plan.label, plan.names[*plan.label]),
                              shown_text(rows.labels[i]), join_names(schema.class_names)));
    }
    data.labels[i] = *c;
  }
  return data;
}

Dataset parse_csv_for_model(std::string_view text, const std::string& source,
                            const CsvSchema& schema, bool require_label,
                            const std::string& id_column, char delimiter, char decimal) {
  return csv_for_model(CsvText(text, source), schema, require_label, id_column, delimiter, decimal);
}

Dataset read_csv_for_model(const std::filesystem::path& path, const CsvSchema& schema,
                           bool require_label, const std::string& id_column, char delimiter,
                           char decimal) {
  return csv_for_model(CsvText(path, path.string()), schema, require_label, id_column, delimiter,
                       decimal);
}

}  // namespace backprop
