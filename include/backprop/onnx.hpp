#pragma once
// ONNX (https://onnx.ai) out and in. docs/onnx.md is the full description.
//
// Export: one graph, opset 13, IR version 7, with a dynamic batch dimension:
//   input float [batch, p]
//     -> Sub(input.offset) -> Mul(input.scale)         x' = (x - offset) * scale; each left out
//                                                      when it is the identity
//     -> per layer MatMul(W [in, out]) -> Add(b)       z = x W + b, the seed's row convention
//        -> Sigmoid | Tanh | Relu | LeakyRelu(alpha)   hidden layers
//   classifier: -> Softmax(axis -1) = probabilities [batch, r]
//               -> ArgMax(axis 1)   = class_index int64 [batch]
//   regressor:  -> Div(target.scale) -> Add(target.offset) = predictions [batch, r]
//               (y = y' / scale + offset, each left out when it is the identity)
// metadata_props: backprop_format_version, task, classes, features, label, input,
// preprocessing (JSON where structured).
//
// Import: a single-input chain of dense layers as PyTorch, skl2onnx, Keras converters and
// backprop write them (Gemm, MatMul + Add, Flatten, Reshape, Identity, Cast, Dropout, constant
// Sub/Add/Mul/Div or ai.onnx.ml Scaler before the first layer, the four activations, Softmax or
// a linear output, a label branch of ArgMax/ArrayFeatureExtractor/ZipMap). Anything else is an
// Error naming the op, the node, its position and what is supported. The reader treats the
// file as hostile (caps on size, counts and dims; data checked against dims before use;
// external data refused).
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "backprop/model.hpp"
#include "backprop/network.hpp"

namespace backprop {

inline constexpr std::int64_t kOnnxOpset = 13;
inline constexpr std::int64_t kOnnxIrVersion = 7;

// The ONNX file's bytes for a model.
std::string encode_onnx(const Network& network, const ModelInfo& info);
// encode_onnx, written with write_file_atomically.
void export_onnx(const std::filesystem::path& path, const Network& network, const ModelInfo& info);

// Reads an ONNX file into a model (network with buffers for max_batch rows). Names the file as
// `source` in messages. Models without backprop's metadata get a CSV schema without header:
// features c0..c{p-1}, label c{p}, classes "0".."r-1" unless the file names them.
Model parse_onnx(std::span<const std::uint8_t> bytes, std::string_view source,
                 std::int64_t max_batch);
Model import_onnx(const std::filesystem::path& path, std::int64_t max_batch);

}  // namespace backprop
