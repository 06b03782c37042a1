// SPDX-License-Identifier: Apache-2.0
// The 'environment' task.
#include "environment_task.h"

#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/base/threads.h>
#include <difflab/base/version.h>
#include <difflab/io/atomic_file.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <dnnl.hpp>
#include <vector>

namespace difflab::plugins {

namespace {

const char* isa_name(dnnl::cpu_isa isa) {
    switch (isa) {
        case dnnl::cpu_isa::sse41:
            return "sse41";
        case dnnl::cpu_isa::avx:
            return "avx";
        case dnnl::cpu_isa::avx2:
            return "avx2";
        case dnnl::cpu_isa::avx2_vnni:
            return "avx2_vnni";
        case dnnl::cpu_isa::avx512_core:
            return "avx512_core";
        case dnnl::cpu_isa::avx512_core_vnni:
            return "avx512_core_vnni";
        case dnnl::cpu_isa::avx512_core_bf16:
            return "avx512_core_bf16";
        case dnnl::cpu_isa::avx512_core_amx:
            return "avx512_core_amx";
        default:
            return "other";
    }
}

// Small integers in [-4, 4] keep every partial sum exact in f32, so the reference is exact.
std::vector<float> seeded_matrix(std::int64_t n, std::int64_t salt) {
    std::vector<float> m(static_cast<std::size_t>(n * n));
    for (std::int64_t i = 0; i < n * n; ++i)
        m[static_cast<std::size_t>(i)] = static_cast<float>((i * 7 + salt * 13) % 9 - 4);
    return m;
}

struct matmul_run {
    std::vector<float> product;
    double seconds;
};

matmul_run onednn_matmul(const std::vector<float>& a, const std::vector<float>& b, std::int64_t n,
                         std::int64_t repeats) {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    const dnnl::memory::desc md({n, n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(md, md, md), engine);
    std::vector<float> c(a.size());
    dnnl::memory ma(md, engine, const_cast<float*>(a.data())), mb(md, engine, const_cast<float*>(b.data())),
        mc(md, engine, c.data());
    dnnl::matmul mm(pd);
    double best = 1e30;
    for (std::int64_t r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        mm.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
        stream.wait();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return {c, best};
}

}  // namespace

param_spec<environment_task::options> environment_task::params() {
    param_spec<options> spec{
        "Reports the build, the CPU as oneDNN sees it and the registered components; "
        "checks a oneDNN matmul against a reference."};
    spec.add(&options::matmul_size, "matmul_size", "Size n of the n x n matmul that is checked and timed.",
             closed_range<std::int64_t>(1, 4096));
    spec.add(&options::repeats, "repeats", "Timed repetitions of the matmul (the best is reported).",
             at_least<std::int64_t>(1));
    return spec;
}

environment_task::environment_task(const options& opts, build_context&) : opts_(opts) {}

double environment_task::matmul_error(std::int64_t n) {
    const auto a = seeded_matrix(n, 1), b = seeded_matrix(n, 2);
    const auto c = onednn_matmul(a, b, n, 1).product;
    double worst = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        for (std::int64_t j = 0; j < n; ++j) {
            double reference = 0;
            for (std::int64_t k = 0; k < n; ++k)
                reference += static_cast<double>(a[static_cast<std::size_t>(i * n + k)]) *
                             b[static_cast<std::size_t>(k * n + j)];
            const double got = c[static_cast<std::size_t>(i * n + j)];
            worst = std::max(worst, std::abs(got - reference) / (1.0 + std::abs(reference)));
        }
    }
    return worst;
}

void environment_task::run(run_context& ctx) {
    const std::int64_t n = opts_.matmul_size;
    const double max_error = matmul_error(n);
    const auto timed = onednn_matmul(seeded_matrix(n, 1), seeded_matrix(n, 2), n, opts_.repeats);
    const double gflops = 2.0 * static_cast<double>(n * n * n) / timed.seconds * 1e-9;
    const dnnl_version_t* v = dnnl_version();

    std::string report = fmt::format(
        "# Environment\n\n"
        "| | |\n|---|---|\n"
        "| difflab | {} (plugin API {}) |\n| build | `{}` |\n| oneDNN | {}.{}.{} |\n| CPU ISA | {} |\n"
        "| threads | {} |\n\n"
        "## oneDNN check\n\n{}x{} f32 matmul: max relative error {:.2e} against a reference loop; "
        "best of {}: {:.3f} ms, {:.1f} GFLOP/s.\n\n"
        "## Registered components\n\n| component | plugin |\n|---|---|\n",
        DIFFLAB_VERSION, DIFFLAB_PLUGIN_API_VERSION, core_build_fingerprint(), v->major, v->minor, v->patch,
        isa_name(dnnl::get_effective_cpu_isa()), thread_count(), n, n, max_error, opts_.repeats, timed.seconds * 1e3,
        gflops);
    for (const component_info* c : ctx.builder().components().all())
        report += fmt::format("| {} | {} {} |\n", c->full_name(), c->plugin, c->plugin_version);
    write_file_atomically(ctx.run_dir() / "report.md", report);
    log_info("oneDNN {}x{} matmul: error {:.1e}, {:.1f} GFLOP/s on {} threads; report in {}", n, n, max_error, gflops,
             thread_count(), (ctx.run_dir() / "report.md").string());
    // Integer-valued inputs make the exact product representable: any error means a broken
    // oneDNN build or CPU dispatch.
    if (max_error > 0)
        throw error(
            fmt::format("oneDNN matmul differs from the reference (relative error {:.2e}); check the oneDNN "
                        "installation (libdnnl) and the CPU dispatch (ONEDNN_MAX_CPU_ISA)",
                        max_error));
}

}  // namespace difflab::plugins
