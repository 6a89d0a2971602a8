#include "data_fingerprint.hpp"

#include <fmt/format.h>

#include "backprop/error.hpp"

namespace backprop::cli {

namespace {

constexpr int kVersion = 1;

// FNV-1a, 64 bits: h = (h xor byte) * 0x100000001b3 over the bytes in order.
class Fnv1a {
 public:
  void add(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) hash_ = (hash_ ^ p[i]) * 0x100000001b3ULL;
  }
  template <class T>
  void add_value(const T& v) {
    add(&v, sizeof v);
  }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::string DataFingerprint::describe() const {
  return fmt::format("{} ({} rows x {} features, hash {:016x})", source, rows, features, hash);
}

DataFingerprint fingerprint(const Dataset& data) {
  Fnv1a h;
  h.add_value(data.rows);
  h.add_value(data.features);
  const auto n = static_cast<std::size_t>(data.rows * data.features);
  if (data.is_bytes()) {
    h.add(data.bytes.data(), data.bytes.size());
  } else if (n > 0) {
    h.add(data.value_data(), n * sizeof(float));
  }
  h.add(data.labels.data(), data.labels.size() * sizeof(std::int32_t));
  h.add(data.targets.data(), data.targets.size() * sizeof(float));
  for (const auto& name : data.class_names) {
    h.add(name.data(), name.size());
    h.add_value('\0');
  }
  return {data.rows, data.features, h.value(), data.source};
}

nlohmann::json to_json(const DataFingerprint& f) {
  return {{"version", kVersion},
          {"rows", f.rows},
          {"features", f.features},
          {"hash", fmt::format("{:016x}", f.hash)},
          {"source", f.source}};
}

DataFingerprint fingerprint_from_json(const nlohmann::json& j) {
  try {
    if (j.at("version").get<int>() != kVersion)
      throw Error(fmt::format("the checkpoint's data fingerprint has version {}, not {}",
                              j.at("version").dump(), kVersion));
    DataFingerprint f;
    f.rows = j.at("rows").get<std::int64_t>();
    f.features = j.at("features").get<std::int64_t>();
    f.hash = std::stoull(j.at("hash").get<std::string>(), nullptr, 16);
    f.source = j.at("source").get<std::string>();
    return f;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("the checkpoint's data fingerprint is malformed ({})", e.what()));
  } catch (const std::logic_error&) {
    throw Error("the checkpoint's data fingerprint is malformed (its hash is not hexadecimal)");
  }
}

}  // namespace backprop::cli
