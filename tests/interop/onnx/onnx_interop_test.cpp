// ONNX interop, proven by the other side (docs/onnx.md):
//   - backprop's exports run on ONNX Runtime (onnxruntime-node, run_onnxruntime.js) and on
//     OpenCV's dnn module, and pass onnx.checker.check_model(full_check=True)
//     (check_exports.py); their outputs match backprop predict within 1e-5 for every
//     activation, with and without preprocessing, classification and regression, batch 1 and 7;
//   - export -> import -> export gives the same bytes;
//   - files written by PyTorch (torch.onnx.export, opsets 9 to 14) and by the onnx helper in the
//     layouts of skl2onnx and Keras converters (make_producer_models.py) import, predict as
//     their producer does within 1e-5, and fine-tune with train --init.
// Data and models are generated here (tiny CSV and IDX sets, a few epochs); nothing is
// downloaded. Each runtime runs once per test process, on all models together.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "backprop/csv.hpp"
#include "backprop/evaluate.hpp"
#include "backprop/idx.hpp"
#include "backprop/model.hpp"
#include "backprop/thread_pool.hpp"
#include "cli/cli_test_util.hpp"

namespace backprop::test {
namespace {

using nlohmann::json;

const fs::path kInteropDir = fs::path(BACKPROP_SOURCE_DIR) / "tests" / "interop" / "onnx";
constexpr double kTolerance = 1e-5;
constexpr int kRows = 7;  // the larger batch; the smaller is 1

// What an exported model should produce for its first kRows samples.
struct Case {
  std::string name;
  fs::path model, onnx;
  Task task = Task::classification;
  std::int64_t outputs = 0;
  std::vector<std::vector<float>> rows;      // raw inputs
  std::vector<std::vector<float>> expected;  // backprop's predict() for each row
};

Dataset load_for(const ModelInfo& info, const fs::path& data) {
  if (info.input_format == "idx")
    return read_idx(data / "t10k-images-idx3-ubyte", data / "t10k-labels-idx1-ubyte");
  CsvSchema s;
  s.feature_names = info.feature_names;
  s.label_name = info.label_name;
  s.task = info.task;
  s.class_names = info.class_names;
  s.has_header = info.csv_header;
  s.columns = info.csv_columns;
  return read_csv_for_model(data, s, false, "");
}

// backprop's predictions for the first kRows samples of `data`, and those samples.
void expect_from_model(Case& c, const fs::path& data) {
  Model m = load_model(c.model, 64);
  const Dataset d = load_for(m.info, data);
  ThreadPool pool(1);
  const std::vector<float> out = predict(*m.network, d, m.info.preprocessing, pool);
  c.task = m.info.task;
  c.outputs = m.network->architecture().outputs();
  for (std::int64_t i = 0; i < kRows; ++i) {
    std::vector<float> x;
    for (std::int64_t j = 0; j < d.features; ++j) x.push_back(d.raw(i, j));
    c.rows.push_back(x);
    c.expected.emplace_back(out.begin() + i * c.outputs, out.begin() + (i + 1) * c.outputs);
  }
}

std::int64_t argmax_of(const std::vector<float>& v) {
  return std::max_element(v.begin(), v.end()) - v.begin();
}

// The largest |difference| between a runtime's outputs for a batch and the expected rows;
// fails (returning infinity) on a missing output, a wrong size or a wrong class index.
double compare(const Case& c, const json& batch_outputs, int batch, const std::string& runtime) {
  const char* values_name = c.task == Task::classification ? "probabilities" : "predictions";
  if (!batch_outputs.contains(values_name)) {
    ADD_FAILURE() << runtime << " " << c.name << " batch " << batch << ": no output '"
                  << values_name << "' in " << batch_outputs.dump().substr(0, 400);
    return std::numeric_limits<double>::infinity();
  }
  const auto values = batch_outputs.at(values_name).get<std::vector<double>>();
  if (values.size() != static_cast<std::size_t>(batch * c.outputs)) {
    ADD_FAILURE() << runtime << " " << c.name << " batch " << batch << ": " << values.size()
                  << " values for " << batch << " x " << c.outputs;
    return std::numeric_limits<double>::infinity();
  }
  double worst = 0.0;
  for (int i = 0; i < batch; ++i)
    for (std::int64_t k = 0; k < c.outputs; ++k)
      worst = std::max(
          worst,
          std::abs(values[static_cast<std::size_t>(i * c.outputs + k)] -
                   static_cast<double>(
                       c.expected[static_cast<std::size_t>(i)][static_cast<std::size_t>(k)])));
  if (c.task == Task::classification) {
    if (!batch_outputs.contains("class_index")) {
      ADD_FAILURE() << runtime << " " << c.name << ": no output 'class_index'";
      return std::numeric_limits<double>::infinity();
    }
    const auto index = batch_outputs.at("class_index").get<std::vector<double>>();
    EXPECT_EQ(index.size(), static_cast<std::size_t>(batch)) << runtime << " " << c.name;
    for (int i = 0; i < batch && i < static_cast<int>(index.size()); ++i)
      EXPECT_EQ(static_cast<std::int64_t>(index[static_cast<std::size_t>(i)]),
                argmax_of(c.expected[static_cast<std::size_t>(i)]))
          << runtime << " " << c.name << " row " << i;
  }
  return worst;
}

json read_json(const fs::path& path) { return json::parse(read_file(path)); }

// ---- backprop's exports on the runtimes -------------------------------------------------------

class OnnxExports : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (cli_path().empty() || !fs::exists(cli_path())) return;
    dir_ = std::make_unique<TempDir>();
    try {
      build();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { dir_.reset(); }

  void SetUp() override {
    BACKPROP_REQUIRE_CLI();
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    ASSERT_GE(cases_.size(), 12u);
  }

  static void train(const std::vector<std::string>& args) {
    const RunResult r = run_cli(args, 120);
    if (r.exit_code != 0) throw std::runtime_error("backprop training failed: " + r.describe());
  }

  static void build() {
    const TempDir& d = *dir_;
    write_file(d / "animals.csv", make_animals_csv(240, 7));
    write_file(d / "regression.csv", make_regression_csv(240, 8));
    write_idx_dataset(d / "idx", 200, 20, 9);
    struct Spec {
      std::string name, data, hidden, activation, normalize;
    };
    std::vector<Spec> specs;
    for (const char* act : {"sigmoid", "tanh", "relu", "leaky_relu"}) {
      specs.push_back(
          {std::string("cls_") + act + "_standard", "animals.csv", "6,5", act, "standard"});
      specs.push_back({std::string("cls_") + act + "_none", "animals.csv", "6", act, "none"});
    }
    specs.push_back({"reg_tanh_standard", "regression.csv", "8", "tanh", "standard"});
    specs.push_back({"reg_relu_none", "regression.csv", "8", "relu", "none"});
    specs.push_back({"reg_sigmoid_minmax", "regression.csv", "5,4", "sigmoid", "minmax"});
    specs.push_back({"idx_relu_unit_range", "idx", "12", "relu", ""});
    for (const Spec& s : specs) {
      Case c;
      c.name = s.name;
      c.model = d / (s.name + ".safetensors");
      c.onnx = d / (s.name + ".onnx");
      std::vector<std::string> args = {"train",  "--data",       d.str(s.data), "--hidden",
                                       s.hidden, "--activation", s.activation,  "--epochs",
                                       "3",      "--batch",      "16",          "--seed",
                                       "3",      "-q",           "-o",          c.model.string()};
      if (!s.normalize.empty()) args.insert(args.end(), {"--normalize", s.normalize});
      // Unscaled inputs up to 1e6 need a small step.
      if (s.normalize == "none") args.insert(args.end(), {"--lr", "1e-7"});
      train(args);
      const RunResult e = run_cli({"export", c.model.string(), "-o", c.onnx.string(), "-q"});
      if (e.exit_code != 0) throw std::runtime_error("export failed: " + e.describe());
      expect_from_model(c, d / s.data);
      cases_.push_back(std::move(c));
    }

    json manifest = json::array();
    for (const Case& c : cases_)
      manifest.push_back({{"name", c.name},
                          {"onnx", c.onnx.string()},
                          {"features", c.rows.front().size()},
                          {"rows", c.rows}});
    write_file(d / "manifest.json", manifest.dump());
  }

  // Each runtime runs once per process, in the tests that need it (CTest runs every test in a
  // process of its own, so work done in SetUpTestSuite is repeated per test).
  static void run_onnxruntime() {
    const TempDir& d = *dir_;
    const fs::path node_modules = kInteropDir / "node_modules" / "onnxruntime-node";
    if (!fs::exists(node_modules)) {
      ort_error_ = node_modules.string() +
                   " is missing: run `ONNXRUNTIME_NODE_INSTALL=skip npm ci` in " +
                   kInteropDir.string() + " (scripts/test.sh does)";
      return;
    }
    const RunResult r =
        Child({"/usr/bin/env", "node", (kInteropDir / "run_onnxruntime.js").string(),
               d.str("manifest.json"), d.str("ort.json")})
            .wait(120);
    if (r.exit_code != 0)
      ort_error_ = "run_onnxruntime.js failed: " + r.describe();
    else
      ort_ = read_json(d / "ort.json");
  }

  static void run_python_checks() {
    const TempDir& d = *dir_;
    const RunResult p = Child({"/usr/bin/python3", (kInteropDir / "check_exports.py").string(),
                               d.str("manifest.json"), d.str("python.json")})
                            .wait(120);
    if (p.exit_code != 0)
      python_error_ = "check_exports.py failed: " + p.describe();
    else
      python_ = read_json(d / "python.json");
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::vector<Case> cases_;
  static inline std::string setup_error_, ort_error_, python_error_;
  static inline json ort_, python_;
};

TEST_F(OnnxExports, OnnxRuntimeMatchesPredictForEveryModelAndBatch) {
  run_onnxruntime();
  ASSERT_TRUE(ort_error_.empty()) << ort_error_;
  double worst = 0.0;
  for (const Case& c : cases_) {
    ASSERT_TRUE(ort_.contains(c.name)) << c.name;
    for (const int batch : {1, kRows}) {
      const double diff =
          compare(c, ort_.at(c.name).at(std::to_string(batch)), batch, "onnxruntime");
      EXPECT_LE(diff, kTolerance) << c.name << " batch " << batch;
      worst = std::max(worst, diff);
    }
  }
  std::printf("onnxruntime: largest difference from backprop predict %.3g over %zu models\n", worst,
              cases_.size());
}

TEST_F(OnnxExports, OnnxCheckerAcceptsEveryExport) {
  run_python_checks();
  ASSERT_TRUE(python_error_.empty()) << python_error_;
  for (const Case& c : cases_) EXPECT_EQ(python_.at("checker").at(c.name), "ok") << c.name;
}

TEST_F(OnnxExports, OpenCvDnnLoadsEveryExportAndMatchesPredict) {
  run_python_checks();
  ASSERT_TRUE(python_error_.empty()) << python_error_;
  double worst = 0.0;
  for (const Case& c : cases_) {
    const json& r = python_.at("opencv").at(c.name);
    ASSERT_TRUE(r.is_object()) << c.name << ": OpenCV: " << r.dump();
    for (const int batch : {1, kRows}) {
      const double diff = compare(c, r.at(std::to_string(batch)), batch, "opencv");
      EXPECT_LE(diff, kTolerance) << c.name << " batch " << batch;
      worst = std::max(worst, diff);
    }
  }
  std::printf("opencv: largest difference from backprop predict %.3g over %zu models\n", worst,
              cases_.size());
}

TEST_F(OnnxExports, ExportImportExportIsBitIdenticalAndPredictsTheSame) {
  for (const Case& c : cases_) {
    const fs::path imported = dir_->path() / (c.name + ".imported.safetensors");
    const fs::path again = dir_->path() / (c.name + ".again.onnx");
    const RunResult i = run_cli({"import", c.onnx.string(), "-o", imported.string(), "-q"});
    ASSERT_EQ(i.exit_code, 0) << i.describe();
    const RunResult e = run_cli({"export", imported.string(), "-o", again.string(), "-q"});
    ASSERT_EQ(e.exit_code, 0) << e.describe();
    EXPECT_TRUE(read_file(c.onnx) == read_file(again)) << c.name << ": the second export differs";

    Model original = load_model(c.model, 8);
    Model back = load_model(imported, 8);
    EXPECT_EQ(back.info.architecture.widths, original.info.architecture.widths);
    EXPECT_EQ(back.info.class_names, original.info.class_names);
    EXPECT_EQ(back.info.feature_names, original.info.feature_names);
    const auto a = original.network->parameters();
    const auto b = back.network->parameters();
    ASSERT_EQ(a.size(), b.size());
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin())) << c.name;
  }
}

TEST_F(OnnxExports, ExportRefusesAMissingModelAndAnUnwritableOutput) {
  const RunResult missing =
      run_cli({"export", dir_->str("nope.safetensors"), "-o", dir_->str("x.onnx")});
  EXPECT_EQ(missing.exit_code, 1) << missing.describe();
  const RunResult dir =
      run_cli({"export", cases_.front().model.string(), "-o", dir_->str("no/such/dir/x.onnx")});
  EXPECT_EQ(dir.exit_code, 1) << dir.describe();
  EXPECT_FALSE(fs::exists(dir_->path() / "x.onnx"));
}

// ---- other producers' files into backprop -----------------------------------------------------

class OnnxProducers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (cli_path().empty() || !fs::exists(cli_path())) return;
    dir_ = std::make_unique<TempDir>();
    const RunResult r =
        Child({"/usr/bin/python3", (kInteropDir / "make_producer_models.py").string(),
               dir_->str("models")})
            .wait(180);
    if (r.exit_code != 0)
      setup_error_ = "make_producer_models.py failed: " + r.describe();
    else
      expected_ = read_json(dir_->path() / "models" / "expected.json");
  }
  static void TearDownTestSuite() { dir_.reset(); }

  void SetUp() override {
    BACKPROP_REQUIRE_CLI();
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }

  static fs::path imported(const std::string& name) {
    return dir_->path() / "models" / (name + ".safetensors");
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string setup_error_;
  static inline json expected_;
};

TEST_F(OnnxProducers, EveryFileImportsAndPredictsAsItsProducerDoes) {
  ASSERT_GE(expected_.size(), 8u);
  int torch_files = 0;
  std::set<std::int64_t> torch_opsets;
  double worst = 0.0;
  for (const auto& [name, e] : expected_.items()) {
    const RunResult r =
        run_cli({"import", e.at("onnx").get<std::string>(), "-o", imported(name).string()});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.describe();
    if (e.at("producer").get<std::string>().rfind("torch", 0) == 0) {
      ++torch_files;
      torch_opsets.insert(e.at("opset").get<std::int64_t>());
    }

    Model m = load_model(imported(name), 16);
    const bool classify = e.at("task") == "classification";
    EXPECT_EQ(m.info.task == Task::classification, classify) << name;
    if (e.contains("classes")) {
      EXPECT_EQ(m.info.class_names, e.at("classes").get<std::vector<std::string>>()) << name;
    }
    Dataset d;
    const auto rows = e.at("rows").get<std::vector<std::vector<float>>>();
    d.rows = static_cast<std::int64_t>(rows.size());
    d.features = static_cast<std::int64_t>(rows.front().size());
    for (const auto& row : rows) d.values.insert(d.values.end(), row.begin(), row.end());
    d.task = m.info.task;
    d.class_names = m.info.class_names;
    d.source = name;
    ThreadPool pool(1);
    const std::vector<float> out = predict(*m.network, d, m.info.preprocessing, pool);
    const auto want = e.at("outputs").get<std::vector<std::vector<double>>>();
    const std::int64_t r_out = m.network->architecture().outputs();
    ASSERT_EQ(static_cast<std::size_t>(r_out), want.front().size()) << name;
    double diff = 0.0;
    for (std::size_t i = 0; i < want.size(); ++i)
      for (std::size_t k = 0; k < want[i].size(); ++k)
        diff = std::max(diff,
                        std::abs(static_cast<double>(out[i * static_cast<std::size_t>(r_out) + k]) -
                                 want[i][k]));
    EXPECT_LE(diff, kTolerance) << name;
    worst = std::max(worst, diff);
  }
  EXPECT_GE(torch_files, 6);
  EXPECT_EQ(torch_opsets, (std::set<std::int64_t>{9, 11, 13, 14}));
  std::printf("producers: largest difference from the producer's outputs %.3g over %zu files\n",
              worst, expected_.size());
}

TEST_F(OnnxProducers, ImportedModelsPredictAndFineTuneThroughTheTool) {
  const std::string name = "torch_opset13_dropout_inputs";
  ASSERT_TRUE(expected_.contains(name));
  const auto& e = expected_.at(name);
  const fs::path model = imported(name);
  if (!fs::exists(model)) {
    const RunResult r = run_cli({"import", e.at("onnx").get<std::string>(), "-o", model.string()});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
  }
  // A headerless CSV of the 4 features and a class 0..2 in the last column: the schema an
  // imported model without backprop's metadata reads.
  TestRng rng(5);
  std::string csv;
  for (int i = 0; i < 120; ++i) {
    const double a = rng.uniform(-2, 2), b = rng.uniform(-2, 2), c = rng.uniform(-2, 2),
                 d = rng.uniform(-2, 2);
    csv += fmt::format("{},{},{},{},{}\n", a, b, c, d, a + b > 0.5 ? 2 : (c > 0 ? 1 : 0));
  }
  write_file(dir_->path() / "tune.csv", csv);

  const RunResult p = run_cli({"predict", model.string(), "--data", dir_->str("tune.csv")});
  ASSERT_EQ(p.exit_code, 0) << p.describe();
  EXPECT_EQ(std::count(p.out.begin(), p.out.end(), '\n'), 121) << p.out.substr(0, 200);
  const RunResult ev = run_cli({"eval", model.string(), "--data", dir_->str("tune.csv")});
  ASSERT_EQ(ev.exit_code, 0) << ev.describe();

  const fs::path tuned = dir_->path() / "tuned.safetensors";
  const RunResult t =
      run_cli({"train", "--data", dir_->str("tune.csv"), "--header", "no", "--init", model.string(),
               "--hidden", e.at("hidden"), "--activation", e.at("activation"), "--epochs", "1",
               "--batch", "16", "-o", tuned.string()});
  ASSERT_EQ(t.exit_code, 0) << t.describe();
  EXPECT_NE(t.out.find("epoch   1/1"), std::string::npos) << t.out;
  // The step moved the imported weights.
  Model before = load_model(model, 1);
  Model after = load_model(tuned, 1);
  const auto a = before.network->parameters();
  const auto b = after.network->parameters();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_FALSE(std::equal(a.begin(), a.end(), b.begin()));
}

}  // namespace
}  // namespace backprop::test
