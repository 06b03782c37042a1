// SPDX-License-Identifier: Apache-2.0
// The condition bundle: slicing and joining its rows.
#include <difflab/base/error.h>
#include <difflab/diffusion/condition.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <utility>

namespace difflab {

namespace {

struct field {
    tensor condition::*member;
    const char* name;
};

/// Every field of a condition, in declaration order.
constexpr field fields[] = {{&condition::labels, "labels"},
                            {&condition::channels, "channels"},
                            {&condition::loss_mask, "loss_mask"},
                            {&condition::clean_mask, "clean_mask"},
                            {&condition::context, "context"}};

}  // namespace

condition condition::from_labels(tensor labels) {
    condition c;
    c.labels = std::move(labels);
    return c;
}

bool condition::empty() const {
    for (const field& f : fields)
        if ((this->*f.member).defined()) return false;
    return true;
}

condition condition::rows(std::int64_t first, std::int64_t n) const {
    condition out = *this;
    for (const field& f : fields) {
        tensor& value = out.*f.member;
        if (!value.defined()) continue;
        if (value.dim() < 1 || first < 0 || n < 0 || first + n > value.size(0))
            throw error(fmt::format("condition.{} is {}; rows [{}, {}) are not in it; slice within its first dimension",
                                    f.name, shape_text(value.shape()), first, first + n));
        value = value.slice(0, first, first + n);
    }
    return out;
}

void refuse_context(const char* network, const condition& cond) {
    if (!cond.context.defined()) return;
    throw error(
        fmt::format("{}: got a cross-attention context {}, but {} has no cross-attention; leave "
                    "condition.context undefined",
                    network, shape_text(cond.context.shape()), network));
}

void refuse_clean_mask(const char* network, const condition& cond) {
    if (!cond.clean_mask.defined()) return;
    throw error(
        fmt::format("{}: got a clean mask {}, but {} cannot tell given elements from noisy ones; use a network "
                    "that reads it (unet3d) or leave condition.clean_mask undefined",
                    network, shape_text(cond.clean_mask.shape()), network));
}

condition concat_rows(const condition& a, const condition& b) {
    condition out;
    for (const field& f : fields) {
        const tensor &first = a.*f.member, &second = b.*f.member;
        if (first.defined() != second.defined())
            throw error(
                fmt::format("cannot join conditions: condition.{} is defined in the {} but not in the {}; "
                            "give both the same fields",
                            f.name, first.defined() ? "first" : "second", first.defined() ? "second" : "first"));
        if (first.defined()) out.*f.member = concat({first, second}, 0);
    }
    return out;
}

}  // namespace difflab
