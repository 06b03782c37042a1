// SPDX-License-Identifier: Apache-2.0
// safetensors: round trips, PyTorch's byte layout, and one exact error per kind of corruption.
#include <difflab/base/error.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/safetensors.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

const fs::path fixture = fs::path(DIFFLAB_SOURCE_DIR) / "tests/fixtures/safetensors/pytorch_layout.safetensors";

// A fresh directory under the build tree for one test case.
fs::path scratch(const std::string& name) {
    const fs::path dir = fs::path(DIFFLAB_BINARY_DIR) / "tests/random_io_scratch" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le64(std::uint64_t v) {
    std::string out(8, '\0');
    for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    return out;
}

// A file of `header` JSON followed by `data_bytes` zero bytes.
std::string file_of(const std::string& header, std::size_t data_bytes) {
    return le64(header.size()) + header + std::string(data_bytes, '\0');
}

template <class T>
std::vector<std::uint8_t> bytes_of(const std::vector<T>& values) {
    std::vector<std::uint8_t> out(values.size() * sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
    return out;
}

template <class T>
std::vector<T> values_of(const safetensors_entry& entry) {
    std::vector<T> out(entry.data.size() / sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), entry.data.data(), entry.data.size());
    return out;
}

float bf16_to_float(std::uint16_t bits) {
    const std::uint32_t wide = std::uint32_t{bits} << 16;
    float out;
    std::memcpy(&out, &wide, 4);
    return out;
}

std::string error_of(const std::string& bytes) {
    try {
        parse_safetensors(bytes, "bad.safetensors");
    } catch (const difflab::error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("safetensors round trip keeps names, dtypes, shapes, bytes and metadata") {
    safetensors_file file;
    file.metadata = {{"format", "pt"}, {"step", "1200"}, {"unicode", "\xc3\xa9t\xc3\xa9"}};
    file.add({"model.conv.weight", "F32", {2, 1, 3}, bytes_of(std::vector<float>{1, -2, 3.5f, 0, 1e-30f, -7})});
    file.add({"model.half", "BF16", {3}, bytes_of(std::vector<std::uint16_t>{0x3f80, 0xc000, 0x7f80})});
    file.add({"scalar", "F32", {}, bytes_of(std::vector<float>{42.0f})});
    file.add({"empty", "F32", {0, 5}, {}});
    file.add({"counter", "I64", {2}, bytes_of(std::vector<std::int64_t>{-1, std::int64_t{1} << 40})});
    file.add({"flags", "U8", {3}, {1, 0, 255}});

    const fs::path dir = scratch("round_trip");
    const fs::path path = dir / "weights.safetensors";
    write_safetensors(path, file);
    CHECK_FALSE(fs::exists(dir / "weights.safetensors.tmp"));
    const std::string bytes = read_bytes(path);
    std::uint64_t header_length = 0;
    for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<unsigned char>(bytes[i]);
    CHECK(header_length % 8 == 0);  // the data area starts 8-byte aligned
    CHECK(bytes.size() == 8 + header_length + 24 + 6 + 4 + 0 + 16 + 3);

    const safetensors_file back = read_safetensors(path);
    CHECK(back.metadata == file.metadata);
    REQUIRE(back.tensors.size() == file.tensors.size());
    for (std::size_t i = 0; i < file.tensors.size(); ++i) {
        CAPTURE(file.tensors[i].name);
        CHECK(back.tensors[i].name == file.tensors[i].name);
        CHECK(back.tensors[i].dtype == file.tensors[i].dtype);
        CHECK(back.tensors[i].shape == file.tensors[i].shape);
        CHECK(back.tensors[i].data == file.tensors[i].data);
    }
    CHECK(back.find("scalar")->shape.empty());
    CHECK(back.find("missing") == nullptr);
    CHECK(serialize_safetensors(back) == bytes);
}

TEST_CASE("a file in PyTorch's safetensors layout is read correctly and rewritten byte for byte") {
    // Written by tests/fixtures/safetensors/make_fixture.py (torch tensors, the crate's layout).
    const safetensors_file file = read_safetensors(fixture);
    CHECK(file.metadata == std::map<std::string, std::string>{{"format", "pt"}, {"note", "difflab fixture"}});
    REQUIRE(file.tensors.size() == 6);

    const safetensors_entry* weight = file.find("net.weight");
    REQUIRE(weight != nullptr);
    CHECK(weight->dtype == "F32");
    CHECK(weight->shape == shape_t{2, 3});
    CHECK(values_of<float>(*weight) == std::vector<float>{0.5f, -1.25f, 3.0f, 1e-3f, -0.0f, 65504.0f});
    CHECK(values_of<float>(*file.find("net.bias")) == std::vector<float>{0.1f, 0.2f, 0.3f});

    const safetensors_entry* half = file.find("ema.half");
    REQUIRE(half != nullptr);
    CHECK(half->dtype == "BF16");
    const std::vector<std::uint16_t> bits = values_of<std::uint16_t>(*half);
    CHECK(bits == std::vector<std::uint16_t>{0x4049, 0xc000, 0x3c00, 0x60ad});
    CHECK(bf16_to_float(bits[0]) == 3.140625f);
    CHECK(bf16_to_float(bits[2]) == 0.0078125f);

    const safetensors_entry* step = file.find("step");
    CHECK(step->dtype == "I64");
    CHECK(step->shape.empty());
    CHECK(values_of<std::int64_t>(*step) == std::vector<std::int64_t>{1234567890123});
    CHECK(file.find("mask")->data == std::vector<std::uint8_t>{1, 0, 255, 7});
    CHECK(file.find("empty")->shape == shape_t{0, 4});
    CHECK(file.find("empty")->data.empty());

    // Same JSON spelling, order, padding and data as PyTorch's writer.
    CHECK(serialize_safetensors(file) == read_bytes(fixture));
}

TEST_CASE("truncated files and impossible header lengths are one-line errors") {
    const std::string good = read_bytes(fixture);
    CHECK(error_of(good.substr(0, 5)) ==
          "bad.safetensors: error: file is 5 bytes, too short for the 8-byte header length; the file is "
          "truncated or not safetensors");
    CHECK(error_of(good.substr(0, 100)) ==
          "bad.safetensors: error: header length 424 exceeds file size 100; the file is truncated or not "
          "safetensors");
    CHECK(error_of(good.substr(0, good.size() - 30)) ==
          "bad.safetensors: error: tensor 'net.weight': data_offsets [20, 44] end past the data area of 26 "
          "bytes; the file is truncated");
    CHECK(error_of(le64(0x7fffffffffffffffull) + good.substr(8)) ==
          "bad.safetensors: error: header length 9223372036854775807 exceeds file size 488; the file is "
          "truncated or not safetensors");

    // Through the file reader, the error names the file.
    const fs::path dir = scratch("truncated");
    write_bytes(dir / "cut.safetensors", le64(0x7fffffffffffffffull) + std::string(18424, ' '));
    CHECK_THROWS_WITH_AS(read_safetensors(dir / "cut.safetensors"),
                         ((dir / "cut.safetensors").string() +
                          ": error: header length 9223372036854775807 exceeds file size 18432; the file is "
                          "truncated or not safetensors")
                             .c_str(),
                         difflab::error);
    CHECK_THROWS_WITH_AS(read_safetensors(dir / "missing.safetensors"),
                         ((dir / "missing.safetensors").string() +
                          ": error: cannot read file: No such file or directory; check the path")
                             .c_str(),
                         difflab::error);
}

TEST_CASE("malformed headers are one-line errors naming the tensor") {
    const std::string prefix = "bad.safetensors: error: ";
    CHECK(error_of(file_of(R"({"a":{"dtype":"F32",)", 0)) ==
          prefix +
              "header is not valid JSON (it ends in the middle of a value); the file is corrupt or not "
              "safetensors");
    CHECK(error_of(file_of(R"({"a":})", 0)) ==
          prefix + "header is not valid JSON (syntax error at byte 6); the file is corrupt or not safetensors");
    CHECK(error_of(file_of("[1, 2]", 0)) ==
          prefix + "header is not a JSON object; the file is corrupt or not safetensors");
    CHECK(error_of(file_of(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", 4)) ==
          prefix +
              "tensor 'a': unknown dtype \"F33\"; expected one of BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, "
              "U16, F16, BF16, I32, U32, F32, F64, I64, U64");
    CHECK(error_of(file_of(R"({"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4)) ==
          prefix +
              "tensor 'a': unknown dtype 7; expected one of BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, "
              "U16, F16, BF16, I32, U32, F32, F64, I64, U64");
    CHECK(error_of(file_of(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4)) ==
          prefix + "tensor 'a': missing \"shape\"");
    CHECK(error_of(file_of(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)) ==
          prefix + "tensor 'a': shape [-1] is not a list of non-negative integers");
    CHECK(error_of(file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,0]}})", 4)) ==
          prefix + "tensor 'a': data_offsets [4,0] is not a pair [begin, end] of integers with 0 <= begin <= end");
    CHECK(error_of(file_of(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 20)) ==
          prefix + "tensor 'a': shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20");
    CHECK(error_of(file_of(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8)) ==
          prefix +
              "tensor 'a': shape [4294967296, 4294967296] of F64 needs more than 2^64 bytes but "
              "data_offsets [0, 8] hold 8");
    CHECK(error_of(file_of(R"({"__metadata__":{"step":12}})", 0)) ==
          prefix + "\"__metadata__\" value of 'step' is number, not a string");
    CHECK(error_of(file_of(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                           R"("a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                           1)) == prefix + "key 'a' appears twice in the header; the file is corrupt");
}

TEST_CASE("offsets that overlap, leave gaps or run past the end are one-line errors") {
    const std::string prefix = "bad.safetensors: error: ";
    CHECK(error_of(file_of(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                           R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                           24)) ==
          prefix + "tensors 'a' (data_offsets [0, 16]) and 'b' (data_offsets [8, 24]) overlap; the file is corrupt");
    CHECK(error_of(file_of(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                           R"("b":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}})",
                           24)) ==
          prefix + "tensor 'b': data_offsets [16, 32] end past the data area of 24 bytes; the file is truncated");
    CHECK(error_of(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)) ==
          prefix + "data area bytes [0, 4) belong to no tensor; the file is corrupt");
    CHECK(error_of(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 12)) ==
          prefix + "data area bytes [4, 12) belong to no tensor; the file is corrupt");
    // An empty tensor may sit anywhere inside the data area.
    const safetensors_file ok = parse_safetensors(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                                          R"("e":{"dtype":"F32","shape":[0],"data_offsets":[2,2]}})",
                                                          4),
                                                  "ok.safetensors");
    CHECK(ok.tensors.size() == 2);
    // Huge dimensions times a zero one hold no bytes (no overflow error).
    CHECK(
        parse_safetensors(file_of(R"({"z":{"dtype":"F64","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})", 0),
                          "ok.safetensors")
            .tensors[0]
            .data.empty());
}

TEST_CASE("the writer rejects inconsistent entries and never leaves a partial file") {
    const fs::path dir = scratch("writer");
    const fs::path path = dir / "model.safetensors";
    safetensors_file good;
    good.add({"w", "F32", {1}, bytes_of(std::vector<float>{1.0f})});
    write_safetensors(path, good);
    const std::string before = read_bytes(path);

    safetensors_file bad;
    bad.add({"w", "F32", {2}, bytes_of(std::vector<float>{1.0f})});
    CHECK_THROWS_WITH_AS(
        write_safetensors(path, bad),
        (path.string() + ": error: tensor 'w': shape [2] of F32 does not match its 4 bytes of data").c_str(),
        difflab::error);
    bad.tensors[0] = {"w", "Q4", {1}, {0}};
    CHECK_THROWS_WITH_AS(write_safetensors(path, bad),
                         (path.string() + ": error: tensor 'w': unknown dtype \"Q4\"; expected one of BOOL, U8, "
                                          "I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64")
                             .c_str(),
                         difflab::error);
    CHECK_THROWS_WITH_AS(good.add({"w", "F32", {1}, bytes_of(std::vector<float>{2.0f})}),
                         "safetensors: error: tensor 'w' added twice; give each tensor a unique name", difflab::error);
    CHECK(read_bytes(path) == before);

    // A writer abandoned midway (an exception, a crash before commit) leaves the old file.
    {
        atomic_file_writer writer(path);
        writer.write("partial", 7);
        CHECK(fs::exists(writer.temp_path()));
    }
    CHECK(read_bytes(path) == before);
    CHECK_FALSE(fs::exists(dir / "model.safetensors.tmp"));
    CHECK(safetensors_dtype_size("BF16") == 2);
    CHECK(safetensors_dtype_size("I64") == 8);
}

TEST_CASE("randomly corrupted files give a difflab error or a valid result, never a crash") {
    // 3000 copies of the PyTorch fixture with 1-4 bytes overwritten or the tail cut: the reader
    // must either accept them (a changed value in the data area) or throw difflab::error.
    const std::string good = read_bytes(fixture);
    philox_stream stream(1, random_purpose("test/corrupt"), 0);
    int rejected = 0;
    for (int trial = 0; trial < 3000; ++trial) {
        std::string bytes = good;
        const std::uint64_t edits = 1 + stream.integer(4);
        for (std::uint64_t e = 0; e < edits; ++e)
            bytes[stream.integer(bytes.size())] = static_cast<char>(stream.integer(256));
        if (stream.integer(4) == 0) bytes.resize(stream.integer(bytes.size()));
        try {
            const safetensors_file file = parse_safetensors(bytes, "fuzz.safetensors");
            std::size_t total = 0;
            for (const safetensors_entry& entry : file.tensors) total += entry.data.size();
            CHECK(total <= bytes.size());
        } catch (const difflab::error& e) {
            ++rejected;
            CHECK(std::string(e.what()).rfind("fuzz.safetensors: error: ", 0) == 0);
            CHECK(std::string(e.what()).find('\n') == std::string::npos);
        }
    }
    CHECK(rejected > 1000);  // most edits land in the header and must be caught
}
