// SPDX-License-Identifier: Apache-2.0
// unet_tool: dumps a unet checkpoint with inputs, outputs and gradients for PyTorch, and times it.
//
//   difflab_unet_tool dump OPTIONS_YAML DIR      DIR/step_0.safetensors (a difflab checkpoint) and
//                                                 DIR/io.safetensors (x, noise, labels, out, grad_out,
//                                                 grad/x, grad/<parameter>), resolved options in the metadata
//   difflab_unet_tool bench OPTIONS_YAML BATCH SIZE [REPEATS]
//                                                 forward (eval, no grad) and training step (forward,
//                                                 MSE loss, backward) times in ms
//
// tools/bench/unet_reference.py --check runs `dump` and has PyTorch reproduce the numbers.
#include <difflab/io/checkpoint.h>
#include <difflab/io/safetensors.h>
#include <difflab/plugin/config_node.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

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

int bench(const std::string& yaml, std::int64_t batch, std::int64_t size, int repeats) {
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
    std::vector<double> forward, step;
    net->eval();
    for (int r = 0; r < repeats + 2; ++r) {  // two warm-up calls create the primitives
        const double ms = time_ms([&] {
            no_grad_guard guard;
            (void)net->forward(image, noise, cond);
        });
        if (r >= 2) forward.push_back(ms);
    }
    net->train();
    for (int r = 0; r < repeats + 2; ++r) {
        const double ms = time_ms([&] {
            net->zero_grad();
            const tensor out = net->forward(image, noise, cond);
            mse_loss(out, tensor::zeros(out.shape())).backward();
        });
        if (r >= 2) step.push_back(ms);
    }
    std::cout << fmt::format("{} parameters, batch {} x {} x {} x {}\n", net->parameter_count(), batch,
                             net->input_channels(), size, size);
    std::cout << fmt::format("forward (eval, no grad):        best {:8.1f} ms  median {:8.1f} ms\n",
                             *std::min_element(forward.begin(), forward.end()), median(forward));
    std::cout << fmt::format("training step (fwd + backward): best {:8.1f} ms  median {:8.1f} ms\n",
                             *std::min_element(step.begin(), step.end()), median(step));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::vector<std::string> args(argv + 1, argv + argc);
        if (args.size() == 3 && args[0] == "dump") return dump(args[1], args[2]);
        if ((args.size() == 4 || args.size() == 5) && args[0] == "bench")
            return bench(args[1], std::stoll(args[2]), std::stoll(args[3]), args.size() == 5 ? std::stoi(args[4]) : 5);
        std::cerr << "usage: difflab_unet_tool dump OPTIONS_YAML DIR\n"
                     "       difflab_unet_tool bench OPTIONS_YAML BATCH SIZE [REPEATS]\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}
