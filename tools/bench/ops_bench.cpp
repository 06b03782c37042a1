// SPDX-License-Identifier: Apache-2.0
// Op throughput of difflab's oneDNN layers (conv, group norm, attention) and own loops; see ops.sh.
#include <difflab/base/threads.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/module.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/optim.h>
#include <difflab/tensor/tensor.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

namespace {

using namespace difflab;

struct options {
    double seconds = 0.5;  // per case, after warm-up
    bool tsv = false;
    bool cpu_time = false;  // thread CPU time: immune to other jobs on a shared machine (1 thread only)
    std::string only;
};

double now_seconds(bool cpu_time) {
    if (cpu_time) {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Best time of one call in milliseconds (the minimum filters out other work on the cores).
double best_ms(const std::function<void()>& body, const options& o) {
    for (int i = 0; i < 2; ++i) body();  // primitive creation and first-touch of memory
    double best = 1e30, total = 0;
    for (int runs = 0; runs < 3 || total < o.seconds; ++runs) {
        const double start = now_seconds(o.cpu_time);
        body();
        const double s = now_seconds(o.cpu_time) - start;
        best = std::min(best, s);
        total += s;
    }
    return best * 1e3;
}

tensor filled(const shape_t& shape, std::uint32_t seed, bool channels_last = false) {
    std::vector<float> values(static_cast<std::size_t>(shape_numel(shape)));
    std::uint32_t state = seed * 2654435761u + 1u;
    for (float& v : values) {
        state = state * 1664525u + 1013904223u;
        v = static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;
    }
    tensor t = tensor::from_vector(shape, values);
    return channels_last ? t.to_channels_last() : t;
}

/// One row: case name, milliseconds, work in GFLOP (0: memory-bound) and bytes moved.
void report(const options& o, const std::string& name, double ms, double gflop, double bytes) {
    if (o.tsv) {
        std::printf("%s\t%.4f\t%.6f\t%.0f\n", name.c_str(), ms, gflop, bytes);
    } else if (gflop > 0) {
        std::printf("%-28s %10.3f ms %10.1f GFLOP/s\n", name.c_str(), ms, gflop / ms * 1e3);
    } else {
        std::printf("%-28s %10.3f ms %10.1f GB/s\n", name.c_str(), ms, bytes / ms * 1e-6);
    }
    std::fflush(stdout);
}

bool wanted(const options& o, const std::string& name) {
    return o.only.empty() || name.find(o.only) != std::string::npos;
}

void conv_cases(const options& o, std::int64_t size) {
    const std::int64_t n = 64, c = 64;
    const std::string tag = "conv3x3_64_" + std::to_string(size);
    const tensor x = filled({n, c, size, size}, 1, true);
    const tensor w = filled({c, c, 3, 3}, 2).detach();
    const tensor b = filled({c}, 3);
    conv_options opt;
    opt.padding = 1;
    const double gflop = 2.0 * n * c * c * 9 * size * size * 1e-9;
    if (wanted(o, tag + "_fwd")) {
        no_grad_guard guard;
        report(o, tag + "_fwd", best_ms([&] { conv2d(x, w, b, opt); }, o), gflop, 0);
    }
    if (wanted(o, tag + "_bf16_fwd")) {  // AVX512_BF16 kernels; GFLOP/s against the fp32 peak
        no_grad_guard guard;
        const tensor xb = x.to(dtype::bf16), wb = w.to(dtype::bf16);
        report(o, tag + "_bf16_fwd", best_ms([&] { conv2d(xb, wb, b, opt); }, o), gflop, 0);
    }
    if (wanted(o, tag + "_nchw_fwd")) {  // row-major input: oneDNN's blocked layout via reorders
        no_grad_guard guard;
        const tensor plain = x.contiguous();
        report(o, tag + "_nchw_fwd", best_ms([&] { conv2d(plain, w, b, opt); }, o), gflop, 0);
    }
    if (wanted(o, tag + "_fwd_bwd")) {
        tensor xs = x.detach();
        xs.set_requires_grad(true);
        tensor ws = w.detach();
        ws.set_requires_grad(true);
        tensor bs = b.detach();
        bs.set_requires_grad(true);
        const tensor g = filled({n, c, size, size}, 4, true);
        report(o, tag + "_fwd_bwd",
               best_ms(
                   [&] {
                       gradients(conv2d(xs, ws, bs, opt), {xs, ws, bs}, g);
                   },
                   o),
               3 * gflop, 0);
    }
    if (wanted(o, tag + "_nchw_fwd_bwd")) {
        tensor xs = x.contiguous().detach();
        xs.set_requires_grad(true);
        tensor ws = w.detach();
        ws.set_requires_grad(true);
        tensor bs = b.detach();
        bs.set_requires_grad(true);
        const tensor g = filled({n, c, size, size}, 4);
        report(o, tag + "_nchw_fwd_bwd",
               best_ms(
                   [&] {
                       gradients(conv2d(xs, ws, bs, opt), {xs, ws, bs}, g);
                   },
                   o),
               3 * gflop, 0);
    }
}

void group_norm_cases(const options& o) {
    const shape_t shape{64, 64, 28, 28};
    const tensor w = filled({64}, 6), b = filled({64}, 7);
    for (bool channels_last : {false, true}) {
        const std::string tag = std::string("group_norm_silu_28") + (channels_last ? "_cl" : "");
        const tensor x = filled(shape, 5, channels_last);
        const double bytes = 2.0 * 4 * static_cast<double>(x.numel());  // read x, write y
        if (wanted(o, tag + "_fwd")) {
            no_grad_guard guard;
            report(o, tag + "_fwd", best_ms([&] { group_norm_silu(x, 32, w, b); }, o), 0, bytes);
        }
        if (wanted(o, tag + "_fwd_bwd")) {
            tensor xs = x.detach();
            xs.set_requires_grad(true);
            tensor ws = w.detach();
            ws.set_requires_grad(true);
            tensor bs = b.detach();
            bs.set_requires_grad(true);
            const tensor g = filled(shape, 8, channels_last);
            // forward: read x, write y; backward: read x, g, write dx (at least)
            report(o, tag + "_fwd_bwd",
                   best_ms(
                       [&] {
                           gradients(group_norm_silu(xs, 32, ws, bs), {xs, ws, bs}, g);
                       },
                       o),
                   0, 2.5 * bytes);
        }
    }
}

void attention_cases(const options& o, std::int64_t side) {
    const std::int64_t n = 64, tokens = side * side, channels = 128, heads = 4;
    const std::string tag = "attention_" + std::to_string(side) + "x" + std::to_string(side);
    const tensor q = filled({n, tokens, channels}, 9), k = filled({n, tokens, channels}, 10),
                 v = filled({n, tokens, channels}, 11);
    const double gflop = 4.0 * n * tokens * tokens * channels * 1e-9;  // q k^T and p v
    if (wanted(o, tag + "_fwd")) {
        no_grad_guard guard;
        report(o, tag + "_fwd", best_ms([&] { attention(q, k, v, heads); }, o), gflop, 0);
    }
    if (wanted(o, tag + "_fwd_bwd")) {
        tensor qs = q.detach(), ks = k.detach(), vs = v.detach();
        qs.set_requires_grad(true);
        ks.set_requires_grad(true);
        vs.set_requires_grad(true);
        const tensor g = filled({n, tokens, channels}, 12);
        report(o, tag + "_fwd_bwd",
               best_ms(
                   [&] {
                       gradients(attention(qs, ks, vs, heads), {qs, ks, vs}, g);
                   },
                   o),
               3 * gflop, 0);
    }
}

/// Parameters for the optimizer and EMA rows: 40 tensors of 256K values (10.5M), in the
/// range of a small U-Net's.
struct flat_params : module {
    flat_params() {
        for (int i = 0; i < 40; ++i) register_parameter("p" + std::to_string(i), filled({1 << 18}, 20 + i));
    }
};

/// The engine's own loops (vector clones picked at load time; docs/performance.md): binary
/// ops with and without broadcast, a unary op, reductions, dtype conversion, Adam and EMA.
/// GB/s counts each operand read and each result written once.
void own_kernel_cases(const options& o) {
    const shape_t shape{64, 128, 28, 28};
    const double n = static_cast<double>(shape_numel(shape)), f32 = 4 * n, bf16 = 2 * n;
    const tensor x = filled(shape, 13), y = filled(shape, 14), s = filled({64, 128, 1, 1}, 15);
    const tensor x_cl = x.to_channels_last();
    no_grad_guard guard;
    auto run = [&](const std::string& name, double bytes, const std::function<void()>& body) {
        if (wanted(o, name)) report(o, name, best_ms(body, o), 0, bytes);
    };
    run("add_64x128x28", 3 * f32, [&] { add(x, y); });
    run("mul_64x128x28", 3 * f32, [&] { mul(x, y); });
    run("mul_bcast_64x128x28", 2 * f32, [&] { mul(x, s); });  // x * scale[N, C, 1, 1]
    run("add_bcast_64x128x28_cl", 2 * f32, [&] { add(x_cl, s); });
    run("scale_64x128x28", 2 * f32, [&] { mul(x, 0.5f); });
    run("silu_64x128x28", 2 * f32, [&] { silu(x); });
    run("sum_nhw_64x128x28", f32, [&] { sum(x, {0, 2, 3}); });  // a bias gradient
    run("sum_nhw_64x128x28_cl", f32, [&] { sum(x_cl, {0, 2, 3}); });
    run("sum_all_64x128x28", f32, [&] { sum(x); });
    run("to_bf16_64x128x28", f32 + bf16, [&] { x.to(dtype::bf16); });
    const tensor xb = x.to(dtype::bf16);
    run("to_f32_64x128x28", bf16 + f32, [&] { xb.to(dtype::f32); });
    // The U-Net's 14x14 level: 3.2 MB tensors, which stay in the L3 cache.
    const tensor small_x = filled({64, 64, 14, 14}, 16), small_y = filled({64, 64, 14, 14}, 17);
    const double small = 4.0 * static_cast<double>(small_x.numel());
    run("add_64x64x14", 3 * small, [&] { add(small_x, small_y); });
    run("to_bf16_64x64x14", 1.5 * small, [&] { small_x.to(dtype::bf16); });
    const tensor small_xb = small_x.to(dtype::bf16), small_yb = small_y.to(dtype::bf16);
    run("add_bf16_64x64x14", 1.5 * small, [&] { add(small_xb, small_yb); });
    flat_params model;
    const std::vector<tensor> params = model.parameters();
    double count = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
        tensor p = params[i];
        p.set_grad(filled(p.shape(), 70 + static_cast<std::uint32_t>(i)));
        count += static_cast<double>(p.numel());
    }
    optim::adam_options adam_options;
    adam_options.weight_decay = 1e-2f;  // torch.optim.AdamW's default
    optim::adamw adam(params, adam_options);
    run("adamw_step_10M", 28 * count, [&] { adam.step(); });  // read p, m, v, g; write p, m, v
    optim::ema average(model, 0.999f);
    run("ema_update_10M", 12 * count, [&] { average.update(model); });
}

void usage() {
    std::printf(
        "usage: ops_bench [--threads N] [--seconds S] [--only NAME] [--tsv] [--cpu-time]\n"
        "Times difflab's oneDNN layers: conv 3x3 64->64 (batch 64, 28x28 and 14x14, channels-last),\n"
        "group norm (32 groups) + silu on [64, 64, 28, 28], multi-head attention (batch 64, 128\n"
        "channels, 4 heads) at 7x7 and 14x14 tokens; forward and forward+backward; the engine's own\n"
        "loops (binary ops, silu, sums, bf16 conversion on [64, 128, 28, 28], AdamW and EMA over\n"
        "10.5M parameters); best of the runs\n"
        "in S seconds. --cpu-time (with --threads 1) times thread CPU time instead of wall time,\n"
        "which other jobs on a shared machine barely disturb. tools/bench/ops.sh puts PyTorch beside it.\n");
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    int threads = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--threads" && has_value) {
            threads = std::atoi(argv[++i]);
        } else if (arg == "--seconds" && has_value) {
            o.seconds = std::atof(argv[++i]);
        } else if (arg == "--only" && has_value) {
            o.only = argv[++i];
        } else if (arg == "--tsv") {
            o.tsv = true;
        } else if (arg == "--cpu-time") {
            o.cpu_time = true;
        } else if (arg == "--help" || arg == "-h") {
            usage();
            return 0;
        } else {
            std::fprintf(stderr, "ops_bench: error: unknown argument '%s'; see ops_bench --help\n", arg.c_str());
            return 2;
        }
    }
    set_thread_count(threads);
    if (o.cpu_time && thread_count() != 1) {
        std::fprintf(stderr, "ops_bench: error: --cpu-time measures one thread; add --threads 1\n");
        return 2;
    }
    if (!o.tsv) std::printf("ops_bench: %d threads\n", thread_count());
    conv_cases(o, 28);
    conv_cases(o, 14);
    group_norm_cases(o);
    attention_cases(o, 7);
    attention_cases(o, 14);
    own_kernel_cases(o);
    return 0;
}
