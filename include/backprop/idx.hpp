#pragma once
// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
//
//   offset 0  two zero bytes
//          2  element type: 0x08 unsigned byte (the only one accepted here), 0x09 signed byte,
//             0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
//          3  number of dimensions d
//          4  d sizes, each a big-endian uint32
//   4 + 4d    the elements, row-major, nothing after them
//
// So an image file starts 00 00 08 03 (N, rows, cols) and a label file 00 00 08 01 (N).
// Images with 2 dimensions (N, features) are accepted too. Files may be gzipped.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>

#include "backprop/dataset.hpp"

namespace backprop {

// A data set from the contents of an image file and a label file. The names are only for
// messages. Each image becomes one row of rows*cols bytes; class_names are "0".."max label".
// Throws Error naming the file and what was expected vs found: bad magic, unsupported type,
// wrong number of dimensions, too few or too many data bytes, sizes whose product overflows,
// zero images or zero features, and image and label counts that differ.
Dataset parse_idx(std::span<const std::uint8_t> images, std::span<const std::uint8_t> labels,
                  std::string_view images_name, std::string_view labels_name);

// Reads (gunzipping if need be) and parses an image file and its label file.
Dataset read_idx(const std::filesystem::path& images, const std::filesystem::path& labels);

// Larger files are refused before or while they are read; a 4 GiB image file is ~5 million
// MNIST-sized images, far beyond what this library is meant to train on in memory.
inline constexpr std::uint64_t kMaxIdxFileBytes = std::uint64_t{4} << 30;

// The files of an MNIST-style directory.
struct IdxDirectory {
  std::filesystem::path train_images, train_labels;
  std::optional<std::filesystem::path> test_images, test_labels;  // both or neither
};

// `dir` as an IDX data source: it must hold train-images-idx3-ubyte and train-labels-idx1-ubyte,
// and may hold t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte. Each name may end in .gz and
// may use the '.' spelling of some mirrors (train-images.idx3-ubyte); the plain file is
// preferred when both exist. nullopt if `dir` is not a directory or has no train images.
// Throws Error when only half of a pair is present (images without labels or vice versa),
// since silently training without the test set or failing later would both mislead.
std::optional<IdxDirectory> find_idx_directory(const std::filesystem::path& dir);

// The label file that goes with an image file: `<prefix>-images-idx3-ubyte[.gz]` maps to
// `<prefix>-labels-idx1-ubyte`, with or without .gz (same compression preferred), also in the
// '.' spelling. nullopt if the name does not follow the pattern or no such file exists.
std::optional<std::filesystem::path> labels_file_for(const std::filesystem::path& images);

// Whether the first bytes of a (decompressed) file look like IDX rather than text: two zero
// bytes, a known IDX type code and 1 to 3 dimensions. Other type codes than 0x08 are still
// "IDX" here so that parse_idx can say why they are refused instead of a CSV parser failing.
bool looks_like_idx(std::span<const std::uint8_t> head);

// Writers for tests and generated data. Sizes must fit the format's uint32 and pixels must
// hold exactly count*rows*cols bytes. With gzip the file is gzip-compressed (give it a .gz
// name). Throws Error naming the path if the file cannot be written.
void write_idx_images(const std::filesystem::path& path, std::int64_t count, std::int64_t rows,
                      std::int64_t cols, std::span<const std::uint8_t> pixels, bool gzip = false);
void write_idx_labels(const std::filesystem::path& path, std::span<const std::uint8_t> labels,
                      bool gzip = false);

}  // namespace backprop
