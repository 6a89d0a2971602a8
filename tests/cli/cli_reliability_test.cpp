// Reliability of `backprop train`: resuming after SIGKILL or SIGINT gives the same model, byte
// for byte, as a run that was never stopped; killing the process at any moment never leaves a
// torn or unloadable file where a good one was; divergence exits 3 with a useful message and
// finite weights; and mismatched inputs are refused up front with exit 1 and a message.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "backprop/checkpoint.hpp"
#include "backprop/model.hpp"
#include "cli/cli_test_util.hpp"
#include "sanitizers.hpp"

namespace backprop::test {
namespace {

using nlohmann::json;

// The data for runs that the tests stop part way: enough samples that an epoch of the network
// below takes ~0.1 s on a fast core, so a poll every millisecond lands well inside the run.
// Under AddressSanitizer every sample costs several times more, so a fifth of them gives epochs
// of about the same length.
constexpr int kBigTrain = testing_support::kAddressSanitizer ? 6000 : 30000;
constexpr const char* kBigLayers = "64,512,10";

std::vector<float> all_parameters(const Model& m) {
  std::vector<float> out;
  for (std::int64_t l = 0; l < m.network->num_layers(); ++l) {
    const auto w = m.network->weight(l);
    for (std::int64_t i = 0; i < w.rows; ++i)
      for (std::int64_t j = 0; j < w.cols; ++j) out.push_back(w(i, j));
    for (const float b : m.network->bias(l)) out.push_back(b);
  }
  return out;
}

std::int64_t count_non_finite(const std::vector<float>& values) {
  return std::count_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
}

class CliReliability : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (cli_path().empty() || !fs::exists(cli_path())) return;
    dir_ = std::make_unique<TempDir>();
    big_ = dir_->str("big");
    write_idx_dataset(big_, kBigTrain, 200, 3);
    small_ = dir_->str("small");
    write_idx_dataset(small_, 600, 200, 4);
  }
  static void TearDownTestSuite() { dir_.reset(); }
  void SetUp() override { BACKPROP_REQUIRE_CLI(); }

  // The uninterrupted run every resumed one must reproduce, trained on first use: CTest runs
  // each test in a process of its own, and only the tests that compare with it pay for it.
  static const std::string& reference() {
    if (reference_.empty()) {
      const std::string path = dir_->str("a.safetensors");
      const RunResult r = run_cli(train_args(path));
      if (r.exit_code != 0) throw std::runtime_error("the reference run failed\n" + r.describe());
      reference_ = path;
    }
    return reference_;
  }

  // The run of the resume tests; `extra` are options that do not change the weights.
  static std::vector<std::string> train_args(const std::string& output,
                                             const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"train",    "--data", big_,     "--layers", kBigLayers,
                                  "--epochs", "3",      "--seed", "5",        "--threads",
                                  "1",        "-o",     output};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  static std::unique_ptr<TempDir> dir_;
  static std::string big_, small_, reference_;
};

std::unique_ptr<TempDir> CliReliability::dir_;
std::string CliReliability::big_, CliReliability::small_, CliReliability::reference_;

// ---- Resume -----------------------------------------------------------------------------------

TEST_F(CliReliability, ResumeAfterSigkillGivesTheSameModelByteForByte) {
  TempDir tmp;
  const std::string ck = tmp.str("ck.safetensors");
  const std::string killed_out = tmp.str("killed.safetensors");
  {
    Child child(cli_argv(train_args(killed_out, {"--checkpoint", ck, "--checkpoint-every", "1"})));
    // Kill as soon as the first checkpoint is in place (it appears by rename, complete).
    while (child.pump(0) && !fs::exists(ck))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    child.send(SIGKILL);
    const RunResult r = child.wait(60);
    ASSERT_EQ(r.signal, SIGKILL)
        << "the run ended before it could be killed; make the data larger\n"
        << r.describe();
  }
  ASSERT_TRUE(fs::exists(ck));
  EXPECT_FALSE(fs::exists(killed_out)) << "the killed run should not have reached its final save";
  const Checkpoint c = load_checkpoint(ck, 1);
  EXPECT_GE(c.state.epoch, 1);
  EXPECT_LT(c.state.epoch, 3) << "the checkpoint is of the finished run: nothing left to resume";

  const std::string resumed = tmp.str("b.safetensors");
  const RunResult r = run_cli({"train", "--resume", ck, "-o", resumed});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "resuming from")) << r.out;
  EXPECT_TRUE(read_file(resumed) == read_file(reference()))
      << "resumed from epoch " << c.state.epoch
      << ": the model differs from the uninterrupted run's";
}

// Starts the reference run with `extra` options, sends `sig` once the first epoch has been
// logged (the handlers are installed by then: the log is flushed after the epoch), and returns
// what the process did.
RunResult interrupt_after_first_epoch(const std::vector<std::string>& argv, int sig) {
  Child child(argv);
  while (child.pump(1) && !contains(child.out(), "\nepoch")) {
  }
  child.send(sig);
  return child.wait(60);
}

TEST_F(CliReliability, SigintWritesACheckpointExitsFourAndResumesToTheSameModel) {
  TempDir tmp;
  const std::string out = tmp.str("int.safetensors");
  const RunResult r = interrupt_after_first_epoch(cli_argv(train_args(out)), SIGINT);
  ASSERT_EQ(r.exit_code, 4) << r.describe();
  // No --checkpoint given: it goes next to the output.
  const std::string ck = out + ".checkpoint";
  ASSERT_TRUE(fs::exists(ck)) << r.describe();
  EXPECT_TRUE(contains(r.err, ck)) << "stderr does not say where the checkpoint is:\n" << r.err;
  EXPECT_TRUE(contains(r.err, "--resume")) << r.err;
  const Checkpoint c = load_checkpoint(ck, 1);
  EXPECT_LT(c.state.epoch, 3);

  const std::string resumed = tmp.str("c.safetensors");
  const RunResult again = run_cli({"train", "--resume", ck, "-o", resumed});
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  EXPECT_TRUE(read_file(resumed) == read_file(reference()))
      << "resumed from epoch " << c.state.epoch << " step " << c.state.step_in_epoch
      << ": the model differs from the uninterrupted run's";
}

TEST_F(CliReliability, SigtermAlsoStopsWithACheckpoint) {
  TempDir tmp;
  const std::string out = tmp.str("term.safetensors");
  const RunResult r = interrupt_after_first_epoch(cli_argv(train_args(out)), SIGTERM);
  EXPECT_EQ(r.exit_code, 4) << r.describe();
  EXPECT_TRUE(fs::exists(out + ".checkpoint")) << r.describe();
}

// ---- Kill during save -------------------------------------------------------------------------

// Whether `name` is a temporary file of the atomic writer for one of `finals`
// (".<name>.tmp-XXXXXX").
// The atomic writer's temporary names: `.<final>.tmp-<pid>-XXXXXX`.
// A temporary file of the atomic writer, or the lock file of an output (OutputLock): a run
// killed by SIGKILL cannot remove it, and the kernel has released its lock, so the next run
// takes it over.
bool is_temporary_of(const std::string& name, const std::set<std::string>& finals) {
  for (const auto& f : finals) {
    if (name == "." + f + ".lock") return true;
    const std::string prefix = "." + f + ".tmp-";
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const std::size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string::npos || rest.size() != dash + 7) continue;
    if (rest.find_first_not_of("0123456789") == dash) return true;
  }
  return false;
}

TEST_F(CliReliability, SigkillAtAnyMomentLeavesTheOutputLoadable) {
  TempDir tmp;
  // A good model already at the output path (a different one from what the runs produce).
  const std::string out = tmp.str("model.safetensors");
  const RunResult first = run_cli({"train", "--data", small_, "--layers", "64,16,10", "--epochs",
                                   "1", "--threads", "1", "-q", "-o", out});
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  const std::string old_bytes = read_file(out);
  const std::string new_bytes = read_file(reference());
  const std::string ck = tmp.str("ck.safetensors");
  const std::string metrics = tmp.str("m.jsonl");
  const std::set<std::string> finals = {"model.safetensors", "ck.safetensors", "m.jsonl"};

  const std::vector<std::string> extra = {"--checkpoint", ck,     "--checkpoint-every", "1",
                                          "--metrics",    metrics};
  const std::string last_epoch = "epoch   3/3";
  // One run to time: the whole run, and its tail after the final epoch is logged, when the
  // metrics file, the checkpoint and the model are written one after the other (fsync each).
  double run_seconds = 0, tail_seconds = 0;
  {
    TempDir calibration;
    std::vector<std::string> args =
        train_args(calibration.str("model.safetensors"),
                   {"--checkpoint", calibration.str("ck.safetensors"), "--checkpoint-every", "1",
                    "--metrics", calibration.str("m.jsonl")});
    Child child(cli_argv(args));
    double logged = -1;
    while (child.pump(1))
      if (logged < 0 && contains(child.out(), last_epoch)) logged = child.elapsed();
    run_seconds = child.elapsed();
    const RunResult r = child.wait(60);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    ASSERT_GE(logged, 0) << r.describe();
    tail_seconds = run_seconds - logged;
  }
  RecordProperty("run_ms", static_cast<int>(run_seconds * 1000));
  RecordProperty("tail_ms", static_cast<int>(tail_seconds * 1000));

  // Half the kills at moments spread over the whole run (and a little past its end), each
  // jittered; the other half spread over that tail.
  TestRng rng(2024);
  constexpr int kSpread = 5;
  constexpr int kAtTheEnd = 5;
  constexpr int kKills = kSpread + kAtTheEnd;
  int killed = 0, killed_at_the_end = 0, leftovers = 0;
  for (int i = 0; i < kKills; ++i) {
    const bool spread = i < kSpread;
    // A spread kill aims at a fraction f < 0.95 of the run, anchored to the run's own progress
    // (the log line of epoch floor(3f), then the rest of f in epoch lengths), so a run slower or
    // faster than the timing run is still hit while it works.
    const double f = 0.95 * (i + rng.uniform()) / kSpread;
    const int anchor_epoch = static_cast<int>(f * 3);
    const double epoch_seconds = (run_seconds - tail_seconds) / 3;
    const double at = spread ? (f * 3 - anchor_epoch) * epoch_seconds
                             : tail_seconds * (i - kSpread + rng.uniform()) / kAtTheEnd;
    SCOPED_TRACE("kill " + std::to_string(i) + " at " + std::to_string(at) + " s after " +
                 (spread ? "epoch " + std::to_string(anchor_epoch) + " began"
                         : "the last epoch's log line"));
    {
      Child child(cli_argv(train_args(out, extra)));
      if (spread) {
        const std::string anchor = "epoch   " + std::to_string(anchor_epoch) + "/3";
        while (anchor_epoch > 0 && child.pump(1) && !contains(child.out(), anchor)) {
        }
        const double start = child.elapsed();
        while (child.pump(0) && child.elapsed() - start < at)
          std::this_thread::sleep_for(std::chrono::microseconds(200));
      } else {
        while (child.pump(1) && !contains(child.out(), last_epoch)) {
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(at));
      }
      child.send(SIGKILL);
      const RunResult r = child.wait(60);
      if (r.signal == SIGKILL) {
        ++killed;
        killed_at_the_end += spread ? 0 : 1;
      } else {
        ASSERT_EQ(r.exit_code, 0) << r.describe();
      }
    }
    // The output is the old model or the complete new one, and loads.
    const std::string now = read_file(out);
    EXPECT_TRUE(now == old_bytes || now == new_bytes)
        << "the model file is neither the previous nor the new one (" << now.size() << " bytes)";
    const RunResult info = run_cli({"info", out});
    EXPECT_EQ(info.exit_code, 0) << info.describe();
    // The other files the run writes are complete too, when present.
    if (fs::exists(ck)) {
      EXPECT_NO_THROW(load_checkpoint(ck, 1));
    }
    if (fs::exists(metrics)) {
      for (const auto& line : split_lines(read_file(metrics))) {
        EXPECT_NO_THROW({
          const json j = json::parse(line);
          EXPECT_TRUE(j.contains("epoch"));
        }) << line;
      }
    }
    // Nothing else: at most a temporary file of the atomic writer or a lock file, never a torn
    // file under a real name.
    for (const auto& entry : fs::directory_iterator(tmp.path())) {
      const std::string name = entry.path().filename().string();
      if (finals.count(name) > 0) continue;
      EXPECT_TRUE(is_temporary_of(name, finals)) << "unexpected file " << name;
      ++leftovers;
      fs::remove(entry.path());
    }
  }
  // The spread kills must land inside the run (one may still come after its end), or this test
  // proves little; the late ones land inside the final saves or just after them.
  EXPECT_GE(killed - killed_at_the_end, kSpread - 1)
      << "only " << killed - killed_at_the_end << " of " << kSpread
      << " spread kills landed before the run ended";
  // SIGKILL gives the writer no chance to remove its temporary file; report how often one was
  // left (hidden names, never mistaken for a model).
  RecordProperty("killed", killed);
  RecordProperty("killed_at_the_end", killed_at_the_end);
  RecordProperty("temporary_files_left", leftovers);
  std::printf(
      "  run %.0f ms, tail %.1f ms: %d of %d runs killed (%d in the tail); %d temporary file(s) "
      "left behind\n",
      run_seconds * 1000, tail_seconds * 1000, killed, kKills, killed_at_the_end, leftovers);
}

// ---- Divergence -------------------------------------------------------------------------------

TEST_F(CliReliability, DivergenceExitsThreeAndKeepsFiniteWeights) {
  TempDir tmp;
  const std::string out = tmp.str("d.safetensors");
  // ReLU units pass the huge weights of a 1e30 step straight on: the activations overflow.
  const RunResult r =
      run_cli({"train", "--data", small_, "--layers", "64,32,10", "--activation", "relu", "--lr",
               "1e30", "--epochs", "3", "--threads", "1", "-o", out});
  ASSERT_EQ(r.exit_code, 3) << r.describe();
  EXPECT_TRUE(contains(r.err, "diverged")) << r.err;
  EXPECT_TRUE(contains(r.err, "learning rate")) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"(epoch (\d+), step (\d+))"))) << r.err;
  const int epoch = std::stoi(m[1].str());
  const int step = std::stoi(m[2].str());
  EXPECT_TRUE(epoch >= 1 && epoch <= 3) << r.err;
  EXPECT_TRUE(step >= 1 && step <= (600 + 63) / 64) << r.err;
  EXPECT_TRUE(contains(r.err, out)) << "stderr does not say where the last good model went:\n"
                                    << r.err;

  ASSERT_TRUE(fs::exists(out));
  const Model model = load_model(out, 1);
  const auto params = all_parameters(model);
  EXPECT_EQ(count_non_finite(params), 0) << "the saved model holds non-finite weights";
}

// Guards the check after the optimiser step (src/trainer.cpp, Trainer::run_epoch_steps): a
// finite gradient times a huge learning rate can overflow a weight to +-inf in the update
// itself; that must stop training with exit 3 and leave finite weights on disk, even when the
// overflowing step is the run's last. The unnormalised [0, 1e6] feature below gives gradients
// ~1e5, so lr 1e35 overflows float on the first update.
TEST_F(CliReliability, DivergenceInTheUpdateItselfNeverSavesNonFiniteWeights) {
  TempDir tmp;
  write_file(tmp / "big.csv", make_animals_csv(100, 41));
  for (const char* batch : {"50", "100"}) {  // two steps (the second one fails) and one step
    SCOPED_TRACE(std::string("--batch ") + batch);
    const std::string out = tmp.str(std::string("u") + batch + ".safetensors");
    const RunResult r = run_cli({"train", "--data", tmp.str("big.csv"), "--normalize", "none",
                                 "--layers", "2,3", "--lr", "1e35", "--batch", batch, "--epochs",
                                 "1", "--val-split", "0", "--threads", "1", "-o", out});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    if (fs::exists(out)) {
      const Model model = load_model(out, 1);
      EXPECT_EQ(count_non_finite(all_parameters(model)), 0)
          << "the saved model holds non-finite weights\n"
          << r.describe();
    }
  }
}

// ---- Mismatches, refused before training ------------------------------------------------------

TEST_F(CliReliability, BatchLargerThanTheDataIsRefused) {
  TempDir tmp;
  const RunResult r = run_cli({"train", "--data", small_, "--layers", "64,32,10", "--batch", "601",
                               "--epochs", "1", "-o", tmp.str("m.safetensors")});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_TRUE(contains(r.err, "601") && contains(r.err, "600")) << r.err;
  EXPECT_EQ(split_lines(r.err).size(), 1u) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "m.safetensors"));
}

TEST_F(CliReliability, InitModelWithOtherLayersIsRefused) {
  TempDir tmp;
  const std::string init = tmp.str("init.safetensors");
  ASSERT_EQ(run_cli({"train", "--data", small_, "--layers", "64,16,10", "--epochs", "1", "-q", "-o",
                     init})
                .exit_code,
            0);
  const RunResult r = run_cli({"train", "--data", small_, "--layers", "64,32,10", "--init", init,
                               "--epochs", "1", "-o", tmp.str("m.safetensors")});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_TRUE(contains(r.err, "--init")) << r.err;
  EXPECT_TRUE(contains(r.err, "64-16-10") && contains(r.err, "64-32-10")) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "m.safetensors"));
}

TEST_F(CliReliability, EmptyDataSetIsRefused) {
  TempDir tmp;
  write_file(tmp / "empty.csv", "small,big,animal\n");
  const RunResult r = run_cli(
      {"train", "--data", tmp.str("empty.csv"), "--epochs", "1", "-o", tmp.str("m.safetensors")});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_TRUE(contains(r.err, "empty.csv")) << r.err;
  EXPECT_TRUE(contains(r.err, "no data rows")) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "m.safetensors"));
}

TEST_F(CliReliability, LabelsBeyondTheOutputsAreRefused) {
  TempDir tmp;
  const RunResult r = run_cli({"train", "--data", small_, "--layers", "64,32,5", "--epochs", "1",
                               "-o", tmp.str("m.safetensors")});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_TRUE(contains(r.err, "5 outputs")) << r.err;
  EXPECT_TRUE(contains(r.err, "10 classes")) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "m.safetensors"));
}

TEST_F(CliReliability, UnwritableOutputIsDetectedBeforeTraining) {
  {
    const RunResult r = run_cli(train_args("/nonexistent/dir/m.safetensors"));
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_TRUE(contains(r.err, "/nonexistent/dir/m.safetensors")) << r.err;
    // Before the data is even read: no log line.
    EXPECT_TRUE(r.out.empty()) << r.describe();
    EXPECT_FALSE(fs::exists("/nonexistent"));
  }
  // The same inside a directory the test owns, for each file train writes; nothing is created.
  TempDir tmp;
  const std::string missing = tmp.str("missing") + "/m.safetensors";
  const std::string good = tmp.str("m.safetensors");
  for (const auto& extra :
       std::vector<std::vector<std::string>>{{},
                                             {"--metrics", tmp.str("missing") + "/m.jsonl"},
                                             {"--checkpoint", tmp.str("missing") + "/ck"}}) {
    const RunResult r = run_cli(train_args(extra.empty() ? missing : good, extra));
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_TRUE(contains(r.err, tmp.str("missing"))) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.describe();
    EXPECT_TRUE(fs::is_empty(tmp.path())) << "the failed run left files behind";
  }
}

TEST_F(CliReliability, ResumeOfAPlainModelFileIsRefused) {
  TempDir tmp;
  const std::string plain = tmp.str("plain.safetensors");
  ASSERT_EQ(run_cli({"train", "--data", small_, "--layers", "64,16,10", "--epochs", "1", "-q", "-o",
                     plain})
                .exit_code,
            0);
  const RunResult r = run_cli({"train", "--resume", plain, "-o", tmp.str("m.safetensors")});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_TRUE(contains(r.err, plain)) << r.err;
  EXPECT_TRUE(contains(r.err, "not a checkpoint")) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "m.safetensors"));
}

// The run description a checkpoint stores is what --resume rebuilds the run from: every option
// that decides the weights, under the keys checkpoints already on disk carry, and the data's
// fingerprint. --resume refuses other values of those options and names the ones it takes; the
// ones it takes are still checked.
TEST_F(CliReliability, ResumeStoresEveryWeightOptionAndRefusesThemAgain) {
  TempDir tmp;
  const std::string ck = tmp.str("ck.safetensors");
  const RunResult first =
      run_cli({"train", "--data", small_, "--hidden", "8", "--epochs", "1", "--threads", "1", "-q",
               "-o", tmp.str("m.safetensors"), "--checkpoint", ck});
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  const json run = json::parse(load_checkpoint(ck, 1).run);
  std::set<std::string> keys;
  for (const auto& [key, value] : run.items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"activation",
                                         "batch",
                                         "categorical",
                                         "data",
                                         "data_fingerprint",
                                         "decimal",
                                         "delimiter",
                                         "dropout",
                                         "epochs",
                                         "header",
                                         "hidden",
                                         "id",
                                         "ignore",
                                         "init",
                                         "label",
                                         "layers",
                                         "loss",
                                         "lr",
                                         "lr_gamma",
                                         "lr_step",
                                         "missing",
                                         "missing_indicator",
                                         "momentum",
                                         "nesterov",
                                         "no_shuffle",
                                         "normalize",
                                         "optimizer",
                                         "patience",
                                         "schedule",
                                         "seed",
                                         "shards",
                                         "task",
                                         "test",
                                         "val_split",
                                         "weight_decay"}));
  EXPECT_EQ(run.at("hidden"), "8");
  EXPECT_EQ(run.at("data"), small_);

  const RunResult hidden = run_cli({"train", "--resume", ck, "--hidden", "3"});
  EXPECT_EQ(hidden.exit_code, 1) << hidden.describe();
  EXPECT_TRUE(contains(hidden.err,
                       "1 option differs from the checkpoint's run: --hidden '3' (checkpoint: "
                       "'8'); give the checkpoint's values or leave them out (a resumed run may "
                       "change only --data, --test, --epochs, -o, --metrics, --checkpoint, "
                       "--checkpoint-every, --force, --threads, -q, --report, --no-layer-stats)"))
      << hidden.err;
  const RunResult csv = run_cli({"train", "--resume", ck, "--normalize", "none"});
  EXPECT_EQ(csv.exit_code, 1) << csv.describe();
  EXPECT_TRUE(contains(csv.err, "--normalize 'none' (checkpoint: 'standard')")) << csv.err;
  const RunResult epochs = run_cli({"train", "--resume", ck, "--epochs", "0"});
  EXPECT_EQ(epochs.exit_code, 1) << epochs.describe();
  EXPECT_TRUE(contains(epochs.err, "--epochs 0: must be at least 1")) << epochs.err;
}

}  // namespace
}  // namespace backprop::test
