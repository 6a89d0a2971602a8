#pragma once
// Seeded randomness that is identical on every platform, thread count and run.
// Everything random is a pure function of (seed, purpose, counters): a shuffle is derived from
// (seed, epoch), a dropout mask from (seed, step, row, column), an initial weight from
// (seed, layer, index). So a checkpoint needs only the seed and counters to resume exactly,
// and no RNG state is shared between threads.
#include <cstdint>
#include <span>

namespace backprop {

// SplitMix64's finaliser: a bijective 64-bit mix with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A key from a seed and up to three counters.
constexpr std::uint64_t hash_key(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                                 std::uint64_t c = 0) {
  return mix64(mix64(mix64(mix64(seed) ^ a) ^ b) ^ c);
}

// A uniform float in [0, 1) from the top 24 bits of a key.
constexpr float unit_float(std::uint64_t key) {
  return static_cast<float>(key >> 40) * (1.0f / 16777216.0f);
}

// A small sequential generator (SplitMix64) for shuffles: state is one word.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound), bound > 0, without modulo bias (Lemire's method).
  std::uint64_t below(std::uint64_t bound);
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

// Fisher-Yates shuffle of `items` in place, the same on every platform.
void shuffle(std::span<std::int64_t> items, Rng& rng);

}  // namespace backprop
