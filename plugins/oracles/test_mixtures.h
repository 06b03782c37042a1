// SPDX-License-Identifier: Apache-2.0
// Test support: the small Gaussian mixtures the oracle's tests share.
#pragma once

#include "gaussian_mixture.h"

namespace difflab::plugins::test_mixtures {

/// Three overlapping 2-D components with full, different covariances and unequal weights.
inline gaussian_mixture three_components() {
    Eigen::MatrixXd c0(2, 2), c1(2, 2), c2(2, 2);
    c0 << 0.5, 0.2, 0.2, 0.3;
    c1 << 0.1, -0.05, -0.05, 0.4;
    c2 << 0.2, 0.0, 0.0, 0.2;
    return gaussian_mixture({0.5, 0.3, 0.2}, {Eigen::Vector2d(-2, 0), Eigen::Vector2d(2, 1), Eigen::Vector2d(0, 3)},
                            {c0, c1, c2});
}

/// Two 4-D components with full covariances that couple every coordinate: inpainting and
/// measurement tests observe some coordinates and infer the others.
inline gaussian_mixture two_components_4d() {
    Eigen::MatrixXd c0(4, 4), c1(4, 4);
    c0 << 0.5, 0.2, 0.1, 0.0, 0.2, 0.4, 0.0, 0.1, 0.1, 0.0, 0.3, 0.05, 0.0, 0.1, 0.05, 0.6;
    c1 << 0.3, -0.1, 0.0, 0.1, -0.1, 0.2, 0.05, 0.0, 0.0, 0.05, 0.6, -0.2, 0.1, 0.0, -0.2, 0.5;
    return gaussian_mixture({0.6, 0.4}, {Eigen::Vector4d(-1, 0, 1, 0.5), Eigen::Vector4d(1, 1, -1, 0)}, {c0, c1});
}

}  // namespace difflab::plugins::test_mixtures
