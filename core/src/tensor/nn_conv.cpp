// SPDX-License-Identifier: Apache-2.0
// conv2d and conv3d on oneDNN convolution primitives (forward, backward data, backward weights).
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/precision.h>
#include <fmt/format.h>

#include <memory>

#include "nn_common.h"

namespace difflab {
namespace {

using namespace nn_detail;
using dnnl::memory;

/// Everything a convolution primitive descriptor needs, derived once from the operands.
struct conv_geometry {
    memory::dims src, weights, bias, dst, strides, dilates, padding;
    memory::data_type type;      ///< of src, weights and the output gradient: the compute precision
    memory::data_type out_type;  ///< of the output and the input gradient: the input's dtype
    bool channels_last;
    shape_t dst_shape;

    /// The activation layout: channels-last stays channels-last (the fast brgconv/jit
    /// kernels read it directly); anything else lets oneDNN pick its blocked layout, and
    /// the tensors are reordered in and out, which costs far less than plain NCHW's gemm.
    memory::desc activation(const memory::dims& dims, memory::data_type t) const {
        const auto tag = !channels_last     ? memory::format_tag::any
                         : dims.size() == 4 ? memory::format_tag::nhwc
                                            : memory::format_tag::ndhwc;
        return memory::desc(dims, t, tag);
    }
    memory::desc user_weights(dtype t) const { return plain_desc(shape_t(weights.begin(), weights.end()), t); }
};

struct conv_forward_entry {
    dnnl::convolution_forward::primitive_desc pd;
    dnnl::convolution_forward primitive;
};
struct conv_data_entry {
    dnnl::convolution_backward_data::primitive_desc pd;
    dnnl::convolution_backward_data primitive;
};
struct conv_weights_entry {
    dnnl::convolution_backward_weights::primitive_desc pd;
    dnnl::convolution_backward_weights primitive;
};

conv_geometry geometry_of(const char* op, const tensor& x, const tensor& weight, const tensor& bias,
                          const conv_options& o, int spatial) {
    const auto rank = static_cast<std::int64_t>(spatial + 2);
    const char* form = spatial == 2 ? "[N, C, H, W]" : "[N, C, D, H, W]";
    if (!x.defined() || !weight.defined()) fail(op, "input and weight must be defined tensors");
    if (x.dim() != rank)
        fail(op, fmt::format("input must be {}, got {}; add the missing dimensions with unsqueeze", form,
                             shape_text(x.shape())));
    if (weight.dim() != rank)
        fail(op,
             fmt::format("weight must be {}-D [out, in/groups, kernel...], got {}", rank, shape_text(weight.shape())));
    if (o.stride < 1 || o.dilation < 1 || o.padding < 0 || o.groups < 1)
        fail(op, fmt::format("stride ({}), dilation ({}) and groups ({}) must be >= 1 and padding ({}) >= 0", o.stride,
                             o.dilation, o.groups, o.padding));
    const std::int64_t in_channels = x.size(1), out_channels = weight.size(0);
    if (out_channels % o.groups != 0 || weight.size(1) * o.groups != in_channels)
        fail(op, fmt::format("weight {} with groups={} does not fit input {} ({} channels); the weight must be [out, "
                             "{}/groups, ...] with out divisible by groups",
                             shape_text(weight.shape()), o.groups, shape_text(x.shape()), in_channels, in_channels));
    if (bias.defined() && bias.shape() != shape_t{out_channels})
        fail(op, fmt::format("bias must be [{}], got {}", out_channels, shape_text(bias.shape())));
    if (weight.type() != x.type() && x.type() != dtype::bf16)
        fail(op, fmt::format("input is {} but weight is {}; convert one with to()", dtype_name(x.type()),
                             dtype_name(weight.type())));

    conv_geometry g;
    // An f32 input under a bf16 compute precision (precision.h) is read as bf16 and the
    // output written in f32: oneDNN's bf16 kernels accumulate in f32 either way.
    g.type = dnnl_glue::data_type_of(x.type() == dtype::bf16 ? dtype::bf16 : compute_precision());
    g.out_type = dnnl_glue::data_type_of(x.type());
    g.channels_last = x.is_channels_last();
    g.src = memory::dims(x.shape().begin(), x.shape().end());
    g.dst_shape = {x.size(0), out_channels};
    for (int i = 0; i < spatial; ++i) {
        const std::int64_t in = x.size(2 + i), k = weight.size(2 + i);
        const std::int64_t out = (in + 2 * o.padding - o.dilation * (k - 1) - 1) / o.stride + 1;
        if (out < 1)
            fail(op, fmt::format("kernel {} (dilation {}) does not fit input {} with padding {}",
                                 shape_text(weight.shape()), o.dilation, shape_text(x.shape()), o.padding));
        g.dst_shape.push_back(out);
        g.strides.push_back(o.stride);
        g.dilates.push_back(o.dilation - 1);  // oneDNN counts the gaps, PyTorch the spacing
        g.padding.push_back(o.padding);
    }
    g.dst = memory::dims(g.dst_shape.begin(), g.dst_shape.end());
    g.weights = memory::dims(weight.shape().begin(), weight.shape().end());
    if (o.groups > 1) {
        g.weights[0] = out_channels / o.groups;
        g.weights.insert(g.weights.begin(), o.groups);
    }
    g.bias = {out_channels};
    return g;
}

std::string options_text(const conv_options& o) {
    return fmt::format("s{}p{}d{}g{}", o.stride, o.padding, o.dilation, o.groups);
}

std::shared_ptr<conv_forward_entry> forward_entry(const conv_geometry& g, const std::string& key, const tensor& bias,
                                                  bool training, bool add_residual) {
    return dnnl_glue::cached<conv_forward_entry>(key + (training ? "|train" : "|infer"), [&] {
        const auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
        const memory::desc weights(g.weights, g.type, memory::format_tag::any);
        auto desc = bias.defined()
                        ? dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct,
                                                          g.activation(g.src, g.type), weights,
                                                          dnnl_glue::desc_of(bias), g.activation(g.dst, g.out_type),
                                                          g.strides, g.dilates, g.padding, g.padding)
                        : dnnl::convolution_forward::desc(
                              prop, dnnl::algorithm::convolution_direct, g.activation(g.src, g.type), weights,
                              g.activation(g.dst, g.out_type), g.strides, g.dilates, g.padding, g.padding);
        // The residual is in dst before the convolution runs; the sum post-op adds onto it.
        dnnl::primitive_attr attr;
        if (add_residual) {
            dnnl::post_ops ops;
            ops.append_sum(1.0f);
            attr.set_post_ops(ops);
        }
        dnnl::convolution_forward::primitive_desc pd(desc, attr, dnnl_glue::engine());
        return conv_forward_entry{pd, dnnl::convolution_forward(pd)};
    });
}

/// The memory a primitive writes for `out`: the tensor itself when the layouts agree, else a
/// work buffer that finish() reorders into the tensor.
struct output_memory {
    memory user, work;
    output_memory(const tensor& out, const memory::desc& want, work_buffers& buffers)
        : output_memory(dnnl_glue::memory_of(out), want, buffers) {}
    output_memory(const memory& user_memory, const memory::desc& want, work_buffers& buffers) : user(user_memory) {
        work = user.get_desc() == want ? user : buffers.make(want);
    }
    void finish() const {
        if (work.get_data_handle() != user.get_data_handle()) reorder(work, user);
    }
};

tensor convolution(const char* op, const tensor& x_in, const tensor& weight, const tensor& bias,
                   const conv_options& options, int spatial, const tensor& residual = tensor()) {
    const conv_geometry g = geometry_of(op, x_in, weight, bias, options, spatial);
    if (residual.defined() && residual.shape() != g.dst_shape)
        fail(op, fmt::format("residual must have the output's shape {}, got {}", shape_text(g.dst_shape),
                             shape_text(residual.shape())));
    // Row-major or channels-last; any other view is reordered by oneDNN on the way in.
    const tensor x = x_in.detach();
    const tensor w = dense(weight.detach(), false);
    const bool training = will_record({x_in, weight, bias, residual});
    const std::string key = dnnl_glue::key_of(op, {x, w, bias},
                                              options_text(options) + (residual.defined() ? "|residual" : "") +
                                                  (g.type == memory::data_type::bf16 ? "|bf16_compute" : ""));

    const bool grad_weights_wanted = wants_grad(weight) || wants_grad(bias);
    // What the weight gradient reads of the input. A channels-last f32 input computed in bf16
    // is kept as the bf16 copy the kernels read (as autocast saves its casts), not in f32:
    // half the memory held until the backward, and no second conversion there.
    const bool keep_compute_copy = training && grad_weights_wanted && g.channels_last &&
                                   g.type == memory::data_type::bf16 && x.type() == dtype::f32;
    const tensor saved_x = keep_compute_copy ? empty_dense(x.shape(), dtype::bf16, true) : x;

    tensor out = empty_dense(g.dst_shape, x.type(), g.channels_last);
    std::shared_ptr<conv_forward_entry> entry;
    dnnl_glue::checked(op, {x_in, weight, bias, residual}, [&] {
        entry = forward_entry(g, key, bias, training, residual.defined());
        work_buffers work;
        if (keep_compute_copy) reorder(dnnl_glue::memory_of(x), dnnl_glue::memory_of(saved_x));
        const memory src = dnnl_glue::memory_of(saved_x);
        const memory weights(g.user_weights(w.type()), dnnl_glue::engine(), const_cast<void*>(w.raw_data()));
        output_memory dst(out, entry->pd.dst_desc(), work);
        if (residual.defined()) reorder(dnnl_glue::memory_of(residual), dst.work);
        dnnl_args args{{DNNL_ARG_SRC, work.converted(src, entry->pd.src_desc())},
                       {DNNL_ARG_WEIGHTS, work.converted(weights, entry->pd.weights_desc())},
                       {DNNL_ARG_DST, dst.work}};
        if (bias.defined()) args[DNNL_ARG_BIAS] = dnnl_glue::memory_of(bias);
        execute(entry->primitive, args);
        dst.finish();
    });

    // The backward reads the weights, and the input only for the weight gradient; of x_in and
    // the residual it needs whether they want a gradient: capturing them would keep their data.
    const bool grad_x_wanted = wants_grad(x_in), grad_residual_wanted = wants_grad(residual);
    const tensor weights_input = grad_weights_wanted ? saved_x : tensor();
    const shape_t x_shape = x.shape();
    const dtype x_type = x.type();
    record_op(out, op, {x_in, weight, bias, residual}, [=](const tensor& grad_output) {
        tensor grad_x, grad_w, grad_b;
        dnnl_glue::checked(op, {grad_output, weights_input, weight, bias}, [&] {
            work_buffers work;  // the output gradient converted once for both primitives
            const memory grad = dnnl_glue::memory_of(grad_output);
            const memory weights(g.user_weights(w.type()), dnnl_glue::engine(), const_cast<void*>(w.raw_data()));
            if (grad_x_wanted) {
                auto data = dnnl_glue::cached<conv_data_entry>(key + "|bwd_data", [&] {
                    dnnl::convolution_backward_data::desc desc(
                        dnnl::algorithm::convolution_direct, g.activation(g.src, g.out_type),
                        memory::desc(g.weights, g.type, memory::format_tag::any), g.activation(g.dst, g.type),
                        g.strides, g.dilates, g.padding, g.padding);
                    dnnl::convolution_backward_data::primitive_desc pd(desc, dnnl_glue::engine(), entry->pd);
                    return conv_data_entry{pd, dnnl::convolution_backward_data(pd)};
                });
                grad_x = empty_dense(x_shape, x_type, g.channels_last);
                output_memory diff_src(grad_x, data->pd.diff_src_desc(), work);
                execute(data->primitive, {{DNNL_ARG_DIFF_DST, work.converted(grad, data->pd.diff_dst_desc())},
                                          {DNNL_ARG_WEIGHTS, work.converted(weights, data->pd.weights_desc())},
                                          {DNNL_ARG_DIFF_SRC, diff_src.work}});
                diff_src.finish();
            }
            if (grad_weights_wanted) {
                auto wgt = dnnl_glue::cached<conv_weights_entry>(key + "|bwd_weights", [&] {
                    const memory::desc diff_weights(g.weights, dnnl_glue::data_type_of(w.type()),
                                                    memory::format_tag::any);
                    auto desc =
                        bias.defined()
                            ? dnnl::convolution_backward_weights::desc(
                                  dnnl::algorithm::convolution_direct, g.activation(g.src, g.type), diff_weights,
                                  dnnl_glue::desc_of(bias), g.activation(g.dst, g.type), g.strides, g.dilates,
                                  g.padding, g.padding)
                            : dnnl::convolution_backward_weights::desc(
                                  dnnl::algorithm::convolution_direct, g.activation(g.src, g.type), diff_weights,
                                  g.activation(g.dst, g.type), g.strides, g.dilates, g.padding, g.padding);
                    dnnl::convolution_backward_weights::primitive_desc pd(desc, dnnl_glue::engine(), entry->pd);
                    return conv_weights_entry{pd, dnnl::convolution_backward_weights(pd)};
                });
                grad_w = tensor::empty(weight.shape(), w.type());
                const memory grad_w_user(g.user_weights(w.type()), dnnl_glue::engine(), grad_w.raw_data());
                output_memory diff_weights(grad_w_user, wgt->pd.diff_weights_desc(), work);
                dnnl_args args{{DNNL_ARG_SRC, work.converted(dnnl_glue::memory_of(weights_input), wgt->pd.src_desc())},
                               {DNNL_ARG_DIFF_DST, work.converted(grad, wgt->pd.diff_dst_desc())},
                               {DNNL_ARG_DIFF_WEIGHTS, diff_weights.work}};
                if (bias.defined()) {
                    grad_b = tensor::empty(bias.shape(), bias.type());
                    args[DNNL_ARG_DIFF_BIAS] = dnnl_glue::memory_of(grad_b);
                }
                execute(wgt->primitive, args);
                diff_weights.finish();
            }
        });
        // The residual's gradient is the output's: passed through.
        return std::vector<tensor>{grad_x, grad_w, grad_b, grad_residual_wanted ? grad_output : tensor()};
    });
    return out;
}

}  // namespace

tensor conv2d(const tensor& x, const tensor& weight, const tensor& bias, const conv_options& options) {
    return convolution("conv2d", x, weight, bias, options, 2);
}

tensor conv2d_add(const tensor& x, const tensor& weight, const tensor& bias, const tensor& residual,
                  const conv_options& options) {
    if (!residual.defined()) fail("conv2d_add", "the residual is undefined; call conv2d instead");
    return convolution("conv2d_add", x, weight, bias, options, 2, residual);
}

tensor conv3d(const tensor& x, const tensor& weight, const tensor& bias, const conv_options& options) {
    return convolution("conv3d", x, weight, bias, options, 3);
}

}  // namespace difflab
