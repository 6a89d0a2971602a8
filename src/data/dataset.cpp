#include "backprop/dataset.hpp"

#include "core/enum_names.hpp"

namespace backprop {

namespace {

constexpr EnumNames<Task, 2> kTaskNames{{
    {Task::classification, "classification"},
    {Task::regression, "regression"},
}};

}  // namespace

std::string to_string(Task t) { return enum_to_string(kTaskNames, t); }

Task parse_task(const std::string& name) { return parse_enum(kTaskNames, name, "task"); }

std::optional<Task> parse_task_or_auto(const std::string& name) {
  if (name == "auto") return std::nullopt;
  if (const auto task = find_enum(kTaskNames, name)) return task;
  throw Error(fmt::format("unknown task \"{}\" (choose {}, auto)", name, enum_choices(kTaskNames)));
}

}  // namespace backprop
