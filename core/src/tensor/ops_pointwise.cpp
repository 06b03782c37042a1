// SPDX-License-Identifier: Apache-2.0
// Pointwise ops: oneDNN eltwise for unary functions, broadcasting loops for binary arithmetic.
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ops_common.h"
#include "strided.h"
#include "vector_clones.h"

namespace difflab {

using namespace ops_detail;
using dnnl::algorithm;
using strided::narrow;
using strided::widen;

namespace {

using eltwise_fwd_pd = dnnl::eltwise_forward::primitive_desc;

struct eltwise_fwd {
    eltwise_fwd_pd pd;
    dnnl::eltwise_forward primitive;
};

struct eltwise_bwd {
    dnnl::eltwise_backward primitive;
};

std::string eltwise_extra(algorithm alg, float alpha, float beta) {
    return fmt::format("{}/{}/{}", static_cast<int>(alg), alpha, beta);
}

std::shared_ptr<eltwise_fwd> forward_primitive(const tensor& x, algorithm alg, float alpha, float beta) {
    return dnnl_glue::cached<eltwise_fwd>(dnnl_glue::key_of("eltwise_fwd", {x}, eltwise_extra(alg, alpha, beta)), [&] {
        dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_training, alg, dnnl_glue::desc_of(x), alpha, beta);
        eltwise_fwd_pd pd(desc, dnnl_glue::engine());
        return eltwise_fwd{pd, dnnl::eltwise_forward(pd)};
    });
}

/// Below this many elements a plain loop beats a oneDNN call, whose threads cost more to
/// wake than the work (small tensors: time embeddings, scalars in optimizers and losses).
constexpr std::int64_t small_size = 1024;

double small_forward(algorithm alg, double alpha, double beta, double x) {
    switch (alg) {
        case algorithm::eltwise_linear:
            return alpha * x + beta;
        case algorithm::eltwise_exp:
            return std::exp(x);
        case algorithm::eltwise_log:
            return std::log(x);
        case algorithm::eltwise_sqrt:
            return std::sqrt(x);
        case algorithm::eltwise_pow:
            return alpha * std::pow(x, beta);
        case algorithm::eltwise_abs:
            return std::fabs(x);
        case algorithm::eltwise_clip_v2:
            return std::min(std::max(x, alpha), beta);
        case algorithm::eltwise_relu:
            return x > 0 ? x : alpha * x;
        case algorithm::eltwise_swish:
            return x / (1 + std::exp(-alpha * x));
        case algorithm::eltwise_gelu_erf:
            return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
        case algorithm::eltwise_logistic:
            return 1 / (1 + std::exp(-x));
        case algorithm::eltwise_tanh:
            return std::tanh(x);
        default:
            fail("eltwise", "no scalar form for this algorithm");
    }
}

/// dy/dx at the saved value: the input x, or the output y for the *_use_dst_for_bwd forms.
double small_derivative(algorithm alg, double alpha, double beta, double v, bool use_dst) {
    switch (alg) {
        case algorithm::eltwise_linear:
            return alpha;
        case algorithm::eltwise_exp:
            return use_dst ? v : std::exp(v);
        case algorithm::eltwise_log:
            return 1 / v;
        case algorithm::eltwise_sqrt:
            return use_dst ? 0.5 / v : 0.5 / std::sqrt(v);
        case algorithm::eltwise_pow:
            return alpha * beta * std::pow(v, beta - 1);
        case algorithm::eltwise_abs:
            return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0;
        case algorithm::eltwise_clip_v2:
            return v > alpha && v < beta ? 1.0 : 0.0;
        case algorithm::eltwise_relu:
            return v > 0 ? 1.0 : alpha;
        case algorithm::eltwise_swish: {
            const double s = 1 / (1 + std::exp(-alpha * v));
            return s + alpha * v * s * (1 - s);
        }
        case algorithm::eltwise_gelu_erf: {
            const double pdf = std::exp(-0.5 * v * v) / std::sqrt(2 * 3.14159265358979323846);
            return 0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * pdf;
        }
        case algorithm::eltwise_logistic: {
            const double s = use_dst ? v : 1 / (1 + std::exp(-v));
            return s * (1 - s);
        }
        case algorithm::eltwise_tanh: {
            const double t = use_dst ? v : std::tanh(v);
            return 1 - t * t;
        }
        default:
            fail("eltwise", "no scalar form for this algorithm");
    }
}

/// y = f(x) on a oneDNN eltwise primitive. The backward passes the saved input (or output
/// when `use_dst`, for the *_use_dst_for_bwd algorithms) to the eltwise backward primitive.
tensor eltwise(const char* name, const tensor& a, algorithm alg, float alpha = 0, float beta = 0,
               algorithm bwd_alg = algorithm::undef) {
    if (!a.defined()) fail(name, "the input is undefined");
    const tensor x = dense(a);
    tensor y = empty_like(x, x.type());
    if (x.numel() > 0 && x.numel() <= small_size && x.type() == dtype::f32) {
        const float* px = x.data<float>();
        float* py = y.data<float>();
        for (std::int64_t i = 0; i < x.numel(); ++i) py[i] = static_cast<float>(small_forward(alg, alpha, beta, px[i]));
    } else if (x.numel() > 0) {
        dnnl_glue::checked(name, {x}, [&] {
            auto fwd = forward_primitive(x, alg, alpha, beta);
            execute(fwd->primitive, {{DNNL_ARG_SRC, dnnl_glue::memory_of(x)}, {DNNL_ARG_DST, dnnl_glue::memory_of(y)}});
        });
    }
    const algorithm backward_alg = bwd_alg == algorithm::undef ? alg : bwd_alg;
    const bool use_dst = bwd_alg != algorithm::undef;
    // Keep only what the backward reads: the input, or the output for *_use_dst_for_bwd.
    const tensor saved = use_dst ? y.detach() : x.detach();
    record(y, name, {a}, [name, saved, alg, backward_alg, use_dst, alpha, beta](const tensor& grad) {
        const tensor g = in_layout_of(grad, saved);
        tensor dx = empty_like(saved, saved.type());
        if (saved.numel() == 0) return std::vector<tensor>{dx};
        if (saved.numel() <= small_size && saved.type() == dtype::f32) {
            const float* pg = g.data<float>();
            const float* ps = saved.data<float>();
            float* pd = dx.data<float>();
            for (std::int64_t i = 0; i < saved.numel(); ++i)
                pd[i] = static_cast<float>(pg[i] * small_derivative(alg, alpha, beta, ps[i], use_dst));
            return std::vector<tensor>{dx};
        }
        dnnl_glue::checked(name, {g, saved}, [&] {
            const std::string extra = eltwise_extra(backward_alg, alpha, beta);
            auto bwd = dnnl_glue::cached<eltwise_bwd>(dnnl_glue::key_of("eltwise_bwd", {saved}, extra), [&] {
                // The forward hint must describe the same algorithm as the backward.
                const tensor& like = saved;
                dnnl::eltwise_forward::desc fdesc(dnnl::prop_kind::forward_training, backward_alg,
                                                  dnnl_glue::desc_of(like), alpha, beta);
                eltwise_fwd_pd hint(fdesc, dnnl_glue::engine());
                dnnl::eltwise_backward::desc desc(backward_alg, dnnl_glue::desc_of(like), dnnl_glue::desc_of(like),
                                                  alpha, beta);
                dnnl::eltwise_backward::primitive_desc pd(desc, dnnl_glue::engine(), hint);
                return eltwise_bwd{dnnl::eltwise_backward(pd)};
            });
            execute(bwd->primitive, {{DNNL_ARG_DIFF_DST, dnnl_glue::memory_of(g)},
                                     {use_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, dnnl_glue::memory_of(saved)},
                                     {DNNL_ARG_DIFF_SRC, dnnl_glue::memory_of(dx)}});
        });
        return std::vector<tensor>{dx};
    });
    return y;
}

// --- binary arithmetic with broadcasting ------------------------------------------------------

enum class binary_op { add, sub, mul, div };

template <binary_op Op>
inline float apply(float x, float y) {
    if constexpr (Op == binary_op::add) return x + y;
    if constexpr (Op == binary_op::sub) return x - y;
    if constexpr (Op == binary_op::mul) return x * y;
    return x / y;
}

/// The layout a binary result takes: channels-last when a full-shape operand is, so that
/// residual sums in a channels-last network stay channels-last.
tensor binary_output(const tensor& a, const tensor& b, const shape_t& shape, dtype type) {
    for (const tensor* t : {&a, &b})
        if (t->shape() == shape && t->is_channels_last() && !t->is_contiguous()) return empty_like(*t, type);
    return tensor::empty(shape, type);
}

/// One row of a binary op on operands of one storage type: o[e*so] = x[e*sx] op y[e*sy]. Dense
/// rows and rows against a broadcast scalar get plain index loops, which the compiler
/// vectorizes (`o` never aliases x or y: binary results are fresh tensors).
template <binary_op Op, class T>
[[gnu::always_inline]] inline void binary_row(T* __restrict o, const T* x, const T* y, std::int64_t n, std::int64_t so,
                                              std::int64_t sx, std::int64_t sy) {
    if (so == 1 && sx == 1 && sy == 1) {
        for (std::int64_t e = 0; e < n; ++e) o[e] = narrow<T>(apply<Op>(widen(x[e]), widen(y[e])));
    } else if (so == 1 && sx == 1 && sy == 0) {
        const float c = widen(y[0]);
        for (std::int64_t e = 0; e < n; ++e) o[e] = narrow<T>(apply<Op>(widen(x[e]), c));
    } else if (so == 1 && sx == 0 && sy == 1) {
        const float c = widen(x[0]);
        for (std::int64_t e = 0; e < n; ++e) o[e] = narrow<T>(apply<Op>(c, widen(y[e])));
    } else {
        for (std::int64_t e = 0; e < n; ++e) o[e * so] = narrow<T>(apply<Op>(widen(x[e * sx]), widen(y[e * sy])));
    }
}

/// bf16 rows widen and round every element, which is compute-bound: they run as AVX-512/AVX2
/// clones (3.2x faster on [64, 64, 14, 14]). f32 rows only stream memory, and there the
/// clones' zmm loops measured 20-30% slower than the baseline's (docs/performance.md).
template <binary_op Op>
DIFFLAB_VECTOR_CLONES void binary_row_bf16(std::uint16_t* __restrict o, const std::uint16_t* x, const std::uint16_t* y,
                                           std::int64_t n, std::int64_t so, std::int64_t sx, std::int64_t sy) {
    binary_row<Op>(o, x, y, n, so, sx, sy);
}

template <binary_op Op>
void binary_kernel(const tensor& a, const tensor& b, tensor& out) {
    const tensor ea = a.shape() == out.shape() ? a : a.detach().expand(out.shape());
    const tensor eb = b.shape() == out.shape() ? b : b.detach().expand(out.shape());
    const void* pa = ea.raw_data();
    const void* pb = eb.raw_data();
    void* po = out.raw_data();
    const dtype ta = ea.type(), tb = eb.type(), to = out.type();
    const bool same_type = ta == to && tb == to;
    strided::for_each_row<3>(
        out.shape(), {&out.strides(), &ea.strides(), &eb.strides()},
        [&](const std::array<std::int64_t, 3>& off, std::int64_t n, const std::array<std::int64_t, 3>& s) {
            if (same_type && to == dtype::f32) {
                binary_row<Op>(static_cast<float*>(po) + off[0], static_cast<const float*>(pa) + off[1],
                               static_cast<const float*>(pb) + off[2], n, s[0], s[1], s[2]);
            } else if (same_type) {
                using u16 = std::uint16_t;
                binary_row_bf16<Op>(static_cast<u16*>(po) + off[0], static_cast<const u16*>(pa) + off[1],
                                    static_cast<const u16*>(pb) + off[2], n, s[0], s[1], s[2]);
            } else {
                for (std::int64_t e = 0; e < n; ++e)
                    strided::store(
                        po, to, off[0] + e * s[0],
                        apply<Op>(strided::load(pa, ta, off[1] + e * s[1]), strided::load(pb, tb, off[2] + e * s[2])));
            }
        });
}

template <binary_op Op>
tensor binary_values(const char* name, const tensor& a, const tensor& b) {
    if (!a.defined() || !b.defined()) fail(name, "an operand is undefined");
    const shape_t shape = broadcast_shapes(a.shape(), b.shape(), name);
    const dtype type = a.type() == dtype::bf16 && b.type() == dtype::bf16 ? dtype::bf16 : dtype::f32;
    tensor out = binary_output(a, b, shape, type);
    binary_kernel<Op>(a, b, out);
    return out;
}

tensor grad_as(const tensor& grad, const shape_t& shape, dtype type) {
    tensor g = sum_to(grad, shape);
    return g.type() == type ? g : g.to(type);
}

tensor grad_as(const tensor& grad, const tensor& input) {
    return grad_as(grad, input.shape(), input.type());
}

}  // namespace

tensor add(const tensor& a, const tensor& b) {
    tensor out = binary_values<binary_op::add>("add", a, b);
    record(out, "add", {a, b},
           [a_shape = a.shape(), a_type = a.type(), b_shape = b.shape(), b_type = b.type()](const tensor& grad) {
               return std::vector<tensor>{grad_as(grad, a_shape, a_type), grad_as(grad, b_shape, b_type)};
           });
    return out;
}

tensor sub(const tensor& a, const tensor& b) {
    tensor out = binary_values<binary_op::sub>("sub", a, b);
    record(out, "sub", {a, b},
           [a_shape = a.shape(), a_type = a.type(), b_shape = b.shape(), b_type = b.type()](const tensor& grad) {
               return std::vector<tensor>{grad_as(grad, a_shape, a_type), grad_as(neg(grad), b_shape, b_type)};
           });
    return out;
}

tensor mul(const tensor& a, const tensor& b) {
    tensor out = binary_values<binary_op::mul>("mul", a, b);
    const tensor sa = a.detach(), sb = b.detach();
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    record(out, "mul", {a, b}, [sa, sb, need_a, need_b](const tensor& grad) {
        return std::vector<tensor>{need_a ? grad_as(mul(grad, sb), sa) : tensor(),
                                   need_b ? grad_as(mul(grad, sa), sb) : tensor()};
    });
    return out;
}

tensor div(const tensor& a, const tensor& b) {
    tensor out = binary_values<binary_op::div>("div", a, b);
    const tensor sa = a.detach(), sb = b.detach();
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    record(out, "div", {a, b}, [sa, sb, need_a, need_b](const tensor& grad) {
        tensor ga, gb;
        if (need_a) ga = grad_as(div(grad, sb), sa);
        // d(a/b)/db = -a / b^2
        if (need_b) gb = grad_as(neg(div(mul(grad, sa), mul(sb, sb))), sb);
        return std::vector<tensor>{ga, gb};
    });
    return out;
}

tensor add(const tensor& a, float b) {
    return eltwise("add", a, algorithm::eltwise_linear, 1.0f, b);
}
tensor mul(const tensor& a, float b) {
    return eltwise("mul", a, algorithm::eltwise_linear, b, 0.0f);
}
tensor neg(const tensor& a) {
    return eltwise("neg", a, algorithm::eltwise_linear, -1.0f, 0.0f);
}

tensor exp(const tensor& a) {
    return eltwise("exp", a, algorithm::eltwise_exp, 0, 0, algorithm::eltwise_exp_use_dst_for_bwd);
}
tensor log(const tensor& a) {
    return eltwise("log", a, algorithm::eltwise_log);
}
tensor sqrt(const tensor& a) {
    return eltwise("sqrt", a, algorithm::eltwise_sqrt, 0, 0, algorithm::eltwise_sqrt_use_dst_for_bwd);
}
tensor pow(const tensor& a, float exponent) {
    return eltwise("pow", a, algorithm::eltwise_pow, 1.0f, exponent);
}
tensor abs(const tensor& a) {
    return eltwise("abs", a, algorithm::eltwise_abs);
}
tensor clamp(const tensor& a, float low, float high) {
    if (low > high) fail("clamp", fmt::format("low {} is above high {}", low, high));
    // The gradient passes strictly inside (low, high); torch.clamp also passes it at the
    // bounds themselves, so the two differ only there.
    return eltwise("clamp", a, algorithm::eltwise_clip_v2, low, high);
}
tensor relu(const tensor& a) {
    return eltwise("relu", a, algorithm::eltwise_relu, 0.0f);
}
tensor silu(const tensor& a) {
    return eltwise("silu", a, algorithm::eltwise_swish, 1.0f);
}
tensor gelu(const tensor& a) {
    return eltwise("gelu", a, algorithm::eltwise_gelu_erf);
}
tensor sigmoid(const tensor& a) {
    return eltwise("sigmoid", a, algorithm::eltwise_logistic, 0, 0, algorithm::eltwise_logistic_use_dst_for_bwd);
}
tensor tanh(const tensor& a) {
    return eltwise("tanh", a, algorithm::eltwise_tanh, 0, 0, algorithm::eltwise_tanh_use_dst_for_bwd);
}

}  // namespace difflab
