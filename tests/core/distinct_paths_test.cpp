// Outputs that would overwrite an input or each other are refused before any work, whatever
// spelling names the same file (links, `..`, hard links); distinct files pass.
#include "core/distinct_paths.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "backprop/error.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;
using testing_support::error_of;

class DistinctPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = (fs::temp_directory_path() / "backprop-paths-XXXXXX").string();
    ASSERT_NE(::mkdtemp(name.data()), nullptr);
    dir_ = fs::canonical(name);
    std::ofstream(dir_ / "data.csv") << "a,b\n1,2\n";
    fs::create_directory(dir_ / "sub");
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(DistinctPathsTest, AnOutputOnAnInputIsRefusedNamingBoth) {
  const fs::path data = dir_ / "data.csv";
  EXPECT_EQ(error_of([&] {
              check_outputs_distinct({{"--data", data}}, {{"-o", data}});
            }),
            "-o " + data.string() + " would overwrite the input --data " + data.string() +
                " (both are " + data.string() + "); choose another output path");
}

TEST_F(DistinctPathsTest, OtherSpellingsOfTheSameFileAreCaught) {
  const fs::path data = dir_ / "data.csv";
  fs::create_symlink(data, dir_ / "link.csv");
  fs::create_hard_link(data, dir_ / "hard.csv");
  for (const fs::path& out :
       {dir_ / "link.csv", dir_ / "hard.csv", dir_ / "sub" / ".." / "data.csv"}) {
    EXPECT_NE(error_of([&] {
                check_outputs_distinct({{"--data", data}}, {{"-o", out}});
              }),
              "")
        << out;
  }
}

TEST_F(DistinctPathsTest, TwoOutputsOnOneFileAreRefusedEvenBeforeItExists) {
  const fs::path model = dir_ / "model.safetensors";
  EXPECT_EQ(error_of([&] {
              check_outputs_distinct(
                  {}, {{"-o", model}, {"--checkpoint", dir_ / "sub/../model.safetensors"}});
            }),
            "-o " + model.string() + " and --checkpoint " +
                (dir_ / "sub/../model.safetensors").string() + " are the same file (" +
                model.string() + "); give each output a path of its own");
}

TEST_F(DistinctPathsTest, DistinctFilesAndStandardOutputPass) {
  EXPECT_NO_THROW(check_outputs_distinct(
      {{"--data", dir_ / "data.csv"}, {"MODEL", dir_ / "model.safetensors"}},
      {{"-o", dir_ / "predictions.csv"}, {"--metrics", "-"}, {"--report", "-"}}));
}

}  // namespace
}  // namespace backprop
