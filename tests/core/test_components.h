// SPDX-License-Identifier: Apache-2.0
// Small components registered directly (no plugin) for the core tests.
#pragma once

#include <difflab/diffusion/noise.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace test_components {

/// Like the DDIM sampler's table in EXAMPLES.md.
class ddim_like final : public difflab::sampler {
public:
    /// Configuration fixture: returns its input unchanged.
    difflab::tensor sample(const difflab::denoiser&, difflab::tensor x,
                           const difflab::sampling_context&) const override {
        return x;
    }
    struct options {
        std::int64_t steps = 50;
        double eta = 0.0;
        std::string spacing = "uniform";
    };
    static difflab::param_spec<options> params() {
        difflab::param_spec<options> spec{"DDIM-like sampler."};
        spec.add(&options::steps, "steps", "Number of denoising steps.", difflab::at_least<std::int64_t>(1));
        spec.add(&options::eta, "eta", "Stochasticity.", difflab::closed_range(0.0, 1.0));
        spec.add(&options::spacing, "spacing", "Time grid.",
                 difflab::one_of({"uniform", "quadratic", "karras", "logsnr"}));
        return spec;
    }
    ddim_like(const options& o, difflab::build_context&) : opts(o) {}
    options opts;
};

/// A sampler with different keys, to test changing a component's type.
class euler_like final : public difflab::sampler {
public:
    /// Configuration fixture: returns its input unchanged.
    difflab::tensor sample(const difflab::denoiser&, difflab::tensor x,
                           const difflab::sampling_context&) const override {
        return x;
    }
    struct options {
        std::int64_t steps = 10;
        double s_churn = 0.0;
    };
    static difflab::param_spec<options> params() {
        difflab::param_spec<options> spec{"Euler-like sampler."};
        spec.add(&options::steps, "steps", "Steps.", difflab::at_least<std::int64_t>(1));
        spec.add(&options::s_churn, "s_churn", "Churn.", difflab::at_least(0.0));
        return spec;
    }
    euler_like(const options& o, difflab::build_context&) : opts(o) {}
    options opts;
};

/// A sampler whose constructor throws a plain std::exception.
class broken final : public difflab::sampler {
public:
    /// Configuration fixture: returns its input unchanged.
    difflab::tensor sample(const difflab::denoiser&, difflab::tensor x,
                           const difflab::sampling_context&) const override {
        return x;
    }
    struct options {};
    static difflab::param_spec<options> params() { return difflab::param_spec<options>{"Throws when built."}; }
    broken(const options&, difflab::build_context&) { throw std::runtime_error("out of memory"); }
};

/// A task holding a nested sampler.
class generate final : public difflab::task {
public:
    struct options {
        difflab::component_ref<difflab::sampler> sampler{"ddim_like"};
        std::int64_t count = 64;
    };
    static difflab::param_spec<options> params() {
        difflab::param_spec<options> spec{"Generation-like task."};
        spec.add(&options::sampler, "sampler", "The sampler.");
        spec.add(&options::count, "count", "Samples.", difflab::at_least<std::int64_t>(1));
        return spec;
    }
    generate(const options& o, difflab::build_context& ctx) : opts(o), sampler(ctx.create(o.sampler)) {}
    void run(difflab::run_context&) override {}
    options opts;
    std::unique_ptr<difflab::sampler> sampler;
};

/// Noise that is not Gaussian: uniform on [-sqrt(3), sqrt(3)] (zero mean, unit variance).
class uniform_noise final : public difflab::noise {
public:
    struct options {};
    static difflab::param_spec<options> params() { return difflab::param_spec<options>{"Uniform noise."}; }
    uniform_noise(const options&, difflab::build_context&) {}
    difflab::tensor draw(const difflab::shape_t& shape, std::uint64_t seed, std::uint64_t purpose,
                         std::uint64_t first_index, std::uint64_t step) const override {
        return (difflab::rand(shape, seed, purpose, first_index, step) - 0.5f) * 3.4641016f;
    }
};

inline void register_all(difflab::registry& reg) {
    reg.set_current_plugin("core_test", "0.0.0", "(test)");
    reg.add<ddim_like>("ddim_like");
    reg.add<euler_like>("euler_like");
    reg.add<broken>("broken");
    reg.add<generate>("generate");
}

}  // namespace test_components
