// SPDX-License-Identifier: Apache-2.0
// A network under a parametrization at one time per example.
#include <difflab/base/error.h>
#include <difflab/diffusion/parametrization.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

namespace difflab {

tensor per_example(const tensor& like, const std::vector<float>& values) {
    shape_t shape(static_cast<std::size_t>(like.dim()), 1);
    shape[0] = like.size(0);
    return tensor::from_vector(shape, values);
}

tensor parametrized_output::x0(const tensor& x_t) const {
    return x_t * c_skip + out * c_out;
}

parametrized_output parametrization::evaluate(network& net, const tensor& x_t, const std::vector<double>& times,
                                              const condition& cond) const {
    const auto n = static_cast<std::size_t>(x_t.size(0));
    if (times.size() != n)
        throw error(
            fmt::format("parametrization: {} times for a batch of {}; give one time per example", times.size(), n));
    parametrized_output result;
    std::vector<float> c_in(n), c_noise(n), c_skip(n), c_out(n);
    for (std::size_t i = 0; i < n; ++i) {
        const preconditioning c = precondition(kind_, process_, times[i], sigma_data_);
        result.coefficients.push_back(c);
        c_in[i] = static_cast<float>(c.c_in);
        c_noise[i] = static_cast<float>(c.c_noise);
        c_skip[i] = static_cast<float>(c.c_skip);
        c_out[i] = static_cast<float>(c.c_out);
    }
    result.out = net.forward(x_t * per_example(x_t, c_in), tensor::from_vector({x_t.size(0)}, c_noise), cond);
    result.c_skip = per_example(x_t, c_skip);
    result.c_out = per_example(x_t, c_out);
    return result;
}

}  // namespace difflab
