#pragma once
// safetensors (https://github.com/huggingface/safetensors), the format models are saved in:
//   8 bytes   N, the header length, little-endian uint64
//   N bytes   UTF-8 JSON object: tensor name -> {"dtype", "shape", "data_offsets": [begin, end]},
//             plus an optional "__metadata__" object of strings; may end in padding spaces
//   the rest  the data buffer; offsets are relative to its first byte, tensors are
//             little-endian, row-major, and tile it exactly (no holes, no overlap)
// backprop writes and reads F32 only. The reader treats every file as hostile: all lengths and
// offsets are checked against the actual size before anything is allocated for them, and every
// refusal is an Error naming the file, the tensor and the rule. docs/safetensors.md lists the
// rules.
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace backprop {

struct NamedTensor {
  std::string name;
  std::vector<std::int64_t> shape;  // [] is a scalar (one value)
  std::vector<float> data;          // row-major, product(shape) values
};

// For writing parameters straight out of the network's buffers without copying them.
struct TensorRef {
  std::string name;
  std::vector<std::int64_t> shape;
  std::span<const float> data;
};

struct SafetensorsFile {
  std::vector<NamedTensor> tensors;             // in data-offset order
  std::map<std::string, std::string> metadata;  // the "__metadata__" object
  std::string source;                           // file name, for messages

  // Throws Error "model.safetensors: no tensor 'W3'".
  const NamedTensor& tensor(std::string_view name) const;
  const NamedTensor* find(std::string_view name) const;
};

// Bounds on what a reader will accept, so that a hostile file costs at most this much memory.
struct SafetensorsLimits {
  std::uint64_t max_header_bytes = std::uint64_t{100} << 20;
  std::uint64_t max_tensor_elements = std::uint64_t{1} << 32;
  std::uint64_t max_tensors = 100000;
  std::uint64_t max_file_bytes = std::uint64_t{4} << 30;  // read_safetensors only
};

// The complete file: tensors laid out in the order given, header padded with spaces to a
// multiple of 8 bytes so that the data (and every F32 tensor) starts 8-aligned. Empty metadata
// writes no "__metadata__". Throws Error if a name is empty, repeated or "__metadata__", if a
// shape does not match its data, or if a name or metadata string is not valid UTF-8.
std::string encode_safetensors(std::span<const TensorRef> tensors,
                               const std::map<std::string, std::string>& metadata);

// encode_safetensors, written with write_file_atomically.
void write_safetensors(const std::filesystem::path& path, std::span<const TensorRef> tensors,
                       const std::map<std::string, std::string>& metadata);

// `source_name` begins every message ("model.safetensors: tensor 'W1' has dtype F16; ...").
SafetensorsFile parse_safetensors(std::span<const std::uint8_t> bytes, std::string_view source_name,
                                  const SafetensorsLimits& limits = {});

// Reads the whole file (refusing one larger than limits.max_file_bytes before reading it) and
// parses it.
SafetensorsFile read_safetensors(const std::filesystem::path& path,
                                 const SafetensorsLimits& limits = {});

}  // namespace backprop
