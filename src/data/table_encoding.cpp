#include "backprop/table_encoding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "backprop/error.hpp"
#include "core/enum_names.hpp"

namespace backprop {
namespace {

constexpr EnumNames<MissingPolicy, 3> kMissingNames{{
    {MissingPolicy::impute, "impute"},
    {MissingPolicy::drop, "drop"},
    {MissingPolicy::error, "error"},
}};

constexpr EnumNames<ColumnEncoding::Kind, 3> kKindNames{{
    {ColumnEncoding::Kind::number, "number"},
    {ColumnEncoding::Kind::category, "category"},
    {ColumnEncoding::Kind::date, "date"},
}};

constexpr std::size_t kDateFeatures = 4;  // year, month, day of week, day of year (+ hour)
constexpr const char* kDateNames[] = {"year", "month", "dayofweek", "dayofyear", "hour"};

// The median of `v` (reordered); the mean of the two middle values for an even count.
float median(std::vector<float>& v) {
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const float upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const float lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return static_cast<float>((static_cast<double>(lower) + static_cast<double>(upper)) / 2);
}

void date_features(const CivilTime& t, bool hour, float* out) {
  out[0] = static_cast<float>(t.year);
  out[1] = static_cast<float>(t.month);
  out[2] = static_cast<float>(t.day_of_week());
  out[3] = static_cast<float>(t.day_of_year());
  if (hour) out[4] = static_cast<float>(t.hour.value_or(0));
}

std::string quoted(std::string_view s) {
  return fmt::format("\"{}\"", s.size() > 40 ? std::string(s.substr(0, 40)) + "..." : s);
}

ColumnEncoding fit_number(const std::string& name, const float* values, std::size_t stride,
                          std::span<const std::int64_t> rows, bool& gaps) {
  ColumnEncoding c;
  c.name = name;
  std::vector<float> seen;
  seen.reserve(rows.size());
  for (const std::int64_t i : rows) {
    const float v = values[static_cast<std::size_t>(i) * stride];
    if (std::isnan(v)) {
      gaps = true;
    } else {
      seen.push_back(v);
    }
  }
  if (seen.empty())
    throw Error(
        fmt::format("column {} has no value in the training rows; leave it out with "
                    "--ignore {}",
                    quoted(name), name));
  c.fill = {median(seen)};
  return c;
}

ColumnEncoding fit_text(const std::string& name, const std::vector<std::string>& cells,
                        std::span<const std::int64_t> rows, bool categorical, bool& gaps) {
  ColumnEncoding c;
  c.name = name;
  bool dates = !categorical;
  bool any = false;
  for (const std::string& cell : cells) {
    if (is_missing_cell(cell)) continue;
    any = true;
    const auto t = dates ? parse_iso_date(cell) : std::nullopt;
    if (!t) {
      dates = false;
    } else if (t->hour) {
      c.hour = true;
    }
  }
  if (!any)
    throw Error(
        fmt::format("column {} has no value; leave it out with --ignore {}", quoted(name), name));
  if (dates) {
    c.kind = ColumnEncoding::Kind::date;
    std::vector<std::vector<float>> seen(kDateFeatures + 1);
    float f[kDateFeatures + 1];
    for (const std::int64_t i : rows) {
      const std::string& cell = cells[static_cast<std::size_t>(i)];
      if (is_missing_cell(cell)) {
        gaps = true;
        continue;
      }
      date_features(*parse_iso_date(cell), true, f);
      for (std::size_t k = 0; k < seen.size(); ++k) seen[k].push_back(f[k]);
    }
    if (seen[0].empty())
      throw Error(
          fmt::format("column {} has no value in the training rows; leave it out with "
                      "--ignore {}",
                      quoted(name), name));
    for (std::size_t k = 0; k < kDateFeatures + (c.hour ? 1 : 0); ++k)
      c.fill.push_back(std::round(median(seen[k])));
    return c;
  }
  c.kind = ColumnEncoding::Kind::category;
  std::map<std::string, std::int64_t> counts;
  std::int64_t present = 0;
  for (const std::int64_t i : rows) {
    const std::string& cell = cells[static_cast<std::size_t>(i)];
    if (is_missing_cell(cell)) {
      gaps = true;
      continue;
    }
    ++present;
    ++counts[cell];
    if (counts.size() > kMaxCategories) break;
  }
  const auto distinct = static_cast<std::int64_t>(counts.size());
  if (counts.size() > kMaxCategories)
    throw Error(fmt::format(
        "column {} has more than {} distinct text values, too many to one-hot encode; leave it "
        "out with --ignore {} (or give it as numbers)",
        quoted(name), kMaxCategories, name));
  if (present >= static_cast<std::int64_t>(kMinRowsForUniqueRule) && 2 * distinct > present)
    throw Error(fmt::format(
        "column {} has {} distinct values in {} rows: mostly unique, like a name or an id, so "
        "one-hot features would not generalise; leave it out with --ignore {}",
        quoted(name), distinct, present, name));
  if (counts.empty())
    throw Error(
        fmt::format("column {} has no value in the training rows; leave it out with "
                    "--ignore {}",
                    quoted(name), name));
  std::int64_t best = -1;
  for (const auto& [value, n] : counts) {
    c.categories.push_back(value);
    if (n > best) {  // ties: the first in byte order
      best = n;
      c.fill_category = value;
    }
  }
  return c;
}

}  // namespace

std::string to_string(MissingPolicy p) { return enum_to_string(kMissingNames, p); }
MissingPolicy parse_missing_policy(const std::string& name) {
  return parse_enum(kMissingNames, name, "--missing choice");
}
std::string to_string(ColumnEncoding::Kind k) { return enum_to_string(kKindNames, k); }
ColumnEncoding::Kind parse_column_kind(const std::string& name) {
  return parse_enum(kKindNames, name, "column kind");
}

bool is_missing_cell(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return true;
  if (s.size() > 4) return false;
  std::string lower(s);
  for (char& ch : lower)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return lower == "na" || lower == "n/a" || lower == "nan" || lower == "null" || lower == "?";
}

std::int64_t ColumnEncoding::width() const {
  std::int64_t w = 0;
  switch (kind) {
    case Kind::number:
      w = 1;
      break;
    case Kind::category:
      w = static_cast<std::int64_t>(categories.size());
      break;
    case Kind::date:
      w = static_cast<std::int64_t>(kDateFeatures) + (hour ? 1 : 0);
      break;
  }
  return w + (indicator ? 1 : 0);
}

std::int64_t TableEncoding::width() const {
  std::int64_t w = 0;
  for (const auto& c : columns) w += c.width();
  return w;
}

std::vector<std::string> TableEncoding::feature_names() const {
  std::vector<std::string> names;
  for (const auto& c : columns) {
    switch (c.kind) {
      case ColumnEncoding::Kind::number:
        names.push_back(c.name);
        break;
      case ColumnEncoding::Kind::category:
        for (const auto& v : c.categories) names.push_back(c.name + "=" + v);
        break;
      case ColumnEncoding::Kind::date:
        for (std::size_t k = 0; k < kDateFeatures + (c.hour ? 1 : 0); ++k)
          names.push_back(c.name + "." + kDateNames[k]);
        break;
    }
    if (c.indicator) names.push_back(c.name + ".missing");
  }
  return names;
}

bool TableEncoding::plain() const {
  return std::all_of(columns.begin(), columns.end(), [](const ColumnEncoding& c) {
    return c.kind == ColumnEncoding::Kind::number && !c.indicator;
  });
}

void TableEncoding::encode(const RawTable& table, float* out, EncodingCounts& counts) const {
  const std::size_t n = columns.size();
  counts.filled.assign(n, 0);
  counts.unseen.assign(n, 0);
  const std::size_t numeric =
      static_cast<std::size_t>(std::count(table.numeric.begin(), table.numeric.end(), true));
  // Category lookups: value -> one-hot position.
  std::vector<std::map<std::string, std::size_t, std::less<>>> index(n);
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t v = 0; v < columns[k].categories.size(); ++v)
      index[k].emplace(columns[k].categories[v], v);
  const std::int64_t w = width();
  for (std::int64_t i = 0; i < table.rows; ++i) {
    float* x = out + i * w;
    std::size_t number_at = 0, text_at = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const ColumnEncoding& c = columns[k];
      bool gap = false;
      if (table.numeric[k]) {
        const float v = table.numbers[static_cast<std::size_t>(i) * numeric + number_at++];
        gap = std::isnan(v);
        *x++ = gap ? c.fill.at(0) : v;
      } else {
        const std::string& cell = table.texts[text_at++][static_cast<std::size_t>(i)];
        gap = is_missing_cell(cell);
        if (c.kind == ColumnEncoding::Kind::category) {
          const std::size_t width = c.categories.size();
          std::fill(x, x + width, 0.0f);
          const auto it = index[k].find(gap ? c.fill_category : cell);
          if (it != index[k].end()) {
            x[it->second] = 1.0f;
          } else {
            ++counts.unseen[k];
          }
          x += width;
        } else {  // date
          const std::size_t width = c.fill.size();
          if (gap) {
            std::copy(c.fill.begin(), c.fill.end(), x);
          } else {
            const auto t = parse_iso_date(cell);
            if (!t)
              throw Error(
                  fmt::format("{}:{}: column {}: {} is not an ISO 8601 date (YYYY-MM-DD, "
                              "optionally with Thh:mm[:ss])",
                              table.source, table.lines[static_cast<std::size_t>(i)],
                              quoted(c.name), quoted(cell)));
            date_features(*t, c.hour, x);
          }
          x += width;
        }
      }
      if (gap) ++counts.filled[k];
      if (c.indicator) *x++ = gap ? 1.0f : 0.0f;
    }
  }
}

bool TableEncoding::encode_in_place(RawTable& table, EncodingCounts& counts) const {
  if (!plain() ||
      std::find(table.numeric.begin(), table.numeric.end(), false) != table.numeric.end())
    return false;
  // A plain encoding writes feature j of row i at the very place it reads the number of column
  // j of row i (width() equals the numeric column count), after reading it.
  encode(table, table.numbers.data(), counts);
  return true;
}

namespace {

std::string count_list(const std::vector<ColumnEncoding>& columns,
                       const std::vector<std::int64_t>& per_column, std::int64_t& total) {
  std::string list;
  total = 0;
  for (std::size_t k = 0; k < per_column.size() && k < columns.size(); ++k) {
    if (per_column[k] == 0) continue;
    total += per_column[k];
    list += fmt::format("{}{} {}", list.empty() ? "" : ", ", columns[k].name, per_column[k]);
  }
  return list;
}

}  // namespace

std::string TableEncoding::filled_summary(const EncodingCounts& counts) const {
  std::int64_t total = 0;
  const std::string list = count_list(columns, counts.filled, total);
  if (total == 0) return "";
  return fmt::format("filled {} missing cell{}: {}", total, total == 1 ? "" : "s", list);
}

std::string TableEncoding::unseen_summary(const EncodingCounts& counts) const {
  std::int64_t total = 0;
  const std::string list = count_list(columns, counts.unseen, total);
  if (total == 0) return "";
  return fmt::format("{} cell{} of a category not seen in training, encoded as all zeros: {}",
                     total, total == 1 ? "" : "s", list);
}

TableEncoding fit_encoding(const RawTable& table, std::span<const std::int64_t> rows,
                           const EncodingOptions& options) {
  TableEncoding e;
  e.missing = options.missing;
  const std::size_t numeric =
      static_cast<std::size_t>(std::count(table.numeric.begin(), table.numeric.end(), true));
  std::size_t number_at = 0, text_at = 0;
  for (std::size_t k = 0; k < table.names.size(); ++k) {
    const std::string& name = table.names[k];
    bool gaps = false;
    if (table.numeric[k]) {
      e.columns.push_back(
          fit_number(name, table.numbers.data() + number_at++, numeric, rows, gaps));
    } else {
      const bool categorical = std::find(options.categorical.begin(), options.categorical.end(),
                                         name) != options.categorical.end();
      e.columns.push_back(fit_text(name, table.texts[text_at++], rows, categorical, gaps));
    }
    e.columns.back().indicator = options.indicators && gaps;
  }
  return e;
}

}  // namespace backprop
