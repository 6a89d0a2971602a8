// classification_dataset and regression_dataset: arrays into a Dataset, every problem refused
// with a message that names it.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backprop/dataset.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using testing_support::error_of;

TEST(Dataset, ClassificationFromArrays) {
  const Dataset d = classification_dataset({1, 2, 3, 4, 5, 6}, 3, {1, 0}, {"cat", "dog"});
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.features, 3);
  EXPECT_EQ(d.task, Task::classification);
  EXPECT_EQ(d.raw(1, 2), 6.0f);
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{1, 0}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x1", "x2", "x3"}));
  EXPECT_EQ(d.label_name, "label");
  EXPECT_FALSE(d.is_bytes());
}

TEST(Dataset, ClassNamesDefaultToTheIndicesUpToTheLargestLabel) {
  const Dataset d = classification_dataset({0, 0, 0}, 1, {0, 3, 1});
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(d.num_classes(), 4);
}

TEST(Dataset, RegressionFromArrays) {
  const Dataset d = regression_dataset({1, 2, 3, 4}, 2, {0.5f, -1.5f});
  EXPECT_EQ(d.task, Task::regression);
  EXPECT_EQ(d.targets, (std::vector<float>{0.5f, -1.5f}));
  EXPECT_TRUE(d.class_names.empty());
  EXPECT_EQ(d.label_name, "target");
}

TEST(Dataset, BadArraysAreRefused) {
  EXPECT_EQ(error_of([] { classification_dataset({}, 2, {}); }),
            "in-memory data: no samples (one label or target per row)");
  EXPECT_EQ(error_of([] {
              classification_dataset({1, 2, 3}, 2, {0, 1});
            }),
            "in-memory data: 3 values for 2 rows of 2 features (need 4)");
  EXPECT_EQ(error_of([] { classification_dataset({1}, 0, {0}); }),
            "in-memory data: 0 features per sample (need 1 to 1048576)");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(error_of([&] {
              classification_dataset({1, 2, 3, nan}, 2, {0, 1});
            }),
            "in-memory data: row 1, feature x2 is nan, not a finite number");
  EXPECT_EQ(error_of([] {
              classification_dataset({1, 2}, 1, {0, 2}, {"a", "b"});
            }),
            "in-memory data: row 1 has label 2, outside [0, 2) (one class name per class)");
  EXPECT_EQ(error_of([] {
              classification_dataset({1, 2}, 1, {0, -1});
            }),
            "in-memory data: row 1 has label -1, outside [0, 1) (one class name per class)");
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(error_of([&] {
              regression_dataset({1, 2}, 1, {0, inf});
            }),
            "in-memory data: row 1 has target inf, not a finite number");
}

}  // namespace
}  // namespace backprop
