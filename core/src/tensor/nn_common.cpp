// SPDX-License-Identifier: Apache-2.0
// Shared plumbing of the oneDNN layers: execution, reorders, broadcast-gradient reductions.
#include "nn_common.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>

#include "nn_matmul.h"

namespace difflab::nn_detail {

using dnnl::memory;

void execute(const dnnl::primitive& primitive, const dnnl_args& args) {
    primitive.execute(dnnl_glue::stream(), args);
    dnnl_glue::stream().wait();
}

std::string text_of(const memory::desc& desc) {
    const dnnl_memory_desc_t& d = desc.data;
    std::string text = fmt::format("t{}[", static_cast<int>(d.data_type));
    for (int i = 0; i < d.ndims; ++i) text += fmt::format("{},", d.dims[i]);
    text += fmt::format("]k{}o{}", static_cast<int>(d.format_kind), d.offset0);
    if (d.format_kind == dnnl_blocked) {
        const auto& b = d.format_desc.blocking;
        text += "s";
        for (int i = 0; i < d.ndims; ++i) text += fmt::format("{},", b.strides[i]);
        text += "b";
        for (int i = 0; i < b.inner_nblks; ++i) text += fmt::format("{}:{},", b.inner_idxs[i], b.inner_blks[i]);
    }
    return text;
}

void reorder(const memory& from, const memory& to) {
    const std::string key = "reorder|" + text_of(from.get_desc()) + "|" + text_of(to.get_desc());
    auto primitive = dnnl_glue::cached<dnnl::reorder>(key, [&] { return dnnl::reorder(from, to); });
    execute(*primitive, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
}

memory work_buffers::converted(const memory& from, const memory::desc& want) {
    if (from.get_desc() == want) return from;
    for (const conversion& done : conversions_)
        if (done.from == from.get_data_handle() && done.from_desc == from.get_desc() && done.to.get_desc() == want)
            return done.to;
    memory to = make(want);
    reorder(from, to);
    conversions_.push_back({from.get_data_handle(), from.get_desc(), to});
    return to;
}

memory work_buffers::make(const memory::desc& desc) {
    kept_.push_back(std::make_shared<storage>(std::max<std::size_t>(desc.get_size(), 1)));
    return memory(desc, dnnl_glue::engine(), kept_.back()->data());
}

memory::desc plain_desc(const shape_t& shape, dtype type) {
    memory::dims dims(shape.begin(), shape.end());
    memory::dims strides(dims.size(), 1);
    for (std::size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
    if (dims.empty()) {
        dims = {1};
        strides = {1};
    }
    return memory::desc(dims, dnnl_glue::data_type_of(type), strides);
}

tensor empty_dense(const shape_t& shape, dtype type, bool channels_last) {
    if (channels_last && (shape.size() == 4 || shape.size() == 5)) return tensor::empty_channels_last(shape, type);
    return tensor::empty(shape, type);
}

tensor dense(const tensor& t, bool channels_last) {
    const bool cl = channels_last && (t.dim() == 4 || t.dim() == 5);
    if (cl ? t.is_channels_last() : t.is_contiguous()) return t;
    tensor out = empty_dense(t.shape(), t.type(), cl);
    if (t.numel() == 0) return out;
    dnnl_glue::checked("reorder", {t}, [&] { reorder(dnnl_glue::memory_of(t), dnnl_glue::memory_of(out)); });
    return out;
}

tensor dense_any(const tensor& t) {
    if (t.is_contiguous() || t.is_channels_last()) return t;
    return dense(t, false);
}

tensor reduce_sum_to(const tensor& t, const shape_t& shape) {
    if (t.shape() == shape) return t;
    const std::int64_t rank = t.dim();
    if (static_cast<std::int64_t>(shape.size()) > rank)
        fail("reduce_sum_to", fmt::format("cannot sum {} down to {}", shape_text(t.shape()), shape_text(shape)));
    shape_t padded(static_cast<std::size_t>(rank - static_cast<std::int64_t>(shape.size())), 1);
    padded.insert(padded.end(), shape.begin(), shape.end());
    bool reduces = false;
    for (std::int64_t d = 0; d < rank; ++d) {
        const auto i = static_cast<std::size_t>(d);
        if (padded[i] != t.shape()[i] && padded[i] != 1)
            fail("reduce_sum_to", fmt::format("cannot sum {} down to {}", shape_text(t.shape()), shape_text(shape)));
        reduces = reduces || padded[i] != t.shape()[i];
    }
    if (!reduces || t.numel() == 0) return reduces ? tensor::zeros(shape, t.type()) : dense(t, false).view(shape);
    // Each run of summed dims is a product with a ones vector: oneDNN 2.6 runs its reduction
    // primitive on the reference kernel here (58 ms for [64, 64, 784] -> [64]), gemm is fast.
    tensor current = dense(t, false);
    shape_t dims = t.shape();
    for (;;) {
        std::int64_t last = rank - 1;
        while (last >= 0 && !(padded[static_cast<std::size_t>(last)] == 1 && dims[static_cast<std::size_t>(last)] != 1))
            --last;
        if (last < 0) break;
        std::int64_t first = last;
        while (first > 0 && padded[static_cast<std::size_t>(first - 1)] == 1) --first;
        std::int64_t before = 1, summed = 1, after = 1;
        for (std::int64_t d = 0; d < rank; ++d) {
            const std::int64_t size = dims[static_cast<std::size_t>(d)];
            (d < first ? before : d <= last ? summed : after) *= size;
        }
        tensor result;
        if (after == 1)
            result = matmul_raw(current.view({before, summed}), tensor::ones({summed, 1}, t.type()));
        else if (before == 1)
            result = matmul_raw(tensor::ones({1, summed}, t.type()), current.view({summed, after}));
        else
            result = matmul_raw(tensor::ones({1, summed}, t.type()), current.view({before, summed, after}));
        for (std::int64_t d = first; d <= last; ++d) dims[static_cast<std::size_t>(d)] = 1;
        current = result.view(dims);
    }
    return current.view(shape);
}

bool will_record(const std::vector<tensor>& inputs) {
    if (!grad_enabled()) return false;
    for (const tensor& t : inputs)
        if (wants_grad(t)) return true;
    return false;
}

void record_op(tensor& output, const char* name, const std::vector<tensor>& inputs,
               std::function<std::vector<tensor>(const tensor& grad_output)> backward) {
    if (!will_record(inputs)) return;
    std::vector<std::size_t> present_index;
    std::vector<tensor> present;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) continue;
        present_index.push_back(i);
        present.push_back(inputs[i]);
    }
    record(output, name, std::move(present),
           [backward = std::move(backward), present_index](const tensor& grad_output) {
               no_grad_guard guard;
               std::vector<tensor> all = backward(grad_output);
               std::vector<tensor> grads;
               grads.reserve(present_index.size());
               for (std::size_t i : present_index) grads.push_back(i < all.size() ? all[i] : tensor());
               return grads;
           });
}

void fail(const char* op, const std::string& what) {
    throw error(fmt::format("{}: {}", op, what));
}

}  // namespace difflab::nn_detail
