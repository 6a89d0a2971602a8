#pragma once
// The ModelInfo that travels in an ONNX file's metadata_props (docs/onnx.md): written by the
// exporter, read back by the importer so that export -> import -> export gives the same bytes.
//   backprop_format_version  "1"
//   task                     "classification" or "regression"
//   classes                  JSON list of the class names (classifiers; any producer may set it)
//   features                 JSON list of the input names
//   label                    the label column
//   input                    JSON {"format", "header", "columns"}: what the model reads
//   preprocessing            the normalisation's name (standard, minmax, ...)
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backprop/model.hpp"

namespace backprop {

std::vector<std::pair<std::string, std::string>> onnx_metadata(const ModelInfo& info);

// What the metadata of an ONNX file says, applied to `info` (whose architecture is already
// known). Keys another producer did not write leave `info` as it is; `has_backprop` tells
// whether the file carries backprop's keys. Throws Error (naming `source` and the key) on a
// malformed value or one that disagrees with the graph.
struct OnnxMetadataSeen {
  bool has_backprop = false;
  bool has_task = false;
  bool has_classes = false;
};
OnnxMetadataSeen apply_onnx_metadata(const std::vector<std::pair<std::string, std::string>>& props,
                                     std::string_view source, ModelInfo& info);

}  // namespace backprop
