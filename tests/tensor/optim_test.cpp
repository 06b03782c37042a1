// SPDX-License-Identifier: Apache-2.0
// Optimizers, EMA and gradient clipping against torch.optim (tests/fixtures/torch/optim/,
// written by tools/bench/torch_optim_reference.py), LR schedules against closed forms.
#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/optim.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

using namespace difflab;
using nlohmann::json;

namespace {

const json& fixture() {
    static const json data = [] {
        std::ifstream in(std::string(DIFFLAB_SOURCE_DIR) + "/tests/fixtures/torch/optim/reference.json");
        REQUIRE(in.good());
        return json::parse(in);
    }();
    return data;
}

tensor from_json(const json& values, const shape_t& shape) {
    return tensor::from_vector(shape, values.get<std::vector<float>>());
}

/// Largest |a - b| / max(1, |b|) over two value lists.
double max_error(const std::vector<float>& got, const json& want) {
    const std::vector<float> w = want.get<std::vector<float>>();
    REQUIRE(got.size() == w.size());
    double worst = 0;
    for (std::size_t i = 0; i < w.size(); ++i)
        worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - w[i]) / std::max(1.0, std::fabs(double(w[i]))));
    return worst;
}

class two_params : public module {
public:
    two_params(const tensor& w0, const tensor& b0) {
        w = register_parameter("w", w0.clone());
        b = register_parameter("b", b0.clone());
    }
    tensor w, b;
};

std::unique_ptr<optim::optimizer> make(const std::string& name, const json& o, std::vector<tensor> params) {
    if (name.rfind("sgd", 0) == 0) {
        optim::sgd_options s;
        s.lr = o.at("lr").get<float>();
        s.momentum = o.value("momentum", 0.0f);
        s.dampening = o.value("dampening", 0.0f);
        s.weight_decay = o.value("weight_decay", 0.0f);
        s.nesterov = o.value("nesterov", false);
        return std::make_unique<optim::sgd>(std::move(params), s);
    }
    optim::adam_options a;
    a.lr = o.at("lr").get<float>();
    a.beta1 = o.value("beta1", 0.9f);
    a.beta2 = o.value("beta2", 0.999f);
    a.eps = o.value("eps", 1e-8f);
    a.weight_decay = o.value("weight_decay", 0.0f);
    if (name.rfind("adamw", 0) == 0) return std::make_unique<optim::adamw>(std::move(params), a);
    return std::make_unique<optim::adam>(std::move(params), a);
}

}  // namespace

TEST_CASE("SGD, Adam and AdamW follow torch.optim step by step") {
    const json& f = fixture();
    for (const auto& [name, run] : f.at("runs").items()) {
        tensor w = from_json(f.at("initial").at("w"), {3, 4}).set_requires_grad();
        tensor b = from_json(f.at("initial").at("b"), {4}).set_requires_grad();
        const json& o = run.at("options");
        auto opt = make(name, o, {w, b});
        optim::lr_schedule schedule;
        if (o.contains("cosine_total")) {
            schedule.type = optim::lr_schedule::kind::cosine;
            schedule.base_lr = o.at("lr").get<float>();
            schedule.total_steps = o.at("cosine_total").get<std::int64_t>();
            schedule.min_lr = o.at("min_lr").get<float>();
        }
        for (std::size_t k = 0; k < run.at("trace").size(); ++k) {
            if (o.contains("cosine_total")) opt->set_learning_rate(schedule.at(static_cast<std::int64_t>(k)));
            w.set_grad(from_json(f.at("grads")[k].at("w"), {3, 4}));
            b.set_grad(from_json(f.at("grads")[k].at("b"), {4}));
            opt->step();
            const json& want = run.at("trace")[k];
            // f32 arithmetic in the same order as torch: equal to a few ulps.
            CHECK_MESSAGE(max_error(w.to_vector(), want.at("w")) <= 1e-6, fmt::format("{} step {} w", name, k));
            CHECK_MESSAGE(max_error(b.to_vector(), want.at("b")) <= 1e-6, fmt::format("{} step {} b", name, k));
        }
        CHECK(opt->step_count() == 5);
    }
}

TEST_CASE("optimizer state round-trips through its state dict") {
    const json& f = fixture();
    const json& run = f.at("runs").at("adam_wd");
    auto params = [&] {
        return std::vector<tensor>{from_json(f.at("initial").at("w"), {3, 4}).set_requires_grad(),
                                   from_json(f.at("initial").at("b"), {4}).set_requires_grad()};
    };
    auto set_grads = [&](std::vector<tensor>& p, std::size_t k) {
        p[0].set_grad(from_json(f.at("grads")[k].at("w"), {3, 4}));
        p[1].set_grad(from_json(f.at("grads")[k].at("b"), {4}));
    };
    std::vector<tensor> a = params();
    auto first = make("adam_wd", run.at("options"), a);
    for (std::size_t k = 0; k < 2; ++k) {
        set_grads(a, k);
        first->step();
    }
    // A second optimizer resumes from the first one's state and parameters.
    std::vector<tensor> c = params();
    c[0].detach().copy_(a[0]);
    c[1].detach().copy_(a[1]);
    auto second = make("adam_wd", run.at("options"), c);
    second->load_state_dict(first->state_dict());
    second->set_step_count(first->step_count());
    CHECK(first->state_dict().count("0.exp_avg_sq") == 1);
    for (std::size_t k = 2; k < 5; ++k) {
        set_grads(c, k);
        second->step();
    }
    CHECK(max_error(c[0].to_vector(), run.at("trace")[4].at("w")) <= 1e-6);
    state_dict_t bad = first->state_dict();
    bad["7.exp_avg"] = tensor::zeros({4});
    CHECK_THROWS_WITH_AS(second->load_state_dict(bad),
                         "error: optimizer: unexpected state key '7.exp_avg'; expected '<parameter index below "
                         "2>.<exp_avg|exp_avg_sq>'",
                         error);
}

TEST_CASE("EMA averages parameters like the torch reference") {
    const json& f = fixture();
    two_params model(from_json(f.at("initial").at("w"), {3, 4}), from_json(f.at("initial").at("b"), {4}));
    optim::ema average(model, f.at("ema").at("decay").get<float>());
    for (const json& step : f.at("ema").at("trace")) {
        model.w.detach().copy_(from_json(step.at("params_w"), {3, 4}));
        model.b.detach().copy_(from_json(step.at("params_b"), {4}));
        average.update(model);
        CHECK(max_error(average.state_dict().at("w").to_vector(), step.at("w")) <= 1e-6);
        CHECK(max_error(average.state_dict().at("b").to_vector(), step.at("b")) <= 1e-6);
    }
    two_params target(tensor::zeros({3, 4}), tensor::zeros({4}));
    average.copy_to(target);
    CHECK(target.w.to_vector() == average.state_dict().at("w").to_vector());
    optim::ema restored(target, 0.5f);
    restored.load_state_dict(average.state_dict());
    CHECK(restored.state_dict().at("b").to_vector() == average.state_dict().at("b").to_vector());
}

TEST_CASE("clip_grad_norm scales gradients like torch") {
    const json& f = fixture();
    tensor w = from_json(f.at("initial").at("w"), {3, 4}).set_requires_grad();
    tensor b = from_json(f.at("initial").at("b"), {4}).set_requires_grad();
    w.set_grad(from_json(f.at("grads")[0].at("w"), {3, 4}));
    b.set_grad(from_json(f.at("grads")[0].at("b"), {4}));
    const float norm = optim::clip_grad_norm({w, b}, f.at("clip").at("max_norm").get<float>());
    CHECK(norm == doctest::Approx(f.at("clip").at("norm").get<double>()).epsilon(1e-6));
    CHECK(max_error(w.grad().to_vector(), f.at("clip").at("w")) <= 1e-6);
    CHECK(max_error(b.grad().to_vector(), f.at("clip").at("b")) <= 1e-6);
    // Below the limit nothing changes.
    const std::vector<float> before = w.grad().to_vector();
    optim::clip_grad_norm({w, b}, 100.0f);
    CHECK(w.grad().to_vector() == before);
}

TEST_CASE("learning-rate schedules follow their closed forms") {
    optim::lr_schedule constant;
    constant.base_lr = 0.1f;
    CHECK(constant.at(0) == 0.1f);
    CHECK(constant.at(1000) == 0.1f);
    optim::lr_schedule warm;
    warm.type = optim::lr_schedule::kind::warmup;
    warm.base_lr = 1.0f;
    warm.warmup_steps = 4;
    CHECK(warm.at(0) == 0.25f);
    CHECK(warm.at(3) == 1.0f);
    CHECK(warm.at(10) == 1.0f);
    optim::lr_schedule cosine;
    cosine.type = optim::lr_schedule::kind::cosine;
    cosine.base_lr = 1.0f;
    cosine.min_lr = 0.1f;
    cosine.warmup_steps = 10;
    cosine.total_steps = 110;
    CHECK(cosine.at(4) == doctest::Approx(0.5));
    CHECK(cosine.at(10) == doctest::Approx(1.0));
    CHECK(cosine.at(60) == doctest::Approx(0.55));  // halfway: min + (base - min) / 2
    CHECK(cosine.at(110) == doctest::Approx(0.1));
    CHECK(cosine.at(500) == doctest::Approx(0.1));
    cosine.total_steps = 5;
    CHECK_THROWS_AS(cosine.at(20), error);
}

TEST_CASE("a small model trains: loss falls with Adam") {
    // Fit y = 2x - 1 with one linear unit: a smoke test that grads, steps and zero_grad connect.
    tensor w = tensor::zeros({1}).set_requires_grad();
    tensor b = tensor::zeros({1}).set_requires_grad();
    optim::adam_options o;
    o.lr = 0.1f;
    optim::adam opt({w, b}, o);
    const tensor x = tensor::from_vector({4}, {-1, 0, 1, 2});
    const tensor y = tensor::from_vector({4}, {-3, -1, 1, 3});
    float first = 0, last = 0;
    for (int k = 0; k < 200; ++k) {
        opt.zero_grad();
        tensor loss = mean(pow(x * w + b - y, 2.0f));
        loss.backward();
        opt.step();
        (k == 0 ? first : last) = loss.item();
    }
    CHECK(last < 1e-3f * first);
    CHECK(w.item() == doctest::Approx(2.0).epsilon(0.05));
}
