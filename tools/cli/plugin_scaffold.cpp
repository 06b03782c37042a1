// SPDX-License-Identifier: Apache-2.0
// Templates of an out-of-tree plugin project (tests/new_plugin builds one in CI).
#include "plugin_scaffold.h"

#include <difflab/base/error.h>
#include <difflab/base/suggest.h>
#include <difflab/base/version.h>
#include <difflab/io/atomic_file.h>
#include <difflab/plugin/component.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <vector>

namespace difflab::cli {

namespace fs = std::filesystem;

namespace {

// Fills {name}, {kind}, {layer} (the header folder of the kind), {class} and {difflab_minor} (the
// major.minor version of this difflab: a plugin asks find_package for the plugin API it was
// written against) in a template.
std::string fill(std::string text, const std::string& name, const std::string& kind) {
    const std::string layer = kind == "task" ? "run" : "diffusion";
    const std::vector<std::pair<std::string, std::string>> fields{
        {"{name}", name},
        {"{kind}", kind},
        {"{layer}", layer},
        {"{class}", name + "_" + kind},
        {"{difflab_minor}", DIFFLAB_STRINGIFY(DIFFLAB_VERSION_MAJOR) "." DIFFLAB_STRINGIFY(DIFFLAB_VERSION_MINOR)}};
    for (const auto& [key, value] : fields)
        for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + value.size()))
            text.replace(pos, key.size(), value);
    return text;
}

constexpr const char* cmake_template = R"(# {name}: an out-of-tree difflab plugin (written by difflab new-plugin).
cmake_minimum_required(VERSION 3.22)
project(difflab_{name} LANGUAGES CXX)

find_package(difflab {difflab_minor} REQUIRED)
include(CTest)
find_package(doctest QUIET)
if(doctest_FOUND)
  include(doctest)
endif()

difflab_add_plugin(NAME {name}
  SOURCES plugin.cpp {class}.cpp
  TESTS   {class}_test.cpp)
)";

constexpr const char* plugin_template = R"(// SPDX-License-Identifier: Apache-2.0
// Registers the {name} plugin's components.
#include <difflab/plugin/plugin.h>

#include "{class}.h"

DIFFLAB_PLUGIN({name}, "0.1.0", reg) {
    reg.add<{name}::{class}>("{name}");
}
)";

constexpr const char* header_template = R"(// SPDX-License-Identifier: Apache-2.0
// The {kind} '{name}'.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/tensor/random.h>
#include <difflab/{layer}/{kind}.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {name} {

/// Describe the method here and name the paper it implements.
class {class} final : public difflab::{kind} {
public:
    struct options {
        std::string message = "hello from {name}";
        std::int64_t repeat = 1;
    };
    static difflab::param_spec<options> params();

    {class}(const options& opts, difflab::build_context& ctx);
)";

constexpr const char* task_header_extra = R"(
    /// Writes `message`, `repeat` times, to {name}.txt in the run directory.
    void run(difflab::run_context& ctx) override;
)";

constexpr const char* process_header_extra = R"(
    // An example schedule to replace: x_t = x_0 + t noise (Karras et al. 2022, sigma(t) = t).
    double alpha(double) const override { return 1.0; }
    double sigma(double t) const override { return t; }
    double t_min() const override { return 1e-3; }
)";

constexpr const char* dataset_header_extra = R"(
    // An example to replace: `repeat` examples, example i being the single value i.
    std::int64_t size() const override { return opts_.repeat; }
    difflab::shape_t example_shape() const override { return {1}; }
    difflab::example_batch get(const std::vector<std::int64_t>& indices) const override {
        std::vector<float> values(indices.begin(), indices.end());
        return {difflab::tensor::from_vector({static_cast<std::int64_t>(indices.size()), 1}, values), {}};
    }
)";

constexpr const char* metric_header_extra = R"(
    // An example to replace: the mean of the samples, `repeat` times over (a metric's values are
    // named; `expect:` claims and report columns use the names).
    difflab::metric_values compute(const difflab::metric_inputs& in) override {
        if (!in.samples.defined()) throw difflab::error("metric '{name}' needs samples; give it a data set to sample");
        const std::vector<float> values = in.samples.contiguous().to_vector();
        double sum = 0;
        for (float v : values) sum += v;
        return {{"mean", values.empty() ? 0.0 : opts_.repeat * sum / static_cast<double>(values.size())}};
    }
)";

constexpr const char* noise_header_extra = R"(
    // An example to replace: standard Gaussian noise, keyed as every difflab draw is.
    difflab::tensor draw(const difflab::shape_t& shape, std::uint64_t seed, std::uint64_t purpose,
                         std::uint64_t first_index, std::uint64_t step) const override {
        return difflab::randn(shape, seed, purpose, first_index, step);
    }
)";

constexpr const char* network_header_extra = R"(
    // An example to replace: the identity (a real network registers parameters in its constructor).
    difflab::tensor forward(const difflab::tensor& x, const difflab::tensor&, const difflab::condition&) override {
        return x;
    }
)";

constexpr const char* measurement_header_extra = R"(
    // An example to replace: the identity H = I (U = V = I, every singular value 1), as for
    // denoising. A real operator checks the shape in prepare (a config_error naming the fix) and
    // keeps its matrices; the methods get contiguous f32 batches.
    binding prepare(const difflab::shape_t& example) override {
        return {example, std::vector<double>(static_cast<std::size_t>(difflab::shape_numel(example)), 1.0)};
    }
    difflab::tensor do_apply(const difflab::tensor& x) const override { return x.clone(); }
    difflab::tensor do_adjoint(const difflab::tensor& y) const override { return y.clone(); }
    difflab::tensor do_v_transpose(const difflab::tensor& x) const override { return x.clone(); }
    difflab::tensor do_v(const difflab::tensor& c) const override { return c.clone(); }
    difflab::tensor do_u_transpose(const difflab::tensor& y) const override { return y.clone(); }
    difflab::tensor do_u(const difflab::tensor& c) const override { return c.clone(); }
)";

constexpr const char* header_end = R"(
    const options& settings() const { return opts_; }

private:
    options opts_;
};

}  // namespace {name}
)";

constexpr const char* source_template = R"(// SPDX-License-Identifier: Apache-2.0
// The {kind} '{name}'.
#include "{class}.h"

#include <fstream>

namespace {name} {

difflab::param_spec<{class}::options> {class}::params() {
    difflab::param_spec<options> spec{"A {kind} written by difflab new-plugin; describe it here."};
    spec.add(&options::message, "message", "Text to write.", difflab::non_empty());
    spec.add(&options::repeat, "repeat", "How many times.", difflab::at_least<std::int64_t>(1));
    return spec;
}

{class}::{class}(const options& opts, difflab::build_context&) : opts_(opts) {}
)";

constexpr const char* task_source_extra = R"(
void {class}::run(difflab::run_context& ctx) {
    std::ofstream out(ctx.run_dir() / "{name}.txt");
    for (std::int64_t i = 0; i < opts_.repeat; ++i) out << opts_.message << "\n";
}
)";

constexpr const char* source_end = R"(
}  // namespace {name}
)";

constexpr const char* test_template = R"(// SPDX-License-Identifier: Apache-2.0
// Tests of the {kind} '{name}'.
#include "{class}.h"

#include <difflab/base/error.h>
#include <difflab/plugin/config_node.h>

#include <doctest/doctest.h>

TEST_CASE("{name} reads its options and rejects bad ones") {
    const auto spec = {name}::{class}::params();
    const auto opts = spec.parse(difflab::parse_yaml("{message: hi, repeat: 3}", "test.yaml"), difflab::parse_context());
    CHECK(opts.message == "hi");
    CHECK(opts.repeat == 3);
    CHECK_THROWS_AS(spec.parse(difflab::parse_yaml("{repeat: 0}", "test.yaml"), difflab::parse_context()),
                    difflab::config_error);
}
)";

// A sampler is its update rule: difflab::grid_sampler owns steps, spacing, the grid, the landing
// on clean data and the announced evaluations.
constexpr const char* sampler_header_template = R"(// SPDX-License-Identifier: Apache-2.0
// The sampler '{name}'.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/registry.h>

namespace {name} {

/// Describe the method here and name the paper it implements. The example to replace is DDIM
/// (Song, Meng & Ermon 2021, eq. 12): from x_t, with x0 and eps estimated at t, step to s by
///     x_s = alpha_s x0 + sqrt(sigma_s^2 - c^2) eps + c z,  c = eta (sigma_s / sigma_t) sigma_{t|s}.
class {class} final : public difflab::grid_sampler {
public:
    struct options : difflab::grid_options {
        options() : grid_options{50, "uniform"} {}
        double eta = 0.0;
    };
    static difflab::param_spec<options> params();
    {class}(const options& opts, difflab::build_context& ctx);
    bool deterministic() const override { return opts_.eta == 0; }

private:
    /// x at step.s from x at step.t and the denoised estimate step.x0 there.
    difflab::tensor update(const difflab::grid_step& step) const override;
    options opts_;
};

}  // namespace {name}
)";

constexpr const char* sampler_source_template = R"(// SPDX-License-Identifier: Apache-2.0
// The sampler '{name}'.
#include "{class}.h"

#include <difflab/tensor/ops.h>

#include <algorithm>
#include <cmath>

namespace {name} {

difflab::param_spec<{class}::options> {class}::params() {
    difflab::param_spec<options> spec{"A sampler written by difflab new-plugin; describe it here."};
    difflab::add_grid_options(spec);
    spec.add(&options::eta, "eta", "Stochasticity: 0 deterministic, 1 ancestral.", difflab::closed_range(0.0, 1.0));
    return spec;
}

{class}::{class}(const options& opts, difflab::build_context&) : grid_sampler(opts), opts_(opts) {}

difflab::tensor {class}::update(const difflab::grid_step& step) const {
    const difflab::process& p = step.p;
    const double sigma_t = p.sigma(step.t), sigma_s = p.sigma(step.s), ratio = p.alpha(step.t) / p.alpha(step.s);
    const double sigma_ts = std::sqrt(std::max(sigma_t * sigma_t - ratio * ratio * sigma_s * sigma_s, 0.0));
    const double c = opts_.eta * sigma_s / sigma_t * sigma_ts;
    const difflab::tensor eps = difflab::eps_from_x0(p, step.x, step.x0, step.t);
    const difflab::tensor next = step.x0 * p.alpha(step.s) + eps * std::sqrt(std::max(sigma_s * sigma_s - c * c, 0.0));
    return c > 0 ? next + step.noise() * c : next;
}

}  // namespace {name}
)";

constexpr const char* sampler_test_template = R"(// SPDX-License-Identifier: Apache-2.0
// Tests of the sampler '{name}'.
#include "{class}.h"

#include <difflab/base/error.h>
#include <difflab/plugin/config_node.h>
#include <difflab/testing/sampler_conformance.h>
#include <difflab/testing/testing.h>

#include <doctest/doctest.h>

TEST_CASE("{name} reads its options and rejects bad ones") {
    const auto spec = {name}::{class}::params();
    const auto opts = spec.parse(difflab::parse_yaml("{steps: 7, eta: 0.5}", "test.yaml"), difflab::parse_context());
    CHECK(opts.steps == 7);
    CHECK(opts.eta == 0.5);
    CHECK(opts.spacing == "uniform");
    CHECK_THROWS_AS(spec.parse(difflab::parse_yaml("{steps: 0}", "test.yaml"), difflab::parse_context()),
                    difflab::config_error);
}

// Refusal, announced evaluations, batch independence and deterministic() on every process
// installed with difflab; a failure prints one line per broken check.
TEST_CASE("{name} passes difflab's sampler conformance checks") {
    using difflab::testing::build;
    using difflab::testing::check_sampler_conformance;
    CHECK(check_sampler_conformance(build<{name}::{class}>("{steps: 6}"), "{name}") == "");
    CHECK(check_sampler_conformance(build<{name}::{class}>("{steps: 6, eta: 1}"), "{name}") == "");
}
)";

constexpr const char* readme_template = R"(# {name}

An out-of-tree difflab plugin with one {kind}, `{kind}/{name}`.

    cmake -S . -B build -Ddifflab_DIR=<difflab build dir, or PREFIX/lib/cmake/difflab>
    cmake --build build && ctest --test-dir build
    export DIFFLAB_PLUGIN_PATH=$PWD/build
    difflab describe {kind}/{name}

See difflab's docs/writing-a-plugin.md.
)";

constexpr const char* experiment_template = R"(# Runs the {name} task: difflab run experiment.yaml
name: {name}_demo
plugins: [{name}]
task: {type: {name}, message: hello, repeat: 2}
)";

}  // namespace

void write_plugin_scaffold(const std::string& name, const std::string& kind, const std::string& dir) {
    const bool snake_case =
        !name.empty() && name[0] >= 'a' && name[0] <= 'z' && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        });
    if (!snake_case)
        throw config_error(fmt::format("plugin name '{}' must be lowercase snake_case (a-z, 0-9, _)", name));
    std::vector<std::string> kinds(std::begin(component_kinds), std::end(component_kinds));
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
        throw config_error(fmt::format("unknown kind '{}'{}", kind, did_you_mean(kind, kinds)) +
                           "\n    kinds: " + join(kinds));
    if (fs::exists(dir) && !fs::is_empty(dir))
        throw config_error(source_mark{dir}, "directory exists and is not empty; choose another --dir");

    const bool is_task = kind == "task", is_sampler = kind == "sampler";
    // Kinds with pure virtual methods get example implementations, so the project builds.
    const char* header_extra = is_task                 ? task_header_extra
                               : kind == "process"     ? process_header_extra
                               : kind == "dataset"     ? dataset_header_extra
                               : kind == "noise"       ? noise_header_extra
                               : kind == "network"     ? network_header_extra
                               : kind == "metric"      ? metric_header_extra
                               : kind == "measurement" ? measurement_header_extra
                                                       : "";
    const std::string cls = name + "_" + kind;
    fs::create_directories(dir);
    auto write = [&](const std::string& file, const std::string& text) {
        write_file_atomically(fs::path(dir) / file, fill(text, name, kind));
    };
    write("CMakeLists.txt", cmake_template);
    write("plugin.cpp", plugin_template);
    if (is_sampler) {
        write(cls + ".h", sampler_header_template);
        write(cls + ".cpp", sampler_source_template);
        write(cls + "_test.cpp", sampler_test_template);
    } else {
        write(cls + ".h", std::string(header_template) + header_extra + header_end);
        write(cls + ".cpp", std::string(source_template) + (is_task ? task_source_extra : "") + source_end);
        write(cls + "_test.cpp", test_template);
    }
    write("README.md", readme_template);
    if (is_task) write("experiment.yaml", experiment_template);
}

}  // namespace difflab::cli
