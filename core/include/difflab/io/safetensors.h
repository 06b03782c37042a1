// SPDX-License-Identifier: Apache-2.0
// Reading and writing the safetensors format: named raw arrays plus a string metadata map.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace difflab {

/// One named array of a safetensors file: its dtype as the format spells it ("F32", "BF16",
/// "I64", "U8", ...), its shape, and its bytes in little-endian row-major order.
struct safetensors_entry {
    std::string name;
    std::string dtype;
    shape_t shape;
    std::vector<std::uint8_t> data;
};

/// The content of a safetensors file.
///
/// Follows the format of Hugging Face's safetensors (github.com/huggingface/safetensors):
/// an 8-byte little-endian header length N, N bytes of JSON mapping each name to
/// {"dtype", "shape", "data_offsets": [begin, end)} (offsets into the data area) plus an
/// optional "__metadata__" map of strings, then the data area. PyTorch's
/// `safetensors.torch.load_file` reads what `write_safetensors` writes, and the reverse.
struct safetensors_file {
    std::vector<safetensors_entry> tensors;  ///< in data-area order
    std::map<std::string, std::string> metadata;

    /// The entry of that name, or nullptr.
    const safetensors_entry* find(std::string_view name) const;
    /// Appends an entry (the name must not exist yet).
    void add(safetensors_entry entry);
};

/// Bytes per element of a safetensors dtype ("F32" -> 4); throws for an unknown name.
std::size_t safetensors_dtype_size(std::string_view dtype);

/// Reads and validates a file: header length against the file size, JSON syntax, dtypes,
/// shapes against byte sizes, offsets inside the data area, neither overlapping nor leaving
/// gaps. Every problem is a one-line difflab::error "PATH: error: ...".
safetensors_file read_safetensors(const std::filesystem::path& path);
/// As `read_safetensors`, from bytes in memory; `where` names them in errors.
safetensors_file parse_safetensors(std::string_view bytes, const std::string& where);

/// Writes atomically (temp file, fsync, rename), entries in the given order, the header
/// padded with spaces to a multiple of 8 bytes so that the data area is aligned.
void write_safetensors(const std::filesystem::path& path, const safetensors_file& file);
/// The bytes `write_safetensors` writes.
std::string serialize_safetensors(const safetensors_file& file);

/// An entry holding a copy of an f32 ("F32") or bf16 ("BF16") tensor, any layout.
safetensors_entry to_safetensors(const std::string& name, const tensor& value);
/// A new contiguous tensor from an "F32" or "BF16" entry (other dtypes: an error naming it).
tensor to_tensor(const safetensors_entry& entry);

}  // namespace difflab
