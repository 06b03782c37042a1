// SPDX-License-Identifier: Apache-2.0
// Shared plumbing of the oneDNN layers (nn_*.cpp): execution, layout moves, reductions (internal).
#pragma once

#include <difflab/tensor/autograd.h>
#include <difflab/tensor/tensor.h>

#include <dnnl.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dnnl_context.h"

namespace difflab::nn_detail {

using dnnl_args = std::unordered_map<int, dnnl::memory>;

/// Runs a primitive on the shared stream and waits (callers read results right after).
void execute(const dnnl::primitive& primitive, const dnnl_args& args);

/// A stable text of a memory descriptor (dims, type, strides, blocking): part of cache keys.
std::string text_of(const dnnl::memory::desc& desc);

/// The buffers of the copies an op makes on the way into and out of its primitives (layout
/// and dtype reorders, a blocked output), kept until the op is done. They come from the tensor
/// storage cache (storage_cache.h), so a sampling or training loop reuses the same blocks step
/// after step instead of taking fresh pages from the system for every convolution.
class work_buffers {
public:
    /// `from` itself when it already has `want`'s layout, else a reordered copy (made once
    /// per op: asked again, the same copy).
    dnnl::memory converted(const dnnl::memory& from, const dnnl::memory::desc& want);
    /// Uninitialized memory of `desc`.
    dnnl::memory make(const dnnl::memory::desc& desc);

private:
    struct conversion {
        void* from;
        dnnl::memory::desc from_desc;
        dnnl::memory to;
    };
    std::vector<std::shared_ptr<storage>> kept_;
    std::vector<conversion> conversions_;
};
/// Copies (reorders, converting dtype when they differ) `from` into `to`.
void reorder(const dnnl::memory& from, const dnnl::memory& to);

/// A row-major descriptor of `shape` (a scalar is [1]).
dnnl::memory::desc plain_desc(const shape_t& shape, dtype type);
/// A new dense tensor, channels-last when asked (4-D/5-D only), else row-major.
tensor empty_dense(const shape_t& shape, dtype type, bool channels_last);
/// `t` when it is dense in the asked layout, else a copy in that layout (by a oneDNN reorder).
tensor dense(const tensor& t, bool channels_last);
/// `t` when it is row-major or channels-last; otherwise a row-major copy. Keeps the fast layout.
tensor dense_any(const tensor& t);

/// Sums `t` over the dimensions that broadcasting expanded, giving `shape` (leading dims of
/// `shape` may be missing, size-1 dims are summed): the gradient of a broadcast.
tensor reduce_sum_to(const tensor& t, const shape_t& shape);

/// Whether `t` takes part in a gradient computation.
inline bool wants_grad(const tensor& t) {
    return t.defined() && t.requires_grad();
}
/// Whether an op recording now would attach a backward (recording on and an input needs it).
bool will_record(const std::vector<tensor>& inputs);

/// record() for inputs that may be undefined (an absent bias): those are left out of the node
/// and get no gradient. `backward` returns one gradient per entry of `inputs`, undefined
/// allowed; it runs with recording off.
void record_op(tensor& output, const char* name, const std::vector<tensor>& inputs,
               std::function<std::vector<tensor>(const tensor& grad_output)> backward);

/// Throws difflab::error "error: <op>: <what>" (one line).
[[noreturn]] void fail(const char* op, const std::string& what);

}  // namespace difflab::nn_detail
