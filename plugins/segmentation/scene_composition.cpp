// SPDX-License-Identifier: Apache-2.0
// Painting garments onto a canvas.
#include "scene_composition.h"

#include <utility>

namespace difflab::plugins {

painted_scene paint_scene(std::vector<std::uint8_t> background, std::int64_t canvas,
                          const std::vector<garment_placement>& garments, std::uint8_t threshold) {
    painted_scene scene{std::move(background), std::vector<std::uint8_t>(static_cast<std::size_t>(canvas * canvas), 0)};
    for (const garment_placement& g : garments)
        for (std::int64_t r = 0; r < g.size; ++r)
            for (std::int64_t c = 0; c < g.size; ++c) {
                const std::int64_t y = g.top + r, x = g.left + c;
                const std::uint8_t v = g.pixels[static_cast<std::size_t>(r * g.size + c)];
                if (y < 0 || y >= canvas || x < 0 || x >= canvas || v <= threshold) continue;
                scene.image[static_cast<std::size_t>(y * canvas + x)] = v;
                scene.labels[static_cast<std::size_t>(y * canvas + x)] = static_cast<std::uint8_t>(1 + g.label);
            }
    return scene;
}

}  // namespace difflab::plugins
