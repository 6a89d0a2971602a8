// ONNX graph -> backprop model (include/backprop/onnx.hpp, docs/onnx.md).
//
// The nodes are walked in the file's order (ONNX requires a topological one). One value, the
// head, carries the sample through the chain; every node either computes a constant, moves
// the head one step (a preprocessing step, a dense layer's product or bias, an activation,
// Softmax, a no-op), or belongs to the label branch that ends a classifier (ArgMax,
// ArrayFeatureExtractor, ZipMap), whose only use is the class names. Anything else, and any
// branching of the chain, is refused.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "backprop/error.hpp"
#include "backprop/onnx.hpp"
#include "core/file_bytes.hpp"
#include "io/model_names.hpp"
#include "io/onnx/onnx_metadata.hpp"
#include "io/onnx/onnx_proto.hpp"

namespace backprop {

namespace {

constexpr const char* kSupported =
    "supported: Gemm (transA=0), MatMul + Add, Flatten, Reshape to [-1, F] or [0, F], Identity, "
    "Cast to float, Dropout, Constant, Sub/Add/Mul/Div by a constant or ai.onnx.ml Scaler before "
    "the first layer, Sigmoid, Tanh, Relu, LeakyRelu, Softmax (axis 1 or -1) or a linear "
    "output, and a label branch of ArgMax, ArrayFeatureExtractor, ZipMap, Cast, Reshape";

struct Layer {
  std::int64_t in = 0, out = 0;
  std::vector<float> w;  // in x out, row-major: z = x W + b
  std::vector<float> b;
  bool has_bias = false;
  std::optional<Activation> activation;
};

enum class Kind { constant, head, old_head, label, unused };

class Importer {
 public:
  Importer(const onnx::Model& m, std::string source) : m_(m), source_(std::move(source)) {}

  Model run(std::int64_t max_batch);

 private:
  [[noreturn]] void refuse(std::size_t i, const onnx::Node& n, const std::string& why) const {
    throw Error(fmt::format("{}: node {} '{}' ({}{}): {}; {}", source_, i, n.name,
                            n.domain.empty() ? "" : n.domain + ".", n.op_type, why, kSupported));
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw Error(fmt::format("{}: {}", source_, why));
  }

  void find_input();
  void node(std::size_t i, const onnx::Node& n);
  void constant_node(std::size_t i, const onnx::Node& n);
  void label_node(std::size_t i, const onnx::Node& n);
  void chain_node(std::size_t i, const onnx::Node& n, const onnx::Tensor* c, bool head_first);
  void arithmetic(std::size_t i, const onnx::Node& n, const onnx::Tensor& c, bool head_first);
  void dense(std::size_t i, const onnx::Node& n, const onnx::Tensor& w, bool transpose,
             float alpha);
  void set_bias(std::size_t i, const onnx::Node& n, const onnx::Tensor& c, float beta);
  void preprocess(std::size_t i, const onnx::Node& n, char op, const std::vector<float>& c,
                  const std::vector<std::int64_t>& dims);

  const onnx::Tensor& float_constant(std::size_t i, const onnx::Node& n, const onnx::Tensor& t);
  std::int64_t features() const;

  const onnx::Model& m_;
  std::string source_;
  std::int64_t opset_ = 0;
  std::map<std::string, const onnx::Tensor*> constants_;
  std::deque<onnx::Tensor> owned_;  // Constant nodes' values
  std::map<std::string, Kind> kinds_;
  std::string input_name_;
  std::string head_;
  std::optional<std::vector<std::int64_t>> feature_dims_;  // the head's non-batch dims, if known
  // x' = (x - offset) * scale before the first layer (size 1 = the same for every feature).
  std::vector<double> offset_{0.0}, scale_{1.0};
  std::vector<Layer> layers_;
  bool softmax_ = false;
  bool post_ = false;  // target scaling after the last layer: y = z / divisor + shift
  double divisor_ = 1.0, shift_ = 0.0;
  bool branched_ = false;  // the label branch has read the head
  std::optional<float> leaky_alpha_;
  std::vector<std::string> branch_classes_;
};

bool valid_utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

std::int64_t product(const std::vector<std::int64_t>& dims) {
  std::int64_t p = 1;
  for (const auto d : dims) p *= d;
  return p;
}

std::int64_t Importer::features() const {
  if (feature_dims_) return product(*feature_dims_);
  return layers_.empty() ? -1 : layers_.front().in;
}

void Importer::find_input() {
  std::set<std::string> initializer_names;
  for (const onnx::Tensor& t : m_.graph.initializers) {
    if (t.name.empty()) fail("an initializer has no name");
    if (!constants_.emplace(t.name, &t).second)
      fail(fmt::format("two initializers are named '{}'", t.name));
    kinds_[t.name] = Kind::constant;
  }
  std::vector<const onnx::ValueInfo*> inputs;
  for (const onnx::ValueInfo& v : m_.graph.inputs)
    if (constants_.count(v.name) == 0) inputs.push_back(&v);  // keep_initializers_as_inputs
  if (inputs.size() != 1)
    fail(
        fmt::format("the graph has {} inputs besides its initializers; backprop imports models "
                    "with exactly one (the samples, [batch, features])",
                    inputs.size()));
  const onnx::ValueInfo& in = *inputs.front();
  if (!in.is_tensor || (in.elem_type != onnx::kFloat && in.elem_type != onnx::kDouble))
    fail(fmt::format("input '{}' is {}, not a float or double tensor", in.name,
                     in.is_tensor ? onnx::data_type_name(in.elem_type) : "not a tensor"));
  if (in.shape) {
    if (in.shape->size() < 2)
      fail(
          fmt::format("input '{}' has {} dims; backprop imports [batch, features] (or [batch, "
                      "...] followed by Flatten)",
                      in.name, in.shape->size()));
    std::vector<std::int64_t> dims;
    bool known = true;
    for (std::size_t k = 1; k < in.shape->size(); ++k) {
      const auto& d = (*in.shape)[k];
      if (!d.value) {
        known = false;
        continue;
      }
      if (*d.value < 1 || *d.value > kMaxWidth)
        fail(fmt::format("input '{}' dim {} is {} (expected 1 to {})", in.name, k, *d.value,
                         kMaxWidth));
      dims.push_back(*d.value);
    }
    if (known) {
      std::int64_t p = 1;
      for (const auto d : dims) {
        p *= d;
        if (p > kMaxWidth)
          fail(fmt::format("input '{}' has more than {} features", in.name, kMaxWidth));
      }
      feature_dims_ = dims;
    }
  }
  input_name_ = in.name;
  head_ = in.name;
  kinds_[in.name] = Kind::head;
}

const onnx::Tensor& Importer::float_constant(std::size_t i, const onnx::Node& n,
                                             const onnx::Tensor& t) {
  if (t.data_type != onnx::kFloat && t.data_type != onnx::kDouble)
    refuse(i, n,
           fmt::format("constant '{}' is {}, not float or double", t.name,
                       onnx::data_type_name(t.data_type)));
  if (!std::all_of(t.floats.begin(), t.floats.end(), [](float v) { return std::isfinite(v); }))
    refuse(i, n, fmt::format("constant '{}' holds a value that is not finite (in float)", t.name));
  return t;
}

void Importer::constant_node(std::size_t i, const onnx::Node& n) {
  if (n.outputs.size() != 1 || n.attributes.size() != 1)
    refuse(i, n, "a Constant has one output and one attribute");
  const onnx::Attribute& a = n.attributes.front();
  onnx::Tensor t;
  if (a.name == "value" && a.t) {
    t = *a.t;
  } else if (a.name == "value_float" || a.name == "value_floats") {
    t.data_type = onnx::kFloat;
    t.floats = a.name == "value_float" ? std::vector<float>{a.f} : a.floats;
    t.decoded = true;
    if (a.name == "value_floats") t.dims = {static_cast<std::int64_t>(t.floats.size())};
  } else if (a.name == "value_int" || a.name == "value_ints") {
    t.data_type = onnx::kInt64;
    t.ints = a.name == "value_int" ? std::vector<std::int64_t>{a.i} : a.ints;
    t.decoded = true;
    if (a.name == "value_ints") t.dims = {static_cast<std::int64_t>(t.ints.size())};
  } else {
    refuse(i, n, fmt::format("Constant attribute '{}' is not supported", a.name));
  }
  if (!t.decoded)
    refuse(i, n, fmt::format("Constant of type {}", onnx::data_type_name(t.data_type)));
  t.name = n.outputs.front();
  t.elements = t.floats.size() + t.ints.size() + t.strings.size();
  owned_.push_back(std::move(t));
  constants_[n.outputs.front()] = &owned_.back();
  kinds_[n.outputs.front()] = Kind::constant;
}

// Nodes after the classifier's output: the class index, names and the probability map.
void Importer::label_node(std::size_t i, const onnx::Node& n) {
  static const std::set<std::string> kLabelOps = {"ArgMax",    "ArrayFeatureExtractor",
                                                  "ZipMap",    "Cast",
                                                  "Reshape",   "Identity",
                                                  "Flatten",   "Squeeze",
                                                  "Unsqueeze", "Concat"};
  if (kLabelOps.count(n.op_type) == 0)
    refuse(i, n,
           "only ArgMax, ArrayFeatureExtractor, ZipMap, Cast, Reshape, Identity, "
           "Flatten, Squeeze, Unsqueeze and Concat may follow the model's output");
  if (n.op_type == "ArrayFeatureExtractor" && !n.inputs.empty()) {
    const auto c = constants_.find(n.inputs.front());
    if (c != constants_.end()) {
      const onnx::Tensor& t = *c->second;
      branch_classes_.clear();
      for (const auto& s : t.strings) branch_classes_.push_back(s);
      for (const auto v : t.ints) branch_classes_.push_back(std::to_string(v));
    }
  }
  if (n.op_type == "ZipMap") {
    if (const auto* a = n.attribute("classlabels_strings")) branch_classes_ = a->strings;
    if (const auto* a = n.attribute("classlabels_int64s")) {
      branch_classes_.clear();
      for (const auto v : a->ints) branch_classes_.push_back(std::to_string(v));
    }
  }
  for (const auto& out : n.outputs) kinds_[out] = Kind::label;
}

void Importer::node(std::size_t i, const onnx::Node& n) {
  const bool ml = n.domain == "ai.onnx.ml";
  if (!n.domain.empty() && n.domain != "ai.onnx" && !ml)
    refuse(i, n, fmt::format("operator domain '{}' is not supported", n.domain));
  if (n.outputs.empty() || n.outputs.front().empty()) refuse(i, n, "the node has no output");
  for (const auto& out : n.outputs)
    if (!out.empty() && kinds_.count(out) != 0)
      refuse(i, n, fmt::format("value '{}' is produced twice", out));
  if (n.op_type == "Constant") return constant_node(i, n);

  bool any_label = false;
  bool any_head = false;
  bool head_first = false;
  const onnx::Tensor* c = nullptr;
  std::size_t constants = 0;
  for (std::size_t k = 0; k < n.inputs.size(); ++k) {
    const std::string& name = n.inputs[k];
    if (name.empty()) continue;  // an optional input left out
    const auto kind = kinds_.find(name);
    if (kind == kinds_.end())
      refuse(i, n,
             fmt::format("input '{}' is not the graph's input, an initializer or an earlier "
                         "node's output",
                         name));
    switch (kind->second) {
      case Kind::constant:
        if (constants++ == 0) c = constants_.at(name);
        break;
      case Kind::head:
        if (any_head) refuse(i, n, "the node reads the sample twice");
        any_head = true;
        head_first = k == 0;
        break;
      case Kind::old_head:
        refuse(i, n,
               fmt::format("the graph branches: '{}' is read again after a later step "
                           "used it; backprop imports a single chain of layers",
                           name));
      case Kind::label:
        any_label = true;
        break;
      case Kind::unused:
        refuse(i, n, fmt::format("it reads '{}', a secondary output (e.g. Dropout's mask)", name));
    }
  }
  if (any_label) {
    if (any_head) refuse(i, n, "the node mixes the label branch with the model's output");
    return label_node(i, n);
  }
  if (!any_head) {
    // Arithmetic on constants alone: only renaming it is supported.
    if ((n.op_type == "Identity" || n.op_type == "Cast") && c != nullptr && constants == 1 &&
        n.outputs.size() == 1) {
      constants_[n.outputs.front()] = c;
      kinds_[n.outputs.front()] = Kind::constant;
      return;
    }
    refuse(i, n, "the node computes on constants only");
  }
  if (n.op_type == "ArgMax" || n.op_type == "ArrayFeatureExtractor" || n.op_type == "ZipMap") {
    branched_ = true;
    return label_node(i, n);
  }
  if (branched_)
    refuse(i, n, "the model's output is read by the label branch and then computed on further");
  if (ml && n.op_type != "Scaler") refuse(i, n, "this ai.onnx.ml operator is not supported");
  if (constants > 1 && n.op_type != "Gemm" && n.op_type != "Dropout")
    refuse(i, n, "the node reads more than one constant besides the sample");
  chain_node(i, n, c, head_first);
}

void Importer::chain_node(std::size_t i, const onnx::Node& n, const onnx::Tensor* c,
                          bool head_first) {
  const std::string& op = n.op_type;
  const auto attr_int = [&](const char* name, std::int64_t fallback) {
    const onnx::Attribute* a = n.attribute(name);
    return a == nullptr ? fallback : a->i;
  };
  const auto attr_float = [&](const char* name, float fallback) {
    const onnx::Attribute* a = n.attribute(name);
    return a == nullptr ? fallback : a->f;
  };
  const auto need_constant = [&] {
    if (c == nullptr) refuse(i, n, "the node's second operand is not a constant");
    return c;
  };
  const auto need_layer = [&](const char* what) {
    if (layers_.empty() || softmax_ || post_ || layers_.back().activation)
      refuse(i, n, fmt::format("{} must follow a dense layer (MatMul/Gemm, then its bias)", what));
  };

  if (op == "Identity" || op == "Dropout") {
    // Dropout is the identity at inference; its optional mask output must stay unused.
  } else if (op == "Cast") {
    const std::int64_t to = attr_int("to", 0);
    if (to != onnx::kFloat && to != onnx::kDouble)
      refuse(i, n,
             fmt::format("Cast to {} in the model's chain",
                         onnx::data_type_name(static_cast<std::int32_t>(to))));
  } else if (op == "Flatten") {
    const std::int64_t axis = attr_int("axis", 1);
    if (axis != 1 && !(axis == -1 && feature_dims_ && feature_dims_->size() == 1))
      refuse(i, n, fmt::format("Flatten axis {} (only 1 keeps the batch dimension)", axis));
    if (feature_dims_) feature_dims_ = std::vector<std::int64_t>{product(*feature_dims_)};
  } else if (op == "Reshape") {
    const onnx::Tensor* shape = need_constant();
    if (shape->data_type != onnx::kInt64 || shape->ints.size() != 2 ||
        (shape->ints[0] != -1 && shape->ints[0] != 0) || shape->ints[1] < 1)
      refuse(i, n,
             fmt::format("Reshape to [{}] (only [-1, F] and [0, F] are supported)",
                         fmt::join(shape->ints, ", ")));
    const std::int64_t f = features();
    const std::int64_t width = layers_.empty() ? f : layers_.back().out;
    if (width >= 0 && width != shape->ints[1])
      refuse(
          i, n,
          fmt::format("Reshape to [{}, {}] of {} features", shape->ints[0], shape->ints[1], width));
    if (layers_.empty()) feature_dims_ = std::vector<std::int64_t>{shape->ints[1]};
  } else if (op == "Sub" || op == "Add" || op == "Mul" || op == "Div") {
    if (n.inputs.size() != 2) refuse(i, n, "expected two inputs");
    arithmetic(i, n, float_constant(i, n, *need_constant()), head_first);
  } else if (op == "Scaler") {
    if (!layers_.empty()) refuse(i, n, "Scaler after the first layer");
    const onnx::Attribute* off = n.attribute("offset");
    const onnx::Attribute* sc = n.attribute("scale");
    if (off != nullptr) preprocess(i, n, '-', off->floats, {});
    if (sc != nullptr) preprocess(i, n, '*', sc->floats, {});
  } else if (op == "MatMul") {
    if (n.inputs.size() != 2) refuse(i, n, "expected two inputs");
    if (!head_first) refuse(i, n, "MatMul with the sample on the right (W x)");
    dense(i, n, float_constant(i, n, *need_constant()), false, 1.0f);
  } else if (op == "Gemm") {
    if (!head_first) refuse(i, n, "Gemm with the sample as B");
    if (attr_int("transA", 0) != 0) refuse(i, n, "Gemm with transA=1");
    if (n.inputs.size() < 2 || n.inputs[1].empty() || kinds_.at(n.inputs[1]) != Kind::constant)
      refuse(i, n, "Gemm's B is not a constant");
    dense(i, n, float_constant(i, n, *constants_.at(n.inputs[1])), attr_int("transB", 0) != 0,
          attr_float("alpha", 1.0f));
    if (n.inputs.size() >= 3 && !n.inputs[2].empty()) {
      if (kinds_.at(n.inputs[2]) != Kind::constant) refuse(i, n, "Gemm's C is not a constant");
      set_bias(i, n, float_constant(i, n, *constants_.at(n.inputs[2])), attr_float("beta", 1.0f));
    }
    layers_.back().has_bias = true;
  } else if (op == "Sigmoid" || op == "Tanh" || op == "Relu" || op == "LeakyRelu") {
    need_layer(op.c_str());
    Activation a = Activation::sigmoid;
    if (op == "Tanh") a = Activation::tanh;
    if (op == "Relu") a = Activation::relu;
    if (op == "LeakyRelu") {
      a = Activation::leaky_relu;
      const float alpha = attr_float("alpha", 0.01f);
      if (leaky_alpha_ && *leaky_alpha_ != alpha)
        refuse(i, n,
               fmt::format("LeakyRelu alpha {} differs from an earlier layer's {} "
                           "(backprop has one slope per network)",
                           alpha, *leaky_alpha_));
      leaky_alpha_ = alpha;
    }
    layers_.back().activation = a;
  } else if (op == "Softmax") {
    need_layer("Softmax");
    const std::int64_t axis = attr_int("axis", opset_ >= 13 ? -1 : 1);
    if (axis != 1 && axis != -1) refuse(i, n, fmt::format("Softmax axis {}", axis));
    softmax_ = true;
  } else {
    refuse(i, n, "this operator is not supported");
  }
  for (std::size_t k = 0; k < n.outputs.size(); ++k) {
    if (n.outputs[k].empty()) continue;
    kinds_[n.outputs[k]] = k == 0 ? Kind::head : Kind::unused;
  }
  kinds_[head_] = Kind::old_head;
  head_ = n.outputs.front();
}

void Importer::arithmetic(std::size_t i, const onnx::Node& n, const onnx::Tensor& c,
                          bool head_first) {
  const std::string& op = n.op_type;
  if (!head_first && (op == "Sub" || op == "Div"))
    refuse(i, n, fmt::format("{} with the sample as the second operand", op));
  if (layers_.empty()) {
    const char symbol = op == "Sub" ? '-' : op == "Add" ? '+' : op == "Mul" ? '*' : '/';
    return preprocess(i, n, symbol, c.floats, c.dims);
  }
  Layer& last = layers_.back();
  if (op == "Add" && !last.has_bias && !last.activation && !post_) return set_bias(i, n, c, 1.0f);
  if (last.activation || softmax_)
    refuse(i, n,
           fmt::format("{} after an activation (only before the first layer, or as the "
                       "output's target scaling)",
                       op));
  if (c.floats.size() != 1)
    refuse(i, n,
           fmt::format("{} of the output by {} values (target scaling takes one)", op,
                       c.floats.size()));
  // y = z / divisor + shift, kept in that form so that backprop's own Div + Add reads back
  // exactly.
  const auto v = static_cast<double>(c.floats.front());
  if ((op == "Mul" || op == "Div") && v == 0.0) refuse(i, n, fmt::format("{} by 0", op));
  if (op == "Add") shift_ += v;
  if (op == "Sub") shift_ -= v;
  if (op == "Mul") divisor_ /= v, shift_ *= v;
  if (op == "Div") divisor_ *= v, shift_ /= v;
  post_ = true;
}

void Importer::preprocess(std::size_t i, const onnx::Node& n, char op, const std::vector<float>& c,
                          const std::vector<std::int64_t>& dims) {
  if (c.empty()) refuse(i, n, "a preprocessing constant with no values");
  if (c.size() > static_cast<std::size_t>(kMaxWidth))
    refuse(i, n,
           fmt::format("a preprocessing constant of {} values (more than {} features)", c.size(),
                       kMaxWidth));
  if (c.size() > 1) {
    // The constant must line up with the sample's features: its dims without leading 1s end
    // the sample's dims (elementwise after the row-major flatten).
    std::vector<std::int64_t> d(dims.begin(), dims.end());
    while (!d.empty() && d.front() == 1) d.erase(d.begin());
    if (feature_dims_) {
      std::vector<std::int64_t> f = *feature_dims_;
      while (!f.empty() && f.front() == 1) f.erase(f.begin());
      if (!dims.empty() && d != f)
        refuse(i, n,
               fmt::format("a constant of shape [{}] for samples of shape [{}]",
                           fmt::join(dims, ", "), fmt::join(*feature_dims_, ", ")));
      if (static_cast<std::int64_t>(c.size()) != features())
        refuse(i, n, fmt::format("{} values for {} features", c.size(), features()));
    }
    if (offset_.size() == 1) {
      offset_.assign(c.size(), offset_.front());
      scale_.assign(c.size(), scale_.front());
    }
    if (offset_.size() != c.size())
      refuse(i, n, fmt::format("{} values after an earlier step's {}", c.size(), offset_.size()));
  }
  // (x - o) * s followed by each op, kept in that form: the first Sub and Mul (backprop's own
  // export) read back exactly.
  for (std::size_t j = 0; j < offset_.size(); ++j) {
    const auto v = static_cast<double>(c[c.size() == 1 ? 0 : j]);
    double& o = offset_[j];
    double& s = scale_[j];
    if ((op == '-' || op == '+') && s == 0.0) refuse(i, n, "a shift after a multiplication by 0");
    if (op == '/' && v == 0.0) refuse(i, n, "a division by 0");
    if (op == '-') o += v / s;
    if (op == '+') o -= v / s;
    if (op == '*') s *= v;
    if (op == '/') s /= v;
  }
}

void Importer::dense(std::size_t i, const onnx::Node& n, const onnx::Tensor& w, bool transpose,
                     float alpha) {
  if (softmax_ || post_) refuse(i, n, "a layer after the output");
  if (!layers_.empty() && !layers_.back().activation) {
    // Two products in a row: the first layer is linear.
    layers_.back().activation = Activation::linear;
  }
  if (w.dims.size() != 2)
    refuse(i, n, fmt::format("weight '{}' has {} dims, not 2", w.name, w.dims.size()));
  Layer l;
  l.in = w.dims[transpose ? 1 : 0];
  l.out = w.dims[transpose ? 0 : 1];
  if (l.in < 1 || l.out < 1 || l.in > kMaxWidth || l.out > kMaxWidth)
    refuse(i, n, fmt::format("weight '{}' has shape [{}]", w.name, fmt::join(w.dims, ", ")));
  const std::int64_t width = layers_.empty() ? features() : layers_.back().out;
  if (width >= 0 && width != l.in)
    refuse(i, n,
           fmt::format("weight '{}' takes {} inputs, but the sample has {} here", w.name, l.in,
                       width));
  if (layers_.empty() && feature_dims_ && feature_dims_->size() != 1)
    refuse(i, n, "a layer on samples of more than one dim (Flatten them first)");
  l.w.resize(w.floats.size());
  for (std::int64_t r = 0; r < l.in; ++r)
    for (std::int64_t k = 0; k < l.out; ++k) {
      const float v = transpose ? w.floats[static_cast<std::size_t>(k * l.in + r)]
                                : w.floats[static_cast<std::size_t>(r * l.out + k)];
      l.w[static_cast<std::size_t>(r * l.out + k)] = alpha == 1.0f ? v : alpha * v;
    }
  if (!std::all_of(l.w.begin(), l.w.end(), [](float v) { return std::isfinite(v); }))
    refuse(i, n, fmt::format("alpha {} times weight '{}' is not finite in float", alpha, w.name));
  l.b.assign(static_cast<std::size_t>(l.out), 0.0f);
  layers_.push_back(std::move(l));
}

void Importer::set_bias(std::size_t i, const onnx::Node& n, const onnx::Tensor& c, float beta) {
  Layer& l = layers_.back();
  std::vector<std::int64_t> d = c.dims;
  while (!d.empty() && d.front() == 1) d.erase(d.begin());
  const auto count = static_cast<std::int64_t>(c.floats.size());
  if (count != 1 && (count != l.out || d.size() != 1))
    refuse(i, n,
           fmt::format("bias '{}' of shape [{}] for a layer of {} outputs", c.name,
                       fmt::join(c.dims, ", "), l.out));
  for (std::int64_t k = 0; k < l.out; ++k) {
    const float v = c.floats[static_cast<std::size_t>(count == 1 ? 0 : k)];
    l.b[static_cast<std::size_t>(k)] = beta == 1.0f ? v : beta * v;
  }
  if (!std::all_of(l.b.begin(), l.b.end(), [](float v) { return std::isfinite(v); }))
    refuse(i, n, fmt::format("beta {} times bias '{}' is not finite in float", beta, c.name));
  l.has_bias = true;
}

Model Importer::run(std::int64_t max_batch) {
  for (const onnx::OpsetId& o : m_.opsets)
    if (o.domain.empty() || o.domain == "ai.onnx") opset_ = o.version;
  if (opset_ < 1 || opset_ > 22)
    fail(fmt::format("the default operator set is version {} (backprop reads 1 to 22)", opset_));
  find_input();
  const auto& nodes = m_.graph.nodes;
  for (std::size_t i = 0; i < nodes.size(); ++i) node(i, nodes[i]);

  if (layers_.empty()) fail("the graph has no dense layer (MatMul or Gemm on the input)");
  if (layers_.back().activation)
    fail(
        fmt::format("the last layer ends in an activation ({}); backprop's outputs are Softmax "
                    "(classification) or linear (regression)",
                    to_string(*layers_.back().activation)));
  bool head_is_output = false;
  for (const onnx::ValueInfo& v : m_.graph.outputs) {
    if (v.name == head_) head_is_output = true;
    const auto kind = kinds_.find(v.name);
    if (kind == kinds_.end()) fail(fmt::format("graph output '{}' is never computed", v.name));
  }
  if (!head_is_output && !branched_)
    fail(fmt::format("the end of the layer chain ('{}') is not a graph output", head_));

  Model model;
  ModelInfo& info = model.info;
  Architecture& a = info.architecture;
  a.widths.push_back(layers_.front().in);
  for (const Layer& l : layers_) a.widths.push_back(l.out);
  for (std::size_t l = 0; l + 1 < layers_.size(); ++l)
    a.activations.push_back(*layers_[l].activation);
  a.loss = softmax_ ? Loss::cross_entropy : Loss::mse;
  if (leaky_alpha_) a.leaky_slope = *leaky_alpha_;
  try {
    a.validate();
  } catch (const Error& e) {
    fail(fmt::format("the layers found ({}) are not a valid network: {}", a.describe(), e.what()));
  }
  const std::int64_t p = a.inputs();
  const std::int64_t r = a.outputs();
  info.task = softmax_ ? Task::classification : Task::regression;

  // Without backprop's metadata: a headerless CSV of the p features (and the label last).
  info.input_format = "csv";
  info.csv_header = false;
  info.csv_columns = p + 1;
  for (std::int64_t j = 0; j < p; ++j) info.feature_names.push_back(fmt::format("c{}", j));
  info.label_name = fmt::format("c{}", p);
  const bool identity =
      std::all_of(offset_.begin(), offset_.end(), [](double v) { return v == 0; }) &&
      std::all_of(scale_.begin(), scale_.end(), [](double v) { return v == 1; });
  info.preprocessing.kind = identity ? Normalization::none : Normalization::standard;
  if (info.task == Task::classification) {
    if (!branch_classes_.empty()) {
      info.class_names = branch_classes_;
    } else {
      for (std::int64_t k = 0; k < r; ++k) info.class_names.push_back(std::to_string(k));
    }
  }
  const OnnxMetadataSeen seen = apply_onnx_metadata(m_.metadata, source_, info);
  if (seen.has_task && info.task != (softmax_ ? Task::classification : Task::regression))
    fail("metadata_props task disagrees with the graph (Softmax means classification)");
  if (info.task == Task::classification && static_cast<std::int64_t>(info.class_names.size()) != r)
    fail(fmt::format("{} class names for {} outputs", info.class_names.size(), r));
  if (info.task == Task::regression) info.class_names.clear();
  if (static_cast<std::int64_t>(info.feature_names.size()) != p && !info.feature_names.empty())
    fail(fmt::format("{} feature names for {} inputs", info.feature_names.size(), p));
  if (info.input_format == "csv" && info.feature_names.empty())
    fail("metadata_props gives no feature names for a CSV model");

  if (offset_.size() != 1 && static_cast<std::int64_t>(offset_.size()) != p)
    fail(fmt::format("the preprocessing has {} values for {} features", offset_.size(), p));
  Preprocessing& prep = info.preprocessing;
  for (std::int64_t j = 0; j < p; ++j) {
    const std::size_t k = offset_.size() == 1 ? 0 : static_cast<std::size_t>(j);
    // + 0.0f: an offset of -0 is the identity too, and must export (and read back) as one.
    prep.offset.push_back(static_cast<float>(offset_[k]) + 0.0f);
    prep.scale.push_back(static_cast<float>(scale_[k]));
  }
  const auto finite = [](float v) { return std::isfinite(v); };
  if (!std::all_of(prep.offset.begin(), prep.offset.end(), finite) ||
      !std::all_of(prep.scale.begin(), prep.scale.end(), finite))
    fail("the preprocessing constants are not finite in float");
  if (post_ && info.task == Task::classification)
    fail("scaling after the last layer of a classifier");
  prep.target_scale = static_cast<float>(divisor_);
  prep.target_offset = static_cast<float>(shift_) + 0.0f;
  if (!std::isfinite(prep.target_scale) || !std::isfinite(prep.target_offset) ||
      prep.target_scale == 0.0f)
    fail("the output's target scaling is not finite in float");
  // The model file's rules for names, so that what is imported can be saved; the label ends up
  // in JSON (the model file's metadata), which holds UTF-8 only.
  check_names(source_, "class name", info.class_names, true);
  check_names(source_, "feature name", info.feature_names, false);
  if (!valid_utf8(info.label_name)) fail("metadata_props label is not valid UTF-8");
  if (valid_utf8(source_)) info.training["imported_from"] = source_;
  const std::string producer =
      m_.producer_name + (m_.producer_version.empty() ? "" : " " + m_.producer_version);
  if (!m_.producer_name.empty() && valid_utf8(producer)) info.training["producer"] = producer;

  model.network = std::make_unique<Network>(a, max_batch);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const auto li = static_cast<std::int64_t>(l);
    std::copy(layers_[l].w.begin(), layers_[l].w.end(), model.network->weight(li).data);
    std::copy(layers_[l].b.begin(), layers_[l].b.end(), model.network->bias(li).begin());
  }
  return model;
}

}  // namespace

Model parse_onnx(std::span<const std::uint8_t> bytes, std::string_view source,
                 std::int64_t max_batch) {
  const onnx::Model m = onnx::decode_model(bytes, source);
  return Importer(m, std::string(source)).run(max_batch);
}

Model import_onnx(const std::filesystem::path& path, std::int64_t max_batch) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path, onnx::OnnxLimits{}.max_file_bytes);
  return parse_onnx(bytes, path.string(), max_batch);
}

}  // namespace backprop
