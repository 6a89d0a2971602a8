#pragma once
// The floating-point mode every thread runs the library's arithmetic in: subnormal (denormal)
// results flushed to zero and subnormal inputs read as zero (x86's MXCSR FTZ and DAZ bits).
//
// Why: on some cores an operation that produces or reads a subnormal float takes a microcode
// assist of ~100 cycles instead of one. Training meets them steadily: Adam's first moment of a
// weight whose gradient has become exactly zero (a pixel that is 0 in every image of the batch,
// a dead ReLU unit) decays as m <- 0.9 m and turns subnormal after ~850 steps. On a Sapphire
// Rapids-class Xeon, W2's Adam pass took 254, 685 and 1041 us per step in epochs 1, 2 and 3
// with subnormals and ~200 us in each with them flushed (docs/performance.md). PyTorch offers
// the same switch (torch.set_flush_denormal). A value below FLT_MIN (1.2e-38) becoming 0 changes
// no result that matters; since every thread uses the same mode, results stay bit-identical
// for every thread count.
//
// The pool's workers set the mode once when they start; the calling thread gets it for the
// duration of each library call that computes (a FloatModeScope at the entry points: the
// network's forward, loss and training passes, Optimizer::step, gather_batch, and
// ThreadPool::run), and its own mode is restored afterwards. Elsewhere than on x86 this is a
// no-op.
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define BACKPROP_HAS_MXCSR 1
#endif

namespace backprop {

class FloatModeScope {
 public:
#ifdef BACKPROP_HAS_MXCSR
  static constexpr unsigned kFlushToZero = 0x8000u;     // MXCSR.FTZ
  static constexpr unsigned kDenormalsAreZero = 0x40u;  // MXCSR.DAZ
  static constexpr unsigned kMode = kFlushToZero | kDenormalsAreZero;

  FloatModeScope() : saved_(_mm_getcsr()) {
    if ((saved_ & kMode) != kMode) _mm_setcsr(saved_ | kMode);
  }
  ~FloatModeScope() {
    if ((saved_ & kMode) != kMode) _mm_setcsr(saved_);
  }
  // For threads the library owns: set the mode for good.
  static void set_for_this_thread() { _mm_setcsr(_mm_getcsr() | kMode); }
  static bool active_on_this_thread() { return (_mm_getcsr() & kMode) == kMode; }

 private:
  unsigned saved_;
#else
  FloatModeScope() = default;
  static void set_for_this_thread() {}
  static bool active_on_this_thread() { return false; }
#endif

 public:
  FloatModeScope(const FloatModeScope&) = delete;
  FloatModeScope& operator=(const FloatModeScope&) = delete;
};

}  // namespace backprop
