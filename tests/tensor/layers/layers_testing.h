// SPDX-License-Identifier: Apache-2.0
// Test helpers for the oneDNN layers: PyTorch fixtures, error measures, finite differences.
#pragma once

#include <difflab/io/safetensors.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/tensor.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace difflab::layers_testing {

/// One case written by tools/bench/torch_reference.py: parameters and named tensors.
struct fixture {
    nlohmann::json params;
    std::map<std::string, tensor> tensors;

    const tensor& operator[](const std::string& name) const {
        auto it = tensors.find(name);
        REQUIRE_MESSAGE(it != tensors.end(), "fixture has no tensor " << name);
        return it->second;
    }
    bool has(const std::string& name) const { return tensors.count(name) != 0; }
};

/// tests/fixtures/torch/<name>.safetensors: tensors, and the op's parameters as a JSON string
/// in the metadata (regenerate with /usr/bin/python3 tools/bench/torch_reference.py).
inline fixture load_fixture(const std::string& name) {
    const safetensors_file file =
        read_safetensors(std::string(DIFFLAB_SOURCE_DIR) + "/tests/fixtures/torch/" + name + ".safetensors");
    fixture f;
    const auto params = file.metadata.find("params");
    REQUIRE_MESSAGE(params != file.metadata.end(), name << " has no params metadata");
    f.params = nlohmann::json::parse(params->second);
    for (const safetensors_entry& entry : file.tensors) f.tensors[entry.name] = to_tensor(entry);
    return f;
}

/// max |a - b| / max |b|: the error relative to the reference's scale (elementwise relative
/// error is meaningless where the reference crosses zero).
inline double relative_error(const tensor& actual, const tensor& expected) {
    REQUIRE_MESSAGE(actual.shape() == expected.shape(),
                    "shape " << shape_text(actual.shape()) << " != " << shape_text(expected.shape()));
    const std::vector<float> a = actual.to_vector(), b = expected.to_vector();
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::abs(static_cast<double>(b[i])));
    }
    return diff / std::max(scale, 1e-30);
}

/// The convolution options a conv fixture was made with.
inline conv_options conv_options_of(const fixture& f) {
    conv_options o;
    o.stride = f.params.at("stride");
    o.padding = f.params.at("padding");
    o.dilation = f.params.at("dilation");
    o.groups = f.params.at("groups");
    return o;
}

/// A leaf holding `t`'s values that requires grad.
inline tensor leaf(const tensor& t) {
    return t.detach().set_requires_grad(true);
}

/// `t`'s values in a strided (non-dense) view: every other element of a wider last dim.
inline tensor strided_copy(const tensor& t) {
    shape_t wide = t.shape();
    wide.back() *= 2;
    tensor base = tensor::zeros(wide);
    tensor view = base.slice(t.dim() - 1, 0, wide.back(), 2);
    view.copy_(t);
    return view;
}

/// Deterministic values in [-1, 1) (a small LCG: tests must not depend on other generators).
inline tensor pattern(const shape_t& shape, std::uint32_t seed) {
    std::vector<float> values(static_cast<std::size_t>(shape_numel(shape)));
    std::uint32_t state = seed * 2654435761u + 12345u;
    for (float& v : values) {
        state = state * 1664525u + 1013904223u;
        v = static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;
    }
    return tensor::from_vector(shape, values);
}

/// Pointer to logical element `index` (row-major numbering) of a strided f32 tensor.
inline float* element(tensor& t, std::int64_t index) {
    std::int64_t offset = 0;
    for (std::int64_t d = t.dim() - 1; d >= 0; --d) {
        const std::int64_t size = t.size(d);
        offset += (index % size) * t.strides()[static_cast<std::size_t>(d)];
        index /= size;
    }
    return t.data<float>() + offset;
}

/// Checks the gradients that autograd gives for every input against central differences of
/// L = sum(f(inputs) * r), r a fixed pattern. Up to `samples` elements per input are probed.
inline void check_gradients(const std::function<tensor(const std::vector<tensor>&)>& f, std::vector<tensor> inputs,
                            double eps = 1e-2, double tolerance = 2e-2, std::int64_t samples = 24) {
    for (tensor& t : inputs) t.set_requires_grad(true);
    const tensor out = f(inputs);
    const tensor r = pattern(out.shape(), 77);
    out.backward(r);
    const std::vector<float> weights = r.to_vector();
    const auto loss = [&] {
        no_grad_guard guard;
        const std::vector<float> values = f(inputs).to_vector();
        double sum = 0;
        for (std::size_t i = 0; i < values.size(); ++i) sum += static_cast<double>(values[i]) * weights[i];
        return sum;
    };
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        tensor& x = inputs[i];
        REQUIRE_MESSAGE(x.grad().defined(), "input " << i << " got no gradient");
        const std::vector<float> analytic = x.grad().to_vector();
        const std::int64_t n = x.numel(), step = std::max<std::int64_t>(1, n / samples);
        double worst = 0, scale = 1e-3;
        for (float g : analytic) scale = std::max(scale, static_cast<double>(std::abs(g)));
        for (std::int64_t j = (n > samples ? step / 2 : 0); j < n; j += step) {
            float* p = element(x, j);
            const float saved = *p;
            *p = saved + static_cast<float>(eps);
            const double up = loss();
            *p = saved - static_cast<float>(eps);
            const double down = loss();
            *p = saved;
            const double numeric = (up - down) / (2 * eps);
            worst = std::max(worst, std::abs(numeric - analytic[static_cast<std::size_t>(j)]) / scale);
        }
        CHECK_MESSAGE(worst <= tolerance, "input " << i << " " << shape_text(x.shape()) << ": finite-difference error "
                                                   << worst << " (relative to max |grad|)");
    }
}

}  // namespace difflab::layers_testing
