// libFuzzer target: CSV training and evaluation files (parse_csv_dataset, parse_csv_for_model).
// The body lives in fuzz_entries.hpp, shared with tests/fuzz_corpus_test.cpp; see docs/fuzzing.md.
#include <cstddef>
#include <cstdint>

#include "fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)backprop::fuzz::csv_entry({data, size});
  return 0;
}
