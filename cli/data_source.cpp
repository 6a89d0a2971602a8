#include "data_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "backprop/error.hpp"
#include "backprop/idx.hpp"
#include "core/file_bytes.hpp"

namespace backprop::cli {

namespace fs = std::filesystem;

namespace {

bool is_idx_file(const fs::path& path) { return looks_like_idx(read_file_head(path, 4)); }

Dataset read_idx_images(const fs::path& images) {
  const auto labels = labels_file_for(images);
  if (!labels)
    throw Error(fmt::format(
        "{}: an IDX images file, but no matching labels file (*-labels-idx1-ubyte[.gz]) "
        "beside it",
        images.string()));
  return read_idx(images, *labels);
}

// An IDX class list long enough for both sets: a test set may lack the top class.
void unify_classes(Dataset& train, Dataset& test) {
  auto& longer =
      train.class_names.size() >= test.class_names.size() ? train.class_names : test.class_names;
  train.class_names = longer;
  test.class_names = train.class_names;
}

void require_exists(const std::string& path, const char* what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(fmt::format("{} '{}' does not exist", what, path));
}

}  // namespace

CsvSchema schema_of(const ModelInfo& info) {
  CsvSchema s;
  s.feature_names = info.feature_names;
  s.label_name = info.label_name;
  s.task = info.task;
  s.class_names = info.class_names;
  s.has_header = info.csv_header;
  s.columns = info.csv_columns;
  return s;
}

TrainingData load_training_data(const std::string& data, const std::string& test,
                                const CsvOptions& csv_options) {
  require_exists(data, "--data");
  TrainingData out;
  const fs::path path(data);
  if (fs::is_directory(path)) {
    const auto dir = find_idx_directory(path);
    if (!dir)
      throw Error(
          fmt::format("--data '{}': a directory without train-images-idx3-ubyte[.gz] and "
                      "train-labels-idx1-ubyte[.gz]",
                      data));
    out.train = read_idx(dir->train_images, dir->train_labels);
    if (test.empty() && dir->test_images && dir->test_labels)
      out.test = read_idx(*dir->test_images, *dir->test_labels);
  } else if (is_idx_file(path)) {
    out.train = read_idx_images(path);
  } else {
    out.csv = true;
    out.train = read_csv_dataset(path, csv_options, &out.csv_report);
  }
  if (!test.empty()) {
    require_exists(test, "--test");
    const fs::path tpath(test);
    if (out.csv) {
      out.test = read_csv_for_model(tpath, out.csv_report.schema, true, csv_options.id_column);
    } else if (fs::is_directory(tpath)) {
      const auto dir = find_idx_directory(tpath);
      if (dir && dir->test_images && dir->test_labels) {
        out.test = read_idx(*dir->test_images, *dir->test_labels);
      } else if (dir) {
        out.test = read_idx(dir->train_images, dir->train_labels);
      } else {
        throw Error(fmt::format("--test '{}': a directory without IDX files", test));
      }
    } else {
      out.test = read_idx_images(tpath);
    }
  }
  if (out.test && !out.csv) unify_classes(out.train, *out.test);
  return out;
}

Dataset load_data_for_model(const std::string& path_text, const ModelInfo& info, bool require_label,
                            const std::string& id_column) {
  require_exists(path_text, "--data");
  const fs::path path(path_text);
  if (info.input_format == "csv") {
    if (fs::is_directory(path))
      throw Error(fmt::format("--data '{}' is a directory, but this model was trained on CSV rows",
                              path_text));
    return read_csv_for_model(path, schema_of(info), require_label, id_column);
  }
  Dataset d;
  if (fs::is_directory(path)) {
    const auto dir = find_idx_directory(path);
    if (!dir) throw Error(fmt::format("--data '{}': a directory without IDX files", path_text));
    // A model is usually measured on the held-out set: t10k when the directory has it.
    d = dir->test_images && dir->test_labels ? read_idx(*dir->test_images, *dir->test_labels)
                                             : read_idx(dir->train_images, dir->train_labels);
  } else if (is_idx_file(path)) {
    d = read_idx_images(path);
  } else {
    throw Error(fmt::format(
        "--data '{}' is not an IDX file, but this model was trained on IDX images", path_text));
  }
  d.class_names = info.class_names;
  return d;
}

}  // namespace backprop::cli
