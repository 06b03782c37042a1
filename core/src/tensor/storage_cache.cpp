// SPDX-License-Identifier: Apache-2.0
// The caching allocator of tensor storage: freed blocks kept per size, up to a limit.
#include <difflab/tensor/storage_cache.h>

#include <cstdlib>
#include <deque>
#include <exception>
#include <list>
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

/// Freed blocks by size, reused newest first (still warm in cache), evicted oldest first.
class block_cache {
public:
    void* take(std::size_t bytes) {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            const auto same_size = by_size_.find(bytes);
            if (same_size != by_size_.end() && !same_size->second.empty()) {
                const auto newest = same_size->second.back();
                same_size->second.pop_back();
                void* block = newest->block;
                cached_ -= bytes;
                by_age_.erase(newest);
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
    age_order by_age_;  ///< every cached block, the longest kept first
    std::unordered_map<std::size_t, std::deque<age_order::iterator>> by_size_;  ///< size -> its blocks, oldest first
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
