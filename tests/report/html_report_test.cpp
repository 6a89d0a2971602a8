// The HTML report from a trained network: sections for classification and regression, names
// escaped, chart contents counted; the data hash and the metrics reader.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include "backprop/report.hpp"
#include "backprop/rng.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

Dataset data(Task task, std::int64_t rows, std::uint64_t seed) {
  Rng rng(seed);
  Dataset d;
  d.rows = rows;
  d.features = 3;
  d.task = task;
  for (std::int64_t i = 0; i < rows; ++i) {
    float sum = 0;
    for (int j = 0; j < 3; ++j) {
      const auto v = static_cast<float>(rng.uniform());
      d.values.push_back(v);
      sum += v;
    }
    if (task == Task::classification) {
      d.labels.push_back(sum > 1.5f ? 1 : (sum > 1.0f ? 2 : 0));
    } else {
      d.targets.push_back(2 * sum + 1);
    }
  }
  if (task == Task::classification) d.class_names = {"<script>x</script>", "a&b", "\"q\""};
  d.source = "gen<erated>.csv";
  return d;
}

struct Trained {
  ModelInfo info;
  std::unique_ptr<Network> net;
  std::vector<EpochMetrics> history;
};

Trained train(const Dataset& d) {
  Trained t;
  const bool classify = d.task == Task::classification;
  t.info.architecture = {
      {3, 8, classify ? 3 : 1}, {Activation::relu}, classify ? Loss::cross_entropy : Loss::mse};
  t.info.task = d.task;
  t.info.class_names = d.class_names;
  t.info.input_format = "csv";
  std::vector<std::int64_t> rows(static_cast<std::size_t>(d.rows));
  std::iota(rows.begin(), rows.end(), 0);
  t.info.preprocessing = Preprocessing::identity(3);
  t.info.preprocessing.fit_targets(d, rows);
  t.info.training = {{"optimizer", "adam"}, {"seed", "<1>"}};
  t.net = std::make_unique<Network>(t.info.architecture, 32);
  t.net->initialize(1);
  TrainOptions o;
  o.epochs = 4;
  o.batch = 32;
  o.optimizer.kind = OptimizerKind::adam;
  o.schedule.base_lr = 0.01f;
  ThreadPool pool(1);
  Trainer trainer(*t.net, t.info.preprocessing, o, d, rows, pool);
  trainer.set_test(d);
  trainer.run();
  t.history = trainer.state().history;
  return t;
}

TEST(HtmlReport, ClassificationHasEverySectionAndEscapesEveryName) {
  const Dataset d = data(Task::classification, 300, 1);
  Trained t = train(d);
  ThreadPool pool(1);
  ReportInput in;
  in.info = &t.info;
  in.network = t.net.get();
  in.history = t.history;
  in.data = &d;
  in.data_role = "test set";
  in.model_path = "m<odel>.safetensors";
  in.version = "backprop test";
  const std::string html = render_report(in, pool);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id : {"summary", "curves", "layers", "health", "evaluation", "run"})
    EXPECT_NE(html.find(std::string("<section id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("gen<erated>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;x&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("a&amp;b"), std::string::npos);
  EXPECT_NE(html.find("m&lt;odel&gt;.safetensors"), std::string::npos);
  EXPECT_NE(html.find("&lt;1&gt;"), std::string::npos);  // a provenance value
  EXPECT_EQ(count(html, "<rect class=\"cell\""), 9u);
  EXPECT_EQ(count(html, "data-chart=\"loss\" data-series=\"2\""), 1u);  // train, test
  EXPECT_EQ(count(html, "data-chart=\"accuracy\" data-series=\"2\""), 1u);
  EXPECT_EQ(count(html, "data-chart=\"dead_fraction\" data-series=\"1\""), 1u);
  EXPECT_EQ(html.find("data-chart=\"saturated_fraction\""), std::string::npos);  // no sigmoid
  EXPECT_EQ(html.find("id=\"weights\""), std::string::npos);                     // not images
  EXPECT_NE(html.find(dataset_hash(d)), std::string::npos);
}

TEST(HtmlReport, RegressionShowsPredictedAgainstTrueAndResiduals) {
  const Dataset d = data(Task::regression, 1500, 2);
  Trained t = train(d);
  ThreadPool pool(1);
  ReportInput in;
  in.info = &t.info;
  in.network = t.net.get();
  in.data = &d;
  in.data_role = "data";
  const std::string html = render_report(in, pool);
  EXPECT_EQ(count(html, "<circle class=\"point\""), 2000u);  // 1000 per chart, evenly spaced
  EXPECT_NE(html.find("1000 of 1500 samples shown"), std::string::npos);
  EXPECT_EQ(html.find("rect class=\"cell\""), std::string::npos);
  EXPECT_NE(html.find("No metrics file was given"), std::string::npos);
}

TEST(HtmlReport, TheDataHashFollowsTheContents) {
  const Dataset a = data(Task::classification, 50, 3);
  Dataset b = a;
  EXPECT_EQ(dataset_hash(a), dataset_hash(b));
  EXPECT_EQ(dataset_hash(a).size(), 16u);
  b.labels[7] = (b.labels[7] + 1) % 3;
  EXPECT_NE(dataset_hash(a), dataset_hash(b));
}

TEST(HtmlReport, TheMetricsReaderNamesTheBadLine) {
  const auto path = std::filesystem::temp_directory_path() / "backprop_report_metrics.jsonl";
  EpochMetrics m;
  m.epoch = 1;
  {
    std::ofstream out(path);
    out << to_json(m) << "\n\n{\"epoch\": 2}\n";
  }
  const std::string message = testing_support::error_of([&] { read_metrics_file(path); });
  EXPECT_NE(message.find(path.string() + ":3:"), std::string::npos) << message;
  std::filesystem::remove(path);
  EXPECT_NE(testing_support::error_of([&] { read_metrics_file(path); }).find("cannot open"),
            std::string::npos);
}

}  // namespace
}  // namespace backprop
