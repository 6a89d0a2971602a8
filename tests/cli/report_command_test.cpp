// `backprop report`, `train --report`, the health messages and the epoch line, end to end
// through the tool (the browser side is tests/interop/report).
#include <gtest/gtest.h>

#include "cli/cli_test_util.hpp"

namespace backprop::test {
namespace {

class CliReport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    data_ = dir_->str("idx");
    write_idx_dataset(data_, 600, 200, 5);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
  static std::string data_;
};
TempDir* CliReport::dir_ = nullptr;
std::string CliReport::data_;

TEST_F(CliReport, TrainWritesTheReportAndTheEpochLineHasNoEmptyColumns) {
  TempDir tmp;
  const RunResult r = run_cli({"train", "--data", data_, "--layers", "64,16,10", "--epochs", "2",
                               "--threads", "1", "-o", tmp.str("m.safetensors"), "--metrics",
                               tmp.str("m.jsonl"), "--report", tmp.str("r.html")});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "report: " + tmp.str("r.html"))) << r.out;
  EXPECT_FALSE(contains(r.out, "val_loss")) << "no validation set, no val_loss column:\n" << r.out;
  EXPECT_FALSE(contains(r.out, " - ")) << r.out;
  EXPECT_FALSE(contains(r.err, "\r")) << "no progress bar when stderr is not a terminal";
  const std::string html = read_file(tmp / "r.html");
  EXPECT_TRUE(contains(html, "<section id=\"evaluation\">"));
  EXPECT_TRUE(contains(html, "data-chart=\"weight_norm\""));
  EXPECT_TRUE(contains(read_file(tmp / "m.jsonl"), "\"layers\":[{\"layer\":1,"));

  const RunResult v =
      run_cli({"train", "--data", data_, "--layers", "64,16,10", "--epochs", "1", "--threads", "1",
               "--val-split", "0.2", "-o", tmp.str("v.safetensors")});
  ASSERT_EQ(v.exit_code, 0) << v.describe();
  EXPECT_TRUE(contains(v.out, "val_loss ") && contains(v.out, "val_acc ")) << v.out;

  const RunResult rep = run_cli({"report", tmp.str("m.safetensors"), "--metrics",
                                 tmp.str("m.jsonl"), "--data", data_, "-o", tmp.str("c.html")});
  ASSERT_EQ(rep.exit_code, 0) << rep.describe();
  EXPECT_TRUE(contains(read_file(tmp / "c.html"), "<section id=\"wrong\">"));
}

TEST_F(CliReport, ReportRefusesABadMetricsFileAndAMissingModel) {
  TempDir tmp;
  ASSERT_EQ(run_cli({"train", "--data", data_, "--layers", "64,16,10", "--epochs", "1", "-q", "-o",
                     tmp.str("m.safetensors")})
                .exit_code,
            0);
  write_file(tmp / "bad.jsonl", "{\"epoch\": 1}\n");
  const RunResult r = run_cli({"report", tmp.str("m.safetensors"), "--metrics",
                               tmp.str("bad.jsonl"), "-o", tmp.str("r.html")});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_TRUE(contains(r.err, "bad.jsonl:1:")) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "r.html"));
  const RunResult m = run_cli({"report", tmp.str("none.safetensors"), "-o", tmp.str("r.html")});
  EXPECT_EQ(m.exit_code, 1) << m.describe();
  EXPECT_FALSE(fs::exists(tmp / "r.html"));
}

// A finite explosion (sigmoid units keep the loss finite) stops like a NaN: exit 3, the last
// good model, and the metrics and report still written.
TEST_F(CliReport, AnExplodingLossExitsThreeWithTheDivergenceMessage) {
  TempDir tmp;
  for (const char* activation : {"sigmoid", "relu"}) {
    SCOPED_TRACE(activation);
    const RunResult r = run_cli({"train", "--data", data_, "--layers", "64,16,10", "--activation",
                                 activation, "--lr", "1e6", "--epochs", "2", "--threads", "1", "-o",
                                 tmp.str("m.safetensors"), "--report", tmp.str("r.html")});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    EXPECT_TRUE(contains(r.err, "training diverged at epoch 1")) << r.err;
    EXPECT_TRUE(contains(r.err, "learning rate (1000000) is too high")) << r.err;
    EXPECT_TRUE(fs::exists(tmp / "m.safetensors"));
    EXPECT_TRUE(fs::exists(tmp / "r.html"));
  }
}

TEST_F(CliReport, HealthWarningsGoToStderrNamingEpochLayerAndFix) {
  TempDir tmp;
  // A learning rate this small leaves the loss where it started.
  const RunResult r = run_cli({"train", "--data", data_, "--layers", "64,16,10", "--lr", "1e-9",
                               "--epochs", "4", "--threads", "1", "-o", tmp.str("m.safetensors")});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(contains(r.err, "backprop: warning: epoch 4: the training loss")) << r.err;
  EXPECT_TRUE(contains(r.err, "Likely fix: a higher learning rate")) << r.err;
  const RunResult q =
      run_cli({"train", "--data", data_, "--layers", "64,16,10", "--lr", "1e-9", "--epochs", "4",
               "--threads", "1", "-q", "-o", tmp.str("m.safetensors")});
  EXPECT_EQ(q.err, "") << "-q prints nothing but errors";
}

}  // namespace
}  // namespace backprop::test
