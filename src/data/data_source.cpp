#include "backprop/data_source.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "backprop/error.hpp"
#include "backprop/idx.hpp"
#include "core/file_bytes.hpp"

namespace backprop {

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

void require_exists(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(fmt::format("{} '{}' does not exist", what, path));
}

}  // namespace

bool is_table_path(const std::string& data) {
  std::error_code ec;
  const fs::path path(data);
  return fs::exists(path, ec) && !fs::is_directory(path, ec) && !is_idx_file(path);
}

TrainingData load_training_data(const std::string& data, const std::string& test,
                                const CsvOptions& csv_options, const DataSourceNames& names) {
  require_exists(data, names.data);
  TrainingData out;
  const fs::path path(data);
  if (fs::is_directory(path)) {
    const auto dir = find_idx_directory(path);
    if (!dir)
      throw Error(
          fmt::format("{} '{}': a directory without train-images-idx3-ubyte[.gz] and "
                      "train-labels-idx1-ubyte[.gz]",
                      names.data, data));
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
    require_exists(test, names.test);
    const fs::path tpath(test);
    if (out.csv) {
      out.test = read_csv_for_model(tpath, out.csv_report.schema, true, csv_options.id_column,
                                    csv_options.delimiter, csv_options.decimal);
    } else if (fs::is_directory(tpath)) {
      const auto dir = find_idx_directory(tpath);
      if (dir && dir->test_images && dir->test_labels) {
        out.test = read_idx(*dir->test_images, *dir->test_labels);
      } else if (dir) {
        out.test = read_idx(dir->train_images, dir->train_labels);
      } else {
        throw Error(fmt::format("{} '{}': a directory without IDX files", names.test, test));
      }
    } else {
      out.test = read_idx_images(tpath);
    }
  }
  if (out.test && !out.csv) unify_classes(out.train, *out.test);
  return out;
}

Dataset load_data_for_model(const std::string& path_text, const ModelInput& input,
                            bool require_label, const std::string& id_column,
                            const DataSourceNames& names, char delimiter, char decimal) {
  require_exists(path_text, names.data);
  const fs::path path(path_text);
  if (input.csv) {
    if (fs::is_directory(path))
      throw Error(fmt::format("{} '{}' is a directory, but this model was trained on CSV rows",
                              names.data, path_text));
    return read_csv_for_model(path, input.schema, require_label, id_column, delimiter, decimal);
  }
  Dataset d;
  if (fs::is_directory(path)) {
    const auto dir = find_idx_directory(path);
    if (!dir)
      throw Error(fmt::format("{} '{}': a directory without IDX files", names.data, path_text));
    // A model is usually measured on the held-out set: t10k when the directory has it.
    d = dir->test_images && dir->test_labels ? read_idx(*dir->test_images, *dir->test_labels)
                                             : read_idx(dir->train_images, dir->train_labels);
  } else if (is_idx_file(path)) {
    d = read_idx_images(path);
  } else {
    throw Error(fmt::format("{} '{}' is not an IDX file, but this model was trained on IDX images",
                            names.data, path_text));
  }
  d.class_names = input.schema.class_names;
  return d;
}

}  // namespace backprop
