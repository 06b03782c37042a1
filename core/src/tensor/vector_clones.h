// SPDX-License-Identifier: Apache-2.0
// DIFFLAB_VECTOR_CLONES: a loop compiled for AVX-512 and AVX2 besides the generic x86-64 baseline (internal).
#pragma once

// The package is built for generic x86-64 (SSE2), so plain loops would run 4 floats at a time
// on every machine. GCC's target_clones compiles a marked function three times and an ifunc
// picks one by the CPU at load time, as oneDNN picks its JIT kernels: the build stays generic.
// A marked function is never inlined (the call goes through the ifunc): mark whole loops, not
// per-element helpers, and not functions holding an OpenMP region (GCC outlines its body
// before cloning, so the body would stay baseline code).
// The clones may contract a * b + c into one FMA, so their last bit can differ from the
// baseline's (core/CMakeLists.txt turns that off where it matters).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define DIFFLAB_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DIFFLAB_VECTOR_CLONES
#endif
