#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "backprop/trainer.hpp"

namespace backprop {

namespace {

using ordered_json = nlohmann::ordered_json;

// JSON has no NaN or infinity: "no such value" (no validation set, a regression accuracy) is null.
ordered_json number(double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); }
double number_or_nan(const ordered_json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

// The keys of a LayerStats object, in order (docs/report.md).
constexpr const char* kLayerKeys[] = {"weight_norm",   "grad_norm",          "update_ratio",
                                      "dead_fraction", "saturated_fraction", "activation_mean",
                                      "activation_std"};

double* layer_field(LayerStats& s, std::size_t i) {
  double* fields[] = {&s.weight_norm,        &s.grad_norm,       &s.update_ratio,  &s.dead_fraction,
                      &s.saturated_fraction, &s.activation_mean, &s.activation_std};
  return fields[i];
}

}  // namespace

std::string to_json(const EpochMetrics& m) {
  ordered_json j{{"epoch", m.epoch},
                 {"train_loss", number(m.train_loss)},
                 {"train_accuracy", number(m.train_accuracy)},
                 {"val_loss", number(m.val_loss)},
                 {"val_accuracy", number(m.val_accuracy)},
                 {"test_loss", number(m.test_loss)},
                 {"test_accuracy", number(m.test_accuracy)},
                 {"seconds", number(m.seconds)},
                 {"samples_per_second", number(m.samples_per_second)},
                 {"learning_rate", number(m.learning_rate)}};
  if (!m.layers.empty()) {
    ordered_json layers = ordered_json::array();
    for (LayerStats s : m.layers) {
      ordered_json l{{"layer", s.layer}};
      for (std::size_t i = 0; i < std::size(kLayerKeys); ++i)
        l[kLayerKeys[i]] = number(*layer_field(s, i));
      layers.push_back(std::move(l));
    }
    j["layers"] = std::move(layers);
  }
  return j.dump();
}

EpochMetrics epoch_metrics_from_json(const std::string& text) {
  try {
    const auto j = ordered_json::parse(text);
    EpochMetrics m;
    m.epoch = j.at("epoch").get<std::int64_t>();
    m.train_loss = number_or_nan(j.at("train_loss"));
    m.train_accuracy = number_or_nan(j.at("train_accuracy"));
    m.val_loss = number_or_nan(j.at("val_loss"));
    m.val_accuracy = number_or_nan(j.at("val_accuracy"));
    m.test_loss = number_or_nan(j.at("test_loss"));
    m.test_accuracy = number_or_nan(j.at("test_accuracy"));
    m.seconds = number_or_nan(j.at("seconds"));
    m.samples_per_second = number_or_nan(j.at("samples_per_second"));
    m.learning_rate = number_or_nan(j.at("learning_rate"));
    if (j.contains("layers")) {
      for (const auto& l : j.at("layers")) {
        LayerStats s;
        s.layer = l.at("layer").get<std::int64_t>();
        for (std::size_t i = 0; i < std::size(kLayerKeys); ++i)
          *layer_field(s, i) = number_or_nan(l.at(kLayerKeys[i]));
        m.layers.push_back(s);
      }
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("epoch metrics are malformed ({})", e.what()));
  }
}

}  // namespace backprop
