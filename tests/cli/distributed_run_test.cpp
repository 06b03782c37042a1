// SPDX-License-Identifier: Apache-2.0
// `mpirun -np N difflab ...` on tiny configurations: data-parallel training, sharded sampling
// and evaluation, a killed rank, and resuming with another number of ranks.
#include <difflab/io/safetensors.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cli_runner.h"

using namespace cli_test;

namespace {

// cli_tests' MLP on two moons, with a sampler and the score_sde likelihood to shard.
const char* experiment = R"(name: tiny
seed: 4
data: {type: toy2d, kind: moons, size: 256}
process: {type: ddpm, schedule: linear, steps: 100}
network: {type: mlp, hidden: 32, layers: 2}
task: {type: generation}
train: {steps: 6, batch_size: 16, lr: 1.0e-3, ema: 0.9, checkpoint_every: 3, log_every: 1}
sample: {sampler: {type: ddpm, steps: 20}, count: 7, batch_size: 2}
)";

/// mpirun's options for a test: as many ranks as asked on this machine's cores, and as root
/// where the tests run as root (Open MPI refuses it otherwise).
std::string mpirun(int ranks) {
    std::string command = std::string(DIFFLAB_MPIEXEC) + " -np " + std::to_string(ranks) + " --oversubscribe";
    if (::geteuid() == 0) command += " --allow-run-as-root";
    return command;
}

/// Runs `mpirun -np RANKS difflab ARGS` in `cwd`, each rank on one thread.
result run_ranks(int ranks, const std::string& args, const fs::path& cwd) {
    const std::string out = (cwd / ".mpi.out").string(), err = (cwd / ".mpi.err").string();
    const std::string command = "cd '" + cwd.string() + "' && unset DIFFLAB_PLUGIN_PATH; " + mpirun(ranks) + " '" +
                                DIFFLAB_CLI + "' " + args + " --threads 1 >'" + out + "' 2>'" + err + "' </dev/null";
    const int status = std::system(command.c_str());
    result r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
    fs::remove(out);
    fs::remove(err);
    return r;
}

/// The largest |a - b| over the tensors of two safetensors files (infinite when they differ in
/// names or shapes).
double max_difference(const fs::path& a, const fs::path& b) {
    const difflab::safetensors_file x = difflab::read_safetensors(a), y = difflab::read_safetensors(b);
    if (x.tensors.size() != y.tensors.size()) return INFINITY;
    double most = 0;
    for (const auto& entry : x.tensors) {
        const auto* other = y.find(entry.name);
        if (!other || other->shape != entry.shape || other->data.size() != entry.data.size()) return INFINITY;
        const auto* p = reinterpret_cast<const float*>(entry.data.data());
        const auto* q = reinterpret_cast<const float*>(other->data.data());
        for (std::size_t i = 0; i < entry.data.size() / sizeof(float); ++i)
            most = std::max(most, static_cast<double>(std::fabs(p[i] - q[i])));
    }
    return most;
}

/// The pid of rank `rank` of the job whose processes carry DIFFLAB_TEST_JOB=`job`, or -1.
pid_t find_rank(const std::string& job, int rank) {
    const std::string mark = "DIFFLAB_TEST_JOB=" + job, which = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (!std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        std::string environment = read_file(entry.path() / "environ");
        std::replace(environment.begin(), environment.end(), '\0', '\n');
        environment = "\n" + environment;
        if (environment.find("\n" + mark + "\n") != std::string::npos &&
            environment.find("\n" + which + "\n") != std::string::npos)
            return static_cast<pid_t>(std::stol(name));
    }
    return -1;
}

// Why a tolerance and not bitwise: one process sums the 16 rows' gradients inside oneDNN's
// matrix products, two ranks sum 8 rows each and then add the two halves; float addition in
// another order rounds differently (about 1e-7 relative), and Adam's six steps carry that on: the
// weights differ by 3e-8 here.
constexpr double weight_tolerance = 1e-6;

}  // namespace

TEST_CASE("two ranks at batch 8 each train the weights of one process at batch 16 within 1e-6") {
    const scratch dir("mpi_train");
    dir.write("tiny.yaml", experiment);
    REQUIRE(run("run tiny.yaml -q --threads 1 name=one", "", dir.root).exit_code == 0);
    const result two = run_ranks(2, "run tiny.yaml name=two", dir.root);
    REQUIRE_MESSAGE(two.exit_code == 0, two.err);
    const fs::path one_dir = dir.root / "runs/one/checkpoints", two_dir = dir.root / "runs/two/checkpoints";
    CHECK(read_file(two_dir / "latest") == "step_6\n");
    const double weights = max_difference(one_dir / "step_6.safetensors", two_dir / "step_6.safetensors");
    const double state = max_difference(one_dir / "step_6.state.safetensors", two_dir / "step_6.state.safetensors");
    MESSAGE("largest weight difference " << weights << ", EMA and optimizer state " << state);
    CHECK(weights < weight_tolerance);
    CHECK(state < weight_tolerance);
    CHECK(weights > 0);  // were it 0, the ranks would not have split the batch (or the sums are bitwise)
    // Rank 0 alone logs: each step once in log.jsonl, one progress line per step at most.
    const std::string log = read_file(dir.root / "runs/two/log.jsonl");
    CHECK(std::count(log.begin(), log.end(), '\n') == 6);
    CHECK(two.err.find("rank 1") == std::string::npos);
}

TEST_CASE("sharded sampling and likelihood give the samples and values of one process, bitwise") {
    const scratch dir("mpi_sample");
    dir.write("tiny.yaml", experiment);
    REQUIRE(run("run tiny.yaml -q --threads 1", "", dir.root).exit_code == 0);
    const std::string nll = "'evaluate.metrics=[{type: nll_bpd, count: 5, probes: 1, dequantize: false}]'";
    REQUIRE(run("sample runs/tiny -q --threads 1 " + nll, "", dir.root).exit_code == 0);
    const fs::path single = dir.root / "runs/tiny/samples/ddpm-20";
    // 7 samples in batches of 2 over 2 and 3 ranks (the last batch of 1), and in batches of 4
    // over 3 ranks, one of which has none to draw; 5 likelihoods over each.
    for (const auto& [ranks, batch] : std::vector<std::pair<int, int>>{{2, 2}, {3, 2}, {3, 4}}) {
        CAPTURE(ranks);
        CAPTURE(batch);
        const std::string label = "ranks" + std::to_string(ranks) + "_batch" + std::to_string(batch);
        const result r = run_ranks(
            ranks, "sample runs/tiny --name " + label + " sample.batch_size=" + std::to_string(batch) + " " + nll,
            dir.root);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        const fs::path sharded = dir.root / "runs/tiny/samples" / label;
        CHECK(same_tensors(single / "samples.safetensors", sharded / "samples.safetensors"));
        const std::string a = read_file(single / "metrics.json"), b = read_file(sharded / "metrics.json");
        CHECK(a.substr(0, a.find("\"protocol\"")) == b.substr(0, b.find("\"protocol\"")));
    }
}

TEST_CASE("a comparison grid runs on two ranks, and re-evaluated there gives one process's metrics bitwise") {
    const scratch dir("mpi_grid");
    dir.write("grid.yaml", R"(name: grid
seed: 4
data: {type: toy2d, kind: moons, size: 512}
process: {type: ddpm, schedule: linear, steps: 100}
network: {type: mlp, hidden: 32, layers: 2}
task: {type: generation}
train: {steps: 10, batch_size: 32, lr: 1.0e-3, ema: 0.9, checkpoint_every: 10, log_every: 5}
sample: {sampler: {type: ddim, steps: 5}, count: 16, batch_size: 8}
evaluate: {count: 64, metrics: [sliced_wasserstein, mmd], reference_count: 256}
variants:
  sample.sampler:
    ddim_2: {type: ddim, steps: 2}
    ddpm_10: {type: ddpm, steps: 10}
expect:
  sliced_wasserstein: {max: 10}
)");
    const result trained = run_ranks(2, "run grid.yaml", dir.root);
    REQUIRE_MESSAGE(trained.exit_code == 0, trained.err);
    REQUIRE(run("evaluate runs/grid -q --threads 1 --name one", "", dir.root).exit_code == 0);
    const result two = run_ranks(2, "evaluate runs/grid --name two", dir.root);
    REQUIRE_MESSAGE(two.exit_code == 0, two.err);
    for (const char* variant : {"ddim_2", "ddpm_10"}) {
        CAPTURE(variant);
        const fs::path one = dir.root / "runs/grid/evaluations/one/variants" / variant / "metrics.json";
        const fs::path other = dir.root / "runs/grid/evaluations/two/variants" / variant / "metrics.json";
        const std::string a = read_file(one), b = read_file(other);
        REQUIRE(a.find("sliced_wasserstein") != std::string::npos);
        CHECK(a.substr(0, a.find("\"protocol\"")) == b.substr(0, b.find("\"protocol\"")));
    }
}

TEST_CASE("a 2-rank run resumes on 1 rank and a 1-rank run on 2, both close to an uninterrupted run") {
    const scratch dir("mpi_resume");
    dir.write("tiny.yaml", experiment);
    REQUIRE(run("run tiny.yaml -q --threads 1 name=straight", "", dir.root).exit_code == 0);
    REQUIRE(run_ranks(2, "run tiny.yaml name=down train.steps=3", dir.root).exit_code == 0);
    const result down = run("run tiny.yaml -q --threads 1 name=down --resume", "", dir.root);
    REQUIRE_MESSAGE(down.exit_code == 0, down.err);
    REQUIRE(run("run tiny.yaml -q --threads 1 name=up train.steps=3", "", dir.root).exit_code == 0);
    const result up = run_ranks(2, "run tiny.yaml name=up --resume", dir.root);
    REQUIRE_MESSAGE(up.exit_code == 0, up.err);
    for (const char* name : {"down", "up"}) {
        CAPTURE(name);
        const fs::path checkpoints = dir.root / "runs" / name / "checkpoints";
        CHECK(read_file(checkpoints / "latest") == "step_6\n");
        CHECK(max_difference(dir.root / "runs/straight/checkpoints/step_6.safetensors",
                             checkpoints / "step_6.safetensors") < weight_tolerance);
    }
}

TEST_CASE("a batch smaller than the ranks is refused with a clear message") {
    const scratch dir("mpi_batch");
    dir.write("tiny.yaml", experiment);
    const result r = run_ranks(3, "run tiny.yaml train.batch_size=2", dir.root);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("train: batch_size 2 is smaller than the 3 ranks of this job; raise train.batch_size or start "
                     "fewer ranks") != std::string::npos);
}

TEST_CASE("killing one rank ends the job naming that rank, and the run resumes from its last checkpoint") {
    const scratch dir("mpi_kill");
    dir.write("tiny.yaml", experiment);
    const std::string job = std::to_string(::getpid());
    const std::string command = "cd '" + dir.root.string() + "' && DIFFLAB_TEST_JOB=" + job + " " + mpirun(2) +
                                " -x DIFFLAB_TEST_JOB '" + DIFFLAB_CLI +
                                "' run tiny.yaml --threads 1 train.steps=1000000 train.checkpoint_every=2 "
                                ">.out 2>.err </dev/null";
    const pid_t launcher = ::fork();
    if (launcher == 0) {
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    const fs::path latest = dir.root / "runs/tiny/checkpoints/latest";
    auto saved_step = [&] {
        const std::string text = read_file(latest);  // "step_<n>\n", or empty before the first save
        return text.size() > 6 ? std::stol(text.substr(5)) : 0L;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (saved_step() < 10 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const pid_t rank1 = find_rank(job, 1);
    REQUIRE(rank1 > 0);
    REQUIRE(::kill(rank1, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(launcher, &status, 0) == launcher);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) != 0);
    const std::string err = read_file(dir.root / ".err");
    CAPTURE(err);
    CHECK(err.find("rank 1") != std::string::npos);
    CHECK(err.find("signal 9") != std::string::npos);
    CHECK(find_rank(job, 0) == -1);  // no rank is left behind

    // The last checkpoint set is whole: one process resumes from it to two steps further.
    const std::string to = std::to_string(saved_step() + 2);
    const result resumed =
        run("run tiny.yaml -q --threads 1 --resume train.checkpoint_every=2 train.steps=" + to, "", dir.root);
    CHECK_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(read_file(latest) == "step_" + to + "\n");
}
