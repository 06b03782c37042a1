// SPDX-License-Identifier: Apache-2.0
// A network under a parametrization at one time per example: what sampling and training share.
#pragma once

#include <difflab/diffusion/condition.h>
#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/network.h>

#include <vector>

namespace difflab {

/// The network's output at a batch of x_t and the coefficients that make it an estimate of x0.
struct parametrized_output {
    tensor out;                                 ///< F(c_in x_t, c_noise, cond), the network's output
    std::vector<preconditioning> coefficients;  ///< of each example's time
    tensor c_skip, c_out;                       ///< [N, 1, ..., 1], to broadcast over x_t

    /// The denoised estimate c_skip x_t + c_out F.
    tensor x0(const tensor& x_t) const;
};

/// A network F wrapped by a parametrization for a process (Karras et al. 2022, eq. 7 and
/// Table 1): x0 = c_skip x_t + c_out F(c_in x_t, c_noise, cond). Written once here, so that the
/// denoiser samplers drive (network_denoiser, one time for the batch) and the loss that trains
/// it (denoising_loss, a time per example) cannot disagree on a coefficient. The condition's
/// channels go to the network as they are: c_in scales x_t only (condition.h says why).
class parametrization {
public:
    parametrization(const process& p, prediction kind, double sigma_data = 0.5)
        : process_(p), kind_(kind), sigma_data_(sigma_data) {}

    const process& diffusion() const { return process_; }
    prediction kind() const { return kind_; }
    double sigma_data() const { return sigma_data_; }

    /// F at x_t, with times[i] the time of example i.
    parametrized_output evaluate(network& net, const tensor& x_t, const std::vector<double>& times,
                                 const condition& cond) const;

private:
    const process& process_;
    prediction kind_;
    double sigma_data_;
};

/// [N, 1, ..., 1] holding one value per example of `like`, to broadcast over its shape.
tensor per_example(const tensor& like, const std::vector<float>& values);

}  // namespace difflab
