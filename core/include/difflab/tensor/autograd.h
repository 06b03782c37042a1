// SPDX-License-Identifier: Apache-2.0
// Reverse-mode automatic differentiation, define-by-run (flashlight/PyTorch style).
#pragma once

#include <difflab/tensor/precision.h>
#include <difflab/tensor/tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace difflab {

/// A recorded operation: the inputs it read and how to turn the gradient of its output into
/// gradients of those inputs. Nodes hold the route to their inputs (a leaf itself, otherwise
/// only its shape and grad_fn, not its data), never their output, so no cycle forms.
/// A node keeps the compute precision (precision.h) its forward ran in, and its backward runs
/// in the same one, wherever backward() is called from.
class grad_node {
public:
    using backward_fn = std::function<std::vector<tensor>(const tensor& grad_output)>;

    grad_node(const char* name, std::vector<tensor> inputs, backward_fn backward)
        : name_(name), inputs_(std::move(inputs)), backward_(std::move(backward)), precision_(compute_precision()) {}

    const char* name() const { return name_; }
    const std::vector<tensor>& inputs() const { return inputs_; }
    /// One gradient per input (undefined where an input needs none).
    std::vector<tensor> backward(const tensor& grad_output) const {
        const precision_scope precision(precision_);
        return backward_(grad_output);
    }

private:
    const char* name_;
    std::vector<tensor> inputs_;
    backward_fn backward_;
    dtype precision_;
};

/// Whether operations are recorded now (false inside a no_grad_guard).
bool grad_enabled();

/// Disables recording in its scope: sampling and evaluation run without a graph.
class no_grad_guard {
public:
    no_grad_guard();
    ~no_grad_guard();
    no_grad_guard(const no_grad_guard&) = delete;
    no_grad_guard& operator=(const no_grad_guard&) = delete;

private:
    bool previous_;
};

/// Enables recording in its scope, inside a no_grad_guard: guidance that differentiates
/// through a classifier or the denoiser in the middle of sampling (Dhariwal & Nichol 2021;
/// Ho et al. 2022) records its own small graph while the sampler records none.
class enable_grad_guard {
public:
    enable_grad_guard();
    ~enable_grad_guard();
    enable_grad_guard(const enable_grad_guard&) = delete;
    enable_grad_guard& operator=(const enable_grad_guard&) = delete;

private:
    bool previous_;
};

/// Attaches `backward` to `output` when recording is on and some input requires grad.
/// Every differentiable op calls this once after computing its output.
void record(tensor& output, const char* name, std::vector<tensor> inputs, grad_node::backward_fn backward);

/// Gradients of `output` (one element, or seeded with `grad_output`) with respect to each of
/// `inputs`, without touching any .grad (torch.autograd.grad): classifier guidance,
/// likelihood and adversarial attacks differentiate with respect to x.
std::vector<tensor> gradients(const tensor& output, const std::vector<tensor>& inputs,
                              const tensor& grad_output = tensor());

}  // namespace difflab
