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

}  // namespace

std::string to_json(const EpochMetrics& m) {
  return ordered_json{{"epoch", m.epoch},
                      {"train_loss", number(m.train_loss)},
                      {"train_accuracy", number(m.train_accuracy)},
                      {"val_loss", number(m.val_loss)},
                      {"val_accuracy", number(m.val_accuracy)},
                      {"test_loss", number(m.test_loss)},
                      {"test_accuracy", number(m.test_accuracy)},
                      {"seconds", number(m.seconds)},
                      {"samples_per_second", number(m.samples_per_second)},
                      {"learning_rate", number(m.learning_rate)}}
      .dump();
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
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("epoch metrics are malformed ({})", e.what()));
  }
}

}  // namespace backprop
