// SPDX-License-Identifier: Apache-2.0
// 3-D simplex noise (Perlin 2001, Gustavson 2005).
#include "simplex_lattice.h"

#include <cmath>

namespace difflab::plugins {

const permutation_table& perlin_permutation() {
    static const permutation_table table{
        151, 160, 137, 91,  90,  15,  131, 13,  201, 95,  96,  53,  194, 233, 7,   225, 140, 36,  103, 30,  69,  142,
        8,   99,  37,  240, 21,  10,  23,  190, 6,   148, 247, 120, 234, 75,  0,   26,  197, 62,  94,  252, 219, 203,
        117, 35,  11,  32,  57,  177, 33,  88,  237, 149, 56,  87,  174, 20,  125, 136, 171, 168, 68,  175, 74,  165,
        71,  134, 139, 48,  27,  166, 77,  146, 158, 231, 83,  111, 229, 122, 60,  211, 133, 230, 220, 105, 92,  41,
        55,  46,  245, 40,  244, 102, 143, 54,  65,  25,  63,  161, 1,   216, 80,  73,  209, 76,  132, 187, 208, 89,
        18,  169, 200, 196, 135, 130, 116, 188, 159, 86,  164, 100, 109, 198, 173, 186, 3,   64,  52,  217, 226, 250,
        124, 123, 5,   202, 38,  147, 118, 126, 255, 82,  85,  212, 207, 206, 59,  227, 47,  16,  58,  17,  182, 189,
        28,  42,  223, 183, 170, 213, 119, 248, 152, 2,   44,  154, 163, 70,  221, 153, 101, 155, 167, 43,  172, 9,
        129, 22,  39,  253, 19,  98,  108, 110, 79,  113, 224, 232, 178, 185, 112, 104, 218, 246, 97,  228, 251, 34,
        242, 193, 238, 210, 144, 12,  191, 179, 162, 241, 81,  51,  145, 235, 249, 14,  239, 107, 49,  192, 214, 31,
        181, 199, 106, 157, 184, 84,  204, 176, 115, 121, 50,  45,  127, 4,   150, 254, 138, 236, 205, 93,  222, 114,
        67,  29,  24,  72,  243, 141, 128, 195, 78,  66,  215, 61,  156, 180};
    return table;
}

namespace {

/// The 12 gradients: midpoints of a cube's edges.
constexpr int gradients[12][3] = {{1, 1, 0},  {-1, 1, 0},  {1, -1, 0}, {-1, -1, 0}, {1, 0, 1},  {-1, 0, 1},
                                  {1, 0, -1}, {-1, 0, -1}, {0, 1, 1},  {0, -1, 1},  {0, 1, -1}, {0, -1, -1}};

/// One corner's contribution: (0.6 - r^2)^4 (g . d) inside radius sqrt(0.6), else 0.
double corner(int gradient, double dx, double dy, double dz) {
    const double falloff = 0.6 - dx * dx - dy * dy - dz * dz;
    if (falloff <= 0) return 0;
    const int* g = gradients[gradient];
    return std::pow(falloff, 4) * (g[0] * dx + g[1] * dy + g[2] * dz);
}

}  // namespace

double simplex_noise3(double x, double y, double z, const permutation_table& perm) {
    constexpr double skew = 1.0 / 3, unskew = 1.0 / 6;
    // The cell of the skewed lattice, and the offset from its origin in unskewed space.
    const double s = (x + y + z) * skew;
    const double i = std::floor(x + s), j = std::floor(y + s), k = std::floor(z + s);
    const double t = (i + j + k) * unskew;
    const double x0 = x - (i - t), y0 = y - (j - t), z0 = z - (k - t);
    // Which of the cell's six tetrahedra: the order of the offsets' coordinates.
    int i1, j1, k1, i2, j2, k2;
    if (x0 >= y0) {
        if (y0 >= z0) {
            i1 = 1, j1 = 0, k1 = 0, i2 = 1, j2 = 1, k2 = 0;
        } else if (x0 >= z0) {
            i1 = 1, j1 = 0, k1 = 0, i2 = 1, j2 = 0, k2 = 1;
        } else {
            i1 = 0, j1 = 0, k1 = 1, i2 = 1, j2 = 0, k2 = 1;
        }
    } else if (y0 < z0) {
        i1 = 0, j1 = 0, k1 = 1, i2 = 0, j2 = 1, k2 = 1;
    } else if (x0 < z0) {
        i1 = 0, j1 = 1, k1 = 0, i2 = 0, j2 = 1, k2 = 1;
    } else {
        i1 = 0, j1 = 1, k1 = 0, i2 = 1, j2 = 1, k2 = 0;
    }
    // Lattice coordinates wrap at 256 (floor modulo, so negative cells hash like positive ones).
    const auto wrap = [](double v) { return static_cast<int>(v - 256.0 * std::floor(v / 256.0)); };
    const int ii = wrap(i), jj = wrap(j), kk = wrap(k);
    const auto hash = [&perm](int a, int b, int c) { return perm[(a + perm[(b + perm[c & 255]) & 255]) & 255] % 12; };
    return 32.0 *
           (corner(hash(ii, jj, kk), x0, y0, z0) +
            corner(hash(ii + i1, jj + j1, kk + k1), x0 - i1 + unskew, y0 - j1 + unskew, z0 - k1 + unskew) +
            corner(hash(ii + i2, jj + j2, kk + k2), x0 - i2 + 2 * unskew, y0 - j2 + 2 * unskew, z0 - k2 + 2 * unskew) +
            corner(hash(ii + 1, jj + 1, kk + 1), x0 - 1 + 3 * unskew, y0 - 1 + 3 * unskew, z0 - 1 + 3 * unskew));
}

}  // namespace difflab::plugins
