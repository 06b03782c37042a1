// SPDX-License-Identifier: Apache-2.0
// The state behind a tensor handle, and access to it for the engine's own sources (internal).
#pragma once

#include <difflab/tensor/autograd.h>
#include <difflab/tensor/tensor.h>

#include <memory>

namespace difflab {

struct tensor_impl {
    std::shared_ptr<storage> store;
    shape_t shape;
    shape_t strides;
    std::int64_t offset = 0;
    dtype type = dtype::f32;
    bool requires_grad = false;  // set on leaves only; results of ops have grad_fn instead
    tensor grad;
    std::shared_ptr<grad_node> grad_fn;
};

/// Builds tensors over existing storage and reaches their state (engine sources only).
struct tensor_access {
    static tensor make(std::shared_ptr<storage> store, shape_t shape, shape_t strides, std::int64_t offset,
                       dtype type) {
        auto impl = std::make_shared<tensor_impl>();
        impl->store = std::move(store);
        impl->shape = std::move(shape);
        impl->strides = std::move(strides);
        impl->offset = offset;
        impl->type = type;
        return tensor(std::move(impl));
    }
    /// A tensor viewing `t`'s storage with other sizes and strides (no autograd record).
    static tensor as_strided(const tensor& t, shape_t shape, shape_t strides, std::int64_t offset) {
        return make(t.impl_->store, std::move(shape), std::move(strides), offset, t.impl_->type);
    }
    static tensor_impl* impl(const tensor& t) { return t.impl_.get(); }
};

/// Row-major strides of `shape`.
shape_t contiguous_strides(const shape_t& shape);

}  // namespace difflab
