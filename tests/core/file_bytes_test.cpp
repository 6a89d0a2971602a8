// FileStream: a file's bytes in pieces (gunzipped as they stream), the same as read_file_bytes.
// The whole-file reads' own cases (errors, limits, members) are in tests/data/idx_test.cpp.
#include "core/file_bytes.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli_test_util.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;
using testing_support::error_of;

class FileStreamTest : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& bytes) {
    test::write_file(dir_ / name, bytes);
    return dir_ / name;
  }
  // `text` gzipped in two members (what `cat a.gz b.gz` makes), split at `cut`.
  fs::path write_gzip(const std::string& name, const std::string& text, std::size_t cut) {
    const fs::path p = dir_ / name;
    for (const char* mode : {"wb", "ab"}) {
      gzFile f = gzopen(p.c_str(), mode);
      const std::string part = mode[0] == 'w' ? text.substr(0, cut) : text.substr(cut);
      EXPECT_EQ(gzwrite(f, part.data(), static_cast<unsigned>(part.size())),
                static_cast<int>(part.size()));
      gzclose(f);
    }
    return p;
  }
  test::TempDir dir_;
};

// Text of n bytes that compresses poorly enough to take several of the reader's 64 KiB pieces.
std::string text_of(std::size_t n) {
  std::string s(n, ' ');
  std::uint64_t x = 88172645463325252ULL;
  for (char& c : s) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>('a' + x % 26);
  }
  return s;
}

std::string all_of(FileStream& stream, std::size_t piece) {
  std::string out;
  std::vector<char> buffer(piece);
  for (;;) {
    const std::size_t n = stream.read(buffer);
    out.append(buffer.data(), n);
    if (n < piece) return out;
  }
}

TEST_F(FileStreamTest, PiecesAndRestartsGiveTheFileBytes) {
  const std::string text = text_of(300'000);
  for (const fs::path& p : {write("plain", text), write_gzip("two.gz", text, 123'457)}) {
    FileStream stream(p, text.size());
    for (const std::size_t piece : {std::size_t{1} << 20, std::size_t{70'000}, std::size_t{4093}}) {
      FileStream again = stream.restart();
      EXPECT_EQ(all_of(again, piece), text) << p << ", pieces of " << piece;
      std::vector<char> after(10);
      EXPECT_EQ(again.read(after), 0u);  // and nothing after the end
    }
    const std::vector<std::uint8_t> whole = read_file_bytes(p, text.size());
    EXPECT_EQ(std::string(whole.begin(), whole.end()), text);
  }
  EXPECT_EQ(FileStream(dir_ / "plain", text.size()).size_hint(), text.size());
  EXPECT_EQ(FileStream(dir_ / "two.gz", text.size()).size_hint(), 0u);
}

// A stream keeps reading the file it opened when the path is replaced.
TEST_F(FileStreamTest, ARestartReadsTheFileItOpened) {
  const fs::path p = write("f", "first");
  FileStream stream(p, 100);
  fs::remove(p);
  write("f", "second");
  FileStream again = stream.restart();
  EXPECT_EQ(all_of(again, 64), "first");
}

TEST_F(FileStreamTest, LimitsAreCheckedAsAtAWholeRead) {
  const std::string text = text_of(200'000);
  const fs::path plain = write("plain", text);
  EXPECT_EQ(error_of([&] { FileStream(plain, text.size() - 1); }),
            plain.string() + ": is 200000 bytes, larger than the limit of 199999 bytes");
  const fs::path gz = write_gzip("t.gz", text, 5);
  FileStream stream(gz, text.size() - 1);
  EXPECT_EQ(error_of([&] { all_of(stream, 1000); }),
            gz.string() +
                ": decompresses to more than the limit of 199999 bytes (refusing a possible "
                "decompression bomb)");
}

}  // namespace
}  // namespace backprop
