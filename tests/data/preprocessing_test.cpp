#include "backprop/preprocessing.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/rng.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

// A float data set of `rows` x `features` from row-major values.
Dataset float_data(std::int64_t rows, std::int64_t features, std::vector<float> values) {
  Dataset d;
  d.rows = rows;
  d.features = features;
  d.values = std::move(values);
  d.source = "test";
  return d;
}

// The hand loop gather_batch must agree with: X[b][j] = (raw(rows[b], j) - offset[j]) * scale[j].
std::vector<float> hand_gather(const Dataset& d, const Preprocessing& prep,
                               const std::vector<std::int64_t>& rows) {
  std::vector<float> out;
  for (const std::int64_t r : rows) {
    for (std::int64_t j = 0; j < d.features; ++j) {
      const auto k = static_cast<std::size_t>(j);
      out.push_back((d.raw(r, j) - prep.offset[k]) * prep.scale[k]);
    }
  }
  return out;
}

std::vector<float> gathered(const Dataset& d, const Preprocessing& prep,
                            const std::vector<std::int64_t>& rows) {
  std::vector<float> out(rows.size() * static_cast<std::size_t>(d.features));
  gather_batch(MatrixView(out.data(), static_cast<std::int64_t>(rows.size()), d.features), d, prep,
               rows);
  return out;
}

using testing_support::error_of;

TEST(Normalization, NamesRoundTrip) {
  for (const Normalization n : {Normalization::none, Normalization::unit_range,
                                Normalization::standard, Normalization::minmax}) {
    EXPECT_EQ(parse_normalization(to_string(n)), n);
  }
  EXPECT_EQ(to_string(Normalization::unit_range), "unit");
  EXPECT_EQ(parse_normalization("standard"), Normalization::standard);
}

TEST(Normalization, UnknownNameListsTheChoices) {
  const std::string message = error_of([] { parse_normalization("zscore"); });
  EXPECT_NE(message.find("\"zscore\""), std::string::npos) << message;
  for (const char* choice : {"none", "unit", "standard", "minmax"}) {
    EXPECT_NE(message.find(choice), std::string::npos) << message;
  }
}

// Column 0 is 1, 2, 3, 4 on the training rows 0-3; row 4 (not training) is a huge outlier.
// Column 1 is constant on the training rows.
Dataset with_outlier() { return float_data(5, 2, {1, 7, 2, 7, 3, 7, 4, 7, 1e6f, -1e6f}); }
const std::vector<std::int64_t> kTrainRows = {0, 1, 2, 3};

TEST(PreprocessingFit, StandardUsesTrainingRowsOnly) {
  const Dataset d = with_outlier();
  const Preprocessing prep = Preprocessing::fit(Normalization::standard, d, kTrainRows);
  EXPECT_EQ(prep.kind, Normalization::standard);
  // Hand-known: mean 2.5, population deviation sqrt(1.25); the outlier would move both.
  EXPECT_FLOAT_EQ(prep.offset[0], 2.5f);
  EXPECT_FLOAT_EQ(prep.scale[0], static_cast<float>(1.0 / std::sqrt(1.25)));
  // Constant on the training rows: scale 1, not 1/0.
  EXPECT_FLOAT_EQ(prep.offset[1], 7.0f);
  EXPECT_EQ(prep.scale[1], 1.0f);

  // Including the outlier row changes the statistics: the rows argument is really used.
  const std::vector<std::int64_t> all = {0, 1, 2, 3, 4};
  const Preprocessing with_all = Preprocessing::fit(Normalization::standard, d, all);
  EXPECT_GT(with_all.offset[0], 1000.0f);
}

TEST(PreprocessingFit, StandardGivesMeanZeroDeviationOneOnTrainingRows) {
  // An irregular column set, so that nothing comes out right by accident.
  Rng rng(7);
  const std::int64_t n = 200;
  const std::int64_t p = 3;
  std::vector<float> values;
  for (std::int64_t i = 0; i < n * p; ++i) {
    values.push_back(static_cast<float>(rng.uniform() * 50.0 - 10.0) *
                     static_cast<float>(1 + i % p));
  }
  const Dataset d = float_data(n, p, values);
  std::vector<std::int64_t> train;
  for (std::int64_t i = 0; i < n; i += 2) train.push_back(i);  // every other row
  const Preprocessing prep = Preprocessing::fit(Normalization::standard, d, train);
  const std::vector<float> x = gathered(d, prep, train);
  for (std::int64_t j = 0; j < p; ++j) {
    double sum = 0;
    double squares = 0;
    for (std::size_t b = 0; b < train.size(); ++b) {
      const auto v =
          static_cast<double>(x[b * static_cast<std::size_t>(p) + static_cast<std::size_t>(j)]);
      sum += v;
      squares += v * v;
    }
    const double mean = sum / static_cast<double>(train.size());
    const double var = squares / static_cast<double>(train.size()) - mean * mean;
    EXPECT_NEAR(mean, 0.0, 1e-5) << "column " << j;
    EXPECT_NEAR(var, 1.0, 1e-4) << "column " << j;
  }
}

TEST(PreprocessingFit, MinmaxUsesTrainingRowsOnly) {
  const Dataset d = with_outlier();
  const Preprocessing prep = Preprocessing::fit(Normalization::minmax, d, kTrainRows);
  EXPECT_EQ(prep.offset[0], 1.0f);
  EXPECT_FLOAT_EQ(prep.scale[0], 1.0f / 3.0f);
  EXPECT_EQ(prep.offset[1], 7.0f);
  EXPECT_EQ(prep.scale[1], 1.0f);  // constant column
  const std::vector<float> x = gathered(d, prep, kTrainRows);
  EXPECT_FLOAT_EQ(x[0], 0.0f);  // row 0, column 0 is the minimum
  EXPECT_FLOAT_EQ(x[6], 1.0f);  // row 3, column 0 is the maximum
}

TEST(PreprocessingFit, UnitRangeAndNone) {
  const Dataset d = with_outlier();
  const Preprocessing unit = Preprocessing::fit(Normalization::unit_range, d, kTrainRows);
  EXPECT_EQ(unit.offset, (std::vector<float>{0, 0}));
  EXPECT_EQ(unit.scale, (std::vector<float>{1.0f / 255.0f, 1.0f / 255.0f}));

  const Preprocessing none = Preprocessing::fit(Normalization::none, d, kTrainRows);
  const std::vector<std::int64_t> all = {0, 1, 2, 3, 4};
  EXPECT_EQ(gathered(d, none, all), d.values);  // bit for bit, outlier included
  EXPECT_EQ(gathered(d, Preprocessing::identity(2), all), d.values);
}

TEST(PreprocessingFit, ByteDataStatistics) {
  Dataset d;
  d.rows = 3;
  d.features = 2;
  d.bytes = {0, 10, 255, 10, 51, 10};
  const std::vector<std::int64_t> rows = {0, 1, 2};
  const Preprocessing prep = Preprocessing::fit(Normalization::minmax, d, rows);
  EXPECT_EQ(prep.offset, (std::vector<float>{0, 10}));
  EXPECT_FLOAT_EQ(prep.scale[0], 1.0f / 255.0f);
  EXPECT_EQ(prep.scale[1], 1.0f);
}

TEST(PreprocessingFit, RejectsEmptyAndOutOfRangeRows) {
  const Dataset d = with_outlier();
  EXPECT_NE(error_of([&] { Preprocessing::fit(Normalization::standard, d, {}); }).find("zero"),
            std::string::npos);
  const std::vector<std::int64_t> bad = {0, 5};
  EXPECT_NE(error_of([&] { Preprocessing::fit(Normalization::minmax, d, bad); }).find("row 5"),
            std::string::npos);
}

TEST(GatherBatch, BytesMatchTheHandLoop) {
  // The IDX case: 784 byte features, a batch of 64 rows picked out of order.
  const std::int64_t n = 100;
  const std::int64_t p = 784;
  Dataset d;
  d.rows = n;
  d.features = p;
  Rng rng(42);
  for (std::int64_t i = 0; i < n * p; ++i)
    d.bytes.push_back(static_cast<std::uint8_t>(rng.below(256)));
  std::vector<std::int64_t> train(n);
  std::iota(train.begin(), train.end(), 0);
  const Preprocessing prep = Preprocessing::fit(Normalization::standard, d, train);

  std::vector<std::int64_t> batch(64);
  for (auto& r : batch) r = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n)));
  EXPECT_EQ(gathered(d, prep, batch), hand_gather(d, prep, batch));
}

TEST(GatherBatch, FloatsMatchTheHandLoop) {
  const Dataset d = with_outlier();
  const Preprocessing prep = Preprocessing::fit(Normalization::standard, d, kTrainRows);
  const std::vector<std::int64_t> batch = {4, 0, 2, 2};
  EXPECT_EQ(gathered(d, prep, batch), hand_gather(d, prep, batch));

  // 37 features: two full blocks of the vectorised loop and a remainder.
  const std::int64_t p = 37;
  std::vector<float> values;
  Rng rng(3);
  for (std::int64_t i = 0; i < 6 * p; ++i) values.push_back(static_cast<float>(rng.uniform()));
  const Dataset wide = float_data(6, p, values);
  const std::vector<std::int64_t> train = {0, 1, 2, 3};
  const Preprocessing wide_prep = Preprocessing::fit(Normalization::minmax, wide, train);
  const std::vector<std::int64_t> rows = {5, 1, 4};
  EXPECT_EQ(gathered(wide, wide_prep, rows), hand_gather(wide, wide_prep, rows));
}

TEST(GatherBatch, WritesOnlyTheViewsColumnsOfAStridedBuffer) {
  const Dataset d = with_outlier();
  const Preprocessing prep = Preprocessing::identity(2);
  std::vector<float> buffer(2 * 3, -5.0f);
  const std::vector<std::int64_t> batch = {1, 3};
  gather_batch(MatrixView(buffer.data(), 2, 2, 3), d, prep, batch);
  EXPECT_EQ(buffer, (std::vector<float>{2, 7, -5, 4, 7, -5}));
}

TEST(GatherBatch, RejectsMismatchedShapesAndRows) {
  const Dataset d = with_outlier();
  const Preprocessing prep = Preprocessing::identity(2);
  std::vector<float> out(4);
  const std::vector<std::int64_t> two = {0, 1};
  const std::vector<std::int64_t> bad = {0, 9};
  EXPECT_FALSE(error_of([&] { gather_batch(MatrixView(out.data(), 1, 2), d, prep, two); }).empty());
  EXPECT_FALSE(error_of([&] {
                 gather_batch(MatrixView(out.data(), 2, 2), d, Preprocessing::identity(3), two);
               }).empty());
  EXPECT_NE(
      error_of([&] { gather_batch(MatrixView(out.data(), 2, 2), d, prep, bad); }).find("row 9"),
      std::string::npos);
}

}  // namespace
}  // namespace backprop
