// SPDX-License-Identifier: Apache-2.0
// The timestep embedding and per-layer seeds shared by the networks.
#include <difflab/tensor/network_parts.h>
#include <difflab/tensor/random.h>

#include <cmath>
#include <vector>

namespace difflab {

tensor timestep_embedding(const tensor& noise, std::int64_t dim, double scale) {
    const std::vector<float> t = noise.to_vector();
    const auto n = static_cast<std::int64_t>(t.size());
    const std::int64_t half = dim / 2;
    std::vector<float> out(static_cast<std::size_t>(n * dim), 0.0f);
    for (std::int64_t i = 0; i < n; ++i) {
        const double time = static_cast<double>(t[static_cast<std::size_t>(i)]) * scale;
        float* row = out.data() + i * dim;
        for (std::int64_t k = 0; k < half; ++k) {
            const double arg = time * std::exp(-std::log(10000.0) * static_cast<double>(k) / static_cast<double>(half));
            row[k] = static_cast<float>(std::cos(arg));
            row[half + k] = static_cast<float>(std::sin(arg));
        }
    }
    return tensor::from_vector({n, dim}, out);
}

std::uint64_t layer_seed(std::uint64_t base, const std::string& path) {
    std::uint64_t z = base * 0x9e3779b97f4a7c15ull + random_purpose(path);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

}  // namespace difflab
