// SPDX-License-Identifier: Apache-2.0
// The caching allocator of tensor storage: freed blocks kept per size, up to a limit.
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/storage_cache.h>

#include <cstdlib>
#include <deque>
#include <exception>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace difflab {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

constexpr std::size_t alignment = 64;
/// Outside recording a cached block up to this many times the asked size serves the request.
constexpr std::size_t largest_fit = 2;

std::size_t default_limit() {
    if (const char* mb = std::getenv("DIFFLAB_STORAGE_CACHE_MB"); mb != nullptr && *mb != '\0') {
        try {
            return static_cast<std::size_t>(std::stoull(mb)) << 20;
        } catch (const std::exception&) {
            // an unreadable value keeps the default
        }
    }
    return sanitized ? 0 : std::size_t{1} << 30;
}

/// Freed blocks by size, reused newest first (still warm in cache), evicted oldest first. A
/// block handed out for a smaller size is remembered, and comes back at its own size.
class block_cache {
public:
    void* take(std::size_t bytes) {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            // A block of the same size; outside recording, else the smallest cached block up to
            // twice the size. A tensor made while autograd records may be saved for the
            // backward and live through the step's peak, where a larger block would waste the
            // difference; other tensors (sampling, the backward pass, evaluation) are
            // temporaries, and a larger idle block spares new memory: the small U-Net's bf16
            // sampling forward at batch 256 peaks at 1185 MiB against 1398 with exact sizes
            // only, its training step at 4731 against 5070 (docs/performance.md).
            auto fit = by_size_.lower_bound(bytes);
            const bool exact_only = grad_enabled();
            if (fit != by_size_.end() && fit->first != bytes && (exact_only || fit->first > largest_fit * bytes))
                fit = by_size_.end();
            if (fit != by_size_.end()) {
                const auto newest = fit->second.back();
                const std::size_t size = fit->first;
                fit->second.pop_back();
                if (fit->second.empty()) by_size_.erase(fit);
                void* block = newest->block;
                cached_ -= size;
                by_age_.erase(newest);
                if (size != bytes) larger_[block] = size;
                ++hits_;
                return block;
            }
            ++misses_;
        }
        return std::aligned_alloc(alignment, bytes);
    }

    void give(void* block, std::size_t bytes) {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (const auto larger = larger_.find(block); larger != larger_.end()) {
                bytes = larger->second;
                larger_.erase(larger);
            }
            if (bytes <= limit_) {
                if (cached_ + bytes > limit_) evict_locked(cached_ + bytes - limit_);
                by_size_[bytes].push_back(by_age_.insert(by_age_.end(), cached_block{block, bytes}));
                cached_ += bytes;
                return;
            }
        }
        std::free(block);
    }

    void set_limit(std::size_t bytes) {
        const std::lock_guard<std::mutex> lock(mutex_);
        limit_ = bytes;
        if (cached_ > limit_) evict_locked(cached_ - limit_);
    }

    std::size_t limit() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return limit_;
    }

    void empty() {
        const std::lock_guard<std::mutex> lock(mutex_);
        evict_locked(cached_);
    }

    storage_cache_statistics statistics() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return {cached_, hits_, misses_};
    }

private:
    struct cached_block {
        void* block;
        std::size_t bytes;
    };
    using age_order = std::list<cached_block>;

    /// Frees the longest-kept blocks until at least `bytes` are freed or none is left. The
    /// oldest block of a size is the first of its list, as blocks are appended as they come.
    void evict_locked(std::size_t bytes) {
        std::size_t freed = 0;
        while (freed < bytes && !by_age_.empty()) {
            const cached_block oldest = by_age_.front();
            auto& same_size = by_size_[oldest.bytes];
            same_size.pop_front();
            if (same_size.empty()) by_size_.erase(oldest.bytes);
            by_age_.pop_front();
            std::free(oldest.block);
            cached_ -= oldest.bytes;
            freed += oldest.bytes;
        }
    }

    std::mutex mutex_;
    age_order by_age_;                                                ///< every cached block, the longest kept first
    std::map<std::size_t, std::deque<age_order::iterator>> by_size_;  ///< size -> its blocks, oldest first
    std::unordered_map<void*, std::size_t> larger_;  ///< blocks in use that are larger than asked: their size
    std::size_t cached_ = 0;
    std::size_t limit_ = default_limit();
    std::size_t hits_ = 0;
    std::size_t misses_ = 0;
};

/// Never destroyed: tensors in static storage are freed after every other static object.
block_cache& cache() {
    static block_cache* const instance = new block_cache;
    return *instance;
}

}  // namespace

void set_storage_cache_limit(std::size_t bytes) {
    cache().set_limit(bytes);
}

std::size_t storage_cache_limit() {
    return cache().limit();
}

void release_storage_cache() {
    cache().empty();
}

storage_cache_statistics storage_cache_stats() {
    return cache().statistics();
}

void* allocate_storage_block(std::size_t bytes) {
    return cache().take(bytes);
}

void free_storage_block(void* block, std::size_t bytes) {
    if (block != nullptr) cache().give(block, bytes);
}

}  // namespace difflab
