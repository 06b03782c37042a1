// SPDX-License-Identifier: Apache-2.0
// Crash consistency: a training run killed with SIGKILL at random moments, resumed each time,
// ends bitwise where an uninterrupted run ends, with no temporary file left behind.
#include <difflab/io/safetensors.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli_runner.h"

using namespace cli_test;

namespace {

// An MLP on two moons: a second or two of training on an idle core, a checkpoint every 20 of its
// 2000 steps (dozens of checkpoint writes per second, so kills land in writes too; the kill test
// runs 4000).
const char* experiment = R"(name: tiny
seed: 4
data: {type: toy2d, kind: moons, size: 256}
process: {type: ddpm, schedule: linear, steps: 100}
network: {type: mlp, hidden: 64, layers: 3}
task: {type: generation}
train: {steps: 2000, batch_size: 32, lr: 1.0e-3, ema: 0.9, checkpoint_every: 20, keep_checkpoints: 3, log_every: 5}
sample: {sampler: {type: ddim, steps: 5}, count: 8, batch_size: 4}
)";

}  // namespace

TEST_CASE("a second process in a running run's directory is refused, naming the first, a killed one's lock is not") {
    const scratch dir("run_lock");
    dir.write("tiny.yaml", experiment);
    const pid_t first = start({"run", "tiny.yaml", "-q", "name=busy"}, dir.root);
    for (int wait = 0; wait < 200 && !fs::exists(dir.root / "runs/busy/config.yaml"); ++wait)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const result second = run("run tiny.yaml -q name=busy --overwrite", "", dir.root);
    ::kill(first, SIGKILL);
    int status = 0;
    ::waitpid(first, &status, 0);
    REQUIRE(WIFSIGNALED(status));  // still training when the second one asked
    CHECK(second.exit_code == 2);
    CHECK(second.err.find("another difflab process (pid " + std::to_string(first) +
                          ") is running in this run directory; wait for it to end, or give this run another name=") !=
          std::string::npos);
    CHECK(fs::exists(dir.root / "runs/busy/config.yaml"));  // --overwrite removed nothing
    // The killed process's lock went with it.
    const result after = run("run tiny.yaml -q name=busy --overwrite train.steps=20", "", dir.root);
    CHECK_MESSAGE(after.exit_code == 0, after.err);
}

TEST_CASE("--resume past a damaged latest checkpoint: the newest intact one, named, none intact: refused") {
    const scratch dir("damaged_checkpoint");
    dir.write("tiny.yaml", experiment);
    REQUIRE(run("run tiny.yaml -q name=straight train.steps=100", "", dir.root).exit_code == 0);
    REQUIRE(run("run tiny.yaml -q name=damaged train.steps=60", "", dir.root).exit_code == 0);
    const fs::path checkpoints = dir.root / "runs/damaged/checkpoints";
    const auto damage = [](const fs::path& file) {  // one bit of the last tensor byte
        std::string bytes = read_file(file);
        bytes.back() = static_cast<char>(bytes.back() ^ 0x01);
        std::ofstream(file, std::ios::binary) << bytes;
    };
    damage(checkpoints / "step_60.safetensors");
    const result resumed = run("run tiny.yaml name=damaged train.steps=100 --resume", "", dir.root);
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(resumed.err.find("checkpoint step_60 cannot be loaded (runs/damaged/checkpoints/step_60.safetensors: error: "
                           "the tensor data do not match the CRC-32") != std::string::npos);
    CHECK(resumed.err.find("resumed at step 40") != std::string::npos);
    CHECK(same_tensors(dir.root / "runs/straight/checkpoints/step_100.safetensors",
                       checkpoints / "step_100.safetensors"));

    // Every set damaged: refused, with the newest one's error and the way out.
    for (const char* step : {"step_100", "step_80", "step_60"})
        if (fs::exists(checkpoints / (std::string(step) + ".safetensors")))
            damage(checkpoints / (std::string(step) + ".state.safetensors"));
    const result none = run("run tiny.yaml -q name=damaged train.steps=120 --resume", "", dir.root);
    CHECK(none.exit_code == 1);
    CHECK(none.err.find("--resume: no checkpoint here loads; the newest failed with: ") != std::string::npos);
    CHECK(none.err.find("remove the run and train again without --resume") != std::string::npos);
}

TEST_CASE("a checkpoint write past a file-size limit fails clearly, keeps the previous set, and resumes later") {
    const scratch dir("file_size_limit");
    dir.write("tiny.yaml", experiment);
    REQUIRE(run("run tiny.yaml -q name=straight train.steps=100", "", dir.root).exit_code == 0);
    REQUIRE(run("run tiny.yaml -q name=limited train.steps=40", "", dir.root).exit_code == 0);
    // 200 KiB per file: the weights (about 85 KB) fit, the optimizer state (about 257 KB) does not.
    const std::string command = "cd '" + dir.root.string() + "' && unset DIFFLAB_PLUGIN_PATH && ulimit -f 200 && '" +
                                DIFFLAB_CLI + "' run tiny.yaml -q name=limited train.steps=100 --resume 2>limited.err";
    const int status = std::system(command.c_str());
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(read_file(dir.root / "limited.err")
              .find("runs/limited/checkpoints/step_60.state.safetensors.tmp: error: write failed: File too large; "
                    "check free disk space") != std::string::npos);
    const fs::path checkpoints = dir.root / "runs/limited/checkpoints";
    CHECK(read_file(checkpoints / "latest") == "step_40\n");
    CHECK_FALSE(fs::exists(checkpoints / "step_60.state.safetensors.tmp"));
    // With the limit lifted, --resume continues from step 40 and ends as the uninterrupted run.
    const result resumed = run("run tiny.yaml -q name=limited train.steps=100 --resume", "", dir.root);
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(same_tensors(dir.root / "runs/straight/checkpoints/step_100.safetensors",
                       checkpoints / "step_100.safetensors"));
}

TEST_CASE("a run killed at random moments and resumed each time ends bitwise as an uninterrupted one") {
    const scratch dir("crash_consistency");
    dir.write("tiny.yaml", experiment);
    // 4000 steps: enough that a run resumed after a kill at these moments needs six or more tries
    // in a release build (2000 steps took five when difflab's start-up got faster).
    REQUIRE(run("run tiny.yaml -q name=straight train.steps=4000", "", dir.root).exit_code == 0);

    const fs::path run_dir = dir.root / "runs/killed", latest = run_dir / "checkpoints/latest";
    std::mt19937 moments(2026);  // fixed, so a failure replays; kills between 30 ms and 500 ms
    int kills = 0, finished = 0;
    std::vector<std::string> reached;  // the latest checkpoint after each attempt
    for (int attempt = 0; attempt < 20 && finished == 0; ++attempt) {
        const bool resumable = fs::exists(latest);
        const pid_t pid =
            start({"run", "tiny.yaml", "-q", "name=killed", "train.steps=4000", resumable ? "--resume" : "--overwrite"},
                  dir.root);
        REQUIRE(pid > 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(30 + moments() % 470));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ++kills;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++finished;
        reached.push_back(fs::exists(latest) ? read_file(latest).substr(0, read_file(latest).size() - 1) : "none");
    }
    std::string path;
    for (const std::string& r : reached) path += " " + r;
    MESSAGE(kills << " kills, " << finished
                  << " runs finished before their kill; latest checkpoint after each:" << path);
    CHECK(kills >= 6);
    // Whatever the kills left, one more resume (or a fresh start) completes the run.
    const result last = run(std::string("run tiny.yaml -q name=killed train.steps=4000 ") +
                                (fs::exists(latest) ? "--resume" : "--overwrite"),
                            "", dir.root);
    REQUIRE_MESSAGE(last.exit_code == 0, last.err);
    CHECK(read_file(latest) == "step_4000\n");
    const fs::path straight = dir.root / "runs/straight/checkpoints", killed = run_dir / "checkpoints";
    CHECK(same_tensors(straight / "step_4000.safetensors", killed / "step_4000.safetensors"));
    CHECK(same_tensors(straight / "step_4000.state.safetensors", killed / "step_4000.state.safetensors"));
    // No temporary file of an interrupted atomic write is left anywhere in the run.
    std::vector<std::string> stray;
    for (const auto& entry : fs::recursive_directory_iterator(run_dir))
        if (entry.path().extension() == ".tmp") stray.push_back(entry.path().string());
    CHECK_MESSAGE(stray.empty(), "left behind: " << (stray.empty() ? "" : stray.front()));
}
