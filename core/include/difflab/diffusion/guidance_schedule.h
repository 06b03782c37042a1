// SPDX-License-Identifier: Apache-2.0
// The per-step scale of a guidance operator.
#pragma once

#include <difflab/plugin/params.h>

#include <string>

namespace difflab {

/// The scale s(t) a guidance operator applies at time t: `scale` inside the window
/// [t_low, t_high] and 0 outside it (guidance switched off, as guided-diffusion's and ILVR's
/// time ranges do), shaped by
///   constant  s(t) = scale
///   linear    s(t) = scale (t - t_low) / (t_high - t_low), strongest at high noise
///   inverse   s(t) = scale (t_high - t) / (t_high - t_low), strongest near the data.
/// A function of t rather than of a step index, so it means the same on every sampler and path.
struct guidance_schedule {
    double scale = 1.0;
    double t_low = 0.0;
    double t_high = 1.0;
    std::string shape = "constant";

    double at(double t) const;
    /// Whether t is inside the window.
    bool active(double t) const { return t >= t_low && t <= t_high; }
    /// The table of a `{scale, t_low, t_high, shape}` section, for an options struct that
    /// holds a schedule (param_spec::section).
    static param_spec<guidance_schedule> params(const std::string& what);
};

}  // namespace difflab
