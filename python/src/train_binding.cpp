// backprop._backprop.TrainSession: the library's Trainer driven one epoch at a time from Python
// (backprop.sklearn decides after each epoch whether to go on, and at which learning rate, as
// scikit-learn's stochastic solvers do).
//
// An epoch runs with the GIL released; the trainer's threads never touch Python. Between steps
// the calling thread takes the GIL back at most every kSignalCheck to let Python run its signal
// handlers (Ctrl-C raises KeyboardInterrupt there), then stops after the current step.
// Running epochs e, e+1, ... one Trainer each continues exactly as one Trainer running them all:
// the trainer's only state across epochs is its TrainState (shuffles and dropout masks are
// functions of the seed, the epoch and the optimiser's step count) and the optimiser's.
#include <fmt/format.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <numeric>

#include "backprop/error.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/trainer.hpp"
#include "backprop/validation_split.hpp"
#include "model_binding.hpp"

namespace backprop::python {

namespace {

constexpr auto kSignalCheck = std::chrono::milliseconds(50);

struct SessionOptions {
  std::string optimizer = "adam";
  float momentum = 0.9f;
  bool nesterov = false;
  float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
  float weight_decay = 0.0f;
  std::int64_t batch = 200;
  bool shuffle = true;
  std::uint64_t seed = 1;
  double validation_fraction = 0.0;
  int n_jobs = 0;
  bool resume = false;  // continue the start model's optimiser state and epoch count
};

class TrainSession {
 public:
  TrainSession(const Model& start, const FloatArray& x, const py::array& y, const SessionOptions& o)
      : info_(start.info()), pool_(thread_count(o.n_jobs)) {
    const Architecture& a = start.network().architecture();
    if (x.ndim() != 2 || x.shape(1) != a.inputs())
      throw_value_error(fmt::format("X must be 2-D with {} columns", a.inputs()));
    data_.rows = x.shape(0);
    data_.features = a.inputs();
    // X is read in place (the session keeps a reference to the array): no copy of the data.
    x_ = x;
    data_.borrowed_values = x_.data();
    data_.task = info_.task;
    data_.class_names = info_.class_names;
    data_.source = "X";
    if (info_.task == Task::classification) {
      const LabelArray labels = LabelArray::ensure(y);
      if (!labels || labels.ndim() != 1 || labels.shape(0) != data_.rows)
        throw_value_error("y must hold one class index per row of X");
      data_.labels.assign(labels.data(), labels.data() + labels.size());
      for (const auto v : data_.labels)
        if (v < 0 || v >= a.outputs())
          throw_value_error(fmt::format("class index {} is not in [0, {})", v, a.outputs()));
    } else {
      const FloatArray targets = FloatArray::ensure(y);
      if (!targets || targets.ndim() != 2 || targets.shape(0) != data_.rows ||
          targets.shape(1) != a.outputs())
        throw_value_error(fmt::format("y must be {} x {}", data_.rows, a.outputs()));
      data_.targets.assign(targets.data(), targets.data() + targets.size());
    }
    split_ = split_validation(data_, o.validation_fraction, o.seed);
    if (split_.train.empty()) throw_value_error("no rows to train on");
    // As scikit-learn: a batch larger than the training rows is clipped to them.
    options_.batch = std::min<std::int64_t>(o.batch, train_rows());
    net_ = std::make_unique<Network>(a, options_.batch);
    copy_parameters(*net_, start.network());

    options_.shuffle = o.shuffle;
    options_.seed = o.seed;
    options_.optimizer.kind = parse_optimizer(o.optimizer);
    options_.optimizer.momentum = o.momentum;
    options_.optimizer.nesterov = o.nesterov;
    options_.optimizer.beta1 = o.beta1;
    options_.optimizer.beta2 = o.beta2;
    options_.optimizer.epsilon = o.epsilon;
    options_.optimizer.weight_decay = o.weight_decay;
    options_.optimizer.validate();
    const TrainingProgress& p = start.progress();
    if (o.resume) {
      state_.epoch = p.epochs;
      if (p.optimizer == to_string(options_.optimizer.kind)) {
        steps_ = p.steps;
        optimizer_state_ = p.state;
      }
    }
    // One trainer now, so that bad options fail before the first epoch.
    make_trainer(0.001f);
  }

  std::int64_t train_rows() const { return static_cast<std::int64_t>(split_.train.size()); }
  std::int64_t validation_rows() const {
    return static_cast<std::int64_t>(split_.validation.size());
  }
  std::int64_t epochs() const { return state_.epoch; }
  std::int64_t batch() const { return options_.batch; }

  // One epoch at learning rate lr; returns its mean training loss (as trained, with dropout).
  double run_epoch(float lr) {
    const std::unique_ptr<Trainer> made = make_trainer(lr);
    Trainer& trainer = *made;
    std::atomic<bool> stop{false};
    bool interrupted = false;
    auto last_check = std::chrono::steady_clock::now();
    trainer.stop_requested = &stop;
    trainer.on_step = [&](std::int64_t, std::int64_t) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_check < kSignalCheck) return;
      last_check = now;
      const py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        interrupted = true;
        stop.store(true);
      }
    };
    {
      const py::gil_scoped_release release;
      trainer.run();
    }
    if (interrupted) throw py::error_already_set();  // the handler's exception
    state_ = trainer.state();
    steps_ = trainer.optimizer().steps();
    const auto s = trainer.optimizer().state();
    optimizer_state_.assign(s.begin(), s.end());
    return state_.history.back().train_loss;
  }

  // scikit-learn's score on the validation rows: accuracy, or R^2 averaged over the outputs.
  double validation_score() {
    if (split_.validation.empty()) throw_value_error("no validation rows");
    const py::gil_scoped_release release;
    const std::int64_t r = net_->architecture().outputs(), p = data_.features;
    const auto& rows = split_.validation;
    std::vector<float> x(static_cast<std::size_t>(net_->max_batch() * p));
    std::vector<double> sum(static_cast<std::size_t>(r)), squares(static_cast<std::size_t>(r)),
        residual(static_cast<std::size_t>(r));
    std::int64_t correct = 0;
    for (std::size_t start = 0; start < rows.size();
         start += static_cast<std::size_t>(net_->max_batch())) {
      const auto chunk = std::span<const std::int64_t>(rows).subspan(
          start, std::min(rows.size() - start, static_cast<std::size_t>(net_->max_batch())));
      const auto b = static_cast<std::int64_t>(chunk.size());
      MatrixView xb(x.data(), b, p);
      gather_batch(xb, data_, info_.preprocessing, chunk, pool_);
      const auto yhat = net_->forward(xb, pool_);
      for (std::int64_t i = 0; i < b; ++i) {
        const auto row = static_cast<std::size_t>(chunk[static_cast<std::size_t>(i)]);
        if (data_.task == Task::classification) {
          correct += argmax(yhat.row(i), r) == data_.labels[row] ? 1 : 0;
          continue;
        }
        for (std::int64_t j = 0; j < r; ++j) {
          const auto k = static_cast<std::size_t>(j);
          const double y = data_.targets[row * static_cast<std::size_t>(r) + k];
          const double predicted = static_cast<double>(yhat(i, j)) /
                                       static_cast<double>(info_.preprocessing.target_scale) +
                                   static_cast<double>(info_.preprocessing.target_offset);
          sum[k] += y;
          squares[k] += y * y;
          residual[k] += (y - predicted) * (y - predicted);
        }
      }
    }
    const auto n = static_cast<double>(rows.size());
    if (data_.task == Task::classification) return static_cast<double>(correct) / n;
    // r2_score: 1 - SS_res / SS_tot per output (1 when both are 0, 0 when only SS_tot is),
    // averaged.
    double r2 = 0.0;
    for (std::size_t k = 0; k < sum.size(); ++k) {
      const double ss_tot = squares[k] - sum[k] * sum[k] / n;
      r2 += ss_tot > 0.0 ? 1.0 - residual[k] / ss_tot : (residual[k] == 0.0 ? 1.0 : 0.0);
    }
    return r2 / static_cast<double>(sum.size());
  }

  void keep_best() { best_.assign(net_->parameters().begin(), net_->parameters().end()); }
  void restore_best() {
    if (!best_.empty()) std::copy(best_.begin(), best_.end(), net_->parameters().begin());
  }

  // The trained model, with the optimiser state and epoch count a warm start continues from.
  std::unique_ptr<Model> model() const {
    auto m = std::make_unique<Model>(info_, *net_);
    TrainingProgress& p = m->progress();
    p.optimizer = to_string(options_.optimizer.kind);
    p.steps = steps_;
    p.state = optimizer_state_;
    p.epochs = state_.epoch;
    return m;
  }

 private:
  std::unique_ptr<Trainer> make_trainer(float lr) {
    TrainOptions o = options_;
    o.epochs = state_.epoch + 1;
    o.schedule.kind = ScheduleKind::constant;
    o.schedule.base_lr = lr;
    auto trainer =
        std::make_unique<Trainer>(*net_, info_.preprocessing, o, data_, split_.train, pool_);
    trainer->state() = state_;
    trainer->state().history.clear();
    if (!optimizer_state_.empty()) trainer->optimizer().restore(steps_, optimizer_state_);
    return trainer;
  }

  ModelInfo info_;
  FloatArray x_;  // the array data_ reads
  Dataset data_;
  Split split_;
  std::unique_ptr<Network> net_;
  ThreadPool pool_;
  TrainOptions options_;
  TrainState state_;
  std::uint64_t steps_ = 0;
  std::vector<float> optimizer_state_;
  std::vector<float> best_;
};

}  // namespace

void bind_training(py::module_& m) {
  py::class_<TrainSession>(m, "TrainSession", R"(Training of a Model on arrays, one epoch per
run_epoch() call (backprop.sklearn's estimators drive it). The start model is not changed;
model() returns the trained one.)")
      .def(py::init([](const Model& start, const FloatArray& x, const py::array& y,
                       const std::string& optimizer, float momentum, bool nesterov, float beta1,
                       float beta2, float epsilon, float weight_decay, std::int64_t batch,
                       bool shuffle, std::uint64_t seed, double validation_fraction, int n_jobs,
                       bool resume) {
             SessionOptions o;
             o.optimizer = optimizer;
             o.momentum = momentum;
             o.nesterov = nesterov;
             o.beta1 = beta1;
             o.beta2 = beta2;
             o.epsilon = epsilon;
             o.weight_decay = weight_decay;
             o.batch = batch;
             o.shuffle = shuffle;
             o.seed = seed;
             o.validation_fraction = validation_fraction;
             o.n_jobs = n_jobs;
             o.resume = resume;
             return std::make_unique<TrainSession>(start, x, y, o);
           }),
           py::arg("model"), py::arg("X"), py::arg("y"), py::kw_only(),
           py::arg("optimizer") = "adam", py::arg("momentum") = 0.9f, py::arg("nesterov") = false,
           py::arg("beta1") = 0.9f, py::arg("beta2") = 0.999f, py::arg("epsilon") = 1e-8f,
           py::arg("weight_decay") = 0.0f, py::arg("batch") = 200, py::arg("shuffle") = true,
           py::arg("seed") = 1, py::arg("validation_fraction") = 0.0, py::arg("n_jobs") = 0,
           py::arg("resume") = false)
      .def("run_epoch", &TrainSession::run_epoch, py::arg("learning_rate"),
           "Trains one epoch with the GIL released; returns its mean training loss. Ctrl-C raises "
           "KeyboardInterrupt within a step.")
      .def("validation_score", &TrainSession::validation_score,
           "Accuracy (classifier) or R^2 averaged over the outputs (regressor) on the held-out "
           "rows.")
      .def("keep_best", &TrainSession::keep_best, "Remembers the current weights.")
      .def("restore_best", &TrainSession::restore_best,
           "Goes back to the weights keep_best() last remembered.")
      .def("model", &TrainSession::model, "The trained model (a new Model).")
      .def_property_readonly("train_rows", &TrainSession::train_rows)
      .def_property_readonly("validation_rows", &TrainSession::validation_rows)
      .def_property_readonly("epochs", &TrainSession::epochs)
      .def_property_readonly("batch", &TrainSession::batch);
}

}  // namespace backprop::python
