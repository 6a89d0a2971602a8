// libFuzzer target: IDX image + label files (parse_idx, looks_like_idx, read_file_bytes gunzip).
// The body lives in fuzz_entries.hpp, shared with tests/fuzz_corpus_test.cpp; see docs/fuzzing.md.
#include <cstddef>
#include <cstdint>

#include "fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)backprop::fuzz::idx_entry({data, size});
  return 0;
}
