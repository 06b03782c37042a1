// SPDX-License-Identifier: Apache-2.0
// From reconstructions to anomaly scores.
#include "anomaly_scoring.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/metric.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

namespace difflab::plugins {

tensor anomaly_maps(const tensor& x, const tensor& reconstruction) {
    if (x.shape() != reconstruction.shape() || x.dim() != 4)
        throw error(fmt::format("anomaly_maps: images {} and reconstructions {} do not pair", shape_text(x.shape()),
                                shape_text(reconstruction.shape())));
    const std::int64_t n = x.size(0), channels = x.size(1), plane = x.size(2) * x.size(3);
    const std::vector<float> a = x.contiguous().to_vector(), b = reconstruction.contiguous().to_vector();
    std::vector<float> maps(static_cast<std::size_t>(n * plane), 0.0f);
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t c = 0; c < channels; ++c)
            for (std::int64_t p = 0; p < plane; ++p) {
                const auto at = static_cast<std::size_t>((i * channels + c) * plane + p);
                maps[static_cast<std::size_t>(i * plane + p)] += (a[at] - b[at]) * (a[at] - b[at]);
            }
    return tensor::from_vector({n, 1, x.size(2), x.size(3)}, maps);
}

std::vector<double> image_scores(const tensor& maps) {
    const std::int64_t n = maps.size(0), per = maps.numel() / std::max<std::int64_t>(n, 1);
    const std::vector<float> v = maps.contiguous().to_vector();
    std::vector<double> scores(static_cast<std::size_t>(n), 0.0);
    for (std::int64_t i = 0; i < n; ++i) {
        for (std::int64_t p = 0; p < per; ++p)
            scores[static_cast<std::size_t>(i)] += v[static_cast<std::size_t>(i * per + p)];
        scores[static_cast<std::size_t>(i)] /= static_cast<double>(per);
    }
    return scores;
}

std::vector<double> multi_start_scores(const std::vector<std::vector<double>>& per_start,
                                       const std::vector<std::size_t>& reference) {
    if (per_start.empty() || reference.empty())
        throw error("multi_start_scores: needs at least one start and one reference image");
    std::vector<double> combined(per_start.front().size(), 0.0);
    for (const std::vector<double>& scores : per_start) {
        double mean = 0, square = 0;
        for (std::size_t r : reference) mean += scores.at(r) / static_cast<double>(reference.size());
        for (std::size_t r : reference) square += std::pow(scores[r] - mean, 2) / static_cast<double>(reference.size());
        const double spread = std::sqrt(square) > 0 ? std::sqrt(square) : 1.0;
        for (std::size_t i = 0; i < combined.size(); ++i)
            combined[i] += (scores.at(i) - mean) / spread / static_cast<double>(per_start.size());
    }
    return combined;
}

double mean_dice(const tensor& maps, const tensor& masks, const std::vector<std::size_t>& images, double threshold) {
    const std::int64_t per = maps.numel() / maps.size(0);
    const std::vector<float> m = maps.contiguous().to_vector(), t = masks.contiguous().to_vector();
    double total = 0;
    for (std::size_t i : images) {
        double both = 0, predicted = 0, truth = 0;
        for (std::int64_t p = 0; p < per; ++p) {
            const auto at = static_cast<std::size_t>(static_cast<std::int64_t>(i) * per + p);
            const bool a = m[at] > threshold, b = t[at] > 0.5f;
            both += a && b;
            predicted += a;
            truth += b;
        }
        total += predicted + truth > 0 ? 2 * both / (predicted + truth) : 1.0;
    }
    return images.empty() ? 0.0 : total / static_cast<double>(images.size());
}

double best_dice_threshold(const tensor& maps, const tensor& masks, const std::vector<std::size_t>& images,
                           std::int64_t candidates) {
    if (images.empty()) throw error("best_dice_threshold: no image to choose the threshold on");
    const std::int64_t per = maps.numel() / maps.size(0);
    const std::vector<float> m = maps.contiguous().to_vector();
    double low = std::numeric_limits<double>::infinity(), high = -low;
    for (std::size_t i : images)
        for (std::int64_t p = 0; p < per; ++p) {
            const double v = m[static_cast<std::size_t>(static_cast<std::int64_t>(i) * per + p)];
            low = std::min(low, v);
            high = std::max(high, v);
        }
    double best = low, best_dice = -1;
    for (std::int64_t k = 0; k < candidates; ++k) {
        const double threshold = low + (high - low) * static_cast<double>(k) / static_cast<double>(candidates);
        const double dice = mean_dice(maps, masks, images, threshold);
        if (dice > best_dice) best_dice = dice, best = threshold;
    }
    return best;
}

double rank_metric(build_context& builder, const std::string& type, const tensor& scores, const tensor& labels) {
    const std::unique_ptr<metric> m = builder.create(component_ref<metric>(type));
    metric_inputs in;
    in.samples = scores;
    in.reference = labels;
    return m->compute(in).front().second;
}

tensor select_rows(const tensor& all, const std::vector<std::size_t>& rows) {
    std::vector<tensor> parts;
    for (std::size_t r : rows)
        parts.push_back(all.slice(0, static_cast<std::int64_t>(r), static_cast<std::int64_t>(r) + 1));
    return concat(parts, 0).contiguous();
}

tensor as_tensor(const std::vector<double>& values) {
    return tensor::from_vector({static_cast<std::int64_t>(values.size())},
                               std::vector<float>(values.begin(), values.end()));
}

}  // namespace difflab::plugins
