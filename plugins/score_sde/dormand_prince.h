// SPDX-License-Identifier: Apache-2.0
// Adaptive Dormand-Prince 5(4) integration of y' = F(t, y) for a state made of several tensors.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace difflab::plugins {

/// The state of an ODE: tensors integrated together (the probability-flow ODE's x alone for
/// sampling; x and the integrated divergence estimates for the likelihood).
using ode_state = std::vector<tensor>;

/// The right-hand side dy/dt = F(t, y): one tensor per part of y, each with that part's size.
using ode_function = std::function<ode_state(double t, const ode_state& y)>;

struct dormand_prince_options {
    double rtol = 1e-5;  ///< relative tolerance (score_sde's default for sampling and likelihood)
    double atol = 1e-5;  ///< absolute tolerance
};

struct dormand_prince_result {
    ode_state y;                   ///< the state at t1 (f32 tensors shaped as y0)
    std::int64_t evaluations = 0;  ///< calls of F
    std::int64_t accepted = 0;     ///< accepted steps
    std::int64_t rejected = 0;     ///< rejected step attempts
};

/// Integrates y' = F(t, y) from (t0, y0) to t1 (either direction) with the explicit
/// Runge-Kutta pair of Dormand & Prince 1980 ("A family of embedded Runge-Kutta formulae"):
/// a 5th-order solution propagated, the embedded 4th-order one for the error estimate, and
/// first-same-as-last (the last stage of a step is the first of the next), as
/// scipy.integrate.solve_ivp(method="RK45") which score_sde uses:
///   - error norm: the root mean square over all components of all parts of
///     err / (atol + rtol max(|y_old|, |y_new|)); a step is accepted when it is <= 1;
///   - the next step size is h * clamp(0.9 norm^(-1/5), 0.2, 10), and never grows right
///     after a rejection;
///   - the initial step is scipy's select_initial_step (Hairer, Norsett & Wanner, "Solving
///     ordinary differential equations I", sec. II.4), which costs one evaluation.
/// The state is carried in double precision between steps (F sees f32 tensors), so the
/// tolerances mean what they say down to about 1e-7 relative. Evaluations: 2 + 6 per step
/// attempted, accepted or rejected; none when t0 == t1. Throws difflab::error when the step
/// size falls below 10 ulp of t (F too stiff, or returning non-finite values).
dormand_prince_result dormand_prince(const ode_function& f, const ode_state& y0, double t0, double t1,
                                     const dormand_prince_options& options = {});

}  // namespace difflab::plugins
