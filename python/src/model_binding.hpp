#pragma once
// What the two halves of the native module share: the Model class (a network with what it
// needs to be used on raw input, plus the optimiser state a warm start continues from) and the
// conversions between numpy arrays and the library's views.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backprop/model.hpp"
#include "backprop/network.hpp"
#include "backprop/thread_pool.hpp"

namespace backprop::python {

namespace py = pybind11;

// forcecast + c_style: a float32 C-order array is taken as it is (no copy); anything else is
// converted once into a new float32 C-order array.
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using LabelArray = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;

// Rows per forward pass in predict(); a row's result does not depend on it (tested).
inline constexpr std::int64_t kPredictBatch = 256;

// n_jobs as scikit-learn spells it: None or -1 for every core, n > 0 for n threads.
int thread_count(int n_jobs);

// The optimiser state and epoch count that a warm start or partial_fit continues from, so that
// fit(2 epochs) + fit(2 more) gives the weights of fit(4 epochs).
struct TrainingProgress {
  std::string optimizer;  // OptimizerKind's name; empty before any training
  std::uint64_t steps = 0;
  std::vector<float> state;
  std::int64_t epochs = 0;
};

class Model {
 public:
  Model(ModelInfo info, const Network& weights);

  // A new network: widths p, h1, ..., r; one activation name per hidden layer; weights drawn
  // from the seed as `backprop train --seed` draws them; identity preprocessing.
  static std::unique_ptr<Model> create(const std::vector<std::int64_t>& widths,
                                       const std::vector<std::string>& activations,
                                       const std::string& task,
                                       const std::vector<std::string>& class_names,
                                       const std::vector<std::string>& feature_names, float dropout,
                                       std::uint64_t seed);
  static std::unique_ptr<Model> load(const std::filesystem::path& path);
  static std::unique_ptr<Model> from_bytes(const py::bytes& bytes);

  void save(const std::filesystem::path& path) const;
  py::bytes to_bytes() const;

  // Outputs for every row of X (n x p): class probabilities (n x classes) or values (n x r) in
  // the data's units. The GIL is released while the network runs.
  py::array_t<float> predict(const FloatArray& x, int n_jobs);

  const ModelInfo& info() const { return info_; }
  ModelInfo& info() { return info_; }
  const Network& network() const { return *net_; }
  Network& network() { return *net_; }
  TrainingProgress& progress() { return progress_; }
  const TrainingProgress& progress() const { return progress_; }
  // The address predict() last read X from (tests check that a float32 C-order X is not copied).
  std::uintptr_t last_input_address() const { return last_input_; }

 private:
  void run_forward(const float* x, std::int64_t rows, float* out, ThreadPool& pool);
  ThreadPool& pool(int n_jobs);

  ModelInfo info_;
  std::unique_ptr<Network> net_;
  bool identity_input_ = true;  // offset 0 and scale 1: X goes to the network as it is
  TrainingProgress progress_;
  std::mutex mutex_;  // one predict() at a time uses the network's buffers
  std::unique_ptr<ThreadPool> pool_;
  int pool_jobs_ = 0;          // the n_jobs pool_ was made for
  std::vector<float> scaled_;  // a chunk of X after preprocessing (models with a non-identity one)
  std::uintptr_t last_input_ = 0;
};

// Error messages of the library, as ValueError.
[[noreturn]] void throw_value_error(const std::string& message);

void bind_model(py::module_& m);
void bind_training(py::module_& m);

}  // namespace backprop::python
