// SPDX-License-Identifier: Apache-2.0
// Finite-difference gradient checker for tests of differentiable ops and modules.
#pragma once

#include <difflab/tensor/autograd.h>
#include <difflab/tensor/tensor.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace difflab::testing {

struct gradcheck_options {
    /// Central-difference step, in the units of the inputs (f32 data: 1e-3 balances the
    /// truncation error, O(eps^2), against rounding, O(1e-7 |f| / eps)).
    double eps = 1e-3;
    /// An entry passes when |analytic - numeric| <= atol + rtol * |numeric|.
    double atol = 2e-3;
    double rtol = 2e-2;
    /// Check at most this many entries per input (spread evenly over it); 0 checks all.
    std::int64_t max_entries = 0;
    /// Seed of the fixed random weights w that project the output to a scalar sum(w * f(x)).
    std::uint64_t seed = 7;
};

struct gradcheck_result {
    bool ok = true;
    double max_abs_error = 0;
    std::int64_t checked = 0;
    /// One line per failing entry (the first few), empty when ok.
    std::string report;
};

/// Compares the gradients autograd gives for L = sum(w * f(inputs)), w fixed pseudo-random
/// weights in [-1, 1], with central differences of L computed in double over f32 evaluations
/// of f. Inputs may be strided views (the check perturbs the elements they see in place and
/// restores them); each is detached and marked as requiring grad for the analytic pass.
/// Usage: `auto r = gradcheck(f, {x, w}); CHECK_MESSAGE(r.ok, r.report);`
inline gradcheck_result gradcheck(const std::function<tensor(const std::vector<tensor>&)>& f,
                                  const std::vector<tensor>& inputs, const gradcheck_options& options = {}) {
    std::vector<tensor> leaves;
    for (const tensor& input : inputs)
        leaves.push_back(input.defined() ? input.detach().set_requires_grad() : tensor());

    tensor output = f(leaves);
    // Weights from a 64-bit LCG: reproducible, independent of the engine under test.
    std::vector<float> w(static_cast<std::size_t>(output.numel()));
    std::uint64_t state = options.seed * 6364136223846793005ull + 1442695040888963407ull;
    for (float& value : w) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        value = static_cast<float>(static_cast<double>(state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    tensor seed = tensor::from_vector(output.shape(), w);
    std::vector<tensor> wanted;
    for (const tensor& leaf : leaves)
        if (leaf.defined()) wanted.push_back(leaf);
    const std::vector<tensor> analytic = gradients(output, wanted, seed);

    auto loss = [&]() {
        no_grad_guard guard;
        const std::vector<float> values = f(leaves).to_vector();
        double total = 0;
        for (std::size_t i = 0; i < values.size(); ++i) total += static_cast<double>(values[i]) * w[i];
        return total;
    };

    gradcheck_result result;
    int failures = 0;
    std::size_t k = 0;
    for (std::size_t input_index = 0; input_index < leaves.size(); ++input_index) {
        tensor leaf = leaves[input_index];
        if (!leaf.defined()) continue;
        const std::vector<float> grad = analytic[k++].to_vector();
        const shape_t& shape = leaf.shape();
        const std::int64_t numel = leaf.numel();
        const std::int64_t stride = options.max_entries > 0 && numel > options.max_entries
                                        ? (numel + options.max_entries - 1) / options.max_entries
                                        : 1;
        float* base = static_cast<float*>(leaf.raw_data());
        for (std::int64_t e = 0; e < numel; e += stride) {
            // Logical row-major index e -> element offset through the strides.
            std::int64_t rest = e, offset = 0;
            for (std::size_t d = shape.size(); d-- > 0;) {
                offset += (rest % shape[d]) * leaf.strides()[d];
                rest /= shape[d];
            }
            const float original = base[offset];
            base[offset] = static_cast<float>(original + options.eps);
            const double up = loss();
            base[offset] = static_cast<float>(original - options.eps);
            const double down = loss();
            base[offset] = original;
            // The actual step after rounding to f32, so that the quotient is not biased.
            const double step = static_cast<double>(static_cast<float>(original + options.eps)) -
                                static_cast<double>(static_cast<float>(original - options.eps));
            const double numeric = (up - down) / step;
            const double got = grad[static_cast<std::size_t>(e)];
            const double error = std::fabs(got - numeric);
            result.max_abs_error = std::max(result.max_abs_error, error);
            ++result.checked;
            if (error > options.atol + options.rtol * std::fabs(numeric)) {
                result.ok = false;
                if (failures++ < 8)
                    result.report += fmt::format("input {} {} entry {}: autograd {:.6g}, finite difference {:.6g}\n",
                                                 input_index, shape_text(shape), e, got, numeric);
            }
        }
    }
    return result;
}

}  // namespace difflab::testing
