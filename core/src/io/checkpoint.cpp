// SPDX-License-Identifier: Apache-2.0
// Checkpoint sets (weights + training state + latest) written so that a crash never mixes steps.
#include <difflab/base/distributed.h>
#include <difflab/base/error.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/checkpoint.h>
#include <difflab/io/safetensors.h>
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

namespace difflab {

namespace fs = std::filesystem;

namespace {

const std::string ema_prefix = "ema/";
const std::string optimizer_prefix = "optimizer/";
const std::string state_prefix = "state.";
const std::string crc_key = "data_crc32";

std::string step_name(std::uint64_t step) {
    return fmt::format("step_{}", step);
}
fs::path weights_path(const fs::path& dir, std::uint64_t step) {
    return dir / (step_name(step) + ".safetensors");
}
fs::path state_path(const fs::path& dir, std::uint64_t step) {
    return dir / (step_name(step) + ".state.safetensors");
}

// Distinguishes two saves of the same step (a resumed run saving step n again), so that a
// crash between the two renames cannot pass off new weights with old state.
std::string new_save_id() {
    std::random_device device;
    const auto now = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    return fmt::format("{:016x}{:08x}", now, device());
}

// The step of "step_<n>.safetensors" (weights file), if `name` is one.
std::optional<std::uint64_t> step_of_weights(const std::string& name) {
    const std::string head = "step_", tail = ".safetensors";
    if (name.size() <= head.size() + tail.size() || name.compare(0, head.size(), head) != 0 ||
        name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
        return std::nullopt;
    const std::string digits = name.substr(head.size(), name.size() - head.size() - tail.size());
    if (digits.empty() || digits.size() > 19 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::stoull(digits);
}

void add_all(safetensors_file& file, const state_dict_t& tensors, const std::string& prefix) {
    for (const auto& [name, value] : tensors) file.add(to_safetensors(prefix + name, value));
}

void write_text(const fs::path& path, const std::string& text) {
    atomic_file_writer out(path);
    out.write(text.data(), text.size());
    out.commit();
}

std::string metadata_of(const safetensors_file& file, const std::string& key, const fs::path& path) {
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end())
        throw error(source_mark{path.string()}, fmt::format("metadata has no \"{}\"; the file is not a difflab "
                                                            "checkpoint",
                                                            key));
    return it->second;
}

/// The CRC-32 of every tensor's bytes, in name order, as 8 hex digits: what a checkpoint file
/// stores of its data so that a byte changed on disk is found (a header change fails to parse;
/// a data change would otherwise load as other weights).
std::string data_crc32(const safetensors_file& file) {
    std::vector<const safetensors_entry*> entries;
    for (const safetensors_entry& e : file.tensors) entries.push_back(&e);
    std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
    uLong crc = crc32_z(0L, Z_NULL, 0);
    for (const safetensors_entry* e : entries) crc = crc32_z(crc, e->data.data(), e->data.size());
    return fmt::format("{:08x}", static_cast<std::uint32_t>(crc));
}

/// Throws when `file` carries a data_crc32 its tensors do not match (files saved before the
/// checksum existed carry none and are not checked).
void check_data(const safetensors_file& file, const fs::path& path) {
    const auto stored = file.metadata.find(crc_key);
    if (stored == file.metadata.end()) return;
    const std::string actual = data_crc32(file);
    if (stored->second != actual)
        throw error(source_mark{path.string()},
                    fmt::format("the tensor data do not match the CRC-32 saved with them ({} stored, {} read): the "
                                "file is damaged; resume from an earlier checkpoint",
                                stored->second, actual));
}

}  // namespace

std::vector<std::uint64_t> checkpoint_steps(const fs::path& directory) {
    std::vector<std::uint64_t> steps;
    std::error_code code;
    for (const fs::directory_entry& entry : fs::directory_iterator(directory, code))
        if (const auto step = step_of_weights(entry.path().filename().string())) steps.push_back(*step);
    std::sort(steps.rbegin(), steps.rend());
    return steps;
}

void save_checkpoint(const fs::path& directory, const checkpoint& value, int keep_last) {
    // Rank 0 alone saves (and prunes) in a job of several MPI ranks; every rank holds the same state.
    if (!distributed::is_root()) return;
    std::error_code code;
    fs::create_directories(directory, code);
    if (code)
        throw error(source_mark{directory.string()},
                    fmt::format("cannot create the checkpoint directory: {}", code.message()));
    for (const fs::directory_entry& entry : fs::directory_iterator(directory, code))
        if (entry.path().extension() == ".tmp") fs::remove(entry.path(), code);

    const std::string id = new_save_id();
    const std::map<std::string, std::string> common{
        {"format", "pt"}, {"step", std::to_string(value.step)}, {"save_id", id}};

    safetensors_file weights;
    weights.metadata = common;
    add_all(weights, value.model, "");

    safetensors_file state;
    state.metadata = common;
    for (const auto& [key, text] : value.state) state.metadata[state_prefix + key] = text;
    add_all(state, value.ema, ema_prefix);
    add_all(state, value.optimizer, optimizer_prefix);

    weights.metadata[crc_key] = data_crc32(weights);
    state.metadata[crc_key] = data_crc32(state);
    write_safetensors(weights_path(directory, value.step), weights);
    write_safetensors(state_path(directory, value.step), state);
    write_text(directory / "latest", step_name(value.step) + "\n");

    if (keep_last > 0) {
        std::vector<std::uint64_t> steps;
        for (const fs::directory_entry& entry : fs::directory_iterator(directory, code))
            if (const auto step = step_of_weights(entry.path().filename().string())) steps.push_back(*step);
        std::sort(steps.rbegin(), steps.rend());
        for (std::size_t i = static_cast<std::size_t>(keep_last); i < steps.size(); ++i) {
            if (steps[i] == value.step) continue;
            fs::remove(state_path(directory, steps[i]), code);
            fs::remove(weights_path(directory, steps[i]), code);
        }
    }
}

std::optional<std::uint64_t> latest_checkpoint_step(const fs::path& directory) {
    const fs::path path = directory / "latest";
    if (!fs::exists(path)) return std::nullopt;
    std::ifstream in(path);
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    const std::optional<std::uint64_t> step = step_of_weights(text + ".safetensors");
    if (!step)
        throw error(source_mark{path.string()}, fmt::format("holds '{}', not step_<n>; write the step to resume "
                                                            "from (e.g. step_1000) or delete the file",
                                                            text));
    return step;
}

checkpoint load_checkpoint(const fs::path& directory, std::uint64_t step) {
    const fs::path wpath = weights_path(directory, step), spath = state_path(directory, step);
    const safetensors_file weights = read_safetensors(wpath);
    const safetensors_file state = read_safetensors(spath);
    check_data(weights, wpath);
    check_data(state, spath);
    using named_file = std::pair<const safetensors_file*, const fs::path*>;
    for (const auto& [file, path] : {named_file{&weights, &wpath}, named_file{&state, &spath}}) {
        const std::string stored = metadata_of(*file, "step", *path);
        if (stored != std::to_string(step))
            throw error(source_mark{path->string()}, fmt::format("holds step {} but its name says step {}; "
                                                                 "the file was renamed or corrupted",
                                                                 stored, step));
    }
    const std::string weights_id = metadata_of(weights, "save_id", wpath);
    const std::string state_id = metadata_of(state, "save_id", spath);
    if (weights_id != state_id)
        throw error(source_mark{spath.string()}, fmt::format("save id {} differs from {} in {}: the two files "
                                                             "come from different saves (an interrupted save); "
                                                             "resume from an earlier step",
                                                             state_id, weights_id, wpath.filename().string()));

    checkpoint out;
    out.step = step;
    for (const safetensors_entry& entry : weights.tensors) out.model.emplace(entry.name, to_tensor(entry));
    for (const safetensors_entry& entry : state.tensors) {
        if (entry.name.compare(0, ema_prefix.size(), ema_prefix) == 0) {
            out.ema.emplace(entry.name.substr(ema_prefix.size()), to_tensor(entry));
        } else if (entry.name.compare(0, optimizer_prefix.size(), optimizer_prefix) == 0) {
            out.optimizer.emplace(entry.name.substr(optimizer_prefix.size()), to_tensor(entry));
        } else {
            throw error(source_mark{spath.string()}, fmt::format("tensor '{}' is neither ema/ nor optimizer/ "
                                                                 "state; the file is not a difflab checkpoint",
                                                                 entry.name));
        }
    }
    for (const auto& [key, text] : state.metadata)
        if (key.compare(0, state_prefix.size(), state_prefix) == 0) out.state[key.substr(state_prefix.size())] = text;
    return out;
}

namespace {
const std::string step_count_key = "optimizer.step_count";
const std::string learning_rate_key = "optimizer.learning_rate";
}  // namespace

void save_checkpoint(const fs::path& directory, std::uint64_t step, const module& model,
                     const optim::optimizer& optimizer, const optim::ema* ema,
                     const std::map<std::string, std::string>& extra, int keep_last) {
    checkpoint value;
    value.step = step;
    value.model = model.state_dict();
    value.optimizer = optimizer.state_dict();
    if (ema != nullptr) value.ema = ema->state_dict();
    value.state = extra;
    value.state[step_count_key] = std::to_string(optimizer.step_count());
    value.state[learning_rate_key] = fmt::format("{:.9g}", optimizer.learning_rate());
    save_checkpoint(directory, value, keep_last);
}

checkpoint restore_checkpoint(const fs::path& directory, std::uint64_t step, module& model, optim::optimizer& optimizer,
                              optim::ema* ema) {
    checkpoint value = load_checkpoint(directory, step);
    const fs::path spath = state_path(directory, step);
    std::int64_t step_count = 0;
    float learning_rate = 0;
    try {
        step_count = std::stoll(value.state.at(step_count_key));
        learning_rate = std::stof(value.state.at(learning_rate_key));
    } catch (const std::exception&) {
        throw error(source_mark{spath.string()},
                    fmt::format("metadata lacks a valid \"{}{}\" and \"{}{}\"; the "
                                "checkpoint was not saved with an optimizer",
                                state_prefix, step_count_key, state_prefix, learning_rate_key));
    }
    if (ema != nullptr && value.ema.empty())
        throw error(source_mark{spath.string()},
                    "holds no EMA weights; the run that saved it kept no EMA, so "
                    "resume without one or start the EMA afresh");
    model.load_state_dict(value.model);
    optimizer.load_state_dict(value.optimizer);
    optimizer.set_step_count(step_count);
    optimizer.set_learning_rate(learning_rate);
    if (ema != nullptr) ema->load_state_dict(value.ema);
    value.state.erase(step_count_key);
    value.state.erase(learning_rate_key);
    return value;
}

checkpoint load_latest_checkpoint(const fs::path& directory) {
    const std::optional<std::uint64_t> step = latest_checkpoint_step(directory);
    if (!step)
        throw error(source_mark{(directory / "latest").string()},
                    "no checkpoint to resume from; the run has not "
                    "saved one yet");
    return load_checkpoint(directory, *step);
}

}  // namespace difflab
