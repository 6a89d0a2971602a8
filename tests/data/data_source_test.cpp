// The reader choice of load_training_data / load_data_for_model: directory -> IDX pair,
// IDX magic -> IDX images with the labels beside, anything else -> CSV; and the messages for
// paths that are missing or of the wrong kind.
#include "backprop/data_source.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "backprop/idx.hpp"
#include "cli/cli_test_util.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;
using testing_support::error_of;
using Bytes = std::vector<std::uint8_t>;

class DataSourceTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return tmp_.str(name); }
  void write_text(const std::string& name, const std::string& text) const {
    test::write_file(tmp_ / name, text);
  }
  // `labels.size()` 2x3 images whose pixel j of image i is 10 i + j, with those labels.
  static void write_pair(const fs::path& images, const fs::path& labels, const Bytes& classes) {
    Bytes pixels;
    for (std::size_t i = 0; i < classes.size(); ++i)
      for (std::size_t j = 0; j < 6; ++j) pixels.push_back(static_cast<std::uint8_t>(10 * i + j));
    write_idx_images(images, static_cast<std::int64_t>(classes.size()), 2, 3, pixels);
    write_idx_labels(labels, classes);
  }
  // An MNIST-layout directory: 4 training images (classes 0-2) and 3 test images (0-4).
  fs::path mnist_dir(const std::string& name) const {
    const fs::path d = dir_ / name;
    fs::create_directories(d);
    write_pair(d / "train-images-idx3-ubyte", d / "train-labels-idx1-ubyte", {0, 2, 1, 2});
    write_pair(d / "t10k-images-idx3-ubyte", d / "t10k-labels-idx1-ubyte", {4, 0, 3});
    return d;
  }

  test::TempDir tmp_;
  const fs::path& dir_ = tmp_.path();
};

const std::vector<std::string> kFiveClasses = {"0", "1", "2", "3", "4"};

TEST_F(DataSourceTest, DirectoryGivesTrainAndTestPairsWithOneClassList) {
  const TrainingData d = load_training_data(mnist_dir("mnist").string(), "", {});
  EXPECT_FALSE(d.csv);
  EXPECT_EQ(d.train.rows, 4);
  EXPECT_EQ(d.train.features, 6);
  EXPECT_EQ(d.train.labels, (std::vector<std::int32_t>{0, 2, 1, 2}));
  EXPECT_EQ(d.train.raw(1, 4), 14.0f);
  ASSERT_TRUE(d.test.has_value());
  EXPECT_EQ(d.test->rows, 3);
  EXPECT_EQ(d.test->labels, (std::vector<std::int32_t>{4, 0, 3}));
  // The test set has the top class: both sets name all five.
  EXPECT_EQ(d.train.class_names, kFiveClasses);
  EXPECT_EQ(d.test->class_names, kFiveClasses);
}

TEST_F(DataSourceTest, IdxImagesFileFindsItsLabelsBeside) {
  const fs::path d = mnist_dir("mnist");
  const TrainingData data =
      load_training_data((d / "t10k-images-idx3-ubyte").string(), "", CsvOptions{});
  EXPECT_FALSE(data.csv);
  EXPECT_FALSE(data.test.has_value());
  EXPECT_EQ(data.train.rows, 3);
  EXPECT_EQ(data.train.labels, (std::vector<std::int32_t>{4, 0, 3}));
}

TEST_F(DataSourceTest, SeparateTestOverridesTheDirectorysT10k) {
  const fs::path d = mnist_dir("mnist");
  const TrainingData data =
      load_training_data(d.string(), (d / "train-images-idx3-ubyte").string(), CsvOptions{});
  ASSERT_TRUE(data.test.has_value());
  EXPECT_EQ(data.test->rows, 4);
  EXPECT_EQ(data.train.class_names, (std::vector<std::string>{"0", "1", "2"}));
}

TEST_F(DataSourceTest, AnythingElseIsCsvWithItsOptions) {
  write_text("pets.csv", "name,weight,legs,kind\nrex,30.5,4,dog\ntweety,0.1,2,bird\n");
  CsvOptions options;
  options.ignore = {"name"};
  const TrainingData d = load_training_data(path("pets.csv"), "", options);
  EXPECT_TRUE(d.csv);
  EXPECT_EQ(d.train.rows, 2);
  EXPECT_EQ(d.train.feature_names, (std::vector<std::string>{"weight", "legs"}));
  EXPECT_EQ(d.train.class_names, (std::vector<std::string>{"bird", "dog"}));
  EXPECT_EQ(d.train.raw(0, 0), 30.5f);
  EXPECT_TRUE(d.csv_report.schema.has_header);
  EXPECT_EQ(d.csv_report.schema.label_name, "kind");
}

TEST_F(DataSourceTest, CsvTestIsReadByColumnName) {
  write_text("train.csv", "a,b,y\n1,2,p\n3,4,q\n");
  write_text("test.csv", "y,b,a\nq,40,30\n");
  const TrainingData d = load_training_data(path("train.csv"), path("test.csv"), {});
  ASSERT_TRUE(d.test.has_value());
  EXPECT_EQ(d.test->raw(0, 0), 30.0f);
  EXPECT_EQ(d.test->raw(0, 1), 40.0f);
  EXPECT_EQ(d.test->labels, (std::vector<std::int32_t>{1}));
}

TEST_F(DataSourceTest, MissingPathsAreNamedWithTheCallersNames) {
  const std::string missing = path("nope");
  EXPECT_EQ(error_of([&] { load_training_data(missing, "", {}); }),
            "data '" + missing + "' does not exist");
  EXPECT_EQ(error_of([&] {
              load_training_data(missing, "", {}, {"--data", "--test"});
            }),
            "--data '" + missing + "' does not exist");
  const std::string mnist = mnist_dir("mnist").string();
  EXPECT_EQ(error_of([&] {
              load_training_data(mnist, missing, {}, {"--data", "--test"});
            }),
            "--test '" + missing + "' does not exist");
  EXPECT_EQ(error_of([&] { load_data_for_model(missing, ModelInput{}, true, ""); }),
            "data '" + missing + "' does not exist");
}

TEST_F(DataSourceTest, DirectoryWithoutIdxFiles) {
  fs::create_directories(dir_ / "empty");
  const std::string empty = path("empty");
  EXPECT_EQ(error_of([&] { load_training_data(empty, "", {}); }),
            "data '" + empty +
                "': a directory without train-images-idx3-ubyte[.gz] and "
                "train-labels-idx1-ubyte[.gz]");
  EXPECT_EQ(error_of([&] { load_training_data(mnist_dir("mnist").string(), empty, {}); }),
            "test '" + empty + "': a directory without IDX files");
  EXPECT_EQ(error_of([&] { load_data_for_model(empty, ModelInput{}, true, ""); }),
            "data '" + empty + "': a directory without IDX files");
}

TEST_F(DataSourceTest, IdxImagesWithoutLabelsBeside) {
  write_pair(dir_ / "lone-images-idx3-ubyte", dir_ / "other-name", {0, 1});
  const std::string images = path("lone-images-idx3-ubyte");
  EXPECT_EQ(error_of([&] { load_training_data(images, "", {}); }),
            images +
                ": an IDX images file, but no matching labels file (*-labels-idx1-ubyte[.gz]) "
                "beside it");
}

TEST_F(DataSourceTest, FileThatIsNeitherIdxNorCsv) {
  // Not an IDX magic number, so the CSV reader gets it, and names the file and the problem.
  write_text("blob.bin", std::string("\x01\x02\x00\x03 binary", 10));
  EXPECT_EQ(error_of([&] { load_training_data(path("blob.bin"), "", {}); }),
            path("blob.bin") + ":1: header only, no data rows");
  // A model trained on IDX images refuses it before any CSV reading.
  EXPECT_EQ(error_of([&] { load_data_for_model(path("blob.bin"), ModelInput{}, true, ""); }),
            "data '" + path("blob.bin") +
                "' is not an IDX file, but this model was trained on IDX images");
}

TEST_F(DataSourceTest, ModelDataFromADirectoryIsItsHeldOutSetWithTheModelsClasses) {
  ModelInput idx;
  idx.schema.class_names = {"0", "1", "2", "3", "4", "5", "6"};
  const Dataset d = load_data_for_model(mnist_dir("mnist").string(), idx, true, "");
  EXPECT_EQ(d.rows, 3);
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{4, 0, 3}));
  EXPECT_EQ(d.class_names, idx.schema.class_names);
}

TEST_F(DataSourceTest, ModelDataForACsvModel) {
  ModelInput csv;
  csv.csv = true;
  csv.schema.feature_names = {"a", "b"};
  csv.schema.label_name = "y";
  csv.schema.class_names = {"p", "q"};
  csv.schema.columns = 3;
  write_text("rows.csv", "id,b,a\nr1,2,1\nr2,4,3\n");
  const Dataset d = load_data_for_model(path("rows.csv"), csv, false, "id");
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.raw(1, 0), 3.0f);
  EXPECT_EQ(d.raw(1, 1), 4.0f);
  EXPECT_EQ(d.ids, (std::vector<std::string>{"r1", "r2"}));
  fs::create_directories(dir_ / "sub");
  EXPECT_EQ(error_of([&] { load_data_for_model(path("sub"), csv, false, ""); }),
            "data '" + path("sub") + "' is a directory, but this model was trained on CSV rows");
}

}  // namespace
}  // namespace backprop
