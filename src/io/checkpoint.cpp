#include "backprop/checkpoint.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "backprop/error.hpp"
#include "io/metadata_json.hpp"

namespace backprop {

namespace {

using nlohmann::json;

// JSON has no infinity or NaN: they are written as null and read back as such.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double read_number(const json& j, double missing) {
  return j.is_null() ? missing : j.get<double>();
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
  json history = json::array();
  for (const auto& m : s.history) history.push_back(json::parse(to_json(m)));
  const json state = {{"epoch", s.epoch},
                      {"step_in_epoch", s.step_in_epoch},
                      {"running_loss", s.running_loss},
                      {"running_correct", s.running_correct},
                      {"running_seen", s.running_seen},
                      {"running_seconds", s.running_seconds},
                      {"best_val_loss", number(s.best_val_loss)},
                      {"best_epoch", s.best_epoch},
                      {"stale_epochs", s.stale_epochs},
                      {"optimizer_steps", trainer.optimizer().steps()},
                      {"parameter_buffer", network.parameters().size()},
                      {"history", history}};
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
    s.epoch = j.at("epoch").get<std::int64_t>();
    s.step_in_epoch = j.at("step_in_epoch").get<std::int64_t>();
    s.running_loss = j.at("running_loss").get<double>();
    s.running_correct = j.at("running_correct").get<std::int64_t>();
    s.running_seen = j.at("running_seen").get<std::int64_t>();
    s.running_seconds = j.at("running_seconds").get<double>();
    s.best_val_loss = read_number(j.at("best_val_loss"), std::numeric_limits<double>::infinity());
    s.best_epoch = j.at("best_epoch").get<std::int64_t>();
    s.stale_epochs = j.at("stale_epochs").get<std::int64_t>();
    for (const auto& m : j.at("history")) s.history.push_back(epoch_metrics_from_json(m.dump()));
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
