// SPDX-License-Identifier: Apache-2.0
// A trained network in one file: writing and rebuilding.
#include <difflab/base/error.h>
#include <difflab/diffusion/network_file.h>
#include <difflab/io/safetensors.h>
#include <fmt/format.h>

namespace difflab {

namespace fs = std::filesystem;

namespace {

/// An error message on one line: context lines (the valid types, ...) joined with "; ".
std::string one_line(std::string text) {
    while (!text.empty() && text.back() == '\n') text.pop_back();
    for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at)) {
        std::size_t end = at + 1;
        while (end < text.size() && text[end] == ' ') ++end;
        text.replace(at, end - at, "; ");
    }
    return text;
}

}  // namespace

void write_network_file(const fs::path& file, const network& net, const config_node& config,
                        std::map<std::string, std::string> metadata) {
    safetensors_file out;
    for (const auto& [key, value] : net.state_dict()) out.add(to_safetensors(key, value));
    out.metadata = std::move(metadata);
    out.metadata["network"] = to_flow_yaml(config);  // parse_yaml reads it back
    write_safetensors(file, out);
}

network_file read_network_file(const fs::path& file, const registry& components, const std::string& hint) {
    const auto fail = [&](const std::string& what) {
        return error(source_mark{file.string()}, fmt::format("{}; {}", what, hint));
    };
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw fail("network file not found");
    safetensors_file content;
    try {
        content = read_safetensors(file);
    } catch (const error& e) {
        // read_safetensors says where and what is wrong ("header length ..."); add the fix.
        throw error(e.where(), fmt::format("{}; {}", e.message(), hint));
    }
    network_file out;
    out.metadata = content.metadata;
    const auto spec = out.metadata.find("network");
    if (spec == out.metadata.end())
        throw fail("no \"network\" in the safetensors metadata, so this is not a network file");
    try {
        const config_node written = parse_yaml(spec->second, file.string() + " (metadata \"network\")");
        const config_node* type = written.is_map() ? written.find("type") : nullptr;
        if (!type || !type->is_scalar()) throw fail("the metadata \"network\" is not a network configuration");
        out.config = components.at("network", type->text()).resolve(written, parse_context(&components));
        build_context builder(components, 0);
        out.net.reset(static_cast<network*>(builder.create("network", out.config).release()));
        state_dict_t weights;
        for (const safetensors_entry& entry : content.tensors) weights[entry.name] = to_tensor(entry);
        out.net->load_state_dict(weights);
    } catch (const error& e) {
        // Errors from parsing, the registry or load_state_dict are about this file's contents.
        const std::string what = e.what();
        if (what.find(hint) != std::string::npos) throw;
        throw fail(fmt::format("cannot rebuild its network ({})", one_line(what)));
    }
    out.net->eval();
    return out;
}

}  // namespace difflab
