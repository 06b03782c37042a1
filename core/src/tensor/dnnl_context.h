// SPDX-License-Identifier: Apache-2.0
// The oneDNN engine and stream, a primitive cache, and tensor <-> dnnl::memory glue (internal).
#pragma once

#include <difflab/base/error.h>
#include <difflab/tensor/tensor.h>

#include <dnnl.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace difflab::dnnl_glue {

/// The CPU engine every primitive runs on.
dnnl::engine& engine();
/// The CPU stream primitives execute on (in order; CPU execution is synchronous).
dnnl::stream& stream();

dnnl::memory::data_type data_type_of(dtype type);
/// A memory descriptor with the tensor's dims and strides (so channels-last stays channels-last).
dnnl::memory::desc desc_of(const tensor& t);
/// A dnnl::memory over the tensor's own buffer (no copy).
dnnl::memory memory_of(const tensor& t);
dnnl::memory memory_of(const tensor& t, const dnnl::memory::desc& desc);

/// Primitives keyed by a string describing op and shapes; created once per shape and reused
/// (creation costs far more than a small execution).
template <class Primitive>
std::shared_ptr<Primitive> cached(const std::string& key, const std::function<Primitive()>& create);

/// The same key for the same op, shapes, strides and dtypes: "conv2d_fwd|f32[64,32,28,28]/s[...]|..."
std::string key_of(const char* op, const std::vector<tensor>& tensors, const std::string& extra = "");

/// Runs `body`, turning a dnnl::error into a difflab::error that names the op and the
/// shapes, dtypes and layouts of its tensors.
void checked(const char* op, const std::vector<tensor>& tensors, const std::function<void()>& body);

// ---------------------------------------------------------------------------------------------

namespace detail {
std::shared_ptr<void> find(const std::string& key);
void store(const std::string& key, std::shared_ptr<void> primitive);
}  // namespace detail

template <class Primitive>
std::shared_ptr<Primitive> cached(const std::string& key, const std::function<Primitive()>& create) {
    if (auto found = detail::find(key)) return std::static_pointer_cast<Primitive>(found);
    auto made = std::make_shared<Primitive>(create());
    detail::store(key, made);
    return made;
}

}  // namespace difflab::dnnl_glue
