// SPDX-License-Identifier: Apache-2.0
// check, run, describe and the exit codes, with the testkit fixture plugin.
#include <difflab/plugin/config_node.h>
#include <doctest/doctest.h>

#include "cli_runner.h"

using namespace cli_test;

namespace {

const std::string experiment =
    "name: recorded\n"
    "seed: 3\n"
    "task:\n"
    "  type: record\n"
    "  path: /data\n"
    "  sampler: {type: fixed, steps: 20}\n";

}  // namespace

TEST_CASE("check prints the resolved experiment with defaults and provenance") {
    scratch s("check");
    const auto file = s.write("exp.yaml", experiment);
    const result r = run("check " + file.string() + " task.count=5", fixture("testkit"));
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    const difflab::config_node resolved = difflab::parse_yaml(r.out, "stdout");
    CHECK(resolved.find("task")->find("count")->text() == "5");
    CHECK(resolved.find("task")->find("mode")->text() == "fast");
    CHECK(resolved.find("task")->find("sampler")->find("steps")->text() == "20");
    CHECK(resolved.find("task")->find("sampler")->find("spacing")->text() == "uniform");
    CHECK(resolved.find("task")->find("schedule")->find("lr")->text() == "0.001");
    CHECK(resolved.find("provenance")->find("plugins")->find("testkit")->text() == "1.2.3");
    CHECK(resolved.find("provenance")->find("fingerprint"));
}

TEST_CASE("a misspelled key is one located line with a suggestion, exit code 2") {
    scratch s("typo");
    const auto file =
        s.write("exp.yaml", "name: t\ntask:\n  type: record\n  path: x\n  sampler: {type: fixed, stpes: 20}\n");
    const result r = run("check " + file.string(), fixture("testkit"));
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == file.string() +
                       ":5:26: error: unknown key 'stpes' for sampler 'fixed'; did you mean 'steps'?\n"
                       "    valid keys: eta, spacing, steps\n");
}

TEST_CASE("a misspelled override points at its column on the command line") {
    scratch s("override");
    const auto file = s.write("exp.yaml", experiment);
    const result r = run("check " + file.string() + " task.sampler.stpes=20", fixture("testkit"));
    CHECK(r.exit_code == 2);
    CHECK(r.err ==
          "command line:1:14: error: unknown key 'stpes' for sampler 'fixed'; did you mean 'steps'?\n"
          "    valid keys: eta, spacing, steps\n");
}

TEST_CASE("a wrong type names the key path, line and column") {
    scratch s("type");
    const auto file = s.write("exp.yaml", "name: t\ntask:\n  type: record\n  path: x\n  count: many\n");
    const result r = run("check " + file.string(), fixture("testkit"));
    CHECK(r.exit_code == 2);
    CHECK(r.err == file.string() + ":5:10: error: 'task.count' expects an integer, got 'many'\n");
}

TEST_CASE("an unknown component type lists the valid ones") {
    scratch s("unknown_type");
    const auto file = s.write("exp.yaml", "name: t\ntask: {type: recrod, path: x}\n");
    const result r = run("check " + file.string(), fixture("testkit"));
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind(file.string() + ":2:14: error: unknown task type 'recrod'; did you mean 'record'?\n"
                                      "    known task types: ",
                      0) == 0);
    // Sorted, with their plugins.
    CHECK(r.err.find("fail (plugin testkit), generation (plugin generation), inpainting (plugin editing), "
                     "ood_detection (plugin anomaly), oracle_conditioning (plugin oracles), "
                     "oracle_sampling (plugin oracles), record (plugin testkit), "
                     "restoration (plugin restoration), "
                     "sdedit (plugin editing)") != std::string::npos);
}

TEST_CASE("a plugin the experiment names must be on the plugin path") {
    scratch s("missing_plugin");
    const auto file = s.write("exp.yaml", "name: t\nplugins: [testkti]\ntask: {type: record, path: x}\n");
    const result r = run("check " + file.string(), fixture("testkit"));
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind(file.string() +
                          ":2:11: error: plugin 'testkti' not found on the plugin path; did you mean "
                          "'testkit'?\n    searched: " +
                          fixture("testkit") + ", ",
                      0) == 0);
}

TEST_CASE("check refuses a task without a section it needs, at the task's type") {
    scratch s("required_section");
    const auto file = s.write("exp.yaml",
                              "name: t\ndata: {type: toy2d, kind: moons, size: 64}\nprocess: {type: ddpm, steps: 10}\n"
                              "task:\n  type: generation\nsample: {sampler: {type: ddim, steps: 5}}\n");
    const result r = run("check " + file.string());
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == file.string() +
                       ":5:9: error: task 'generation' needs `network:`\n"
                       "    add `network:` to the experiment (`difflab plugins` lists the types)\n");
    // With the section the same experiment checks.
    const result fixed = run("check " + file.string() + " '+network={type: mlp, hidden: 8, layers: 1}'");
    CHECK_MESSAGE(fixed.exit_code == 0, fixed.err);
}

TEST_CASE("plugins: may name a directory relative to the experiment file") {
    scratch s("plugin_dir");
    const auto file =
        s.write("exp.yaml", "name: t\nplugins: [" + fixture("testkit") + "]\ntask: {type: record, path: x}\n");
    const result r = run("check " + file.string());
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
}

TEST_CASE("run writes config.yaml and the task's output, a second run needs --overwrite") {
    scratch s("run");
    const auto file = s.write("exp.yaml", experiment);
    const result r =
        run("run " + file.string() + " --output " + (s.root / "runs").string(), fixture("testkit"), s.root);
    CHECK(r.exit_code == 0);
    const auto run_dir = s.root / "runs" / "recorded";
    const difflab::config_node config = difflab::load_yaml_file((run_dir / "config.yaml").string());
    CHECK(config.find("seed")->text() == "3");
    CHECK(config.find("provenance")->find("difflab"));
    const difflab::config_node record = difflab::load_yaml_file((run_dir / "record.yaml").string());
    CHECK(record.find("path")->text() == "/data");
    CHECK(record.find("sampler_steps_seen")->text() == "20");

    const result again = run("run " + file.string() + " --output " + (s.root / "runs").string(), fixture("testkit"));
    CHECK(again.exit_code == 2);
    CHECK(again.err == run_dir.string() +
                           ": error: a run of this name already exists\n"
                           "    pass --overwrite to replace it, or name=NEW to start another\n");
    const result renamed =
        run("run " + file.string() + " name=other --output " + (s.root / "runs").string(), fixture("testkit"));
    CHECK(renamed.exit_code == 0);
    CHECK(fs::exists(s.root / "runs" / "other" / "record.yaml"));
    const result replaced =
        run("run " + file.string() + " --overwrite --output " + (s.root / "runs").string(), fixture("testkit"));
    CHECK(replaced.exit_code == 0);
}

TEST_CASE("a task that throws fails the run with exit code 1, naming component and plugin") {
    scratch s("fail");
    const auto file = s.write("exp.yaml", "name: broken\ntask: fail\n");
    const result r = run("run " + file.string() + " --output " + (s.root / "runs").string(), fixture("testkit"));
    CHECK(r.exit_code == 1);
    CHECK(r.err.find((s.root / "runs" / "broken").string() +
                     ": error: task/fail (plugin 'testkit') failed: disk on fire\n") != std::string::npos);
}

TEST_CASE("describe prints the parameter table, or a markdown page") {
    const result r = run("describe sampler/fixed", fixture("testkit"));
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("sampler/fixed (plugin testkit 1.2.3) — Test sampler with scalar options.\n", 0) == 0);
    CHECK(r.out.find("  eta      float   0.0      [0.0, 1.0]                Stochasticity.\n") != std::string::npos);
    const result md = run("describe sampler/fixed --markdown", fixture("testkit"));
    CHECK(md.out.rfind("# sampler/fixed\n", 0) == 0);
    CHECK(md.out.find("| `spacing` | string | `uniform` | uniform\\|quadratic\\|karras | Time grid. |\n") !=
          std::string::npos);
    const result schema = run("describe experiment");
    CHECK(schema.out.find("| `task` | task |") != std::string::npos);
}

TEST_CASE("describe refuses unknown kinds and names with the choices") {
    const result kind = run("describe samplr/fixed", fixture("testkit"));
    CHECK(kind.exit_code == 2);
    CHECK(kind.err ==
          "error: unknown kind 'samplr'; did you mean 'sampler'?\n"
          "    kinds: process, noise, network, sampler, task, dataset, metric, measurement\n");
    const result name = run("describe sampler/fixd", fixture("testkit"));
    CHECK(name.exit_code == 2);
    // The list holds the in-tree samplers too; each entry names its plugin.
    CHECK(name.err.rfind("error: unknown sampler type 'fixd'; did you mean 'fixed'?\n    known sampler types: ", 0) ==
          0);
    CHECK(name.err.find("fixed (plugin testkit)") != std::string::npos);
}

TEST_CASE("every subcommand has --help, usage errors exit with 2") {
    for (const char* command : {"run", "sample", "evaluate", "check", "plugins", "describe", "new-plugin"}) {
        const result r = run(std::string(command) + " --help");
        CHECK_MESSAGE(r.exit_code == 0, command);
        CHECK_MESSAGE(r.out.find("usage: difflab " + std::string(command)) != std::string::npos, command);
    }
    CHECK(run("--help").exit_code == 0);
    const result unknown = run("frobnicate");
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err ==
          "error: unknown command 'frobnicate'; valid commands: run, sample, evaluate, check, plugins, describe, "
          "new-plugin (see difflab --help)\n");
    const result option = run("check --no-such-option x.yaml");
    CHECK(option.exit_code == 2);
    CHECK(option.err == "error: unrecognised option '--no-such-option'; see --help\n");
    CHECK(run("check").exit_code == 2);
    const result threads = run("plugins --threads -2");
    CHECK(threads.exit_code == 2);
}
