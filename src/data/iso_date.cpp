// ISO 8601 dates and date-times as table cells (backprop/table_encoding.hpp).

#include "backprop/table_encoding.hpp"

namespace backprop {
namespace {

// `count` decimal digits at s[at...] as a number, or -1.
int digits(std::string_view s, std::size_t at, std::size_t count) {
  if (at + count > s.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
long long days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long yoe = y - era * 400;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// "hh:mm[:ss[.fff]]" at s[at...]; returns the position after it, or npos.
std::size_t parse_time(std::string_view s, std::size_t at, int& hour) {
  hour = digits(s, at, 2);
  const int minute = digits(s, at + 3, 2);
  if (hour < 0 || hour > 23 || at + 2 >= s.size() || s[at + 2] != ':' || minute < 0 || minute > 59)
    return std::string_view::npos;
  std::size_t pos = at + 5;
  if (pos < s.size() && s[pos] == ':') {
    const int second = digits(s, pos + 1, 2);
    if (second < 0 || second > 60) return std::string_view::npos;  // 60: a leap second
    pos += 3;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      const std::size_t start = ++pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == start) return std::string_view::npos;
    }
  }
  return pos;
}

}  // namespace

int CivilTime::day_of_week() const {
  // 1970-01-01 was a Thursday (3 with Monday 0).
  const long long d = days_from_civil(year, month, day);
  return static_cast<int>(((d % 7) + 7 + 3) % 7);
}

int CivilTime::day_of_year() const {
  return static_cast<int>(days_from_civil(year, month, day) - days_from_civil(year, 1, 1)) + 1;
}

std::optional<CivilTime> parse_iso_date(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  CivilTime t;
  t.year = digits(s, 0, 4);
  t.month = digits(s, 5, 2);
  t.day = digits(s, 8, 2);
  if (t.year < 0 || t.month < 1 || t.month > 12 || t.day < 1 || s[4] != '-' || s[7] != '-' ||
      t.day > days_in_month(t.year, t.month))
    return std::nullopt;
  if (s.size() == 10) return t;
  if (s[10] != 'T' && s[10] != ' ') return std::nullopt;
  int hour = 0;
  std::size_t pos = parse_time(s, 11, hour);
  if (pos == std::string_view::npos) return std::nullopt;
  t.hour = hour;
  if (pos == s.size()) return t;
  if (s[pos] == 'Z' && pos + 1 == s.size()) return t;
  if (s[pos] == '+' || s[pos] == '-') {
    const int oh = digits(s, pos + 1, 2);
    const int om = digits(s, pos + 4, 2);
    if (oh >= 0 && oh <= 14 && pos + 3 < s.size() && s[pos + 3] == ':' && om >= 0 && om <= 59 &&
        pos + 6 == s.size())
      return t;
  }
  return std::nullopt;
}

}  // namespace backprop
