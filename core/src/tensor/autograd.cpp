// SPDX-License-Identifier: Apache-2.0
// The reverse-mode engine: recording, topological backward pass, gradient accumulation.
#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <fmt/format.h>

#include <unordered_map>
#include <unordered_set>

#include "strided.h"
#include "tensor_impl.h"

namespace difflab {

namespace {

thread_local bool recording = true;

[[noreturn]] void fail(const std::string& what) {
    throw error("" + what);
}

/// a + b for same-shaped gradients, into new dense memory (never aliasing either).
tensor sum_of(const tensor& a, const tensor& b) {
    const dtype type = a.type() == dtype::f32 || b.type() == dtype::f32 ? dtype::f32 : dtype::bf16;
    tensor out = tensor::empty(a.shape(), type);
    const void* pa = a.raw_data();
    const void* pb = b.raw_data();
    void* po = out.raw_data();
    const dtype ta = a.type(), tb = b.type();
    strided::for_each_row<3>(
        out.shape(), {&out.strides(), &a.strides(), &b.strides()},
        [&](const std::array<std::int64_t, 3>& off, std::int64_t count, const std::array<std::int64_t, 3>& step) {
            if (type == dtype::f32 && ta == dtype::f32 && tb == dtype::f32) {
                float* o = static_cast<float*>(po) + off[0];
                const float* x = static_cast<const float*>(pa) + off[1];
                const float* y = static_cast<const float*>(pb) + off[2];
                for (std::int64_t e = 0; e < count; ++e) o[e * step[0]] = x[e * step[1]] + y[e * step[2]];
                return;
            }
            for (std::int64_t e = 0; e < count; ++e)
                strided::store(
                    po, type, off[0] + e * step[0],
                    strided::load(pa, ta, off[1] + e * step[1]) + strided::load(pb, tb, off[2] + e * step[2]));
        });
    return out;
}

/// What a node keeps of an input that another op produced: its shape, dtype and grad_fn,
/// not its storage. The backward pass reaches that input only through its grad_fn; its
/// values, where a backward needs them, are saved by that op's own closure. Holding the
/// storage here would keep every intermediate of the forward pass (the operands of each add,
/// the input of each activation) alive until the backward, as PyTorch's graph does not.
/// Leaves stay as they are: their gradient is accumulated by their identity.
tensor route_of(const tensor& input) {
    tensor shell = tensor_access::make(nullptr, input.shape(), input.strides(), input.offset(), input.type());
    shell.set_grad_fn(input.grad_fn());
    return shell;
}

void accumulate(tensor& slot, const tensor& grad) {
    slot = slot.defined() ? sum_of(slot, grad) : grad;
}

/// Nodes reachable from `root` in an order where every node comes before the nodes of its
/// inputs (reverse post-order of a depth-first walk; iterative, as graphs get deep).
std::vector<grad_node*> topological_order(grad_node* root) {
    std::vector<grad_node*> post;
    std::unordered_set<grad_node*> seen{root};
    std::vector<std::pair<grad_node*, std::size_t>> stack{{root, 0}};
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        const auto& inputs = node->inputs();
        if (next < inputs.size()) {
            const tensor& input = inputs[next++];
            if (!input.defined()) continue;
            grad_node* child = input.grad_fn().get();
            if (child != nullptr && seen.insert(child).second) stack.emplace_back(child, 0);
            continue;
        }
        post.push_back(node);
        stack.pop_back();
    }
    return {post.rbegin(), post.rend()};
}

/// Runs the backward pass from `output` seeded with `seed`. Leaf gradients are accumulated
/// into `leaf_grads` (keyed by the leaf's state); the gradient reaching each node's output
/// is kept in `node_grads` when `keep_node_grads` holds that node.
void run_backward(const tensor& output, const tensor& seed, std::unordered_map<tensor_impl*, tensor>& leaf_grads,
                  std::unordered_map<grad_node*, tensor>& kept, const std::unordered_set<grad_node*>& keep) {
    no_grad_guard guard;  // backward functions compute plain values; no higher-order graphs
    grad_node* root = output.grad_fn().get();
    if (root == nullptr) {
        accumulate(leaf_grads[tensor_access::impl(output)], seed);
        return;
    }
    std::unordered_map<grad_node*, tensor> pending{{root, seed}};
    for (grad_node* node : topological_order(root)) {
        auto found = pending.find(node);
        if (found == pending.end()) continue;
        const tensor grad = std::move(found->second);
        pending.erase(found);
        if (keep.count(node) != 0) accumulate(kept[node], grad);
        const std::vector<tensor> input_grads = node->backward(grad);
        const auto& inputs = node->inputs();
        if (input_grads.size() != inputs.size())
            fail(fmt::format("backward of '{}' returned {} gradients for {} inputs", node->name(), input_grads.size(),
                             inputs.size()));
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            const tensor& input = inputs[i];
            const tensor& input_grad = input_grads[i];
            if (!input.defined() || !input_grad.defined() || !input.requires_grad()) continue;
            if (input_grad.shape() != input.shape())
                fail(fmt::format("backward of '{}' gave input {} a gradient of shape {} for its shape {}", node->name(),
                                 i, shape_text(input_grad.shape()), shape_text(input.shape())));
            if (grad_node* child = input.grad_fn().get())
                accumulate(pending[child], input_grad);
            else
                accumulate(leaf_grads[tensor_access::impl(input)], input_grad);
        }
    }
}

tensor seed_for(const tensor& output, const tensor& grad_output, const char* op) {
    if (!output.defined()) fail(fmt::format("{}: the output tensor is undefined", op));
    if (grad_output.defined()) {
        if (grad_output.shape() != output.shape())
            fail(fmt::format("{}: the given gradient has shape {} but the output has {}", op,
                             shape_text(grad_output.shape()), shape_text(output.shape())));
        return grad_output;
    }
    if (output.numel() != 1)
        fail(
            fmt::format("{}: the output {} has {} elements; backward() without a gradient needs a single value "
                        "(reduce with sum()/mean() first, or pass the output's gradient)",
                        op, shape_text(output.shape()), output.numel()));
    return tensor::ones(output.shape(), output.type());
}

void backward_into_leaves(const tensor& output, const tensor& grad_output) {
    const tensor seed = seed_for(output, grad_output, "backward");
    if (!output.requires_grad())
        fail(
            "backward: the output does not require grad; mark an input with set_requires_grad() and compute it "
            "outside a no_grad_guard");
    std::unordered_map<tensor_impl*, tensor> leaf_grads;
    std::unordered_map<grad_node*, tensor> kept;
    run_backward(output, seed, leaf_grads, kept, {});
    for (auto& [impl, grad] : leaf_grads) {
        if (!impl->requires_grad) continue;
        // A gradient may alias another tensor (a pass-through backward returns its input):
        // .grad gets its own memory so optimizers can update it in place.
        if (impl->grad.defined())
            impl->grad = sum_of(impl->grad, grad);
        else
            impl->grad = grad.is_contiguous() && grad.offset() == 0 && grad.storage_ptr().use_count() == 1
                             ? grad
                             : sum_of(tensor::zeros(grad.shape(), grad.type()), grad);
    }
}

}  // namespace

bool grad_enabled() {
    return recording;
}

no_grad_guard::no_grad_guard() : previous_(recording) {
    recording = false;
}

no_grad_guard::~no_grad_guard() {
    recording = previous_;
}

enable_grad_guard::enable_grad_guard() : previous_(recording) {
    recording = true;
}

enable_grad_guard::~enable_grad_guard() {
    recording = previous_;
}

void record(tensor& output, const char* name, std::vector<tensor> inputs, grad_node::backward_fn backward) {
    if (!recording) return;
    bool any = false;
    for (tensor& input : inputs) {
        if (!input.defined() || !input.requires_grad()) {
            input = tensor();  // the node only routes gradients; do not keep unneeded data alive
            continue;
        }
        any = true;
        if (input.grad_fn() != nullptr) input = route_of(input);
    }
    if (!any) return;
    output.set_grad_fn(std::make_shared<grad_node>(name, std::move(inputs), std::move(backward)));
}

void tensor::backward() const {
    backward_into_leaves(*this, tensor());
}

void tensor::backward(const tensor& grad_output) const {
    backward_into_leaves(*this, grad_output);
}

std::vector<tensor> gradients(const tensor& output, const std::vector<tensor>& inputs, const tensor& grad_output) {
    const tensor seed = seed_for(output, grad_output, "gradients");
    std::unordered_set<grad_node*> keep;
    for (const tensor& input : inputs) {
        if (!input.defined()) fail("gradients: an input tensor is undefined");
        if (grad_node* node = input.grad_fn().get()) keep.insert(node);
    }
    std::unordered_map<tensor_impl*, tensor> leaf_grads;
    std::unordered_map<grad_node*, tensor> kept;
    if (output.requires_grad()) run_backward(output, seed, leaf_grads, kept, keep);
    std::vector<tensor> result;
    result.reserve(inputs.size());
    for (const tensor& input : inputs) {
        tensor grad;
        if (grad_node* node = input.grad_fn().get()) {
            auto it = kept.find(node);
            if (it != kept.end()) grad = it->second;
        } else {
            auto it = leaf_grads.find(tensor_access::impl(input));
            if (it != leaf_grads.end()) grad = it->second;
        }
        // An input the output does not depend on has gradient zero (torch's allow_unused
        // would give None; zeros keep guidance code free of special cases).
        result.push_back(grad.defined() ? grad : tensor::zeros(input.shape(), input.type()));
    }
    return result;
}

}  // namespace difflab
