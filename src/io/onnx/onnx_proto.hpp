#pragma once
// The subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) that
// backprop writes and reads, as plain structs, with a decoder for hostile bytes and an encoder.
// Field numbers are onnx.proto's; fields outside the subset are skipped when read.
//
//   ModelProto        1 ir_version, 2 producer_name, 3 producer_version, 7 graph,
//                     8 opset_import {1 domain, 2 version}, 14 metadata_props {1 key, 2 value}
//   GraphProto        1 node, 2 name, 5 initializer, 11 input, 12 output,
//                     15 sparse_initializer (refused)
//   NodeProto         1 input, 2 output, 3 name, 4 op_type, 5 attribute, 7 domain
//   AttributeProto    1 name, 20 type, 2 f, 3 i, 4 s, 5 t, 6 g, 7 floats, 8 ints, 9 strings,
//                     10 tensors, 11 graphs (6, 10, 11 only noted, never decoded)
//   TensorProto       1 dims, 2 data_type, 4 float_data, 5 int32_data, 6 string_data,
//                     7 int64_data, 8 name, 9 raw_data, 10 double_data, 11 uint64_data,
//                     13 external_data, 14 data_location
//   ValueInfoProto    1 name, 2 type {1 tensor_type {1 elem_type, 2 shape {1 dim
//                     {1 dim_value, 2 dim_param}}}}
//
// The decoder never recurses on the input: messages nest at most five deep (model, graph,
// node, attribute, tensor) by the schema itself, and subgraphs (attributes of type GRAPH) are
// not entered. Every count and size is capped (OnnxLimits) and every tensor's data is checked
// against its dims before a value is copied, so memory stays within a small multiple of the
// file's size.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace backprop::onnx {

// TensorProto.DataType values used here.
enum DataType : std::int32_t {
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kFloat16 = 10,
  kDouble = 11,
};
std::string data_type_name(std::int32_t type);

struct OnnxLimits {
  std::uint64_t max_file_bytes = std::uint64_t{2} << 30;  // protobuf's own ceiling
  std::size_t max_nodes = 10000;
  std::size_t max_initializers = 10000;
  std::size_t max_values = 10000;  // graph inputs and outputs, metadata entries, opsets
  std::size_t max_attributes = 100;
  std::size_t max_dims = 8;
  std::uint64_t max_float_elements = std::uint64_t{1} << 31;  // kMaxParameters
  std::uint64_t max_other_elements = std::uint64_t{1} << 20;  // int64, string: shapes, labels
};

struct Tensor {
  std::string name;
  std::vector<std::int64_t> dims;
  std::int32_t data_type = 0;
  std::uint64_t elements = 1;  // product of dims, checked against the limits
  // The values, decoded from raw_data or the typed repeated field and checked to number
  // exactly `elements`: floats for FLOAT and DOUBLE (converted), int64 for the integer types,
  // strings for STRING. Other types are kept undecoded (`decoded` false).
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  std::vector<std::string> strings;
  bool decoded = false;
};

struct Dim {
  std::optional<std::int64_t> value;  // dim_value
  std::string param;                  // dim_param (symbolic, e.g. "batch")
};

struct ValueInfo {
  std::string name;
  bool is_tensor = false;  // a tensor type (not a sequence, map, ...)
  std::int32_t elem_type = 0;
  std::optional<std::vector<Dim>> shape;  // absent when the file gives no shape
};

enum class AttributeType : std::int32_t {
  undefined = 0,
  float_ = 1,
  int_ = 2,
  string = 3,
  tensor = 4,
  graph = 5,
  floats = 6,
  ints = 7,
  strings = 8,
};

struct Attribute {
  std::string name;
  AttributeType type = AttributeType::undefined;
  float f = 0.0f;
  std::int64_t i = 0;
  std::string s;
  std::optional<Tensor> t;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  std::vector<std::string> strings;
  bool has_graph = false;  // a subgraph (If, Loop, Scan): never supported, never decoded
};

struct Node {
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::string name;
  std::string op_type;
  std::string domain;
  std::vector<Attribute> attributes;

  const Attribute* attribute(std::string_view name) const;
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<Tensor> initializers;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
};

struct OpsetId {
  std::string domain;
  std::int64_t version = 0;
};

struct Model {
  std::int64_t ir_version = 0;
  std::string producer_name;
  std::string producer_version;
  std::vector<OpsetId> opsets;
  std::vector<std::pair<std::string, std::string>> metadata;
  Graph graph;
};

// Decodes a ModelProto. Every malformation or excess is an Error starting with `source` and the
// path of the message inside the file ("m.onnx: graph.initializer[2] 'W': ...").
Model decode_model(std::span<const std::uint8_t> bytes, std::string_view source,
                   const OnnxLimits& limits = {});

// Encodes a ModelProto holding the fields listed above. Float tensors are written as raw_data,
// int64 tensors as raw_data too.
std::string encode_model(const Model& model);

}  // namespace backprop::onnx
