// The command line's reliability and ergonomics: outputs never destroy inputs and two runs never
// share them, standard output is streamed and every write to it checked, side outputs that fail
// never lose the model, signals stop training with a checkpoint, a checkpoint remembers its data,
// flag values are checked by name before any data is read, and a mistyped option gets the
// closest one. Each case asserts its message and exit status.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "backprop/model.hpp"
#include "cli/cli_test_util.hpp"
#include "sanitizers.hpp"

namespace backprop::test {
namespace {

// A small table (200 rows, 3 classes): an epoch of an 8-unit network takes well under 1 ms.
class CliOutputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (cli_path().empty() || !fs::exists(cli_path())) return;
    dir_ = std::make_unique<TempDir>();
    data_ = dir_->str("animals.csv");
    write_file(data_, make_animals_csv(200, 21));
    model_ = dir_->str("model.safetensors");
    const RunResult r = run_cli(train({"-o", model_, "--epochs", "2"}));
    trained_ = r.exit_code == 0;
    train_log_ = r.describe();
  }
  static void TearDownTestSuite() { dir_.reset(); }
  void SetUp() override {
    BACKPROP_REQUIRE_CLI();
    ASSERT_TRUE(trained_) << train_log_;
  }

  // `backprop train` on the table with a small network, plus `extra`; no early stopping, so that
  // a long run lasts until the test interrupts it.
  static std::vector<std::string> train(const std::vector<std::string>& extra) {
    std::vector<std::string> args{"train",     "--data", data_,     "--hidden", "8",          "-q",
                                  "--threads", "1",      "--batch", "16",       "--patience", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // Runs `bash -c script` (for redirections and pipelines) with BP set to the tool.
  static RunResult run_shell(const std::string& script) {
    Child child({"/bin/bash", "-c", "BP='" + cli_path() + "'; " + script});
    return child.wait(60);
  }

  static std::unique_ptr<TempDir> dir_;
  static std::string data_, model_, train_log_;
  static bool trained_;
};

std::unique_ptr<TempDir> CliOutputs::dir_;
std::string CliOutputs::data_, CliOutputs::model_, CliOutputs::train_log_;
bool CliOutputs::trained_ = false;

bool has_temp_files(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (contains(entry.path().filename().string(), ".tmp-")) return true;
  return false;
}

// ---- Outputs against inputs, and locks --------------------------------------------------------

TEST_F(CliOutputs, AnOutputOnAnInputIsRefusedBeforeAnyWork) {
  TempDir tmp;
  const std::string before = read_file(data_);
  const RunResult onto_data = run_cli(train({"-o", data_}));
  EXPECT_EQ(onto_data.exit_code, 1) << onto_data.describe();
  EXPECT_TRUE(contains(
      onto_data.err, "backprop: error: -o " + data_ + " would overwrite the input --data " + data_))
      << onto_data.err;
  EXPECT_EQ(read_file(data_), before);

  const std::string m = tmp.str("m.safetensors");
  const RunResult same = run_cli(train({"-o", m, "--metrics", m}));
  EXPECT_EQ(same.exit_code, 1) << same.describe();
  EXPECT_TRUE(contains(same.err, "-o " + m + " and --metrics " + m + " are the same file"))
      << same.err;
  EXPECT_FALSE(fs::exists(m));

  const RunResult predict = run_cli({"predict", model_, "--data", data_, "-o", model_});
  EXPECT_EQ(predict.exit_code, 1) << predict.describe();
  EXPECT_TRUE(contains(predict.err, "-o " + model_ + " would overwrite the input MODEL " + model_))
      << predict.err;

  // Through a symbolic link too.
  fs::create_symlink(data_, tmp / "link.csv");
  const RunResult linked = run_cli({"predict", model_, "--data", data_, "-o", tmp.str("link.csv")});
  EXPECT_EQ(linked.exit_code, 1) << linked.describe();
  EXPECT_TRUE(contains(linked.err, "would overwrite the input --data " + data_)) << linked.err;
  EXPECT_EQ(read_file(data_), before);

  const RunResult exported = run_cli({"export", model_, "-o", model_});
  EXPECT_EQ(exported.exit_code, 1) << exported.describe();
  EXPECT_TRUE(contains(exported.err, "would overwrite the input MODEL")) << exported.err;

  // A checkpoint may replace the one it resumes, but no other output may.
  const std::string ck = tmp.str("ck");
  ASSERT_EQ(run_cli(train({"-o", m, "--epochs", "1", "--checkpoint", ck})).exit_code, 0);
  const RunResult onto_ck = run_cli({"train", "--resume", ck, "-o", ck});
  EXPECT_EQ(onto_ck.exit_code, 1) << onto_ck.describe();
  EXPECT_TRUE(contains(onto_ck.err, "-o " + ck + " would overwrite the input --resume " + ck))
      << onto_ck.err;
  const RunResult again =
      run_cli({"train", "--resume", ck, "--checkpoint", ck, "--epochs", "2", "-q", "-o", m});
  EXPECT_EQ(again.exit_code, 0) << again.describe();
}

TEST_F(CliOutputs, ASecondRunOnTheSameOutputsIsRefusedNamingTheHolder) {
  TempDir tmp;
  const std::string m = tmp.str("m.safetensors");
  Child first(cli_argv(train({"-o", m, "--epochs", "1000000"})));
  // The lock file appears once the first run has claimed its outputs.
  const fs::path lock = tmp / ".m.safetensors.lock";
  while (first.pump(5) && !(fs::exists(lock) && contains(read_file(lock), "pid"))) {
  }
  ASSERT_TRUE(first.pump(0)) << first.wait(1).describe();
  const RunResult second = run_cli(train({"-o", m, "--epochs", "1"}));
  EXPECT_EQ(second.exit_code, 1) << second.describe();
  EXPECT_TRUE(contains(second.err, "backprop: error: " + m +
                                       " is being written by another run (pid " +
                                       std::to_string(first.pid()) + ": "))
      << second.err;
  first.send(SIGTERM);
  const RunResult r = first.wait(60);
  EXPECT_EQ(r.exit_code, 4) << r.describe();
  EXPECT_FALSE(fs::exists(lock)) << "the lock file outlived its run";
}

// ---- Standard output --------------------------------------------------------------------------

TEST_F(CliOutputs, WritesToAFullStandardOutputFail) {
  const std::string args = " '" + model_ + "' --data '" + data_ + "'";
  for (const std::string& command :
       {"predict" + args, "eval" + args, "info '" + model_ + "' --json", "info '" + model_ + "'"}) {
    const RunResult r = run_shell("\"$BP\" " + command + " > /dev/full");
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.describe();
    EXPECT_EQ(r.err, "backprop: error: cannot write to standard output: No space left on device\n")
        << command;
  }
}

TEST_F(CliOutputs, PredictStreamsDashToStandardOutputAndBinaryFilesRefuseIt) {
  const RunResult plain = run_cli({"predict", model_, "--data", data_});
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  for (const char* dash : {"-", "/dev/stdout"}) {
    const RunResult r = run_cli({"predict", model_, "--data", data_, "-o", dash});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, plain.out) << dash;
    EXPECT_EQ(split_lines(r.out).size(), 201u);
  }
  const RunResult train_dash = run_cli(train({"-o", "-"}));
  EXPECT_EQ(train_dash.exit_code, 1) << train_dash.describe();
  EXPECT_EQ(train_dash.err,
            "backprop: error: -o -: a model file is written to a file as one atomic step, not "
            "streamed to standard output; give a file path\n");
  const RunResult export_dash = run_cli({"export", model_, "-o", "/dev/stdout"});
  EXPECT_EQ(export_dash.exit_code, 1) << export_dash.describe();
  EXPECT_TRUE(contains(export_dash.err, "-o /dev/stdout: an ONNX file is written to a file"));
}

// ---- Side outputs -----------------------------------------------------------------------------

TEST_F(CliOutputs, MetricsGetOneLinePerEpochAndAResumeContinuesThem) {
  TempDir tmp;
  const std::string metrics = tmp.str("m.jsonl");
  const std::string ck = tmp.str("ck");
  ASSERT_EQ(run_cli(train({"-o", tmp.str("m"), "--epochs", "3", "--metrics", metrics,
                           "--checkpoint", ck, "--checkpoint-every", "2"}))
                .exit_code,
            0);
  const auto lines = split_lines(read_file(metrics));
  ASSERT_EQ(lines.size(), 3u);
  // The checkpoint holds epoch 3 (the last epoch is always saved); resuming to 5 appends 4, 5.
  const RunResult r = run_cli(
      {"train", "--resume", ck, "--epochs", "5", "-q", "-o", tmp.str("m"), "--metrics", metrics});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto resumed = split_lines(read_file(metrics));
  ASSERT_EQ(resumed.size(), 5u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(resumed[i], lines[i]);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_TRUE(contains(resumed[i], "\"epoch\":" + std::to_string(i + 1))) << resumed[i];
}

// A metrics file's lines with the fields that time the run (they differ from run to run) left
// out, each as JSON.
std::vector<nlohmann::json> untimed_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const auto& line : split_lines(read_file(path))) {
    nlohmann::json j = nlohmann::json::parse(line);
    j.erase("seconds");
    j.erase("samples_per_second");
    out.push_back(std::move(j));
  }
  return out;
}

// The epochs of a metrics file, in its order.
std::vector<std::int64_t> epochs_in(const std::string& path) {
  std::vector<std::int64_t> out;
  for (const auto& j : untimed_lines(path)) out.push_back(j.at("epoch").get<std::int64_t>());
  return out;
}

// The checkpoint holds no history: a resumed run takes it from its metrics file, cut back to the
// checkpoint's epoch, so that the file and the report cover the run as if it had never stopped.
TEST_F(CliOutputs, AResumedRunsMetricsAndReportAreThoseOfAnUninterruptedRun) {
  TempDir tmp;
  const std::string straight = tmp.str("straight.jsonl");
  ASSERT_EQ(run_cli(train({"-o", tmp.str("s"), "--epochs", "4", "--metrics", straight})).exit_code,
            0);
  ASSERT_EQ(epochs_in(straight), (std::vector<std::int64_t>{1, 2, 3, 4}));
  // The run stops after epoch 2, with its checkpoint; a killed rerun from it had gone on to
  // epoch 3 and torn the next line.
  const std::string metrics = tmp.str("m.jsonl");
  const std::string ck = tmp.str("ck");
  ASSERT_EQ(run_cli(train({"-o", tmp.str("m"), "--epochs", "2", "--metrics", metrics,
                           "--checkpoint", ck}))
                .exit_code,
            0);
  const std::string first_two = read_file(metrics);
  write_file(metrics, first_two + split_lines(read_file(straight))[2] + "\n{\"epoch\":4,\"tra");
  const std::string report = tmp.str("r.html");
  const RunResult r = run_cli({"train", "--resume", ck, "--epochs", "4", "-o", tmp.str("m"),
                               "--metrics", metrics, "--report", report});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "metrics: " + metrics +
                                  " cut back to the checkpoint's 2 epochs (2 later lines dropped)"))
      << r.out;
  EXPECT_FALSE(contains(r.err, "warning")) << r.err;
  EXPECT_EQ(epochs_in(metrics), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(untimed_lines(metrics), untimed_lines(straight));
  EXPECT_EQ(read_file(metrics).substr(0, first_two.size()), first_two)
      << "the epochs before the checkpoint are kept as they were written";
  const std::string html = read_file(report);
  for (int e = 1; e <= 4; ++e)
    EXPECT_TRUE(contains(html, "<tr><td>" + std::to_string(e) + "</td>")) << "epoch " << e;
  EXPECT_TRUE(contains(html, "<tr><th>epochs recorded</th><td>4</td></tr>"));
}

// A metrics file that cannot give the epochs before the checkpoint (missing, short, out of
// order, not JSON) is started again at the resumed epoch, with a warning naming it and the fault.
TEST_F(CliOutputs, ResumeWithAMetricsFileThatCannotGiveTheHistoryWarnsAndStartsItAfresh) {
  TempDir tmp;
  const std::string ck = tmp.str("ck");
  const std::string metrics = tmp.str("m.jsonl");
  ASSERT_EQ(run_cli(train({"-o", tmp.str("m"), "--epochs", "2", "--metrics", metrics,
                           "--checkpoint", ck}))
                .exit_code,
            0);
  const auto lines = split_lines(read_file(metrics));
  ASSERT_EQ(lines.size(), 2u);
  const std::string copy = tmp.str("ck.copy");
  fs::copy_file(ck, copy);
  struct Case {
    std::string content;  // "" : no file
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"", metrics + ": cannot be read (No such file or directory)"},
      {lines[0] + "\n", metrics + " holds 1 epoch, but the checkpoint is at epoch 2"},
      {lines[1] + "\n" + lines[0] + "\n", metrics + ":1: epoch 2 where epoch 1 was expected"},
      {lines[0] + "\nnot json\n", metrics + ":2: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.problem);
    fs::remove(metrics);
    fs::copy_file(copy, ck, fs::copy_options::overwrite_existing);
    if (!c.content.empty()) write_file(metrics, c.content);
    const RunResult r = run_cli(
        {"train", "--resume", ck, "--epochs", "3", "-q", "-o", tmp.str("m"), "--metrics", metrics});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_TRUE(contains(r.err, "backprop: warning: --metrics " + c.problem)) << r.err;
    EXPECT_TRUE(contains(r.err,
                         "; the file starts again at epoch 3, and epochs 1 to 2 are not "
                         "in the history\n"))
        << r.err;
    EXPECT_EQ(epochs_in(metrics), (std::vector<std::int64_t>{3}));
  }
  // Without --metrics, a report cannot cover the epochs before the checkpoint: it says so.
  fs::copy_file(copy, ck, fs::copy_options::overwrite_existing);
  const RunResult r = run_cli({"train", "--resume", ck, "--epochs", "3", "-q", "-o", tmp.str("m"),
                               "--report", tmp.str("r.html")});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(contains(r.err,
                       "backprop: warning: epochs 1 to 2 are not in the history (nor in --report): "
                       "give --metrics with the interrupted run's metrics file\n"))
      << r.err;
}

// The policy: a failing side output is dropped with a warning, training goes on, the model is
// written, and the exit status is 1 with a message that says the model is safe.
TEST_F(CliOutputs, AFailingCheckpointWarnsAndStillWritesTheModel) {
  TempDir tmp;
  const fs::path side = tmp / "side";
  fs::create_directories(side);
  const std::string m = tmp.str("m.safetensors");
  Child child(cli_argv({"train", "--data", data_, "--hidden", "8", "--threads", "1", "--batch",
                        "16", "--patience", "0", "--epochs", "20000", "-o", m, "--checkpoint",
                        (side / "ck").string()}));
  // After the first epoch line the checkpoint's directory disappears; the run lasts long
  // enough (seconds) that a loaded machine still removes it mid-run. It is renamed away, which
  // is atomic: removing it could race with a checkpoint being written into it.
  while (child.pump(5) && !contains(child.out(), "epoch   1/")) {
  }
  fs::rename(side, tmp / "gone");
  const RunResult r = child.wait(120);
  ASSERT_FALSE(fs::exists(side)) << "the test raced with the run";
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  // The cause names the directory; its wording depends on the moment the directory went.
  EXPECT_TRUE(contains(r.err, "backprop: warning: --checkpoint stopped: cannot write " +
                                  (side / "ck").string() + ": "))
      << r.err;
  EXPECT_TRUE(contains(r.err, "'" + side.string() + "'")) << r.err;
  EXPECT_TRUE(contains(r.err, "; training goes on and " + m + " will be saved")) << r.err;
  EXPECT_TRUE(contains(r.err, "backprop: error: the model was saved to " + m +
                                  ", but --checkpoint failed (cannot write "))
      << r.err;
  EXPECT_EQ(load_model(m, 1).info.training.at("epochs"), "20000");
}

// ---- Signals ----------------------------------------------------------------------------------

TEST_F(CliOutputs, SighupStopsTrainingWithACheckpoint) {
  TempDir tmp;
  const std::string m = tmp.str("m.safetensors");
  Child child(cli_argv({"train", "--data", data_, "--hidden", "8", "--threads", "1", "--patience",
                        "0", "--epochs", "1000000", "-o", m}));
  while (child.pump(5) && !contains(child.out(), "epoch   1/")) {
  }
  child.send(SIGHUP);
  const RunResult r = child.wait(60);
  EXPECT_EQ(r.exit_code, 4) << r.describe();
  EXPECT_TRUE(contains(r.err, "backprop: interrupted (signal 1) at epoch ")) << r.err;
  EXPECT_TRUE(contains(r.err, "checkpoint saved to " + m + ".checkpoint")) << r.err;
  EXPECT_TRUE(fs::exists(m + ".checkpoint"));
}

TEST_F(CliOutputs, AClosedStandardOutputStopsTrainingWithACheckpoint) {
  TempDir tmp;
  const std::string m = tmp.str("m.safetensors");
  const RunResult r = run_shell("\"$BP\" train --data '" + data_ +
                                "' --hidden 8 --threads 1 --epochs 1000000 -o '" + m +
                                "' | head -n 1 > /dev/null; echo \"status ${PIPESTATUS[0]}\"");
  EXPECT_EQ(r.out, "status 4\n") << r.describe();
  EXPECT_TRUE(contains(r.err, "backprop: interrupted (signal 13) at epoch ")) << r.err;
  EXPECT_TRUE(fs::exists(m + ".checkpoint")) << r.describe();
  EXPECT_FALSE(has_temp_files(tmp.path()));
}

// ---- The checkpoint's data --------------------------------------------------------------------

TEST_F(CliOutputs, ResumeOnOtherDataIsRefusedUnlessForced) {
  TempDir tmp;
  const std::string ck = tmp.str("ck");
  const std::string m = tmp.str("m");
  ASSERT_EQ(run_cli(train({"-o", m, "--epochs", "1", "--checkpoint", ck})).exit_code, 0);
  const std::string other = tmp.str("other.csv");
  write_file(other, make_animals_csv(200, 22));  // same shape, other rows
  const RunResult refused =
      run_cli({"train", "--resume", ck, "--data", other, "--epochs", "2", "-q", "-o", m});
  EXPECT_EQ(refused.exit_code, 1) << refused.describe();
  EXPECT_TRUE(contains(refused.err, "backprop: error: --resume " + ck +
                                        ": the checkpoint was trained on " + data_ +
                                        " (200 rows x 2 features, hash "))
      << refused.err;
  EXPECT_TRUE(contains(refused.err, "but --data is " + other + " (200 rows x 2 features, hash "))
      << refused.err;
  EXPECT_TRUE(contains(refused.err, "give --force to continue on this data")) << refused.err;
  // The same content under another name is the same data.
  fs::copy_file(data_, tmp / "moved.csv");
  const RunResult moved = run_cli(
      {"train", "--resume", ck, "--data", tmp.str("moved.csv"), "--epochs", "2", "-q", "-o", m});
  EXPECT_EQ(moved.exit_code, 0) << moved.describe();
  const RunResult forced = run_cli(
      {"train", "--resume", ck, "--data", other, "--epochs", "2", "-q", "-o", m, "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.describe();
}

// ---- Flags ------------------------------------------------------------------------------------

TEST_F(CliOutputs, FlagValuesOutOfRangeAreNamedBeforeAnyDataIsRead) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  // --data names a file that does not exist: each check must come before reading it.
  const std::vector<Case> cases = {
      {{"--lr", "0"}, 1, "--lr 0: must be a finite number greater than 0"},
      {{"--lr", "-0.5"}, 1, "--lr -0.5: must be a finite number greater than 0"},
      {{"--lr", "1e39"},
       2,
       "--lr: must be a number a 32-bit float can hold (magnitude at most 3.40282e+38), not 1e39"},
      {{"--lr", "inf"}, 1, "--lr inf: must be a finite number greater than 0"},
      {{"--batch", "0"}, 1, "--batch 0: must be at least 1"},
      {{"--epochs", "0"}, 1, "--epochs 0: must be at least 1"},
      {{"--patience", "-1"}, 1, "--patience -1: must be at least 0"},
      {{"--threads", "-1"}, 1, "--threads -1: must be in [1, 1024] (or 0 for every core)"},
      {{"--threads", "5000"}, 1, "--threads 5000: must be in [1, 1024] (or 0 for every core)"},
      {{"--dropout", "1"}, 1, "--dropout 1: must be in [0, 1)"},
      {{"--momentum", "1.5"}, 1, "--momentum 1.5: must be in [0, 1)"},
      {{"--lr-step", "0"}, 1, "--lr-step 0: must be at least 1"},
      {{"--val-split", "1"}, 1, "--val-split 1: must be in [0, 1)"},
      {{"--seed", "1e23"},
       2,
       "--seed: must be a whole number in [0, 18446744073709551615], not 1e23 (see backprop "
       "train --help)"},
      {{"--seed", "-1"}, 2, "not -1"},
      {{"--seed", "18446744073709551616"}, 2, "not 18446744073709551616"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{"train", "--data", "/nonexistent/data.csv"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const RunResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args.front() << ": " << r.describe();
    EXPECT_TRUE(contains(r.err, c.message)) << c.args.front() << ": " << r.err;
    EXPECT_EQ(split_lines(r.err).size(), 1u) << r.err;
  }
  const RunResult top = run_cli({"train", "--seed", "18446744073709551615", "--epochs", "0"});
  EXPECT_TRUE(contains(top.err, "--epochs 0: must be at least 1")) << "2^64-1 is a valid seed";
}

TEST_F(CliOutputs, AMistypedOptionGetsTheClosestOneOfItsCommand) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"train", "--optimiser", "adam"},
       "backprop: error: unknown option --optimiser; did you mean --optimizer? (see backprop "
       "train --help)\n"},
      {{"train", "--epoch", "3"},
       "backprop: error: unknown option --epoch; did you mean --epochs? (see backprop train "
       "--help)\n"},
      {{"train", "--learning-rate=0.1"},
       "backprop: error: unknown option --learning-rate; did you mean --lr? (see backprop train "
       "--help)\n"},
      {{"eval", "m", "--data", "d", "--jsno"},
       "backprop: error: unknown option --jsno; did you mean --json? (see backprop eval --help)\n"},
      {{"predict", "m", "--data", "d", "--xyzzy"},
       "backprop: error: unknown option --xyzzy (see backprop predict --help)\n"},
  };
  for (const Case& c : cases) {
    const RunResult r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_EQ(r.err, c.message);
  }
  const RunResult missing = run_cli({"eval"});
  EXPECT_EQ(missing.exit_code, 2) << missing.describe();
  EXPECT_TRUE(contains(missing.err, "(see backprop eval --help)")) << missing.err;
}

TEST_F(CliOutputs, ResumeTakesTheCheckpointsOwnValuesAndListsEveryChangedOne) {
  TempDir tmp;
  const std::string ck = tmp.str("ck");
  const std::string m = tmp.str("m");
  ASSERT_EQ(run_cli(train({"-o", m, "--epochs", "1", "--checkpoint", ck, "--lr", "0.1"})).exit_code,
            0);
  // The run's own command line again, with more epochs.
  const RunResult same =
      run_cli(train({"-o", m, "--epochs", "2", "--checkpoint", ck, "--lr", "0.1", "--resume", ck}));
  EXPECT_EQ(same.exit_code, 0) << same.describe();
  const RunResult changed =
      run_cli({"train", "--data", data_, "--resume", ck, "--hidden", "4", "--lr", "0.2",
               "--normalize", "none", "--epochs", "3", "-o", m});
  EXPECT_EQ(changed.exit_code, 1) << changed.describe();
  EXPECT_TRUE(contains(changed.err,
                       "backprop: error: --resume " + ck +
                           ": 3 options differ from the checkpoint's run: --hidden '4' "
                           "(checkpoint: '8'), --lr 0.2 (checkpoint: 0.1), --normalize 'none' "
                           "(checkpoint: 'standard'); give the checkpoint's values or leave them "
                           "out (a resumed run may change only --data, --test, --epochs, "))
      << changed.err;
}

TEST_F(CliOutputs, ProbabilitiesOfARegressorAreAnError) {
  TempDir tmp;
  write_file(tmp / "r.csv", make_regression_csv(100, 3));
  const std::string m = tmp.str("r.safetensors");
  ASSERT_EQ(run_cli({"train", "--data", tmp.str("r.csv"), "--hidden", "4", "--epochs", "1", "-q",
                     "--threads", "1", "-o", m})
                .exit_code,
            0);
  const RunResult r =
      run_cli({"predict", m, "--data", tmp.str("r.csv"), "--probabilities", "--threads", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_EQ(r.err, "backprop: error: --probabilities: " + m +
                       " is a regression model, which predicts a value, not class "
                       "probabilities; leave --probabilities out\n");
  EXPECT_TRUE(r.out.empty());
}

// ---- Streams as data ---------------------------------------------------------------------------

// Standard input, a pipe and a fifo are read once: the same weights as from the file itself
// (the model's metadata records the data's name, so the files differ there).
TEST_F(CliOutputs, StandardInputPipesAndFifosWorkAsData) {
  TempDir tmp;
  const std::string from_file = tmp.str("file.st");
  ASSERT_EQ(run_cli(train({"-o", from_file, "--epochs", "2"})).exit_code, 0);
  for (const std::string& name : {std::string("-"), std::string("/dev/stdin")}) {
    const std::string m = tmp.str("stdin.st");
    const RunResult r =
        run_shell("cat '" + data_ + "' | \"$BP\" train --data " + name +
                  " --hidden 8 -q --threads 1 --batch 16 --epochs 2 -o '" + m + "'");
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.describe();
    const Model a = load_model(m, 1), b = load_model(from_file, 1);
    for (std::int64_t l = 0; l < a.network->num_layers(); ++l) {
      const auto wa = a.network->weight(l), wb = b.network->weight(l);
      for (std::int64_t i = 0; i < wa.rows; ++i)
        for (std::int64_t j = 0; j < wa.cols; ++j) ASSERT_EQ(wa(i, j), wb(i, j)) << name;
    }
    EXPECT_EQ(a.info.training.at("data"), name);
  }
  const std::string fifo = tmp.str("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const RunResult from_fifo = run_shell("cat '" + data_ + "' > '" + fifo + "' & \"$BP\" eval '" +
                                        from_file + "' --data '" + fifo + "' --threads 1 --json");
  const RunResult direct =
      run_cli({"eval", from_file, "--data", data_, "--threads", "1", "--json"});
  EXPECT_EQ(from_fifo.exit_code, 0) << from_fifo.describe();
  EXPECT_EQ(from_fifo.out, direct.out);
  // A fifo as the model is refused at once, never waited on.
  const RunResult model_fifo = run_cli({"info", fifo});
  EXPECT_EQ(model_fifo.exit_code, 1) << model_fifo.describe();
  EXPECT_EQ(model_fifo.err, "backprop: error: " + fifo + ": is not a regular file\n");
}

// A stream is copied into an unnamed file in $TMPDIR: nothing is left there afterwards, and a
// directory that is missing or full is named in the message, with no model written.
TEST_F(CliOutputs, StreamsAreCopiedToAnUnnamedTemporaryFile) {
  TempDir tmp;
  const std::string spool = tmp.str("spool"), m = tmp.str("m.st");
  std::filesystem::create_directory(spool);
  const std::string pipe_in = "cat '" + data_ + "' | TMPDIR='";
  const std::string train_stdin = "\"$BP\" train --data - --hidden 8 -q --threads 1 -o '" + m + "'";
  const RunResult ok = run_shell(pipe_in + spool + "' " + train_stdin);
  EXPECT_EQ(ok.exit_code, 0) << ok.describe();
  EXPECT_TRUE(std::filesystem::exists(m));
  EXPECT_TRUE(std::filesystem::is_empty(spool));
  std::filesystem::remove(m);

  const std::string missing = tmp.str("missing");
  const RunResult no_dir = run_shell(pipe_in + missing + "' " + train_stdin);
  EXPECT_EQ(no_dir.exit_code, 1) << no_dir.describe();
  EXPECT_EQ(no_dir.err,
            "backprop: error: --data -: cannot copy the stream to a temporary file in " + missing +
                ": No such file or directory (set TMPDIR to a directory with room "
                "for it, or give --data a file)\n");
  EXPECT_FALSE(std::filesystem::exists(m));

  // A file size limit stands in for a full disk (SIGXFSZ ignored: write() fails with EFBIG).
  const RunResult full =
      run_shell("trap '' XFSZ; ulimit -f 1; " + pipe_in + spool + "' " + train_stdin);
  EXPECT_EQ(full.exit_code, 1) << full.describe();
  EXPECT_EQ(full.err, "backprop: error: --data -: cannot copy the stream to a temporary file in " +
                          spool +
                          ": File too large (set TMPDIR to a directory with room for it, or "
                          "give --data a file)\n");
  EXPECT_FALSE(std::filesystem::exists(m));
  EXPECT_TRUE(std::filesystem::is_empty(spool));
}

// ---- Reading and reporting ----------------------------------------------------------------------

TEST_F(CliOutputs, AFileThatIsNotAModelSaysSoAndSuggestsTheSwap) {
  const RunResult swapped = run_cli({"eval", data_, "--data", model_});
  EXPECT_EQ(swapped.exit_code, 1) << swapped.describe();
  EXPECT_TRUE(contains(swapped.err, "backprop: error: " + data_ +
                                        " is not a backprop model: it does not start with a "
                                        "safetensors header ("))
      << swapped.err;
  EXPECT_TRUE(
      contains(swapped.err, "; --data " + model_ + " is a model: did you swap MODEL and --data?\n"))
      << swapped.err;
  const RunResult info = run_cli({"info", data_});
  EXPECT_EQ(info.exit_code, 1) << info.describe();
  EXPECT_TRUE(contains(info.err, data_ + " is not a backprop model")) << info.err;
  EXPECT_FALSE(contains(info.err, "swap")) << info.err;
}

// Long class names are printed in full; F1 and the averages follow from precision, recall and
// the confusion matrix.
TEST_F(CliOutputs, EvalKeepsFullClassNamesAndAddsF1AndAverages) {
  TempDir tmp;
  std::string text = make_animals_csv(200, 23);
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{",cat\n", ",a_cat_of_a_long_name\n"},
        {",dog\n", ",dog_with_a_longer_name_still\n"}}) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at))
      text.replace(at, from.size(), to);
  }
  write_file(tmp / "long.csv", text);
  const std::string m = tmp.str("m");
  ASSERT_EQ(run_cli({"train", "--data", tmp.str("long.csv"), "--hidden", "8", "--epochs", "20",
                     "--optimizer", "adam", "--lr", "0.01", "-q", "--threads", "1", "-o", m})
                .exit_code,
            0);
  const RunResult r = run_cli({"eval", m, "--data", tmp.str("long.csv"), "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto lines = split_lines(r.out);
  const auto matrix = std::find(lines.begin(), lines.end(),
                                "confusion matrix (rows: true class, columns: predicted)");
  ASSERT_NE(matrix, lines.end()) << r.out;
  ASSERT_NE(matrix + 1, lines.end());
  EXPECT_TRUE(contains(matrix[1], " a_cat_of_a_long_name")) << matrix[1];
  EXPECT_TRUE(contains(matrix[1], " dog_with_a_longer_name_still")) << matrix[1];
  EXPECT_TRUE(contains(r.out, "macro avg")) << r.out;
  EXPECT_TRUE(contains(r.out, "weighted avg")) << r.out;

  const RunResult j =
      run_cli({"eval", m, "--data", tmp.str("long.csv"), "--threads", "1", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.describe();
  const auto e = nlohmann::json::parse(j.out);
  double macro_f1 = 0, weighted_f1 = 0;
  std::int64_t total = 0;
  for (std::size_t k = 0; k < 3; ++k) {
    const double p = e["precision"][k], rc = e["recall"][k], f1 = e["f1"][k];
    EXPECT_NEAR(f1, p + rc > 0 ? 2 * p * rc / (p + rc) : 0.0, 1e-12);
    std::int64_t support = 0;
    for (std::size_t c = 0; c < 3; ++c) support += e["confusion"][k][c].get<std::int64_t>();
    EXPECT_EQ(e["support"][k], support);
    macro_f1 += f1 / 3;
    weighted_f1 += f1 * static_cast<double>(support);
    total += support;
  }
  EXPECT_EQ(total, 200);
  EXPECT_NEAR(e["macro"]["f1"].get<double>(), macro_f1, 1e-12);
  EXPECT_NEAR(e["weighted"]["f1"].get<double>(), weighted_f1 / 200.0, 1e-12);
}

// A process limit (ulimit -u) that leaves no room for the worker threads: train says so and exits
// 1, never hangs, and with --threads 1 (no worker) the same limit lets it train. The kernel
// exempts root from RLIMIT_NPROC, so as root the run drops to the user nobody (setpriv); a limit
// of 1 then fails every thread creation, since the user already runs the tool itself.
TEST_F(CliOutputs, AProcessLimitIsAClearErrorNotAHang) {
  if (!fs::exists("/usr/bin/prlimit")) GTEST_SKIP() << "prlimit (util-linux) is not installed";
  std::vector<std::string> prefix;
  if (::geteuid() == 0) {
    if (!fs::exists("/usr/bin/setpriv")) GTEST_SKIP() << "setpriv (util-linux) is not installed";
    prefix = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    Child probe([&] {
      auto argv = prefix;
      argv.insert(argv.end(), {"/usr/bin/test", "-x", cli_path()});
      return argv;
    }());
    if (probe.wait(10).exit_code != 0)
      GTEST_SKIP() << "the user nobody cannot run " << cli_path() << " from here";
  }
  if (testing_support::kAddressSanitizer)  // LeakSanitizer's thread at exit is forbidden too
    prefix.insert(prefix.end(), {"/usr/bin/env", "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"});
  TempDir tmp;
  fs::permissions(tmp.path(), fs::perms::all);  // nobody writes its output here
  write_file(tmp / "animals.csv", read_file(data_));
  fs::permissions(tmp / "animals.csv", fs::perms::owner_read | fs::perms::owner_write |
                                           fs::perms::group_read | fs::perms::others_read);
  const auto limited = [&](const std::string& threads, const std::string& out) {
    auto argv = prefix;
    argv.insert(argv.end(), {"/usr/bin/prlimit", "--nproc=1", "--", cli_path(), "train", "--data",
                             tmp.str("animals.csv"), "--hidden", "8", "--epochs", "1", "-q",
                             "--threads", threads, "-o", out});
    Child child(argv);
    return child.wait(60);
  };
  const RunResult r = limited("4", tmp.str("four.safetensors"));
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_TRUE(contains(r.err, "cannot start worker thread 1 of 3")) << r.err;
  EXPECT_TRUE(contains(r.err, "use fewer threads (--threads) or raise the limit (ulimit -u"))
      << r.err;
  EXPECT_FALSE(fs::exists(tmp / "four.safetensors"));

  const RunResult one = limited("1", tmp.str("one.safetensors"));
  EXPECT_EQ(one.exit_code, 0) << one.describe();
  EXPECT_TRUE(fs::exists(tmp / "one.safetensors")) << one.describe();
}

}  // namespace
}  // namespace backprop::test
