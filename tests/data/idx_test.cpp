#include "backprop/idx.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <random>
#include <string>

#include <vector>

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "backprop/error.hpp"
#include "core/file_bytes.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

// Each test gets a fresh directory of its own, removed afterwards.
class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("backprop_idx_test_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter++) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  fs::path path(const std::string& name) const { return dir_ / name; }

  fs::path dir_;
};

void write_bytes(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

Bytes file_contents(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void touch(const fs::path& path) { write_bytes(path, Bytes{0}); }

// An IDX file: magic 00 00 <type> <dims.size()>, big-endian sizes, then `data_bytes` bytes.
Bytes idx_file(std::initializer_list<std::uint32_t> dims, std::size_t data_bytes,
               std::uint8_t type = 0x08) {
  Bytes out = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t d : dims) {
    for (const int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::uint8_t>(d >> shift));
  }
  for (std::size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<std::uint8_t>(i * 7));
  return out;
}

// The message parse_idx throws for these contents, or "" if it does not throw.
std::string parse_error(const Bytes& images, const Bytes& labels) {
  try {
    parse_idx(images, labels, "imgs", "lbls");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

using testing_support::error_of;

// gtest without gmock: a substring check whose failure shows both strings.
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\"\n  does not contain\n\"" << part << "\"";
}

Bytes pattern(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

// --- round trips ---------------------------------------------------------------------------

void expect_round_trip(const fs::path& images, const fs::path& labels, bool gzip) {
  constexpr std::int64_t kCount = 7, kRows = 3, kCols = 5;
  const Bytes pixels = pattern(kCount * kRows * kCols, 1);
  const Bytes classes = {0, 3, 1, 2, 3, 0, 1};
  write_idx_images(images, kCount, kRows, kCols, pixels, gzip);
  write_idx_labels(labels, classes, gzip);

  const bool is_gzip = file_contents(images).at(0) == 0x1f && file_contents(labels).at(0) == 0x1f;
  EXPECT_EQ(is_gzip, gzip);

  const Dataset data = read_idx(images, labels);
  EXPECT_EQ(data.rows, kCount);
  EXPECT_EQ(data.features, kRows * kCols);
  EXPECT_TRUE(data.is_bytes());
  EXPECT_EQ(data.task, Task::classification);
  ASSERT_EQ(data.bytes.size(), pixels.size());
  for (std::int64_t i = 0; i < kCount; ++i) {
    for (std::int64_t j = 0; j < kRows * kCols; ++j) {
      EXPECT_EQ(data.raw(i, j), pixels[static_cast<std::size_t>(i * kRows * kCols + j)])
          << i << "," << j;
    }
  }
  ASSERT_EQ(data.labels.size(), classes.size());
  for (std::size_t i = 0; i < classes.size(); ++i) EXPECT_EQ(data.labels[i], classes[i]) << i;
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(data.num_classes(), 4);
  EXPECT_TRUE(data.feature_names.empty());
}

TEST_F(IdxTest, RoundTripPlain) {
  expect_round_trip(path("a-images-idx3-ubyte"), path("a-labels-idx1-ubyte"), false);
}

TEST_F(IdxTest, RoundTripGzip) {
  expect_round_trip(path("a-images-idx3-ubyte.gz"), path("a-labels-idx1-ubyte.gz"), true);
}

TEST_F(IdxTest, WrittenHeaderIsTheStandardLayout) {
  write_idx_images(path("i"), 2, 3, 4, pattern(24, 2));
  const Bytes bytes = file_contents(path("i"));
  ASSERT_EQ(bytes.size(), 16u + 24u);
  EXPECT_EQ(Bytes(bytes.begin(), bytes.begin() + 16),
            (Bytes{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4}));
  write_idx_labels(path("l"), Bytes{9, 8});
  EXPECT_EQ(file_contents(path("l")), (Bytes{0, 0, 8, 1, 0, 0, 0, 2, 9, 8}));
}

TEST_F(IdxTest, TwoDimensionalImagesAreRowsOfFeatures) {
  const Dataset data = parse_idx(idx_file({3, 10}, 30), idx_file({3}, 3), "i", "l");
  EXPECT_EQ(data.rows, 3);
  EXPECT_EQ(data.features, 10);
}

TEST_F(IdxTest, ClassNamesRunToTheLargestLabel) {
  Bytes labels = idx_file({3}, 0);
  labels.insert(labels.end(), {5, 0, 2});
  const Dataset data = parse_idx(idx_file({3, 2, 2}, 12), labels, "i", "l");
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"0", "1", "2", "3", "4", "5"}));
  EXPECT_EQ(data.labels, (std::vector<std::int32_t>{5, 0, 2}));
}

TEST_F(IdxTest, LargestByteLabelGives256Classes) {
  Bytes labels = idx_file({2}, 0);
  labels.insert(labels.end(), {255, 0});
  const Dataset data = parse_idx(idx_file({2, 1}, 2), labels, "i", "l");
  EXPECT_EQ(data.num_classes(), 256);
  EXPECT_EQ(data.class_names.back(), "255");
  EXPECT_EQ(data.labels[0], 255);
}

// --- malformed IDX -------------------------------------------------------------------------

TEST_F(IdxTest, LabelFileGivenAsImagesIsBadMagic) {
  const std::string message = parse_error(idx_file({4}, 4), idx_file({4}, 4));
  EXPECT_TRUE(Contains(message, "imgs: bad magic number 0x00000801 (expected 0x00000803"));
  EXPECT_TRUE(Contains(message, "looks like a label file"));
}

TEST_F(IdxTest, ImageFileGivenAsLabelsIsBadMagic) {
  const std::string message = parse_error(idx_file({4, 2, 2}, 16), idx_file({4, 2, 2}, 16));
  EXPECT_TRUE(Contains(message,
                       "lbls: bad magic number 0x00000803 (expected 0x00000801 for a "
                       "label file)"));
}

TEST_F(IdxTest, NonIdxFileIsBadMagic) {
  const Bytes csv = {'1', ',', '2', '\n', '3', ',', '4', '\n'};
  EXPECT_TRUE(Contains(parse_error(csv, idx_file({1}, 1)),
                       "imgs: bad magic number 0x312c320a (expected 0x00000803"));
  EXPECT_TRUE(Contains(parse_error(idx_file({1, 1, 1}, 1), csv),
                       "lbls: bad magic number 0x312c320a (expected 0x00000801"));
}

TEST_F(IdxTest, WrongTypeByteIsNamed) {
  const std::string message = parse_error(idx_file({2, 2, 2}, 32, 0x0D), idx_file({2}, 2));
  EXPECT_TRUE(Contains(message, "imgs: IDX element type 0x0d (float32) is not supported"));
  EXPECT_TRUE(Contains(message, "expected 0x08"));
  EXPECT_TRUE(Contains(parse_error(idx_file({2, 2, 2}, 8), idx_file({2}, 2, 0x42)),
                       "lbls: IDX element type 0x42 (not an IDX type)"));
}

TEST_F(IdxTest, WrongDimensionCount) {
  EXPECT_TRUE(Contains(parse_error(idx_file({1, 2, 2, 2}, 8), idx_file({1}, 1)),
                       "imgs: bad magic number 0x00000804 (expected 0x00000803"));
  EXPECT_TRUE(Contains(parse_error(idx_file({1, 4}, 4), idx_file({1, 1}, 1)),
                       "lbls: bad magic number 0x00000802 (expected 0x00000801"));
}

TEST_F(IdxTest, TruncatedImages) {
  EXPECT_TRUE(Contains(parse_error(idx_file({3, 2, 5}, 29), idx_file({3}, 3)),
                       "imgs: truncated: 3 images of 2 x 5 need 30 data bytes after the 16-byte "
                       "header (46 bytes in all), found 29 (45 in all)"));
}

TEST_F(IdxTest, TrailingBytesAfterImages) {
  EXPECT_TRUE(Contains(parse_error(idx_file({3, 2, 5}, 32), idx_file({3}, 3)),
                       "imgs: 2 unexpected bytes after the data: 3 images of 2 x 5 need 30 data "
                       "bytes after the 16-byte header (46 bytes in all), found 32 (48 in all)"));
}

TEST_F(IdxTest, TruncatedLabels) {
  EXPECT_TRUE(Contains(parse_error(idx_file({3, 2, 5}, 30), idx_file({3}, 1)),
                       "lbls: truncated: 3 labels need 3 data bytes after the 8-byte header (11 "
                       "bytes in all), found 1 (9 in all)"));
}

TEST_F(IdxTest, TrailingBytesAfterLabels) {
  EXPECT_TRUE(Contains(parse_error(idx_file({3, 2, 5}, 30), idx_file({3}, 4)),
                       "lbls: 1 unexpected bytes after the data: 3 labels need 3"));
}

TEST_F(IdxTest, CountMismatchNamesBothCounts) {
  EXPECT_EQ(parse_error(idx_file({3, 2, 5}, 30), idx_file({4}, 4)),
            "imgs holds 3 images but lbls holds 4 labels");
}

TEST_F(IdxTest, EmptyFile) {
  EXPECT_TRUE(Contains(parse_error(Bytes{}, idx_file({1}, 1)),
                       "imgs: empty file (expected an IDX image file)"));
  EXPECT_TRUE(Contains(parse_error(idx_file({1, 1, 1}, 1), Bytes{}),
                       "lbls: empty file (expected an IDX label file)"));
}

TEST_F(IdxTest, HeaderShorterThanMagic) {
  EXPECT_TRUE(Contains(parse_error(Bytes{0, 0, 8}, idx_file({1}, 1)),
                       "imgs: only 3 bytes, too short for the 4-byte IDX magic number"));
}

TEST_F(IdxTest, HeaderShorterThanItsDimensions) {
  Bytes images = idx_file({60000, 28, 28}, 0);
  images.resize(10);
  EXPECT_TRUE(Contains(parse_error(images, idx_file({1}, 1)),
                       "imgs: header truncated: 3 dimensions need a 16-byte header, found 10 "
                       "bytes"));
}

TEST_F(IdxTest, DimensionProductOverflow) {
  const std::string message =
      parse_error(idx_file({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, 0), idx_file({1}, 1));
  EXPECT_TRUE(Contains(message,
                       "imgs: sizes 4294967295 x 4294967295 x 4294967295 overflow: their product "
                       "exceeds 9223372036854775807 bytes"));
  // Two sizes fit uint64 but not the int64 that Dataset indexes with.
  EXPECT_TRUE(Contains(parse_error(idx_file({0xFFFFFFFF, 0xFFFFFFFF}, 0), idx_file({1}, 1)),
                       "imgs: sizes 4294967295 x 4294967295 overflow"));
}

TEST_F(IdxTest, ZeroImages) {
  EXPECT_TRUE(
      Contains(parse_error(idx_file({0, 28, 28}, 0), idx_file({0}, 0)), "imgs: holds 0 images"));
}

TEST_F(IdxTest, ZeroSizedImages) {
  EXPECT_TRUE(Contains(parse_error(idx_file({2, 28, 0}, 0), idx_file({2}, 2)),
                       "imgs: 2 images of 28 x 0 have no pixels"));
}

TEST_F(IdxTest, ReadIdxNamesThePath) {
  write_bytes(path("x-images-idx3-ubyte"), idx_file({2, 2, 2}, 7));
  write_idx_labels(path("x-labels-idx1-ubyte"), Bytes{0, 1});
  const std::string message =
      error_of([&] { read_idx(path("x-images-idx3-ubyte"), path("x-labels-idx1-ubyte")); });
  EXPECT_TRUE(Contains(message, path("x-images-idx3-ubyte").string() + ": truncated"));
}

TEST_F(IdxTest, ReadIdxMissingLabels) {
  write_idx_images(path("i"), 1, 1, 1, Bytes{1});
  EXPECT_EQ(error_of([&] { read_idx(path("i"), path("nope")); }),
            path("nope").string() + ": cannot open: No such file or directory");
}

// --- looks_like_idx ------------------------------------------------------------------------

TEST_F(IdxTest, LooksLikeIdx) {
  EXPECT_TRUE(looks_like_idx(Bytes{0, 0, 8, 3}));
  EXPECT_TRUE(looks_like_idx(Bytes{0, 0, 8, 1, 0, 0}));
  EXPECT_TRUE(looks_like_idx(Bytes{0, 0, 0x0D, 2}));  // refused later, with a reason
  EXPECT_FALSE(looks_like_idx(Bytes{0, 0, 8}));
  EXPECT_FALSE(looks_like_idx(Bytes{}));
  EXPECT_FALSE(looks_like_idx(Bytes{0, 0, 8, 0}));
  EXPECT_FALSE(looks_like_idx(Bytes{0, 0, 8, 4}));
  EXPECT_FALSE(looks_like_idx(Bytes{0, 0, 0x42, 3}));
  EXPECT_FALSE(looks_like_idx(Bytes{0, 1, 8, 3}));
  EXPECT_FALSE(looks_like_idx(Bytes{'p', 'x', '0', ','}));
}

// --- directories and companion files -------------------------------------------------------

TEST_F(IdxTest, DirectoryWithTrainOnly) {
  touch(path("train-images-idx3-ubyte"));
  touch(path("train-labels-idx1-ubyte"));
  const auto found = find_idx_directory(dir_);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->train_images, path("train-images-idx3-ubyte"));
  EXPECT_EQ(found->train_labels, path("train-labels-idx1-ubyte"));
  EXPECT_FALSE(found->test_images.has_value());
  EXPECT_FALSE(found->test_labels.has_value());
}

TEST_F(IdxTest, FashionMnistGzipDirectory) {
  for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    touch(path(name));
  }
  const auto found = find_idx_directory(dir_);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->train_images, path("train-images-idx3-ubyte.gz"));
  EXPECT_EQ(found->train_labels, path("train-labels-idx1-ubyte.gz"));
  EXPECT_EQ(found->test_images, path("t10k-images-idx3-ubyte.gz"));
  EXPECT_EQ(found->test_labels, path("t10k-labels-idx1-ubyte.gz"));
}

TEST_F(IdxTest, PlainPreferredOverGzip) {
  for (const char* name :
       {"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    touch(path(name));
  }
  const auto found = find_idx_directory(dir_);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->train_images, path("train-images-idx3-ubyte"));
  EXPECT_EQ(found->train_labels, path("train-labels-idx1-ubyte.gz"));
  EXPECT_EQ(found->test_images, path("t10k-images-idx3-ubyte"));
  EXPECT_EQ(found->test_labels, path("t10k-labels-idx1-ubyte.gz"));
}

TEST_F(IdxTest, DotSpellingOfSomeMirrors) {
  touch(path("train-images.idx3-ubyte"));
  touch(path("train-labels.idx1-ubyte"));
  const auto found = find_idx_directory(dir_);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->train_images, path("train-images.idx3-ubyte"));
  EXPECT_EQ(found->train_labels, path("train-labels.idx1-ubyte"));
}

TEST_F(IdxTest, NotAnIdxDirectory) {
  EXPECT_FALSE(find_idx_directory(dir_).has_value());  // empty
  touch(path("data.csv"));
  touch(path("t10k-images-idx3-ubyte"));
  touch(path("t10k-labels-idx1-ubyte"));
  EXPECT_FALSE(find_idx_directory(dir_).has_value());  // no training set
  EXPECT_FALSE(find_idx_directory(path("data.csv")).has_value());
  EXPECT_FALSE(find_idx_directory(path("missing")).has_value());
}

TEST_F(IdxTest, HalfAPairIsAnError) {
  touch(path("train-images-idx3-ubyte.gz"));
  EXPECT_EQ(
      error_of([&] { find_idx_directory(dir_); }),
      dir_.string() +
          ": has train-images-idx3-ubyte.gz but no train-labels-idx1-ubyte[.gz] to go with it");
  touch(path("train-labels-idx1-ubyte.gz"));
  touch(path("t10k-labels-idx1-ubyte"));
  EXPECT_EQ(error_of([&] { find_idx_directory(dir_); }),
            dir_.string() +
                ": has t10k-labels-idx1-ubyte but no t10k-images-idx3-ubyte[.gz] to go with it");
}

TEST_F(IdxTest, LabelsFileForImagesFile) {
  touch(path("fashion-images-idx3-ubyte"));
  EXPECT_FALSE(labels_file_for(path("fashion-images-idx3-ubyte")).has_value());  // none yet
  touch(path("fashion-labels-idx1-ubyte.gz"));
  EXPECT_EQ(labels_file_for(path("fashion-images-idx3-ubyte")),
            path("fashion-labels-idx1-ubyte.gz"));
  touch(path("fashion-labels-idx1-ubyte"));
  EXPECT_EQ(labels_file_for(path("fashion-images-idx3-ubyte")), path("fashion-labels-idx1-ubyte"));
  EXPECT_EQ(labels_file_for(path("fashion-images-idx3-ubyte.gz")),
            path("fashion-labels-idx1-ubyte.gz"));  // same compression first
  touch(path("train-labels.idx1-ubyte"));
  EXPECT_EQ(labels_file_for(path("train-images.idx3-ubyte")), path("train-labels.idx1-ubyte"));
  EXPECT_FALSE(labels_file_for(path("fashion-labels-idx1-ubyte")).has_value());
  EXPECT_FALSE(labels_file_for(path("pictures.bin")).has_value());
}

// --- read_file_bytes -----------------------------------------------------------------------

TEST_F(IdxTest, ReadsPlainFile) {
  const Bytes content = pattern(200000, 3);  // several read chunks
  write_bytes(path("f"), content);
  EXPECT_EQ(read_file_bytes(path("f"), content.size()), content);
}

TEST_F(IdxTest, ReadsGzipFileTransparently) {
  const Bytes labels = pattern(300000, 4);
  write_idx_labels(path("l.gz"), labels, true);
  const Bytes raw = file_contents(path("l.gz"));
  ASSERT_GE(raw.size(), 2u);
  ASSERT_EQ(raw[0], 0x1f);
  ASSERT_EQ(raw[1], 0x8b);
  const Bytes read = read_file_bytes(path("l.gz"), 1u << 20);
  ASSERT_EQ(read.size(), labels.size() + 8);
  EXPECT_EQ(Bytes(read.begin() + 8, read.end()), labels);
}

TEST_F(IdxTest, ReadsConcatenatedGzipMembers) {
  write_idx_labels(path("a.gz"), Bytes{1, 2, 3}, true);
  write_idx_labels(path("b.gz"), Bytes{4}, true);
  Bytes joined = file_contents(path("a.gz"));
  const Bytes second = file_contents(path("b.gz"));
  joined.insert(joined.end(), second.begin(), second.end());
  write_bytes(path("ab.gz"), joined);
  EXPECT_EQ(read_file_bytes(path("ab.gz"), 100),
            (Bytes{0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3, 0, 0, 8, 1, 0, 0, 0, 1, 4}));
}

TEST_F(IdxTest, MissingFile) {
  EXPECT_EQ(error_of([&] { read_file_bytes(path("x.idx"), 10); }),
            path("x.idx").string() + ": cannot open: No such file or directory");
}

TEST_F(IdxTest, DirectoryIsNotAFile) {
  EXPECT_EQ(error_of([&] { read_file_bytes(dir_, 10); }),
            dir_.string() + ": is a directory, not a file");
}

// A fifo would block the open until a writer came; it is refused at once, for a head read too.
TEST_F(IdxTest, FifoIsRefusedWithoutWaiting) {
  const fs::path fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { read_file_bytes(fifo, 10); }),
            fifo.string() + ": is not a regular file");
  EXPECT_EQ(error_of([&] { read_file_head(fifo, 4); }), fifo.string() + ": is not a regular file");
}

// Gzip::never reads a file that starts with the gzip magic as the bytes it holds.
TEST_F(IdxTest, GzipNeverReadsTheBytesAsTheyAre) {
  write_idx_labels(path("l.gz"), Bytes{1, 2, 3}, true);
  const Bytes raw = file_contents(path("l.gz"));
  ASSERT_GE(raw.size(), 2u);
  ASSERT_EQ(raw[0], 0x1f);
  EXPECT_EQ(read_file_bytes(path("l.gz"), 1u << 20, Gzip::never), raw);
  EXPECT_EQ(error_of([&] { read_file_bytes(path("l.gz"), raw.size() - 1, Gzip::never); }),
            path("l.gz").string() + ": is " + std::to_string(raw.size()) +
                " bytes, larger than the limit of " + std::to_string(raw.size() - 1) + " bytes");
}

TEST_F(IdxTest, PlainFileOverTheCap) {
  write_bytes(path("f"), Bytes(1000, 1));
  EXPECT_EQ(read_file_bytes(path("f"), 1000).size(), 1000u);
  EXPECT_EQ(error_of([&] { read_file_bytes(path("f"), 999); }),
            path("f").string() + ": is 1000 bytes, larger than the limit of 999 bytes");
}

TEST_F(IdxTest, GzipOverTheCapIsRefused) {
  // 4 MB of zeros compress to a few kilobytes: a miniature decompression bomb.
  write_idx_labels(path("bomb.gz"), Bytes(4'000'000, 0), true);
  ASSERT_LT(fs::file_size(path("bomb.gz")), 100'000u);
  EXPECT_EQ(read_file_bytes(path("bomb.gz"), 4'000'008).size(), 4'000'008u);
  EXPECT_EQ(error_of([&] { read_file_bytes(path("bomb.gz"), 4'000'007); }),
            path("bomb.gz").string() +
                ": decompresses to more than the limit of 4000007 bytes (refusing a possible "
                "decompression bomb)");
}

TEST_F(IdxTest, GzipInflatingPastItsHeadersPromiseStopsThere) {
  // The header promises 3 labels, the stream inflates to 4 MB: the read stops 64 KiB past the
  // promise instead of inflating up to the 4 GiB cap.
  write_idx_images(path("i"), 3, 2, 2, pattern(12, 1), false);
  Bytes labels = {0, 0, 8, 1, 0, 0, 0, 3};
  labels.resize(4'000'008, 0);
  gzFile gz = gzopen(path("l.gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, labels.data(), static_cast<unsigned>(labels.size())),
            static_cast<int>(labels.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
  ASSERT_LT(fs::file_size(path("l.gz")), 100'000u);
  EXPECT_EQ(error_of([&] { read_idx(path("i"), path("l.gz")); }),
            path("l.gz").string() +
                ": decompresses to more than the limit of 65547 bytes (refusing a possible "
                "decompression bomb)");
}

TEST_F(IdxTest, TrailingBytesWithinTheSlackAreCountedExactly) {
  write_idx_images(path("i"), 3, 2, 2, pattern(12, 1), true);
  Bytes labels = {0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2, 9, 9};
  write_bytes(path("l"), labels);
  EXPECT_EQ(error_of([&] { read_idx(path("i"), path("l")); }),
            path("l").string() +
                ": 2 unexpected bytes after the data: 3 labels need 3 data bytes after the 8-byte "
                "header (11 bytes in all), found 5 (13 in all)");
}

TEST_F(IdxTest, TruncatedGzip) {
  write_idx_labels(path("l.gz"), pattern(5000, 5), true);
  Bytes gz = file_contents(path("l.gz"));
  for (const std::size_t keep : {gz.size() - 1, gz.size() - 8, gz.size() / 2, std::size_t{2}}) {
    write_bytes(path("cut.gz"), Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(keep)));
    EXPECT_EQ(error_of([&] { read_file_bytes(path("cut.gz"), 1u << 20); }),
              path("cut.gz").string() + ": not a valid gzip stream (truncated)")
        << "keeping " << keep << " of " << gz.size() << " bytes";
  }
}

TEST_F(IdxTest, CorruptGzipChecksum) {
  write_idx_labels(path("l.gz"), pattern(5000, 6), true);
  Bytes gz = file_contents(path("l.gz"));
  gz[gz.size() - 8] ^= 0xFF;  // the CRC-32 of the trailer
  write_bytes(path("bad.gz"), gz);
  EXPECT_EQ(error_of([&] { read_file_bytes(path("bad.gz"), 1u << 20); }),
            path("bad.gz").string() + ": not a valid gzip stream (incorrect data check)");
}

TEST_F(IdxTest, CorruptGzipHeader) {
  write_idx_labels(path("l.gz"), pattern(100, 7), true);
  Bytes gz = file_contents(path("l.gz"));
  gz[2] = 7;  // compression method: only 8 (deflate) exists
  write_bytes(path("bad.gz"), gz);
  EXPECT_TRUE(Contains(error_of([&] { read_file_bytes(path("bad.gz"), 1u << 20); }),
                       path("bad.gz").string() + ": not a valid gzip stream ("));
}

TEST_F(IdxTest, GarbageAfterGzip) {
  write_idx_labels(path("l.gz"), pattern(100, 8), true);
  Bytes gz = file_contents(path("l.gz"));
  gz.insert(gz.end(), {'j', 'u', 'n', 'k'});
  write_bytes(path("junk.gz"), gz);
  EXPECT_EQ(error_of([&] { read_file_bytes(path("junk.gz"), 1u << 20); }),
            path("junk.gz").string() +
                ": not a valid gzip stream (unexpected data after the end of the compressed data)");
}

TEST_F(IdxTest, ReadFileHead) {
  write_idx_images(path("i.gz"), 50, 28, 28, Bytes(50 * 28 * 28, 9), true);
  EXPECT_EQ(read_file_head(path("i.gz"), 4), (Bytes{0, 0, 8, 3}));
  write_bytes(path("short"), Bytes{1, 2});
  EXPECT_EQ(read_file_head(path("short"), 4), (Bytes{1, 2}));
  EXPECT_EQ(read_file_head(path("short"), 0), Bytes{});
}

// --- writers -------------------------------------------------------------------------------

TEST_F(IdxTest, WriterChecksPixelCount) {
  EXPECT_EQ(error_of([&] { write_idx_images(path("i"), 2, 2, 2, Bytes(7, 0)); }),
            path("i").string() + ": 7 pixel bytes given for 2 images of 2 x 2 (8 expected)");
  EXPECT_FALSE(fs::exists(path("i")));
  EXPECT_TRUE(
      Contains(error_of([&] { write_idx_images(path("i"), 1, 1, std::int64_t{1} << 32, {}); }),
               "cannot write an IDX size of 4294967296"));
}

TEST_F(IdxTest, WriterNamesUnwritablePath) {
  for (const bool gzip : {false, true}) {
    const fs::path target = path("no-such-dir") / "l";
    EXPECT_EQ(error_of([&] { write_idx_labels(target, Bytes{1}, gzip); }),
              target.string() + ": cannot open for writing: No such file or directory")
        << "gzip " << gzip;
  }
}

}  // namespace
}  // namespace backprop
