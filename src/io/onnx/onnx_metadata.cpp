#include "io/onnx/onnx_metadata.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "backprop/error.hpp"
#include "io/metadata_json.hpp"

namespace backprop {

namespace {

using nlohmann::json;

std::vector<std::string> string_list(const json& j, const std::string& source, const char* key) {
  if (!j.is_array() ||
      !std::all_of(j.begin(), j.end(), [](const json& v) { return v.is_string(); }))
    throw Error(fmt::format("{}: metadata_props '{}' is not a JSON list of strings", source, key));
  return j.get<std::vector<std::string>>();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> onnx_metadata(const ModelInfo& info) {
  std::vector<std::pair<std::string, std::string>> m;
  // Version 1: an exported model's inputs are numbers (export refuses an encoding, model.hpp).
  m.emplace_back("backprop_format_version", "1");
  if (info.task == Task::classification) m.emplace_back("classes", json(info.class_names).dump());
  m.emplace_back("features", json(info.feature_names).dump());
  m.emplace_back("input", json{{"format", info.input_format},
                               {"header", info.csv_header},
                               {"columns", info.csv_columns}}
                              .dump());
  m.emplace_back("label", info.label_name);
  m.emplace_back("preprocessing", to_string(info.preprocessing.kind));
  m.emplace_back("task", info.task == Task::classification ? "classification" : "regression");
  return m;
}

OnnxMetadataSeen apply_onnx_metadata(const std::vector<std::pair<std::string, std::string>>& props,
                                     std::string_view source_view, ModelInfo& info) {
  const std::string source(source_view);
  OnnxMetadataSeen seen;
  for (const auto& [key, value] : props) {
    if (key == "backprop_format_version") {
      if (value != "1" && value != std::to_string(kModelFormatVersion))
        throw Error(fmt::format(
            "{}: metadata_props backprop_format_version '{}' is not supported (this backprop "
            "reads versions 1 to {})",
            source, value, kModelFormatVersion));
      seen.has_backprop = true;
    }
  }
  for (const auto& [key, value] : props) {
    if (key == "classes") {
      info.class_names = string_list(parse_metadata_json(value, source, key), source, "classes");
      seen.has_classes = true;
    }
    if (!seen.has_backprop) continue;  // the other keys are backprop's own
    if (key == "task") {
      if (value != "classification" && value != "regression")
        throw Error(fmt::format("{}: metadata_props task '{}' is not classification or regression",
                                source, value));
      info.task = value == "classification" ? Task::classification : Task::regression;
      seen.has_task = true;
    } else if (key == "features") {
      info.feature_names = string_list(parse_metadata_json(value, source, key), source, "features");
    } else if (key == "label") {
      info.label_name = value;
    } else if (key == "preprocessing") {
      info.preprocessing.kind = parse_normalization(value);
    } else if (key == "input") {
      const json input = parse_metadata_json(value, source, key);
      try {
        info.input_format = input.at("format").get<std::string>();
        info.csv_header = input.at("header").get<bool>();
        info.csv_columns = input.at("columns").get<std::int64_t>();
      } catch (const json::exception& e) {
        throw Error(fmt::format("{}: metadata_props 'input' is malformed ({})", source, e.what()));
      }
      if (info.input_format != "idx" && info.input_format != "csv")
        throw Error(fmt::format("{}: metadata_props input format '{}' is not idx or csv", source,
                                info.input_format));
      if (info.csv_columns < 0 || info.csv_columns > (std::int64_t{1} << 40))
        throw Error(fmt::format("{}: metadata_props input columns {} is out of range", source,
                                info.csv_columns));
    }
  }
  return seen;
}

}  // namespace backprop
