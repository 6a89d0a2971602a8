#pragma once
// A model file: the network's weights plus everything needed to use it on raw input
// (preprocessing, class and feature names), as one safetensors file.
//
// Tensors (float32, little-endian, row-major; the seed's names and shapes):
//   W1 [p, h1], b1 [h1], W2 [h1, h2], b2 [h2], ...   z = x W + b
//   input.offset [p], input.scale [p]                x' = (x - offset) * scale
//   target.offset [1], target.scale [1]              regression only: y = y' / scale + offset
// __metadata__ (all values strings; JSON where structured):
//   format "backprop", format_version "1" or "2", architecture {widths, activations, loss,
//   dropout, leaky_slope}, preprocessing "<kind>", task, classes [...], features [...], label,
//   input {format, header, columns, ignore, id, delimiter, decimal}, training {...} (provenance
//   only),
//   encoding {version, missing, columns [...]} (CSV: how table columns become the features)
// Version 2 is written only when the encoding is not plain (categories, dates or indicators),
// so that a reader that knows only version 1 refuses the file instead of misreading its
// inputs; a plain encoding (numbers, fill values) is version 1, which older readers read right.
// docs/model-format.md is the full description.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backprop/architecture.hpp"
#include "backprop/data_source.hpp"
#include "backprop/dataset.hpp"
#include "backprop/network.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/safetensors.hpp"

namespace backprop {

inline constexpr int kModelFormatVersion = 2;  // the newest this reader reads and writes

// What a model knows besides its weights.
struct ModelInfo {
  Architecture architecture;
  Preprocessing preprocessing;
  Task task = Task::classification;
  std::vector<std::string> class_names;    // index -> name (classification)
  std::vector<std::string> feature_names;  // CSV column names of the inputs; empty for images
  std::string label_name;                  // CSV label column
  std::string input_format = "idx";        // "idx" or "csv": what the model was trained on
  bool csv_header = true;                  // CSV: whether the training file had a header row
  std::int64_t csv_columns = 0;            // CSV: fields per row of the training file
  std::vector<std::string> csv_ignored;    // CSV: the training run's ignored columns
  std::string csv_id;                      // CSV: the training run's id column ("": none)
  char csv_delimiter = ',';                // CSV: the training file's delimiter
  char csv_decimal = '.';                  // CSV: the training file's decimal mark
  // CSV: how the table's columns become the inputs; empty for models from before encodings
  // (then each feature name is a numeric column).
  TableEncoding encoding;
  std::map<std::string, std::string> training;  // provenance: optimizer, epochs, accuracy, ...
};

struct Model {
  ModelInfo info;
  std::unique_ptr<Network> network;
};

struct TrainOptions;  // backprop/trainer.hpp

// A new model trained on every sample of `data`: the preprocessing `normalization` fitted on it
// (and regression targets standardised, unless it is none), the weights initialised from
// options.seed, then options.epochs epochs of minibatch training on `threads` threads. The
// result is ready for save_model. Throws Error when the architecture does not fit the data (p
// inputs; as many outputs as classes, or one with MSE for regression), and DivergenceError when
// training diverges. A validation split, early stopping or progress callbacks need the Trainer.
Model train_model(const Dataset& data, const Architecture& architecture,
                  const TrainOptions& options,
                  Normalization normalization = Normalization::standard, int threads = 1);

// The form of data the model reads, for load_data_for_model.
ModelInput model_input(const ModelInfo& info);

// The tensors and metadata of a model, for saving it alone or inside a checkpoint.
std::vector<TensorRef> model_tensors(const Network& network, const ModelInfo& info);
std::map<std::string, std::string> model_metadata(const ModelInfo& info);

// Writes the model atomically (a temporary file renamed into place). Refuses (Error) an
// architecture the reader would refuse and weights that are not all finite, so every file
// written can be read back.
void save_model(const std::filesystem::path& path, const Network& network, const ModelInfo& info);

// Throws Error naming the first weight or bias that is NaN or infinite (`source` starts the
// message).
void check_parameters_finite(const Network& network, std::string_view source);

// Reads and validates a model: format and version, architecture bounds (before any large
// allocation), every tensor's presence and shape, names that agree with the widths, finite
// weights.
// The network gets buffers for minibatches of up to max_batch rows.
Model load_model(const std::filesystem::path& path, std::int64_t max_batch);
Model parse_model(std::span<const std::uint8_t> bytes, std::string_view source,
                  std::int64_t max_batch);
// The same from an already parsed file. A checkpoint (metadata "checkpoint") is accepted as
// the model it carries, with its training-state tensors.
Model model_from_file(const SafetensorsFile& file, std::int64_t max_batch);

}  // namespace backprop
