#pragma once
// What a checkpoint remembers of its training data, so that `train --resume` on other data is
// refused (unless --force) instead of carrying on silently: the size (rows x features) and a
// 64-bit FNV-1a hash of the data as read (every value, label or target and class name). It is
// stored in the checkpoint's run description under "data_fingerprint" with a "version" field;
// a checkpoint without one (written before it existed) is resumed unchecked.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "backprop/dataset.hpp"

namespace backprop::cli {

struct DataFingerprint {
  std::int64_t rows = 0;
  std::int64_t features = 0;
  std::uint64_t hash = 0;
  std::string source;  // the path it was read from, for the message

  bool same_data(const DataFingerprint& other) const {
    return rows == other.rows && features == other.features && hash == other.hash;
  }
  // "d.csv (150 rows x 4 features, hash 0123456789abcdef)"
  std::string describe() const;
};

DataFingerprint fingerprint(const Dataset& data);

nlohmann::json to_json(const DataFingerprint& f);
// Throws Error when the field is malformed.
DataFingerprint fingerprint_from_json(const nlohmann::json& j);

inline constexpr const char* kFingerprintKey = "data_fingerprint";

}  // namespace backprop::cli
