// SPDX-License-Identifier: Apache-2.0
// Painting scenes by hand: occlusion in draw order, transparent dark pixels, cut edges.
#include "scene_composition.h"

#include <doctest/doctest.h>

#include <vector>

using namespace difflab::plugins;

TEST_CASE("garments paint their bright pixels in order, dark ones and the rest stay background") {
    // A 5 x 5 canvas of 10s. Garment A (class 3, labelled 4): a 3 x 3 patch at (0, 0) whose middle
    // column is dark (0). Garment B (class 5, labelled 6): a 2 x 2 patch of 255 at (1, 1), drawn
    // later, so it covers A's bright pixel (1, 2) and A's dark middle column at (1, 1), (2, 1).
    const garment_placement a{{200, 0, 200, 200, 0, 200, 200, 0, 200}, 3, 0, 0, 3};
    const garment_placement b{{255, 255, 255, 255}, 2, 1, 1, 5};
    const painted_scene scene = paint_scene(std::vector<std::uint8_t>(25, 10), 5, {a, b}, 64);
    const std::vector<std::uint8_t> labels{4, 0, 4, 0, 0,  //
                                           4, 6, 6, 0, 0,  //
                                           4, 6, 6, 0, 0,  //
                                           0, 0, 0, 0, 0,  //
                                           0, 0, 0, 0, 0};
    const std::vector<std::uint8_t> image{200, 10,  200, 10, 10,  //
                                          200, 255, 255, 10, 10,  //
                                          200, 255, 255, 10, 10,  //
                                          10,  10,  10,  10, 10,  //
                                          10,  10,  10,  10, 10};
    CHECK(scene.labels == labels);
    CHECK(scene.image == image);
}

TEST_CASE("a pixel at the threshold is transparent, parts past the canvas are cut") {
    const garment_placement edge{{64, 65, 65, 65}, 2, 4, 4, 0};  // only its top-left pixel is on a 5 x 5 canvas
    const painted_scene at_threshold = paint_scene(std::vector<std::uint8_t>(25, 0), 5, {edge}, 64);
    CHECK(at_threshold.labels[24] == 0);  // 64 is not brighter than 64
    const painted_scene above = paint_scene(std::vector<std::uint8_t>(25, 0), 5, {edge}, 63);
    CHECK(above.labels[24] == 1);
    CHECK(above.image[24] == 64);
    int painted = 0;
    for (std::uint8_t l : above.labels) painted += l > 0;
    CHECK(painted == 1);
}
