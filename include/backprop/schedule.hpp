#pragma once
// Learning-rate schedules, evaluated per epoch (epoch counts from 0).
#include <cstdint>
#include <string>

namespace backprop {

enum class ScheduleKind { constant, step, cosine };

std::string to_string(ScheduleKind k);
ScheduleKind parse_schedule(const std::string& name);  // throws Error listing the choices

struct Schedule {
  ScheduleKind kind = ScheduleKind::constant;
  float base_lr = 0.1f;
  std::int64_t step_epochs = 10;  // step: multiply by gamma every step_epochs epochs
  float gamma = 0.1f;
  float min_lr = 0.0f;            // cosine: the floor reached at the last epoch
  std::int64_t total_epochs = 1;  // cosine: the length of the half period

  // constant: lr0;  step: lr0 gamma^floor(e / step);  cosine: min + (lr0 - min)(1 + cos(pi e / E))
  // / 2
  float learning_rate(std::int64_t epoch) const;
  void validate() const;
};

}  // namespace backprop
