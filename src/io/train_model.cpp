#include <cstdint>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "backprop/error.hpp"
#include "backprop/model.hpp"
#include "backprop/trainer.hpp"

namespace backprop {

Model train_model(const Dataset& data, const Architecture& architecture,
                  const TrainOptions& options, Normalization normalization, int threads) {
  architecture.validate();
  // A saved classifier names one class per output; the Trainer checks the rest (inputs, loss).
  if (data.task == Task::classification && architecture.outputs() != data.num_classes())
    throw Error(fmt::format("{}: {} classes, but the network has {} outputs", data.source,
                            data.num_classes(), architecture.outputs()));
  if (options.batch < 1) throw Error(fmt::format("batch {} must be at least 1", options.batch));
  if (threads < 1) throw Error(fmt::format("threads {} must be at least 1", threads));

  std::vector<std::int64_t> rows(static_cast<std::size_t>(data.rows));
  std::iota(rows.begin(), rows.end(), std::int64_t{0});

  Model model;
  ModelInfo& info = model.info;
  info.architecture = architecture;
  info.task = data.task;
  info.class_names = data.class_names;
  info.feature_names = data.feature_names;
  info.label_name = data.label_name;
  info.input_format = data.is_bytes() ? "idx" : "csv";
  info.csv_header = true;
  info.csv_columns = data.features + 1;  // the features and the label, as a CSV file has them
  info.preprocessing = Preprocessing::fit(normalization, data, rows);
  info.preprocessing.fit_targets(data, rows);

  model.network = std::make_unique<Network>(architecture, options.batch);
  model.network->initialize(options.seed);
  ThreadPool pool(threads);
  Trainer trainer(*model.network, info.preprocessing, options, data, std::move(rows), pool);
  trainer.run();

  info.training = {{"optimizer", to_string(options.optimizer.kind)},
                   {"lr", fmt::format("{}", options.schedule.base_lr)},
                   {"batch", std::to_string(options.batch)},
                   {"seed", std::to_string(options.seed)},
                   {"data", data.source},
                   {"epochs", std::to_string(trainer.state().epoch)}};
  return model;
}

}  // namespace backprop
