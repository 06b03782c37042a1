// SPDX-License-Identifier: Apache-2.0
// An NFE budget turned into a sampler's `steps`.
#include <difflab/diffusion/nfe_budget.h>
#include <difflab/diffusion/sampler.h>

#include <algorithm>
#include <memory>
#include <string>

namespace difflab {

namespace {

bool has_steps(const registry& components, const config_node& sampler) {
    const component_info& info = components.at("sampler", sampler.find("type")->text(), sampler.mark());
    return std::any_of(info.params.begin(), info.params.end(), [](const param_info& p) { return p.key == "steps"; });
}

config_node with_steps(const config_node& sampler, std::int64_t steps) {
    config_node node = sampler;
    node.set("steps", config_node::scalar(std::to_string(steps)));
    return node;
}

std::int64_t cost_of(build_context& builder, const config_node& sampler,
                     const std::function<std::int64_t(const difflab::sampler&)>& cost) {
    const std::unique_ptr<component> made = builder.create("sampler", sampler);
    return cost(static_cast<const difflab::sampler&>(*made));
}

}  // namespace

std::optional<config_node> sampler_for_budget(build_context& builder, const config_node& sampler, const process& p,
                                              std::int64_t budget) {
    return sampler_for_budget(builder, sampler, budget, [&p](const difflab::sampler& s) { return s.evaluations(p); });
}

std::optional<config_node> sampler_for_budget(build_context& builder, const config_node& sampler, std::int64_t budget,
                                              const std::function<std::int64_t(const difflab::sampler&)>& cost) {
    if (budget <= 0 || !has_steps(builder.components(), sampler) || cost_of(builder, sampler, cost) == 0)
        return sampler;
    auto cost_at = [&](std::int64_t steps) { return cost_of(builder, with_steps(sampler, steps), cost); };
    if (cost_at(1) > budget) return std::nullopt;
    std::int64_t lo = 1, hi = budget;  // cost_at(lo) <= budget < cost_at(hi + 1)
    while (lo < hi) {
        const std::int64_t mid = lo + (hi - lo + 1) / 2;
        if (cost_at(mid) <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    return with_steps(sampler, lo);
}

}  // namespace difflab
