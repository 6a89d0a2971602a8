// backprop model -> ONNX graph (include/backprop/onnx.hpp, docs/onnx.md).
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "backprop/error.hpp"
#include "backprop/onnx.hpp"
#include "core/atomic_file.hpp"
#include "io/onnx/onnx_metadata.hpp"
#include "io/onnx/onnx_proto.hpp"

namespace backprop {

namespace {

using nlohmann::json;

onnx::Tensor float_tensor(std::string name, std::vector<std::int64_t> dims,
                          std::span<const float> values) {
  onnx::Tensor t;
  t.name = std::move(name);
  t.dims = std::move(dims);
  t.data_type = onnx::kFloat;
  t.floats.assign(values.begin(), values.end());
  return t;
}

onnx::Attribute int_attribute(std::string name, std::int64_t value) {
  onnx::Attribute a;
  a.name = std::move(name);
  a.type = onnx::AttributeType::int_;
  a.i = value;
  return a;
}

onnx::Attribute float_attribute(std::string name, float value) {
  onnx::Attribute a;
  a.name = std::move(name);
  a.type = onnx::AttributeType::float_;
  a.f = value;
  return a;
}

onnx::ValueInfo tensor_value(std::string name, std::int32_t type, std::vector<onnx::Dim> shape) {
  onnx::ValueInfo v;
  v.name = std::move(name);
  v.is_tensor = true;
  v.elem_type = type;
  v.shape = std::move(shape);
  return v;
}

// Builds the graph one node at a time; each node reads the previous one's output.
class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::Graph& graph) : graph_(graph) {}

  const std::string& head() const { return head_; }
  void start(std::string input) { head_ = std::move(input); }

  // head <- op(head, extra...) named `name`; its output is `output` (or `name` itself).
  void apply(const std::string& op, const std::string& name, std::vector<std::string> extra = {},
             std::vector<onnx::Attribute> attributes = {}, std::string output = {}) {
    onnx::Node n;
    n.op_type = op;
    n.name = name;
    n.inputs.push_back(head_);
    for (auto& e : extra) n.inputs.push_back(std::move(e));
    n.outputs.push_back(output.empty() ? name : std::move(output));
    n.attributes = std::move(attributes);
    head_ = n.outputs.front();
    graph_.nodes.push_back(std::move(n));
  }

  // head <- op(head, constant) with the constant added as an initializer.
  void apply_constant(const std::string& op, const std::string& name, onnx::Tensor constant,
                      std::string output = {}) {
    const std::string c = constant.name;
    graph_.initializers.push_back(std::move(constant));
    apply(op, name, {c}, {}, std::move(output));
  }

 private:
  onnx::Graph& graph_;
  std::string head_;
};

bool all_equal(std::span<const float> values, float v) {
  return std::all_of(values.begin(), values.end(), [v](float x) { return x == v; });
}

const char* activation_op(Activation a) {
  switch (a) {
    case Activation::sigmoid:
      return "Sigmoid";
    case Activation::tanh:
      return "Tanh";
    case Activation::relu:
      return "Relu";
    case Activation::leaky_relu:
      return "LeakyRelu";
    case Activation::linear:
      break;
  }
  return nullptr;
}

}  // namespace

std::string encode_onnx(const Network& network, const ModelInfo& info) {
  const Architecture& a = network.architecture();
  const std::int64_t p = a.inputs();
  const std::int64_t r = a.outputs();
  const Preprocessing& prep = info.preprocessing;
  if (static_cast<std::int64_t>(prep.offset.size()) != p ||
      static_cast<std::int64_t>(prep.scale.size()) != p)
    throw Error(
        fmt::format("cannot export: the preprocessing has {} offsets and {} scales for {} "
                    "inputs",
                    prep.offset.size(), prep.scale.size(), p));
  if (!info.encoding.plain()) {
    std::vector<std::string> encoded;
    for (const ColumnEncoding& c : info.encoding.columns) {
      if (c.kind != ColumnEncoding::Kind::number)
        encoded.push_back(fmt::format("{} ({})", c.name, to_string(c.kind)));
      if (c.indicator) encoded.push_back(fmt::format("{} (missing indicator)", c.name));
    }
    throw Error(fmt::format(
        "cannot export: the model encodes table columns before its inputs ({}), and the ONNX "
        "graph takes numbers only; use backprop predict on raw tables, or encode those columns "
        "as numbers yourself and train on them to export",
        fmt::join(encoded, ", ")));
  }
  const bool classify = a.loss == Loss::cross_entropy;

  onnx::Model m;
  m.ir_version = kOnnxIrVersion;
  m.producer_name = "backprop";
  m.opsets.push_back({"", kOnnxOpset});
  m.metadata = onnx_metadata(info);
  onnx::Graph& g = m.graph;
  g.name = "backprop";
  const onnx::Dim batch{std::nullopt, "batch"};
  g.inputs.push_back(tensor_value("input", onnx::kFloat, {batch, {p, ""}}));

  GraphBuilder b(g);
  b.start("input");
  if (!all_equal(prep.offset, 0.0f))
    b.apply_constant("Sub", "input/Sub", float_tensor("input.offset", {p}, prep.offset));
  if (!all_equal(prep.scale, 1.0f))
    b.apply_constant("Mul", "input/Mul", float_tensor("input.scale", {p}, prep.scale));

  for (std::int64_t l = 0; l < a.num_layers(); ++l) {
    const auto w = network.weight(l);
    const auto bias = network.bias(l);
    const std::string layer = fmt::format("layer{}", l + 1);
    b.apply_constant("MatMul", layer + "/MatMul",
                     float_tensor(fmt::format("W{}", l + 1), {w.rows, w.cols},
                                  {w.data, static_cast<std::size_t>(w.size())}));
    b.apply_constant("Add", layer + "/Add",
                     float_tensor(fmt::format("b{}", l + 1), {w.cols}, bias));
    if (l + 1 == a.num_layers()) break;
    const Activation f = a.activations[static_cast<std::size_t>(l)];
    const char* op = activation_op(f);
    if (op == nullptr) continue;  // a linear hidden layer is z itself
    std::vector<onnx::Attribute> attributes;
    if (f == Activation::leaky_relu) attributes.push_back(float_attribute("alpha", a.leaky_slope));
    b.apply(op, layer + "/" + op, {}, std::move(attributes));
  }

  if (classify) {
    b.apply("Softmax", "Softmax", {}, {int_attribute("axis", -1)}, "probabilities");
    b.apply("ArgMax", "ArgMax", {}, {int_attribute("axis", 1), int_attribute("keepdims", 0)},
            "class_index");
    g.outputs.push_back(tensor_value("probabilities", onnx::kFloat, {batch, {r, ""}}));
    g.outputs.push_back(tensor_value("class_index", onnx::kInt64, {batch}));
  } else {
    // y = y' / scale + offset, as predict() maps outputs back to the data's units.
    const bool scale = prep.target_scale != 1.0f;
    const bool offset = prep.target_offset != 0.0f;
    if (scale)
      b.apply_constant("Div", "target/Div",
                       float_tensor("target.scale", {1}, {&prep.target_scale, 1}),
                       offset ? "" : "predictions");
    if (offset)
      b.apply_constant("Add", "target/Add",
                       float_tensor("target.offset", {1}, {&prep.target_offset, 1}), "predictions");
    if (!scale && !offset) b.apply("Identity", "predictions/Identity", {}, {}, "predictions");
    g.outputs.push_back(tensor_value("predictions", onnx::kFloat, {batch, {r, ""}}));
  }
  return onnx::encode_model(m);
}

void export_onnx(const std::filesystem::path& path, const Network& network, const ModelInfo& info) {
  write_file_atomically(path, encode_onnx(network, info));
}

}  // namespace backprop
