#pragma once
// Turning a --data / --test argument into a data set: an MNIST-layout directory, an IDX images
// file (its labels file found beside it), or a CSV file.
#include <optional>
#include <string>

#include "backprop/csv.hpp"
#include "backprop/dataset.hpp"
#include "backprop/model.hpp"

namespace backprop::cli {

struct TrainingData {
  Dataset train;
  std::optional<Dataset> test;  // t10k files of an IDX directory, or --test
  bool csv = false;
  CsvReport csv_report;  // what the CSV reader decided (header, task), for the log
};

// --data for training, with an optional separate --test.
TrainingData load_training_data(const std::string& data, const std::string& test,
                                const CsvOptions& csv_options);

// Data for an existing model (eval, predict, a --test of a CSV run): read the way the model
// was trained; labels are required for eval, optional for predict.
Dataset load_data_for_model(const std::string& path, const ModelInfo& info, bool require_label,
                            const std::string& id_column);

// The schema a CSV-trained model keeps, and the one a CSV data set implies.
CsvSchema schema_of(const ModelInfo& info);

}  // namespace backprop::cli
