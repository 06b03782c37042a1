// SPDX-License-Identifier: Apache-2.0
// Tests of the condition bundle: its rows, the loss mask, and a dataset's pair reaching the network in training.
#include <difflab/base/error.h>
#include <difflab/diffusion/condition.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/run/training.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/test_processes.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// F(x) = w x + b, one weight and bias per channel of [N, 2, H, W] images.
class channel_affine final : public network {
public:
    explicit channel_affine(float w0) {
        w = register_parameter("w", tensor::full({1, 2, 1, 1}, w0));
        b = register_parameter("b", tensor::full({1, 2, 1, 1}, 0.1f));
    }
    tensor forward(const tensor& x, const tensor&, const condition&) override { return x * w + b; }
    tensor w, b;
};

tensor sample(const shape_t& shape, std::uint64_t index) {
    return randn(shape, 4, random_purpose("condition_test"), index);
}

std::vector<float> values(const tensor& t) {
    return t.contiguous().to_vector();
}

struct loss_and_gradients {
    std::vector<float> loss, w, b;
};

loss_and_gradients masked_loss(const tensor& mask) {
    testing::linear_vp p;
    channel_affine net(0.3f);
    const tensor x0 = sample({3, 2, 2, 2}, 0), noise = sample({3, 2, 2, 2}, 100);
    condition cond;
    cond.loss_mask = mask;
    const tensor loss = denoising_loss(net, p, prediction::v, 0.5, x0, {0.2, 0.5, 0.9}, noise, cond);
    loss.backward();
    return {values(loss), values(net.w.grad()), values(net.b.grad())};
}

/// Images [1, 2, 2] from their own streams, labelled by their index and paired with an image
/// filled with their index: whatever the data order, a pair can be told to belong to its example.
class paired_images final : public dataset {
public:
    std::int64_t size() const override { return 12; }
    shape_t example_shape() const override { return {1, 2, 2}; }
    example_batch get(const std::vector<std::int64_t>& indices) const override {
        std::vector<tensor> x, paired;
        std::vector<float> labels;
        for (const std::int64_t i : indices) {
            x.push_back(sample({1, 1, 2, 2}, 200 + static_cast<std::uint64_t>(i)));
            paired.push_back(tensor::full({1, 1, 2, 2}, static_cast<float>(i)));
            labels.push_back(static_cast<float>(i));
        }
        return {concat(x, 0), tensor::from_vector({static_cast<std::int64_t>(labels.size())}, labels),
                concat(paired, 0)};
    }
};

/// F(x) = w x, recording the condition of every call.
class recording_network final : public network {
public:
    recording_network() { w = register_parameter("w", tensor::full({1}, 0.5f)); }
    tensor forward(const tensor& x, const tensor&, const condition& cond) override {
        seen.push_back(cond);
        return x * w;
    }
    tensor w;
    std::vector<condition> seen;
};

fs::path scratch(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("difflab_condition_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    return dir;
}

training_options three_steps() {
    training_options o;
    o.steps = 3;
    o.batch_size = 4;
    o.ema = 0;
    o.checkpoint_every = 3;
    return o;
}

}  // namespace

TEST_CASE("a condition's rows and the join of two: field by field, undefined fields stay undefined") {
    condition c;
    CHECK(c.empty());
    c.labels = tensor::from_vector({4}, {0, 1, 2, 3});
    c.channels = sample({4, 1, 2, 2}, 1);
    CHECK(!c.empty());
    const condition middle = c.rows(1, 2);
    CHECK(values(middle.labels) == std::vector<float>{1, 2});
    CHECK(values(middle.channels) == values(c.channels.slice(0, 1, 3)));
    CHECK(!middle.loss_mask.defined());
    CHECK(!middle.context.defined());

    condition null = c;
    null.labels = tensor::full({4}, 9.0f);
    const condition both = concat_rows(c, null);
    CHECK(values(both.labels) == std::vector<float>{0, 1, 2, 3, 9, 9, 9, 9});
    CHECK(both.channels.shape() == shape_t{8, 1, 2, 2});
    CHECK(values(both.channels.slice(0, 4, 8)) == values(c.channels));
    CHECK(concat_rows(condition(), condition()).empty());

    CHECK_THROWS_WITH_AS(
        concat_rows(c, condition::from_labels(null.labels)),
        "error: cannot join conditions: condition.channels is defined in the first but not in the second; "
        "give both the same fields",
        error);
    CHECK_THROWS_WITH_AS(c.rows(3, 2),
                         "error: condition.labels is [4]; rows [3, 5) are not in it; slice within its first dimension",
                         error);
}

TEST_CASE("a loss mask of ones gives exactly the unmasked loss and gradients, shaped like x or [N, 1, H, W]") {
    const loss_and_gradients plain = masked_loss(tensor());
    for (const shape_t& shape : {shape_t{3, 2, 2, 2}, shape_t{3, 1, 2, 2}}) {
        const loss_and_gradients ones = masked_loss(tensor::full(shape, 1.0f));
        CHECK(ones.loss == plain.loss);
        CHECK(ones.w == plain.w);
        CHECK(ones.b == plain.b);
    }
}

TEST_CASE("the masked loss divides by the mask's sum per example: a region keeps the scale of the whole") {
    // Eps prediction with F = 0: the target is the noise and every weight is 1, so the loss is
    // the mean over examples of sum(m noise^2) / sum(m).
    testing::linear_vp p;
    channel_affine zero(0.0f);
    zero.b.copy_(tensor::zeros({1, 2, 1, 1}));
    const tensor x0 = sample({3, 2, 2, 2}, 0), noise = sample({3, 2, 2, 2}, 100);
    // Example 0: one pixel (both channels); example 1: every pixel weighted 2; example 2: nothing.
    std::vector<float> mask(12, 0.0f);
    mask[0] = 1;
    for (int j = 4; j < 8; ++j) mask[static_cast<std::size_t>(j)] = 2;
    condition cond;
    cond.loss_mask = tensor::from_vector({3, 1, 2, 2}, mask);
    const double loss = values(denoising_loss(zero, p, prediction::eps, 0.5, x0, {0.2, 0.5, 0.9}, noise, cond))[0];
    const std::vector<float> z = values(noise);
    const double first = (z[0] * z[0] + z[4] * z[4]) / 2.0;  // pixel 0 of both channels
    double second = 0;
    for (int j = 8; j < 16; ++j) second += z[static_cast<std::size_t>(j)] * z[static_cast<std::size_t>(j)] / 8.0;
    CHECK(loss == doctest::Approx((first + second + 0.0) / 3).epsilon(1e-5));

    cond.loss_mask = tensor::ones({3, 2, 3, 2});
    CHECK_THROWS_WITH_AS(
        denoising_loss(zero, p, prediction::eps, 0.5, x0, {0.2, 0.5, 0.9}, noise, cond),
        "error: denoising loss: condition.loss_mask [3, 2, 3, 2] does not fit the data [3, 2, 2, 2]; give "
        "it the data's shape or 1 in the dimensions it spreads over, e.g. [N, 1, H, W]",
        error);
}

/// Keeps the input it is given and predicts 0.
class input_recorder final : public network {
public:
    tensor forward(const tensor& x, const tensor&, const condition&) override {
        seen = x.contiguous().clone();
        return x * 0.0f;
    }
    tensor seen;
};

TEST_CASE("a clean mask holds x0 inside x_t and asks for the output whose estimate is x0 there") {
    // RaMViD's given frames: rows 0 of examples 0 and 2 clean ([N, 1, H, 1] spreads over channels
    // and columns), example 1 untouched. Eps prediction with F = 0: the target is the noise on
    // noisy elements and x0 (1 - alpha) / sigma on clean ones, (x0 - c_skip x0) / c_out.
    testing::linear_vp p;
    input_recorder net;
    const tensor x0 = sample({3, 2, 2, 2}, 0), noise = sample({3, 2, 2, 2}, 100);
    const std::vector<double> times{0.2, 0.5, 0.9};
    condition cond;
    cond.clean_mask = tensor::from_vector({3, 1, 2, 1}, {1, 0, 0, 0, 1, 0});
    const double loss = values(denoising_loss(net, p, prediction::eps, 0.5, x0, times, noise, cond))[0];
    const std::vector<float> x = values(x0), z = values(noise), seen = values(net.seen);
    double expected = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t example = i / 8, row = (i / 2) % 2;
        const bool clean = example != 1 && row == 0;
        const double a = p.alpha(times[example]), s = p.sigma(times[example]);
        CHECK(seen[i] == doctest::Approx(clean ? x[i] : a * x[i] + s * z[i]).epsilon(1e-6));
        const double target = clean ? x[i] * (1 - a) / s : z[i];
        expected += target * target / 8.0 / 3.0;
    }
    CHECK(loss == doctest::Approx(expected).epsilon(1e-5));

    cond.clean_mask = tensor::ones({3, 1, 3, 1});
    CHECK_THROWS_WITH_AS(
        denoising_loss(net, p, prediction::eps, 0.5, x0, times, noise, cond),
        "error: denoising loss: condition.clean_mask [3, 1, 3, 1] does not fit the data [3, 2, 2, 2]; give "
        "it the data's shape or 1 in the dimensions it spreads over, e.g. [N, 1, F, 1, 1] for whole frames",
        error);
}

TEST_CASE("a dataset's paired input reaches the network as condition channels through training") {
    testing::linear_vp p;
    const paired_images data;
    recording_network net;
    const fs::path dir = scratch("paired");
    training_job job(net, p, data, three_steps(), 3, dir);
    job.conditioning = [](const example_batch& batch, std::int64_t, std::int64_t) {
        condition cond = condition::from_labels(batch.labels);
        cond.channels = batch.paired;
        return cond;
    };
    train_diffusion(job);
    REQUIRE(net.seen.size() == 3);
    for (const condition& cond : net.seen) {
        REQUIRE(cond.channels.shape() == shape_t{4, 1, 2, 2});
        const std::vector<float> labels = values(cond.labels), channels = values(cond.channels);
        for (std::size_t i = 0; i < labels.size(); ++i)
            for (std::size_t j = 0; j < 4; ++j) CHECK(channels[4 * i + j] == labels[i]);
    }

    // Without a conditioning callback the network sees an empty condition, whatever the data has.
    recording_network plain;
    training_job unconditioned(plain, p, data, three_steps(), 3, scratch("unconditioned"));
    train_diffusion(unconditioned);
    REQUIRE(plain.seen.size() == 3);
    for (const condition& cond : plain.seen) CHECK(cond.empty());
    fs::remove_all(dir);
    fs::remove_all(scratch("unconditioned"));
}
