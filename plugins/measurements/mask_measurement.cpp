// SPDX-License-Identifier: Apache-2.0
// The 'mask' measurement.
#include "mask_measurement.h"

#include <difflab/base/error.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "measurement_common.h"

namespace difflab::plugins {

namespace {

const char* const name = "measurement 'mask'";

}  // namespace

param_spec<mask_measurement::options> mask_measurement::params() {
    param_spec<options> spec{
        "Inpainting (Lugmayr et al. 2022, RePaint; Kawar et al. 2022, DDRM): observes the entries where a mask is "
        "1; y keeps the example's shape, zero where missing."};
    spec.add(
        &options::missing, "missing",
        "The region that is not observed (the hole to fill), the same in every channel and example: center (the "
        "middle floor(H/2) x floor(W/2) rectangle), box (the rectangle `box`), left_half or right_half (floor(W/2) "
        "columns), top_half or bottom_half (floor(H/2) rows), random (a `fraction` of the pixels, drawn under "
        "`seed`). Points [D] take left_half or right_half (the first or last floor(D/2) coordinates) and random.",
        one_of({"center", "box", "left_half", "right_half", "top_half", "bottom_half", "random"}));
    spec.add(&options::box, "box", "The missing rectangle [top, left, height, width] in pixels, for missing: box.",
             at_least<std::int64_t>(0));
    spec.add(&options::fraction, "fraction",
             "The fraction of pixels missing, for missing: random (rounded to a whole number of pixels).",
             closed_range(0.0, 1.0));
    spec.add(&options::observed_frames, "observed_frames",
             "For videos [C, F, H, W]: the frames observed whole (video prediction and infilling as inpainting along "
             "time, Ho et al. 2022); when set it replaces `missing`.",
             at_least<std::int64_t>(0));
    spec.add(&options::seed, "seed", "Seed of the random mask; -1 takes the experiment's seed.",
             at_least<std::int64_t>(-1));
    add_noise_std(spec);
    return spec;
}

mask_measurement::mask_measurement(const options& opts, build_context& ctx)
    : opts_(opts), seed_(opts.seed >= 0 ? static_cast<std::uint64_t>(opts.seed) : ctx.seed()) {
    if (opts_.missing == "box" && opts_.box.size() != 4)
        throw config_error(
            fmt::format("{}: missing: box needs box: [top, left, height, width], got {} values; give "
                        "the four",
                        name, opts_.box.size()));
    if (opts_.missing != "box" && !opts_.box.empty())
        throw config_error(
            fmt::format("{}: box is set but missing is '{}'; set missing: box, or drop box", name, opts_.missing));
}

void mask_measurement::set_mask(const tensor& mask) {
    if (!mask.defined() || mask.dim() == 0)
        throw config_error(fmt::format("{}: set_mask needs a mask of the example's shape; got none", name));
    const tensor values = mask.detach().to(dtype::f32).contiguous().clone();
    for (float v : values.to_vector())
        if (v != 0.0f && v != 1.0f)
            throw config_error(
                fmt::format("{}: the mask set holds the value {}; masks hold 1 (observed) and 0 "
                            "(missing) only",
                            name, v));
    if (!bound()) {
        custom_ = values;
        return;
    }
    const shape_t example = example_shape();  // a copy: bind clears the bound shape first
    const tensor before = custom_;
    custom_ = values;
    try {
        bind(example);
    } catch (const config_error&) {
        custom_ = before;  // the mask does not fit: keep the operator as it was
        bind(example);
        throw;
    }
}

tensor mask_measurement::observed() const {
    return tensor::from_vector(example_shape(), keep_);
}

std::vector<float> mask_measurement::mask_for(const shape_t& example) const {
    const std::int64_t d = shape_numel(example);
    if (custom_.defined()) {
        const shape_t& given = custom_.shape();
        const bool shared = example.size() == 3 && given == shape_t{1, example[1], example[2]};
        if (given != example && !shared)
            throw config_error(
                fmt::format("{}: the mask set has shape {} but the examples are {}; set a mask of the "
                            "example's shape{}",
                            name, shape_text(given), shape_text(example), example.size() == 3 ? " or [1, H, W]" : ""));
        const std::vector<float> values = custom_.to_vector();
        std::vector<float> keep(static_cast<std::size_t>(d));
        for (std::int64_t i = 0; i < d; ++i)
            keep[static_cast<std::size_t>(i)] = values[static_cast<std::size_t>(shared ? i % shape_numel(given) : i)];
        return keep;
    }

    if (!opts_.observed_frames.empty()) return frame_mask(example);

    // One plane of rows x cols shared by the channels; points are a single row.
    const bool points = example.size() == 1;
    if (!points && example.size() != 3)
        throw config_error(
            fmt::format("{} acts on images [C, H, W] or points [D], not on examples of shape {}; use "
                        "it on such data",
                        name, shape_text(example)));
    const std::int64_t rows = points ? 1 : example[1], cols = points ? example[0] : example[2];
    const std::string& missing = opts_.missing;
    if (points && missing != "left_half" && missing != "right_half" && missing != "random")
        throw config_error(
            fmt::format("{}: missing: {} needs images [C, H, W], not examples of shape {}; use "
                        "left_half, right_half or random on points",
                        name, missing, shape_text(example)));
    std::vector<float> plane(static_cast<std::size_t>(rows * cols), 1.0f);
    auto hole = [&](std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width) {
        for (std::int64_t r = top; r < top + height; ++r)
            for (std::int64_t c = left; c < left + width; ++c) plane[static_cast<std::size_t>(r * cols + c)] = 0.0f;
    };
    if (missing == "center") {
        hole((rows - rows / 2) / 2, (cols - cols / 2) / 2, rows / 2, cols / 2);
    } else if (missing == "box") {
        const auto& b = opts_.box;
        if (b[0] + b[2] > rows || b[1] + b[3] > cols)
            throw config_error(
                fmt::format("{}: box [{}, {}, {}, {}] reaches outside the {}x{} images of examples {}; "
                            "choose a box inside them",
                            name, b[0], b[1], b[2], b[3], rows, cols, shape_text(example)));
        hole(b[0], b[1], b[2], b[3]);
    } else if (missing == "left_half") {
        hole(0, 0, rows, cols / 2);
    } else if (missing == "right_half") {
        hole(0, cols - cols / 2, rows, cols / 2);
    } else if (missing == "top_half") {
        hole(0, 0, rows / 2, cols);
    } else if (missing == "bottom_half") {
        hole(rows - rows / 2, 0, rows / 2, cols);
    } else {  // random: exactly round(fraction * pixels) pixels, the first of a Philox permutation
        const std::int64_t pixels = rows * cols;
        const auto count = static_cast<std::int64_t>(std::llround(opts_.fraction * static_cast<double>(pixels)));
        const std::vector<std::int64_t> order =
            philox_stream(seed_, random_purpose("measurement/mask"), 0).permutation(pixels);
        for (std::int64_t i = 0; i < count; ++i)
            plane[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])] = 0;
    }
    std::vector<float> keep(static_cast<std::size_t>(d));
    for (std::int64_t i = 0; i < d; ++i)
        keep[static_cast<std::size_t>(i)] = plane[static_cast<std::size_t>(i % (rows * cols))];
    return keep;
}

std::vector<float> mask_measurement::frame_mask(const shape_t& example) const {
    if (example.size() != 4)
        throw config_error(
            fmt::format("{}: observed_frames needs videos [C, F, H, W], not examples of shape {}; drop "
                        "observed_frames for images and points",
                        name, shape_text(example)));
    const std::int64_t frames = example[1], plane = example[2] * example[3];
    std::vector<float> frame_observed(static_cast<std::size_t>(frames), 0.0f);
    for (std::int64_t f : opts_.observed_frames) {
        if (f >= frames)
            throw config_error(fmt::format("{}: observed_frames lists frame {}, but the videos have {} frames (0..{}); "
                                           "list frames that exist",
                                           name, f, frames, frames - 1));
        frame_observed[static_cast<std::size_t>(f)] = 1.0f;
    }
    std::vector<float> keep(static_cast<std::size_t>(shape_numel(example)));
    for (std::size_t i = 0; i < keep.size(); ++i)
        keep[i] = frame_observed[(i / static_cast<std::size_t>(plane)) % static_cast<std::size_t>(frames)];
    return keep;
}

measurement::binding mask_measurement::prepare(const shape_t& example_shape) {
    keep_ = mask_for(example_shape);
    order_.clear();
    for (std::size_t i = 0; i < keep_.size(); ++i)
        if (keep_[i] != 0) order_.push_back(static_cast<std::int64_t>(i));
    const std::size_t observed = order_.size();
    for (std::size_t i = 0; i < keep_.size(); ++i)
        if (keep_[i] == 0) order_.push_back(static_cast<std::int64_t>(i));
    std::vector<double> singular(keep_.size(), 0.0);
    std::fill(singular.begin(), singular.begin() + static_cast<std::ptrdiff_t>(observed), 1.0);
    return {example_shape, singular};
}

tensor mask_measurement::do_apply(const tensor& x) const {
    const std::size_t d = keep_.size();
    tensor out = tensor::empty(x.shape());
    const float* in = x.data<float>();
    float* o = out.data<float>();
    for (std::size_t i = 0; i < static_cast<std::size_t>(x.numel()); ++i) o[i] = in[i] * keep_[i % d];
    return out;
}

tensor mask_measurement::do_v_transpose(const tensor& x) const {
    const std::int64_t n = x.size(0), d = static_cast<std::int64_t>(order_.size());
    tensor out = tensor::empty({n, d});
    const float* in = x.data<float>();
    float* o = out.data<float>();
    for (std::int64_t e = 0; e < n; ++e)
        for (std::int64_t k = 0; k < d; ++k) o[e * d + k] = in[e * d + order_[static_cast<std::size_t>(k)]];
    return out;
}

tensor mask_measurement::do_v(const tensor& coefficients) const {
    const std::int64_t n = coefficients.size(0), d = static_cast<std::int64_t>(order_.size());
    tensor out = tensor::empty({n, d});
    const float* in = coefficients.data<float>();
    float* o = out.data<float>();
    for (std::int64_t e = 0; e < n; ++e)
        for (std::int64_t k = 0; k < d; ++k) o[e * d + order_[static_cast<std::size_t>(k)]] = in[e * d + k];
    return out;
}

}  // namespace difflab::plugins
