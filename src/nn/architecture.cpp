#include "backprop/architecture.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <utility>

#include "backprop/error.hpp"

namespace backprop {

namespace {

constexpr std::array<std::pair<Activation, const char*>, 5> kActivationNames{{
    {Activation::sigmoid, "sigmoid"},
    {Activation::tanh, "tanh"},
    {Activation::relu, "relu"},
    {Activation::leaky_relu, "leaky_relu"},
    {Activation::linear, "linear"},
}};

std::vector<std::string> split(const std::string& text, const char* separators) {
  std::vector<std::string> parts;
  std::string current;
  for (const char c : text) {
    if (std::string_view(separators).find(c) != std::string_view::npos) {
      parts.push_back(current);
      current.clear();
    } else if (c != ' ') {
      current += c;
    }
  }
  parts.push_back(current);
  return parts;
}

}  // namespace

std::string to_string(Activation a) {
  for (const auto& [value, name] : kActivationNames)
    if (value == a) return name;
  return "unknown";
}

std::string to_string(Loss l) { return l == Loss::cross_entropy ? "cross_entropy" : "mse"; }

Activation parse_activation(const std::string& name) {
  for (const auto& [value, text] : kActivationNames)
    if (name == text) return value;
  if (name == "leaky-relu" || name == "leakyrelu") return Activation::leaky_relu;
  throw Error(fmt::format(
      "unknown activation '{}' (choose sigmoid, tanh, relu, leaky_relu, linear)", name));
}

Loss parse_loss(const std::string& name) {
  if (name == "cross_entropy" || name == "cross-entropy" || name == "ce")
    return Loss::cross_entropy;
  if (name == "mse") return Loss::mse;
  throw Error(fmt::format("unknown loss '{}' (choose cross_entropy, mse)", name));
}

std::int64_t Architecture::parameter_count() const {
  std::int64_t count = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l)
    count += widths[l] * widths[l + 1] + widths[l + 1];
  return count;
}

void Architecture::validate() const {
  if (widths.size() < 2)
    throw Error(fmt::format(
        "a network needs at least an input and an output width, got {} width(s)", widths.size()));
  if (num_layers() > kMaxLayers)
    throw Error(fmt::format("the network has {} layers, more than the {} a model file may hold",
                            num_layers(), kMaxLayers));
  for (std::size_t l = 0; l < widths.size(); ++l) {
    if (widths[l] < 1 || widths[l] > kMaxWidth)
      throw Error(fmt::format("layer width {} at position {} is out of range (1 to {})", widths[l],
                              l + 1, kMaxWidth));
  }
  // Checked after the per-width bound, so each product below fits in 64 bits.
  std::int64_t total = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    total += widths[l] * widths[l + 1] + widths[l + 1];
    if (total > kMaxParameters)
      throw Error(fmt::format("the network has more than {} parameters", kMaxParameters));
  }
  if (activations.size() != widths.size() - 2)
    throw Error(fmt::format("{} hidden layer(s) but {} activation(s) given", widths.size() - 2,
                            activations.size()));
  if (!(dropout >= 0.0f && dropout < 1.0f))
    throw Error(fmt::format("dropout {} is not in [0, 1)", dropout));
  if (!(leaky_slope >= 0.0f && leaky_slope < 1.0f))
    throw Error(fmt::format("leaky ReLU slope {} is not in [0, 1)", leaky_slope));
  if (loss == Loss::cross_entropy && outputs() < 2)
    throw Error("softmax + cross-entropy needs at least 2 outputs (one per class)");
}

std::string Architecture::describe() const {
  std::string text;
  for (std::size_t l = 0; l < widths.size(); ++l)
    text += fmt::format("{}{}", l ? "-" : "", widths[l]);
  if (!activations.empty()) {
    bool same = true;
    for (const auto a : activations) same = same && a == activations.front();
    text += " ";
    if (same) {
      text += to_string(activations.front());
    } else {
      for (std::size_t i = 0; i < activations.size(); ++i)
        text += fmt::format("{}{}", i ? "," : "", to_string(activations[i]));
    }
  }
  text +=
      loss == Loss::cross_entropy ? ", softmax + cross-entropy" : ", linear + mean squared error";
  if (dropout > 0.0f) text += fmt::format(", dropout {}", dropout);
  return text;
}

std::vector<std::int64_t> parse_widths(const std::string& text) {
  std::vector<std::int64_t> widths;
  for (const auto& part : split(text, ",-x")) {
    std::int64_t value = 0;
    const auto* end = part.data() + part.size();
    const auto [ptr, ec] = std::from_chars(part.data(), end, value);
    if (part.empty() || ec != std::errc() || ptr != end || value < 1 || value > kMaxWidth)
      throw Error(fmt::format("layer width '{}' in '{}' is not a whole number from 1 to {}", part,
                              text, kMaxWidth));
    widths.push_back(value);
  }
  return widths;
}

std::vector<Activation> parse_activations(const std::string& text, std::size_t hidden_layers) {
  const auto parts = split(text, ",");
  std::vector<Activation> result;
  if (parts.size() == 1)
    return std::vector<Activation>(hidden_layers, parse_activation(parts.front()));
  if (parts.size() != hidden_layers)
    throw Error(fmt::format("{} activations given for {} hidden layers ('{}')", parts.size(),
                            hidden_layers, text));
  for (const auto& p : parts) result.push_back(parse_activation(p));
  return result;
}

}  // namespace backprop
