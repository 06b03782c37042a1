// SPDX-License-Identifier: Apache-2.0
// A class-conditional unet guided, trained and sampled, bit for bit against values recorded before
// the condition bundle existed: conditioning through it must move no number.
#include <difflab/base/threads.h>
#include <difflab/diffusion/classifier_free_guidance.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/io/safetensors.h>
#include <difflab/run/training.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/network_testing.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// The recorded values; DIFFLAB_WRITE_FIXTURES=1 rewrites them (only ever before a change that
/// must not move any of them, never to make this test pass after one). They were recorded on one
/// thread (reductions split by thread count round differently) on an AVX-512 CPU: oneDNN picks
/// its kernels by instruction set, so another one may need them recorded again from the code
/// before the change under test.
const std::string fixtures = DIFFLAB_SOURCE_DIR "/tests/fixtures/conditioning/";

/// Writes every tensor it is given (DIFFLAB_WRITE_FIXTURES=1), or compares each bit for bit
/// with the recorded one of the same name.
class recorded_values {
public:
    explicit recorded_values(std::string path) : path_(std::move(path)) {
        set_thread_count(1);
        const char* write = std::getenv("DIFFLAB_WRITE_FIXTURES");
        writing_ = write != nullptr && std::string(write) == "1";
        if (!writing_) recorded_ = read_safetensors(path_);
    }

    void check(const std::string& name, const tensor& value) {
        CAPTURE(name);
        const tensor actual = value.contiguous();
        if (writing_) {
            written_.add(to_safetensors(name, actual));
            return;
        }
        const safetensors_entry* entry = recorded_.find(name);
        REQUIRE_MESSAGE(entry != nullptr, "nothing recorded for ", name);
        const tensor expected = to_tensor(*entry);
        REQUIRE(expected.shape() == actual.shape());
        const std::vector<float> a = actual.to_vector(), b = expected.to_vector();
        CHECK_MESSAGE(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0, name, " moved");
        ++compared_;
    }

    void finish() {
        if (writing_) {
            write_safetensors(path_, written_);
            MESSAGE("wrote ", written_.tensors.size(), " recorded tensors to ", path_);
        } else {
            CHECK(compared_ == recorded_.tensors.size());
        }
    }

private:
    std::string path_;
    bool writing_ = false;
    safetensors_file recorded_, written_;
    std::size_t compared_ = 0;
};

/// A tiny class-conditional unet (3 classes, null class 3) with seeded random weights, its
/// zero-initialized output layers included.
std::unique_ptr<network> tiny_conditional_unet() {
    auto net = testing::make<network>(
        "{type: unet, channels: 8, groups: 4, channel_mult: [1], num_res_blocks: 1, num_classes: 3, image_size: 8, "
        "seed: 1}");
    testing::randomize_parameters(*net, 17);
    return net;
}

/// The squared norm of every gradient of `net`, summed in double in parameter order and kept as
/// two floats (the double's leading bits, then the rest): a change in any gradient shows.
tensor squared_norm(const network& net) {
    double total = 0;
    for (const auto& [name, value] : net.named_parameters())
        for (const float g : value.grad().to_vector()) total += static_cast<double>(g) * g;
    const float high = static_cast<float>(total);
    return tensor::from_vector({2}, {high, static_cast<float>(total - high)});
}

/// The squared norm of every parameter of `net`, as squared_norm.
tensor squared_weights(const network& net) {
    double total = 0;
    for (const auto& [name, value] : net.named_parameters())
        for (const float w : value.to_vector()) total += static_cast<double>(w) * w;
    const float high = static_cast<float>(total);
    return tensor::from_vector({2}, {high, static_cast<float>(total - high)});
}

tensor gradient_of(const network& net, const std::string& parameter) {
    for (const auto& [name, value] : net.named_parameters())
        if (name == parameter) return value.grad();
    FAIL("no parameter ", parameter);
    return {};
}

/// Gradients recorded whole: the class embedding, the input and output convolutions and attention.
const std::vector<const char*> recorded_gradients{"class_embed.weight", "conv_in.weight", "mid.attn.to_q.weight",
                                                  "conv_out.weight", "conv_out.bias"};

/// 1 x 8 x 8 images from their own streams, labelled 0, 1, 2, 0, ...
class labelled_images final : public dataset {
public:
    std::int64_t size() const override { return 16; }
    shape_t example_shape() const override { return {1, 8, 8}; }
    example_batch get(const std::vector<std::int64_t>& indices) const override {
        std::vector<tensor> images;
        std::vector<float> labels;
        for (const std::int64_t i : indices) {
            images.push_back(
                randn({1, 1, 8, 8}, 31, random_purpose("conditioning_test.images"), static_cast<std::uint64_t>(i)));
            labels.push_back(static_cast<float>(i % 3));
        }
        return {concat(images, 0), tensor::from_vector({static_cast<std::int64_t>(labels.size())}, labels)};
    }
};

const std::vector<prediction> kinds{prediction::eps, prediction::x0, prediction::v, prediction::score, prediction::edm};

}  // namespace

TEST_CASE("a class-conditional unet's guided estimates, losses, gradients and CFG samples are the recorded ones") {
    recorded_values values(fixtures + "class_conditional_unet.safetensors");
    const auto net = tiny_conditional_unet();
    const auto ddpm = testing::make<process>("{type: ddpm}");
    const tensor x = randn({4, 1, 8, 8}, 21, random_purpose("conditioning_test.x"));
    const condition labels = condition::from_labels(tensor::from_vector({4}, {0, 1, 2, 0}));
    const condition null_labels = condition::from_labels(tensor::full({4}, 3.0f));

    {
        const no_grad_guard no_grad;
        net->eval();
        for (const prediction kind : kinds)
            for (const double scale : {3.0, 1.0})
                for (const double t : {0.3, 0.8}) {
                    const guided_denoiser guided(*net, *ddpm, kind, 0.5, labels, null_labels, guidance_schedule{scale});
                    values.check(fmt::format("guided/{}/scale_{:g}/t_{:g}", prediction_name(kind), scale, t),
                                 guided.x0(x, t));
                }
        // A few DDIM steps of classifier-free guided sampling (eta = 1: fresh noise every step).
        const auto ddim = testing::make<sampler>("{type: ddim, steps: 4, eta: 1.0}");
        const guided_denoiser guided(*net, *ddpm, prediction::eps, 0.5, labels, null_labels, guidance_schedule{3.0});
        sampling_context sc;
        sc.seed = 7;
        sc.first_index = 2;
        values.check("ddim_cfg/samples",
                     ddim->sample(guided, randn({4, 1, 8, 8}, 23, random_purpose("conditioning_test.prior")), sc));
    }

    net->train();
    const tensor data = randn({4, 1, 8, 8}, 25, random_purpose("conditioning_test.data"));
    const tensor noise = randn({4, 1, 8, 8}, 27, random_purpose("conditioning_test.noise"));
    const std::vector<double> times{0.05, 0.35, 0.6, 0.95};
    const condition loss_labels = condition::from_labels(tensor::from_vector({4}, {2, 0, 3, 1}));  // one null
    for (const prediction kind : kinds) {
        net->zero_grad();
        const tensor loss = denoising_loss(*net, *ddpm, kind, 0.5, data, times, noise, loss_labels);
        loss.backward();
        const std::string name = fmt::format("loss/{}", prediction_name(kind));
        values.check(name + "/value", loss.detach());
        values.check(name + "/grad_norm_squared", squared_norm(*net));
        for (const char* parameter : recorded_gradients)
            values.check(name + "/grad/" + parameter, gradient_of(*net, parameter));
    }
    values.finish();
}

TEST_CASE("training a class-conditional unet with label dropout gives the recorded weights") {
    recorded_values values(fixtures + "class_conditional_training.safetensors");
    const auto ddpm = testing::make<process>("{type: ddpm}");
    const labelled_images data;
    const fs::path dir = fs::temp_directory_path() / ("difflab_conditioning_training_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    for (const prediction kind : {prediction::eps, prediction::edm}) {
        const auto net = tiny_conditional_unet();
        training_options options;
        options.steps = 3;
        options.batch_size = 4;
        options.prediction = prediction_name(kind);
        options.lr = 1e-3;
        options.ema = 0;
        options.checkpoint_every = 3;
        options.log_every = 1;
        training_job job(*net, *ddpm, data, options, 5, dir / prediction_name(kind));
        job.conditioning = [](const example_batch& batch, std::int64_t, std::int64_t first) {
            return condition::from_labels(drop_labels(batch.labels, 0.3, 3, 5, first));
        };
        const training_result result = train_diffusion(job);
        const std::string name = fmt::format("train/{}", prediction_name(kind));
        values.check(name + "/last_loss", tensor::from_vector({1}, {static_cast<float>(result.last_loss)}));
        values.check(name + "/weights_squared", squared_weights(*net));
        for (const char* parameter : recorded_gradients)
            for (const auto& [each, value] : net->named_parameters())
                if (each == parameter) values.check(name + "/weights/" + parameter, value);
    }
    fs::remove_all(dir);
    values.finish();
}
