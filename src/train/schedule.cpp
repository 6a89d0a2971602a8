#include "backprop/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "backprop/error.hpp"
#include "core/enum_names.hpp"

namespace backprop {

namespace {

constexpr EnumNames<ScheduleKind, 3> kScheduleNames{{
    {ScheduleKind::constant, "constant"},
    {ScheduleKind::step, "step"},
    {ScheduleKind::cosine, "cosine"},
}};

}  // namespace

std::string to_string(ScheduleKind k) { return enum_to_string(kScheduleNames, k); }

ScheduleKind parse_schedule(const std::string& name) {
  return parse_enum(kScheduleNames, name, "learning-rate schedule");
}

void Schedule::validate() const {
  if (!(base_lr > 0.0f && std::isfinite(base_lr)))
    throw Error(fmt::format("learning rate {} must be a positive number", base_lr));
  if (kind == ScheduleKind::step && step_epochs < 1)
    throw Error(fmt::format("step schedule needs a step of at least 1 epoch, got {}", step_epochs));
  if (!(gamma > 0.0f && gamma <= 1.0f))
    throw Error(fmt::format("schedule gamma {} is not in (0, 1]", gamma));
  if (!(min_lr >= 0.0f && min_lr <= base_lr))
    throw Error(fmt::format("minimum learning rate {} is not in [0, {}]", min_lr, base_lr));
}

float Schedule::learning_rate(std::int64_t epoch) const {
  switch (kind) {
    case ScheduleKind::constant:
      return base_lr;
    case ScheduleKind::step:
      return base_lr * std::pow(gamma, static_cast<float>(epoch / step_epochs));
    case ScheduleKind::cosine: {
      // PyTorch's CosineAnnealingLR with T_max = total_epochs, so runs compare side by side.
      const double progress =
          static_cast<double>(epoch) / static_cast<double>(std::max<std::int64_t>(total_epochs, 1));
      const double c = 0.5 * (1.0 + std::cos(std::numbers::pi * std::min(progress, 1.0)));
      const auto lo = static_cast<double>(min_lr);
      return static_cast<float>(lo + (static_cast<double>(base_lr) - lo) * c);
    }
  }
  return base_lr;
}

}  // namespace backprop
