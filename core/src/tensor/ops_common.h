// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the ops.h sources: dense layouts, broadcasting, oneDNN execution (internal).
#pragma once

#include <difflab/tensor/tensor.h>

#include <dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "dnnl_context.h"

namespace difflab::ops_detail {

/// Throws difflab::error "error: <op>: <what>".
[[noreturn]] void fail(const char* op, const std::string& what);

/// Runs a primitive on the shared stream and waits for it.
void execute(const dnnl::primitive& primitive, const std::unordered_map<int, dnnl::memory>& args);

/// Whether `t` covers its memory densely (row-major or channels-last), as oneDNN kernels want.
bool is_dense(const tensor& t);
/// `t` when dense, else a row-major copy (not recorded: callers record the op on `t`).
tensor dense(const tensor& t);
/// A new uninitialized tensor with `like`'s shape and (dense) strides, of dtype `type`.
tensor empty_like(const tensor& like, dtype type);
/// `t` copied into `like`'s dense layout when its strides differ (gradients reaching a
/// channels-last op in row-major order, say).
tensor in_layout_of(const tensor& t, const tensor& like);

/// The NumPy broadcast of two shapes; names the op in the error.
shape_t broadcast_shapes(const shape_t& a, const shape_t& b, const char* op);
/// The gradient of a broadcast: `grad` summed down to `shape`.
tensor sum_to(const tensor& grad, const shape_t& shape);
/// Dimension d wrapped into [0, dims).
std::int64_t wrap_dim(std::int64_t d, std::int64_t dims, const char* op);

}  // namespace difflab::ops_detail
