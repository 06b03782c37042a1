// SPDX-License-Identifier: Apache-2.0
// layer_norm and group_norm on the oneDNN layer normalization and binary primitives.
#include <difflab/nn_ops.h>
#include <fmt/format.h>

#include <vector>

#include "nn_common.h"

namespace difflab {
namespace {

using namespace nn_detail;
using dnnl::memory;

struct ln_forward_entry {
    dnnl::layer_normalization_forward::primitive_desc pd;
    dnnl::layer_normalization_forward primitive;
};
struct ln_backward_entry {
    dnnl::layer_normalization_backward::primitive_desc pd;
    dnnl::layer_normalization_backward primitive;
};

/// Layer normalization of the rows of a [rows, cols] matrix: its descriptors and statistics.
struct ln_rows {
    memory::desc data, stats;
    dnnl::normalization_flags flags;
    float eps;
    std::string key;

    ln_rows(std::int64_t rows, std::int64_t cols, dtype type, dnnl::normalization_flags f, float epsilon)
        : data(plain_desc({rows, cols}, type)), stats(plain_desc({rows}, dtype::f32)), flags(f), eps(epsilon) {
        key = fmt::format("layer_norm|{}|{}|{}", text_of(data), static_cast<unsigned>(flags), eps);
    }

    std::shared_ptr<ln_forward_entry> forward() const {
        return dnnl_glue::cached<ln_forward_entry>(key + "|fwd", [&] {
            dnnl::layer_normalization_forward::desc desc(dnnl::prop_kind::forward_training, data, stats, eps, flags);
            dnnl::layer_normalization_forward::primitive_desc pd(desc, dnnl_glue::engine());
            return ln_forward_entry{pd, dnnl::layer_normalization_forward(pd)};
        });
    }
    std::shared_ptr<ln_backward_entry> backward() const {
        return dnnl_glue::cached<ln_backward_entry>(key + "|bwd", [&] {
            const auto prop =
                flags == dnnl::normalization_flags::none ? dnnl::prop_kind::backward_data : dnnl::prop_kind::backward;
            dnnl::layer_normalization_backward::desc desc(prop, data, data, stats, eps, flags);
            dnnl::layer_normalization_backward::primitive_desc pd(desc, dnnl_glue::engine(), forward()->pd);
            return ln_backward_entry{pd, dnnl::layer_normalization_backward(pd)};
        });
    }
};

memory memory_as(const tensor& t, const memory::desc& desc) {
    return dnnl_glue::memory_of(t, desc);
}

/// dst = src0 (alg) src1, then + add when given, then silu when asked (post-ops of one
/// primitive, so one pass over memory): group norm's per-channel affine and its backward,
/// broadcasting [1, C, 1] operands over [N, C, S].
void binary_run(dnnl::algorithm alg, const memory& src0, const memory& src1, const memory& dst,
                const memory* add = nullptr, bool silu = false) {
    std::string key = fmt::format("binary|{}|{}|{}|{}|{}", static_cast<int>(alg), text_of(src0.get_desc()),
                                  text_of(src1.get_desc()), text_of(dst.get_desc()), silu);
    if (add != nullptr) key += "|add" + text_of(add->get_desc());
    auto primitive = dnnl_glue::cached<dnnl::binary>(key, [&] {
        dnnl::primitive_attr attr;
        dnnl::post_ops ops;
        if (add != nullptr) ops.append_binary(dnnl::algorithm::binary_add, add->get_desc());
        if (silu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f);
        attr.set_post_ops(ops);
        dnnl::binary::desc desc(alg, src0.get_desc(), src1.get_desc(), dst.get_desc());
        return dnnl::binary(dnnl::binary::primitive_desc(desc, attr, dnnl_glue::engine()));
    });
    dnnl_args args{{DNNL_ARG_SRC_0, src0}, {DNNL_ARG_SRC_1, src1}, {DNNL_ARG_DST, dst}};
    if (add != nullptr) args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = *add;
    execute(*primitive, args);
}

struct swish_entry {
    dnnl::eltwise_forward::primitive_desc pd;
    dnnl::eltwise_forward forward;
    dnnl::eltwise_backward backward;
};

/// silu(x) = x * sigmoid(x) is oneDNN's swish with alpha 1.
std::shared_ptr<swish_entry> swish(const memory::desc& data) {
    return dnnl_glue::cached<swish_entry>("swish|" + text_of(data), [&] {
        dnnl::eltwise_forward::primitive_desc pd(
            dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_swish, data, 1.0f),
            dnnl_glue::engine());
        dnnl::eltwise_backward::primitive_desc backward(
            dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_swish, data, data, 1.0f), dnnl_glue::engine(), pd);
        return swish_entry{pd, dnnl::eltwise_forward(pd), dnnl::eltwise_backward(backward)};
    });
}

/// out = normalized * w + b (either optional), then silu when asked; in place allowed.
void channel_affine(const memory& normalized, const tensor& w, const tensor& b, const memory& out, bool silu) {
    const memory::dims dims = normalized.get_desc().dims();
    const auto channel = [&](const tensor& t) { return memory_as(t, plain_desc({1, dims[1], 1}, t.type())); };
    if (w.defined()) {
        const memory shift = b.defined() ? channel(b) : memory();
        binary_run(dnnl::algorithm::binary_mul, normalized, channel(w), out, b.defined() ? &shift : nullptr, silu);
    } else if (b.defined()) {
        binary_run(dnnl::algorithm::binary_add, normalized, channel(b), out, nullptr, silu);
    } else if (silu) {
        execute(swish(normalized.get_desc())->forward, {{DNNL_ARG_SRC, normalized}, {DNNL_ARG_DST, out}});
    } else if (normalized.get_data_handle() != out.get_data_handle()) {
        reorder(normalized, out);
    }
}

/// Scale/shift operands of the layer normalization primitive are f32 whatever the data type.
tensor as_f32(const tensor& t) {
    if (!t.defined()) return t;
    return dense(t.type() == dtype::f32 ? t.detach() : t.detach().to(dtype::f32), false);
}

void check_affine(const char* op, const tensor& t, const char* what, std::int64_t size) {
    if (t.defined() && t.shape() != shape_t{size})
        fail(op, fmt::format("{} must be [{}], got {}", what, size, shape_text(t.shape())));
}

/// The backward of y = normalized * w[c] + b[c] over [N, C, S] f32 in one pass: the per-channel
/// sums giving the weight and bias gradients, and g * w[c] for the normalization's backward.
/// oneDNN takes four passes and two temporaries for this (binary, a reduction that runs on its
/// reference kernel, binary); PyTorch fuses it the same way. Rows are summed in a fixed order,
/// so the result does not depend on the thread count.
void affine_backward(const tensor& g, const tensor& normalized, const tensor& w, const shape_t& nc_s,
                     tensor* grad_normalized, tensor& grad_w, tensor& grad_b) {
    const std::int64_t n = nc_s[0], channels = nc_s[1], spatial = nc_s[2], rows = n * channels;
    const float* gp = g.data<float>();  // read before dp is written at the same index
    const float* xp = normalized.data<float>();
    const float* wp = w.defined() && w.type() == dtype::f32 ? w.data<float>() : nullptr;
    const tensor w32 = w.defined() && wp == nullptr ? w.to(dtype::f32) : tensor();
    if (w32.defined()) wp = w32.data<float>();
    float* dp = grad_normalized != nullptr ? grad_normalized->data<float>() : nullptr;  // may be g itself
    std::vector<double> row_w(static_cast<std::size_t>(rows)), row_b(static_cast<std::size_t>(rows));
#pragma omp parallel for
    for (std::int64_t r = 0; r < rows; ++r) {
        const float scale = wp != nullptr ? wp[r % channels] : 1.0f;
        const float* gr = gp + r * spatial;
        const float* xr = xp + r * spatial;
        float sum_gx = 0.0f, sum_g = 0.0f;
#pragma omp simd reduction(+ : sum_gx, sum_g)
        for (std::int64_t s = 0; s < spatial; ++s) {
            sum_gx += gr[s] * xr[s];
            sum_g += gr[s];
        }
        if (dp != nullptr) {
            float* dr = dp + r * spatial;
#pragma omp simd
            for (std::int64_t s = 0; s < spatial; ++s) dr[s] = gr[s] * scale;
        }
        row_w[static_cast<std::size_t>(r)] = sum_gx;
        row_b[static_cast<std::size_t>(r)] = sum_g;
    }
    for (tensor* out : {&grad_w, &grad_b}) {
        if (!out->defined()) continue;
        const std::vector<double>& sums = out == &grad_w ? row_w : row_b;
        float* o = out->data<float>();
        for (std::int64_t c = 0; c < channels; ++c) {
            double total = 0;
            for (std::int64_t i = 0; i < n; ++i) total += sums[static_cast<std::size_t>(i * channels + c)];
            o[c] = static_cast<float>(total);
        }
    }
}

}  // namespace

tensor layer_norm(const tensor& x, const tensor& weight, const tensor& bias, float eps) {
    const char* op = "layer_norm";
    if (!x.defined() || x.dim() < 1) fail(op, "input must be a tensor with at least one dimension");
    const std::int64_t cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
    check_affine(op, weight, "weight", cols);
    check_affine(op, bias, "bias", cols);
    auto flags = dnnl::normalization_flags::none;
    if (weight.defined()) flags |= dnnl::normalization_flags::use_scale;
    if (bias.defined()) flags |= dnnl::normalization_flags::use_shift;
    const ln_rows ln(rows, cols, x.type(), flags, eps);
    const tensor xd = dense(x.detach(), false);
    const tensor scale = as_f32(weight), shift = as_f32(bias);
    const tensor mean = tensor::empty({rows}), variance = tensor::empty({rows});
    tensor out = tensor::empty(x.shape(), x.type());
    if (out.numel() == 0) return out;
    dnnl_glue::checked(op, {x, weight, bias}, [&] {
        auto entry = ln.forward();
        dnnl_args args{{DNNL_ARG_SRC, memory_as(xd, ln.data)},
                       {DNNL_ARG_DST, memory_as(out, ln.data)},
                       {DNNL_ARG_MEAN, memory_as(mean, ln.stats)},
                       {DNNL_ARG_VARIANCE, memory_as(variance, ln.stats)}};
        if (scale.defined()) args[DNNL_ARG_SCALE] = dnnl_glue::memory_of(scale);
        if (shift.defined()) args[DNNL_ARG_SHIFT] = dnnl_glue::memory_of(shift);
        execute(entry->primitive, args);
    });
    record_op(out, op, {x, weight, bias}, [=](const tensor& grad_output) {
        tensor grad_x = tensor::empty(x.shape(), x.type());
        tensor grad_w = scale.defined() ? tensor::empty({cols}) : tensor();
        tensor grad_b = shift.defined() ? tensor::empty({cols}) : tensor();
        const tensor g = dense(grad_output, false);
        dnnl_glue::checked(op, {grad_output, x, weight, bias}, [&] {
            auto entry = ln.backward();
            dnnl_args args{{DNNL_ARG_SRC, memory_as(xd, ln.data)},
                           {DNNL_ARG_DIFF_DST, memory_as(g, ln.data)},
                           {DNNL_ARG_MEAN, memory_as(mean, ln.stats)},
                           {DNNL_ARG_VARIANCE, memory_as(variance, ln.stats)},
                           {DNNL_ARG_DIFF_SRC, memory_as(grad_x, ln.data)}};
            if (scale.defined()) {
                args[DNNL_ARG_SCALE] = dnnl_glue::memory_of(scale);
                args[DNNL_ARG_DIFF_SCALE] = dnnl_glue::memory_of(grad_w);
            }
            if (shift.defined()) {
                args[DNNL_ARG_SHIFT] = dnnl_glue::memory_of(shift);
                args[DNNL_ARG_DIFF_SHIFT] = dnnl_glue::memory_of(grad_b);
            }
            execute(entry->primitive, args);
        });
        if (grad_w.defined() && weight.type() != dtype::f32) grad_w = grad_w.to(weight.type());
        if (grad_b.defined() && bias.type() != dtype::f32) grad_b = grad_b.to(bias.type());
        return std::vector<tensor>{grad_x, grad_w, grad_b};
    });
    return out;
}

namespace {

tensor group_norm_impl(const char* op, const tensor& x, std::int64_t groups, const tensor& weight, const tensor& bias,
                       float eps, bool silu) {
    if (!x.defined() || x.dim() < 2) fail(op, "input must be [N, C, ...] with at least two dimensions");
    const std::int64_t n = x.size(0), channels = x.size(1);
    if (groups < 1 || channels % groups != 0)
        fail(op, fmt::format("{} channels do not split into {} groups; pick groups dividing the channel count",
                             channels, groups));
    check_affine(op, weight, "weight", channels);
    check_affine(op, bias, "bias", channels);
    const std::int64_t spatial = channels == 0 || n == 0 ? 0 : x.numel() / (n * channels);
    const bool channels_last = !x.is_contiguous() && x.is_channels_last();
    const bool training = will_record({x, weight, bias});

    // (N, G, C/G * S) rows of a row-major copy: group statistics are row statistics.
    const ln_rows ln(n * groups, channels / groups * spatial, x.type(), dnnl::normalization_flags::none, eps);
    const shape_t nc_s{n, channels, spatial};
    const memory::desc nc_s_desc = plain_desc(nc_s, x.type());
    const tensor xd = dense(x.detach(), false);
    const tensor w = weight.defined() ? dense(weight.detach(), false) : tensor();
    const tensor b = bias.defined() ? dense(bias.detach(), false) : tensor();
    const tensor mean = tensor::empty({n * groups}), variance = tensor::empty({n * groups});
    tensor out = tensor::empty(x.shape(), x.type());
    // The affine runs in place in inference; training keeps the normalized values for backward.
    const tensor normalized = training && (w.defined() || silu) ? tensor::empty(x.shape(), x.type()) : out;
    if (out.numel() == 0) return out;
    dnnl_glue::checked(op, {x, weight, bias}, [&] {
        auto entry = ln.forward();
        execute(entry->primitive, {{DNNL_ARG_SRC, memory_as(xd, ln.data)},
                                   {DNNL_ARG_DST, memory_as(normalized, ln.data)},
                                   {DNNL_ARG_MEAN, memory_as(mean, ln.stats)},
                                   {DNNL_ARG_VARIANCE, memory_as(variance, ln.stats)}});
        channel_affine(memory_as(normalized, nc_s_desc), w, b, memory_as(out, nc_s_desc), silu);
    });
    if (channels_last) out = dense(out, true);
    record_op(out, op, {x, weight, bias}, [=](const tensor& grad_output) {
        tensor g = dense(grad_output, false);
        tensor grad_x = tensor::empty(x.shape(), x.type()), grad_w, grad_b;
        dnnl_glue::checked(op, {grad_output, x, weight, bias}, [&] {
            bool own_g = false;  // g is a temporary of ours: later steps may overwrite it
            if (silu) {          // through the activation first, at the recomputed pre-activation
                const tensor pre = tensor::empty(nc_s, x.type());
                const memory pre_memory = memory_as(pre, nc_s_desc);
                channel_affine(memory_as(normalized, nc_s_desc), w, b, pre_memory, false);
                // In place (diff_src over src), saving a buffer whose page faults rival the
                // math here. oneDNN documents in-place only over diff_dst, but its elementwise
                // kernels read each src element before writing it; the gradient tests of
                // group_norm_silu (PyTorch parity, finite differences) guard this.
                execute(swish(nc_s_desc)->backward, {{DNNL_ARG_SRC, pre_memory},
                                                     {DNNL_ARG_DIFF_DST, memory_as(g, nc_s_desc)},
                                                     {DNNL_ARG_DIFF_SRC, pre_memory}});
                g = pre;
                own_g = true;
            }
            tensor diff_normalized = g;
            if (x.type() == dtype::f32) {
                if (w.defined() && wants_grad(x) && !own_g) diff_normalized = tensor::empty(nc_s, dtype::f32);
                if (wants_grad(weight)) grad_w = tensor::empty({channels});
                if (wants_grad(bias)) grad_b = tensor::empty({channels});
                affine_backward(g, normalized, w, nc_s, w.defined() && wants_grad(x) ? &diff_normalized : nullptr,
                                grad_w, grad_b);
            } else {  // bf16: oneDNN binary and reductions (the fused loop above is f32)
                const memory g_memory = memory_as(g, nc_s_desc);
                if (wants_grad(weight)) {
                    tensor product = tensor::empty(nc_s, x.type());
                    binary_run(dnnl::algorithm::binary_mul, g_memory, memory_as(normalized, nc_s_desc),
                               memory_as(product, nc_s_desc));
                    grad_w = reduce_sum_to(product, {channels, 1}).view({channels});
                }
                if (wants_grad(bias)) grad_b = reduce_sum_to(g.view(nc_s), {channels, 1}).view({channels});
                if (w.defined() && wants_grad(x)) {
                    diff_normalized = tensor::empty(nc_s, x.type());
                    binary_run(dnnl::algorithm::binary_mul, g_memory,
                               memory_as(w, plain_desc({1, channels, 1}, w.type())),
                               memory_as(diff_normalized, nc_s_desc));
                }
            }
            if (!wants_grad(x)) return;
            auto entry = ln.backward();
            execute(entry->primitive, {{DNNL_ARG_SRC, memory_as(xd, ln.data)},
                                       {DNNL_ARG_DIFF_DST, memory_as(diff_normalized, ln.data)},
                                       {DNNL_ARG_MEAN, memory_as(mean, ln.stats)},
                                       {DNNL_ARG_VARIANCE, memory_as(variance, ln.stats)},
                                       {DNNL_ARG_DIFF_SRC, memory_as(grad_x, ln.data)}});
        });
        if (channels_last) grad_x = dense(grad_x, true);
        if (grad_w.defined() && grad_w.type() != weight.type()) grad_w = grad_w.to(weight.type());
        if (grad_b.defined() && grad_b.type() != bias.type()) grad_b = grad_b.to(bias.type());
        return std::vector<tensor>{wants_grad(x) ? grad_x : tensor(), grad_w, grad_b};
    });
    return out;
}

}  // namespace

tensor group_norm(const tensor& x, std::int64_t groups, const tensor& weight, const tensor& bias, float eps) {
    return group_norm_impl("group_norm", x, groups, weight, bias, eps, false);
}

tensor group_norm_silu(const tensor& x, std::int64_t groups, const tensor& weight, const tensor& bias, float eps) {
    return group_norm_impl("group_norm_silu", x, groups, weight, bias, eps, true);
}

}  // namespace difflab
