#pragma once
// BACKPROP_CLONES before a function compiles it for AVX-512 (x86-64-v4), AVX2 (x86-64-v3) and
// the baseline; the loader picks the best one for the machine at start-up. For the elementwise
// loops outside the GEMM (optimiser updates, activations, e^x, the byte-to-float gather), whose
// vectorised forms the compiler writes from plain loops. target_clones does not apply to
// templates: a template body is inlined into cloned non-template entry points instead.
#define BACKPROP_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
