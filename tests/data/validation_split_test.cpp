#include "backprop/validation_split.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "backprop/error.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

// A classification set whose class c has counts[c] samples, classes interleaved so that
// sample order says nothing about the class.
Dataset classes_with(const std::vector<int>& counts) {
  Dataset d;
  d.task = Task::classification;
  std::vector<int> left = counts;
  bool any = true;
  while (any) {
    any = false;
    for (std::size_t c = 0; c < left.size(); ++c) {
      if (left[c] == 0) continue;
      --left[c];
      d.labels.push_back(static_cast<std::int32_t>(c));
      any = true;
    }
  }
  for (std::size_t c = 0; c < counts.size(); ++c) d.class_names.push_back(std::to_string(c));
  d.rows = static_cast<std::int64_t>(d.labels.size());
  return d;
}

Dataset regression_of(std::int64_t n) {
  Dataset d;
  d.task = Task::regression;
  d.rows = n;
  d.targets.assign(static_cast<std::size_t>(n), 0.5f);
  return d;
}

int count_class(const Dataset& d, const std::vector<std::int64_t>& rows, std::int32_t c) {
  return static_cast<int>(std::count_if(rows.begin(), rows.end(), [&](std::int64_t i) {
    return d.labels[static_cast<std::size_t>(i)] == c;
  }));
}

// Train and validation are disjoint, ascending, and together are exactly 0..N-1.
void expect_partition(const Split& s, std::int64_t n) {
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
  EXPECT_TRUE(std::is_sorted(s.validation.begin(), s.validation.end()));
  std::vector<std::int64_t> all = s.train;
  all.insert(all.end(), s.validation.begin(), s.validation.end());
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(static_cast<std::size_t>(n));
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);  // covering, and (same size, no repeats) disjoint
}

using testing_support::error_of;

TEST(Split, FractionMustBeInZeroToOne) {
  const Dataset d = regression_of(10);
  for (const double bad : {-0.1, 1.0, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    const std::string message = error_of([&] { split_validation(d, bad, 1); });
    EXPECT_NE(message.find("[0, 1)"), std::string::npos) << message;
  }
}

TEST(Split, ZeroFractionKeepsEverySampleForTrainingInOrder) {
  const Dataset d = classes_with({3, 4});
  const Split s = split_validation(d, 0.0, 99);
  EXPECT_TRUE(s.validation.empty());
  std::vector<std::int64_t> expected(7);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(s.train, expected);
}

TEST(Split, StratifiedProportionsPerClass) {
  const Dataset d = classes_with({50, 30, 20});
  const Split s = split_validation(d, 0.2, 1);
  expect_partition(s, d.rows);
  EXPECT_EQ(count_class(d, s.validation, 0), 10);
  EXPECT_EQ(count_class(d, s.validation, 1), 6);
  EXPECT_EQ(count_class(d, s.validation, 2), 4);
  EXPECT_EQ(count_class(d, s.train, 0), 40);
}

TEST(Split, RoundsPerClass) {
  // 0.25 * 10 = 2.5 rounds to 3, 0.25 * 6 = 1.5 rounds to 2.
  const Dataset d = classes_with({10, 6});
  const Split s = split_validation(d, 0.25, 3);
  EXPECT_EQ(count_class(d, s.validation, 0), 3);
  EXPECT_EQ(count_class(d, s.validation, 1), 2);
}

TEST(Split, TinyClasses) {
  // A single sample stays in training; a class of 2 gives 1 to validation even though
  // 0.1 * 2 rounds to 0; and training always keeps one (0.9 * 3 would take all 3).
  const Dataset small = classes_with({1, 2, 20});
  const Split s = split_validation(small, 0.1, 5);
  expect_partition(s, small.rows);
  EXPECT_EQ(count_class(small, s.validation, 0), 0);
  EXPECT_EQ(count_class(small, s.validation, 1), 1);
  EXPECT_EQ(count_class(small, s.validation, 2), 2);

  const Dataset three = classes_with({3});
  const Split t = split_validation(three, 0.9, 5);
  EXPECT_EQ(t.validation.size(), 2u);
  EXPECT_EQ(t.train.size(), 1u);
}

TEST(Split, SameSeedSameSplitOtherSeedOtherSplit) {
  const Dataset d = classes_with({40, 40, 40});
  const Split a = split_validation(d, 0.3, 12345);
  const Split b = split_validation(d, 0.3, 12345);
  const Split c = split_validation(d, 0.3, 54321);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.validation, b.validation);
  EXPECT_NE(a.validation, c.validation);
  EXPECT_EQ(a.validation.size(), c.validation.size());
  expect_partition(c, d.rows);
}

TEST(Split, ValidationIsNotJustTheFirstSamplesOfEachClass) {
  const Dataset d = classes_with({100});
  const Split s = split_validation(d, 0.1, 8);
  std::vector<std::int64_t> first(10);
  std::iota(first.begin(), first.end(), 0);
  EXPECT_NE(s.validation, first);
}

TEST(Split, RegressionIsAPlainSeededShuffle) {
  const Dataset d = regression_of(100);
  const Split a = split_validation(d, 0.25, 7);
  expect_partition(a, 100);
  EXPECT_EQ(a.validation.size(), 25u);
  EXPECT_EQ(split_validation(d, 0.25, 7).validation, a.validation);
  EXPECT_NE(split_validation(d, 0.25, 8).validation, a.validation);
}

TEST(Split, LabelsOutsideTheClassesAreAnError) {
  Dataset d = classes_with({3, 3});
  d.labels[2] = 5;
  EXPECT_FALSE(error_of([&] { split_validation(d, 0.5, 1); }).empty());
}

}  // namespace
}  // namespace backprop
