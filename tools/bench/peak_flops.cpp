// SPDX-License-Identifier: Apache-2.0
// Peak fp32 FMA and bf16 dot-product throughput of this CPU: the ceiling for op benchmarks.
//
// Each thread runs independent chains of AVX-512 instructions on register accumulators, with
// no memory traffic, so the only limit is the FMA units: enough chains (12) cover the FMA
// latency times the number of pipes on Zen 4 and Intel cores. Counting: one _mm512_fmadd_ps
// is 16 lanes x (mul + add) = 32 flops; one _mm512_dpbf16_ps (vdpbf16ps) is 16 lanes x 2
// products x (mul + add) = 64 flops, the convention oneDNN and vendors use for bf16 peaks.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr int chains = 12;

volatile float sink = 0.0f;

float reduce(const __m512* acc) {
    __m512 sum = acc[0];
    for (int k = 1; k < chains; ++k) sum = _mm512_add_ps(sum, acc[k]);
    // A plain store, not _mm512_reduce_add_ps: GCC 12 warns falsely inside that intrinsic.
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, sum);
    float total = 0.0f;
    for (const float lane : lanes) total += lane;
    return total;
}

// Flops done by one thread in `iterations` rounds of `chains` FMAs.
double fp32_fma(std::int64_t iterations) {
    __m512 acc[chains];
    for (int k = 0; k < chains; ++k) acc[k] = _mm512_set1_ps(static_cast<float>(k));
    // acc = acc * a + b converges to b / (1 - a): no overflow, no denormals, however long.
    const __m512 a = _mm512_set1_ps(0.999f);
    const __m512 b = _mm512_set1_ps(1e-3f);
    for (std::int64_t i = 0; i < iterations; ++i)
        for (int k = 0; k < chains; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
    sink = sink + reduce(acc);
    return static_cast<double>(iterations) * chains * 32.0;
}

double bf16_dot(std::int64_t iterations) {
    __m512 acc[chains];
    for (int k = 0; k < chains; ++k) acc[k] = _mm512_setzero_ps();
    // Products of 2^-10 * 2^-10: the sums stay far below overflow for any run length.
    const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0x1p-10f), _mm512_set1_ps(0x1p-10f));
    const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0x1p-10f), _mm512_set1_ps(-0x1p-10f));
    for (std::int64_t i = 0; i < iterations; ++i)
        for (int k = 0; k < chains; ++k) acc[k] = _mm512_dpbf16_ps(acc[k], a, b);
    sink = sink + reduce(acc);
    return static_cast<double>(iterations) * chains * 64.0;
}

// Best GFLOP/s over `repeats` runs of about `seconds` each, on `threads` threads at once.
double measure(double (*kernel)(std::int64_t), int threads, double seconds, int repeats) {
    using clock = std::chrono::steady_clock;
    // Calibrate the iteration count on one thread so that a run lasts about `seconds`.
    std::int64_t iterations = 1 << 16;
    for (;;) {
        const auto start = clock::now();
        kernel(iterations);
        const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
        if (elapsed > 0.05) {
            iterations = static_cast<std::int64_t>(static_cast<double>(iterations) * seconds / elapsed) + 1;
            break;
        }
        iterations *= 4;
    }
    double best = 0.0;
    for (int r = 0; r < repeats; ++r) {
        double flops = 0.0;
        const auto start = clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops += kernel(iterations);
        const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
        best = std::max(best, flops / elapsed * 1e-9);
    }
    return best;
}

void usage() {
    std::printf(
        "usage: peak_flops [--threads N] [--seconds S] [--repeats R]\n"
        "Measures peak fp32 FMA (AVX-512) and bf16 dot-product (AVX512_BF16) throughput on one\n"
        "core and on N threads (default: all cores), printing GFLOP/s (best of R runs of S seconds).\n");
}

}  // namespace

int main(int argc, char** argv) {
    int threads = omp_get_num_procs();
    double seconds = 0.5;
    int repeats = 5;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--threads" && has_value) {
            threads = std::atoi(argv[++i]);
        } else if (arg == "--seconds" && has_value) {
            seconds = std::atof(argv[++i]);
        } else if (arg == "--repeats" && has_value) {
            repeats = std::atoi(argv[++i]);
        } else if (arg == "--help" || arg == "-h") {
            usage();
            return 0;
        } else {
            std::fprintf(stderr, "peak_flops: error: unknown argument '%s'; see peak_flops --help\n", arg.c_str());
            return 2;
        }
    }
    if (threads < 1 || seconds <= 0.0 || repeats < 1) {
        std::fprintf(stderr, "peak_flops: error: --threads, --seconds and --repeats must be positive\n");
        return 2;
    }
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) {
        std::fprintf(stderr, "peak_flops: error: this CPU has no AVX-512F; the benchmark needs it\n");
        return 1;
    }
    const bool has_bf16 = __builtin_cpu_supports("avx512bf16");

    std::printf("peak_flops: %d threads (OpenMP), best of %d runs of %.2f s, %d independent chains\n", threads, repeats,
                seconds, chains);
    std::printf("%-34s %8s %12s %14s\n", "kernel", "threads", "GFLOP/s", "GFLOP/s/core");
    const auto row = [&](const char* name, double (*kernel)(std::int64_t), int n) {
        const double gflops = measure(kernel, n, seconds, repeats);
        std::printf("%-34s %8d %12.1f %14.1f\n", name, n, gflops, gflops / n);
    };
    row("fp32 FMA (vfmadd, zmm)", fp32_fma, 1);
    if (threads > 1) row("fp32 FMA (vfmadd, zmm)", fp32_fma, threads);
    if (has_bf16) {
        row("bf16 dot (vdpbf16ps, zmm)", bf16_dot, 1);
        if (threads > 1) row("bf16 dot (vdpbf16ps, zmm)", bf16_dot, threads);
    } else {
        std::printf("%-34s %8s %12s\n", "bf16 dot (vdpbf16ps, zmm)", "-", "no AVX512_BF16 on this CPU");
    }
    return 0;
}
