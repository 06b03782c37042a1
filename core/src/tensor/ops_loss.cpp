// SPDX-License-Identifier: Apache-2.0
// Dropout, embedding lookup and the losses (mse, l1, cross-entropy, binary cross-entropy).
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ops_common.h"

namespace difflab {

using namespace ops_detail;

namespace {

/// Integer class/row ids held in an f32 tensor, checked to be whole and in [0, bound).
std::vector<std::int64_t> read_ids(const tensor& ids, std::int64_t bound, const char* op, const char* what) {
    const std::vector<float> values = ids.to_vector();
    std::vector<std::int64_t> result(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        const float v = values[i];
        if (!(v >= 0.0f) || v != std::floor(v) || v >= static_cast<float>(bound))
            fail(op, fmt::format("{} {} at position {} is not a whole number in [0, {})", what, v, i, bound));
        result[i] = static_cast<std::int64_t>(v);
    }
    return result;
}

tensor f32_contiguous(const tensor& t) {
    no_grad_guard guard;
    return t.to(dtype::f32).contiguous();
}

}  // namespace

tensor dropout(const tensor& a, float p, bool training, std::uint64_t seed, std::uint64_t index, std::uint64_t step) {
    if (!(p >= 0.0f && p <= 1.0f)) fail("dropout", fmt::format("probability {} is outside [0, 1]", p));
    if (!training || p == 0.0f) return a;
    if (p == 1.0f) return mul(a, 0.0f);
    const std::int64_t rows = a.dim() > 0 ? a.size(0) : 1;
    const std::int64_t row_size = rows > 0 ? a.numel() / rows : 0;
    tensor mask = tensor::empty(a.shape());
    float* m = mask.data<float>();
    fill_uniform(m, rows, row_size, seed, random_purpose("dropout"), index, step);
    const float scale = 1.0f / (1.0f - p);
    const std::int64_t n = mask.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (std::int64_t i = 0; i < n; ++i) m[i] = m[i] >= p ? scale : 0.0f;
    return mul(a, a.type() == dtype::bf16 ? mask.to(dtype::bf16) : mask);
}

tensor embedding(const tensor& table, const tensor& ids) {
    if (!table.defined() || !ids.defined()) fail("embedding", "an operand is undefined");
    if (table.dim() != 2)
        fail("embedding", fmt::format("the table {} must be 2-D [num, dim]", shape_text(table.shape())));
    const std::int64_t num = table.size(0), width = table.size(1);
    const std::vector<std::int64_t> rows = read_ids(ids, num, "embedding", "id");
    shape_t shape = ids.shape();
    shape.push_back(width);
    const tensor t = f32_contiguous(table);
    tensor out = tensor::empty(shape);
    const float* src = t.data<float>();
    float* dst = out.data<float>();
    const std::int64_t count = static_cast<std::int64_t>(rows.size());
#pragma omp parallel for schedule(static) if (count * width > 65536)
    for (std::int64_t i = 0; i < count; ++i)
        std::copy_n(src + rows[static_cast<std::size_t>(i)] * width, width, dst + i * width);
    if (table.type() == dtype::bf16) out = out.to(dtype::bf16);
    const dtype type = table.type();
    record(out, "embedding", {table, ids}, [rows, num, width, type](const tensor& grad) {
        const tensor g = f32_contiguous(grad);
        tensor dt = tensor::zeros({num, width});
        float* d = dt.data<float>();
        const float* gs = g.data<float>();
        // Serial over ids, so repeated ids sum in a fixed order (deterministic).
        for (std::size_t i = 0; i < rows.size(); ++i) {
            float* row = d + rows[i] * width;
            const float* gi = gs + static_cast<std::int64_t>(i) * width;
            for (std::int64_t k = 0; k < width; ++k) row[k] += gi[k];
        }
        return std::vector<tensor>{type == dtype::bf16 ? dt.to(dtype::bf16) : dt, tensor()};
    });
    return out;
}

tensor mse_loss(const tensor& prediction, const tensor& target) {
    const tensor d = sub(prediction, target);
    return mean(mul(d, d));
}

tensor l1_loss(const tensor& prediction, const tensor& target) {
    return mean(abs(sub(prediction, target)));
}

tensor cross_entropy(const tensor& logits, const tensor& labels) {
    if (!logits.defined() || !labels.defined()) fail("cross_entropy", "an operand is undefined");
    if (logits.dim() != 2 || labels.dim() != 1 || labels.size(0) != logits.size(0))
        fail("cross_entropy", fmt::format("expects logits [N, C] and labels [N]; got {} and {}",
                                          shape_text(logits.shape()), shape_text(labels.shape())));
    const std::int64_t n = logits.size(0), c = logits.size(1);
    const std::vector<std::int64_t> classes = read_ids(labels, c, "cross_entropy", "label");
    const tensor x = f32_contiguous(logits);
    const float* px = x.data<float>();
    // Per row: log-sum-exp shifted by the row maximum (stable), then -log p(label).
    std::vector<double> row_loss(static_cast<std::size_t>(n));
    std::vector<float> lse(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(static) if (n * c > 65536)
    for (std::int64_t i = 0; i < n; ++i) {
        const float* row = px + i * c;
        const float top = *std::max_element(row, row + c);
        double total = 0;
        for (std::int64_t k = 0; k < c; ++k) total += std::exp(static_cast<double>(row[k] - top));
        const double value = static_cast<double>(top) + std::log(total);
        lse[static_cast<std::size_t>(i)] = static_cast<float>(value);
        row_loss[static_cast<std::size_t>(i)] = value - row[classes[static_cast<std::size_t>(i)]];
    }
    double total = 0;
    for (double v : row_loss) total += v;
    tensor out = tensor::scalar(static_cast<float>(total / static_cast<double>(std::max<std::int64_t>(n, 1))));
    const dtype type = logits.type();
    record(out, "cross_entropy", {logits, labels}, [x, classes, lse, n, c, type](const tensor& grad) {
        const float g = grad.item() / static_cast<float>(std::max<std::int64_t>(n, 1));
        tensor dx = tensor::empty({n, c});
        float* d = dx.data<float>();
        const float* px = x.data<float>();
        // d/dx of lse - x[label] is softmax(x) - onehot(label).
#pragma omp parallel for schedule(static) if (n * c > 65536)
        for (std::int64_t i = 0; i < n; ++i) {
            const float shift = lse[static_cast<std::size_t>(i)];
            for (std::int64_t k = 0; k < c; ++k) d[i * c + k] = g * std::exp(px[i * c + k] - shift);
            d[i * c + classes[static_cast<std::size_t>(i)]] -= g;
        }
        return std::vector<tensor>{type == dtype::bf16 ? dx.to(dtype::bf16) : dx, tensor()};
    });
    return out;
}

tensor binary_cross_entropy_with_logits(const tensor& logits, const tensor& targets) {
    if (!logits.defined() || !targets.defined()) fail("binary_cross_entropy_with_logits", "an operand is undefined");
    if (logits.shape() != targets.shape())
        fail("binary_cross_entropy_with_logits", fmt::format("logits {} and targets {} must have the same shape",
                                                             shape_text(logits.shape()), shape_text(targets.shape())));
    const tensor x = f32_contiguous(logits), t = f32_contiguous(targets);
    const float* px = x.data<float>();
    const float* pt = t.data<float>();
    const std::int64_t n = x.numel();
    // max(x, 0) - x t + log(1 + exp(-|x|)): no overflow for any x.
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const double v = px[i], y = pt[i];
        total += std::max(v, 0.0) - v * y + std::log1p(std::exp(-std::fabs(v)));
    }
    tensor out = tensor::scalar(static_cast<float>(total / static_cast<double>(std::max<std::int64_t>(n, 1))));
    const bool need_x = logits.requires_grad(), need_t = targets.requires_grad();
    const dtype x_type = logits.type(), t_type = targets.type();
    record(out, "binary_cross_entropy_with_logits", {logits, targets},
           [x, t, n, need_x, need_t, x_type, t_type](const tensor& grad) {
               const float g = grad.item() / static_cast<float>(std::max<std::int64_t>(n, 1));
               const float* px = x.data<float>();
               const float* pt = t.data<float>();
               tensor dx, dt;
               if (need_x) {
                   dx = tensor::empty(x.shape());
                   float* d = dx.data<float>();
                   for (std::int64_t i = 0; i < n; ++i) d[i] = g * (1.0f / (1.0f + std::exp(-px[i])) - pt[i]);
                   if (x_type == dtype::bf16) dx = dx.to(dtype::bf16);
               }
               if (need_t) {
                   dt = tensor::empty(t.shape());
                   float* d = dt.data<float>();
                   for (std::int64_t i = 0; i < n; ++i) d[i] = -g * px[i];
                   if (t_type == dtype::bf16) dt = dt.to(dtype::bf16);
               }
               return std::vector<tensor>{dx, dt};
           });
    return out;
}

}  // namespace difflab
