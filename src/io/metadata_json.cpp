#include "io/metadata_json.hpp"

#include <fmt/format.h>

#include "backprop/error.hpp"

namespace backprop {

nlohmann::json parse_metadata_json(const std::string& text, const std::string& source,
                                   const std::string& key) {
  using json = nlohmann::json;
  bool too_deep = false;
  const auto limit_depth = [&](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxMetadataDepth)
      too_deep = true;
    return !too_deep;  // false discards the value, so nothing deeper is built
  };
  try {
    json value = json::parse(text, limit_depth);
    if (too_deep)
      throw Error(fmt::format("{}: metadata '{}' nests deeper than {} levels", source, key,
                              kMaxMetadataDepth));
    return value;
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: metadata '{}' is not valid JSON ({})", source, key, e.what()));
  }
}

nlohmann::json metadata_json(const SafetensorsFile& file, const std::string& key) {
  const auto it = file.metadata.find(key);
  if (it == file.metadata.end())
    throw Error(fmt::format("{}: not a backprop model: metadata has no '{}'", file.source, key));
  return parse_metadata_json(it->second, file.source, key);
}

}  // namespace backprop
