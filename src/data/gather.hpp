#pragma once
// The training pipeline's gather helpers beside gather_batch (backprop/preprocessing.hpp): a
// column block of a minibatch, and a hint to load a minibatch's rows ahead of its gather.
#include <cstdint>
#include <span>

#include "backprop/dataset.hpp"
#include "backprop/matrix.hpp"
#include "backprop/preprocessing.hpp"

namespace backprop {

// Columns [first_column, first_column + x.cols) of gather_batch's X, into X (rows.size() x
// x.cols): a column block of the minibatch, for gathering it in parts on several cores.
void gather_batch_columns(MatrixView x, const Dataset& data, const Preprocessing& prep,
                          std::span<const std::int64_t> rows, std::int64_t first_column);

// Asks the CPU to start loading the samples `rows` of `data` into cache, without waiting: the
// minibatch pipeline names a minibatch's rows a step before it gathers them, so that the gather
// (random rows of a 47 MB set) does not wait on memory. Changes no value.
void prefetch_batch(const Dataset& data, std::span<const std::int64_t> rows);
// The same for columns [first_column, first_column + count) of the rows.
void prefetch_batch(const Dataset& data, std::span<const std::int64_t> rows,
                    std::int64_t first_column, std::int64_t count);

}  // namespace backprop
