// libFuzzer target: model files (parse_model: safetensors + __metadata__ JSON + tensor shapes
// checked against the architecture).
// The body lives in fuzz_entries.hpp, shared with tests/fuzz_corpus_test.cpp; see docs/fuzzing.md.
#include <cstddef>
#include <cstdint>

#include "fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)backprop::fuzz::model_entry({data, size});
  return 0;
}
