#include "data/csv_text.hpp"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

namespace backprop {

CsvText::CsvText(std::string_view text, std::string source)
    : memory_(text), source_(std::move(source)) {}

CsvText::CsvText(const std::filesystem::path& path, std::string source, std::size_t window_bytes)
    : file_(FileStream(path, kMaxCsvBytes)),
      window_bytes_(window_bytes),
      source_(std::move(source)) {}

CsvReader CsvText::reader(char delimiter, char decimal) const {
  if (!file_) return CsvReader(memory_, source_, delimiter, decimal);
  auto stream = std::make_shared<FileStream>(file_->restart());
  return CsvReader([stream](std::span<char> out) { return stream->read(out); }, source_, delimiter,
                   window_bytes_, decimal);
}

CsvText::Extent CsvText::extent() const {
  Extent e;
  const auto add = [&e](std::string_view piece) {
    e.bytes += piece.size();
    e.line_feeds += static_cast<std::uint64_t>(std::count(piece.begin(), piece.end(), '\n'));
  };
  if (!file_) {
    add(memory_);
    return e;
  }
  FileStream stream = file_->restart();
  std::vector<char> window(std::max<std::size_t>(window_bytes_, 1));
  for (;;) {
    const std::size_t n = stream.read(window);
    add(std::string_view(window.data(), n));
    if (n < window.size()) return e;
  }
}

}  // namespace backprop
