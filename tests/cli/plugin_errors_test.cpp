// SPDX-License-Identifier: Apache-2.0
// The loader's refusals, as `difflab plugins` prints them: one line each, exit code 2.
#include <difflab/base/version.h>
#include <difflab/plugin/plugin_loader.h>
#include <difflab/plugin/registry.h>
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "cli_runner.h"

using namespace cli_test;

TEST_CASE("a plugin built against another API version is refused with both numbers") {
    const result r = run("plugins", fixture("wrong_api"));
    CHECK(r.exit_code == 2);
    CHECK(r.err == fixture("wrong_api") + "/difflab_wrong_api.so: error: incompatible plugin API (plugin: " +
                       std::to_string(DIFFLAB_PLUGIN_API_VERSION + 1) + ", core: " +
                       std::to_string(DIFFLAB_PLUGIN_API_VERSION) + "); rebuild the plugin against this difflab\n");
}

TEST_CASE("a plugin built differently is refused, showing both fingerprints") {
    const result r = run("plugins", fixture("wrong_fingerprint"));
    CHECK(r.exit_code == 2);
    CHECK(r.err == fixture("wrong_fingerprint") +
                       "/difflab_wrong_fingerprint.so: error: plugin built differently from the core; rebuild it "
                       "with the same compiler, flags and libraries\n"
                       "    plugin: gcc-99 c++201703L debug\n"
                       "    core:   " +
                       std::string(difflab::core_build_fingerprint()) + "\n");
}

TEST_CASE("two plugins registering one component name are both named") {
    const std::string dir = fixture("duplicate_components");
    const result r = run("plugins", dir);
    CHECK(r.exit_code == 2);
    CHECK(r.err == dir + "/difflab_dup_b.so: error: duplicate task 'same': registered by plugin 'dup_a' (" + dir +
                       "/difflab_dup_a.so) and plugin 'dup_b' (" + dir +
                       "/difflab_dup_b.so)\n"
                       "    rename the component in one of the plugins, or remove one plugin from the plugin path\n");
}

TEST_CASE("the same plugin name twice on the path names both files") {
    const result r = run("plugins", fixture("twin_first") + ":" + fixture("twin_second"));
    CHECK(r.exit_code == 2);
    CHECK(r.err == fixture("twin_second") + "/difflab_twin.so: error: duplicate plugin 'twin': already loaded from " +
                       fixture("twin_first") + "/difflab_twin.so\n    remove one of the two from the plugin path\n");
}

TEST_CASE("a library without the descriptor is not a difflab plugin") {
    const result r = run("plugins", fixture("not_a_plugin"));
    CHECK(r.exit_code == 2);
    CHECK(r.err == fixture("not_a_plugin") +
                       "/difflab_not_a_plugin.so: error: not a difflab plugin: it exports no "
                       "'difflab_plugin_descriptor'\n"
                       "    define the plugin with DIFFLAB_PLUGIN(name, version, reg) { ... }, or remove the file "
                       "from the plugin path\n");
}

TEST_CASE("a file that is no shared library at all is refused, not loaded") {
    scratch s("garbage");
    s.write("difflab_garbage.so", "this is not an ELF file\n");
    const result r = run("plugins", s.root.string());
    CHECK(r.exit_code == 2);
    CHECK(r.err == (s.root / "difflab_garbage.so").string() +
                       ": error: not a loadable plugin library: it is no ELF file\n"
                       "    remove it from the plugin path, or rebuild it with difflab_add_plugin()\n");
}

TEST_CASE("a library the dynamic loader refuses is reported with the loader's reason") {
    const result r = run("plugins", fixture("undefined_symbol"));
    CHECK(r.exit_code == 2);
    const std::string file = fixture("undefined_symbol") + "/difflab_undefined_symbol.so";
    CHECK(r.err == file + ": error: not a loadable plugin library: " + file +
                       ": undefined symbol: difflab_fixture_symbol_nobody_defines\n"
                       "    remove it from the plugin path, or rebuild it with difflab_add_plugin()\n");
}

TEST_CASE("a truncated plugin library is refused before the dynamic loader reads it") {
    scratch s("truncated");
    std::ifstream in(fixture("not_a_plugin") + "/difflab_not_a_plugin.so", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > 4096);
    s.write("difflab_truncated.so", bytes.substr(0, bytes.size() / 2));
    const result r = run("plugins", s.root.string());
    CHECK(r.exit_code == 2);
    CHECK(r.err == (s.root / "difflab_truncated.so").string() +
                       ": error: not a loadable plugin library: its section header table reaches past the end of the "
                       "file, " +
                       std::to_string(bytes.size() / 2) +
                       " bytes (truncated?)\n"
                       "    remove it from the plugin path, or rebuild it with difflab_add_plugin()\n");
}

TEST_CASE("a plugin whose name differs from its file name is refused") {
    const result r = run("plugins", fixture("misnamed"));
    CHECK(r.exit_code == 2);
    CHECK(r.err == fixture("misnamed") +
                       "/difflab_misnamed.so: error: plugin names itself 'other' but its file is "
                       "difflab_misnamed.so; a plugin named N must be built as difflab_N.so\n");
}

TEST_CASE("files not named difflab_*.so are ignored on the plugin path") {
    scratch s("ignored");
    s.write("libsomething.so", "not a plugin, and not looked at\n");
    s.write("difflab_notes.txt", "neither\n");
    const result r = run("plugins", s.root.string());
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
}

TEST_CASE("plugins --verbose lists each plugin, its components and their parameter tables") {
    const result r = run("plugins --verbose", fixture("testkit"));
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("testkit 1.2.3  " + fixture("testkit") + "/difflab_testkit.so\n") != std::string::npos);
    CHECK(r.out.find("  sampler/fixed — Test sampler with scalar options.\n") != std::string::npos);
    CHECK(r.out.find("      key      type    default  constraint                description\n") != std::string::npos);
    CHECK(r.out.find("      steps    int     50       >= 1                      Number of steps.\n") !=
          std::string::npos);
    CHECK(r.out.find("schedule.lr") != std::string::npos);  // sections are flattened
    const result plain = run("plugins", fixture("testkit"));
    CHECK(plain.out.find("Number of steps.") == std::string::npos);
}

TEST_CASE("a plugin that throws while registering is named, the run refused") {
    const result r = run("plugins", fixture("throws_registering"));
    CHECK(r.exit_code == 1);
    CHECK(r.err == fixture("throws_registering") +
                       "/difflab_throws_registering.so: error: plugin 'throws_registering' failed while registering "
                       "its components: its registration failed on purpose\n");
}

TEST_CASE("a plugin that fails to register leaves nothing in the registry, and the other plugins whole") {
    difflab::registry components;
    difflab::plugin_loader loader(components);
    loader.load_file(fixture("testkit") + "/difflab_testkit.so");
    const std::size_t before = components.all().size();
    REQUIRE(before > 0);
    CHECK_THROWS_WITH_AS(loader.load_file(fixture("throws_registering") + "/difflab_throws_registering.so"),
                         doctest::Contains("plugin 'throws_registering' failed while registering"), difflab::error);
    CHECK(components.find("task", "half_registered") == nullptr);
    CHECK(components.all().size() == before);
    CHECK(loader.find("throws_registering") == nullptr);
    loader.load_file(fixture("test_noise") + "/difflab_test_noise.so");
    CHECK(loader.find("test_noise") != nullptr);
}

TEST_CASE("a component whose constructor throws is named with its plugin, the run refused") {
    scratch s("exploding");
    s.write("exploding.yaml", R"(name: exploding
plugins: [throws_constructing]
data: {type: exploding}
process: {type: ddpm, schedule: linear, steps: 100}
network: {type: mlp, hidden: 32, layers: 2}
task: {type: generation}
train: {steps: 2, batch_size: 4}
sample: {sampler: {type: ddim, steps: 2}, count: 2}
)");
    const result r = run("run exploding.yaml", fixture("throws_constructing"), s.root);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("exploding.yaml:3:7: error: dataset/exploding failed to build (plugin 'throws_constructing'): "
                     "the constructor failed on purpose\n") != std::string::npos);
    CHECK(!fs::exists(s.root / "runs/exploding/checkpoints"));
}
