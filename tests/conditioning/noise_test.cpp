// SPDX-License-Identifier: Apache-2.0
// Noise kinds for real: training, x_T and sampler draws go through the experiment's `noise:`.
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/diffusion/noise.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/io/safetensors.h>
#include <difflab/plugin/plugin_loader.h>
#include <difflab/run/experiment.h>
#include <difflab/run/task.h>
#include <difflab/run/training.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// The build's plugins and the test-only `rademacher` noise (tests/fixtures/plugins/noise).
const registry& components() {
    static registry loaded;
    static const bool once = [] {
        plugin_loader loader(loaded);
        loader.load_all(plugin_loader::default_search_path());
        loader.load_file(DIFFLAB_BINARY_DIR "/tests/fixture_plugins/test_noise/difflab_test_noise.so");
        return true;
    }();
    (void)once;
    return loaded;
}

template <class K>
std::unique_ptr<K> make(const std::string& yaml) {
    static build_context context(components(), 0);
    const config_node resolved =
        components().resolve(K::kind_name, parse_yaml(yaml, "noise_test.yaml"), parse_context(&components()));
    return std::unique_ptr<K>(static_cast<K*>(context.create(K::kind_name, resolved).release()));
}

/// 2-D points from their own streams.
class points final : public dataset {
public:
    std::int64_t size() const override { return 32; }
    shape_t example_shape() const override { return {2}; }
    example_batch get(const std::vector<std::int64_t>& indices) const override {
        std::vector<tensor> rows;
        for (const std::int64_t i : indices)
            rows.push_back(randn({1, 2}, 3, random_purpose("noise_test.points"), static_cast<std::uint64_t>(i)));
        return {concat(rows, 0), tensor()};
    }
};

/// The weights of a tiny mlp after 4 training steps with `source` as the training noise.
std::vector<float> trained_weights(const noise* source, const std::string& name) {
    const auto net = make<network>("{type: mlp, hidden: 8, layers: 1, seed: 2}");
    const auto ddpm = make<process>("{type: ddpm, steps: 100}");
    const points data;
    training_options options;
    options.steps = 4;
    options.batch_size = 8;
    options.lr = 1e-2;
    options.ema = 0;
    options.checkpoint_every = 4;
    const fs::path dir = fs::temp_directory_path() / ("difflab_noise_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    training_job job(*net, *ddpm, data, options, 9, dir);
    job.source = source;
    (void)train_diffusion(job);
    fs::remove_all(dir);
    std::vector<float> weights;
    for (const auto& [parameter, value] : net->named_parameters())
        for (const float w : value.to_vector()) weights.push_back(w);
    return weights;
}

/// A generation run on two moons with `noise` as the experiment's `noise:` section ("" for
/// none): its samples and its log.jsonl.
std::pair<std::vector<float>, std::string> generation_run(const std::string& noise, const std::string& name) {
    const std::string yaml =
        "name: noise\nseed: 5\n" + noise +
        "data: {type: toy2d, kind: moons, size: 64}\n"
        "process: {type: ddpm, schedule: linear, steps: 100}\n"
        "network: {type: mlp, hidden: 16, layers: 2}\n"
        "task: {type: generation}\n"
        "train: {steps: 6, batch_size: 16, lr: 1.0e-3, ema: 0, checkpoint_every: 6, log_every: 2}\n"
        "sample: {sampler: {type: ddpm, steps: 5}, count: 4, batch_size: 4, trajectory: 0}\n";
    const config_node resolved = resolve_experiment(parse_yaml(yaml, name + ".yaml"), components());
    const fs::path dir = fs::temp_directory_path() / ("difflab_noise_run_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);  // as `difflab run` makes it, so that log.jsonl is written
    run_context ctx(components(), resolved, dir, 5);
    ctx.build<task>("task")->run(ctx);
    const safetensors_file file = read_safetensors(dir / "samples" / "samples.safetensors");
    const std::vector<float> samples = to_tensor(*file.find("samples")).contiguous().to_vector();
    std::ifstream in(dir / "log.jsonl");
    std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Drop the timings, which differ run to run.
    std::string losses;
    for (std::size_t at = log.find("\"loss\":"); at != std::string::npos; at = log.find("\"loss\":", at + 1))
        losses += log.substr(at, log.find(',', at) - at) + "\n";
    fs::remove_all(dir);
    return {samples, losses};
}

}  // namespace

TEST_CASE("rademacher noise: +-1 values, zero mean and unit variance, example i of a batch equals it drawn alone") {
    const auto rademacher = make<noise>("{type: rademacher}");
    const std::uint64_t purpose = random_purpose("noise_test.draw");
    const tensor batch = rademacher->draw({6, 3, 4, 4}, 7, purpose, 10, 2);
    for (std::int64_t i = 0; i < 6; ++i) {
        CAPTURE(i);
        const tensor alone = rademacher->draw({1, 3, 4, 4}, 7, purpose, 10 + static_cast<std::uint64_t>(i), 2);
        CHECK(alone.to_vector() == batch.slice(0, i, i + 1).contiguous().to_vector());
    }
    const std::vector<float> many = rademacher->draw({1000, 10}, 7, purpose, 0, 0).to_vector();
    double total = 0, squares = 0;
    for (const float v : many) {
        REQUIRE((v == 1.0f || v == -1.0f));
        total += v;
        squares += v * v;
    }
    CHECK(std::abs(total / 10000) < 0.03);
    CHECK(squares / 10000 == 1.0);
    // Another step, another draw.
    CHECK(rademacher->draw({6, 3, 4, 4}, 7, purpose, 10, 3).to_vector() != batch.to_vector());
}

TEST_CASE("the gaussian noise draws exactly what an experiment without `noise:` draws") {
    const auto gaussian = make<noise>("{type: gaussian}");
    const std::uint64_t purpose = random_purpose("train/noise");
    CHECK(gaussian->draw({5, 2, 3}, 4, purpose, 8, 1).to_vector() ==
          draw_noise(nullptr, {5, 2, 3}, 4, purpose, 8, 1).to_vector());
    CHECK(draw_noise(nullptr, {5, 2, 3}, 4, purpose, 8, 0).to_vector() == randn({5, 2, 3}, 4, purpose, 8).to_vector());
}

TEST_CASE("training draws its noise from training_job::source: gaussian as the default, another noise other weights") {
    const auto gaussian = make<noise>("{type: gaussian}");
    const auto rademacher = make<noise>("{type: rademacher}");
    const std::vector<float> by_default = trained_weights(nullptr, "default");
    CHECK(trained_weights(gaussian.get(), "gaussian") == by_default);
    CHECK(trained_weights(rademacher.get(), "rademacher") != by_default);
}

TEST_CASE("sampler draws go through sampling_context::source") {
    const auto ddpm = make<process>("{type: ddpm, steps: 100}");
    const auto ancestral = make<sampler>("{type: ddpm, steps: 5}");
    const auto gaussian = make<noise>("{type: gaussian}");
    const auto rademacher = make<noise>("{type: rademacher}");
    const gaussian_denoiser exact(*ddpm, 0.25);
    const tensor x_T = randn({4, 2}, 1, random_purpose("noise_test.prior"));
    const auto samples = [&](const noise* source) {
        sampling_context sc;
        sc.seed = 3;
        sc.source = source;
        return ancestral->sample(exact, x_T, sc).to_vector();
    };
    const std::vector<float> by_default = samples(nullptr);
    CHECK(samples(gaussian.get()) == by_default);
    CHECK(samples(rademacher.get()) != by_default);
}

TEST_CASE("an experiment's `noise:` reaches training, x_T and the sampler of a generation run") {
    const auto [none_samples, none_losses] = generation_run("", "none");
    const auto [gaussian_samples, gaussian_losses] = generation_run("noise: {type: gaussian}\n", "gaussian");
    const auto [other_samples, other_losses] = generation_run("noise: {type: rademacher}\n", "rademacher");
    REQUIRE(none_samples.size() == 8);
    REQUIRE(!none_losses.empty());
    CHECK(gaussian_samples == none_samples);
    CHECK(gaussian_losses == none_losses);
    CHECK(other_samples != none_samples);
    CHECK(other_losses != none_losses);
}

TEST_CASE("the oracle tasks refuse a non-Gaussian noise, at its `noise.type`") {
    for (const char* oracle : {"oracle_sampling", "oracle_conditioning, method: classifier_guidance, class: 0"}) {
        CAPTURE(oracle);
        const std::string yaml = std::string("name: oracle_noise\nseed: 0\n") +
                                 "data: {type: gmm, shape: [2], components: 2, seed: 1}\nprocess: {type: vp_sde}\n" +
                                 "noise: {type: rademacher}\ntask: {type: " + oracle + "}\n" +
                                 "sample: {sampler: {type: ddim, steps: 3}, count: 8}\n" +
                                 "evaluate: {metrics: [{type: sliced_wasserstein}]}\n";
        const config_node resolved = resolve_experiment(parse_yaml(yaml, "oracle_noise.yaml"), components());
        const fs::path dir = fs::temp_directory_path() / ("difflab_oracle_noise_" + std::to_string(::getpid()));
        fs::create_directories(dir);
        run_context ctx(components(), resolved, dir, 0);
        try {
            ctx.build<task>("task")->run(ctx);
            FAIL("an oracle task ran with Rademacher noise");
        } catch (const config_error& e) {
            const std::string message = e.what();
            CHECK(message.find("oracle_noise.yaml:5:15") != std::string::npos);
            CHECK(message.find("not noise 'rademacher'") != std::string::npos);
        }
        fs::remove_all(dir);
    }
}
