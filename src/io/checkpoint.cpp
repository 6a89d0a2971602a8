#include "backprop/checkpoint.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <variant>

#include "backprop/error.hpp"
#include "io/metadata_json.hpp"

namespace backprop {

namespace {

using nlohmann::json;

// The scalar fields of TrainState, each under its JSON key in the "checkpoint" metadata.
struct StateField {
  const char* key;
  std::variant<std::int64_t TrainState::*, double TrainState::*> member;
};
constexpr StateField kStateFields[] = {
    {"epoch", &TrainState::epoch},
    {"step_in_epoch", &TrainState::step_in_epoch},
    {"running_loss", &TrainState::running_loss},
    {"running_correct", &TrainState::running_correct},
    {"running_seen", &TrainState::running_seen},
    {"running_seconds", &TrainState::running_seconds},
    {"best_val_loss", &TrainState::best_val_loss},
    {"best_epoch", &TrainState::best_epoch},
    {"stale_epochs", &TrainState::stale_epochs},
};

// JSON has no infinity or NaN: a non-finite double is written as null and read back as
// infinity (the only non-finite value a state holds: best_val_loss before any validation).
json state_json(const TrainState& s) {
  json j = json::object();
  for (const auto& f : kStateFields) {
    std::visit(
        [&](auto member) {
          const auto v = s.*member;
          if constexpr (std::is_same_v<decltype(v), const double>) {
            j[f.key] = std::isfinite(v) ? json(v) : json(nullptr);
          } else {
            j[f.key] = v;
          }
        },
        f.member);
  }
  return j;
}

void read_state(const json& j, TrainState& s) {
  for (const auto& f : kStateFields) {
    std::visit(
        [&](auto member) {
          const json& v = j.at(f.key);
          using T = std::decay_t<decltype(s.*member)>;
          if constexpr (std::is_same_v<T, double>) {
            s.*member = v.is_null() ? std::numeric_limits<double>::infinity() : v.get<double>();
          } else {
            s.*member = v.get<T>();
          }
        },
        f.member);
  }
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Network& network,
                     const ModelInfo& info, const Trainer& trainer, const std::string& run) {
  const TrainState& s = trainer.state();
  auto tensors = model_tensors(network, info);
  const auto opt = trainer.optimizer().state();
  tensors.push_back({"optimizer.state", {static_cast<std::int64_t>(opt.size())}, opt});
  if (!s.best_parameters.empty())
    tensors.push_back({"trainer.best_parameters",
                       {static_cast<std::int64_t>(s.best_parameters.size())},
                       s.best_parameters});
  // No history: written every epoch, it would make each write, and so each epoch, cost time in
  // proportion to the epochs before it. The --metrics file is the run's history.
  json state = state_json(s);
  state["optimizer_steps"] = trainer.optimizer().steps();
  state["parameter_buffer"] = network.parameters().size();
  auto metadata = model_metadata(info);
  metadata["checkpoint"] = state.dump();
  metadata["run"] = run;
  write_safetensors(path, tensors, metadata);
}

Checkpoint load_checkpoint(const std::filesystem::path& path, std::int64_t max_batch) {
  const SafetensorsFile file = read_safetensors(path);
  Checkpoint c;
  c.model = model_from_file(file, max_batch);
  const auto found = file.metadata.find("checkpoint");
  if (found == file.metadata.end())
    throw Error(fmt::format(
        "{}: a model file, not a checkpoint (no training state); use --init to start from it",
        file.source));
  try {
    const json j = parse_metadata_json(found->second, file.source, "checkpoint");
    TrainState& s = c.state;
    // Checkpoints of earlier versions also hold a "history" of every epoch: it is not read.
    read_state(j, s);
    c.optimizer_steps = j.at("optimizer_steps").get<std::uint64_t>();
    const auto buffer = j.at("parameter_buffer").get<std::size_t>();
    if (buffer != c.model.network->parameters().size())
      throw Error(
          fmt::format("{}: parameter buffer of {} values does not match the architecture's {}",
                      file.source, buffer, c.model.network->parameters().size()));
    if (s.epoch < 0 || s.step_in_epoch < 0)
      throw Error(fmt::format("{}: negative epoch or step in the training state", file.source));
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: training state is malformed ({})", file.source, e.what()));
  }
  c.optimizer_state = file.tensor("optimizer.state").data;
  if (const NamedTensor* best = file.find("trainer.best_parameters"))
    c.state.best_parameters = best->data;
  const auto run = file.metadata.find("run");
  c.run = run == file.metadata.end() ? "{}" : run->second;
  parse_metadata_json(c.run, file.source,
                      "run");  // the caller parses it again: refuse hostile nesting here
  return c;
}

void restore_trainer(Trainer& trainer, const Checkpoint& checkpoint) {
  if (checkpoint.state.step_in_epoch > trainer.steps_per_epoch())
    throw Error(
        fmt::format("checkpoint is at step {} of an epoch that has only {} steps with this data",
                    checkpoint.state.step_in_epoch, trainer.steps_per_epoch()));
  trainer.optimizer().restore(checkpoint.optimizer_steps, checkpoint.optimizer_state);
  trainer.state() = checkpoint.state;
}

}  // namespace backprop
