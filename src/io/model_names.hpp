#pragma once
// The rules for a model's class and feature names, which every way a model comes in (the model
// reader, the ONNX importer) and goes out (the model writer) checks, so that each reads what
// the others write.
#include <string>
#include <string_view>
#include <vector>

namespace backprop {

// Names are printed, written into CSV headers and, for classes, key predict's columns: the CSV
// reader's rules (UTF-8, no control character that acts on a terminal), and with `distinct`
// no name twice. Throws Error starting with `where`, naming the `what` ("class name") and its
// index.
void check_names(std::string_view where, std::string_view what,
                 const std::vector<std::string>& names, bool distinct);

}  // namespace backprop
