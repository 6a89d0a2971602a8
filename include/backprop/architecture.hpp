#pragma once
// What a network is, independent of its weights: net(p, q, ..., r) in the seed's notation.
#include <cstdint>
#include <string>
#include <vector>

namespace backprop {

// Hidden-layer nonlinearities. `linear` is the identity (used for the output of regression).
enum class Activation { sigmoid, tanh, relu, leaky_relu, linear };

// softmax + cross-entropy for classification, linear output + mean squared error for regression.
enum class Loss { cross_entropy, mse };

std::string to_string(Activation a);
std::string to_string(Loss l);
Activation parse_activation(const std::string& name);  // throws Error listing the choices
Loss parse_loss(const std::string& name);

struct Architecture {
  std::vector<std::int64_t> widths;     // p, hidden widths..., r: at least two entries
  std::vector<Activation> activations;  // one per hidden layer (widths.size() - 2 entries)
  Loss loss = Loss::cross_entropy;
  float dropout = 0.0f;       // probability of dropping a hidden unit while training, in [0, 1)
  float leaky_slope = 0.01f;  // f(z) = z for z > 0, slope * z otherwise (leaky ReLU only)

  std::int64_t inputs() const { return widths.front(); }
  std::int64_t outputs() const { return widths.back(); }
  std::int64_t num_layers() const {
    return static_cast<std::int64_t>(widths.size()) - 1;
  }                                      // dense layers
  std::int64_t parameter_count() const;  // sum over layers of in*out + out

  // Throws Error naming the first problem: too few or too many layers, a width < 1 or absurdly
  // large, an activation count that does not match, dropout outside [0, 1).
  void validate() const;
  // "784-128-10 sigmoid, softmax + cross-entropy" for messages and `info`.
  std::string describe() const;
};

// Parses "784,128,10" (commas or dashes). Throws Error naming the bad entry.
std::vector<std::int64_t> parse_widths(const std::string& text);
// One activation name for all hidden layers, or a comma list with one per hidden layer.
std::vector<Activation> parse_activations(const std::string& text, std::size_t hidden_layers);

// Largest width accepted anywhere (inputs, hidden or outputs): guards hostile model files and
// typos before any allocation.
inline constexpr std::int64_t kMaxWidth = 1 << 20;
inline constexpr std::int64_t kMaxParameters = std::int64_t{1} << 31;
// Most dense layers a network may have: validate() refuses more, so training never makes a model
// that the model reader (which enforces the same bound) would refuse.
inline constexpr std::int64_t kMaxLayers = 1000;

}  // namespace backprop
