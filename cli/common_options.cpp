#include "common_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "backprop/error.hpp"
#include "backprop/thread_pool.hpp"
#include "core/file_bytes.hpp"
#include "data_stream.hpp"

#include <filesystem>

namespace backprop::cli {

CLI::Option* add_model_argument(CLI::App* cmd, std::string& model) {
  return cmd->add_option("model", model, "Model file")->required();
}

CLI::Option* add_data_option(CLI::App* cmd, std::string& data, const std::string& help) {
  return cmd->add_option("--data", data, help)->required();
}

CLI::Option* add_threads_option(CLI::App* cmd, int& threads, const std::string& help) {
  return cmd->add_option("--threads", threads, help);
}

void check_thread_count(int threads) {
  if (threads < 0 || threads > kMaxThreads)
    throw Error(fmt::format("--threads {}: must be in [1, {}] (or 0 for every core)", threads,
                            kMaxThreads));
}

CLI::Validator seed_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.size() <= 20 &&
                            text.find_first_not_of("0123456789") == std::string::npos;
        // 2^64 - 1 = 18446744073709551615 has 20 digits; compare as text of equal length.
        const bool fits = digits && (text.size() < 20 || text <= "18446744073709551615");
        if (fits) return {};
        return fmt::format("must be a whole number in [0, 18446744073709551615], not {}", text);
      },
      "SEED");
}

CLI::Validator float_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        const bool number = end != text.c_str() && *end == '\0';
        if (!number || !std::isfinite(v) ||
            std::abs(v) <= static_cast<double>(std::numeric_limits<float>::max()))
          return {};  // not a number: CLI11 says so; inf and nan: the option's own range says so
        return fmt::format(
            "must be a number a 32-bit float can hold (magnitude at most {:g}), "
            "not {}",
            static_cast<double>(std::numeric_limits<float>::max()), text);
      },
      "FLOAT");
}

CLI::Option* add_json_flag(CLI::App* cmd, bool& json) {
  return cmd->add_flag("--json", json, "Print one JSON object");
}

int thread_count(int requested) {
  check_thread_count(requested);
  return requested > 0 ? requested : ThreadPool::hardware_threads();
}

namespace {

// Whether the file starts like a safetensors file (model or checkpoint): an 8-byte little-endian
// header length, then the JSON header's '{'. Never throws.
bool looks_like_model(const std::string& path) {
  if (path.empty()) return false;
  try {
    const std::vector<std::uint8_t> head = read_file_head(path, 9);
    return head.size() == 9 && head[8] == '{' && head[6] == 0 && head[7] == 0;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

Model load_model_for(const std::string& path, std::int64_t max_batch, const std::string& other_role,
                     const std::string& other_path) {
  try {
    return load_model(path, max_batch);
  } catch (const Error& e) {
    if (looks_like_model(path) || !std::filesystem::is_regular_file(path)) throw;
    const std::string swap = looks_like_model(other_path)
                                 ? fmt::format("; {} {} is a model: did you swap MODEL and {}?",
                                               other_role, other_path, other_role)
                                 : std::string();
    throw Error(
        fmt::format("{} is not a backprop model: it does not start with a safetensors "
                    "header ({}){}",
                    path, e.what(), swap));
  }
}

DataSourceNames data_flag_names() { return {"--data", "--test"}; }

void add_table_flags(CLI::App* cmd, TableFlags& flags, const std::string& id_help) {
  cmd->add_option("--label", flags.label, "CSV: the label column (checked against the model)");
  cmd->add_option("--ignore", flags.ignore, "CSV: ignored columns (checked against the model)")
      ->delimiter(',');
  cmd->add_option("--id", flags.id, id_help);
  cmd->add_option("--header", flags.header, "CSV: yes, no or auto (checked against the model)");
  cmd->add_option("--delimiter", flags.delimiter, "CSV: auto, comma, semicolon or tab")
      ->capture_default_str();
  cmd->add_option("--decimal", flags.decimal,
                  "CSV: the decimal mark, point or comma (auto: the training file's)")
      ->capture_default_str();
}

void check_table_flags(const ModelInfo& info, const TableFlags& flags) {
  const bool csv = info.input_format == "csv";
  const auto differs = [](const char* flag, const std::string& model, const std::string& yours) {
    return Error(fmt::format(
        "{} {} differs from the model's {}: the model reads its columns as "
        "it was trained; leave {} out or give {} {}",
        flag, yours, model.empty() ? "(none)" : model, flag, flag, model.empty() ? "\"\"" : model));
  };
  parse_delimiter(flags.delimiter);
  parse_decimal(flags.decimal);
  constexpr const char* kCsvOnly =
      "--label, --ignore, --id, --header, --delimiter and --decimal apply to CSV data only";
  for (const auto* given : {&flags.label, &flags.header, &flags.delimiter, &flags.decimal})
    if (!csv && !given->empty() && *given != "auto") throw Error(kCsvOnly);
  if (!csv && (!flags.ignore.empty() || !flags.id.empty())) throw Error(kCsvOnly);
  // A headerless file's columns are named c<index>, so an index names them too.
  const auto same_column = [](const std::string& given, const std::string& name) {
    return given == name || "c" + given == name;
  };
  if (!flags.label.empty() && !same_column(flags.label, info.label_name))
    throw differs("--label", info.label_name, flags.label);
  if (!flags.header.empty() && parse_csv_header(flags.header) != CsvOptions::Header::automatic &&
      (parse_csv_header(flags.header) == CsvOptions::Header::yes) != info.csv_header)
    throw differs("--header", info.csv_header ? "yes" : "no", flags.header);
  if (!flags.id.empty() && !info.csv_id.empty() && !same_column(flags.id, info.csv_id))
    throw differs("--id", info.csv_id, flags.id);
  if (!flags.ignore.empty()) {
    auto given = flags.ignore;
    auto model = info.csv_ignored;
    for (auto& g : given)
      for (const auto& m : model)
        if (same_column(g, m)) g = m;
    std::sort(given.begin(), given.end());
    std::sort(model.begin(), model.end());
    if (given != model)
      throw differs("--ignore", fmt::format("{}", fmt::join(info.csv_ignored, ",")),
                    fmt::format("{}", fmt::join(flags.ignore, ",")));
  }
}

void print_notes(const Dataset& data) {
  for (const std::string& note : data.notes)
    fmt::print(stderr, "backprop: {}: {}\n", data.source, note);
}

ModelAndData load_model_and_data(const std::string& model_path, const std::string& data_path,
                                 bool require_label, const TableFlags& flags) {
  // Batches of up to 1024 rows: evaluation and prediction go through the data in such chunks.
  ModelAndData out{load_model_for(model_path, 1024, "--data", data_path), {}};
  check_table_flags(out.model.info, flags);
  const ModelInput input = model_input(out.model.info);
  const std::string readable = readable_data_path("--data", data_path);
  out.data = load_data_for_model(readable, input, require_label, flags.id, data_flag_names(),
                                 parse_delimiter(flags.delimiter), parse_decimal(flags.decimal));
  if (readable != data_path) out.data.source = data_path;  // a stream, named as the user named it
  return out;
}

}  // namespace backprop::cli
