// SPDX-License-Identifier: Apache-2.0
// Tensors: storage, construction, strided views (recorded by autograd), copies and printing.
#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/storage_cache.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <type_traits>

#include "ops_common.h"
#include "strided.h"
#include "tensor_impl.h"
#include "vector_clones.h"

namespace difflab {

namespace {

constexpr std::size_t alignment = 64;

[[noreturn]] void fail(const std::string& what) {
    throw error("" + what);
}

std::int64_t wrap_dim(std::int64_t d, std::int64_t dims, const char* op) {
    const std::int64_t wrapped = d < 0 ? d + dims : d;
    if (dims == 0) fail(fmt::format("{}: a 0-D tensor has no dimension {}", op, d));
    if (wrapped < 0 || wrapped >= dims)
        fail(fmt::format("{}: dimension {} is out of range for a {}-D tensor; use 0..{} or -1..-{}", op, d, dims,
                         dims - 1, dims));
    return wrapped;
}

tensor_impl& impl_of(const tensor& t, const char* op) {
    tensor_impl* impl = tensor_access::impl(t);
    if (impl == nullptr) fail(fmt::format("{}: the tensor is undefined; create it before use", op));
    return *impl;
}

tensor new_tensor(const shape_t& shape, dtype type, const shape_t& strides) {
    if (shape.size() > 5)
        fail(fmt::format("tensor of shape {} has {} dimensions; at most 5 are supported", shape_text(shape),
                         shape.size()));
    for (std::int64_t size : shape)
        if (size < 0) fail(fmt::format("tensor shape {} has a negative size", shape_text(shape)));
    const std::int64_t numel = shape_numel(shape);
    auto store = std::make_shared<storage>(static_cast<std::size_t>(numel) * dtype_size(type));
    return tensor_access::make(std::move(store), shape, strides, 0, type);
}

/// One row of a copy, o[e*so] = i[e*si], converting between storage types (f32, bf16 bits).
/// Dense rows (contiguous(), clone() and to(dtype) of dense tensors) get a plain loop that the
/// compiler vectorizes; `i` never overlaps `o` (copy_ copies it aside).
template <class To, class From>
[[gnu::always_inline]] inline void copy_row(To* __restrict o, const From* __restrict i, std::int64_t n, std::int64_t so,
                                            std::int64_t si) {
    if constexpr (std::is_same_v<To, From>)
        if (so == 1 && si == 1) {
            std::memcpy(o, i, static_cast<std::size_t>(n) * sizeof(To));
            return;
        }
    if (so == 1 && si == 1)
        for (std::int64_t e = 0; e < n; ++e) o[e] = strided::narrow<To>(strided::widen(i[e]));
    else
        for (std::int64_t e = 0; e < n; ++e) o[e * so] = strided::narrow<To>(strided::widen(i[e * si]));
}

/// f32 <-> bf16 rounds or widens every element, which is compute-bound: AVX-512/AVX2 clones
/// (3.6x faster on [64, 64, 14, 14]). Same-type copies stream memory and stay baseline code.
template <class To, class From>
DIFFLAB_VECTOR_CLONES void convert_row(To* __restrict o, const From* __restrict i, std::int64_t n, std::int64_t so,
                                       std::int64_t si) {
    copy_row(o, i, n, so, si);
}

template <class To, class From>
void copy_rows(const tensor& source, tensor& target) {
    const From* in = static_cast<const From*>(source.raw_data());
    To* out = static_cast<To*>(target.raw_data());
    strided::for_each_row<2>(
        target.shape(), {&target.strides(), &source.strides()},
        [&](const std::array<std::int64_t, 2>& off, std::int64_t count, const std::array<std::int64_t, 2>& step) {
            if constexpr (std::is_same_v<To, From>)
                copy_row(out + off[0], in + off[1], count, step[0], step[1]);
            else
                convert_row(out + off[0], in + off[1], count, step[0], step[1]);
        });
}

/// Copies `source` into `target` element by element (same shape; any strides and dtypes).
void strided_copy(const tensor& source, tensor& target) {
    using bits = std::uint16_t;  // bf16
    const bool from_f32 = source.type() == dtype::f32, to_f32 = target.type() == dtype::f32;
    if (to_f32)
        from_f32 ? copy_rows<float, float>(source, target) : copy_rows<float, bits>(source, target);
    else
        from_f32 ? copy_rows<bits, float>(source, target) : copy_rows<bits, bits>(source, target);
}

/// Strides of a dense tensor whose memory order lists the dims in `order` (outermost first).
shape_t strides_in_order(const shape_t& shape, const std::vector<std::size_t>& order) {
    shape_t strides(shape.size());
    std::int64_t step = 1;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        strides[*it] = step;
        step *= std::max<std::int64_t>(shape[*it], 1);
    }
    return strides;
}

std::vector<std::size_t> channels_last_order(std::size_t dims) {
    if (dims == 4) return {0, 2, 3, 1};
    return {0, 2, 3, 4, 1};
}

bool dense_in_order(const tensor_impl& t, const std::vector<std::size_t>& order) {
    std::int64_t step = 1;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        const std::int64_t size = t.shape[*it];
        if (size != 1 && t.strides[*it] != step) return false;
        step *= size;
    }
    return true;
}

/// Strides for viewing a tensor of `shape`/`strides` as `new_shape` without a copy, or empty
/// when the memory does not allow it (PyTorch's computeStride).
bool view_strides(const shape_t& shape, const shape_t& strides, const shape_t& new_shape, shape_t& out) {
    const std::int64_t numel = shape_numel(shape);
    out.assign(new_shape.size(), 0);
    if (numel == 0 || shape.empty()) {
        out = contiguous_strides(new_shape);
        return true;
    }
    std::int64_t view_d = static_cast<std::int64_t>(new_shape.size()) - 1;
    std::int64_t chunk_base_stride = strides.empty() ? 1 : strides.back();
    std::int64_t tensor_numel = 1;
    std::int64_t view_numel = 1;
    for (std::int64_t d = static_cast<std::int64_t>(shape.size()) - 1; d >= 0; --d) {
        tensor_numel *= shape[static_cast<std::size_t>(d)];
        if (d == 0 || (shape[static_cast<std::size_t>(d - 1)] != 1 &&
                       strides[static_cast<std::size_t>(d - 1)] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || new_shape[static_cast<std::size_t>(view_d)] == 1)) {
                out[static_cast<std::size_t>(view_d)] = view_numel * chunk_base_stride;
                view_numel *= new_shape[static_cast<std::size_t>(view_d)];
                --view_d;
            }
            if (view_numel != tensor_numel) return false;
            if (d > 0) {
                chunk_base_stride = strides[static_cast<std::size_t>(d - 1)];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    return view_d == -1;
}

shape_t infer_shape(const shape_t& shape, std::int64_t numel, const char* op, const shape_t& from) {
    shape_t result = shape;
    std::int64_t known = 1;
    int unknown = -1;
    for (std::size_t d = 0; d < result.size(); ++d) {
        if (result[d] == -1) {
            if (unknown >= 0) fail(fmt::format("{}: shape {} has more than one -1", op, shape_text(shape)));
            unknown = static_cast<int>(d);
        } else if (result[d] < 0) {
            fail(fmt::format("{}: shape {} has a negative size", op, shape_text(shape)));
        } else {
            known *= result[d];
        }
    }
    if (unknown >= 0) {
        if (known == 0 || numel % known != 0)
            fail(fmt::format("{}: cannot infer the -1 in {} for {} elements (from {})", op, shape_text(shape), numel,
                             shape_text(from)));
        result[static_cast<std::size_t>(unknown)] = numel / known;
    } else if (known != numel) {
        fail(fmt::format("{}: shape {} has {} elements but the tensor {} has {}", op, shape_text(shape), known,
                         shape_text(from), numel));
    }
    return result;
}

void format_values(std::string& out, const tensor& t, const std::vector<float>& values, std::size_t dim,
                   std::int64_t base, int indent) {
    const shape_t& shape = t.shape();
    const std::int64_t size = shape[dim];
    std::int64_t inner = 1;
    for (std::size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
    const std::int64_t shown = 6;
    out += "[";
    for (std::int64_t i = 0; i < size; ++i) {
        if (size > shown && i == shown / 2) {
            out +=
                dim + 1 == shape.size() ? "..., " : "...,\n" + std::string(static_cast<std::size_t>(indent + 1), ' ');
            i = size - shown / 2;
        }
        if (dim + 1 == shape.size()) {
            out += fmt::format("{:.6g}", values[static_cast<std::size_t>(base + i)]);
        } else {
            format_values(out, t, values, dim + 1, base + i * inner, indent + 1);
        }
        if (i + 1 < size)
            out += dim + 1 == shape.size() ? ", " : ",\n" + std::string(static_cast<std::size_t>(indent + 1), ' ');
    }
    out += "]";
}

}  // namespace

// --- dtype and shape helpers -------------------------------------------------------------------

std::size_t dtype_size(dtype type) {
    return type == dtype::bf16 ? 2 : 4;
}

const char* dtype_name(dtype type) {
    return type == dtype::bf16 ? "bf16" : "f32";
}

std::string shape_text(const shape_t& shape) {
    return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::int64_t shape_numel(const shape_t& shape) {
    return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

shape_t contiguous_strides(const shape_t& shape) {
    shape_t strides(shape.size());
    std::int64_t step = 1;
    for (std::size_t d = shape.size(); d-- > 0;) {
        strides[d] = step;
        step *= std::max<std::int64_t>(shape[d], 1);
    }
    return strides;
}

// --- storage -----------------------------------------------------------------------------------

namespace {
/// A storage's block: its bytes rounded up to the alignment (aligned_alloc's contract, and the
/// size the storage cache files the block under).
std::size_t block_bytes(std::size_t bytes) {
    return std::max<std::size_t>((bytes + alignment - 1) / alignment * alignment, alignment);
}
}  // namespace

storage::storage(std::size_t bytes) : data_(nullptr), bytes_(bytes) {
    data_ = allocate_storage_block(block_bytes(bytes));
    if (data_ == nullptr) {
        // The cache may hold what the system lacks: give it back and try once more.
        release_storage_cache();
        data_ = allocate_storage_block(block_bytes(bytes));
    }
    if (data_ == nullptr) fail(fmt::format("out of memory allocating {} bytes for a tensor", bytes));
}

storage::~storage() {
    free_storage_block(data_, block_bytes(bytes_));
}

// --- construction ------------------------------------------------------------------------------

tensor tensor::empty(const shape_t& shape, dtype type) {
    return new_tensor(shape, type, contiguous_strides(shape));
}

tensor tensor::zeros(const shape_t& shape, dtype type) {
    tensor t = empty(shape, type);
    std::memset(t.raw_data(), 0, static_cast<std::size_t>(t.numel()) * dtype_size(type));
    return t;
}

tensor tensor::full(const shape_t& shape, float value, dtype type) {
    tensor t = empty(shape, type);
    t.fill_(value);
    return t;
}

tensor tensor::from_vector(const shape_t& shape, const std::vector<float>& values) {
    if (static_cast<std::int64_t>(values.size()) != shape_numel(shape))
        fail(fmt::format("from_vector: {} values for shape {} which holds {}", values.size(), shape_text(shape),
                         shape_numel(shape)));
    tensor t = empty(shape);
    if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(float));
    return t;
}

tensor tensor::empty_channels_last(const shape_t& shape, dtype type) {
    if (shape.size() != 4 && shape.size() != 5)
        fail(fmt::format("empty_channels_last: shape {} is {}-D; channels-last needs 4-D (NCHW) or 5-D (NCDHW)",
                         shape_text(shape), shape.size()));
    return new_tensor(shape, type, strides_in_order(shape, channels_last_order(shape.size())));
}

// --- properties --------------------------------------------------------------------------------

const shape_t& tensor::shape() const {
    return impl_of(*this, "shape").shape;
}
std::int64_t tensor::dim() const {
    return static_cast<std::int64_t>(shape().size());
}
std::int64_t tensor::size(std::int64_t d) const {
    return shape()[static_cast<std::size_t>(wrap_dim(d, dim(), "size"))];
}
std::int64_t tensor::numel() const {
    return shape_numel(shape());
}
const shape_t& tensor::strides() const {
    return impl_of(*this, "strides").strides;
}
std::int64_t tensor::offset() const {
    return impl_of(*this, "offset").offset;
}
dtype tensor::type() const {
    return impl_of(*this, "type").type;
}

bool tensor::is_contiguous() const {
    const tensor_impl& t = impl_of(*this, "is_contiguous");
    std::vector<std::size_t> order(t.shape.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    return dense_in_order(t, order);
}

bool tensor::is_channels_last() const {
    const tensor_impl& t = impl_of(*this, "is_channels_last");
    if (t.shape.size() != 4 && t.shape.size() != 5) return false;
    return dense_in_order(t, channels_last_order(t.shape.size()));
}

template <>
float* tensor::data<float>() {
    tensor_impl& t = impl_of(*this, "data");
    if (t.type != dtype::f32) fail(fmt::format("data<float>() on a {} tensor; use data<bf16>()", dtype_name(t.type)));
    return static_cast<float*>(raw_data());
}
template <>
const float* tensor::data<float>() const {
    return const_cast<tensor*>(this)->data<float>();
}
template <>
bf16* tensor::data<bf16>() {
    tensor_impl& t = impl_of(*this, "data");
    if (t.type != dtype::bf16) fail(fmt::format("data<bf16>() on a {} tensor; use data<float>()", dtype_name(t.type)));
    return static_cast<bf16*>(raw_data());
}
template <>
const bf16* tensor::data<bf16>() const {
    return const_cast<tensor*>(this)->data<bf16>();
}

void* tensor::raw_data() {
    tensor_impl& t = impl_of(*this, "raw_data");
    return static_cast<char*>(t.store->data()) + t.offset * static_cast<std::int64_t>(dtype_size(t.type));
}
const void* tensor::raw_data() const {
    return const_cast<tensor*>(this)->raw_data();
}

const std::shared_ptr<storage>& tensor::storage_ptr() const {
    return impl_of(*this, "storage_ptr").store;
}

bool tensor::shares_storage_with(const tensor& other) const {
    return defined() && other.defined() && impl_->store == other.impl_->store;
}

std::vector<float> tensor::to_vector() const {
    std::vector<float> values(static_cast<std::size_t>(numel()));
    if (values.empty()) return values;
    tensor target = from_vector(shape(), values);
    strided_copy(*this, target);
    std::memcpy(values.data(), target.raw_data(), values.size() * sizeof(float));
    return values;
}

float tensor::item() const {
    if (numel() != 1) fail(fmt::format("item(): the tensor {} has {} elements, not 1", shape_text(shape()), numel()));
    return strided::load(raw_data(), type(), 0);
}

// --- views -------------------------------------------------------------------------------------

namespace {

/// A view of `base` recorded so that its gradient flows back through `backward`.
tensor recorded_view(const tensor& base, shape_t shape, shape_t strides, std::int64_t offset, const char* name,
                     grad_node::backward_fn backward) {
    tensor result = tensor_access::as_strided(base, std::move(shape), std::move(strides), offset);
    record(result, name, {base}, std::move(backward));
    return result;
}

}  // namespace

tensor tensor::view(const shape_t& new_shape) const {
    const tensor_impl& t = impl_of(*this, "view");
    const shape_t target = infer_shape(new_shape, numel(), "view", t.shape);
    shape_t strides;
    if (!view_strides(t.shape, t.strides, target, strides))
        fail(
            fmt::format("view: a tensor {} with strides {} cannot be viewed as {} without a copy; use reshape() "
                        "or contiguous() first",
                        shape_text(t.shape), shape_text(t.strides), shape_text(target)));
    const shape_t from = t.shape;
    return recorded_view(*this, target, strides, t.offset, "view",
                         [from](const tensor& grad) { return std::vector<tensor>{grad.reshape(from)}; });
}

tensor tensor::reshape(const shape_t& new_shape) const {
    const tensor_impl& t = impl_of(*this, "reshape");
    const shape_t target = infer_shape(new_shape, numel(), "reshape", t.shape);
    shape_t strides;
    if (view_strides(t.shape, t.strides, target, strides)) return view(target);
    return contiguous().view(target);
}

tensor tensor::permute(const std::vector<std::int64_t>& order) const {
    const tensor_impl& t = impl_of(*this, "permute");
    const std::int64_t dims = dim();
    if (static_cast<std::int64_t>(order.size()) != dims)
        fail(fmt::format("permute: order {} has {} entries for a {}-D tensor", shape_text(order), order.size(), dims));
    shape_t shape(order.size()), strides(order.size());
    std::vector<std::int64_t> inverse(order.size(), -1);
    for (std::size_t i = 0; i < order.size(); ++i) {
        const std::int64_t d = wrap_dim(order[i], dims, "permute");
        if (inverse[static_cast<std::size_t>(d)] >= 0)
            fail(fmt::format("permute: order {} repeats dimension {}", shape_text(order), d));
        inverse[static_cast<std::size_t>(d)] = static_cast<std::int64_t>(i);
        shape[i] = t.shape[static_cast<std::size_t>(d)];
        strides[i] = t.strides[static_cast<std::size_t>(d)];
    }
    return recorded_view(*this, shape, strides, t.offset, "permute",
                         [inverse](const tensor& grad) { return std::vector<tensor>{grad.permute(inverse)}; });
}

tensor tensor::transpose(std::int64_t a, std::int64_t b) const {
    const std::int64_t dims = dim();
    std::vector<std::int64_t> order(static_cast<std::size_t>(dims));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    std::swap(order[static_cast<std::size_t>(wrap_dim(a, dims, "transpose"))],
              order[static_cast<std::size_t>(wrap_dim(b, dims, "transpose"))]);
    return permute(order);
}

tensor tensor::slice(std::int64_t d, std::int64_t start, std::int64_t end, std::int64_t step) const {
    const tensor_impl& t = impl_of(*this, "slice");
    const std::size_t dd = static_cast<std::size_t>(wrap_dim(d, dim(), "slice"));
    if (step <= 0) fail(fmt::format("slice: step {} must be positive", step));
    const std::int64_t size = t.shape[dd];
    // Python slicing: negative indices count from the end, out-of-range bounds are clamped.
    if (start < 0) start += size;
    if (end < 0) end += size;
    start = std::clamp<std::int64_t>(start, 0, size);
    end = std::clamp<std::int64_t>(end, start, size);
    shape_t shape = t.shape, strides = t.strides;
    shape[dd] = (end - start + step - 1) / step;
    strides[dd] = t.strides[dd] * step;
    const shape_t from = t.shape;
    const dtype type = t.type;
    return recorded_view(*this, shape, strides, t.offset + start * t.strides[dd], "slice",
                         [from, type, dd, start, end, step](const tensor& grad) {
                             tensor full = tensor::zeros(from, type);
                             full.slice(static_cast<std::int64_t>(dd), start, end, step).copy_(grad);
                             return std::vector<tensor>{full};
                         });
}

tensor tensor::unsqueeze(std::int64_t d) const {
    const tensor_impl& t = impl_of(*this, "unsqueeze");
    const std::int64_t dims = dim() + 1;
    const std::size_t dd = static_cast<std::size_t>(wrap_dim(d, dims, "unsqueeze"));
    shape_t shape = t.shape, strides = t.strides;
    const std::int64_t stride = dd < t.shape.size() ? t.strides[dd] * t.shape[dd] : 1;
    shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(dd), 1);
    strides.insert(strides.begin() + static_cast<std::ptrdiff_t>(dd), stride);
    const shape_t from = t.shape;
    return recorded_view(*this, shape, strides, t.offset, "unsqueeze",
                         [from](const tensor& grad) { return std::vector<tensor>{grad.reshape(from)}; });
}

tensor tensor::squeeze(std::int64_t d) const {
    const tensor_impl& t = impl_of(*this, "squeeze");
    if (t.shape.empty()) return *this;
    const std::size_t dd = static_cast<std::size_t>(wrap_dim(d, dim(), "squeeze"));
    if (t.shape[dd] != 1)
        fail(fmt::format("squeeze: dimension {} of {} has size {}, not 1", d, shape_text(t.shape), t.shape[dd]));
    shape_t shape = t.shape, strides = t.strides;
    shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(dd));
    strides.erase(strides.begin() + static_cast<std::ptrdiff_t>(dd));
    const shape_t from = t.shape;
    return recorded_view(*this, shape, strides, t.offset, "squeeze",
                         [from](const tensor& grad) { return std::vector<tensor>{grad.reshape(from)}; });
}

tensor tensor::expand(const shape_t& new_shape) const {
    const tensor_impl& t = impl_of(*this, "expand");
    if (new_shape.size() < t.shape.size())
        fail(
            fmt::format("expand: cannot expand {} to fewer dimensions {}", shape_text(t.shape), shape_text(new_shape)));
    if (new_shape.size() > 5) fail(fmt::format("expand: shape {} has more than 5 dimensions", shape_text(new_shape)));
    const std::size_t lead = new_shape.size() - t.shape.size();
    shape_t shape(new_shape.size()), strides(new_shape.size(), 0);
    for (std::size_t d = 0; d < new_shape.size(); ++d) {
        if (d < lead) {
            if (new_shape[d] < 0)
                fail(fmt::format("expand: -1 is not allowed for the new leading dimension {} in {}", d,
                                 shape_text(new_shape)));
            shape[d] = new_shape[d];
            continue;
        }
        const std::int64_t own = t.shape[d - lead];
        const std::int64_t want = new_shape[d] == -1 ? own : new_shape[d];
        if (own == want) {
            shape[d] = own;
            strides[d] = t.strides[d - lead];
        } else if (own == 1) {
            shape[d] = want;
        } else {
            fail(fmt::format("expand: cannot expand {} to {}: dimension {} has size {}, not 1", shape_text(t.shape),
                             shape_text(new_shape), d - lead, own));
        }
    }
    const shape_t from = t.shape;
    return recorded_view(*this, shape, strides, t.offset, "expand",
                         [from](const tensor& grad) { return std::vector<tensor>{ops_detail::sum_to(grad, from)}; });
}

// --- copies ------------------------------------------------------------------------------------

namespace {

/// A dense copy of `source` with the given strides and dtype, recorded as an identity.
tensor recorded_copy(const tensor& source, const shape_t& strides, dtype type, const char* name) {
    tensor result = new_tensor(source.shape(), type, strides);
    strided_copy(source, result);
    const dtype from = source.type();
    record(result, name, {source},
           [from](const tensor& grad) { return std::vector<tensor>{grad.type() == from ? grad : grad.to(from)}; });
    return result;
}

}  // namespace

tensor tensor::contiguous() const {
    if (is_contiguous()) return *this;
    return recorded_copy(*this, contiguous_strides(shape()), type(), "contiguous");
}

tensor tensor::to_channels_last() const {
    const tensor_impl& t = impl_of(*this, "to_channels_last");
    if (t.shape.size() != 4 && t.shape.size() != 5)
        fail(fmt::format("to_channels_last: the tensor {} is {}-D; channels-last needs 4-D or 5-D", shape_text(t.shape),
                         t.shape.size()));
    if (is_channels_last()) return *this;
    return recorded_copy(*this, strides_in_order(t.shape, channels_last_order(t.shape.size())), t.type,
                         "to_channels_last");
}

tensor tensor::clone() const {
    const tensor_impl& t = impl_of(*this, "clone");
    // Keep a channels-last tensor channels-last: the copy should be as fast to use as the original.
    const shape_t strides = is_channels_last() && !is_contiguous()
                                ? strides_in_order(t.shape, channels_last_order(t.shape.size()))
                                : contiguous_strides(t.shape);
    return recorded_copy(*this, strides, t.type, "clone");
}

tensor tensor::to(dtype new_type) const {
    const tensor_impl& t = impl_of(*this, "to");
    if (t.type == new_type) return *this;
    const shape_t strides = is_channels_last() && !is_contiguous()
                                ? strides_in_order(t.shape, channels_last_order(t.shape.size()))
                                : contiguous_strides(t.shape);
    return recorded_copy(*this, strides, new_type, "to");
}

tensor tensor::detach() const {
    const tensor_impl& t = impl_of(*this, "detach");
    return tensor_access::make(t.store, t.shape, t.strides, t.offset, t.type);
}

void tensor::copy_(const tensor& source) {
    const tensor_impl& t = impl_of(*this, "copy_");
    impl_of(source, "copy_");
    tensor from;
    {
        no_grad_guard guard;
        from = source.shape() == t.shape ? source.detach() : source.detach().expand(t.shape);
    }
    // An overlapping source would be overwritten while it is read: copy it aside first.
    if (shares_storage_with(source)) from = from.clone();
    strided_copy(from, *this);
}

void tensor::fill_(float value) {
    impl_of(*this, "fill_");
    void* out = raw_data();
    const dtype type = this->type();
    const std::uint16_t half = bf16::from_float(value);
    strided::for_each_row<1>(
        shape(), {&strides()},
        [&](const std::array<std::int64_t, 1>& off, std::int64_t count, const std::array<std::int64_t, 1>& step) {
            if (type == dtype::f32) {
                float* o = static_cast<float*>(out) + off[0];
                for (std::int64_t e = 0; e < count; ++e) o[e * step[0]] = value;
            } else {
                std::uint16_t* o = static_cast<std::uint16_t*>(out) + off[0];
                for (std::int64_t e = 0; e < count; ++e) o[e * step[0]] = half;
            }
        });
}

// --- autograd state ----------------------------------------------------------------------------

bool tensor::requires_grad() const {
    const tensor_impl& t = impl_of(*this, "requires_grad");
    return t.requires_grad || t.grad_fn != nullptr;
}

tensor& tensor::set_requires_grad(bool required) {
    tensor_impl& t = impl_of(*this, "set_requires_grad");
    if (t.grad_fn != nullptr)
        fail(
            fmt::format("set_requires_grad: the tensor is the result of '{}', not a leaf; call detach() first to "
                        "make a leaf",
                        t.grad_fn->name()));
    t.requires_grad = required;
    return *this;
}

tensor tensor::grad() const {
    return impl_of(*this, "grad").grad;
}

void tensor::set_grad(const tensor& grad) {
    tensor_impl& t = impl_of(*this, "set_grad");
    if (grad.defined() && grad.shape() != t.shape)
        fail(fmt::format("set_grad: gradient shape {} differs from the tensor's {}", shape_text(grad.shape()),
                         shape_text(t.shape)));
    t.grad = grad;
}

void tensor::zero_grad() {
    impl_of(*this, "zero_grad").grad = tensor();
}

const std::shared_ptr<grad_node>& tensor::grad_fn() const {
    return impl_of(*this, "grad_fn").grad_fn;
}

void tensor::set_grad_fn(std::shared_ptr<grad_node> node) {
    impl_of(*this, "set_grad_fn").grad_fn = std::move(node);
}

// --- printing ----------------------------------------------------------------------------------

std::string to_string(const tensor& t) {
    if (!t.defined()) return "tensor(undefined)";
    const char* layout = t.is_contiguous() ? "" : t.is_channels_last() ? ", channels-last" : ", strided";
    std::string out = fmt::format("tensor({}, {}{}{})\n", shape_text(t.shape()), dtype_name(t.type()), layout,
                                  t.requires_grad() ? ", requires_grad" : "");
    const std::vector<float> values = t.to_vector();
    if (t.dim() == 0) return out + fmt::format("{:.6g}", values[0]);
    if (t.numel() == 0) return out + "[]";
    format_values(out, t, values, 0, 0, 0);
    return out;
}

}  // namespace difflab
