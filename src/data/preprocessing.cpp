#include "backprop/preprocessing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "backprop/error.hpp"
#include "core/cpu_clones.hpp"
#include "core/enum_names.hpp"
#include "core/float_mode.hpp"
#include "data/gather.hpp"
#include "ops/ops.hpp"

namespace backprop {

namespace {

constexpr EnumNames<Normalization, 4> kNormalizationNames{{
    {Normalization::none, "none"},
    {Normalization::unit_range, "unit"},
    {Normalization::standard, "standard"},
    {Normalization::minmax, "minmax"},
}};

}  // namespace

std::string to_string(Normalization n) { return enum_to_string(kNormalizationNames, n); }

Normalization parse_normalization(const std::string& name) {
  return parse_enum(kNormalizationNames, name, "normalization");
}

namespace {

void check_rows(const Dataset& data, std::span<const std::int64_t> rows, const char* what) {
  for (const std::int64_t r : rows) {
    if (r < 0 || r >= data.rows) {
      throw Error(fmt::format("{}: {}: row {} is outside the data set's {} rows", data.source, what,
                              r, data.rows));
    }
  }
}

// A scale of 1/spread, or 1 when the column does not vary on the training rows (there is
// nothing to rescale, and 1/0 would turn every later value into inf or NaN), or when 1/spread
// would not fit in a float.
float inverse_or_one(double spread) {
  if (!(spread > 0)) return 1.0f;
  const double inverse = 1.0 / spread;
  return inverse <= static_cast<double>(std::numeric_limits<float>::max())
             ? static_cast<float>(inverse)
             : 1.0f;
}

// Statistics of each column over `rows`, accumulated in double row by row (row-major data is
// then read sequentially). Standard uses the population deviation sqrt(sum (x - mean)^2 / n),
// so the fitted training columns end with mean 0 and deviation 1 exactly that way; the mean is
// found first so the second pass sums small squares (no cancellation of E[x^2] - mean^2).
template <class T>
void fit_columns(Preprocessing& prep, const T* base, std::int64_t p,
                 std::span<const std::int64_t> rows) {
  const auto width = static_cast<std::size_t>(p);
  if (prep.kind == Normalization::minmax) {
    std::vector<double> lo(width, std::numeric_limits<double>::infinity());
    std::vector<double> hi(width, -std::numeric_limits<double>::infinity());
    for (const std::int64_t r : rows) {
      const T* x = base + r * p;
      for (std::size_t j = 0; j < width; ++j) {
        const auto v = static_cast<double>(x[j]);
        lo[j] = std::min(lo[j], v);
        hi[j] = std::max(hi[j], v);
      }
    }
    for (std::size_t j = 0; j < width; ++j) {
      prep.offset[j] = static_cast<float>(lo[j]);
      prep.scale[j] = inverse_or_one(hi[j] - lo[j]);
    }
    return;
  }
  std::vector<double> mean(width, 0.0);
  for (const std::int64_t r : rows) {
    const T* x = base + r * p;
    for (std::size_t j = 0; j < width; ++j) mean[j] += static_cast<double>(x[j]);
  }
  const auto n = static_cast<double>(rows.size());
  for (double& m : mean) m /= n;
  std::vector<double> squares(width, 0.0);
  for (const std::int64_t r : rows) {
    const T* x = base + r * p;
    for (std::size_t j = 0; j < width; ++j) {
      const double d = static_cast<double>(x[j]) - mean[j];
      squares[j] += d * d;
    }
  }
  for (std::size_t j = 0; j < width; ++j) {
    prep.offset[j] = static_cast<float>(mean[j]);
    prep.scale[j] = inverse_or_one(std::sqrt(squares[j] / n));
  }
}

// X[b][j] = (x[j] - offset[j]) * scale[j] for one sample: the only per-element work of a
// minibatch, written so the compiler vectorises it. restrict: the output never aliases the
// inputs, so no overlap checks. Blocks of a fixed 16 are vectorised even at -O2, where GCC's
// cheap cost model skips loops of unknown length that would need a scalar epilogue.
template <class T>
[[gnu::always_inline]] inline void transform_row(float* __restrict out, const T* __restrict x,
                                                 const float* __restrict offset,
                                                 const float* __restrict scale, std::int64_t p) {
  constexpr std::int64_t kBlock = 16;
  std::int64_t j = 0;
  for (; j + kBlock <= p; j += kBlock) {
    float* const o = out + j;
    const T* const v = x + j;
    const float* const off = offset + j;
    const float* const sc = scale + j;
    for (std::int64_t k = 0; k < kBlock; ++k) o[k] = (static_cast<float>(v[k]) - off[k]) * sc[k];
  }
  for (; j < p; ++j) out[j] = (static_cast<float>(x[j]) - offset[j]) * scale[j];
}

// Columns [first, first + x.cols) of the samples `rows` (p values apart in `base`) into X.
template <class T>
[[gnu::always_inline]] inline void gather_body(MatrixView x, const T* base, std::int64_t p,
                                               const Preprocessing& prep,
                                               std::span<const std::int64_t> rows,
                                               std::int64_t first) {
  const float* offset = prep.offset.data() + first;
  const float* scale = prep.scale.data() + first;
  for (std::size_t b = 0; b < rows.size(); ++b) {
    transform_row(x.row(static_cast<std::int64_t>(b)), base + rows[b] * p + first, offset, scale,
                  x.cols);
  }
}

}  // namespace

namespace cloned {  // external linkage, as BACKPROP_CLONES needs

// The two storage types, each compiled for AVX-512, AVX2 and the baseline (byte-to-float
// conversion is one instruction per 16 values with AVX-512, four shuffles with SSE2).
BACKPROP_CLONES void gather_rows(MatrixView x, const std::uint8_t* base, std::int64_t p,
                                 const Preprocessing& prep, std::span<const std::int64_t> rows,
                                 std::int64_t first) {
  gather_body(x, base, p, prep, rows, first);
}

BACKPROP_CLONES void gather_rows(MatrixView x, const float* base, std::int64_t p,
                                 const Preprocessing& prep, std::span<const std::int64_t> rows,
                                 std::int64_t first) {
  gather_body(x, base, p, prep, rows, first);
}

}  // namespace cloned

namespace {

// Values [first, first + count) of each of the samples `rows`.
template <class T>
void prefetch_rows(const T* base, std::int64_t p, std::span<const std::int64_t> rows,
                   std::int64_t first, std::int64_t count) {
  constexpr std::size_t kLine = 64;
  const std::size_t bytes = static_cast<std::size_t>(count) * sizeof(T);
  if (bytes == 0) return;
  for (const std::int64_t r : rows) {
    const char* row = reinterpret_cast<const char*>(base + r * p + first);
    // Read, moderate locality (into L2): the rows are needed once, a step later.
    for (std::size_t off = 0; off < bytes; off += kLine) __builtin_prefetch(row + off, 0, 2);
    __builtin_prefetch(row + bytes - 1, 0, 2);
  }
}

}  // namespace

Preprocessing Preprocessing::identity(std::int64_t features) {
  Preprocessing prep;
  prep.kind = Normalization::none;
  prep.offset.assign(static_cast<std::size_t>(features), 0.0f);
  prep.scale.assign(static_cast<std::size_t>(features), 1.0f);
  return prep;
}

void Preprocessing::fit_targets(const Dataset& data, std::span<const std::int64_t> rows) {
  target_offset = 0.0f;
  target_scale = 1.0f;
  if (data.task != Task::regression || kind == Normalization::none || rows.empty()) return;
  // One offset and scale over all r targets of the rows (r = 1 for CSV data).
  const std::size_t r =
      data.rows > 0 ? data.targets.size() / static_cast<std::size_t>(data.rows) : 1;
  double sum = 0.0;
  for (const auto i : rows)
    for (std::size_t j = 0; j < r; ++j)
      sum += static_cast<double>(data.targets[static_cast<std::size_t>(i) * r + j]);
  const double count = static_cast<double>(rows.size() * r);
  const double mean = sum / count;
  double squares = 0.0;
  for (const auto i : rows) {
    for (std::size_t j = 0; j < r; ++j) {
      const double d =
          static_cast<double>(data.targets[static_cast<std::size_t>(i) * r + j]) - mean;
      squares += d * d;
    }
  }
  const double sd = std::sqrt(squares / count);
  target_offset = static_cast<float>(mean);
  // A constant target (sd 0) or one whose inverse spread overflows a float keeps scale 1.
  target_scale = sd > 0.0 && 1.0 / sd < 3.0e38 ? static_cast<float>(1.0 / sd) : 1.0f;
}

Preprocessing Preprocessing::fit(Normalization kind, const Dataset& data,
                                 std::span<const std::int64_t> rows) {
  Preprocessing prep = identity(data.features);
  prep.kind = kind;
  switch (kind) {
    case Normalization::none:
      return prep;
    case Normalization::unit_range:
      std::fill(prep.scale.begin(), prep.scale.end(), 1.0f / 255.0f);
      return prep;
    case Normalization::standard:
    case Normalization::minmax:
      break;
  }
  if (rows.empty()) {
    throw Error(fmt::format("{}: cannot fit {} normalization on zero training rows", data.source,
                            to_string(kind)));
  }
  check_rows(data, rows, "normalization");
  if (data.is_bytes()) {
    fit_columns(prep, data.bytes.data(), data.features, rows);
  } else {
    fit_columns(prep, data.value_data(), data.features, rows);
  }
  return prep;
}

void prefetch_batch(const Dataset& data, std::span<const std::int64_t> rows) {
  prefetch_batch(data, rows, 0, data.features);
}

void prefetch_batch(const Dataset& data, std::span<const std::int64_t> rows,
                    std::int64_t first_column, std::int64_t count) {
  if (first_column < 0 || count <= 0 || first_column + count > data.features) return;
  for (const std::int64_t r : rows)
    if (r < 0 || r >= data.rows) return;  // a hint only: gather_batch reports bad rows
  if (data.is_bytes()) {
    prefetch_rows(data.bytes.data(), data.features, rows, first_column, count);
  } else {
    prefetch_rows(data.value_data(), data.features, rows, first_column, count);
  }
}

namespace {

// Checks the shapes and rows, then runs gather(part, part_rows) on row blocks of X, which
// holds columns [first_column, first_column + x.cols) of the samples; first_column = -1: all
// of them.
template <class Blocks>
void gather_checked(MatrixView x, const Dataset& data, const Preprocessing& prep,
                    std::span<const std::int64_t> rows, std::int64_t first_column,
                    Blocks&& for_blocks) {
  const auto p = static_cast<std::size_t>(data.features);
  const bool whole = first_column == -1;
  if (whole) first_column = 0;
  if (x.rows != static_cast<std::int64_t>(rows.size()) || first_column < 0 || x.cols < 0 ||
      first_column + x.cols > data.features || (whole && x.cols != data.features) ||
      prep.offset.size() != p || prep.scale.size() != p) {
    throw Error(
        fmt::format("gather_batch: shapes disagree: X is {}x{} from column {}, {} rows of {} "
                    "features, preprocessing for {}",
                    x.rows, x.cols, first_column, rows.size(), data.features, prep.offset.size()));
  }
  check_rows(data, rows, "minibatch");
  for_blocks([&](std::int64_t first, std::int64_t count) {
    const MatrixView part(x.row(first), count, x.cols, x.stride);
    const auto part_rows =
        rows.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count));
    // The storage type is decided once per block, so the inner loop has no branch on it.
    if (data.is_bytes()) {
      cloned::gather_rows(part, data.bytes.data(), data.features, prep, part_rows, first_column);
    } else {
      cloned::gather_rows(part, data.value_data(), data.features, prep, part_rows, first_column);
    }
  });
}

}  // namespace

void gather_batch(MatrixView x, const Dataset& data, const Preprocessing& prep,
                  std::span<const std::int64_t> rows, ThreadPool& pool) {
  // The pool's mode on this thread too, so a 1-thread pool (no run()) flushes the same values.
  const FloatModeScope float_mode;
  // Split by rows across the pool, even for a small minibatch: X was last read by every
  // thread's share of the previous step's products, so one thread rewriting all of it waits on
  // the other cores' copies of its lines; several threads wait in parallel (W1: 25 us per step
  // on one thread, 14 on two).
  gather_checked(x, data, prep, rows, -1, [&](auto&& fn) {
    ops::for_row_blocks(pool, x.rows, x.cols, fn, /*parallel_elements=*/0);
  });
}

void gather_batch(MatrixView x, const Dataset& data, const Preprocessing& prep,
                  std::span<const std::int64_t> rows) {
  const FloatModeScope float_mode;
  gather_checked(x, data, prep, rows, -1, [&](auto&& fn) { fn(std::int64_t{0}, x.rows); });
}

void gather_batch_columns(MatrixView x, const Dataset& data, const Preprocessing& prep,
                          std::span<const std::int64_t> rows, std::int64_t first_column) {
  const FloatModeScope float_mode;
  gather_checked(x, data, prep, rows, first_column,
                 [&](auto&& fn) { fn(std::int64_t{0}, x.rows); });
}

}  // namespace backprop
