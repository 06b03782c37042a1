// SPDX-License-Identifier: Apache-2.0
// sampler_for_budget: the largest `steps` whose announced NFE fits a budget.
#include <difflab/base/error.h>
#include <difflab/diffusion/nfe_budget.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/testing/test_processes.h>
#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <string>

using namespace difflab;

using difflab::testing::cosine_vp;

namespace {

/// Costs like Heun's method: two evaluations per step but one for the last, plus `extra`.
class heun_like final : public sampler {
public:
    struct options {
        std::int64_t steps = 18;
        std::int64_t extra = 0;
    };
    static param_spec<options> params() {
        param_spec<options> spec{"Heun-like cost."};
        spec.add(&options::steps, "steps", "Steps.", at_least<std::int64_t>(1));
        spec.add(&options::extra, "extra", "Evaluations besides the steps.", at_least<std::int64_t>(0));
        return spec;
    }
    heun_like(const options& o, build_context&) : opts_(o) {}
    tensor sample(const denoiser&, tensor x, const sampling_context&) const override { return x; }
    std::int64_t evaluations(const process&) const override { return 2 * opts_.steps - 1 + opts_.extra; }

private:
    options opts_;
};

/// Adaptive step sizes: announces no NFE.
class adaptive final : public sampler {
public:
    struct options {
        std::int64_t steps = 10;  ///< a maximum, not a cost
    };
    static param_spec<options> params() {
        param_spec<options> spec{"Adaptive."};
        spec.add(&options::steps, "steps", "Most steps.", at_least<std::int64_t>(1));
        return spec;
    }
    adaptive(const options&, build_context&) {}
    tensor sample(const denoiser&, tensor x, const sampling_context&) const override { return x; }
    std::int64_t evaluations(const process&) const override { return 0; }
};

/// No `steps` option at all: a fixed cost.
class fixed_cost final : public sampler {
public:
    struct options {
        double scale = 1.0;
    };
    static param_spec<options> params() {
        param_spec<options> spec{"Fixed cost."};
        spec.add(&options::scale, "scale", "Scale.");
        return spec;
    }
    fixed_cost(const options&, build_context&) {}
    tensor sample(const denoiser&, tensor x, const sampling_context&) const override { return x; }
    std::int64_t evaluations(const process&) const override { return 7; }
};

const registry& components() {
    static registry reg;
    static const bool once = [] {
        reg.set_current_plugin("nfe_budget_test", "0.0.0", "(test)");
        reg.add<heun_like>("heun_like");
        reg.add<adaptive>("adaptive");
        reg.add<fixed_cost>("fixed_cost");
        return true;
    }();
    (void)once;
    return reg;
}

config_node resolved(const std::string& yaml) {
    return components().resolve("sampler", parse_yaml(yaml, "sampler.yaml"), parse_context(&components()));
}

std::string steps_of(const std::optional<config_node>& node) {
    return node ? node->find("steps")->text() : std::string("none");
}

}  // namespace

TEST_CASE("sampler_for_budget picks the largest steps whose announced NFE fits the budget") {
    build_context builder(components(), 0);
    const cosine_vp p;
    const config_node heun = resolved("{type: heun_like}");
    CHECK(steps_of(sampler_for_budget(builder, heun, p, 1)) == "1");   // 1 evaluation
    CHECK(steps_of(sampler_for_budget(builder, heun, p, 10)) == "5");  // 9 evaluations, 6 steps would cost 11
    CHECK(steps_of(sampler_for_budget(builder, heun, p, 11)) == "6");  // exactly 11
    CHECK(steps_of(sampler_for_budget(builder, heun, p, 1000)) == "500");
    // The other options stay as they were.
    const config_node costly = resolved("{type: heun_like, extra: 3}");
    const std::optional<config_node> fit = sampler_for_budget(builder, costly, p, 10);
    REQUIRE(fit);
    CHECK(fit->find("steps")->text() == "4");  // 7 + 3 = 10; 5 steps would cost 12
    CHECK(fit->find("extra")->text() == "3");
}

TEST_CASE("sampler_for_budget: none below one step's cost, unchanged without a budget, steps or an announced NFE") {
    build_context builder(components(), 0);
    const cosine_vp p;
    CHECK_FALSE(sampler_for_budget(builder, resolved("{type: heun_like, extra: 4}"), p, 4).has_value());
    CHECK(steps_of(sampler_for_budget(builder, resolved("{type: heun_like, steps: 7}"), p, 0)) == "7");
    CHECK(steps_of(sampler_for_budget(builder, resolved("{type: adaptive, steps: 3}"), p, 100)) == "3");
    const std::optional<config_node> fixed = sampler_for_budget(builder, resolved("{type: fixed_cost}"), p, 2);
    REQUIRE(fixed);
    CHECK(fixed->find("steps") == nullptr);
}

TEST_CASE("sampler_for_budget with a cost of its own: the largest steps whose counted cost fits") {
    build_context builder(components(), 0);
    const cosine_vp p;
    // A path that denoises every stretch three times costs three times the sampler's run.
    const auto tripled = [&p](const sampler& s) { return 3 * s.evaluations(p); };
    const config_node heun = resolved("{type: heun_like}");
    CHECK(steps_of(sampler_for_budget(builder, heun, 30, tripled)) == "5");  // 27; 6 steps would cost 33
    CHECK(steps_of(sampler_for_budget(builder, heun, 33, tripled)) == "6");
    CHECK_FALSE(sampler_for_budget(builder, heun, 2, tripled).has_value());
    CHECK(steps_of(sampler_for_budget(builder, resolved("{type: heun_like, steps: 7}"), 30,
                                      [](const sampler&) { return std::int64_t{0}; })) == "7");  // unknown cost
}
