// SPDX-License-Identifier: Apache-2.0
// The caching allocator of tensor storage: reuse by size, the limit, release.
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/storage_cache.h>
#include <difflab/tensor/tensor.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

using namespace difflab;

namespace {

/// Sets the cache's limit for one test and puts the previous one back.
struct cache_limit {
    explicit cache_limit(std::size_t bytes) : previous(storage_cache_limit()) {
        release_storage_cache();
        set_storage_cache_limit(bytes);
    }
    ~cache_limit() {
        set_storage_cache_limit(previous);
        release_storage_cache();
    }
    std::size_t previous;
};

const void* data_of(const tensor& t) {
    return t.data<float>();
}

}  // namespace

TEST_CASE("a freed tensor's storage is handed to the next tensor of the same size") {
    const cache_limit limit(std::size_t{64} << 20);
    const void* first = nullptr;
    {
        const tensor a = tensor::empty({256, 1024});
        first = data_of(a);
    }
    CHECK(storage_cache_stats().cached_bytes == 256 * 1024 * sizeof(float));
    const std::size_t hits = storage_cache_stats().hits;
    const tensor b = tensor::zeros({1024, 256});  // the same bytes, another shape
    CHECK(data_of(b) == first);
    CHECK(storage_cache_stats().hits == hits + 1);
    CHECK(storage_cache_stats().cached_bytes == 0);
    const std::vector<float> values = b.to_vector();  // zeros() fills what the cache hands back
    CHECK(std::all_of(values.begin(), values.end(), [](float v) { return v == 0.0f; }));
}

TEST_CASE("the cache never holds more than its limit, and releases on demand") {
    const cache_limit limit(std::size_t{3} << 20);  // 3 MiB
    for (std::int64_t mib : {1, 2, 1, 2, 2, 1}) {
        { const tensor t = tensor::empty({mib * 256 * 1024}); }
        CHECK(storage_cache_stats().cached_bytes <= storage_cache_limit());
        CHECK(storage_cache_stats().cached_bytes > 0);
    }
    { const tensor too_big = tensor::empty({4 * 256 * 1024}); }  // past the limit: straight back
    CHECK(storage_cache_stats().cached_bytes <= storage_cache_limit());
    release_storage_cache();
    CHECK(storage_cache_stats().cached_bytes == 0);
}

TEST_CASE("past its limit the cache gives back its longest-kept blocks first") {
    const cache_limit limit(std::size_t{3} << 20);  // 3 MiB
    const std::int64_t mib = 256 * 1024;            // floats
    const void* newest_two_mib = nullptr;
    { const tensor t = tensor::empty({mib}); }
    {
        const tensor t = tensor::empty({2 * mib});
        newest_two_mib = data_of(t);
    }
    { const tensor t = tensor::empty({mib, 1}); }  // 4 MiB offered: the first 1 MiB block goes
    CHECK(storage_cache_stats().cached_bytes == std::size_t{3} << 20);
    const std::size_t hits = storage_cache_stats().hits;
    const tensor two = tensor::empty({2 * mib});
    CHECK(data_of(two) == newest_two_mib);
    const tensor one = tensor::empty({mib});
    CHECK(storage_cache_stats().hits == hits + 2);
    CHECK(storage_cache_stats().cached_bytes == 0);
}

TEST_CASE("outside recording a larger block, up to twice the size, serves a smaller tensor") {
    const cache_limit limit(std::size_t{64} << 20);
    const std::int64_t mib = 256 * 1024;  // floats
    const void* three_mib = nullptr;
    {
        const tensor t = tensor::empty({3 * mib});
        three_mib = data_of(t);
    }
    {
        // Recording: a tensor may be saved for the backward, so only its own size serves it.
        const tensor two = tensor::empty({2 * mib});
        CHECK(data_of(two) != three_mib);
    }
    release_storage_cache();
    {
        const tensor t = tensor::empty({3 * mib});
        three_mib = data_of(t);
    }
    const no_grad_guard no_recording;
    {
        const tensor one = tensor::empty({mib});  // 3 MiB is more than twice 1 MiB: not this block
        CHECK(data_of(one) != three_mib);
    }
    std::size_t hits = storage_cache_stats().hits;
    {
        const tensor two = tensor::empty({2 * mib});
        CHECK(data_of(two) == three_mib);
        CHECK(storage_cache_stats().hits == hits + 1);
    }
    // Back in the cache at its own size: a 3 MiB tensor finds it.
    CHECK(storage_cache_stats().cached_bytes == std::size_t{4} << 20);  // with the 1 MiB block
    hits = storage_cache_stats().hits;
    const tensor three = tensor::empty({3 * mib});
    CHECK(data_of(three) == three_mib);
    CHECK(storage_cache_stats().hits == hits + 1);
}

TEST_CASE("a limit of 0 keeps nothing") {
    const cache_limit limit(0);
    { const tensor t = tensor::empty({1 << 16}); }
    CHECK(storage_cache_stats().cached_bytes == 0);
}
