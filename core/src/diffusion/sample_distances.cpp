// SPDX-License-Identifier: Apache-2.0
// Distances between two sets of samples.
#include <difflab/base/error.h>
#include <difflab/diffusion/sample_distances.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace difflab {

double sliced_wasserstein(const double* a, const double* b, std::int64_t rows, std::int64_t cols,
                          std::int64_t projections, std::uint64_t seed) {
    if (rows <= 0 || cols <= 0 || projections <= 0)
        throw error(fmt::format("sliced Wasserstein needs non-empty sample sets and at least one projection, "
                                 "got {} rows of {} values and {} projections",
                                rows, cols, projections));
    const auto n = static_cast<std::size_t>(rows), d = static_cast<std::size_t>(cols);
    std::vector<float> z(d);
    std::vector<double> theta(d), pa(n), pb(n);
    double total = 0;
    for (std::int64_t k = 0; k < projections; ++k) {
        philox_stream stream(seed, random_purpose("oracle/sliced_wasserstein"), static_cast<std::uint64_t>(k));
        stream.normal(z.data(), z.size());
        double norm = 0;
        for (std::size_t j = 0; j < d; ++j) norm += static_cast<double>(z[j]) * z[j];
        norm = std::sqrt(norm);
        for (std::size_t j = 0; j < d; ++j) theta[j] = z[j] / norm;
        for (std::size_t i = 0; i < n; ++i) {
            double sa = 0, sb = 0;
            for (std::size_t j = 0; j < d; ++j) {
                sa += a[i * d + j] * theta[j];
                sb += b[i * d + j] * theta[j];
            }
            pa[i] = sa;
            pb[i] = sb;
        }
        std::sort(pa.begin(), pa.end());
        std::sort(pb.begin(), pb.end());
        double square = 0;
        for (std::size_t i = 0; i < n; ++i) square += (pa[i] - pb[i]) * (pa[i] - pb[i]);
        total += square / static_cast<double>(n);
    }
    return std::sqrt(total / static_cast<double>(projections));
}

}  // namespace difflab
