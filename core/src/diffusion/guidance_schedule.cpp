// SPDX-License-Identifier: Apache-2.0
// The per-step scale of a guidance operator.
#include <difflab/diffusion/guidance_schedule.h>

namespace difflab {

double guidance_schedule::at(double t) const {
    if (!active(t)) return 0.0;
    const double width = t_high - t_low;
    if (shape == "linear") return width > 0 ? scale * (t - t_low) / width : scale;
    if (shape == "inverse") return width > 0 ? scale * (t_high - t) / width : scale;
    return scale;
}

param_spec<guidance_schedule> guidance_schedule::params(const std::string& what) {
    param_spec<guidance_schedule> spec{"The scale of " + what + " over time."};
    spec.add(&guidance_schedule::scale, "scale", "Guidance scale inside the window.", at_least(0.0));
    spec.add(&guidance_schedule::t_low, "t_low", "Guidance acts at times t >= t_low.", closed_range(0.0, 1.0));
    spec.add(&guidance_schedule::t_high, "t_high", "Guidance acts at times t <= t_high.", closed_range(0.0, 1.0));
    spec.add(&guidance_schedule::shape, "shape",
             "Scale over the window: constant, linear (strongest at high noise) or inverse (strongest near the data).",
             one_of({"constant", "linear", "inverse"}));
    return spec;
}

}  // namespace difflab
