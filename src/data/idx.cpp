#include "backprop/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "backprop/error.hpp"
#include "core/file_bytes.hpp"

namespace backprop {
namespace {

constexpr std::uint8_t kUnsignedByte = 0x08;
constexpr std::size_t kMagicBytes = 4;

enum class Kind { images, labels };

[[noreturn]] void fail(std::string_view name, std::string_view what) {
  throw Error(fmt::format("{}: {}", name, what));
}

// The element types the IDX format defines; only unsigned bytes are read.
std::string_view type_name(std::uint8_t code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "";
  }
}

std::uint32_t big_endian32(std::span<const std::uint8_t> bytes, std::size_t at) {
  return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
         (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
}

struct Header {
  std::vector<std::uint64_t> dims;
  std::size_t size = 0;        // bytes before the data
  std::uint64_t elements = 0;  // product of dims
};

std::string describe(const Header& header, Kind kind) {
  const auto& d = header.dims;
  if (kind == Kind::labels) return fmt::format("{} labels", d[0]);
  if (d.size() == 3) return fmt::format("{} images of {} x {}", d[0], d[1], d[2]);
  return fmt::format("{} images of {} features", d[0], d[1]);
}

// The header's fields and the data size they promise, from the first bytes of the file (the
// whole file, or just its head: nothing here looks past the header).
Header parse_header_fields(std::span<const std::uint8_t> file, std::string_view name, Kind kind) {
  const bool images = kind == Kind::images;
  const std::string_view expected_file = images ? "an IDX image file" : "an IDX label file";
  if (file.empty()) fail(name, fmt::format("empty file (expected {})", expected_file));
  if (file.size() < kMagicBytes) {
    fail(name, fmt::format("only {} bytes, too short for the 4-byte IDX magic number (expected {})",
                           file.size(), expected_file));
  }

  const std::uint32_t magic = big_endian32(file, 0);
  const std::string_view expected_magic =
      images ? "0x00000803 for an image file, or 0x00000802" : "0x00000801 for a label file";
  if (file[0] != 0 || file[1] != 0) {
    fail(name, fmt::format("bad magic number {:#010x} (expected {}); this is not an IDX file",
                           magic, expected_magic));
  }
  if (file[2] != kUnsignedByte) {
    const std::string_view type = type_name(file[2]);
    fail(name, fmt::format("IDX element type {:#04x} ({}) is not supported (expected 0x08, "
                           "unsigned byte)",
                           file[2], type.empty() ? "not an IDX type" : type));
  }
  const std::size_t rank = file[3];
  if (images ? (rank != 2 && rank != 3) : rank != 1) {
    // An image file given as labels (or the reverse) is the likely mistake, so say so.
    const std::string_view hint = rank == 3 && !images  ? "; this looks like an image file"
                                  : rank == 1 && images ? "; this looks like a label file"
                                                        : "";
    fail(name,
         fmt::format("bad magic number {:#010x} (expected {}){}", magic, expected_magic, hint));
  }

  Header header;
  header.size = kMagicBytes + 4 * rank;
  if (file.size() < header.size) {
    fail(name, fmt::format("header truncated: {} dimensions need a {}-byte header, found {} bytes",
                           rank, header.size, file.size()));
  }
  for (std::size_t i = 0; i < rank; ++i) {
    header.dims.push_back(big_endian32(file, kMagicBytes + 4 * i));
  }
  if (header.dims[0] == 0) fail(name, fmt::format("holds 0 {}", images ? "images" : "labels"));

  // Dataset indexes samples and features with int64, so the total must fit there (and in
  // size_t); three uint32 sizes can multiply to 96 bits.
  const std::uint64_t max_elements = std::min<std::uint64_t>(
      std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::size_t>::max());
  header.elements = 1;
  for (const std::uint64_t dim : header.dims) {
    if (dim != 0 && header.elements > max_elements / dim) {
      fail(name, fmt::format("sizes {} overflow: their product exceeds {} bytes",
                             fmt::join(header.dims, " x "), max_elements));
    }
    header.elements *= dim;
  }
  if (header.elements == 0) {
    fail(name, fmt::format("{} have no pixels: {} bytes per image", describe(header, kind),
                           header.elements));
  }

  return header;
}

Header parse_header(std::span<const std::uint8_t> file, std::string_view name, Kind kind) {
  const Header header = parse_header_fields(file, name, kind);
  const std::uint64_t found = file.size() - header.size;
  if (found != header.elements) {
    const std::string problem =
        found < header.elements
            ? std::string("truncated")
            : fmt::format("{} unexpected bytes after the data", found - header.elements);
    fail(name, fmt::format("{}: {} need {} data bytes after the {}-byte header ({} bytes in all), "
                           "found {} ({} in all)",
                           problem, describe(header, kind), header.elements, header.size,
                           header.elements + header.size, found, file.size()));
  }
  return header;
}

// --- finding files -------------------------------------------------------------------------

bool is_file(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

// `<prefix>-<what>-<format>-ubyte` in either spelling, plain preferred over .gz.
std::optional<std::filesystem::path> find_member(const std::filesystem::path& dir,
                                                 std::string_view prefix, std::string_view what,
                                                 std::string_view format) {
  for (const std::string_view suffix : {"", ".gz"}) {
    for (const char separator : {'-', '.'}) {
      auto path = dir / fmt::format("{}-{}{}{}-ubyte{}", prefix, what, separator, format, suffix);
      if (is_file(path)) return path;
    }
  }
  return std::nullopt;
}

struct Pair {
  std::optional<std::filesystem::path> images, labels;
};

Pair find_pair(const std::filesystem::path& dir, std::string_view prefix) {
  Pair pair{find_member(dir, prefix, "images", "idx3"), find_member(dir, prefix, "labels", "idx1")};
  if (pair.images.has_value() != pair.labels.has_value()) {
    const auto& present = pair.images ? *pair.images : *pair.labels;
    fail(dir.string(),
         fmt::format("has {} but no {}-{}-ubyte[.gz] to go with it", present.filename().string(),
                     prefix, pair.images ? "labels-idx1" : "images-idx3"));
  }
  return pair;
}

// --- writing -------------------------------------------------------------------------------

std::vector<std::uint8_t> make_header(std::span<const std::int64_t> dims,
                                      const std::filesystem::path& path) {
  std::vector<std::uint8_t> header = {0, 0, kUnsignedByte, static_cast<std::uint8_t>(dims.size())};
  for (const std::int64_t dim : dims) {
    if (dim < 0 || dim > std::numeric_limits<std::uint32_t>::max()) {
      fail(path.string(), fmt::format("cannot write an IDX size of {} (must be 0..{})", dim,
                                      std::numeric_limits<std::uint32_t>::max()));
    }
    const auto value = static_cast<std::uint32_t>(dim);
    for (const int shift : {24, 16, 8, 0})
      header.push_back(static_cast<std::uint8_t>(value >> shift));
  }
  return header;
}

[[noreturn]] void write_failed(const std::filesystem::path& path, int err) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);  // leave no half-written file to be read later
  fail(path.string(), fmt::format("cannot write: {}", err != 0 ? std::strerror(err) : "error"));
}

void write_plain(const std::filesystem::path& path, std::span<const std::uint8_t> header,
                 std::span<const std::uint8_t> data) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    const int err = errno;
    fail(path.string(), fmt::format("cannot open for writing: {}", std::strerror(err)));
  }
  bool ok = std::fwrite(header.data(), 1, header.size(), file) == header.size();
  if (ok && !data.empty()) ok = std::fwrite(data.data(), 1, data.size(), file) == data.size();
  const int write_err = errno;
  const bool closed = std::fclose(file) == 0;  // flushes: a full disk may show only here
  if (!ok) write_failed(path, write_err);
  if (!closed) write_failed(path, errno);
}

void write_gzip(const std::filesystem::path& path, std::span<const std::uint8_t> header,
                std::span<const std::uint8_t> data) {
  errno = 0;
  gzFile file = gzopen(path.c_str(), "wb");
  if (file == nullptr) {
    const int err = errno;
    fail(path.string(),
         fmt::format("cannot open for writing: {}", err != 0 ? std::strerror(err) : "zlib error"));
  }
  bool ok = true;
  for (const auto part : {header, data}) {
    // gzwrite takes an unsigned length and returns an int count, hence the pieces.
    constexpr std::size_t kPiece = std::size_t{1} << 30;
    for (std::size_t at = 0; ok && at < part.size(); at += kPiece) {
      const auto piece = static_cast<unsigned>(std::min(kPiece, part.size() - at));
      ok = gzwrite(file, part.data() + at, piece) == static_cast<int>(piece);
    }
  }
  const int write_err = errno;
  const bool closed = gzclose(file) == Z_OK;
  if (!ok) write_failed(path, write_err);
  if (!closed) write_failed(path, errno);
}

void write_idx(const std::filesystem::path& path, std::span<const std::uint8_t> header,
               std::span<const std::uint8_t> data, bool gzip) {
  if (gzip) {
    write_gzip(path, header, data);
  } else {
    write_plain(path, header, data);
  }
}

}  // namespace

Dataset parse_idx(std::span<const std::uint8_t> images, std::span<const std::uint8_t> labels,
                  std::string_view images_name, std::string_view labels_name) {
  const Header image_header = parse_header(images, images_name, Kind::images);
  const Header label_header = parse_header(labels, labels_name, Kind::labels);
  const std::uint64_t count = image_header.dims[0];
  if (label_header.dims[0] != count) {
    throw Error(fmt::format("{} holds {} images but {} holds {} labels", images_name, count,
                            labels_name, label_header.dims[0]));
  }

  Dataset data;
  data.rows = static_cast<std::int64_t>(count);
  data.features = static_cast<std::int64_t>(image_header.elements / count);
  data.bytes.assign(images.begin() + static_cast<std::ptrdiff_t>(image_header.size), images.end());
  data.task = Task::classification;
  const auto label_bytes = labels.subspan(label_header.size);
  data.labels.assign(label_bytes.begin(), label_bytes.end());
  const std::uint8_t max_label = *std::max_element(label_bytes.begin(), label_bytes.end());
  for (int k = 0; k <= max_label; ++k) data.class_names.push_back(std::to_string(k));
  data.source = std::string(images_name);
  return data;
}

namespace {

// Extra bytes read past the size a header promises, so that a little trailing data is reported
// with its exact count by parse_header.
constexpr std::uint64_t kTrailingSlack = std::uint64_t{1} << 16;

// The file's bytes, read no further than its header promises (plus kTrailingSlack): a gzip file
// whose header claims a few images but that inflates to gigabytes stops at that size, not at
// kMaxIdxFileBytes.
std::vector<std::uint8_t> read_idx_file(const std::filesystem::path& path, Kind kind) {
  constexpr std::size_t kLargestHeader = kMagicBytes + 4 * 3;
  const std::string name = path.string();
  const Header header = parse_header_fields(read_file_head(path, kLargestHeader), name, kind);
  const std::uint64_t promised = header.size + header.elements;
  const std::uint64_t limit =
      promised < kMaxIdxFileBytes - kTrailingSlack ? promised + kTrailingSlack : kMaxIdxFileBytes;
  return read_file_bytes(path, limit);
}

}  // namespace

Dataset read_idx(const std::filesystem::path& images, const std::filesystem::path& labels) {
  const auto image_bytes = read_idx_file(images, Kind::images);
  const auto label_bytes = read_idx_file(labels, Kind::labels);
  return parse_idx(image_bytes, label_bytes, images.string(), labels.string());
}

std::optional<IdxDirectory> find_idx_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  const Pair train = find_pair(dir, "train");
  if (!train.images) return std::nullopt;
  const Pair test = find_pair(dir, "t10k");
  return IdxDirectory{*train.images, *train.labels, test.images, test.labels};
}

std::optional<std::filesystem::path> labels_file_for(const std::filesystem::path& images) {
  std::string name = images.filename().string();
  const bool gz = name.ends_with(".gz");
  if (gz) name.resize(name.size() - 3);
  for (const char separator : {'-', '.'}) {
    const std::string from = fmt::format("images{}idx3-ubyte", separator);
    if (!name.ends_with(from)) continue;
    const std::string stem =
        name.substr(0, name.size() - from.size()) + fmt::format("labels{}idx1-ubyte", separator);
    for (const bool with_gz : {gz, !gz}) {
      auto path = images.parent_path() / (with_gz ? stem + ".gz" : stem);
      if (is_file(path)) return path;
    }
  }
  return std::nullopt;
}

bool looks_like_idx(std::span<const std::uint8_t> head) {
  return head.size() >= kMagicBytes && head[0] == 0 && head[1] == 0 &&
         !type_name(head[2]).empty() && head[3] >= 1 && head[3] <= 3;
}

void write_idx_images(const std::filesystem::path& path, std::int64_t count, std::int64_t rows,
                      std::int64_t cols, std::span<const std::uint8_t> pixels, bool gzip) {
  const std::array<std::int64_t, 3> dims = {count, rows, cols};
  const auto header = make_header(dims, path);  // sizes now known to be uint32
  const std::uint64_t per_image =
      static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols);
  const std::uint64_t n = static_cast<std::uint64_t>(count);
  if (per_image != 0 && n > std::numeric_limits<std::uint64_t>::max() / per_image) {
    fail(path.string(), fmt::format("{} images of {} x {} overflow", count, rows, cols));
  }
  if (pixels.size() != n * per_image) {
    fail(path.string(), fmt::format("{} pixel bytes given for {} images of {} x {} ({} expected)",
                                    pixels.size(), count, rows, cols, n * per_image));
  }
  write_idx(path, header, pixels, gzip);
}

void write_idx_labels(const std::filesystem::path& path, std::span<const std::uint8_t> labels,
                      bool gzip) {
  const std::array<std::int64_t, 1> dims = {static_cast<std::int64_t>(labels.size())};
  write_idx(path, make_header(dims, path), labels, gzip);
}

}  // namespace backprop
