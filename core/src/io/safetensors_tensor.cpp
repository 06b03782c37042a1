// SPDX-License-Identifier: Apache-2.0
// Conversions between safetensors entries and difflab tensors (F32 and BF16).
#include <difflab/base/error.h>
#include <difflab/io/safetensors.h>
#include <fmt/format.h>

#include <cstring>

namespace difflab {

safetensors_entry to_safetensors(const std::string& name, const tensor& value) {
    if (!value.defined())
        throw error(source_mark{"safetensors"},
                    fmt::format("tensor '{}' is undefined; save only defined tensors", name));
    const tensor dense = value.contiguous();
    safetensors_entry out;
    out.name = name;
    out.dtype = dense.type() == dtype::bf16 ? "BF16" : "F32";
    out.shape = dense.shape();
    out.data.resize(static_cast<std::size_t>(dense.numel()) * dtype_size(dense.type()));
    if (!out.data.empty()) std::memcpy(out.data.data(), dense.raw_data(), out.data.size());
    return out;
}

tensor to_tensor(const safetensors_entry& entry) {
    dtype type = dtype::f32;
    if (entry.dtype == "BF16") {
        type = dtype::bf16;
    } else if (entry.dtype != "F32") {
        throw error(source_mark{"safetensors"}, fmt::format("tensor '{}' has dtype {}; only F32 and BF16 load as "
                                                            "difflab tensors, so save it as one of those",
                                                            entry.name, entry.dtype));
    }
    tensor out = tensor::empty(entry.shape, type);
    const std::size_t bytes = static_cast<std::size_t>(out.numel()) * dtype_size(type);
    if (bytes != entry.data.size())
        throw error(source_mark{"safetensors"},
                    fmt::format("tensor '{}': shape {} of {} needs {} bytes but holds {}", entry.name,
                                shape_text(entry.shape), entry.dtype, bytes, entry.data.size()));
    if (bytes != 0) std::memcpy(out.raw_data(), entry.data.data(), bytes);
    return out;
}

}  // namespace difflab
