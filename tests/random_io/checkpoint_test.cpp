// SPDX-License-Identifier: Apache-2.0
// Checkpoint sets: round trip, latest, retention, and what an interrupted save leaves behind.
#include <difflab/base/error.h>
#include <difflab/io/checkpoint.h>
#include <difflab/io/safetensors.h>
#include <difflab/tensor/module.h>
#include <difflab/tensor/optim.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
    const fs::path dir = fs::path(DIFFLAB_BINARY_DIR) / "tests/random_io_scratch" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

checkpoint sample(std::uint64_t step) {
    const float s = static_cast<float>(step);
    checkpoint c;
    c.step = step;
    c.model["net.0.weight"] = tensor::from_vector({2, 2}, {1 + s, 2, 3, 4});
    c.model["net.0.bias"] = tensor::from_vector({2}, {-1, s});
    c.model["net.1.scale"] = tensor::from_vector({2}, {0.5f, 0.25f}).to(dtype::bf16);
    c.ema["net.0.weight"] = tensor::from_vector({2, 2}, {0.9f, 1.9f, 2.9f, 3.9f});
    c.optimizer["net.0.weight.exp_avg"] = tensor::from_vector({2, 2}, {0.1f, 0.2f, 0.3f, s});
    c.optimizer["net.0.weight.exp_avg_sq"] = tensor::scalar(0.01f);
    c.state["optimizer.step"] = std::to_string(step);
    c.state["lr"] = "0.0002";
    return c;
}

/// Whether a checkpoint file carries the CRC-32 of its data.
bool safetensors_metadata_has_crc(const safetensors_file& file) {
    const auto crc = file.metadata.find("data_crc32");
    return crc != file.metadata.end() && crc->second.size() == 8;
}

void check_same(const state_dict_t& a, const state_dict_t& b) {
    REQUIRE(a.size() == b.size());
    for (const auto& [name, value] : a) {
        CAPTURE(name);
        REQUIRE(b.count(name) == 1);
        CHECK(b.at(name).shape() == value.shape());
        CHECK(b.at(name).type() == value.type());
        CHECK(b.at(name).to_vector() == value.to_vector());
    }
}

}  // namespace

TEST_CASE("a checkpoint round-trips weights, EMA, optimizer state and scalars") {
    const fs::path dir = scratch("checkpoint_round_trip") / "checkpoints";
    CHECK_FALSE(latest_checkpoint_step(dir).has_value());
    const checkpoint saved = sample(1000);
    save_checkpoint(dir, saved);
    CHECK(read_text(dir / "latest") == "step_1000\n");
    CHECK(latest_checkpoint_step(dir) == std::optional<std::uint64_t>(1000));

    // The weights file alone is a plain state_dict, as PyTorch users expect.
    const safetensors_file weights = read_safetensors(dir / "step_1000.safetensors");
    CHECK(weights.tensors.size() == 3);
    CHECK(weights.metadata.at("format") == "pt");
    CHECK(weights.find("net.0.weight") != nullptr);
    CHECK(weights.find("net.1.scale")->dtype == "BF16");
    const safetensors_file state = read_safetensors(dir / "step_1000.state.safetensors");
    CHECK(state.find("ema/net.0.weight") != nullptr);
    CHECK(state.find("optimizer/net.0.weight.exp_avg_sq")->shape.empty());

    const checkpoint loaded = load_latest_checkpoint(dir);
    CHECK(loaded.step == 1000);
    check_same(saved.model, loaded.model);
    check_same(saved.ema, loaded.ema);
    check_same(saved.optimizer, loaded.optimizer);
    CHECK(loaded.state == saved.state);
}

TEST_CASE("latest moves last, old checkpoints are pruned, stale temp files removed") {
    const fs::path dir = scratch("checkpoint_latest");
    save_checkpoint(dir, sample(10));
    std::ofstream(dir / "step_20.safetensors.tmp") << "left by a killed save";
    save_checkpoint(dir, sample(20));
    CHECK_FALSE(fs::exists(dir / "step_20.safetensors.tmp"));
    save_checkpoint(dir, sample(30), 2);
    CHECK(latest_checkpoint_step(dir) == std::optional<std::uint64_t>(30));
    CHECK_FALSE(fs::exists(dir / "step_10.safetensors"));
    CHECK_FALSE(fs::exists(dir / "step_10.state.safetensors"));
    CHECK(fs::exists(dir / "step_20.safetensors"));
    CHECK(load_checkpoint(dir, 20).model.at("net.0.bias").to_vector() == std::vector<float>{-1, 20});

    // A save killed before `latest` moved leaves a newer, unreferenced weights file: resuming
    // ignores it and loads the last complete set.
    fs::copy_file(dir / "step_30.safetensors", dir / "step_40.safetensors");
    CHECK(load_latest_checkpoint(dir).step == 30);
}

TEST_CASE("files of different saves or steps are refused with one-line errors") {
    const fs::path dir = scratch("checkpoint_mixed");
    const fs::path other = scratch("checkpoint_mixed_other");
    save_checkpoint(dir, sample(50));
    save_checkpoint(other, sample(50));
    // A crash between the two renames of a repeated save of step 50.
    fs::copy_file(other / "step_50.state.safetensors", dir / "step_50.state.safetensors",
                  fs::copy_options::overwrite_existing);
    try {
        load_checkpoint(dir, 50);
        FAIL("mixed saves were accepted");
    } catch (const difflab::error& e) {
        const std::string text = e.what();
        CHECK(text.rfind((dir / "step_50.state.safetensors").string() + ": error: save id ", 0) == 0);
        CHECK(text.find(" in step_50.safetensors: the two files come from different saves (an interrupted save); "
                        "resume from an earlier step") != std::string::npos);
    }

    fs::copy_file(other / "step_50.safetensors", dir / "step_51.safetensors");
    fs::copy_file(other / "step_50.state.safetensors", dir / "step_51.state.safetensors");
    CHECK_THROWS_WITH_AS(load_checkpoint(dir, 51),
                         ((dir / "step_51.safetensors").string() +
                          ": error: holds step 50 but its name says step 51; the file was renamed or corrupted")
                             .c_str(),
                         difflab::error);

    std::ofstream(dir / "latest") << "newest\n";
    CHECK_THROWS_WITH_AS(latest_checkpoint_step(dir),
                         ((dir / "latest").string() +
                          ": error: holds 'newest', not step_<n>; write the step to resume from (e.g. step_1000) "
                          "or delete the file")
                             .c_str(),
                         difflab::error);
    const fs::path empty = scratch("checkpoint_none");
    CHECK_THROWS_WITH_AS(
        load_latest_checkpoint(empty),
        ((empty / "latest").string() + ": error: no checkpoint to resume from; the run has not saved one yet").c_str(),
        difflab::error);
}

namespace {

// Two parameters and a buffer, enough to exercise names, shapes and Adam's moments.
class tiny_model : public module {
public:
    explicit tiny_model(float start) {
        weight_ = register_parameter("weight", tensor::from_vector({2, 3}, {start, 1, 2, 3, 4, 5}));
        bias_ = register_parameter("bias", tensor::from_vector({2}, {start, -start}));
        register_buffer("count", tensor::scalar(start));
    }
    tensor weight_, bias_;
};

void set_gradients(tiny_model& model, float scale) {
    model.weight_.set_grad(tensor::from_vector({2, 3}, {scale, -scale, 0.5f * scale, 1, 2, 3}));
    model.bias_.set_grad(tensor::from_vector({2}, {scale, 0.25f}));
}

}  // namespace

TEST_CASE("a run restored from a checkpoint continues exactly as the original") {
    const fs::path dir = scratch("checkpoint_resume");
    tiny_model model(0.5f);
    optim::adamw optimizer(model.parameters(), optim::adam_options{1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f});
    optim::ema average(model, 0.9f);
    for (int step = 1; step <= 3; ++step) {
        set_gradients(model, static_cast<float>(step));
        optimizer.step();
        average.update(model);
    }
    optimizer.set_learning_rate(5e-3f);
    save_checkpoint(dir, 3, model, optimizer, &average, {{"data.position", "96"}});

    tiny_model resumed(-7.0f);
    optim::adamw resumed_optimizer(resumed.parameters(), optim::adam_options{1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f});
    optim::ema resumed_average(resumed, 0.9f);
    const checkpoint restored = restore_checkpoint(dir, 3, resumed, resumed_optimizer, &resumed_average);
    CHECK(restored.state == std::map<std::string, std::string>{{"data.position", "96"}});
    CHECK(resumed_optimizer.step_count() == 3);
    CHECK(resumed_optimizer.learning_rate() == 5e-3f);
    check_same(model.state_dict(), resumed.state_dict());
    check_same(optimizer.state_dict(), resumed_optimizer.state_dict());
    check_same(average.state_dict(), resumed_average.state_dict());

    // One more identical step on both: bitwise the same parameters and averages.
    for (auto* run : {&model, &resumed}) set_gradients(*run, 4.0f);
    optimizer.step();
    resumed_optimizer.step();
    average.update(model);
    resumed_average.update(resumed);
    check_same(model.state_dict(), resumed.state_dict());
    check_same(average.state_dict(), resumed_average.state_dict());

    // An EMA asked of a checkpoint saved without one is an error, not silent zeros.
    save_checkpoint(dir, 4, model, optimizer, nullptr);
    CHECK_THROWS_WITH_AS(restore_checkpoint(dir, 4, resumed, resumed_optimizer, &resumed_average),
                         ((dir / "step_4.state.safetensors").string() +
                          ": error: holds no EMA weights; the run that saved it kept no EMA, so resume without one "
                          "or start the EMA afresh")
                             .c_str(),
                         difflab::error);
}

TEST_CASE("a byte changed in a checkpoint's tensor data is found by its CRC-32, steps are listed newest first") {
    const fs::path dir = scratch("checkpoint_damaged");
    save_checkpoint(dir, sample(10));
    save_checkpoint(dir, sample(20));
    CHECK(checkpoint_steps(dir) == std::vector<std::uint64_t>{20, 10});
    const fs::path weights = dir / "step_20.safetensors";
    std::string bytes = read_text(weights);
    CHECK(safetensors_metadata_has_crc(read_safetensors(weights)));
    // The last byte is tensor data (the header comes first): flip one bit of it.
    bytes.back() = static_cast<char>(bytes.back() ^ 0x10);
    std::ofstream(weights, std::ios::binary) << bytes;
    try {
        load_checkpoint(dir, 20);
        FAIL("a changed byte was loaded");
    } catch (const difflab::error& e) {
        const std::string text = e.what();
        CAPTURE(text);
        CHECK(text.rfind(weights.string() + ": error: the tensor data do not match the CRC-32 saved with them (", 0) ==
              0);
        CHECK(text.find("the file is damaged; resume from an earlier checkpoint") != std::string::npos);
    }
    check_same(load_checkpoint(dir, 10).model, sample(10).model);  // the earlier set is intact
}
