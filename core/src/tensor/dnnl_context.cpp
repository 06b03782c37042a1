// SPDX-License-Identifier: Apache-2.0
// The oneDNN engine, stream and primitive cache.
#include "dnnl_context.h"

#include <fmt/format.h>

#include <mutex>
#include <unordered_map>

namespace difflab::dnnl_glue {

dnnl::engine& engine() {
    static dnnl::engine e(dnnl::engine::kind::cpu, 0);
    return e;
}

dnnl::stream& stream() {
    static dnnl::stream s(engine());
    return s;
}

dnnl::memory::data_type data_type_of(dtype type) {
    return type == dtype::bf16 ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32;
}

dnnl::memory::desc desc_of(const tensor& t) {
    dnnl::memory::dims dims(t.shape().begin(), t.shape().end());
    dnnl::memory::dims strides(t.strides().begin(), t.strides().end());
    if (dims.empty()) {  // oneDNN has no 0-D memory: a scalar is [1]
        dims = {1};
        strides = {1};
    }
    return dnnl::memory::desc(dims, data_type_of(t.type()), strides);
}

dnnl::memory memory_of(const tensor& t) {
    return memory_of(t, desc_of(t));
}

dnnl::memory memory_of(const tensor& t, const dnnl::memory::desc& desc) {
    return dnnl::memory(desc, engine(), const_cast<void*>(t.raw_data()));
}

std::string key_of(const char* op, const std::vector<tensor>& tensors, const std::string& extra) {
    std::string key = op;
    for (const tensor& t : tensors) {
        if (!t.defined()) {
            key += "|-";
            continue;
        }
        key += fmt::format("|{}{}/{}", dtype_name(t.type()), shape_text(t.shape()), shape_text(t.strides()));
    }
    return key + "|" + extra;
}

void checked(const char* op, const std::vector<tensor>& tensors, const std::function<void()>& body) {
    try {
        body();
    } catch (const dnnl::error& e) {
        // oneDNN's own text names its internal calls, not the user's mistake: say what the
        // status means for the op's operands and how to get past it instead.
        std::string operands;
        for (const tensor& t : tensors) {
            if (!t.defined()) continue;
            operands +=
                fmt::format("{}{} {} ({})", operands.empty() ? "" : ", ", dtype_name(t.type()), shape_text(t.shape()),
                            t.is_channels_last() ? "channels-last"
                            : t.is_contiguous()  ? "contiguous"
                                                 : "strides " + shape_text(t.strides()));
        }
        std::string what, fix;
        switch (e.status) {
            case dnnl_unimplemented:
                what = "oneDNN has no kernel for these operands";
                fix = "convert them to f32, or make them contiguous or channels-last";
                break;
            case dnnl_out_of_memory:
                what = "out of memory";
                fix = "reduce the batch size";
                break;
            case dnnl_invalid_arguments:
                what = "oneDNN rejected the operands' shapes or layouts";
                fix = "check the shapes against the op's documentation in nn_ops.h";
                break;
            default:
                what = fmt::format("oneDNN failed (status {})", static_cast<int>(e.status));
                fix = "report this with the operands above";
        }
        throw error(fmt::format("{}: {} [{}]; {}", op, what, operands, fix));
    }
}

namespace detail {

namespace {
std::mutex cache_mutex;
std::unordered_map<std::string, std::shared_ptr<void>>& cache() {
    static std::unordered_map<std::string, std::shared_ptr<void>> primitives;
    return primitives;
}
}  // namespace

std::shared_ptr<void> find(const std::string& key) {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = cache().find(key);
    return it == cache().end() ? nullptr : it->second;
}

void store(const std::string& key, std::shared_ptr<void> primitive) {
    std::lock_guard<std::mutex> lock(cache_mutex);
    cache().emplace(key, std::move(primitive));
}

}  // namespace detail
}  // namespace difflab::dnnl_glue
