// SPDX-License-Identifier: Apache-2.0
#include "pixel_classifier.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// Three classes of 2-D points around (-2, 0), (2, 0) and (0, 3), standard deviation 0.5, with a
/// third feature of pure noise: pixel i has class i % 3.
void blobs(std::int64_t n, std::uint64_t seed, tensor& features, tensor& labels) {
    const float centers[3][2] = {{-2, 0}, {2, 0}, {0, 3}};
    const std::vector<float> noise = randn({n, 3}, seed, random_purpose("test/blobs")).to_vector();
    std::vector<float> f(static_cast<std::size_t>(n * 3)), y(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        const int c = static_cast<int>(i % 3);
        y[static_cast<std::size_t>(i)] = static_cast<float>(c);
        for (int d = 0; d < 2; ++d) f[static_cast<std::size_t>(i * 3 + d)] = centers[c][d] + 0.5f * noise[i * 3 + d];
        f[static_cast<std::size_t>(i * 3 + 2)] = noise[i * 3 + 2];
    }
    features = tensor::from_vector({n, 3}, f);
    labels = tensor::from_vector({n}, y);
}

}  // namespace

TEST_CASE("pixel_mlp: Baranchuk et al.'s widths by class count, weights N(0, 0.02^2), logits [P, K]") {
    pixel_mlp small(6, 11, 1), large(6, 30, 1);
    const auto names = small.state_dict();
    CHECK(names.at("first.weight").shape() == shape_t{128, 6});
    CHECK(names.at("second.weight").shape() == shape_t{32, 128});
    CHECK(names.at("out.weight").shape() == shape_t{11, 32});
    CHECK(names.count("first_norm.running_var") == 1);
    CHECK(large.state_dict().at("first.weight").shape() == shape_t{256, 6});
    CHECK(large.state_dict().at("second.weight").shape() == shape_t{128, 256});
    const std::vector<float> w = names.at("second.weight").to_vector();
    double square = 0;
    for (float v : w) square += static_cast<double>(v) * v;
    CHECK(std::sqrt(square / static_cast<double>(w.size())) == doctest::Approx(0.02).epsilon(0.05));
    CHECK(names.at("out.bias").to_vector() == std::vector<float>(11, 0.0f));
    small.eval();
    CHECK(small.forward(tensor::zeros({5, 6})).shape() == shape_t{5, 11});
}

TEST_CASE("ensemble_vote: majority of the members' classes, ties to the smaller class, Jensen-Shannon by hand") {
    // Pixel 0: members choose 2, 1, 2 -> 2. Pixel 1: 0, 1 and a member tied between 0 and 1 (its
    // first, 0) -> 0 with two votes. Pixel 2: all members equal -> uncertainty 0.
    const tensor a = tensor::from_vector({3, 3}, {0.1f, 0.2f, 0.7f, 0.9f, 0.1f, 0.0f, 0.2f, 0.3f, 0.5f});
    const tensor b = tensor::from_vector({3, 3}, {0.1f, 0.8f, 0.1f, 0.2f, 0.8f, 0.0f, 0.2f, 0.3f, 0.5f});
    const tensor c = tensor::from_vector({3, 3}, {0.0f, 0.4f, 0.6f, 0.5f, 0.5f, 0.0f, 0.2f, 0.3f, 0.5f});
    const pixel_prediction vote = ensemble_vote({a, b, c});
    CHECK(vote.labels.to_vector() == std::vector<float>{2, 0, 2});
    const auto h = [](std::vector<double> p) {
        double total = 0;
        for (double v : p)
            if (v > 0) total -= v * std::log(v);
        return total;
    };
    const double js0 =
        h({0.2 / 3, 1.4 / 3, 1.4 / 3}) - (h({0.1, 0.2, 0.7}) + h({0.1, 0.8, 0.1}) + h({0, 0.4, 0.6})) / 3;
    const std::vector<float> u = vote.uncertainty.to_vector();
    CHECK(u[0] == doctest::Approx(js0).epsilon(1e-5));
    CHECK(u[2] == doctest::Approx(0.0).scale(1.0).epsilon(1e-6));
    // Two certain members that disagree: ln 2.
    const pixel_prediction split =
        ensemble_vote({tensor::from_vector({1, 2}, {1, 0}), tensor::from_vector({1, 2}, {0, 1})});
    CHECK(split.labels.to_vector()[0] == 0.0f);
    CHECK(split.uncertainty.to_vector()[0] == doctest::Approx(std::log(2.0)).epsilon(1e-6));
}

TEST_CASE("image_uncertainty: the mean of the highest tenth of the pixels") {
    std::vector<float> u(20);
    for (std::size_t i = 0; i < u.size(); ++i) u[i] = static_cast<float>(i);
    CHECK(image_uncertainty(u) == doctest::Approx(18.5));
    CHECK(image_uncertainty({0.25f, 3.0f}) == doctest::Approx(3.0));
    CHECK_THROWS_AS(image_uncertainty({}), error);
}

TEST_CASE("pixel_ensemble learns separable classes, is sure at the centers, stops early, and repeats by seed") {
    tensor features, labels, test_features, test_labels;
    blobs(600, 1, features, labels);
    blobs(300, 2, test_features, test_labels);
    pixel_training training;
    training.members = 3;
    training.max_epochs = 20;
    pixel_ensemble ensemble(3, 3, training, 7);
    const std::vector<std::int64_t> iterations = ensemble.fit(features, labels);
    REQUIRE(iterations.size() == 3);
    for (std::int64_t n : iterations) {
        CHECK(n > 5 * 10);       // past the epochs without early stopping (10 batches each)
        CHECK(n < 20 * 10 + 1);  // at most max_epochs
    }
    const pixel_prediction p = ensemble.predict(test_features);
    const std::vector<float> predicted = p.labels.to_vector(), truth = test_labels.to_vector();
    int right = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) right += predicted[i] == truth[i];
    CHECK(right >= 294);  // 98%: the blobs overlap by less than that
    // The members agree at the centers more than between two classes.
    const pixel_prediction sure = ensemble.predict(tensor::from_vector({2, 3}, {-2, 0, 0, 0, 3, 0}));
    const pixel_prediction unsure = ensemble.predict(tensor::from_vector({1, 3}, {0, 0.2f, 0}));
    CHECK(sure.uncertainty.to_vector()[0] < unsure.uncertainty.to_vector()[0]);
    CHECK(sure.labels.to_vector() == std::vector<float>{0, 2});

    pixel_ensemble again(3, 3, training, 7);
    CHECK(again.fit(features, labels) == iterations);
    CHECK(again.predict(test_features).labels.to_vector() == predicted);
    pixel_ensemble other(3, 3, training, 8);
    other.fit(features, labels);
    CHECK(other.predict(test_features).uncertainty.to_vector() != p.uncertainty.to_vector());
}
