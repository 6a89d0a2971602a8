#pragma once
// A checkpoint is a model file with the training state added, so that `train --resume`
// continues to the same final weights, bit for bit, as a run that was never stopped:
//   tensors  the model's, plus optimizer.state [n] (velocity or Adam's m and v over the flat
//            parameter buffer) and, with early stopping, trainer.best_parameters [n]
//   metadata the model's, plus "checkpoint" (epoch, position in the epoch, optimiser step
//            count, running metrics, early-stopping state) and "run" (the caller's own
//            description of the run, e.g. the command-line options, as JSON)
// Its size does not depend on the epoch count: TrainState::history is not saved (a loaded
// state's is empty), so that a checkpoint written every epoch costs the same each time. The
// history of a run is its metrics file (`train --metrics`), which a resumed run reads back.
#include <cstdint>
#include <filesystem>
#include <string>

#include "backprop/model.hpp"
#include "backprop/trainer.hpp"

namespace backprop {

struct Checkpoint {
  Model model;
  TrainState state;
  std::uint64_t optimizer_steps = 0;
  std::vector<float> optimizer_state;
  std::string run;  // JSON given to save_checkpoint
};

// Writes atomically: an interrupted save leaves the previous checkpoint intact.
void save_checkpoint(const std::filesystem::path& path, const Network& network,
                     const ModelInfo& info, const Trainer& trainer, const std::string& run);

Checkpoint load_checkpoint(const std::filesystem::path& path, std::int64_t max_batch);

// Puts a loaded checkpoint's state into a trainer built for the same network and options.
void restore_trainer(Trainer& trainer, const Checkpoint& checkpoint);

}  // namespace backprop
