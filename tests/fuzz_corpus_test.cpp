// Replays the fuzz seed corpus (fuzz/corpus/<target>/) and every saved crash
// (fuzz/regressions/<target>/) through the fuzz targets' own entry functions, in the normal
// gcc test build: an input that once crashed a reader stays fixed, and the seeds stay what they
// claim to be. Nothing but backprop::Error may come out of any input (the entries swallow
// Error, so anything reaching the test is a bug), and every file named valid_* must be accepted.
// Each input runs in a forked child (a gtest death test), so one that crashes outright, e.g.
// with a stack overflow, fails the test with its file name instead of ending the whole binary.
// The files are listed when the test runs, so a new regression file needs no rebuild.
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <set>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "../fuzz/fuzz_entries.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

using Entry = bool (*)(fuzz::Bytes);

struct Target {
  const char* name;
  Entry entry;
};

void PrintTo(const Target& target, std::ostream* os) { *os << target.name; }

const Target kTargets[] = {
    {"fuzz_idx", fuzz::idx_entry},
    {"fuzz_csv", fuzz::csv_entry},
    {"fuzz_safetensors", fuzz::safetensors_entry},
    {"fuzz_model", fuzz::model_entry},
    {"fuzz_onnx", fuzz::onnx_entry},
};

const fs::path kFuzzDir = fs::path(BACKPROP_SOURCE_DIR) / "fuzz";

// The regular files of `dir` (none if it does not exist), sorted, without dot files such as
// .gitkeep.
std::vector<fs::path> inputs_in(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& item : fs::directory_iterator(dir)) {
    if (item.is_regular_file() && !item.path().filename().string().starts_with(".")) {
      files.push_back(item.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::uint8_t> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What replaying one input in a child process ends with (its exit code).
enum Outcome : int {
  kAccepted = 0,  // the main reader accepted it (and every invariant held)
  kBug = 1,       // something other than backprop::Error escaped, or an invariant broke
  kRefused = 3,   // refused with backprop::Error: the expected outcome for broken input
};

// Runs one input and exits the (death-test child) process with its Outcome, printing what went
// wrong on stderr, which gtest shows when the exit code is not an expected one. A crash (stack
// overflow, abort) ends only the child, so the parent reports it against this file and goes on
// with the next.
[[noreturn]] void replay_and_exit(const Target& target, const fs::path& path) {
  const std::vector<std::uint8_t> bytes = read_all(path);
  int code = kBug;
  try {
    code = target.entry(bytes) ? kAccepted : kRefused;
  } catch (const fuzz::InvariantViolation& e) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: a reader threw something other than backprop::Error: %s: %s\n",
                 path.c_str(), typeid(e).name(), e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: a reader threw a non-std exception\n", path.c_str());
  }
  std::fflush(stderr);
  std::_Exit(code);
}

// A death-test predicate: the child exited normally with one of `codes`.
struct ExitedWithOneOf {
  std::set<int> codes;
  bool operator()(int status) const {
    return WIFEXITED(status) && codes.count(WEXITSTATUS(status)) == 1;
  }
};

void expect_outcome(const Target& target, const fs::path& path, std::set<int> allowed,
                    const char* what) {
  EXPECT_EXIT(replay_and_exit(target, path), ExitedWithOneOf{std::move(allowed)}, "")
      << path.string() << ": " << what;
}

class FuzzCorpus : public ::testing::TestWithParam<Target> {
 protected:
  void SetUp() override {
    if (std::string(GetParam().name) == "fuzz_model" && !fuzz::kHaveModel) {
      GTEST_SKIP() << "backprop/model.hpp not available yet";
    }
  }
};

TEST_P(FuzzCorpus, SeedsRaiseOnlyErrorAndValidSeedsParse) {
  const Target& target = GetParam();
  const std::vector<fs::path> seeds = inputs_in(kFuzzDir / "corpus" / target.name);
  ASSERT_FALSE(seeds.empty()) << "no seeds in " << kFuzzDir / "corpus" / target.name
                              << " (run python3 fuzz/make_corpus.py)";
  int valid = 0;
  for (const fs::path& seed : seeds) {
    if (seed.filename().string().starts_with("valid_")) {
      ++valid;
      expect_outcome(target, seed, {kAccepted}, "a valid_* seed must be accepted");
    } else {
      expect_outcome(target, seed, {kAccepted, kRefused},
                     "only backprop::Error may come out of a reader");
    }
  }
  EXPECT_GT(valid, 0) << "no valid_* seed for " << target.name;
}

// Inputs that once crashed a target (fuzz/regressions/<target>/): each must now be accepted or
// refused with an Error.
TEST_P(FuzzCorpus, RegressionsRaiseOnlyError) {
  const Target& target = GetParam();
  for (const fs::path& input : inputs_in(kFuzzDir / "regressions" / target.name)) {
    expect_outcome(target, input, {kAccepted, kRefused},
                   "only backprop::Error may come out of a reader");
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Target>& param) {
                           return std::string(param.param.name);
                         });

// Every corpus and regression folder belongs to a target this test replays, so a new fuzz
// target cannot go unreplayed.
TEST(FuzzCorpusLayout, EveryFolderIsAKnownTarget) {
  std::set<std::string> known;
  for (const Target& target : kTargets) known.insert(target.name);
  for (const char* kind : {"corpus", "regressions"}) {
    std::error_code ec;
    if (!fs::is_directory(kFuzzDir / kind, ec)) continue;
    for (const auto& item : fs::directory_iterator(kFuzzDir / kind)) {
      if (!item.is_directory()) continue;
      EXPECT_TRUE(known.count(item.path().filename().string()) == 1)
          << item.path() << " is not a target replayed by fuzz_corpus_test";
    }
  }
}

}  // namespace
}  // namespace backprop
