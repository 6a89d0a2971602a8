#pragma once
// Internal: the CSV text the readers go over, once to detect the delimiter, once to find the
// numeric columns, once to read the rows. Text in memory is read where it is; a file is opened
// once and each pass streams it again from its start, a window at a time, gunzipped as it
// streams, so that the reader never holds the file's text: it holds one window (and the record
// it is in) per pass, and the parsed numbers.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "backprop/csv.hpp"
#include "core/file_bytes.hpp"

namespace backprop {

// The window of a file's text a pass holds: large enough that a window boundary (where a record
// is scanned again from its start) is rare, small next to any file worth streaming.
inline constexpr std::size_t kCsvWindowBytes = std::size_t{1} << 20;

class CsvText {
 public:
  // Text in memory, which must outlive this; `source` names it in messages.
  CsvText(std::string_view text, std::string source);
  // A file (kMaxCsvBytes at most, gunzipped if it is gzip), opened now; each pass holds
  // `window_bytes` of its text at a time.
  CsvText(const std::filesystem::path& path, std::string source,
          std::size_t window_bytes = kCsvWindowBytes);

  const std::string& source() const { return source_; }
  // A reader from the start of the text.
  CsvReader reader(char delimiter, char decimal) const;

  struct Extent {
    std::uint64_t bytes = 0;
    std::uint64_t line_feeds = 0;  // '\n' bytes
  };
  // The text's size and its '\n' count, from one more pass over it.
  Extent extent() const;

 private:
  std::string_view memory_;
  std::optional<FileStream> file_;  // unread: each pass reads a restart() of it
  std::size_t window_bytes_ = kCsvWindowBytes;
  std::string source_;
};

// read_csv_dataset / parse_csv_dataset and read_csv_for_model / parse_csv_for_model over any
// CsvText (csv.cpp).
Dataset csv_dataset(const CsvText& text, const CsvOptions& options, CsvReport* report);
Dataset csv_for_model(const CsvText& text, const CsvSchema& schema, bool require_label,
                      const std::string& id_column, char delimiter, char decimal);

}  // namespace backprop
