#pragma once
// BACKPROP_CLONES before a function compiles it for AVX-512 (x86-64-v4), AVX2 (x86-64-v3) and
// the baseline; the loader picks the best one for the machine at start-up. For the elementwise
// loops outside the GEMM (optimiser updates, activations, e^x, the byte-to-float gather), whose
// vectorised forms the compiler writes from plain loops. target_clones does not apply to
// templates: a template body is inlined into cloned non-template entry points instead.
// A cloned function has external linkage (each source file keeps its own in a namespace
// `cloned`) and no declaration before its definition: clang 14 drops the AVX2 form of an
// internal one, and compiles only the AVX-512 form of one declared in an earlier block of its
// namespace, which then fails on a machine without AVX-512.
#define BACKPROP_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
