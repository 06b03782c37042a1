// SPDX-License-Identifier: Apache-2.0
// Sampling paths on the real samplers: starts, jumps, RePaint's schedule, edits at the state's
// own time, and history forgotten after an edit; exact Gaussian denoiser, no network.
#include <difflab/base/error.h>
#include <difflab/diffusion/constraint.h>
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/diffusion/sampling_path.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/sampler_conformance.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace difflab;
using difflab::testing::installed_components;
using difflab::testing::installed_processes;

namespace {

std::unique_ptr<sampler> make_sampler(const std::string& yaml) {
    static build_context context(installed_components(), 0);
    const config_node resolved = installed_components().resolve("sampler", parse_yaml(yaml, "sampling_path_test"),
                                                                parse_context(&installed_components()));
    std::unique_ptr<component> made = context.create("sampler", resolved);
    return std::unique_ptr<sampler>(static_cast<sampler*>(made.release()));
}

const process& process_named(const std::string& name) {
    for (const testing::named_process& each : installed_processes())
        if (each.name == name) return *each.p;
    throw error("no process " + name);
}

bool same_bits(const tensor& a, const tensor& b) {
    const std::vector<float> u = a.contiguous().to_vector(), v = b.contiguous().to_vector();
    return u.size() == v.size() && std::memcmp(u.data(), v.data(), u.size() * sizeof(float)) == 0;
}

double max_abs_difference(const tensor& a, const tensor& b) {
    const std::vector<float> u = a.contiguous().to_vector(), v = b.contiguous().to_vector();
    double worst = 0;
    for (std::size_t i = 0; i < u.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(u[i]) - v[i]));
    return worst;
}

/// Mean and variance of all values.
std::pair<double, double> moments(const tensor& x) {
    const std::vector<float> v = x.contiguous().to_vector();
    double sum = 0, square = 0;
    for (float f : v) sum += f;
    const double mean = sum / static_cast<double>(v.size());
    for (float f : v) square += (f - mean) * (f - mean);
    return {mean, square / static_cast<double>(v.size() - 1)};
}

/// A constraint that changes nothing and records the times of the states it sees.
struct recording_constraint final : state_constraint {
    mutable std::vector<double> times;
    tensor apply(const tensor& x, double t, std::uint64_t, const sampling_context&) const override {
        times.push_back(t);
        return x;
    }
};

}  // namespace

TEST_CASE("a path that starts at t_max is the default path, bit for bit, on every sampler that follows paths") {
    for (const char* config : {"{type: ddim, steps: 6}", "{type: dpm_solver_pp, steps: 6}", "{type: edm, steps: 5}",
                               "{type: pc, steps: 4}", "{type: plms, steps: 6, warmup: prk}"}) {
        CAPTURE(config);
        const auto s = make_sampler(config);
        const process& p = process_named("vp_sde");
        const gaussian_denoiser d(p, 0.25);
        const tensor x_T = randn({4, 3}, 1, random_purpose("test/prior"));
        sampling_context plain;
        plain.seed = 3;
        sampling_context with_path = plain;
        const sampling_path path = descent(s->times(p, p.t_max()));
        with_path.path = &path;
        CHECK(same_bits(s->sample(d, x_T, plain), s->sample(d, x_T, with_path)));
    }
}

TEST_CASE("a start near t_min returns the supplied x, a later start moves it") {
    const process& p = process_named("vp_sde");
    const gaussian_denoiser d(p, 0.25);
    const auto s = make_sampler("{type: ddim, steps: 4}");
    const tensor x = randn({6, 3}, 2, random_purpose("test/data")) * 0.5f;
    sampling_context ctx;
    ctx.seed = 4;
    const double early = p.t_min() * 1.5;
    const sampling_path near = descent(s->times(p, early));
    ctx.path = &near;
    const tensor out = s->sample(d, noised_start(p, x, early, ctx), ctx);
    CHECK(max_abs_difference(out, x) < 2e-2);
    const sampling_path late = descent(s->times(p, 0.6));
    ctx.path = &late;
    CHECK(max_abs_difference(s->sample(d, noised_start(p, x, 0.6, ctx), ctx), x) > 0.1);
}

TEST_CASE("a start given as a noise level is the time with that sigma / alpha") {
    for (const char* name : {"vp_sde", "ve_sde", "edm", "ddpm"}) {
        const process& p = process_named(name);
        const double t = 0.37 * (p.t_max() - p.t_min()) + p.t_min();
        CHECK(time_of_noise_level(p, noise_level(p, t)) == doctest::Approx(t).epsilon(1e-6));
    }
    CHECK_THROWS_AS(time_of_noise_level(process_named("vp_sde"), 0.0), config_error);
}

TEST_CASE("the jump kernel q(x_s | x_t) lands on the marginal at the later time") {
    // Data N(0, v): x_t ~ N(0, alpha_t^2 v + sigma_t^2); a jump to s must give the variance at s.
    const double v = 0.3;
    for (const char* name : {"vp_sde", "ve_sde", "ddpm", "subvp_sde"}) {
        CAPTURE(name);
        const process& p = process_named(name);
        const double t = 0.2, s = 0.7;
        const std::int64_t n = 40000;
        const tensor x0 = randn({n, 1}, 5, random_purpose("test/data")) * static_cast<float>(std::sqrt(v));
        sampling_context ctx;
        ctx.seed = 6;
        const tensor x_t = noised_start(p, x0, t, ctx);
        const tensor x_s = forward_jump(p, x_t, t, s, 0, ctx);
        const double expected = p.alpha(s) * p.alpha(s) * v + p.sigma(s) * p.sigma(s);
        const auto [mean, variance] = moments(x_s);
        // Four standard errors of the sample mean and variance.
        CHECK(std::abs(mean) < 4 * std::sqrt(expected / n));
        CHECK(std::abs(variance / expected - 1) < 4 * std::sqrt(2.0 / n));
    }
}

TEST_CASE("RePaint's schedule: hand-counted jumps, and jump_n_sample 1 is the descent") {
    std::vector<double> grid;
    for (int i = 9; i >= 0; --i) grid.push_back(0.1 * i + 0.01);
    // n = 10, jump_length 3, jump_n_sample 2: a jump back from positions 6, 3 and 0 (counted
    // from the end), once each: 3 + 6 + 6 + 3 descending steps.
    const sampling_path path = repaint_path(grid, 3, 2);
    CHECK(path.denoise_steps() == 18);
    CHECK(path.steps.size() == 21);
    CHECK(!path.descends());
    CHECK(path.end() == grid.back());
    REQUIRE(path.steps[3].what == path_step::kind::jump);
    CHECK(path.steps[3].from == grid[3]);
    CHECK(path.steps[3].to == grid[0]);
    CHECK(path.steps[2].remaining == 1);
    CHECK(path.steps[0].remaining == 3);
    CHECK(path.steps[4].remaining == 6);
    const sampling_path plain = repaint_path(grid, 3, 1), down = descent(grid);
    REQUIRE(plain.steps.size() == down.steps.size());
    for (std::size_t i = 0; i < plain.steps.size(); ++i) {
        CHECK(plain.steps[i].from == down.steps[i].from);
        CHECK(plain.steps[i].remaining == down.steps[i].remaining);
    }
    CHECK_THROWS_AS(repaint_path(grid, 0, 2), config_error);
}

TEST_CASE("constraints edit the state at its own time: the start and each step's arrival time") {
    const process& p = process_named("ddpm");
    const gaussian_denoiser d(p, 0.25);
    recording_constraint recorder;
    for (const char* config : {"{type: ddpm, steps: 5}", "{type: edm, steps: 5}", "{type: pc, steps: 5}"}) {
        CAPTURE(config);
        recorder.times.clear();
        const auto s = make_sampler(config);
        sampling_context ctx;
        ctx.constraints = {&recorder};
        s->sample(d, randn({2, 3}, 1, random_purpose("test/prior")), ctx);
        CHECK(recorder.times == s->times(p, p.t_max()));
    }
    // A window: only arrivals in [0.3, 0.7].
    recorder.times.clear();
    const auto s = make_sampler("{type: ddim, steps: 11}");
    sampling_path path = descent(s->times(p, p.t_max()));
    constrain_between(path, 0.3, 0.7);
    sampling_context ctx;
    ctx.constraints = {&recorder};
    ctx.path = &path;
    s->sample(d, randn({2, 3}, 1, random_purpose("test/prior")), ctx);
    REQUIRE(!recorder.times.empty());
    for (double t : recorder.times) CHECK((t >= 0.3 && t <= 0.7));
}

TEST_CASE("multistep samplers forget their history after an edit: DPM-Solver++ becomes first order (DDIM)") {
    const process& p = process_named("vp_sde");
    const gaussian_denoiser d(p, 0.25);
    const tensor x_T = randn({4, 3}, 1, random_purpose("test/prior"));
    const auto second = make_sampler("{type: dpm_solver_pp, steps: 8, order: 2, spacing: uniform}");
    const auto ddim = make_sampler("{type: ddim, steps: 8}");
    recording_constraint no_change;
    sampling_context plain, edited;
    edited.constraints = {&no_change};
    const tensor first_order = ddim->sample(d, x_T, plain);
    CHECK(max_abs_difference(second->sample(d, x_T, edited), first_order) < 1e-5);
    CHECK(max_abs_difference(second->sample(d, x_T, plain), first_order) > 1e-3);
}

TEST_CASE("an adaptive solver refuses a path or constraints with one line naming what to use") {
    const process& p = process_named("vp_sde");
    const gaussian_denoiser d(p, 0.25);
    const auto rk45 = make_sampler("{type: ode, method: rk45}");
    CHECK(!rk45->follows_paths());
    recording_constraint recorder;
    sampling_context ctx;
    ctx.constraints = {&recorder};
    try {
        rk45->sample(d, randn({2, 3}, 1, random_purpose("test/prior")), ctx);
        FAIL("rk45 followed constraints");
    } catch (const config_error& e) {
        const std::string message = e.what();
        CHECK(message.find("rk45") != std::string::npos);
        CHECK(message.find("use method heun or rk4") != std::string::npos);
        CHECK(message.find('\n') == std::string::npos);
    }
}

TEST_CASE("every path-following sampler runs RePaint's schedule on every process it accepts") {
    for (const char* config : {"{type: ddpm, steps: 10}", "{type: ddim, steps: 10}", "{type: plms, steps: 10}",
                               "{type: euler_maruyama, steps: 10}", "{type: pc, steps: 10}",
                               "{type: ode, method: heun, steps: 10}", "{type: dpm_solver, steps: 10}",
                               "{type: dpm_solver, steps: 10, method: singlestep}", "{type: dpm_solver_pp, steps: 10}",
                               "{type: edm, steps: 10}", "{type: annealed_langevin, steps: 10, steps_each: 2}"}) {
        const auto s = make_sampler(config);
        for (const testing::named_process& each : installed_processes()) {
            CAPTURE(config);
            CAPTURE(each.name);
            try {
                s->check(*each.p);
            } catch (const config_error&) {
                continue;
            }
            const gaussian_denoiser d(*each.p, 0.25);
            const sampling_path path = repaint_path(s->times(*each.p, each.p->t_max()), 3, 3);
            sampling_context ctx;
            ctx.path = &path;
            d.reset_evaluations();
            const tensor out = s->sample(
                d, randn({3, 2}, 1, random_purpose("test/prior")) * static_cast<float>(each.p->prior_std()), ctx);
            for (float v : out.contiguous().to_vector()) REQUIRE(std::isfinite(v));
            CHECK(d.evaluations() > s->evaluations(*each.p));  // the jumps cost denoising steps
        }
    }
}
