#pragma once
// Reading the JSON values that model files and checkpoints keep in __metadata__ strings.
#include <nlohmann/json.hpp>
#include <string>

#include "backprop/safetensors.hpp"

namespace backprop {

// Ours nest two levels deep; deeper is hostile (every later walk of the value recurses).
inline constexpr int kMaxMetadataDepth = 16;

// Parses `text` (the metadata value `key` of `source`), refusing invalid JSON and nesting deeper
// than kMaxMetadataDepth with an Error naming the file and key.
nlohmann::json parse_metadata_json(const std::string& text, const std::string& source,
                                   const std::string& key);

// The metadata value `key` of `file` parsed as above; an Error if the key is absent.
nlohmann::json metadata_json(const SafetensorsFile& file, const std::string& key);

}  // namespace backprop
