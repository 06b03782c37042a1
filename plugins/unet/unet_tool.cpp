// SPDX-License-Identifier: Apache-2.0
// unet_tool: dumps a unet checkpoint with inputs, outputs and gradients for PyTorch, and times it.
//
//   difflab_unet_tool dump OPTIONS_YAML DIR      DIR/step_0.safetensors (a difflab checkpoint) and
//                                                 DIR/io.safetensors (x, noise, labels, out, grad_out,
//                                                 grad/x, grad/<parameter>), resolved options in the metadata
//   difflab_unet_tool bench OPTIONS_YAML BATCH SIZE [REPEATS] [--precision fp32|bf16] [--train-repeats N]
//                                                 forward (eval, no grad) and training step (forward,
//                                                 MSE loss, backward) times in ms, best and median of
//                                                 REPEATS (default 5; the training step: N, default
//                                                 REPEATS, 0 for none) after 2 warm-ups, and each
//                                                 phase's peak resident memory in MiB (VmHWM, reset
//                                                 before the phase); --precision bf16 runs both
//                                                 phases under precision_scope(dtype::bf16)
//
// tools/bench/unet_reference.py --check runs `dump` and has PyTorch reproduce the numbers.
#include <difflab/io/checkpoint.h>
#include <difflab/io/safetensors.h>
#include <difflab/plugin/config_node.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/precision.h>
#include <difflab/tensor/random.h>
#include <difflab/tensor/storage_cache.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "unet.h"

namespace {

using namespace difflab;
using difflab::plugins::unet;

std::unique_ptr<unet> build(const std::string& yaml) {
    static registry components;
    build_context ctx(components, 0);
    return std::make_unique<unet>(unet::params().parse(parse_yaml(yaml, "command line"), parse_context()), ctx);
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The condition of an input x [N, in_channels + extra_in_channels, H, W] as PyTorch's twin
/// reads it whole: `labels`, and x's channels after in_channels as the condition channels.
condition condition_of(const unet& net, const tensor& x, const tensor& labels) {
    condition cond = condition::from_labels(labels);
    if (net.config().extra_in_channels > 0) cond.channels = x.slice(1, net.config().in_channels, x.size(1));
    return cond;
}

/// Every zero-initialized parameter gets random values and the norms a random affine, so
/// that a comparison exercises every weight.
void randomize(unet& net) {
    no_grad_guard guard;
    std::uint64_t index = 0;
    for (auto& [name, p] : net.named_parameters()) {
        const tensor z = randn(p.shape(), 7, random_purpose("unet_tool.randomize"), index++ * 100000);
        const bool norm = name.find("norm.") != std::string::npos;
        if (norm && ends_with(name, ".weight")) {
            p.copy_(z * 0.1f + 1.0f);
        } else if (norm) {
            p.copy_(z * 0.1f);
        } else if (p.to_vector() == std::vector<float>(static_cast<std::size_t>(p.numel()), 0.0f)) {
            const double fan_in = p.dim() >= 2 ? static_cast<double>(p.numel() / p.size(0)) : 100.0;
            p.copy_(z * static_cast<float>(1.0 / std::sqrt(fan_in)));
        }
    }
}

int dump(const std::string& yaml, const std::filesystem::path& dir) {
    std::unique_ptr<unet> net = build(yaml);
    randomize(*net);
    net->eval();
    const std::int64_t n = 3, size = net->config().image_size;
    const tensor x =
        randn({n, net->input_channels(), size, size}, 11, random_purpose("unet_tool.x")).set_requires_grad(true);
    const tensor noise = tensor::from_vector({n}, {0.02f, 0.5f, 0.97f});
    const std::int64_t classes = net->config().num_classes;
    // The last label is the null class: classifier-free guidance's unconditional branch.
    const tensor labels =
        classes > 0 ? tensor::from_vector({n}, {0.0f, static_cast<float>(classes - 1), static_cast<float>(classes)})
                    : tensor();
    const tensor out = net->forward(x.slice(1, 0, net->config().in_channels), noise, condition_of(*net, x, labels));
    const tensor grad_out = randn(out.shape(), 13, random_purpose("unet_tool.grad_out"));
    out.backward(grad_out);

    checkpoint weights;
    weights.model = net->state_dict();
    save_checkpoint(dir, weights);

    safetensors_file io;
    io.metadata["options"] = to_yaml(unet::params().emit(net->config()));  // resolved: every key
    io.add(to_safetensors("x", x.detach()));
    io.add(to_safetensors("noise", noise));
    if (labels.defined()) io.add(to_safetensors("labels", labels));
    io.add(to_safetensors("out", out.detach()));
    io.add(to_safetensors("grad_out", grad_out));
    io.add(to_safetensors("grad/x", x.grad()));
    for (const auto& [name, p] : net->named_parameters())
        if (p.grad().defined()) io.add(to_safetensors("grad/" + name, p.grad()));
    write_safetensors(dir / "io.safetensors", io);
    std::cout << fmt::format("wrote {} ({} parameters) and {}\n", (dir / "step_0.safetensors").string(),
                             net->parameter_count(), (dir / "io.safetensors").string());
    return 0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// A field of /proc/self/status in MiB ("VmHWM", "VmRSS"; the kernel writes kB), if there is one.
std::optional<double> status_mib(const std::string& field) {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.compare(0, field.size() + 1, field + ":") != 0) continue;
        std::istringstream value(line.substr(field.size() + 1));
        double kb = 0;
        if (value >> kb) return kb / 1024.0;
    }
    return std::nullopt;
}

/// The resident memory of one phase: `start` after the reset, `peak` the high-water mark at its
/// end (none where the kernel's mark could not be reset: it would not be the phase's own).
struct phase_memory {
    std::optional<double> start, peak;
};

/// Runs fn as a phase of its own for memory: the storage cache's blocks go back to glibc and
/// glibc's free memory to the kernel first (malloc_trim), so that the phase starts from what is
/// in use, not from what an earlier phase kept; then "5" in /proc/self/clear_refs resets the
/// kernel's high-water mark VmHWM to the current resident size (Linux 4.0 and later).
/// tools/bench/unet_torch_variants.py measures PyTorch the same way.
template <typename Fn>
phase_memory measure_memory(Fn&& fn) {
    release_storage_cache();
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5";
    clear_refs.close();
    const bool reset = !clear_refs.fail();
    phase_memory memory;
    memory.start = status_mib("VmRSS");
    fn();
    if (reset) memory.peak = status_mib("VmHWM");
    return memory;
}

std::string format_memory(const phase_memory& memory) {
    if (!memory.peak) return "peak n/a (VmHWM could not be reset)";
    return fmt::format("peak {:8.1f} MiB  start {:8.1f} MiB", *memory.peak, memory.start.value_or(0.0));
}

int bench(const std::string& yaml, std::int64_t batch, std::int64_t size, int repeats, int train_repeats,
          dtype precision) {
    std::unique_ptr<unet> net = build(yaml);
    const tensor x = randn({batch, net->input_channels(), size, size}, 1, random_purpose("bench.x"));
    const tensor noise = rand({batch}, 2, random_purpose("bench.t"));
    const tensor labels = net->config().num_classes > 0 ? tensor::full({batch}, 0.0f) : tensor();
    const tensor image = x.slice(1, 0, net->config().in_channels).contiguous();
    const condition cond = condition_of(*net, x, labels);
    const auto time_ms = [](auto&& fn) {
        const auto start = std::chrono::steady_clock::now();
        fn();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    };
    // Both phases, the training step's backward included, in the precision asked for.
    const precision_scope scope(precision);
    std::vector<double> forward, step;
    net->eval();
    const phase_memory forward_memory = measure_memory([&] {
        for (int r = 0; r < repeats + 2; ++r) {  // two warm-up calls create the primitives
            const double ms = time_ms([&] {
                no_grad_guard guard;
                (void)net->forward(image, noise, cond);
            });
            if (r >= 2) forward.push_back(ms);
        }
    });
    net->train();
    phase_memory step_memory;
    if (train_repeats > 0) {
        step_memory = measure_memory([&] {
            for (int r = 0; r < train_repeats + 2; ++r) {
                const double ms = time_ms([&] {
                    net->zero_grad();
                    const tensor out = net->forward(image, noise, cond);
                    mse_loss(out, tensor::zeros(out.shape())).backward();
                });
                if (r >= 2) step.push_back(ms);
            }
        });
    }
    std::cout << fmt::format("{} parameters, batch {} x {} x {} x {}, precision {}\n", net->parameter_count(), batch,
                             net->input_channels(), size, size, precision == dtype::bf16 ? "bf16" : "fp32");
    std::cout << fmt::format("forward (eval, no grad):        best {:8.1f} ms  median {:8.1f} ms  {}\n",
                             *std::min_element(forward.begin(), forward.end()), median(forward),
                             format_memory(forward_memory));
    if (!step.empty())
        std::cout << fmt::format("training step (fwd + backward): best {:8.1f} ms  median {:8.1f} ms  {}\n",
                                 *std::min_element(step.begin(), step.end()), median(step), format_memory(step_memory));
    return 0;
}

/// bench's arguments after SIZE: [REPEATS] [--precision fp32|bf16] [--train-repeats N].
int bench_command(const std::vector<std::string>& args) {
    int repeats = 5;
    std::optional<int> train_repeats;
    dtype precision = dtype::f32;
    bool repeats_given = false;
    for (std::size_t i = 4; i < args.size(); ++i) {
        if (args[i] == "--precision" && i + 1 < args.size()) {
            precision = parse_precision(args[++i]);
        } else if (args[i] == "--train-repeats" && i + 1 < args.size()) {
            train_repeats = std::stoi(args[++i]);
        } else if (!repeats_given && args[i].rfind("--", 0) != 0) {
            repeats = std::stoi(args[i]);
            repeats_given = true;
        } else {
            throw std::invalid_argument("bench: unexpected argument '" + args[i] + "'");
        }
    }
    if (repeats < 1 || train_repeats.value_or(0) < 0)
        throw std::invalid_argument("bench: REPEATS must be at least 1 and --train-repeats at least 0");
    return bench(args[1], std::stoll(args[2]), std::stoll(args[3]), repeats, train_repeats.value_or(repeats),
                 precision);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::vector<std::string> args(argv + 1, argv + argc);
        if (args.size() == 3 && args[0] == "dump") return dump(args[1], args[2]);
        if (args.size() >= 4 && args[0] == "bench") return bench_command(args);
        std::cerr << "usage: difflab_unet_tool dump OPTIONS_YAML DIR\n"
                     "       difflab_unet_tool bench OPTIONS_YAML BATCH SIZE [REPEATS] [--precision fp32|bf16] "
                     "[--train-repeats N]\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}
