// SPDX-License-Identifier: Apache-2.0
// safetensors reader (validating every header field against the file) and atomic writer.
#include <difflab/base/error.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/safetensors.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace difflab {

namespace fs = std::filesystem;

namespace {

using json = nlohmann::json;

// The format caps the header (100 MB) so that a corrupt length cannot exhaust memory.
constexpr std::uint64_t max_header_bytes = 100'000'000;

struct dtype_info {
    std::string_view name;
    std::size_t size;
};

constexpr std::array<dtype_info, 15> dtypes{{{"BOOL", 1},
                                             {"U8", 1},
                                             {"I8", 1},
                                             {"F8_E5M2", 1},
                                             {"F8_E4M3", 1},
                                             {"I16", 2},
                                             {"U16", 2},
                                             {"F16", 2},
                                             {"BF16", 2},
                                             {"I32", 4},
                                             {"U32", 4},
                                             {"F32", 4},
                                             {"F64", 8},
                                             {"I64", 8},
                                             {"U64", 8}}};

const dtype_info* find_dtype(std::string_view name) {
    for (const dtype_info& d : dtypes)
        if (d.name == name) return &d;
    return nullptr;
}

std::string dtype_list() {
    std::string out;
    for (const dtype_info& d : dtypes) out += (out.empty() ? "" : ", ") + std::string(d.name);
    return out;
}

// Bytes of a `shape` array of `element`-byte values; false when that overflows 64 bits.
bool byte_size(const shape_t& shape, std::size_t element, std::uint64_t& bytes) {
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) {
        bytes = 0;
        return true;
    }
    std::uint64_t n = element;
    for (const std::int64_t d : shape) {
        const auto u = static_cast<std::uint64_t>(d);
        if (u != 0 && n > std::numeric_limits<std::uint64_t>::max() / u) return false;
        n *= u;
    }
    bytes = n;
    return true;
}

std::uint64_t read_le64(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

// A header entry before its bytes are read.
struct located {
    safetensors_entry entry;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
};

struct parsed_header {
    std::vector<located> tensors;  // sorted by offset
    std::map<std::string, std::string> metadata;
};

[[noreturn]] void fail(const std::string& where, const std::string& message) {
    throw error(source_mark{where}, message);
}

void check_header_length(std::uint64_t header_length, std::uint64_t file_size, const std::string& where) {
    if (file_size < 8)
        fail(where, fmt::format("file is {} bytes, too short for the 8-byte header length; the file is "
                                "truncated or not safetensors",
                                file_size));
    if (header_length > file_size - 8)
        fail(where, fmt::format("header length {} exceeds file size {}; the file is truncated or not safetensors",
                                header_length, file_size));
    if (header_length > max_header_bytes)
        fail(where, fmt::format("header length {} exceeds the format's limit of {} bytes; the file is corrupt "
                                "or not safetensors",
                                header_length, max_header_bytes));
}

located parse_entry(const std::string& name, const json& value, const std::string& where) {
    const std::string what = fmt::format("tensor '{}'", name);
    if (!value.is_object()) fail(where, what + ": entry is not a JSON object");
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!value.contains(key)) fail(where, fmt::format("{}: missing \"{}\"", what, key));

    located out;
    out.entry.name = name;
    const json& dtype = value["dtype"];
    const dtype_info* info = dtype.is_string() ? find_dtype(dtype.get_ref<const std::string&>()) : nullptr;
    if (info == nullptr)
        fail(where, fmt::format("{}: unknown dtype {}; expected one of {}", what, dtype.dump(), dtype_list()));
    out.entry.dtype = std::string(info->name);

    const json& shape = value["shape"];
    if (!shape.is_array()) fail(where, what + ": shape is not a list of non-negative integers");
    for (const json& d : shape) {
        if (!d.is_number_unsigned() || d.get<std::uint64_t>() > std::uint64_t{1} << 62)
            fail(where, fmt::format("{}: shape {} is not a list of non-negative integers", what, shape.dump()));
        out.entry.shape.push_back(d.get<std::int64_t>());
    }

    const json& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned() || offsets[0].get<std::uint64_t>() > offsets[1].get<std::uint64_t>())
        fail(where, fmt::format("{}: data_offsets {} is not a pair [begin, end] of integers with 0 <= begin <= end",
                                what, offsets.dump()));
    out.begin = offsets[0].get<std::uint64_t>();
    out.end = offsets[1].get<std::uint64_t>();

    std::uint64_t bytes = 0;
    const bool fits = byte_size(out.entry.shape, info->size, bytes);
    if (!fits || bytes != out.end - out.begin)
        fail(where, fmt::format("{}: shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}", what,
                                shape_text(out.entry.shape), out.entry.dtype,
                                fits ? std::to_string(bytes) : std::string("more than 2^64"), out.begin, out.end,
                                out.end - out.begin));
    return out;
}

parsed_header parse_header(std::string_view text, std::uint64_t data_size, const std::string& where) {
    // Track top-level keys while parsing: JSON objects keep only the last of duplicate keys.
    std::set<std::string> keys;
    std::string duplicate;
    const json::parser_callback_t callback = [&](int depth, json::parse_event_t event, json& parsed) {
        if (depth == 1 && event == json::parse_event_t::key && duplicate.empty()) {
            const std::string& key = parsed.get_ref<const std::string&>();
            if (!keys.insert(key).second) duplicate = key;
        }
        return true;
    };
    json header;
    try {
        header = json::parse(text.begin(), text.end(), callback);
    } catch (const json::parse_error& e) {
        const std::string at = e.byte > text.size() ? std::string("it ends in the middle of a value")
                                                    : fmt::format("syntax error at byte {}", e.byte);
        fail(where, fmt::format("header is not valid JSON ({}); the file is corrupt or not safetensors", at));
    } catch (const json::exception& e) {
        // Valid syntax the parser cannot hold, such as a number beyond double's range (found by fuzzing).
        fail(where, fmt::format("header is not usable JSON ({}); the file is corrupt or not safetensors", e.what()));
    }
    if (!header.is_object()) fail(where, "header is not a JSON object; the file is corrupt or not safetensors");
    if (!duplicate.empty())
        fail(where, fmt::format("key '{}' appears twice in the header; the file is corrupt", duplicate));

    parsed_header out;
    for (const auto& [name, value] : header.items()) {
        if (name == "__metadata__") {
            if (!value.is_object()) fail(where, "\"__metadata__\" is not a JSON object of strings");
            for (const auto& [key, text_value] : value.items()) {
                if (!text_value.is_string())
                    fail(where, fmt::format("\"__metadata__\" value of '{}' is {}, not a string", key,
                                            text_value.type_name()));
                out.metadata[key] = text_value.get<std::string>();
            }
            continue;
        }
        out.tensors.push_back(parse_entry(name, value, where));
    }

    std::sort(out.tensors.begin(), out.tensors.end(), [](const located& a, const located& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    // Non-empty tensors must tile the data area exactly: no overlap, no gap, nothing past it.
    std::uint64_t covered = 0;
    const located* previous = nullptr;
    for (const located& t : out.tensors) {
        if (t.end > data_size)
            fail(where, fmt::format("tensor '{}': data_offsets [{}, {}] end past the data area of {} bytes; the "
                                    "file is truncated",
                                    t.entry.name, t.begin, t.end, data_size));
        if (t.begin == t.end) continue;
        if (t.begin < covered)
            fail(where,
                 fmt::format("tensors '{}' (data_offsets [{}, {}]) and '{}' (data_offsets [{}, {}]) "
                             "overlap; the file is corrupt",
                             previous->entry.name, previous->begin, previous->end, t.entry.name, t.begin, t.end));
        if (t.begin > covered)
            fail(where,
                 fmt::format("data area bytes [{}, {}) belong to no tensor; the file is corrupt", covered, t.begin));
        covered = t.end;
        previous = &t;
    }
    if (covered < data_size)
        fail(where,
             fmt::format("data area bytes [{}, {}) belong to no tensor; the file is corrupt", covered, data_size));
    return out;
}

// The 8-byte length and the JSON header (padded with spaces to 8 bytes) for `file`, checked.
std::string build_header(const safetensors_file& file, const std::string& where) {
    // ordered_json keeps "__metadata__" first and the tensors in data order, as PyTorch's writer.
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
    std::uint64_t offset = 0;
    std::set<std::string_view> names;
    for (const safetensors_entry& e : file.tensors) {
        const std::string what = fmt::format("tensor '{}'", e.name);
        if (e.name == "__metadata__" || !names.insert(e.name).second)
            fail(where, what + ": the name is reserved or used twice; give each tensor a unique name");
        const dtype_info* info = find_dtype(e.dtype);
        if (info == nullptr)
            fail(where, fmt::format("{}: unknown dtype \"{}\"; expected one of {}", what, e.dtype, dtype_list()));
        std::uint64_t bytes = 0;
        const bool negative = std::any_of(e.shape.begin(), e.shape.end(), [](std::int64_t d) { return d < 0; });
        if (negative || !byte_size(e.shape, info->size, bytes) || bytes != e.data.size())
            fail(where, fmt::format("{}: shape {} of {} does not match its {} bytes of data", what, shape_text(e.shape),
                                    e.dtype, e.data.size()));
        header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((text.size() >> (8 * i)) & 0xFF);
    return out + text;
}

safetensors_file finish(parsed_header&& parsed) {
    safetensors_file out;
    out.metadata = std::move(parsed.metadata);
    out.tensors.reserve(parsed.tensors.size());
    for (located& t : parsed.tensors) out.tensors.push_back(std::move(t.entry));
    return out;
}

}  // namespace

const safetensors_entry* safetensors_file::find(std::string_view name) const {
    for (const safetensors_entry& e : tensors)
        if (e.name == name) return &e;
    return nullptr;
}

void safetensors_file::add(safetensors_entry entry) {
    if (find(entry.name) != nullptr)
        throw error(source_mark{"safetensors"},
                    fmt::format("tensor '{}' added twice; give each tensor a unique name", entry.name));
    tensors.push_back(std::move(entry));
}

std::size_t safetensors_dtype_size(std::string_view dtype) {
    const dtype_info* info = find_dtype(dtype);
    if (info == nullptr)
        throw error(source_mark{"safetensors"},
                    fmt::format("unknown dtype \"{}\"; expected one of {}", dtype, dtype_list()));
    return info->size;
}

safetensors_file parse_safetensors(std::string_view bytes, const std::string& where) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::uint64_t header_length = bytes.size() >= 8 ? read_le64(p) : 0;
    check_header_length(header_length, bytes.size(), where);
    const std::uint64_t data_begin = 8 + header_length;
    parsed_header parsed = parse_header(bytes.substr(8, header_length), bytes.size() - data_begin, where);
    for (located& t : parsed.tensors) t.entry.data.assign(p + data_begin + t.begin, p + data_begin + t.end);
    return finish(std::move(parsed));
}

safetensors_file read_safetensors(const fs::path& path) {
    const std::string where = path.string();
    std::error_code code;
    const std::uint64_t file_size = fs::file_size(path, code);
    if (code) fail(where, fmt::format("cannot read file: {}; check the path", code.message()));
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(where, "cannot open file for reading; check its permissions");
    const auto read = [&](void* out, std::uint64_t offset, std::uint64_t bytes) {
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(static_cast<char*>(out), static_cast<std::streamsize>(bytes));
        if (!in)
            fail(where,
                 fmt::format("read of {} bytes at offset {} failed; the file changed or is unreadable", bytes, offset));
    };
    unsigned char length_bytes[8] = {};
    if (file_size >= 8) read(length_bytes, 0, 8);
    const std::uint64_t header_length = read_le64(length_bytes);
    check_header_length(header_length, file_size, where);
    std::string header(header_length, '\0');
    read(header.data(), 8, header_length);
    const std::uint64_t data_begin = 8 + header_length;
    parsed_header parsed = parse_header(header, file_size - data_begin, where);
    for (located& t : parsed.tensors) {
        t.entry.data.resize(t.end - t.begin);
        if (!t.entry.data.empty()) read(t.entry.data.data(), data_begin + t.begin, t.end - t.begin);
    }
    return finish(std::move(parsed));
}

std::string serialize_safetensors(const safetensors_file& file) {
    std::string out = build_header(file, "safetensors");
    for (const safetensors_entry& e : file.tensors) out.append(e.data.begin(), e.data.end());
    return out;
}

void write_safetensors(const fs::path& path, const safetensors_file& file) {
    // Stream each tensor's bytes after the header: no second in-memory copy of the weights.
    const std::string header = build_header(file, path.string());
    atomic_file_writer out(path);
    out.write(header.data(), header.size());
    for (const safetensors_entry& e : file.tensors) out.write(e.data.data(), e.data.size());
    out.commit();
}

}  // namespace difflab
