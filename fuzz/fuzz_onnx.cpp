// libFuzzer target: ONNX files (parse_onnx, then export and re-import of what it accepted).
// The body lives in fuzz_entries.hpp, shared with tests/fuzz_corpus_test.cpp; see
// docs/fuzzing.md.
#include <cstddef>
#include <cstdint>

#include "fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)backprop::fuzz::onnx_entry({data, size});
  return 0;
}
