// SPDX-License-Identifier: Apache-2.0
// Conformance checks every sampler must pass, in one call for in-tree and out-of-tree samplers.
#pragma once

#include <difflab/diffusion/process.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/registry.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace difflab::testing {

/// The failures of sampler `name` on process `process_name`, one line each, empty when it
/// conforms. Data are N(0, 0.25 I), denoised exactly by gaussian_denoiser, so no network is
/// needed. When `refused` is true the sampler must refuse p: check() throws a config_error of
/// one line naming the sampler, and so does sample(), before any evaluation. Otherwise
/// check() accepts p and, on a batch of 64 from the prior,
///   - the samples are finite,
///   - the evaluations spent equal evaluations(p) (when it announces a number, not 0),
///   - sample 37 drawn alone (first_index 37) equals row 37 of the batch bit for bit,
///   - another seed changes the samples exactly when deterministic() is false.
/// A sampler that inverts observations (sampler::inverts_observation, DDRM) gets one, y = the
/// first coordinate of a fixed draw, for these checks, and must refuse with a config_error
/// before any evaluation when it has none.
std::vector<std::string> sampler_conformance_failures(const sampler& s, const std::string& name, const process& p,
                                                      const std::string& process_name, bool refused = false);

/// A process registered by one of the core's own plugins, built with its defaults.
struct named_process {
    std::string name;
    std::unique_ptr<process> p;
};

/// The components of the plugins installed beside the core (<libdir>/difflab: ddpm, ncsn,
/// score_sde, edm, ...), loaded once; DIFFLAB_PLUGIN_PATH is not searched.
const registry& installed_components();

/// Every process of installed_components(), with default options, in registry order.
const std::vector<named_process>& installed_processes();

/// One call for any sampler, in-tree or not: sampler_conformance_failures on every installed
/// process, the failures joined by newlines, "" when all pass. `refused` names the processes
/// the sampler must refuse (say so in its check(), with what to use instead). From doctest:
///     CHECK(difflab::testing::check_sampler_conformance(my_sampler, "my_sampler") == "");
/// prints every failure when the check fails.
std::string check_sampler_conformance(const sampler& s, const std::string& name,
                                      const std::set<std::string>& refused = {});

}  // namespace difflab::testing
