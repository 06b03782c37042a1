// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the ops.h sources: dense layouts, broadcasting, oneDNN execution.
#include "ops_common.h"

#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include "tensor_impl.h"

namespace difflab::ops_detail {

void fail(const char* op, const std::string& what) {
    throw error(fmt::format("{}: {}", op, what));
}

void execute(const dnnl::primitive& primitive, const std::unordered_map<int, dnnl::memory>& args) {
    primitive.execute(dnnl_glue::stream(), args);
    dnnl_glue::stream().wait();
}

bool is_dense(const tensor& t) {
    return t.is_contiguous() || t.is_channels_last();
}

tensor dense(const tensor& t) {
    if (is_dense(t)) return t;
    no_grad_guard guard;
    return t.contiguous();
}

tensor empty_like(const tensor& like, dtype type) {
    if (!is_dense(like)) return tensor::empty(like.shape(), type);
    auto store = std::make_shared<storage>(static_cast<std::size_t>(like.numel()) * dtype_size(type));
    return tensor_access::make(std::move(store), like.shape(), like.strides(), 0, type);
}

tensor in_layout_of(const tensor& t, const tensor& like) {
    if (t.strides() == like.strides() && t.type() == like.type()) return t;
    tensor out = empty_like(like, like.type());
    out.copy_(t);
    return out;
}

shape_t broadcast_shapes(const shape_t& a, const shape_t& b, const char* op) {
    const std::size_t dims = std::max(a.size(), b.size());
    shape_t out(dims);
    for (std::size_t i = 0; i < dims; ++i) {
        const std::int64_t x = i < dims - a.size() ? 1 : a[i - (dims - a.size())];
        const std::int64_t y = i < dims - b.size() ? 1 : b[i - (dims - b.size())];
        if (x != y && x != 1 && y != 1)
            fail(op, fmt::format("shapes {} and {} do not broadcast (dimension {}: {} vs {})", shape_text(a),
                                 shape_text(b), i, x, y));
        out[i] = x == 1 ? y : x;
    }
    return out;
}

tensor sum_to(const tensor& grad, const shape_t& shape) {
    if (grad.shape() == shape) return grad;
    const std::size_t lead = grad.dim() - shape.size();
    std::vector<std::int64_t> dims;
    for (std::size_t d = 0; d < static_cast<std::size_t>(grad.dim()); ++d)
        if (d < lead || (shape[d - lead] == 1 && grad.shape()[d] != 1)) dims.push_back(static_cast<std::int64_t>(d));
    tensor reduced = dims.empty() ? grad : sum(grad, dims, true);
    return reduced.reshape(shape);
}

std::int64_t wrap_dim(std::int64_t d, std::int64_t dims, const char* op) {
    const std::int64_t wrapped = d < 0 ? d + dims : d;
    if (wrapped < 0 || wrapped >= dims)
        fail(op, fmt::format("dimension {} is out of range for a {}-D tensor", d, dims));
    return wrapped;
}

}  // namespace difflab::ops_detail
