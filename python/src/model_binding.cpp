// backprop.Model: load, save and predict on numpy arrays.
#include "model_binding.hpp"

#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "backprop/error.hpp"
#include "backprop/evaluate.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/safetensors.hpp"

namespace backprop::python {

int thread_count(int n_jobs) { return n_jobs > 0 ? n_jobs : ThreadPool::hardware_threads(); }

void throw_value_error(const std::string& message) { throw py::value_error(message); }

namespace {

bool is_identity(const Preprocessing& prep) {
  return std::all_of(prep.offset.begin(), prep.offset.end(), [](float v) { return v == 0.0f; }) &&
         std::all_of(prep.scale.begin(), prep.scale.end(), [](float v) { return v == 1.0f; });
}

std::unique_ptr<Network> copy_network(const Network& from, std::int64_t max_batch) {
  auto net = std::make_unique<Network>(from.architecture(), max_batch);
  copy_parameters(*net, from);
  return net;
}

// W_l (in x out) or b_l as a new numpy array.
py::array_t<float> weight_array(const Network& net, std::int64_t layer) {
  const auto w = net.weight(layer);
  py::array_t<float> out({w.rows, w.cols});
  for (std::int64_t i = 0; i < w.rows; ++i)
    std::memcpy(out.mutable_data(i, 0), w.row(i), static_cast<std::size_t>(w.cols) * sizeof(float));
  return out;
}

py::array_t<float> bias_array(const Network& net, std::int64_t layer) {
  const auto b = net.bias(layer);
  py::array_t<float> out(static_cast<py::ssize_t>(b.size()));
  std::copy(b.begin(), b.end(), out.mutable_data());
  return out;
}

// [array(net, 0), array(net, 1), ...] over the layers.
py::list per_layer(const Network& net, py::array_t<float> (*array)(const Network&, std::int64_t)) {
  py::list out;
  for (std::int64_t l = 0; l < net.num_layers(); ++l) out.append(array(net, l));
  return out;
}

std::vector<std::string> activation_names(const Architecture& a) {
  std::vector<std::string> names;
  for (const Activation f : a.activations) names.push_back(to_string(f));
  return names;
}

}  // namespace

Model::Model(ModelInfo info, const Network& weights)
    : info_(std::move(info)),
      net_(copy_network(weights, kPredictBatch)),
      identity_input_(is_identity(info_.preprocessing)) {}

std::unique_ptr<Model> Model::create(const std::vector<std::int64_t>& widths,
                                     const std::vector<std::string>& activations,
                                     const std::string& task,
                                     const std::vector<std::string>& class_names,
                                     const std::vector<std::string>& feature_names, float dropout,
                                     std::uint64_t seed) {
  ModelInfo info;
  Architecture& a = info.architecture;
  a.widths = widths;
  for (const auto& name : activations) a.activations.push_back(parse_activation(name));
  if (task != "classification" && task != "regression")
    throw Error(fmt::format("task '{}' (choose classification or regression)", task));
  info.task = task == "classification" ? Task::classification : Task::regression;
  a.loss = info.task == Task::classification ? Loss::cross_entropy : Loss::mse;
  a.dropout = dropout;
  a.validate();
  if (info.task == Task::classification &&
      static_cast<std::int64_t>(class_names.size()) != a.outputs())
    throw Error(fmt::format("{} class names for {} outputs", class_names.size(), a.outputs()));
  if (static_cast<std::int64_t>(feature_names.size()) != a.inputs())
    throw Error(fmt::format("{} feature names for {} inputs", feature_names.size(), a.inputs()));
  info.class_names = class_names;
  info.feature_names = feature_names;
  info.label_name = "y";
  // Rows of a CSV file with a header: `backprop predict --data` reads such a file by the
  // feature names, with or without the label column.
  info.input_format = "csv";
  info.csv_header = true;
  info.csv_columns = a.inputs() + 1;
  info.preprocessing = Preprocessing::identity(a.inputs());
  Network net(a, 1);
  net.initialize(seed);
  return std::make_unique<Model>(std::move(info), net);
}

std::unique_ptr<Model> Model::load(const std::filesystem::path& path) {
  backprop::Model m = load_model(path, 1);
  return std::make_unique<Model>(std::move(m.info), *m.network);
}

std::unique_ptr<Model> Model::from_bytes(const py::bytes& bytes) {
  const std::string_view view(bytes);
  backprop::Model m =
      parse_model(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(view.data()),
                                                view.size()),
                  "<bytes>", 1);
  return std::make_unique<Model>(std::move(m.info), *m.network);
}

void Model::save(const std::filesystem::path& path) const { save_model(path, *net_, info_); }

py::bytes Model::to_bytes() const {
  const auto tensors = model_tensors(*net_, info_);
  return py::bytes(encode_safetensors(tensors, model_metadata(info_)));
}

ThreadPool& Model::pool(int n_jobs) {
  // Kept across calls: a one-row prediction costs a few microseconds, a new pool far more.
  if (!pool_ || pool_jobs_ != n_jobs) {
    pool_ = std::make_unique<ThreadPool>(thread_count(n_jobs));
    pool_jobs_ = n_jobs;
  }
  return *pool_;
}

void Model::run_forward(const float* x, std::int64_t rows, float* out, ThreadPool& pool) {
  const Architecture& a = net_->architecture();
  const std::int64_t p = a.inputs(), r = a.outputs();
  for (std::int64_t start = 0; start < rows; start += kPredictBatch) {
    const std::int64_t b = std::min(kPredictBatch, rows - start);
    ConstMatrixView xb(x + start * p, b, p);
    if (!identity_input_) {
      // (x - offset) * scale exactly as the CLI computes it (gather_batch), into a buffer.
      Dataset chunk;
      chunk.rows = b;
      chunk.features = p;
      chunk.values.assign(x + start * p, x + (start + b) * p);
      std::vector<std::int64_t> order(static_cast<std::size_t>(b));
      std::iota(order.begin(), order.end(), 0);
      scaled_.resize(static_cast<std::size_t>(b * p));
      MatrixView into(scaled_.data(), b, p);
      gather_batch(into, chunk, info_.preprocessing, order);
      xb = into;
    }
    const auto yhat = net_->forward(xb, pool);
    for (std::int64_t i = 0; i < b; ++i)
      std::copy(yhat.row(i), yhat.row(i) + r, out + (start + i) * r);
  }
  if (a.loss == Loss::mse) {
    const Preprocessing& prep = info_.preprocessing;
    for (std::int64_t k = 0; k < rows * r; ++k)
      out[k] = out[k] / prep.target_scale + prep.target_offset;  // as backprop::predict
  }
}

py::array_t<float> Model::predict(const FloatArray& x, int n_jobs) {
  if (x.ndim() != 2)
    throw_value_error(fmt::format(
        "X must be a 2-D array (samples x features), not {}-D; reshape a single sample with "
        "x.reshape(1, -1)",
        x.ndim()));
  const std::int64_t rows = x.shape(0), p = x.shape(1);
  const Architecture& a = net_->architecture();
  if (p != a.inputs())
    throw_value_error(
        fmt::format("X has {} features, but the model takes {} inputs", p, a.inputs()));
  py::array_t<float> out({rows, a.outputs()});
  const float* src = x.data();
  float* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    const std::lock_guard<std::mutex> lock(mutex_);
    last_input_ = reinterpret_cast<std::uintptr_t>(src);
    run_forward(src, rows, dst, pool(n_jobs));
  }
  return out;
}

void bind_model(py::module_& m) {
  py::class_<Model>(m, "Model",
                    R"(A trained (or freshly initialised) network with what it needs to be
used on raw input: preprocessing, class and feature names. The same safetensors file as the
``backprop`` command line tool reads and writes (docs/model-format.md).)")
      .def_static("load", &Model::load, py::arg("path"),
                  "Reads a model file written by ``backprop train`` or ``Model.save``.")
      .def_static("from_bytes", &Model::from_bytes, py::arg("data"),
                  "A model from the bytes of a model file (``Model.to_bytes``).")
      .def_static("create", &Model::create, py::arg("widths"), py::arg("activations"),
                  py::arg("task"), py::arg("class_names"), py::arg("feature_names"),
                  py::arg("dropout") = 0.0f, py::arg("seed") = 1,
                  "A new network with weights drawn from the seed as ``backprop train --seed`` "
                  "draws them.")
      .def("save", &Model::save, py::arg("path"), "Writes the model file atomically.")
      .def("to_bytes", &Model::to_bytes, "The model file's bytes.")
      .def("predict", &Model::predict, py::arg("X"), py::arg("n_jobs") = 0,
           R"(The network's outputs for every row of X (n x p): class probabilities (n x classes)
for a classifier, values (n x outputs) for a regressor. A float32 C-order X is read in place;
any other X is converted once. The GIL is released meanwhile.)")
      .def(
          "predict_proba",
          [](Model& self, const FloatArray& x, int n_jobs) {
            if (self.info().task != Task::classification)
              throw_value_error("predict_proba: this model is a regressor");
            return self.predict(x, n_jobs);
          },
          py::arg("X"), py::arg("n_jobs") = 0, "Class probabilities (n x classes).")
      .def_property_readonly("task",
                             [](const Model& self) {
                               return self.info().task == Task::classification ? "classification"
                                                                               : "regression";
                             })
      .def_property_readonly("widths",
                             [](const Model& self) { return self.info().architecture.widths; })
      .def_property_readonly(
          "activations",
          [](const Model& self) { return activation_names(self.info().architecture); })
      .def_property_readonly("dropout",
                             [](const Model& self) { return self.info().architecture.dropout; })
      .def_property_readonly("class_names",
                             [](const Model& self) { return self.info().class_names; })
      .def_property_readonly("feature_names",
                             [](const Model& self) { return self.info().feature_names; })
      .def_property_readonly(
          "preprocessing",
          [](const Model& self) { return to_string(self.info().preprocessing.kind); })
      .def_property_readonly("training", [](const Model& self) { return self.info().training; })
      .def(
          "weights", [](const Model& self) { return per_layer(self.network(), weight_array); },
          "Copies of W1, W2, ... (each in x out).")
      .def(
          "biases", [](const Model& self) { return per_layer(self.network(), bias_array); },
          "Copies of b1, b2, ...")
      .def_property_readonly("optimizer",
                             [](const Model& self) { return self.progress().optimizer; })
      .def_property_readonly("optimizer_steps",
                             [](const Model& self) { return self.progress().steps; })
      .def_property_readonly("epochs_trained",
                             [](const Model& self) { return self.progress().epochs; })
      .def(
          "optimizer_state",
          [](const Model& self) {
            const auto& s = self.progress().state;
            py::array_t<float> out(static_cast<py::ssize_t>(s.size()));
            std::copy(s.begin(), s.end(), out.mutable_data());
            return out;
          },
          "The optimiser's state over the flat parameter buffer (velocity, or Adam's m then v).")
      .def(
          "set_progress",
          [](Model& self, const std::string& optimizer, std::uint64_t steps,
             const FloatArray& state, std::int64_t epochs) {
            TrainingProgress& p = self.progress();
            p.optimizer = optimizer;
            p.steps = steps;
            p.state.assign(state.data(), state.data() + state.size());
            p.epochs = epochs;
          },
          py::arg("optimizer"), py::arg("steps"), py::arg("state"), py::arg("epochs"),
          "Restores what optimizer, optimizer_steps, optimizer_state() and epochs_trained gave.")
      .def_property_readonly("_last_input_address", &Model::last_input_address);
}

}  // namespace backprop::python
