// SPDX-License-Identifier: Apache-2.0
// Tests of the denoising loss and the training loop: known losses, resume, NaN, interruption.
#include <difflab/base/error.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/io/checkpoint.h>
#include <difflab/run/training.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/test_processes.h>
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// F(x) = w x + b (per feature), with the noise input ignored: enough to train and to compare.
class affine_network final : public network {
public:
    explicit affine_network(float w0) {
        w = register_parameter("w", tensor::full({1, 3}, w0));
        b = register_parameter("b", tensor::full({1, 3}, 0.1f));
    }
    tensor forward(const tensor& x, const tensor&, const condition&) override { return x * w + b; }
    tensor w, b;
};

/// Points x_i ~ N(1, 0.25 I) in 3-D, drawn from their own stream.
class gaussian_points final : public dataset {
public:
    std::int64_t size() const override { return 50; }
    shape_t example_shape() const override { return {3}; }
    example_batch get(const std::vector<std::int64_t>& indices) const override {
        std::vector<float> values;
        for (std::int64_t i : indices) {
            float z[3];
            philox_stream(9, random_purpose("test/points"), static_cast<std::uint64_t>(i)).normal(z, 3);
            for (float v : z) values.push_back(1.0f + 0.5f * v);
        }
        const auto n = static_cast<std::int64_t>(indices.size());
        return {tensor::from_vector({n, 3}, values), tensor::zeros({n})};
    }
};

struct scratch_dir {
    fs::path path;
    explicit scratch_dir(const std::string& name) : path(fs::temp_directory_path() / ("difflab_training_" + name)) {
        fs::remove_all(path);
    }
    ~scratch_dir() { fs::remove_all(path); }
};

training_options small_run(std::int64_t steps) {
    training_options o;
    o.steps = steps;
    o.batch_size = 8;
    o.lr = 1e-2;
    o.ema = 0.9;
    o.checkpoint_every = 3;
    o.keep_checkpoints = 0;
    o.log_every = 1;
    return o;
}

std::vector<float> values(const tensor& t) {
    return t.contiguous().to_vector();
}

}  // namespace

TEST_CASE("the denoising loss is the noise MSE for eps and the SNR-weighted MSE for x0") {
    const testing::linear_vp p;
    affine_network zero(0.0f);  // F = 0.1 everywhere: a known, wrong prediction
    const tensor x0 = randn({4, 3}, 1, 2), noise = randn({4, 3}, 1, 3);
    const std::vector<double> times{0.1, 0.4, 0.7, 0.95};
    // eps: target is the noise itself, weight 1 -> mean((0.1 - noise)^2).
    const double eps_loss = values(denoising_loss(zero, p, prediction::eps, 0.5, x0, times, noise))[0];
    double expected = 0;
    for (float n : values(noise)) expected += (0.1 - n) * (0.1 - n) / 12.0;
    CHECK(eps_loss == doctest::Approx(expected).epsilon(1e-5));
    // x0: target x0, weight SNR(t) = alpha^2 / sigma^2 per example.
    const double x0_loss = values(denoising_loss(zero, p, prediction::x0, 0.5, x0, times, noise))[0];
    const auto x = values(x0);
    expected = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const double snr = std::pow(p.alpha(times[i]) / p.sigma(times[i]), 2);
        double mse = 0;
        for (std::size_t j = 0; j < 3; ++j) mse += (0.1 - x[i * 3 + j]) * (0.1 - x[i * 3 + j]) / 3.0;
        expected += snr * mse / 4.0;
    }
    CHECK(x0_loss == doctest::Approx(expected).epsilon(1e-5));
}

TEST_CASE("a network denoiser applies the parametrization: eps prediction gives x0 = (x - sigma F) / alpha") {
    const testing::linear_vp p;
    affine_network net(0.5f);
    const network_denoiser d(net, p, prediction::eps);
    const tensor x = randn({2, 3}, 4, 5);
    const double t = 0.3, a = p.alpha(t), s = p.sigma(t);
    const auto got = values(d.x0(x, t)), in = values(x);
    for (std::size_t i = 0; i < in.size(); ++i)
        CHECK(got[i] == doctest::Approx((in[i] - s * (0.5 * in[i] + 0.1)) / a).epsilon(1e-5));
    CHECK(d.evaluations() == 1);
}

TEST_CASE("training lowers the loss and writes checkpoints and log.jsonl") {
    const scratch_dir dir("lowers");
    const testing::linear_vp p;
    const gaussian_points data;
    affine_network net(0.0f);
    training_job job{net, p, data, small_run(60), 3, dir.path / "checkpoints"};
    job.options.checkpoint_every = 20;
    job.log_file = dir.path / "log.jsonl";
    fs::create_directories(dir.path);
    const training_result result = train_diffusion(job);
    CHECK(result.steps_done == 60);
    CHECK(latest_checkpoint_step(job.checkpoint_dir) == std::optional<std::uint64_t>(60));
    std::ifstream log(job.log_file);
    std::string first, line, last;
    std::getline(log, first);
    int lines = 1;
    while (std::getline(log, line)) {
        last = line;
        ++lines;
    }
    CHECK(lines == 60);
    CHECK(first.rfind("{\"step\":1,", 0) == 0);
    // Loss of the first and last steps (one batch each, so compare averages of the log's ends).
    auto loss_of = [](const std::string& text) { return std::stod(text.substr(text.find("\"loss\":") + 7)); };
    CHECK(loss_of(last) < loss_of(first));
}

TEST_CASE("a resumed run gives bitwise the weights, EMA and optimizer state of an uninterrupted one") {
    const scratch_dir dir("resume");
    const testing::linear_vp p;
    const gaussian_points data;
    affine_network straight(0.0f), stopped(0.0f), resumed(0.0f);
    train_diffusion({straight, p, data, small_run(7), 3, dir.path / "straight"});
    train_diffusion({stopped, p, data, small_run(4), 3, dir.path / "split"});  // checkpoints at 3 and 4
    train_diffusion({resumed, p, data, small_run(7), 3, dir.path / "split", true});
    CHECK(values(resumed.w) == values(straight.w));
    CHECK(values(resumed.b) == values(straight.b));
    const checkpoint a = load_checkpoint(dir.path / "straight", 7), b = load_checkpoint(dir.path / "split", 7);
    for (const auto& [name, value] : a.ema) CHECK(values(b.ema.at(name)) == values(value));
    for (const auto& [name, value] : a.optimizer) CHECK(values(b.optimizer.at(name)) == values(value));
    // A different batch size cannot continue the same data stream.
    training_options other = small_run(9);
    other.batch_size = 4;
    CHECK_THROWS_WITH_AS(train_diffusion({resumed, p, data, other, 3, dir.path / "split", true}),
                         "error: --resume: the checkpoint was trained with train.batch_size=8, the experiment says 4; "
                         "resume with the same batch size",
                         config_error);
}

TEST_CASE("a NaN loss stops training with the step and keeps the last good checkpoint") {
    const scratch_dir dir("nan");
    const testing::linear_vp p;
    const gaussian_points data;
    affine_network net(0.0f);
    training_options o = small_run(50);
    o.lr = 1e30;  // the first update throws the weights to infinity
    o.grad_clip = 0;
    o.checkpoint_every = 1;
    try {
        train_diffusion({net, p, data, o, 3, dir.path});
        FAIL("training went on with a non-finite loss");
    } catch (const error& e) {
        const std::string text = e.what();
        INFO(text);
        CHECK(text.rfind("error: train: the loss is ", 0) == 0);
        CHECK(text.find("the last good checkpoint (step ") != std::string::npos);
        CHECK(text.find("lower train.lr or set train.grad_clip") != std::string::npos);
    }
    const auto good = latest_checkpoint_step(dir.path);
    REQUIRE(good.has_value());
    CHECK_NOTHROW(load_checkpoint(dir.path, *good));
}

TEST_CASE("an interrupted run saves a checkpoint at the step it stopped and says how to resume") {
    const scratch_dir dir("interrupt");
    const testing::linear_vp p;
    const gaussian_points data;
    affine_network net(0.0f);
    const std::atomic<bool> stop{true};  // as if Ctrl-C came during the first step
    CHECK_THROWS_WITH_AS(train_diffusion({net, p, data, small_run(10), 3, dir.path}, &stop),
                         ("error: train: interrupted at step 1; checkpoint saved in " + dir.path.string() +
                          "; continue with difflab run ... --resume")
                             .c_str(),
                         error);
    CHECK(latest_checkpoint_step(dir.path) == std::optional<std::uint64_t>(1));
}
