// SPDX-License-Identifier: Apache-2.0
// layer_norm and group_norm: oneDNN layer normalization and binary primitives, own loops on channels-last.
#include <difflab/tensor/nn_ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "nn_common.h"
#include "vector_clones.h"

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

// --- group norm read and written in channels-last memory -----------------------------------
// oneDNN's layer normalization needs the (N, G, C/G * S) rows of row-major memory, so a
// channels-last input took a reorder in and out, in forward and in backward: in the tiny
// U-Net that cost more than the normalization. These loops read the (N, S, C) memory as it
// is: statistics accumulate per channel along each spatial row (the channels are the
// contiguous, vectorized dimension), then combine into groups.

std::int32_t bits_of(float value) {
    std::int32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}
float float_of(std::int32_t bits) {
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

/// e^-a for a in [0, 87]: a = n ln2 + r, |r| <= ln2 / 2, e^r by Cephes expf's degree-5
/// minimax polynomial, 2^n built in the exponent bits; within 1e-7 relative of exp. Written
/// out because GCC vectorizes std::exp only under -ffast-math (glibc's vector math library).
inline float exp_negative(float a) {
    const float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer, kept in the low bits
    const float t = -a * 1.44269504088896341f + magic;
    const float n = t - magic;
    const float r = (-a - n * 0.693359375f) - n * -2.12194440e-4f;  // ln2 in two parts: n * hi is exact
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const std::int32_t exponent = bits_of(t) - bits_of(magic) + 127;  // in [1, 127]
    return (p * r * r + r + 1.0f) * float_of(exponent * (1 << 23));
}

/// 1 / (1 + e^-y) within 2e-7 relative, NaN giving 1 (so silu's y * sigmoid(y) stays NaN).
/// Branch-free on the bits: a float compare may trap, which stops GCC from vectorizing a
/// select under the default -ftrapping-math; integer ones do not.
inline float fast_sigmoid(float y) {
    const std::int32_t bits = bits_of(y);
    const std::int32_t limit = 0x42ae0000;  // 87.0f: e^-87 is still a normal float
    std::int32_t magnitude = bits & 0x7fffffff;
    const std::int32_t over = magnitude - limit;
    magnitude -= over & ~(over >> 31);  // min(|y|, 87), NaN included
    const float e = exp_negative(float_of(magnitude));
    const float positive = 1.0f / (1.0f + e), negative = e * positive;
    const std::int32_t sign = bits >> 31;  // all ones for negative y
    return float_of((bits_of(positive) & ~sign) | (bits_of(negative) & sign));
}

// The loops below are compiled for AVX-512 and AVX2 besides the baseline (vector_clones.h):
// the sigmoid's polynomial is compute-bound, 4x faster on 512-bit vectors than on SSE2.

/// How the channels-last loops cut the work: each sample's spatial rows (C values each) into
/// blocks of at most block_elements values. The cut depends on the shape alone and blocks are
/// combined in order, so results do not depend on the thread count. 64K floats (256 KB) keep
/// a block and its output in a core's L2 cache between the statistics and the output pass.
struct cl_plan {
    static constexpr std::int64_t block_elements = 1 << 16;
    std::int64_t n, channels, spatial, groups, per_group, rows, blocks;

    cl_plan(std::int64_t samples, std::int64_t c, std::int64_t s, std::int64_t g)
        : n(samples),
          channels(c),
          spatial(s),
          groups(g),
          per_group(c / g),
          rows(std::min(s, std::max<std::int64_t>(1, block_elements / c))),
          blocks((s + rows - 1) / rows) {}

    std::int64_t units() const { return n * blocks; }
    std::int64_t sample(std::int64_t unit) const { return unit / blocks; }
    std::int64_t row_count(std::int64_t unit) const { return std::min(rows, spatial - unit % blocks * rows); }
    /// Offset of the unit's first value in (N, S, C) memory.
    std::int64_t offset(std::int64_t unit) const { return (sample(unit) * spatial + unit % blocks * rows) * channels; }

    /// first(unit) for every unit, then middle(sample) for every sample, then last(unit):
    /// fused per sample when a sample is one block, so that last finds its data in cache.
    template <class first_fn, class middle_fn, class last_fn>
    void run(const first_fn& first, const middle_fn& middle, const last_fn& last) const {
        if (blocks == 1) {
#pragma omp parallel for schedule(static) if (n > 1)
            for (std::int64_t i = 0; i < n; ++i) {
                first(i);
                middle(i);
                last(i);
            }
            return;
        }
        const std::int64_t count = units();
#pragma omp parallel for schedule(static)
        for (std::int64_t u = 0; u < count; ++u) first(u);
#pragma omp parallel for schedule(static) if (n > 1)
        for (std::int64_t i = 0; i < n; ++i) middle(i);
#pragma omp parallel for schedule(static)
        for (std::int64_t u = 0; u < count; ++u) last(u);
    }
};

/// Per-channel sums of x - k[c] and (x - k[c])^2 over `rows` rows of C values, in double.
DIFFLAB_VECTOR_CLONES
void cl_sums(const float* x, std::int64_t rows, std::int64_t channels, const double* k, double* s1, double* s2) {
    for (std::int64_t c = 0; c < channels; ++c) s1[c] = s2[c] = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * channels;
#pragma omp simd
        for (std::int64_t c = 0; c < channels; ++c) {
            const double v = static_cast<double>(xr[c]) - k[c];
            s1[c] += v;
            s2[c] += v * v;
        }
    }
}

/// out = (x - mean[c]) * scale[c] + shift[c], then silu when asked, over `rows` rows of C.
DIFFLAB_VECTOR_CLONES
void cl_normalize(const float* x, float* out, std::int64_t rows, std::int64_t channels, const float* mean,
                  const float* scale, const float* shift, bool silu) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * channels;
        float* o = out + r * channels;
        if (silu) {
#pragma omp simd
            for (std::int64_t c = 0; c < channels; ++c) {
                const float y = (xr[c] - mean[c]) * scale[c] + shift[c];
                o[c] = y * fast_sigmoid(y);
            }
        } else {
#pragma omp simd
            for (std::int64_t c = 0; c < channels; ++c) o[c] = (xr[c] - mean[c]) * scale[c] + shift[c];
        }
    }
}

/// Group norm forward on (N, S, C) memory: mean and 1/sqrt(variance + eps) per (sample,
/// group) into mean and rstd [N * G], then the normalized, affine (w, b may be null) and
/// optionally silu-activated output.
void cl_forward(const cl_plan& p, const float* x, const float* w, const float* b, float eps, bool silu, float* out,
                float* mean, float* rstd) {
    const std::int64_t channels = p.channels, per_group = p.per_group;
    // Per unit and channel, sums of (x - k) and (x - k)^2 in double, k the group's first value
    // in the sample: the shift keeps E[x^2] - E[x]^2 exact for inputs far from zero mean.
    std::vector<double> sums(static_cast<std::size_t>(p.units() * 2 * channels));
    // Per sample and channel: the group mean, rstd * w and b, the output pass's coefficients.
    std::vector<float> coefficients(static_cast<std::size_t>(p.n * 3 * channels));
    const auto shift_of = [&](std::int64_t i, std::int64_t c) {
        return static_cast<double>(x[i * p.spatial * channels + c / per_group * per_group]);
    };
    const auto first = [&](std::int64_t u) {
        std::vector<double> shift(static_cast<std::size_t>(channels));
        for (std::int64_t c = 0; c < channels; ++c) shift[static_cast<std::size_t>(c)] = shift_of(p.sample(u), c);
        double* s1 = sums.data() + u * 2 * channels;
        cl_sums(x + p.offset(u), p.row_count(u), channels, shift.data(), s1, s1 + channels);
    };
    const auto middle = [&](std::int64_t i) {
        float* m = coefficients.data() + i * 3 * channels;
        float* scale = m + channels;
        float* shift = scale + channels;
        const double count = static_cast<double>(per_group * p.spatial);
        for (std::int64_t g = 0; g < p.groups; ++g) {
            double t1 = 0, t2 = 0;
            for (std::int64_t block = 0; block < p.blocks; ++block) {
                const double* s1 = sums.data() + (i * p.blocks + block) * 2 * channels;
                for (std::int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
                    t1 += s1[c];
                    t2 += s1[channels + c];
                }
            }
            const double centered = t1 / count;
            const double variance = std::max(0.0, t2 / count - centered * centered);
            const double group_mean = shift_of(i, g * per_group) + centered;
            const double r = 1.0 / std::sqrt(variance + static_cast<double>(eps));
            mean[i * p.groups + g] = static_cast<float>(group_mean);
            rstd[i * p.groups + g] = static_cast<float>(r);
            for (std::int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
                m[c] = static_cast<float>(group_mean);
                scale[c] = static_cast<float>(w != nullptr ? r * static_cast<double>(w[c]) : r);
                shift[c] = b != nullptr ? b[c] : 0.0f;
            }
        }
    };
    const auto last = [&](std::int64_t u) {
        const float* m = coefficients.data() + p.sample(u) * 3 * channels;
        const std::int64_t at = p.offset(u);
        cl_normalize(x + at, out + at, p.row_count(u), channels, m, m + channels, m + 2 * channels, silu);
    };
    p.run(first, middle, last);
}

/// Backward's first pass over `rows` rows: the upstream gradient d of the normalized-affine
/// value (g, or g * silu'(y) when silu, then kept in `d_out` when given) and per-channel
/// sums of d and d * xhat into sum_d and sum_dx.
DIFFLAB_VECTOR_CLONES
void cl_gradient_sums(const float* x, const float* g, float* d_out, std::int64_t rows, std::int64_t channels,
                      const float* mean, const float* rstd, const float* w, const float* b, bool silu, double* sum_d,
                      double* sum_dx) {
    for (std::int64_t c = 0; c < channels; ++c) sum_d[c] = sum_dx[c] = 0;
    std::vector<float> scratch(silu && d_out == nullptr ? static_cast<std::size_t>(channels) : 0);
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * channels;
        const float* gr = g + r * channels;
        if (!silu) {
#pragma omp simd
            for (std::int64_t c = 0; c < channels; ++c) {
                const float xhat = (xr[c] - mean[c]) * rstd[c];
                sum_d[c] += static_cast<double>(gr[c]);
                sum_dx[c] += static_cast<double>(gr[c] * xhat);
            }
            continue;
        }
        // Without d_out, d goes to a scratch row: a store under a condition does not vectorize on SSE2.
        float* dr = d_out != nullptr ? d_out + r * channels : scratch.data();
#pragma omp simd
        for (std::int64_t c = 0; c < channels; ++c) {
            const float xhat = (xr[c] - mean[c]) * rstd[c];
            const float y = xhat * w[c] + b[c];
            const float s = fast_sigmoid(y);
            const float d = gr[c] * (s * (1.0f + y * (1.0f - s)));  // silu'(y) = s (1 + y (1 - s))
            dr[c] = d;
            sum_d[c] += static_cast<double>(d);
            sum_dx[c] += static_cast<double>(d * xhat);
        }
    }
}

/// dx = alpha[c] d + beta[c] (x - mean[c]) + gamma[c] over `rows` rows; d may alias dx.
DIFFLAB_VECTOR_CLONES
void cl_input_gradient(const float* x, const float* d, float* dx, std::int64_t rows, std::int64_t channels,
                       const float* mean, const float* alpha, const float* beta, const float* gamma) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * channels;
        const float* dr = d + r * channels;
        float* o = dx + r * channels;
#pragma omp simd
        for (std::int64_t c = 0; c < channels; ++c) o[c] = alpha[c] * dr[c] + beta[c] * (xr[c] - mean[c]) + gamma[c];
    }
}

/// Group norm backward on (N, S, C) memory, from the forward's mean and rstd [N * G]; w and b
/// may be null (1 and 0), as may each output. With xhat = (x - mean) rstd, d the gradient of
/// xhat * w + b and M = C/G * S values per group:
///   dx = rstd (w d - mean_group(w d) - xhat mean_group(w d xhat)),
///   dw = sum(d xhat), db = sum(d) over samples and positions.
void cl_backward(const cl_plan& p, const float* x, const float* g, const float* w, const float* b, const float* mean,
                 const float* rstd, bool silu, float* dx, float* dw, float* db) {
    const std::int64_t channels = p.channels, per_group = p.per_group;
    const std::vector<float> ones(static_cast<std::size_t>(channels), 1.0f), zeros(ones.size(), 0.0f);
    const float* wc = w != nullptr ? w : ones.data();
    const float* bc = b != nullptr ? b : zeros.data();
    // Per sample and channel: the group's mean and rstd, then alpha, beta, gamma of dx.
    std::vector<float> stats(static_cast<std::size_t>(p.n * 5 * channels));
    for (std::int64_t i = 0; i < p.n; ++i)
        for (std::int64_t c = 0; c < channels; ++c) {
            stats[static_cast<std::size_t>(i * 5 * channels + c)] = mean[i * p.groups + c / per_group];
            stats[static_cast<std::size_t>(i * 5 * channels + channels + c)] = rstd[i * p.groups + c / per_group];
        }
    std::vector<double> sums(static_cast<std::size_t>(p.units() * 2 * channels));
    std::vector<double> totals(static_cast<std::size_t>(p.n * 2 * channels));  // per sample: sum d, sum d xhat
    // d goes to dx between the passes when it is not g itself (silu), saving its recomputation.
    const bool keep = silu && dx != nullptr;
    const auto first = [&](std::int64_t u) {
        const float* s = stats.data() + p.sample(u) * 5 * channels;
        double* sum_d = sums.data() + u * 2 * channels;
        const std::int64_t at = p.offset(u);
        cl_gradient_sums(x + at, g + at, keep ? dx + at : nullptr, p.row_count(u), channels, s, s + channels, wc, bc,
                         silu, sum_d, sum_d + channels);
    };
    const auto middle = [&](std::int64_t i) {
        double* total = totals.data() + i * 2 * channels;
        for (std::int64_t c = 0; c < 2 * channels; ++c) {
            double t = 0;
            for (std::int64_t block = 0; block < p.blocks; ++block)
                t += sums[static_cast<std::size_t>((i * p.blocks + block) * 2 * channels + c)];
            total[c] = t;
        }
        float* s = stats.data() + i * 5 * channels;
        float *alpha = s + 2 * channels, *beta = alpha + channels, *gamma = beta + channels;
        const double count = static_cast<double>(per_group * p.spatial);
        for (std::int64_t grp = 0; grp < p.groups; ++grp) {
            double m1 = 0, m2 = 0;  // the group means of w d and of w d xhat
            for (std::int64_t c = grp * per_group; c < (grp + 1) * per_group; ++c) {
                m1 += static_cast<double>(wc[c]) * total[c];
                m2 += static_cast<double>(wc[c]) * total[channels + c];
            }
            m1 /= count;
            m2 /= count;
            const double r = rstd[i * p.groups + grp];
            for (std::int64_t c = grp * per_group; c < (grp + 1) * per_group; ++c) {
                alpha[c] = static_cast<float>(r * static_cast<double>(wc[c]));
                beta[c] = static_cast<float>(-r * r * m2);
                gamma[c] = static_cast<float>(-r * m1);
            }
        }
    };
    const auto last = [&](std::int64_t u) {
        if (dx == nullptr) return;
        const float* s = stats.data() + p.sample(u) * 5 * channels;
        const std::int64_t at = p.offset(u);
        cl_input_gradient(x + at, keep ? dx + at : g + at, dx + at, p.row_count(u), channels, s, s + 2 * channels,
                          s + 3 * channels, s + 4 * channels);
    };
    p.run(first, middle, last);
    for (float* out : {dw, db}) {
        if (out == nullptr) continue;
        const std::int64_t part = out == dw ? channels : 0;  // sums of d xhat, or of d
        for (std::int64_t c = 0; c < channels; ++c) {
            double t = 0;
            for (std::int64_t i = 0; i < p.n; ++i) t += totals[static_cast<std::size_t>(i * 2 * channels + part + c)];
            out[c] = static_cast<float>(t);
        }
    }
}

/// group_norm_impl for f32 channels-last input: the loops above, no layout conversion. Keeps
/// x and the per-group statistics for backward (not the normalized values).
tensor group_norm_channels_last(const char* op, const tensor& x, std::int64_t groups, const tensor& weight,
                                const tensor& bias, float eps, bool silu) {
    const std::int64_t n = x.size(0), channels = x.size(1), spatial = x.numel() / (n * channels);
    const cl_plan plan(n, channels, spatial, groups);
    const tensor xd = dense(x.detach(), true);
    const tensor w = as_f32(weight), b = as_f32(bias);
    tensor mean = tensor::empty({n * groups}), rstd = tensor::empty({n * groups});
    tensor out = empty_dense(x.shape(), dtype::f32, true);
    cl_forward(plan, xd.data<float>(), w.defined() ? w.data<float>() : nullptr, b.defined() ? b.data<float>() : nullptr,
               eps, silu, out.data<float>(), mean.data<float>(), rstd.data<float>());
    record_op(out, op, {x, weight, bias}, [=](const tensor& grad_output) {
        const tensor g = dense(grad_output.type() == dtype::f32 ? grad_output : grad_output.to(dtype::f32), true);
        tensor grad_x = wants_grad(x) ? empty_dense(x.shape(), dtype::f32, true) : tensor();
        tensor grad_w = wants_grad(weight) ? tensor::empty({channels}) : tensor();
        tensor grad_b = wants_grad(bias) ? tensor::empty({channels}) : tensor();
        const auto pointer = [](tensor& t) { return t.defined() ? t.data<float>() : nullptr; };
        cl_backward(plan, xd.data<float>(), g.data<float>(), w.defined() ? w.data<float>() : nullptr,
                    b.defined() ? b.data<float>() : nullptr, mean.data<float>(), rstd.data<float>(), silu,
                    pointer(grad_x), pointer(grad_w), pointer(grad_b));
        if (grad_w.defined() && weight.type() != dtype::f32) grad_w = grad_w.to(weight.type());
        if (grad_b.defined() && bias.type() != dtype::f32) grad_b = grad_b.to(bias.type());
        return std::vector<tensor>{grad_x, grad_w, grad_b};
    });
    return out;
}

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
    if (channels_last && x.type() == dtype::f32 && x.numel() > 0)
        return group_norm_channels_last(op, x, groups, weight, bias, eps, silu);
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
    // Otherwise a detached alias of out: backward holding out itself would be a reference cycle
    // (out -> its node -> this closure -> out) that is never freed.
    const tensor normalized = training && (w.defined() || silu) ? tensor::empty(x.shape(), x.type()) : out.detach();
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
