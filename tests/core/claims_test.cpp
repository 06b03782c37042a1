// SPDX-License-Identifier: Apache-2.0
// `expect:` claims: parsing, checking with numbers, mistakes.
#include <difflab/run/claims.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;

namespace {

const std::vector<std::string> labels = {"ddim_10", "ddpm_10", "ddim_50"};

std::vector<claim> parse(const std::string& yaml) {
    return parse_claims(parse_yaml(yaml, "exp.yaml"), labels);
}

std::string error_text(const std::string& yaml) {
    try {
        parse(yaml);
    } catch (const config_error& e) {
        return e.what();
    }
    return "(no error)";
}

const std::vector<std::pair<std::string, metric_values>> results = {
    {"ddim_10", {{"fid", 40.0}, {"precision", 0.6}}},
    {"ddpm_10", {{"fid", 80.0}, {"precision", 0.4}}},
    {"ddim_50", {{"fid", 37.0}, {"precision", std::nan("")}}},
};

}  // namespace

TEST_CASE("a bound on a metric applies to every variant, with the numbers of each") {
    const auto outcomes = check_claims(parse("fid: {max: 50}"), results);
    REQUIRE(outcomes.size() == 3);
    CHECK(outcomes[0].held);
    CHECK_FALSE(outcomes[1].held);
    CHECK(outcomes[1].checked.text() == "fid(ddpm_10) <= 50");
    CHECK(outcomes[1].detail == "fid(ddpm_10) = 80");
    CHECK(outcomes[2].held);
    CHECK(outcomes[1].checked.where.line == 1);
}

TEST_CASE("comparisons between variants, with a factor") {
    const auto outcomes = check_claims(parse("ddim_10: {fid: {less_than: ddpm_10}}\n"
                                             "ddim_50: {fid: {less_than: {variant: ddim_10, factor: 0.9}}}\n"
                                             "ddpm_10: {precision: {greater_than: ddim_10, min: 0.1}}\n"),
                                       results);
    REQUIRE(outcomes.size() == 4);
    CHECK(outcomes[0].held);  // 40 < 80
    CHECK(outcomes[0].detail == "fid(ddim_10) = 40, fid(ddpm_10) = 80");
    CHECK_FALSE(outcomes[1].held);  // 37 < 0.9 x 40 = 36 fails
    CHECK(outcomes[1].checked.text() == "fid(ddim_50) < 0.9 x fid(ddim_10)");
    CHECK(outcomes[1].detail == "fid(ddim_50) = 37, 0.9 x fid(ddim_10) = 36");
    CHECK_FALSE(outcomes[2].held);  // 0.4 > 0.6 fails
    CHECK(outcomes[3].held);        // 0.4 >= 0.1
}

TEST_CASE("comparisons between two metrics, within each variant or against another") {
    const std::vector<std::pair<std::string, metric_values>> ensembles = {
        {"ddim_10", {{"dice_n5", 0.8}, {"dice_n1", 0.7}}},
        {"ddpm_10", {{"dice_n5", 0.6}, {"dice_n1", 0.65}}},
        {"ddim_50", {{"dice_n1", 0.7}}},
    };
    const auto outcomes = check_claims(parse("dice_n5: {greater_than: {metric: dice_n1}}\n"
                                             "ddpm_10: {dice_n1: {less_than: {variant: ddim_10, metric: dice_n5, "
                                             "factor: 0.5}}}\n"),
                                       ensembles);
    REQUIRE(outcomes.size() == 4);
    CHECK(outcomes[0].held);  // 0.8 > 0.7 in ddim_10
    CHECK(outcomes[0].checked.text() == "dice_n5(ddim_10) > dice_n1(ddim_10)");
    CHECK(outcomes[0].detail == "dice_n5(ddim_10) = 0.8, dice_n1(ddim_10) = 0.7");
    CHECK_FALSE(outcomes[1].held);  // 0.6 > 0.65 fails in ddpm_10
    CHECK_FALSE(outcomes[2].held);  // ddim_50 has no dice_n5
    CHECK(outcomes[2].detail == "dice_n5(ddim_50) was not computed; add its metric to evaluate.metrics");
    CHECK_FALSE(outcomes[3].held);  // 0.65 < 0.5 x 0.8 = 0.4 fails
    CHECK(outcomes[3].checked.text() == "dice_n1(ddpm_10) < 0.5 x dice_n5(ddim_10)");
    CHECK(outcomes[3].detail == "dice_n1(ddpm_10) = 0.65, 0.5 x dice_n5(ddim_10) = 0.4");
}

TEST_CASE("a claim on a metric that was not computed, or is NaN, fails and says why") {
    const auto outcomes = check_claims(parse("ddim_10: {nll_bpd: {max: 4}}\nddim_50: {precision: {min: 0}}"), results);
    REQUIRE(outcomes.size() == 2);
    CHECK_FALSE(outcomes[0].held);
    CHECK(outcomes[0].detail == "nll_bpd(ddim_10) was not computed; add its metric to evaluate.metrics");
    CHECK_FALSE(outcomes[1].held);
    // A run without variants has one unlabelled result.
    const auto single = check_claims(parse_claims(parse_yaml("fid: {min: 41}", "x.yaml"), {}), {{"", {{"fid", 40.0}}}});
    REQUIRE(single.size() == 1);
    CHECK(single[0].checked.text() == "fid >= 41");
    CHECK_FALSE(single[0].held);
}

TEST_CASE("claim mistakes point into the file and say how to write them") {
    CHECK(error_text("fid: {maxx: 5}") ==
          "exp.yaml:1:7: error: unknown bound 'maxx' for fid; did you mean 'max'?\n"
          "    valid bounds: greater_than, less_than, max, min");
    CHECK(error_text("fid: {less_than: ddim_10}") ==
          "exp.yaml:1:7: error: 'less_than' compares one variant with another\n"
          "    write it under the variant: expect: {VARIANT: {fid: {less_than: OTHER}}}, or compare two metrics of "
          "each variant: fid: {less_than: {metric: OTHER_METRIC}}");
    CHECK(error_text("ddim_10: {fid: {less_than: {factor: 2}}}") ==
          "exp.yaml:1:28: error: expect.ddim_10.fid.less_than needs 'variant', 'metric' or both");
    CHECK(error_text("ddim_10: {fid: {less_than: ddim_05}}") ==
          "exp.yaml:1:28: error: 'ddim_05' is not a variant of this experiment; did you mean 'ddim_50'?\n"
          "    variants: ddim_10, ddpm_10, ddim_50");
    CHECK(error_text("fid: {max: lots}") == "exp.yaml:1:12: error: 'expect.fid.max' expects a number, got 'lots'");
    CHECK(error_text("fid: 5") ==
          "exp.yaml:1:6: error: expect 'fid' needs a map of bounds, got '5'\n"
          "    for example: fid: {max: 60}");
}
