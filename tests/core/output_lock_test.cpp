// Output locks: a second lock on the same output is refused with the holder named, the lock
// files go away on release, and links lead to the same lock as their target.
#include "core/output_lock.hpp"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "backprop/error.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;
using testing_support::error_of;

class OutputLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = (fs::temp_directory_path() / "backprop-lock-XXXXXX").string();
    ASSERT_NE(::mkdtemp(name.data()), nullptr);
    dir_ = name;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(OutputLockTest, ASecondRunOnTheSameOutputIsRefusedWithTheHolderNamed) {
  const fs::path model = dir_ / "model.safetensors";
  const OutputLock first({model, dir_ / "metrics.jsonl"}, "backprop train -o model.safetensors");
  EXPECT_TRUE(fs::exists(dir_ / ".model.safetensors.lock"));
  EXPECT_EQ(error_of([&] {
              OutputLock second({dir_ / "other", model}, "backprop train");
            }),
            model.string() + " is being written by another run (pid " + std::to_string(::getpid()) +
                ": backprop train -o model.safetensors); wait for it to finish, or choose "
                "another output path");
  // The refused run released what it had locked before the clash.
  EXPECT_FALSE(fs::exists(dir_ / ".other.lock"));
  EXPECT_NO_THROW(OutputLock third({dir_ / "other"}, "x"));
}

TEST_F(OutputLockTest, ReleasingRemovesTheLockFilesAndFreesTheOutputs) {
  const fs::path model = dir_ / "model.safetensors";
  { const OutputLock lock({model}, "first"); }
  EXPECT_FALSE(fs::exists(dir_ / ".model.safetensors.lock"));
  EXPECT_NO_THROW(OutputLock again({model}, "second"));
}

TEST_F(OutputLockTest, ALinkAndItsTargetShareOneLock) {
  fs::create_symlink("model.safetensors", dir_ / "link");
  const OutputLock lock({dir_ / "model.safetensors"}, "holder");
  EXPECT_EQ(lock_file_for(dir_ / "link"), lock_file_for(dir_ / "model.safetensors"));
  EXPECT_NE(error_of([&] { OutputLock second({dir_ / "link"}, "x"); }), "");
}

TEST_F(OutputLockTest, TheSamePathTwiceInOneLockIsOneLock) {
  EXPECT_NO_THROW(OutputLock lock({dir_ / "m", dir_ / "m"}, "x"));
}

TEST_F(OutputLockTest, AnUnwritableDirectoryIsNamed) {
  EXPECT_EQ(error_of([&] { OutputLock lock({dir_ / "missing" / "m"}, "x"); }),
            "cannot lock " + (dir_ / "missing" / "m").string() + ": cannot create '" +
                (dir_ / "missing" / ".m.lock").string() + "': No such file or directory");
}

}  // namespace
}  // namespace backprop
