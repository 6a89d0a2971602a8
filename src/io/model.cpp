#include "backprop/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "backprop/error.hpp"
#include "io/metadata_json.hpp"
#include "io/model_names.hpp"

namespace backprop {

namespace {

using nlohmann::json;

std::string layer_name(const char* prefix, std::int64_t layer) {
  return fmt::format("{}{}", prefix, layer + 1);
}

// A whole number in [lo, hi] from a JSON value, or an Error naming the field.
std::int64_t whole_number(const SafetensorsFile& file, const json& value, const char* what,
                          std::int64_t lo, std::int64_t hi) {
  if (!value.is_number_integer())
    throw Error(
        fmt::format("{}: metadata {} is {}, not a whole number", file.source, what, value.dump()));
  if (value.is_number_unsigned() ? value.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)
                                 : value.get<std::int64_t>() < lo || value.get<std::int64_t>() > hi)
    throw Error(fmt::format("{}: metadata {} {} is out of range ({} to {})", file.source, what,
                            value.dump(), lo, hi));
  return value.get<std::int64_t>();
}

// A finite number that fits a float, or an Error naming the field.
float float_number(const SafetensorsFile& file, const json& value, const char* what) {
  if (!value.is_number() || !(std::abs(value.get<double>()) <= 3.0e38))
    throw Error(
        fmt::format("{}: metadata {} is {}, not a number", file.source, what, value.dump()));
  return static_cast<float>(value.get<double>());
}

std::string metadata_string(const SafetensorsFile& file, const std::string& key) {
  const auto it = file.metadata.find(key);
  if (it == file.metadata.end())
    throw Error(fmt::format("{}: not a backprop model: metadata has no '{}'", file.source, key));
  return it->second;
}

template <class F>
auto field(const SafetensorsFile& file, const char* what, F&& read) {
  try {
    return read();
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: metadata '{}' is malformed ({})", file.source, what, e.what()));
  }
}

// An enum's name from a string in metadata `key`, through `parse` (parse_activation, ...),
// whose Error for an unknown name does not know the file: it is given the file and the key.
template <class Parse>
auto enum_value(const SafetensorsFile& file, const char* key, Parse parse, const json& value) {
  try {
    return parse(value.get<std::string>());
  } catch (const Error& e) {
    throw Error(fmt::format("{}: metadata '{}': {}", file.source, key, e.what()));
  }
}

Architecture parse_architecture(const SafetensorsFile& file) {
  const json j = metadata_json(file, "architecture");
  return field(file, "architecture", [&] {
    Architecture a;
    if (!j.is_object())
      throw Error(fmt::format("{}: metadata 'architecture' is not an object", file.source));
    for (const auto& w : j.at("widths")) {
      a.widths.push_back(whole_number(file, w, "architecture width", 1, kMaxWidth));
      if (static_cast<std::int64_t>(a.widths.size()) > kMaxLayers + 1)
        throw Error(
            fmt::format("{}: architecture has more than {} layers", file.source, kMaxLayers));
    }
    for (const auto& name : j.at("activations"))
      a.activations.push_back(enum_value(file, "architecture", parse_activation, name));
    a.loss = enum_value(file, "architecture", parse_loss, j.at("loss"));
    if (j.contains("dropout"))
      a.dropout = float_number(file, j.at("dropout"), "architecture.dropout");
    if (j.contains("leaky_slope"))
      a.leaky_slope = float_number(file, j.at("leaky_slope"), "architecture.leaky_slope");
    try {
      a.validate();
    } catch (const Error& e) {
      throw Error(fmt::format("{}: architecture: {}", file.source, e.what()));
    }
    return a;
  });
}

std::vector<std::string> string_list(const SafetensorsFile& file, const char* key) {
  const auto it = file.metadata.find(key);
  if (it == file.metadata.end()) return {};
  const json j = metadata_json(file, key);
  return field(file, key, [&] { return j.get<std::vector<std::string>>(); });
}

// The tensor `name`, which must exist with exactly `shape`.
const NamedTensor& expect_tensor(const SafetensorsFile& file, const std::string& name,
                                 const std::vector<std::int64_t>& shape) {
  const NamedTensor* t = file.find(name);
  if (t == nullptr) throw Error(fmt::format("{}: tensor '{}' is missing", file.source, name));
  if (t->shape != shape)
    throw Error(fmt::format("{}: tensor '{}' has shape [{}] but the architecture needs [{}]",
                            file.source, name, fmt::join(t->shape, ", "), fmt::join(shape, ", ")));
  return *t;
}

constexpr int kEncodingVersion = 1;

json encoding_json(const TableEncoding& e) {
  json columns = json::array();
  for (const ColumnEncoding& c : e.columns) {
    json j = {{"name", c.name}, {"kind", to_string(c.kind)}, {"indicator", c.indicator}};
    switch (c.kind) {
      case ColumnEncoding::Kind::number:
        j["fill"] = c.fill;
        break;
      case ColumnEncoding::Kind::category:
        j["categories"] = c.categories;
        j["fill"] = c.fill_category;
        break;
      case ColumnEncoding::Kind::date:
        j["hour"] = c.hour;
        j["fill"] = c.fill;
        break;
    }
    columns.push_back(std::move(j));
  }
  return {{"version", kEncodingVersion}, {"missing", to_string(e.missing)}, {"columns", columns}};
}

// The encoding from its JSON, every size and value checked before use.
TableEncoding parse_encoding(const SafetensorsFile& file, const json& j) {
  return field(file, "encoding", [&] {
    if (!j.is_object() || j.at("version") != kEncodingVersion)
      throw Error(
          fmt::format("{}: metadata 'encoding' is not version {}", file.source, kEncodingVersion));
    TableEncoding e;
    e.missing = enum_value(file, "encoding", parse_missing_policy, j.at("missing"));
    for (const json& cj : j.at("columns")) {
      ColumnEncoding c;
      c.name = cj.at("name").get<std::string>();
      c.kind = enum_value(file, "encoding", parse_column_kind, cj.at("kind"));
      c.indicator = cj.at("indicator").get<bool>();
      std::size_t fills = 1;
      if (c.kind == ColumnEncoding::Kind::category) {
        c.categories = cj.at("categories").get<std::vector<std::string>>();
        c.fill_category = cj.at("fill").get<std::string>();
        if (c.categories.empty() || c.categories.size() > kMaxCategories ||
            std::find(c.categories.begin(), c.categories.end(), c.fill_category) ==
                c.categories.end())
          throw Error(
              fmt::format("{}: encoding of column '{}': 1 to {} categories, the fill "
                          "among them",
                          file.source, c.name, kMaxCategories));
      } else {
        if (c.kind == ColumnEncoding::Kind::date) {
          c.hour = cj.at("hour").get<bool>();
          fills = c.hour ? 5 : 4;
        }
        for (const json& v : cj.at("fill"))
          c.fill.push_back(float_number(file, v, "encoding fill"));
        if (c.fill.size() != fills)
          throw Error(fmt::format("{}: encoding of column '{}' has {} fill values, not {}",
                                  file.source, c.name, c.fill.size(), fills));
      }
      e.columns.push_back(std::move(c));
      if (static_cast<std::int64_t>(e.columns.size()) > kMaxWidth)
        throw Error(fmt::format("{}: encoding has more than {} columns", file.source, kMaxWidth));
    }
    return e;
  });
}

}  // namespace

ModelInput model_input(const ModelInfo& info) {
  ModelInput in;
  in.csv = info.input_format == "csv";
  in.schema.feature_names = info.feature_names;
  in.schema.label_name = info.label_name;
  in.schema.task = info.task;
  in.schema.class_names = info.class_names;
  in.schema.has_header = info.csv_header;
  in.schema.columns = info.csv_columns;
  in.schema.encoding = info.encoding;
  in.schema.ignored = info.csv_ignored;
  in.schema.id_column = info.csv_id;
  in.schema.delimiter = info.csv_delimiter;
  in.schema.decimal = info.csv_decimal;
  return in;
}

std::vector<TensorRef> model_tensors(const Network& network, const ModelInfo& info) {
  std::vector<TensorRef> tensors;
  for (std::int64_t l = 0; l < network.num_layers(); ++l) {
    const auto w = network.weight(l);
    const auto b = network.bias(l);
    tensors.push_back(
        {layer_name("W", l), {w.rows, w.cols}, {w.data, static_cast<std::size_t>(w.size())}});
    tensors.push_back({layer_name("b", l), {static_cast<std::int64_t>(b.size())}, b});
  }
  const auto p = static_cast<std::int64_t>(info.preprocessing.offset.size());
  tensors.push_back({"input.offset", {p}, info.preprocessing.offset});
  tensors.push_back({"input.scale", {p}, info.preprocessing.scale});
  if (info.task == Task::regression) {
    tensors.push_back({"target.offset", {1}, {&info.preprocessing.target_offset, 1}});
    tensors.push_back({"target.scale", {1}, {&info.preprocessing.target_scale, 1}});
  }
  return tensors;
}

std::map<std::string, std::string> model_metadata(const ModelInfo& info) {
  const Architecture& a = info.architecture;
  json arch = {{"widths", a.widths},
               {"loss", to_string(a.loss)},
               {"dropout", a.dropout},
               {"leaky_slope", a.leaky_slope}};
  arch["activations"] = json::array();
  for (const auto f : a.activations) arch["activations"].push_back(to_string(f));
  std::map<std::string, std::string> m;
  m["format"] = "backprop";
  // Version 1 unless the inputs need the encoding to be read right (model.hpp).
  m["format_version"] = info.encoding.plain() ? "1" : std::to_string(kModelFormatVersion);
  m["architecture"] = arch.dump();
  m["preprocessing"] = to_string(info.preprocessing.kind);
  m["task"] = to_string(info.task);
  if (info.task == Task::classification) m["classes"] = json(info.class_names).dump();
  m["features"] = json(info.feature_names).dump();
  m["label"] = info.label_name;
  json input = {
      {"format", info.input_format}, {"header", info.csv_header}, {"columns", info.csv_columns}};
  if (info.input_format == "csv") {
    input["ignore"] = info.csv_ignored;
    input["id"] = info.csv_id;
    input["delimiter"] = std::string(1, info.csv_delimiter);
    // Written only when it is a comma: files with decimal points stay as they were.
    if (info.csv_decimal == ',') input["decimal"] = ",";
  }
  m["input"] = input.dump();
  if (!info.encoding.columns.empty()) m["encoding"] = encoding_json(info.encoding).dump();
  m["training"] = json(info.training).dump();
  return m;
}

void check_parameters_finite(const Network& network, std::string_view source) {
  for (std::int64_t l = 0; l < network.num_layers(); ++l) {
    const auto w = network.weight(l);
    for (std::int64_t i = 0; i < w.rows; ++i)
      for (std::int64_t j = 0; j < w.cols; ++j)
        if (!std::isfinite(w(i, j)))
          throw Error(
              fmt::format("{}: {} holds a value that is not finite ({} at row {}, column "
                          "{}); a model with such weights predicts nothing",
                          source, layer_name("W", l), w(i, j), i + 1, j + 1));
    const auto b = network.bias(l);
    for (std::size_t j = 0; j < b.size(); ++j)
      if (!std::isfinite(b[j]))
        throw Error(
            fmt::format("{}: {} holds a value that is not finite ({} at position {}); a "
                        "model with such weights predicts nothing",
                        source, layer_name("b", l), b[j], j + 1));
  }
}

void save_model(const std::filesystem::path& path, const Network& network, const ModelInfo& info) {
  network.architecture().validate();
  const std::string refusal = fmt::format("refusing to write {}", path.string());
  check_parameters_finite(network, refusal);
  check_names(refusal, "class name", info.class_names, true);
  check_names(refusal, "feature name", info.feature_names, false);
  const auto tensors = model_tensors(network, info);
  write_safetensors(path, tensors, model_metadata(info));
}

Model model_from_file(const SafetensorsFile& file, std::int64_t max_batch) {
  const auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second != "backprop")
    throw Error(fmt::format("{}: not a backprop model (metadata 'format' is not \"backprop\")",
                            file.source));
  const std::string version = metadata_string(file, "format_version");
  if (version != "1" && version != std::to_string(kModelFormatVersion))
    throw Error(fmt::format(
        "{}: model format version '{}' is not supported (this backprop reads versions 1 to {}; "
        "a newer backprop wrote it)",
        file.source, version, kModelFormatVersion));
  Model model;
  ModelInfo& info = model.info;
  info.architecture = parse_architecture(file);
  const Architecture& a = info.architecture;

  const std::string task = metadata_string(file, "task");
  try {
    info.task = parse_task(task);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: metadata 'task' is '{}': {}", file.source, task, e.what()));
  }
  if ((info.task == Task::classification) != (a.loss == Loss::cross_entropy))
    throw Error(fmt::format("{}: task '{}' does not match the loss '{}'", file.source, task,
                            to_string(a.loss)));
  info.class_names = string_list(file, "classes");
  if (info.task == Task::classification &&
      static_cast<std::int64_t>(info.class_names.size()) != a.outputs())
    throw Error(fmt::format("{}: {} class names for {} outputs", file.source,
                            info.class_names.size(), a.outputs()));
  check_names(file.source, "class name", info.class_names, true);
  info.feature_names = string_list(file, "features");
  check_names(file.source, "feature name", info.feature_names, false);
  if (!info.feature_names.empty() &&
      static_cast<std::int64_t>(info.feature_names.size()) != a.inputs())
    throw Error(fmt::format("{}: {} feature names for {} inputs", file.source,
                            info.feature_names.size(), a.inputs()));
  const auto label = file.metadata.find("label");
  info.label_name = label == file.metadata.end() ? "" : label->second;
  if (file.metadata.count("input") != 0) {
    const json input = metadata_json(file, "input");
    field(file, "input", [&] {
      info.input_format = input.at("format").get<std::string>();
      info.csv_header = input.value("header", true);
      if (input.contains("columns"))
        info.csv_columns =
            whole_number(file, input.at("columns"), "input.columns", 0, std::int64_t{1} << 40);
      if (input.contains("ignore"))
        info.csv_ignored = input.at("ignore").get<std::vector<std::string>>();
      info.csv_id = input.value("id", std::string());
      const std::string delimiter = input.value("delimiter", std::string(","));
      if (delimiter != "," && delimiter != ";" && delimiter != "\t")
        throw Error(fmt::format("{}: metadata input.delimiter is not a comma, semicolon or tab",
                                file.source));
      info.csv_delimiter = delimiter[0];
      const std::string decimal = input.value("decimal", std::string("."));
      if (decimal != "." && decimal != ",")
        throw Error(
            fmt::format("{}: metadata input.decimal is not a point or a comma", file.source));
      info.csv_decimal = decimal[0];
      return 0;
    });
    if (info.input_format != "idx" && info.input_format != "csv")
      throw Error(
          fmt::format("{}: input format '{}' is not idx or csv", file.source, info.input_format));
  }
  if (file.metadata.count("training") != 0) {
    const json training = metadata_json(file, "training");
    field(file, "training", [&] {
      for (const auto& [k, v] : training.items())
        info.training[k] = v.is_string() ? v.get<std::string>() : v.dump();
      return 0;
    });
  }
  if (file.metadata.count("encoding") != 0) {
    info.encoding = parse_encoding(file, metadata_json(file, "encoding"));
    if (info.encoding.width() != a.inputs())
      throw Error(fmt::format("{}: the encoding gives {} features for {} inputs", file.source,
                              info.encoding.width(), a.inputs()));
    if (!info.encoding.plain() && version == "1")
      throw Error(
          fmt::format("{}: format version 1 cannot hold a non-numeric encoding", file.source));
  }
  info.preprocessing.kind = parse_normalization(metadata_string(file, "preprocessing"));

  // Every tensor is checked before the network's buffers are allocated: the tensors already
  // exist in memory, so a hostile header cannot make this allocate more than the file holds.
  std::vector<const NamedTensor*> weights;  // W1, b1, W2, b2, ...
  for (std::int64_t l = 0; l < a.num_layers(); ++l) {
    const auto in = a.widths[static_cast<std::size_t>(l)];
    const auto out = a.widths[static_cast<std::size_t>(l + 1)];
    weights.push_back(&expect_tensor(file, layer_name("W", l), {in, out}));
    weights.push_back(&expect_tensor(file, layer_name("b", l), {out}));
  }
  const NamedTensor& offset = expect_tensor(file, "input.offset", {a.inputs()});
  const NamedTensor& scale = expect_tensor(file, "input.scale", {a.inputs()});
  std::set<std::string> known = {"input.offset", "input.scale"};
  for (const NamedTensor* w : weights) known.insert(w->name);
  // Regression models map outputs back to the data's units; both tensors or neither (identity).
  const NamedTensor* target_offset = file.find("target.offset");
  const NamedTensor* target_scale = file.find("target.scale");
  if (info.task == Task::regression && (target_offset != nullptr || target_scale != nullptr)) {
    info.preprocessing.target_offset = expect_tensor(file, "target.offset", {1}).data[0];
    info.preprocessing.target_scale = expect_tensor(file, "target.scale", {1}).data[0];
    known.insert({"target.offset", "target.scale"});
  }
  if (!std::isfinite(info.preprocessing.target_offset) ||
      !std::isfinite(info.preprocessing.target_scale) || info.preprocessing.target_scale == 0.0f)
    throw Error(fmt::format("{}: target.offset / target.scale must be finite with a non-zero scale",
                            file.source));
  for (const auto* t : {&offset, &scale})
    if (!std::all_of(t->data.begin(), t->data.end(), [](float v) { return std::isfinite(v); }))
      throw Error(
          fmt::format("{}: tensor '{}' holds a value that is not finite", file.source, t->name));
  // A checkpoint is a model plus its training state (checkpoint.hpp), and is usable as one;
  // nothing else may be in either.
  if (file.metadata.count("checkpoint") != 0)
    known.insert({"optimizer.state", "trainer.best_parameters"});
  for (const auto& t : file.tensors)
    if (known.count(t.name) == 0)
      throw Error(fmt::format("{}: unexpected tensor '{}'", file.source, t.name));
  model.network = std::make_unique<Network>(a, max_batch);
  for (std::int64_t l = 0; l < a.num_layers(); ++l) {
    const auto& w = weights[static_cast<std::size_t>(2 * l)]->data;
    const auto& b = weights[static_cast<std::size_t>(2 * l + 1)]->data;
    std::copy(w.begin(), w.end(), model.network->weight(l).data);
    std::copy(b.begin(), b.end(), model.network->bias(l).begin());
  }
  check_parameters_finite(*model.network, file.source);
  info.preprocessing.offset = offset.data;
  info.preprocessing.scale = scale.data;
  return model;
}

Model parse_model(std::span<const std::uint8_t> bytes, std::string_view source,
                  std::int64_t max_batch) {
  return model_from_file(parse_safetensors(bytes, source), max_batch);
}

Model load_model(const std::filesystem::path& path, std::int64_t max_batch) {
  return model_from_file(read_safetensors(path), max_batch);
}

}  // namespace backprop
