// SPDX-License-Identifier: Apache-2.0
// The per-thread compute precision of convolutions and matrix products.
#include <difflab/base/error.h>
#include <difflab/tensor/precision.h>
#include <fmt/format.h>

namespace difflab {

namespace {
thread_local dtype current = dtype::f32;
}  // namespace

dtype compute_precision() {
    return current;
}

precision_scope::precision_scope(dtype compute) : previous_(current) {
    current = compute;
}

precision_scope::~precision_scope() {
    current = previous_;
}

dtype parse_precision(const std::string& name) {
    if (name == "fp32") return dtype::f32;
    if (name == "bf16") return dtype::bf16;
    throw error(fmt::format("unknown precision '{}'; use fp32 or bf16", name));
}

}  // namespace difflab
