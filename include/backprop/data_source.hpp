#pragma once
// From a path to a data set, choosing the reader: an MNIST-layout directory (train-* and
// t10k-* IDX files), an IDX images file (its labels file found beside it), or else a CSV file.
// Every front end (the CLI, bindings) loads data through here, so the choice is made once.
#include <optional>
#include <string>

#include "backprop/csv.hpp"
#include "backprop/dataset.hpp"

namespace backprop {

// How messages name the two paths: the CLI passes its flags ("--data", "--test").
struct DataSourceNames {
  std::string data = "data";
  std::string test = "test";
};

struct TrainingData {
  Dataset train;
  std::optional<Dataset> test;  // the t10k files of an IDX directory, or the separate test path
  bool csv = false;
  CsvReport csv_report;  // what the CSV reader decided (header, task), for the log
};

// Training data from `data`, with an optional separate `test` ("" = none) read the same way:
//   directory         -> its train-images/train-labels pair (and t10k pair as the test set)
//   IDX magic number  -> that images file and the labels file beside it
//   anything else     -> a CSV file read with csv_options
// Throws Error naming the path: missing, a directory without IDX files, an unreadable file.
TrainingData load_training_data(const std::string& data, const std::string& test,
                                const CsvOptions& csv_options, const DataSourceNames& names = {});

// True when load_training_data would read `data` as a CSV table (not a directory, not an IDX
// file); false too when the path does not exist (the loader reports it).
bool is_table_path(const std::string& data);

// What a trained model reads: IDX images, or CSV rows laid out like its training file.
struct ModelInput {
  bool csv = false;
  CsvSchema schema;  // CSV: the training file's columns; both: the task and the class names
};

// Data for an existing model (eval, predict, a CSV run's test set), read the way the model
// was trained: a directory gives its t10k pair when present (the held-out set), else its train
// pair. Labels are required when require_label, optional otherwise; id_column ("" = none)
// fills Dataset::ids (CSV only); delimiter 0: detected, decimal 0: the training file's (CSV
// only).
Dataset load_data_for_model(const std::string& path, const ModelInput& input, bool require_label,
                            const std::string& id_column, const DataSourceNames& names = {},
                            char delimiter = 0, char decimal = 0);

}  // namespace backprop
