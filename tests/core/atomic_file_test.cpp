#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backprop/error.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

using testing_support::error_of;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = (fs::temp_directory_path() / "backprop-atomic-XXXXXX").string();
    ASSERT_NE(::mkdtemp(name.data()), nullptr);
    dir_ = name;
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(dir_);
  }

  // Entries a write left behind: `.<name>.tmp-<pid>-XXXXXX` files.
  std::vector<std::string> temp_files() const {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const std::string name = entry.path().filename().string();
      if (contains(name, ".tmp-")) found.push_back(name);
    }
    return found;
  }

  fs::path dir_;
};

TEST_F(AtomicFileTest, WritesANewFileWithTheUsualMode) {
  const fs::path path = dir_ / "model.bin";
  const std::string content("hello\0world", 11);
  write_file_atomically(path, content);
  EXPECT_EQ(read_text(path), content);
  // mkstemp's 0600 must not leak through: a new file is as readable as one made by the shell.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(mode_of(path), 0666 & ~mask);
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(AtomicFileTest, ReplacesAFileAndKeepsItsMode) {
  const fs::path path = dir_ / "model.bin";
  write_text(path, "old content that is longer than the new one");
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  write_file_atomically(path, "new");
  EXPECT_EQ(read_text(path), "new");
  EXPECT_EQ(mode_of(path), 0640u);
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(AtomicFileTest, WritesEmptyAndLargeContentExactly) {
  const fs::path path = dir_ / "data.bin";
  write_file_atomically(path, "");
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(fs::file_size(path), 0u);

  std::string big(5'000'003, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 251);
  write_file_atomically(path, big);
  EXPECT_EQ(read_text(path), big);
}

TEST_F(AtomicFileTest, APathWithoutADirectoryMeansTheCurrentOne) {
  const fs::path previous = fs::current_path();
  fs::current_path(dir_);
  EXPECT_NO_THROW(check_writable("plain.bin"));
  EXPECT_NO_THROW(write_file_atomically("plain.bin", "x"));
  fs::current_path(previous);
  EXPECT_EQ(read_text(dir_ / "plain.bin"), "x");
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(AtomicFileTest, AMissingDirectoryIsNamed) {
  const fs::path missing = dir_ / "out";
  const fs::path path = missing / "model.safetensors";
  const std::string expected =
      "cannot write " + path.string() + ": directory '" + missing.string() + "' does not exist";
  EXPECT_EQ(error_of([&] { check_writable(path); }), expected);
  EXPECT_EQ(error_of([&] { write_file_atomically(path, "x"); }), expected);
  EXPECT_FALSE(fs::exists(missing));
}

TEST_F(AtomicFileTest, ADirectoryThatIsAFileIsNamed) {
  write_text(dir_ / "out", "a file, not a directory");
  const fs::path path = dir_ / "out" / "model.bin";
  EXPECT_TRUE(contains(error_of([&] { check_writable(path); }), "is not a directory"));
  EXPECT_TRUE(contains(error_of([&] { write_file_atomically(path, "x"); }), "is not a directory"));
}

TEST_F(AtomicFileTest, ATargetThatIsADirectoryIsRefused) {
  const fs::path path = dir_ / "model.bin";
  fs::create_directory(path);
  write_text(path / "inside", "keep");
  EXPECT_EQ(error_of([&] { check_writable(path); }),
            "cannot write " + path.string() + ": it is a directory");
  EXPECT_EQ(error_of([&] { write_file_atomically(path, "x"); }),
            "cannot write " + path.string() + ": it is a directory");
  EXPECT_EQ(read_text(path / "inside"), "keep");
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(AtomicFileTest, APathEndingInASeparatorIsRefused) {
  const fs::path path = dir_.string() + "/";
  EXPECT_TRUE(contains(error_of([&] { write_file_atomically(path, "x"); }), "names no file"));
}

// Renaming over a fifo or a device would replace it; as root that could be /dev/null.
TEST_F(AtomicFileTest, ATargetThatIsNotARegularFileIsRefused) {
  const fs::path path = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_TRUE(contains(error_of([&] { check_writable(path); }), "not a regular file"));
  EXPECT_TRUE(contains(error_of([&] { write_file_atomically(path, "x"); }), "not a regular file"));
  EXPECT_TRUE(fs::is_fifo(path));
}

// Writing to a link updates the file it leads to (as `cp` and a shell redirection do); the link
// stays a link.
TEST_F(AtomicFileTest, ASymlinkIsFollowedToItsTarget) {
  write_text(dir_ / "real.bin", "real");
  fs::create_symlink("real.bin", dir_ / "link.bin");
  fs::create_directory(dir_ / "sub");
  fs::create_symlink("../link.bin", dir_ / "sub" / "chain.bin");
  write_file_atomically(dir_ / "link.bin", "new");
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.bin"));
  EXPECT_EQ(read_text(dir_ / "real.bin"), "new");
  write_file_atomically(dir_ / "sub" / "chain.bin", "newer");
  EXPECT_TRUE(fs::is_symlink(dir_ / "sub" / "chain.bin"));
  EXPECT_EQ(read_text(dir_ / "real.bin"), "newer");
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(AtomicFileTest, ADanglingSymlinkCreatesItsTarget) {
  fs::create_symlink("made.bin", dir_ / "link.bin");
  write_file_atomically(dir_ / "link.bin", "made");
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.bin"));
  EXPECT_EQ(read_text(dir_ / "made.bin"), "made");
}

// /dev/stdout is a link to the terminal or pipe behind descriptor 1: replacing it by a regular
// file (as root) would break the system for everyone.
TEST_F(AtomicFileTest, ASymlinkToADeviceOrFifoIsRefusedAndKept) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  fs::create_symlink(dir_ / "fifo", dir_ / "out");
  const std::string message = error_of([&] { write_file_atomically(dir_ / "out", "x"); });
  EXPECT_EQ(message, "cannot write " + (dir_ / "out").string() + ": it leads to '" +
                         (dir_ / "fifo").string() +
                         "', which is not a regular file; name a regular file (standard output "
                         "is '-' where a command accepts it)");
  EXPECT_TRUE(fs::is_symlink(dir_ / "out"));
  EXPECT_TRUE(fs::is_fifo(dir_ / "fifo"));
  fs::create_symlink("/dev/null", dir_ / "null");
  EXPECT_TRUE(contains(error_of([&] { check_writable(dir_ / "null"); }), "not a regular file"));
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(AtomicFileTest, ASymlinkLoopIsRefused) {
  fs::create_symlink("b", dir_ / "a");
  fs::create_symlink("a", dir_ / "b");
  EXPECT_EQ(error_of([&] { write_file_atomically(dir_ / "a", "x"); }),
            "cannot write " + (dir_ / "a").string() +
                ": more than 40 levels of symbolic links (a loop?)");
}

// A name of 255 bytes is legal; the temporary file's suffix must not push it over NAME_MAX.
TEST_F(AtomicFileTest, ATargetNameOfTheLongestLegalLengthWorks) {
  const fs::path path = dir_ / std::string(255, 'm');
  write_file_atomically(path, "long");
  EXPECT_EQ(read_text(path), "long");
  EXPECT_NO_THROW(check_writable(path));
  EXPECT_TRUE(temp_files().empty());
}

// A writer killed during its write leaves its temporary file; the next write to the same target
// removes it. Files of live processes and other names are kept.
TEST_F(AtomicFileTest, TempFilesOfDeadWritersAreRemovedByTheNextWrite) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);  // `child` is now a pid nobody has
  const std::string dead = ".model.bin.tmp-" + std::to_string(child) + "-AbC123";
  const std::string alive = ".model.bin.tmp-" + std::to_string(::getppid()) + "-XyZ789";
  const std::string other_target = ".other.bin.tmp-" + std::to_string(child) + "-AbC123";
  const std::string not_ours = ".model.bin.tmp-notapid";
  for (const auto& name : {dead, alive, other_target, not_ours}) write_text(dir_ / name, "left");
  write_file_atomically(dir_ / "model.bin", "model");
  EXPECT_FALSE(fs::exists(dir_ / dead));
  EXPECT_TRUE(fs::exists(dir_ / alive));
  EXPECT_TRUE(fs::exists(dir_ / other_target));
  EXPECT_TRUE(fs::exists(dir_ / not_ours));
  EXPECT_EQ(read_text(dir_ / "model.bin"), "model");
}

TEST_F(AtomicFileTest, AReadOnlyDirectoryIsReportedAndTheOldFileKept) {
  const fs::path path = dir_ / "model.bin";
  write_text(path, "previous");
  ASSERT_EQ(::chmod(dir_.c_str(), 0500), 0);
  // Root (or CAP_DAC_OVERRIDE) writes regardless of permissions: probe rather than guess.
  const fs::path probe = dir_ / "probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    ::close(fd);
    ::unlink(probe.c_str());
    GTEST_SKIP() << "running with permission to override file modes (root?), so a read-only "
                    "directory does not stop writes";
  }
  const std::string expected_part =
      "cannot create a file in directory '" + dir_.string() + "': Permission denied";
  EXPECT_TRUE(contains(error_of([&] { check_writable(path); }), expected_part));
  EXPECT_TRUE(contains(error_of([&] { write_file_atomically(path, "new"); }), expected_part));
  EXPECT_EQ(read_text(path), "previous");
  EXPECT_TRUE(temp_files().empty());
}

// RLIMIT_FSIZE makes write() fail part way (EFBIG) even for root, which is as close to a full
// disk as a test can get without mounting a file system: the first write is cut short, the next
// one fails.
TEST_F(AtomicFileTest, AWriteThatFailsPartWayKeepsTheOldFileAndLeavesNoTempFile) {
  const fs::path path = dir_ / "model.bin";
  write_text(path, "previous model");

  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit small = saved;
  small.rlim_cur = 4096;
  // Without this, exceeding the limit kills the process with SIGXFSZ instead of failing write().
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::string message =
      error_of([&] { write_file_atomically(path, std::string(100'000, 'x')); });
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_EQ(message, "cannot write " + path.string() + ": File too large");
  EXPECT_EQ(read_text(path), "previous model");
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(AtomicFileTest, CheckWritableLeavesNothingBehind) {
  const fs::path path = dir_ / "model.bin";
  EXPECT_NO_THROW(check_writable(path));
  EXPECT_TRUE(fs::is_empty(dir_));

  write_text(path, "existing");
  EXPECT_NO_THROW(check_writable(path));
  EXPECT_EQ(read_text(path), "existing");
  EXPECT_TRUE(temp_files().empty());
}

}  // namespace
}  // namespace backprop
